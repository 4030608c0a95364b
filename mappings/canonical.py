"""The canonical CBC: the one typed hand-off between reading a report and interpreting it.

Keys and units are a contract shared by the OCR path, the structured-FHIR path, the models and
scripts (CSV columns use the same keys). Values are always in the canonical UCUM unit below.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

# canonical key -> canonical UCUM unit
CANONICAL_UNITS: dict[str, str] = {
    "hgb": "g/dL",
    "hct": "%",
    "rbc": "10*6/uL",
    "mcv": "fL",
    "mch": "pg",
    "mchc": "g/dL",
    "rdw_cv": "%",
    "rdw_sd": "fL",
    "wbc": "10*3/uL",
    "plt": "10*3/uL",
    "mpv": "fL",
    "pdw": "fL",
    "neut_pct": "%",
    "lymph_pct": "%",
    "mono_pct": "%",
    "eos_pct": "%",
    "baso_pct": "%",
    "neut_abs": "10*3/uL",
    "lymph_abs": "10*3/uL",
    "mono_abs": "10*3/uL",
    "eos_abs": "10*3/uL",
    "baso_abs": "10*3/uL",
    "retic_pct": "%",
    "hba2": "%",
    "hbf": "%",
    "ferritin": "ng/mL",
    "iron": "ug/dL",
    "tibc": "ug/dL",
    "tsat": "%",
}

CANONICAL_KEYS: tuple[str, ...] = tuple(CANONICAL_UNITS)

Sex = Literal["male", "female"]


@dataclass(frozen=True, slots=True)
class PatientContext:
    """What the interpretation needs to know about the patient; any field may be unknown."""

    sex: Sex | None = None
    age_years: float | None = None
    pregnant: bool | None = None
    trimester: int | None = None  # 1, 2 or 3 when pregnant and known


@dataclass(frozen=True, slots=True)
class CanonicalCBC(Mapping[str, float]):
    """Immutable mapping of canonical key -> value in the canonical unit.

    Unknown keys are rejected so a typo cannot silently drop a value.
    """

    values: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.values) - set(CANONICAL_UNITS)
        if unknown:
            raise ValueError(f"unknown CBC keys: {sorted(unknown)}")
        object.__setattr__(self, "values", {k: float(v) for k, v in self.values.items() if v is not None})

    def __getitem__(self, key: str) -> float:
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    @staticmethod
    def unit(key: str) -> str:
        return CANONICAL_UNITS[key]
