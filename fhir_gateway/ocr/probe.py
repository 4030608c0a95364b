"""Is a page upright? Scored from an OCR pass's own words, so an upright page (the common
case) costs nothing extra: only a page that reads badly is OCR'd again turned by 180 degrees.

Both engines read upside-down Latin text as low-confidence garbage, so the share of confident,
word-like tokens separates the two orientations reliably.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mappings.rows import Word

_WORDLIKE = re.compile(r"^[(]?[A-Za-z]{3,}[:.,)]?$|^\d+([.,]\d+)?$")

# Below this share of good tokens a page is re-read turned by 180 degrees.
RETRY_BELOW = 0.45


def upright_score(words: Sequence[Word]) -> float:
    tokens = [t for w in words for t in w.text.split() if t.strip()]
    if not tokens:
        return 0.0
    confs = [w.conf for w in words for t in w.text.split() if t.strip()]
    good = sum(1 for t, c in zip(tokens, confs, strict=True) if c >= 0.75 and _WORDLIKE.match(t))
    return good / (len(tokens) + 2)
