"""Printed units -> UCUM, and conversion to canonical units."""

from __future__ import annotations

import pytest

from mappings.units import UnitError, normalize_unit, parse_unit, to_canonical


@pytest.mark.parametrize(
    ("printed", "ucum"),
    [
        ("g/dL", "g/dL"),
        ("g/dl", "g/dL"),
        ("gm/dl", "g/dL"),
        ("GM/DL", "g/dL"),
        ("gms/dL", "g/dL"),
        ("g/L", "g/L"),
        ("gm/l", "g/L"),
        ("mmol/L", "mmol/L"),
        ("%", "%"),
        ("L/L", "L/L"),
        ("l/l", "L/L"),
        ("fraction", "1"),
        ("x10^9/L", "10*9/L"),
        ("x 10^9/L", "10*9/L"),
        ("X10⁹/L", "10*9/L"),
        ("10*9/L", "10*9/L"),
        ("x109/L", "10*9/L"),
        ("10^3/µL", "10*3/uL"),
        ("10³/µL", "10*3/uL"),
        ("x10^3/uL", "10*3/uL"),
        ("10^3/ul", "10*3/uL"),
        ("K/uL", "10*3/uL"),
        ("K/µL", "10*3/uL"),
        ("thou/cumm", "10*3/uL"),
        ("Thou/cumm", "10*3/uL"),
        ("103/uL", "10*3/uL"),
        ("/cumm", "/uL"),
        ("/cmm", "/uL"),
        ("Tsd/µl", "10*3/uL"),
        ("Mio/µl", "10*6/uL"),
        ("/nl", "10*9/L"),
        ("cells/cu.mm", "/uL"),
        ("cells/cumm", "/uL"),
        ("/µL", "/uL"),
        ("/mm3", "/uL"),
        ("mill/cumm", "10*6/uL"),
        ("million/cumm", "10*6/uL"),
        ("millions/cumm", "10*6/uL"),
        ("M/uL", "10*6/uL"),
        ("x10^6/µL", "10*6/uL"),
        ("10^12/L", "10*12/L"),
        ("x10¹²/L", "10*12/L"),
        ("x1012/L", "10*12/L"),
        ("lakhs/cumm", "10*5/uL"),
        ("Lakhs/cumm", "10*5/uL"),
        ("lakh/cu.mm", "10*5/uL"),
        ("lacs/cumm", "10*5/uL"),
        ("fL", "fL"),
        ("fl", "fL"),
        ("FL", "fL"),
        ("cu.microns", "um3"),
        ("µm3", "um3"),
        ("pg", "pg"),
        ("PG", "pg"),
        ("ng/mL", "ng/mL"),
        ("ng/ml", "ng/mL"),
        ("µg/L", "ug/L"),
        ("ug/dL", "ug/dL"),
        ("mcg/dL", "ug/dL"),
        ("µg/dl", "ug/dL"),
        ("umol/L", "umol/L"),
        ("µmol/L", "umol/L"),
        ("/100 WBC", "/100{WBC}"),
        ("g%", "g%"),
        ("gm%", "g%"),
        ("umol/L_", "umol/L"),  # OCR debris at the edges: a table rule, a speck
        ("fL|", "fL"),
        ("‘g/dL’", "g/dL"),
    ],
)
def test_parse_unit(printed: str, ucum: str) -> None:
    assert parse_unit(printed) == ucum


@pytest.mark.parametrize("printed", ["", "Years", "mg", "cells", "H", "L", "PCT", "13.5"])
def test_not_units(printed: str) -> None:
    assert parse_unit(printed) is None


@pytest.mark.parametrize(
    ("key", "value", "unit", "expected"),
    [
        ("hgb", 13.5, "g/dL", 13.5),
        ("hgb", 135, "g/L", 13.5),
        ("hgb", 8.4, "mmol/L", 13.5324),
        ("hgb", 13.5, "gm/dl", 13.5),
        ("hgb", 12.0, "g%", 12.0),
        ("hct", 0.42, "L/L", 42.0),
        ("hct", 0.42, "1", 42.0),
        ("hct", 42, "%", 42.0),
        ("rbc", 4.5, "10*12/L", 4.5),
        ("rbc", 4.5, "mill/cumm", 4.5),
        ("rbc", 4_500_000, "/uL", 4.5),
        ("wbc", 7500, "/cumm", 7.5),
        ("wbc", 7.5, "10*9/L", 7.5),
        ("wbc", 7.5, "K/uL", 7.5),
        ("wbc", 7.5, "thou/cumm", 7.5),
        ("plt", 2.5, "lakhs/cumm", 250.0),
        ("plt", 250000, "cells/cu.mm", 250.0),
        ("plt", 250, "10*3/uL", 250.0),
        ("mchc", 330, "g/L", 33.0),
        ("mch", 1.86, "fmol", 29.9646),  # Hb monomer: 1 fmol = 16.11 pg
        ("mcv", 88, "fl", 88.0),
        ("neut_abs", 4200, "/uL", 4.2),
        ("neut_pct", 0.62, "1", 62.0),
        ("iron", 15, "umol/L", 83.7675),
        ("tibc", 60, "µmol/L", 335.07),
        ("ferritin", 45, "ug/L", 45.0),
        ("retic_abs", 0.05, "10*6/uL", 50.0),
        ("nrbc", 2, "/100{WBC}", 2.0),
    ],
)
def test_to_canonical(key: str, value: float, unit: str, expected: float) -> None:
    assert to_canonical(key, value, unit) == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize(("key", "unit"), [("hgb", "fL"), ("mcv", "g/dL"), ("wbc", "%"), ("hgb", "bananas")])
def test_incompatible_or_unknown_units_raise(key: str, unit: str) -> None:
    with pytest.raises(UnitError):
        to_canonical(key, 1.0, unit)
    with pytest.raises(ValueError):  # UnitError is a ValueError for callers that catch broadly
        normalize_unit(key, unit)


def test_normalize_unit_for_analyte() -> None:
    assert normalize_unit("plt", "Lakhs/cumm") == "10*5/uL"
    assert normalize_unit("hct", "l/l") == "L/L"


@pytest.mark.parametrize(
    ("printed", "ucum"),
    [
        ("g/dI", "g/dL"),  # I read for l
        ("x103/pL", "10*3/uL"),  # µ read as p, superscript lost
        ("mill/cumrn", "10*6/uL"),  # m read as rn
        ("fI", "fL"),
        ("x10^9/I", "10*9/L"),
        ("mmol/I", "mmol/L"),
        ("0/0", "%"),
        ("x 10^6", "10*6/uL"),  # per-volume part missing
        ("10^3", "10*3/uL"),
        ("X10~9/L", "10*9/L"),  # caret read as a tilde
        ("10~3/uL", "10*3/uL"),
    ],
)
def test_ocr_damaged_units(printed: str, ucum: str) -> None:
    assert parse_unit(printed) == ucum


@pytest.mark.parametrize(
    ("key", "ucum", "value", "expected"),
    [
        ("hgb", "g/dL", 13.0, 13.0),
        ("hgb", "g/L", 130, 13.0),
        ("hgb", "mmol/L", 8.0, 12.888),
        ("wbc", "10*3/uL", 6.0, 6.0),
        ("wbc", "10*9/L", 6.0, 6.0),
        ("plt", "10*9/L", 200, 200.0),
        ("rbc", "10*12/L", 4.2, 4.2),
        ("rbc", "10*6/uL", 4.2, 4.2),
        ("hct", "%", 40, 40.0),
        ("hct", "L/L", 0.4, 40.0),
        ("mcv", "fL", 85, 85.0),
        ("mch", "pg", 28, 28.0),
        ("ferritin", "ng/mL", 30, 30.0),
        ("ferritin", "ug/L", 30, 30.0),
        ("iron", "ug/dL", 80, 80.0),
        ("iron", "umol/L", 10, 55.845),
        ("wbc", "{cells}/uL", 6000, 6.0),
        ("wbc", "10*3/uL{cells}", 6, 6.0),
    ],
)
def test_structured_fhir_ucum_codes(key: str, ucum: str, value: float, expected: float) -> None:
    assert to_canonical(key, value, ucum) == pytest.approx(expected)
