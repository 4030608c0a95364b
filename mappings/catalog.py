"""The analyte catalog: LOINC, units, names and ranges, loaded from ``data/analytes.json``.

The catalog is data, not code, so a lab-informatics reviewer can check codes and synonyms
without reading Python. This module only loads it and answers look-ups.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

Form = Literal["pct", "abs"]


@dataclass(frozen=True, slots=True)
class AnalyteDef:
    """One catalog entry. ``units`` maps accepted UCUM codes to the factor into ``unit``."""

    key: str
    loinc: str
    display: str
    unit: str  # canonical UCUM unit
    units: dict[str, float]
    infer_units: tuple[str, ...]  # units that may be assumed from magnitude alone
    plausible: tuple[float, float]  # canonical unit; outside = physiologically impossible
    typical: tuple[float, float]  # canonical unit; used only to infer units / percent-vs-absolute
    names: tuple[str, ...]
    abbrev: tuple[str, ...]
    loinc_source: str
    alt_loinc: dict[str, str] = field(default_factory=dict)
    family: str | None = None  # e.g. "neut" for neut_pct / neut_abs
    form: Form | None = None

    def is_plausible(self, canonical_value: float) -> bool:
        lo, hi = self.plausible
        return lo <= canonical_value <= hi

    def is_typical(self, canonical_value: float) -> bool:
        lo, hi = self.typical
        return lo <= canonical_value <= hi


def _build(entry: dict[str, Any]) -> AnalyteDef:
    return AnalyteDef(
        key=entry["key"],
        loinc=entry["loinc"],
        display=entry["display"],
        unit=entry["unit"],
        units={u: float(f) for u, f in entry["units"].items()},
        infer_units=tuple(entry.get("infer", ())),
        plausible=(float(entry["plausible"][0]), float(entry["plausible"][1])),
        typical=(float(entry["typical"][0]), float(entry["typical"][1])),
        names=tuple(entry.get("names", ())),
        abbrev=tuple(entry.get("abbrev", ())),
        loinc_source=entry["loinc_source"],
        alt_loinc=dict(entry.get("alt_loinc", {})),
        family=entry.get("family"),
        form=entry.get("form"),
    )


@cache
def _raw() -> dict[str, Any]:
    text = resources.files("mappings").joinpath("data/analytes.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def all_analytes() -> tuple[AnalyteDef, ...]:
    return tuple(_build(e) for e in _raw()["analytes"])


@cache
def _by_key() -> dict[str, AnalyteDef]:
    return {a.key: a for a in all_analytes()}


@cache
def _by_code() -> dict[str, AnalyteDef]:
    out: dict[str, AnalyteDef] = {}
    for a in all_analytes():
        out[a.loinc] = a
        for code in a.alt_loinc:
            out.setdefault(code, a)
    return out


def analyte(key: str) -> AnalyteDef:
    """The catalog entry for a canonical key; KeyError if unknown."""
    try:
        return _by_key()[key]
    except KeyError:
        raise KeyError(f"unknown analyte key: {key!r}") from None


def by_loinc(code: str) -> AnalyteDef | None:
    """Entry for a LOINC code (primary or accepted alternative, e.g. 59260-0 Hb in mmol/L)."""
    return _by_code().get(code.strip())


def family_members(family: str) -> dict[str, AnalyteDef]:
    """``{"pct": ..., "abs": ...}`` for a differential family such as ``"neut"``."""
    return {a.form: a for a in all_analytes() if a.family == family and a.form}


@cache
def ignored_names() -> tuple[str, ...]:
    """Printed names of tests deliberately not mapped (HbA1c, ESR, UIBC, ...)."""
    return tuple(_raw().get("ignore", ()))


def sources() -> dict[str, str]:
    """Where each LOINC code was checked (key -> citation)."""
    return dict(_raw()["sources"])
