"""CBC redundancy catches misreads; a repair happens only when exactly one reading fits."""

from __future__ import annotations

import pytest

from mappings.consistency import alternative_readings, check_and_repair, relations_for
from mappings.extract import Extraction, extract_report
from mappings.rows import TextRow

# A self-consistent CBC: Hct = 4.50*90/10 = 40.5; MCH = 13.5*10/4.5 = 30; MCHC = 13.5*100/40.5 = 33.3;
# differential sums to 100; absolute = % x 7.5 / 100.
CONSISTENT = {
    "Haemoglobin": ("13.5", "g/dL"),
    "RBC Count": ("4.50", "mill/cumm"),
    "PCV": ("40.5", "%"),
    "MCV": ("90.0", "fL"),
    "MCH": ("30.0", "pg"),
    "MCHC": ("33.3", "g/dL"),
    "Total Leucocyte Count": ("7.5", "10^3/uL"),
    "Neutrophils": ("62", "%"),
    "Lymphocytes": ("30", "%"),
    "Monocytes": ("5", "%"),
    "Eosinophils": ("2", "%"),
    "Basophils": ("1", "%"),
    "Absolute Neutrophil Count": ("4.65", "10^3/uL"),
    "Absolute Lymphocyte Count": ("2.25", "10^3/uL"),
}


def _report(**changes: str) -> Extraction:
    rows = []
    for name, (value, unit) in CONSISTENT.items():
        rows.append(TextRow(f"{name}   {changes.get(name, value)}   {unit}"))
    return extract_report(rows)


def _get(ex: Extraction, key: str):
    return next(a for a in ex.analytes if a.key == key)


def test_consistent_report_is_left_alone() -> None:
    ex = _report()
    assert ex.warnings == []
    assert all(a.status == "ok" and not a.notes for a in ex.analytes)


def test_rounding_differences_are_not_alarms() -> None:
    ex = _report(PCV="41.0", MCHC="33.0", Neutrophils="63")  # 1-2 % off, differential sums to 101
    assert ex.warnings == [] and all(a.status == "ok" for a in ex.analytes)


@pytest.mark.parametrize(
    ("name", "printed", "key", "true_value"),
    [
        ("Haemoglobin", "18.5", "hgb", 13.5),  # 3 read as 8
        ("Haemoglobin", "135", "hgb", 13.5),  # decimal point lost -> implausible, then repaired
        ("Haemoglobin", "1.35", "hgb", 13.5),  # extra decimal point
        ("MCV", "98.0", "mcv", 90.0),  # 0 read as 8
        ("MCHC", "38.3", "mchc", 33.3),
        ("MCH", "80.0", "mch", 30.0),  # implausible MCH, only 30 fits
        ("RBC Count", "4.80", "rbc", 4.5),
        ("PCV", "405", "hct", 40.5),
        ("Total Leucocyte Count", "1.5", "wbc", 7.5),  # 7 read as 1; five absolute counts agree
        ("Neutrophils", "82", "neut_pct", 62.0),
        ("Absolute Neutrophil Count", "9.65", "neut_abs", 4.65),
    ],
)
def test_single_misread_is_repaired_and_reported(
    name: str, printed: str, key: str, true_value: float
) -> None:
    ex = _report(**{name: printed})
    r = _get(ex, key)
    assert r.status == "repaired"
    assert r.value == pytest.approx(true_value)
    assert any(f"printed {float(printed):g}" in n for n in r.notes), r.notes
    assert r.confidence <= 0.8
    others = [a for a in ex.analytes if a.key != key]
    assert all(a.status == "ok" for a in others), [(a.key, a.notes) for a in others if a.status != "ok"]


def test_two_misreads_are_not_guessed() -> None:
    ex = _report(Haemoglobin="18.5", PCV="48.5")
    assert {_get(ex, k).status for k in ("hgb", "hct", "rbc", "mcv", "mch", "mchc")} == {"uncertain"}
    assert (_get(ex, "hgb").value, _get(ex, "hct").value) == (18.5, 48.5), "printed values kept, not guessed"
    assert [w.code for w in ex.warnings] == ["inconsistent_values"]


def test_inconsistency_without_a_single_explanation_marks_members_uncertain() -> None:
    ex = _report(MCV="75.0")  # 9 -> 7 is not a confusable pair: nothing explains it
    assert {_get(ex, k).status for k in ("hct", "rbc", "mcv")} == {"uncertain"}
    assert [w.code for w in ex.warnings] == ["inconsistent_values"]
    assert _get(ex, "hgb").status == "ok", "analytes outside the failed relation keep their status"


def test_implausible_value_without_relations_is_rejected() -> None:
    ex = extract_report([TextRow("Hemoglobin 135 g/dL")])
    assert ex.analytes == []
    assert [(w.code, w.key) for w in ex.warnings] == [("implausible_value", "hgb")]


def test_platelets_have_no_redundancy_so_plausible_values_stand() -> None:
    ex = extract_report([TextRow("Platelet count 25 10^3/uL")])
    assert ex.analytes[0].status == "ok" and ex.analytes[0].value == 25


def test_check_and_repair_is_idempotent() -> None:
    ex = _report(Haemoglobin="18.5")
    again, warnings = check_and_repair(ex.analytes)
    assert warnings == [] and [a.value for a in again] == [a.value for a in ex.analytes]


def test_uncertain_for_other_reasons_is_not_confirmed() -> None:
    rows = [TextRow(f"{n} {v} {u}") for n, (v, u) in CONSISTENT.items()]
    rows.append(TextRow("Haemoglobin 15.1 g/dL"))  # a conflicting second Hb row
    ex = extract_report(rows)
    assert _get(ex, "hgb").status == "uncertain"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(18.5, {13.5, 185.0, 1.85, 10.5, 16.5}), (135.0, {13.5, 1.35, 185.0}), (4.8, {4.3, 4.5, 0.48, 48.0})],
)
def test_alternative_readings(value: float, expected: set[float]) -> None:
    assert expected <= alternative_readings(value)
    assert value not in alternative_readings(value)


def test_relations_for() -> None:
    assert relations_for(["hgb", "rbc", "mch"]) == ["MCH = Hb × 10 / RBC"]
    assert relations_for(["hgb"]) == []


def test_check_and_repair_does_not_mutate_its_input() -> None:
    ex = _report()
    readings = ex.analytes
    hgb = _get(ex, "hgb")
    hgb.value, hgb.value_canonical = 18.5, 18.5
    before = [(r.key, r.value, r.status, list(r.notes)) for r in readings]
    repaired, _ = check_and_repair(readings)
    assert [(r.key, r.value, r.status, list(r.notes)) for r in readings] == before
    assert next(r for r in repaired if r.key == "hgb").status == "repaired"


DEGRADED_DIFF = """
Leukocytes  10.34  K/uL  4.00-11.00
Neutrophils %  69.4  %  40.0 - 80.0
LYMPH%  23.3  %  20.0 - 40.0
Monocytes  22  %  2.0-10.0
EOS%  45  %  10-60
Basophils  0.5  %  up to 2.0
NEUT#  7.17High  K/uL  2.00 - 7.00
Lymphocytes (Abs)  241  10°3/uL  1.00 - 3.00
MONO#  0.23  K/uL  0.20 - 1.00
Eosinophils (Abs)  0.47  10°3/uL  0.02-0.50
"""


def test_several_lost_decimal_points_on_one_page_are_repaired_in_rounds() -> None:
    # real Tesseract output: 2.2 -> "22", 4.5 -> "45" (its range 1.0-6.0 -> "10-60"), 2.41 -> "241"
    ex = extract_report([TextRow(t) for t in DEGRADED_DIFF.strip().splitlines()])
    got = {a.key: a for a in ex.analytes}
    assert (got["mono_pct"].value, got["mono_pct"].status) == (2.2, "repaired")
    assert (got["eos_pct"].value, got["eos_pct"].status) == (4.5, "repaired")
    assert (got["lymph_abs"].value, got["lymph_abs"].status) == (2.41, "repaired")
    assert all(a.status in ("ok", "repaired") for a in ex.analytes), [(a.key, a.notes) for a in ex.analytes]
    assert ex.warnings == []


def test_one_relation_with_an_unvouched_partner_repairs_nothing() -> None:
    # eos% has no other relation (no full differential), so it cannot vouch for a repair of eos#
    rows = [
        TextRow("Leukocytes 3.7 x10^9/L 4.0-11.0"),
        TextRow("EOS% 40 % 10-60"),
        TextRow("Absolute Eosinophil Count 0.15 x10^9/L 0.02 - 0.50", confidence=0.4),
    ]
    got = {a.key: a for a in extract_report(rows).analytes}
    assert got["eos_abs"].value == 0.15 and got["eos_abs"].status == "uncertain"
    assert got["eos_pct"].status == "uncertain", "the trusted partner of a failed relation is not vouched for"


def test_doubtful_value_is_not_confirmed_by_an_unvouched_partner() -> None:
    rows = [
        TextRow("Leukocytes 5.0 x10^9/L"),
        TextRow("EOS% 4 %"),
        TextRow("Absolute Eosinophil Count 0.2 x10^9/L", confidence=0.4),
    ]
    got = {a.key: a for a in extract_report(rows).analytes}
    assert got["eos_abs"].status == "uncertain"


def test_a_relation_that_cannot_tell_scale_confirms_nothing() -> None:
    """ "BASO# 0.01" with its unit misread as /uL is 0.00001 x10^3/uL: % x WBC (0.01) agrees with
    it within rounding near zero as well as with 0.01, so the doubt must stand."""
    rows = [
        TextRow("WBC 5.0 10^3/uL"),
        TextRow("NEUT% 60.0 %"),
        TextRow("LYMPH% 30.0 %"),
        TextRow("MONO% 7.0 %"),
        TextRow("EOS% 2.8 %"),
        TextRow("BASO% 0.2 %"),
        TextRow("NEUT# 3.00 10^3/uL"),
        TextRow("LYMPH# 1.50 10^3/uL"),
        TextRow("BASO# 0.01 /uL"),
    ]
    baso = _get(extract_report(rows), "baso_abs")
    assert baso.value_canonical == pytest.approx(0.00001)
    assert baso.status == "uncertain"
    assert not any("confirmed by CBC consistency" in n for n in baso.notes)


def _low_confidence_rbc(printed: str):
    rows = [
        TextRow(f"{name}   {printed if name == 'RBC Count' else value}   {unit}", confidence=1.0)
        for name, (value, unit) in CONSISTENT.items()
    ]
    rows[1] = TextRow(rows[1].text, confidence=0.3)
    return _get(extract_report(rows), "rbc")


def test_a_doubtful_reading_is_confirmed_only_within_rounding() -> None:
    """Seed 9286 (a fax): "5.12" read as "5." was "confirmed" at 5.0 because Hct = RBC x MCV / 10
    held within the 4% that only raises suspicion. Printed indices agree to rounding, so an OCR
    doubt is settled only within that: 4.4 against 4.50 is 2.2% off and stays in doubt."""
    rbc = _low_confidence_rbc("4.4")
    assert "low OCR confidence" in rbc.notes
    assert rbc.status == "uncertain"
    assert not any("confirmed by CBC consistency" in n for n in rbc.notes)
    assert _low_confidence_rbc("4.5").status == "ok"  # 4.5 is the 4.50 the indices imply


def test_a_value_whose_decimals_were_lost_is_not_confirmed() -> None:
    """ "Lymphocytes: 31. 1 %" read as "31.": the differential sum and LYMPH# hold for 31.0 and
    for every 31.x alike, so they cannot confirm it (a fax read it so, and 31.0 went out)."""
    lymph = _get(_report(Lymphocytes="30."), "lymph_pct")
    assert lymph.status == "uncertain"
    assert not any("confirmed by CBC consistency" in n for n in lymph.notes)


@pytest.mark.parametrize(
    ("row", "status"),
    [
        ("Absolute Eosinophil Count  150.  cells/cumm  20-500", "ok"),  # integers: the point is a speck
        ("Absolute Eosinophil Count  150.  cells/cumm  20.0-500.0", "uncertain"),  # 150.x: a digit lost
    ],
)
def test_a_trailing_point_loses_a_digit_only_where_the_range_has_decimals(row: str, status: str) -> None:
    rows = [TextRow(f"{name}   {value}   {unit}") for name, (value, unit) in CONSISTENT.items()]
    eos = _get(extract_report([*rows, TextRow(row)]), "eos_abs")
    assert any("decimal point" in n for n in eos.notes)
    assert eos.status == status, eos.notes
