"""Units: printed unit text -> UCUM code, and conversion into each analyte's canonical unit.

Conversion factors live in the catalog per analyte (Hb in mmol/L converts differently from
iron in umol/L), so this module only has to recognise how labs *print* units.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from rapidfuzz import fuzz

from mappings.catalog import analyte


class UnitError(ValueError):
    """Unknown unit text, or a unit that does not apply to the analyte."""


# Printed spellings, after _squash(), -> UCUM. Order does not matter: lookup is exact.
_ALIASES: dict[str, str] = {
    # mass concentration
    "g/dl": "g/dL",
    "gm/dl": "g/dL",
    "gms/dl": "g/dL",
    "gm%": "g%",
    "g%": "g%",
    "gms%": "g%",
    "grams/dl": "g/dL",
    "gr/dl": "g/dL",
    "g/100ml": "g/dL",
    "gm/100ml": "g/dL",
    "g/l": "g/L",
    "gm/l": "g/L",
    "gms/l": "g/L",
    "mg/dl": "mg/dL",
    "mg/l": "mg/L",
    "ug/dl": "ug/dL",
    "mcg/dl": "ug/dL",
    "μg/dl": "ug/dL",
    "microg/dl": "ug/dL",
    "ug/l": "ug/L",
    "mcg/l": "ug/L",
    "μg/l": "ug/L",
    "ng/ml": "ng/mL",
    "ng/l": "ng/L",
    "mmol/l": "mmol/L",
    "umol/l": "umol/L",
    "μmol/l": "umol/L",
    "micromol/l": "umol/L",
    "pmol/l": "pmol/L",
    "fmol": "fmol",
    "fmol/cell": "fmol",
    # fractions
    "%": "%",
    "percent": "%",
    "l/l": "L/L",
    "ratio": "1",
    "fraction": "1",
    "/100wbc": "/100{WBC}",
    "/100wbcs": "/100{WBC}",
    "/100leukocytes": "/100{WBC}",
    "/100leucocytes": "/100{WBC}",
    "per100wbc": "/100{WBC}",
    "nrbc/100wbc": "/100{WBC}",
    # cell volume / mass
    "fl": "fL",
    "femtoliter": "fL",
    "femtolitre": "fL",
    "fl.": "fL",
    "cu.microns": "um3",
    "cumicrons": "um3",
    "um3": "um3",
    "μm3": "um3",
    "cubicmicrons": "um3",
    "pg": "pg",
    "picogram": "pg",
    "pg/cell": "pg",
    # counts: thousands per microlitre (= 10^9/L)
    "10^3/ul": "10*3/uL",
    "10*3/ul": "10*3/uL",
    "x10^3/ul": "10*3/uL",
    "x10*3/ul": "10*3/uL",
    "103/ul": "10*3/uL",
    "x103/ul": "10*3/uL",
    "10e3/ul": "10*3/uL",
    "k/ul": "10*3/uL",
    "thou/ul": "10*3/uL",
    "thou/cumm": "10*3/uL",
    "thou/mm3": "10*3/uL",
    "10^3/mm3": "10*3/uL",
    "x10^3/mm3": "10*3/uL",
    "10^3/cumm": "10*3/uL",
    "x10^3/cumm": "10*3/uL",
    "103/cumm": "10*3/uL",
    "k/cumm": "10*3/uL",
    "k/mm3": "10*3/uL",
    "thousand/ul": "10*3/uL",
    "thousand/cumm": "10*3/uL",
    "x1000/ul": "10*3/uL",
    "1000/ul": "10*3/uL",
    "x10^3/μl": "10*3/uL",
    "10^3/μl": "10*3/uL",
    "th/mm3": "10*3/uL",
    "th/cumm": "10*3/uL",
    "th/ul": "10*3/uL",
    "tsd/ul": "10*3/uL",  # German "Tsd/µl"
    "tsd./ul": "10*3/uL",
    "10³/ul": "10*3/uL",
    "x10³/ul": "10*3/uL",
    "10³/mm3": "10*3/uL",
    "10^9/l": "10*9/L",
    "10*9/l": "10*9/L",
    "x10^9/l": "10*9/L",
    "x10*9/l": "10*9/L",
    "109/l": "10*9/L",
    "x109/l": "10*9/L",
    "10e9/l": "10*9/L",
    "x10e9/l": "10*9/L",
    "g/l(cells)": "10*9/L",
    "10⁹/l": "10*9/L",
    "x10⁹/l": "10*9/L",
    "giga/l": "10*9/L",
    "/nl": "10*9/L",  # per nanolitre (German reports: Leukozyten, Thrombozyten)
    # counts: millions per microlitre (= 10^12/L)
    "10^6/ul": "10*6/uL",
    "10*6/ul": "10*6/uL",
    "x10^6/ul": "10*6/uL",
    "x10*6/ul": "10*6/uL",
    "106/ul": "10*6/uL",
    "x106/ul": "10*6/uL",
    "m/ul": "10*6/uL",
    "mil/ul": "10*6/uL",
    "mill/ul": "10*6/uL",
    "million/ul": "10*6/uL",
    "mill/cumm": "10*6/uL",
    "mil/cumm": "10*6/uL",
    "million/cumm": "10*6/uL",
    "millions/cumm": "10*6/uL",
    "mill/mm3": "10*6/uL",
    "million/mm3": "10*6/uL",
    "10^6/mm3": "10*6/uL",
    "x10^6/mm3": "10*6/uL",
    "10^6/cumm": "10*6/uL",
    "x10^6/cumm": "10*6/uL",
    "106/cumm": "10*6/uL",
    "m/cumm": "10*6/uL",
    "m/mm3": "10*6/uL",
    "10^6/μl": "10*6/uL",
    "mio/ul": "10*6/uL",  # German "Mio/µl"
    "mio./ul": "10*6/uL",
    "x10^6/μl": "10*6/uL",
    "10⁶/ul": "10*6/uL",
    "x10⁶/ul": "10*6/uL",
    "10^12/l": "10*12/L",
    "10*12/l": "10*12/L",
    "x10^12/l": "10*12/L",
    "x10*12/l": "10*12/L",
    "1012/l": "10*12/L",
    "x1012/l": "10*12/L",
    "10e12/l": "10*12/L",
    "x10e12/l": "10*12/L",
    "t/l": "10*12/L",
    "tera/l": "10*12/L",
    "10¹²/l": "10*12/L",
    "x10¹²/l": "10*12/L",
    # counts: per microlitre
    "/ul": "/uL",
    "/μl": "/uL",
    "cells/ul": "/uL",
    "/cumm": "/uL",
    "/cmm": "/uL",
    "/mm3": "/uL",
    "cells/cumm": "/uL",
    "cells/cu.mm": "/uL",
    "cells/mm3": "/uL",
    "/cu.mm": "/uL",
    "cumm": "/uL",
    "/c.mm": "/uL",
    "cells/c.mm": "/uL",
    "/cu mm": "/uL",
    "per cumm": "/uL",
    "percumm": "/uL",
    "/microl": "/uL",
    "/mcl": "/uL",
    "cells/mcl": "/uL",
    "/mm^3": "/uL",
    "/mm³": "/uL",
    # Indian lakhs (1 lakh = 10^5) per cubic millimetre
    "lakhs/cumm": "10*5/uL",
    "lakh/cumm": "10*5/uL",
    "lakhs/cu.mm": "10*5/uL",
    "lakh/cu.mm": "10*5/uL",
    "lakhs/mm3": "10*5/uL",
    "lakh/mm3": "10*5/uL",
    "lakhs/ul": "10*5/uL",
    "lakhs": "10*5/uL",
    "lakh": "10*5/uL",
    "lacs/cumm": "10*5/uL",
    "lac/cumm": "10*5/uL",
    "lacs/cu.mm": "10*5/uL",
    "lacs/mm3": "10*5/uL",
    "lacs": "10*5/uL",
    "10^5/ul": "10*5/uL",
    "10^5/cumm": "10*5/uL",
    "10^4/ul": "10*4/uL",
    "x10^4/ul": "10*4/uL",
    # the per-volume part dropped: in a CBC the exponent alone identifies the unit
    "x10^3": "10*3/uL",
    "x10^6": "10*6/uL",
    "x10^9": "10*9/L",
    "x10^12": "10*12/L",
    "10^3": "10*3/uL",
    "10^6": "10*6/uL",
    "10^9": "10*9/L",
    "10^12": "10*12/L",
}

# OCR misreadings inside units: "g/dI" (I for l), "/pL" (p for µ), "cumrn" (rn for m), "fI".
_OCR_UNIT_FIXES: tuple[tuple[str, str], ...] = (
    ("/di", "/dl"),
    ("/pl", "/ul"),
    ("rn", "m"),
    ("/i", "/l"),
    ("fi", "fl"),
    ("|", "l"),
    ("0/0", "%"),
    ("cummm", "cumm"),
    ("lo^", "10^"),
    ("l0^", "10^"),
    ("1o^", "10^"),
    ("io^", "10^"),
    ("lo*", "10*"),
    ("l0*", "10*"),
    ("10~", "10^"),  # the caret read as a tilde by RapidOCR on noisy scans: "X10~9/L"
)

# UCUM codes accepted verbatim (structured-FHIR path); case matters in UCUM, so keep exact.
_UCUM = {
    "g/dL",
    "g/L",
    "mg/dL",
    "mg/L",
    "ug/dL",
    "ug/L",
    "ng/mL",
    "ng/L",
    "mmol/L",
    "umol/L",
    "pmol/L",
    "fmol",
    "%",
    "L/L",
    "1",
    "/100{WBC}",
    "fL",
    "um3",
    "pg",
    "10*3/uL",
    "10*9/L",
    "10*6/uL",
    "10*12/L",
    "/uL",
    "10*5/uL",
    "10*4/uL",
    "g%",
}

_SUPERSCRIPTS = str.maketrans(
    {"⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5", "⁶": "6", "⁷": "7", "⁸": "8", "⁹": "9"}
)


def _squash(text: str) -> str:
    """Lower-case, unify micro signs and multiplication marks, drop spaces and brackets."""
    t = unicodedata.normalize("NFKC", text).strip()
    t = t.replace("µ", "u").replace("μ", "u").replace("×", "x").replace("°", "^")  # "x10°9/L"
    # edges OCR adds from table rules and dust: "umol/L_", "fL|", "g/dL'"
    t = t.lower().strip(" .,;:()[]_|'\"`‘’“”")
    t = re.sub(r"\s+", "", t)
    # "x 10^3/uL", "X10 3/ul", "10 ^ 3 / uL" all become "x10^3/ul"
    t = t.replace("**", "^")
    return t


def _lookup(squashed: str) -> str | None:
    if squashed in _ALIASES:
        return _ALIASES[squashed]
    variants = {squashed, squashed.translate(_SUPERSCRIPTS)}
    for v in list(variants):
        # "10^3" may print as "10*3", "10e3", "10³" or, when the superscript is lost, "103".
        variants.add(v.replace("10*", "10^").replace("10e", "10^"))
        variants.add(v.lstrip("x"))
        variants.add(v.replace("cu.mm", "cumm").replace("c.mm", "cumm").replace("mm3", "cumm"))
    for v in variants:
        hit = _ALIASES.get(v) or _ALIASES.get(v.lstrip("x"))
        if hit:
            return hit
    repaired = squashed
    for bad, good in _OCR_UNIT_FIXES:
        repaired = repaired.replace(bad, good)
    if repaired != squashed:
        return _lookup(repaired)
    return None


def parse_unit(unit_text: str) -> str | None:
    """Printed unit -> UCUM, independent of analyte; None if not a unit we know."""
    text = unit_text.strip()
    if not text:
        return None
    if text in _UCUM:
        return text
    # UCUM annotations such as "{cells}/uL" or "10*3/uL{cells}" do not change the unit
    bare = re.sub(r"\{[^}]*\}", "", text) if "{WBC}" not in text else text
    if bare != text:
        return parse_unit(bare or "1")
    return _lookup(_squash(text))


def closest_unit(unit_text: str, allowed: Iterable[str], min_score: float = 70.0) -> str | None:
    """The one unit of `allowed` (UCUM codes) an illegible printed unit most resembles ("ua/dl"
    is ug/dL), or None unless it resembles that unit clearly better (by 10 points of rapidfuzz
    ratio) than any other. Only to confirm a unit the value's magnitude already suggests."""
    squashed = _squash(unit_text)
    best: dict[str, float] = {}
    for spelling, ucum in _ALIASES.items():
        if ucum in allowed:
            best[ucum] = max(best.get(ucum, 0.0), fuzz.ratio(squashed, spelling))
    ranked = sorted(best.items(), key=lambda kv: -kv[1])
    if not ranked or ranked[0][1] < min_score:
        return None
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < 10.0:
        return None
    return ranked[0][0]


# Units printed alike that mean a count: "G/L" is giga per litre on French and Swiss reports,
# which reads as grams per litre; a count is never in grams, so for a count it is 10^9/L.
_COUNT_READINGS = {"g/L": "10*9/L"}


def count_reading(ucum: str) -> str | None:
    """The count unit `ucum` stands for when the analyte is a count, if it can (see above)."""
    return _COUNT_READINGS.get(ucum)


def normalize_unit(key: str, unit_text: str) -> str:
    """Printed unit -> UCUM code accepted for this analyte; UnitError otherwise."""
    ucum = parse_unit(unit_text)
    if ucum is None:
        raise UnitError(f"unknown unit for {key}")
    units = analyte(key).units
    if ucum in units:
        return ucum
    # Lab software sometimes prints "%" where UCUM wants "/100{WBC}" and vice versa.
    raise UnitError(f"unit {ucum} does not apply to {key}")


def to_canonical(key: str, value: float, unit: str) -> float:
    """Convert ``value`` in ``unit`` (UCUM or printed) into the analyte's canonical unit."""
    factor = analyte(key).units.get(unit)
    if factor is None:
        factor = analyte(key).units[normalize_unit(key, unit)]
    return value * factor
