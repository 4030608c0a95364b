"""The catalog covers the canonical contract and its LOINC codes are well-formed."""

from __future__ import annotations

import re

import pytest

from mappings.canonical import CANONICAL_UNITS
from mappings.catalog import all_analytes, analyte, by_loinc, family_members, sources


def _loinc_check_digit_ok(code: str) -> bool:
    """LOINC codes end in a mod-10 (Luhn) check digit: catches typos in hand-entered codes."""
    body, check = code.split("-")
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10 == int(check)


def test_every_canonical_key_is_catalogued_with_its_contract_unit() -> None:
    for key, unit in CANONICAL_UNITS.items():
        assert analyte(key).unit == unit


def test_required_extras_are_catalogued() -> None:
    keys = {a.key for a in all_analytes()}
    assert {"pct", "nrbc", "retic_pct", "retic_abs"} <= keys


@pytest.mark.parametrize("a", all_analytes(), ids=lambda a: a.key)
def test_entry_is_well_formed(a) -> None:
    assert re.fullmatch(r"\d{1,6}-\d", a.loinc)
    assert _loinc_check_digit_ok(a.loinc)
    for code in a.alt_loinc:
        assert _loinc_check_digit_ok(code)
    assert a.units[a.unit] == 1.0, "canonical unit converts with factor 1"
    assert set(a.infer_units) <= set(a.units)
    assert a.plausible[0] <= a.typical[0] <= a.typical[1] <= a.plausible[1]
    assert a.loinc_source in sources(), "every code records where it was checked"
    assert a.display and a.names + a.abbrev


def test_loinc_codes_are_unique() -> None:
    codes = [a.loinc for a in all_analytes()]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize(
    ("code", "key"),
    [
        ("718-7", "hgb"),
        ("59260-0", "hgb"),
        ("4544-3", "hct"),
        ("789-8", "rbc"),
        ("6690-2", "wbc"),
        ("777-3", "plt"),
        ("770-8", "neut_pct"),
        ("751-8", "neut_abs"),
        ("731-0", "lymph_abs"),
        ("21000-5", "rdw_sd"),
        ("788-0", "rdw_cv"),
        ("58413-6", "nrbc"),
        ("2276-4", "ferritin"),
    ],
)
def test_by_loinc(code: str, key: str) -> None:
    found = by_loinc(code)
    assert found is not None and found.key == key


def test_by_loinc_unknown_is_none() -> None:
    assert by_loinc("4548-4") is None  # HbA1c is deliberately not a CBC analyte


def test_percent_and_absolute_are_told_apart() -> None:
    for family in ("neut", "lymph", "mono", "eos", "baso", "retic"):
        members = family_members(family)
        assert set(members) == {"pct", "abs"}
        assert members["pct"].unit == "%" and members["abs"].unit == "10*3/uL"
        assert members["pct"].loinc != members["abs"].loinc


def test_unknown_key_raises() -> None:
    with pytest.raises(KeyError):
        analyte("hemoglobin")
