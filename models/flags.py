"""Per-row text flags (warnings, assumptions) kept as boolean masks until someone needs text.

Building a Python list per row costs more than the models for a 100,000-row batch; rows share
few distinct flag patterns, so text is joined once per pattern instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Flags:
    n: int
    rules: list[tuple[str, np.ndarray]] = field(default_factory=list)

    def add(self, mask: np.ndarray, text: str) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            self.rules.append((text, mask))

    def extend(self, other: Flags) -> None:
        self.rules.extend(other.rules)

    def row(self, i: int) -> list[str]:
        return [text for text, mask in self.rules if mask[i]]

    def joined(self, separator: str = "; ") -> np.ndarray:
        """One string per row; identical flag patterns are joined only once."""
        if not self.rules:
            return np.full(self.n, "", dtype=object)
        texts = [text for text, _ in self.rules]
        # Encode each row's flag pattern as an integer (one bit per rule; Python ints never overflow).
        codes = np.zeros(self.n, dtype=object if len(texts) > 62 else np.int64)
        for bit, (_, mask) in enumerate(self.rules):
            codes = codes + mask.astype(codes.dtype) * (1 << bit)
        patterns, inverse = np.unique(codes, return_inverse=True)
        joined = np.array(
            [separator.join(t for bit, t in enumerate(texts) if int(code) >> bit & 1) for code in patterns],
            dtype=object,
        )
        return joined[inverse.ravel()]
