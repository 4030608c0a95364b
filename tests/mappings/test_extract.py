"""Rows in many report layouts -> analytes with LOINC, UCUM, ranges, flags and honest status."""

from __future__ import annotations

import pytest

from mappings.extract import AnalyteReading, Extraction, extract_report
from mappings.rows import TextRow, Word


def _read(text: str) -> Extraction:
    return extract_report([TextRow(line) for line in text.strip("\n").splitlines()])


def _by_key(ex: Extraction) -> dict[str, AnalyteReading]:
    return {a.key: a for a in ex.analytes}


INDIAN_GRID = """
CITY DIAGNOSTIC LABORATORY
Patient Name : Mrs. Lakshmi Devi        Age/Sex : 29 Y / F
UHID : CDL-88231    Collected on : 15/03/2024   Reported on : 16/03/2024
Ref. By : Dr. Sharma
COMPLETE BLOOD COUNT (CBC)
Test                     Result     Unit          Biological Ref. Interval
Haemoglobin              10.2  L    g/dL          12.0 - 15.0
(Photometry)
Total Leucocyte Count    7,500      /cumm         4000 - 11000
DIFFERENTIAL LEUCOCYTE COUNT
Neutrophils              62         %             40 - 80
Lymphocytes              30         %             20 - 40
Monocytes                05         %             2 - 10
Eosinophils              02         %             1 - 6
Basophils                01         %             0 - 2
RBC Count                4.20       mill/cumm     3.8 - 4.8
(Electrical impedance)
PCV                      31.5  L    %             36 - 46
MCV                      75.0  L    fL            83 - 101
MCH                      24.3  L    pg            27 - 32
MCHC                     32.4       g/dL          31.5 - 34.5
RDW-CV                   16.8  H    %             11.6 - 14.0
Platelet Count           2.5        Lakhs/cumm    1.5 - 4.1
MPV                      9.8        fL            7.5 - 11.5
Page 1 of 1          *** End of Report ***
"""


def test_indian_grid_report() -> None:
    ex = _read(INDIAN_GRID)
    got = _by_key(ex)
    expected = {
        "hgb": (10.2, "g/dL", 10.2, 12.0, 15.0, "L"),
        "wbc": (7500, "/uL", 7.5, 4000, 11000, None),
        "neut_pct": (62, "%", 62, 40, 80, None),
        "lymph_pct": (30, "%", 30, 20, 40, None),
        "mono_pct": (5, "%", 5, 2, 10, None),
        "eos_pct": (2, "%", 2, 1, 6, None),
        "baso_pct": (1, "%", 1, 0, 2, None),
        "rbc": (4.2, "10*6/uL", 4.2, 3.8, 4.8, None),
        "hct": (31.5, "%", 31.5, 36, 46, "L"),
        "mcv": (75.0, "fL", 75.0, 83, 101, "L"),
        "mch": (24.3, "pg", 24.3, 27, 32, "L"),
        "mchc": (32.4, "g/dL", 32.4, 31.5, 34.5, None),
        "rdw_cv": (16.8, "%", 16.8, 11.6, 14.0, "H"),
        "plt": (2.5, "10*5/uL", 250.0, 1.5, 4.1, None),
        "mpv": (9.8, "fL", 9.8, 7.5, 11.5, None),
    }
    assert set(got) == set(expected)
    for key, (value, unit, canonical, low, high, flag) in expected.items():
        r = got[key]
        assert (r.value, r.unit, r.ref_low, r.ref_high, r.flag) == (value, unit, low, high, flag), key
        assert r.value_canonical == pytest.approx(canonical)
        assert r.status == "ok", (key, r.notes)
    assert got["hgb"].loinc == "718-7" and got["hgb"].unit_canonical == "g/dL"
    assert got["plt"].unit_canonical == "10*3/uL"
    assert ex.context.sex == "female" and ex.context.age_years == 29
    assert ex.context.collected is not None
    cbc = ex.to_canonical_cbc()
    assert cbc["plt"] == pytest.approx(250.0) and cbc["wbc"] == pytest.approx(7.5)


US_REPORT = """
Quest-style Laboratory Services
PATIENT: DOE, JOHN    DOB: 04/12/1975    SEX: M
COLLECTED: 03/14/2024 08:30    REPORTED: 03/14/2024 14:02
CBC WITH DIFFERENTIAL/PLATELET
WBC                 7.2     4.0-10.5     K/uL
RBC                 4.85    4.20-5.80    M/uL
HEMOGLOBIN          14.6    13.2-17.1    g/dL
HEMATOCRIT          43.7    38.5-50.0    %
MCV                 90.1    80.0-100.0   fL
MCH                 30.1    27.0-33.0    pg
MCHC                33.4    32.0-36.0    g/dL
RDW                 13.1    11.0-15.0    %
PLATELET COUNT      250     140-400      K/uL
MPV                 10.2    7.5-12.5     fL
ABSOLUTE NEUTROPHILS   4104   1500-7800  cells/uL
ABSOLUTE LYMPHOCYTES   2232    850-3900  cells/uL
NEUTROPHILS         57.0    %
LYMPHOCYTES         31.0    %
MONOCYTES           8.0     %
EOSINOPHILS         3.0     %
BASOPHILS           1.0     %
"""


def test_us_report_units_and_absolute_counts() -> None:
    ex = _read(US_REPORT)
    got = _by_key(ex)
    assert got["wbc"].unit == "10*3/uL" and got["wbc"].value_canonical == 7.2
    assert got["rbc"].unit == "10*6/uL"
    assert got["rdw_cv"].value == 13.1
    assert got["neut_abs"].value_canonical == pytest.approx(4.104)
    assert got["lymph_abs"].value_canonical == pytest.approx(2.232)
    assert got["neut_pct"].value == 57.0 and got["neut_pct"].loinc == "770-8"
    assert got["neut_abs"].loinc == "751-8"
    assert all(r.status == "ok" for r in ex.analytes), [
        (r.key, r.notes) for r in ex.analytes if r.status != "ok"
    ]
    assert ex.context.sex == "male"
    assert ex.context.collected is not None and ex.context.collected.month == 3


SI_REPORT = """
Full Blood Count
Haemoglobin: 128 g/L (115-165)
White cell count: 6.4 x10^9/L (4.0-11.0)
Red cell count: 4.30 x10^12/L (3.80-5.80)
Haematocrit: 0.390 L/L (0.370-0.470)
Mean cell volume: 90.7 fL (80-100)
Mean cell haemoglobin: 29.8 pg (27-32)
MCHC: 328 g/L (320-360)
Platelets: 310 x10^9/L (150-450)
Neutrophils: 3.9 x10^9/L (2.0-7.5)
Lymphocytes: 1.8 x10^9/L (1.0-4.0)
Monocytes: 0.5 x10^9/L (0.2-1.0)
Eosinophils: 0.15 x10^9/L (0.0-0.4)
Basophils: 0.05 x10^9/L (0.0-0.1)
"""


def test_si_report_converts_to_canonical_units() -> None:
    ex = _read(SI_REPORT)
    got = _by_key(ex)
    assert got["hgb"].unit == "g/L" and got["hgb"].value_canonical == pytest.approx(12.8)
    assert got["hgb"].ref_low == 115 and got["hgb"].ref_high == 165  # printed unit, like the value
    assert got["hct"].value_canonical == pytest.approx(39.0)
    assert got["mchc"].value_canonical == pytest.approx(32.8)
    for cell in ("neut", "lymph", "mono", "eos", "baso"):
        assert f"{cell}_abs" in got and f"{cell}_pct" not in got, cell
    assert all(r.status == "ok" for r in ex.analytes), [
        (r.key, r.notes) for r in ex.analytes if r.status != "ok"
    ]


@pytest.mark.parametrize(
    ("line", "key", "value", "unit", "low", "high", "flag"),
    [
        ("Haemoglobin..........11.2 L g/dl (12.0-15.5)", "hgb", 11.2, "g/dL", 12.0, 15.5, "L"),
        ("Haemoglobin ...... : 11.2 g/dl ...... 12.0 - 15.5", "hgb", 11.2, "g/dL", 12.0, 15.5, None),
        ("Hemoglobin: 13.5 g/dL (13.0-17.0)", "hgb", 13.5, "g/dL", 13.0, 17.0, None),
        ("HGB 11.2L 12.0-15.5 g/dL", "hgb", 11.2, "g/dL", 12.0, 15.5, "L"),
        ("Hb 18.9 (H) g/dL 13-17", "hgb", 18.9, "g/dL", 13.0, 17.0, "H"),
        ("1  Hemoglobin  ↓ 9.1  gm/dl  12-16", "hgb", 9.1, "g/dL", 12.0, 16.0, "L"),
        ("Total WBC count 12,800 H cells/cumm 4,000 - 11,000", "wbc", 12800, "/uL", 4000, 11000, "H"),
        ("TLC 3.1 LL 10^3/µL 4.0-11.0", "wbc", 3.1, "10*3/uL", 4.0, 11.0, "LL"),
        ("Platelet Count 1,50,000 /cumm 1,50,000 - 4,50,000", "plt", 150000, "/uL", 150000, 450000, None),
        ("Platelets 45 x10³/µL 150-400 Critical Low", "plt", 45, "10*3/uL", 150, 400, "LL"),
        ("MCHC * 36.9 g/dL 32-36", "mchc", 36.9, "g/dL", 32.0, 36.0, "H"),
        ("RBC 3.2 ↓ x10^12/L 4.5-5.5", "rbc", 3.2, "10*12/L", 4.5, 5.5, "L"),
        ("PCV 0.42 L/L 0.40-0.50", "hct", 0.42, "L/L", 0.40, 0.50, None),
        ("Haematocrit 38 % Upto 45", "hct", 38, "%", None, 45, None),
        ("Serum Ferritin 8.2 ng/mL 13 - 150 Low", "ferritin", 8.2, "ng/mL", 13, 150, "L"),
        ("Serum Iron 35 µg/dL 60-170", "iron", 35, "ug/dL", 60, 170, None),
        ("TIBC 450 ug/dl 250 - 450", "tibc", 450, "ug/dL", 250, 450, None),
        ("Transferrin Saturation 7.8 % 20-50 L", "tsat", 7.8, "%", 20, 50, "L"),
        ("HbA2 5.4 % 2.0 - 3.5 H", "hba2", 5.4, "%", 2.0, 3.5, "H"),
        ("Hb F 1.2 % < 2.0", "hbf", 1.2, "%", None, 2.0, None),
        ("RDW-SD 48.2 fL 39-46 H", "rdw_sd", 48.2, "fL", 39, 46, "H"),
        ("RDW 48.2 fL 39-46", "rdw_sd", 48.2, "fL", 39, 46, None),
        ("RDW 14.9 % 11.5-14.5", "rdw_cv", 14.9, "%", 11.5, 14.5, None),
        ("Reticulocyte count 2.1 % 0.5 - 2.5", "retic_pct", 2.1, "%", 0.5, 2.5, None),
        ("NRBC 0.0 /100 WBC", "nrbc", 0.0, "/100{WBC}", None, None, None),
        ("Plateletcrit (PCT) 0.22 % 0.19-0.39", "pct", 0.22, "%", 0.19, 0.39, None),
        ("Hemoglobin 13,5 g/dL 13,0 - 17,0", "hgb", 13.5, "g/dL", 13.0, 17.0, None),
        ("Neutrophils 4.2 x10^9/L 2.0-7.0", "neut_abs", 4.2, "10*9/L", 2.0, 7.0, None),
        ("Neutrophils 4200 /cumm 2000-7000", "neut_abs", 4200, "/uL", 2000, 7000, None),
        ("Polymorphs 62 % 40-75", "neut_pct", 62, "%", 40, 75, None),
        ("Absolute Eosinophil Count 440 cells/cumm 40 - 440", "eos_abs", 440, "/uL", 40, 440, None),
        # a flag column glued to the unit column ("H fL" printed or read without its space)
        ("MCV  112.0  HfL  80.0 - 100.0", "mcv", 112.0, "fL", 80.0, 100.0, "H"),
        ("RBC 2.27 Lmill/cumm 4.5 - 5.5", "rbc", 2.27, "10*6/uL", 4.5, 5.5, "L"),
        ("Platelet Count 1.2 Llakhs/cumm 1.5 - 4.5", "plt", 1.2, "10*5/uL", 1.5, 4.5, "L"),
        ("Lymphocytes 55.1 HH% 20 - 40", "lymph_pct", 55.1, "%", 20, 40, "HH"),
        ("PCV 0.32 L/L 0.40-0.50", "hct", 0.32, "L/L", 0.40, 0.50, None),  # a unit, not L + "/L"
        ("LYMPH#: 2.88X10~9/L (1.00-3.00)", "lymph_abs", 2.88, "10*9/L", 1.00, 3.00, None),
    ],
)
def test_row_spellings(line: str, key: str, value: float, unit: str, low, high, flag) -> None:
    ex = _read(line)
    assert len(ex.analytes) == 1, [(a.key, a.value) for a in ex.analytes]
    r = ex.analytes[0]
    assert (r.key, r.value, r.unit, r.ref_low, r.ref_high, r.flag) == (key, value, unit, low, high, flag)
    assert r.source_text == line


def test_two_analyte_columns_side_by_side() -> None:
    ex = _read("""
Hemoglobin   13.5 g/dL  13.0-17.0      MCV   90.0 fL   83-101
RBC Count    4.50 mill/cumm 4.5-5.5    MCH   30.0 pg   27-32
PCV          40.5 %     40-50          MCHC  33.3 g/dL 31.5-34.5
""")
    got = _by_key(ex)
    assert {k: got[k].value for k in got} == {
        "hgb": 13.5,
        "mcv": 90.0,
        "rbc": 4.5,
        "mch": 30.0,
        "hct": 40.5,
        "mchc": 33.3,
    }
    assert got["mcv"].ref_low == 83 and got["hgb"].ref_high == 17.0
    assert all(r.status == "ok" for r in ex.analytes)


def test_cells_from_the_layout_engine_are_used() -> None:
    rows = [
        TextRow("Test Result Unit Reference", cells=("Test", "Result", "Unit", "Reference")),
        TextRow("Haemoglobin 11.9 g/dL 12-15", cells=("Haemoglobin", "11.9", "g/dL", "12 - 15")),
        TextRow(
            "Platelets 1.2 Lakhs/cumm 1.5-4.5", cells=("Platelets", "1.2", "Lakhs/cumm", "1.5 - 4.5", "L")
        ),
    ]
    got = _by_key(extract_report(rows))
    assert got["hgb"].value == 11.9 and got["hgb"].ref_low == 12
    assert got["plt"].value_canonical == pytest.approx(120.0) and got["plt"].flag == "L"


def test_method_lines_and_footers_are_not_results() -> None:
    ex = _read("""
Haemoglobin 13.5 g/dL 13-17
(Method: Cyanmethemoglobin)
Method : Electrical Impedance 2 part
Sample: EDTA Whole Blood
Page 1 of 2
Printed on 16/03/2024 10:12
Dr. A. Gupta, MD (Pathology) Reg No 12345
""")
    assert [a.key for a in ex.analytes] == ["hgb"]


@pytest.mark.parametrize(
    "line",
    [
        "HbA1c 5.6 % 4.0-5.6",
        "Glycated Haemoglobin 7.1 %",
        "ESR 12 mm/hr 0-20",
        "UIBC 250 ug/dL",
        "Immature Granulocytes 0.4 %",
        "P-LCR 28.1 % 13-43",
        "Blood Group O Rh Positive",
        "Random Blood Sugar 110 mg/dL 70-140",
    ],
)
def test_non_cbc_tests_are_not_mapped(line: str) -> None:
    assert _read(line).analytes == []


# ---- missing units, percent vs absolute -------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "key", "unit", "canonical"),
    [
        ("Hemoglobin 13.5 13.0-17.0", "hgb", "g/dL", 13.5),
        ("Hemoglobin 135 130-170", "hgb", "g/L", 13.5),
        ("PCV 0.42", "hct", "L/L", 42.0),
        ("Total Leucocyte Count 7500", "wbc", "/uL", 7.5),
        ("WBC 7.5", "wbc", "10*3/uL", 7.5),
        ("Platelet count 250000", "plt", "/uL", 250.0),
        ("RBC 4.5", "rbc", "10*6/uL", 4.5),
        ("MCV 88", "mcv", "fL", 88.0),
        ("RDW 13.2", "rdw_cv", "%", 13.2),
        ("RDW 45.1", "rdw_sd", "fL", 45.1),
        ("Neutrophils 62", "neut_pct", "%", 62.0),
        ("Neutrophils 4200", "neut_abs", "/uL", 4.2),
        ("Monocytes 7", "mono_pct", "%", 7.0),
    ],
)
def test_missing_unit_inferred_only_when_unambiguous(
    line: str, key: str, unit: str, canonical: float
) -> None:
    ex = _read(line)
    assert len(ex.analytes) == 1
    r = ex.analytes[0]
    assert (r.key, r.unit, r.status) == (key, unit, "assumed")
    assert r.value_canonical == pytest.approx(canonical)
    assert any("assumed" in n for n in r.notes)


@pytest.mark.parametrize("line", ["Platelet count 2.5", "Eosinophils 2", "Basophils 0.5", "Neutrophils 4.2"])
def test_ambiguous_magnitude_is_uncertain(line: str) -> None:
    ex = _read(line)
    assert len(ex.analytes) == 1
    assert ex.analytes[0].status == "uncertain"
    assert len(ex.to_canonical_cbc()) == 0, "uncertain values never reach the models by default"


def test_percent_or_absolute_from_section_headings() -> None:
    ex = _read("""
Total Leucocyte Count 8.0 x10^9/L
DIFFERENTIAL COUNT
Neutrophils   60
Lymphocytes   30
Monocytes     6
Eosinophils   3
Basophils     1
ABSOLUTE COUNT
Neutrophils   4.8
Lymphocytes   2.4
Monocytes     0.48
Eosinophils   0.24
Basophils     0.08
""")
    got = _by_key(ex)
    for cell, pct, abs_ in [
        ("neut", 60, 4.8),
        ("lymph", 30, 2.4),
        ("mono", 6, 0.48),
        ("eos", 3, 0.24),
        ("baso", 1, 0.08),
    ]:
        assert got[f"{cell}_pct"].value == pct and got[f"{cell}_abs"].value == abs_, cell
    assert got["eos_pct"].status == "assumed" and got["eos_abs"].status == "assumed"


def test_percent_or_absolute_from_the_other_form_on_the_report() -> None:
    ex = _read("""
Neutrophils 58 %
Neutrophils 3.5
Eosinophils 2 %
Eosinophils 0.1
""")
    got = _by_key(ex)
    assert got["neut_abs"].value == 3.5 and got["eos_abs"].value == 0.1
    assert any("elsewhere" in n for n in got["eos_abs"].notes)


def test_percent_or_absolute_from_neighbouring_rows() -> None:
    ex = _read("""
Neutrophils 58 %
Lymphocytes 32 %
Eosinophils 2
Monocytes 7 %
Basophils 1 %
""")
    r = _by_key(ex)["eos_pct"]
    assert r.status == "assumed" and any("neighbouring" in n for n in r.notes)


def test_unresolvable_percent_or_absolute_warns() -> None:
    ex = _read("Basophils 1")
    assert ex.analytes[0].status == "uncertain"
    assert [w.code for w in ex.warnings] == ["ambiguous_analyte"]


# ---- confidence, OCR damage, contradictions ---------------------------------------------------


def test_letter_in_value_is_uncertain_when_nothing_confirms_it() -> None:
    r = _read("MCV 8O.5 fL 80-100").analytes[0]
    assert r.value == 80.5 and r.status == "uncertain" and r.confidence < 0.7


def test_letter_in_value_confirmed_by_consistency() -> None:
    ex = _read("""
Hemoglobin 13.5 g/dL
RBC 4.50 x10^6/uL
PCV 4O.5 %
MCV 90.0 fL
MCH 30.0 pg
MCHC 33.3 g/dL
""")
    r = _by_key(ex)["hct"]
    assert r.value == 40.5 and r.status == "ok"
    assert any("confirmed by CBC consistency" in n for n in r.notes)


def test_low_word_confidence_makes_value_uncertain() -> None:
    words = (
        Word("Hemoglobin", 0.97, 10, 10, 120, 30),
        Word("13.5", 0.31, 200, 10, 240, 30),
        Word("g/dL", 0.95, 260, 10, 300, 30),
    )
    ex = extract_report([TextRow("Hemoglobin 13.5 g/dL", words=words, confidence=0.8)])
    r = ex.analytes[0]
    assert r.status == "uncertain" and r.confidence == pytest.approx(0.31)


def test_low_line_confidence_without_words() -> None:
    r = extract_report([TextRow("Hemoglobin 13.5 g/dL", confidence=0.4)]).analytes[0]
    assert r.status == "uncertain"


def test_flag_contradicting_value_and_range_is_uncertain() -> None:
    r = _read("Hemoglobin 18.0 L g/dL 12-16").analytes[0]
    assert r.status == "uncertain" and any("contradicts" in n for n in r.notes)


def test_sex_specific_range_chosen_from_header() -> None:
    ex = _read("""
Sex : Female
Haemoglobin 12.5 g/dL M: 13.0-17.0 F: 12.0-15.0
""")
    r = ex.analytes[0]
    assert (r.ref_low, r.ref_high) == (12.0, 15.0)


def test_sex_specific_range_not_guessed_without_sex() -> None:
    r = _read("Haemoglobin 12.5 g/dL M: 13.0-17.0 F: 12.0-15.0").analytes[0]
    assert r.ref_low is None and r.ref_high is None and r.status == "ok"


def test_conflicting_duplicate_rows_are_uncertain() -> None:
    ex = _read("""
Haemoglobin 13.5 g/dL
Haemoglobin 15.3 g/dL
""")
    assert len(ex.analytes) == 1 and ex.analytes[0].status == "uncertain"
    assert "conflicting_values" in {w.code for w in ex.warnings}


def test_identical_duplicate_rows_are_merged() -> None:
    ex = _read("""
Haemoglobin 13.5 g/dL
Hemoglobin (Hb) 135 g/L
""")
    assert len(ex.analytes) == 1 and ex.analytes[0].status == "ok"


def test_incompatible_unit_is_dropped_with_warning() -> None:
    ex = _read("PDW 16.5 % 9-17")
    assert ex.analytes == []
    assert [w.code for w in ex.warnings] == ["unit_incompatible"]


def test_empty_input() -> None:
    ex = extract_report([])
    assert ex.analytes == [] and ex.warnings == [] and ex.context.sex is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Neutrophils 62 % 40 - 80 4.65 10^3/uL 2.0 - 7.0", {"neut_pct": 62.0, "neut_abs": 4.65}),
        ("Neutrophils | 62 | % | 4650 | /cumm", {"neut_pct": 62.0, "neut_abs": 4650.0}),
        ("Lymphocytes 30 % 1.2 x10^9/L", {"lymph_pct": 30.0, "lymph_abs": 1.2}),
        ("Hemoglobin 13.5 g/dL 13.0 - 17.0 g/dL", {"hgb": 13.5}),
        ("| Hemoglobin | 13.5 | g/dL | 13-17 |", {"hgb": 13.5}),
        ("Haematocrit 38 % Upto 45 %", {"hct": 38.0}),
    ],
)
def test_percent_and_absolute_on_one_row(line: str, expected: dict[str, float]) -> None:
    ex = _read(line)
    assert {a.key: a.value for a in ex.analytes} == expected
    assert all(a.status == "ok" for a in ex.analytes)


@pytest.mark.parametrize(
    ("line", "key", "value", "unit", "low", "high"),
    [
        ("Haemoglobin13.5g/dL13.0-17.0", "hgb", 13.5, "g/dL", 13.0, 17.0),
        ("MCV90fL 83-101", "mcv", 90.0, "fL", 83.0, 101.0),
        ("RDW-CV13.5% 11.6-14.0", "rdw_cv", 13.5, "%", 11.6, 14.0),
        ("HbA2 3.2 % 2.0-3.5", "hba2", 3.2, "%", 2.0, 3.5),
        ("Hemoglobin 13.5 g/dI 13.0-17.0", "hgb", 13.5, "g/dL", 13.0, 17.0),
        ("WBC 7.2 x103/pL 4.0-11.0", "wbc", 7.2, "10*3/uL", 4.0, 11.0),
        ("RBC 4.5 x10^6 4.5-5.5", "rbc", 4.5, "10*6/uL", 4.5, 5.5),
        ("Hb 10.2 L. g/dl 12-15", "hgb", 10.2, "g/dL", 12.0, 15.0),
    ],
)
def test_ocr_glued_and_damaged_rows(
    line: str, key: str, value: float, unit: str, low: float, high: float
) -> None:
    ex = _read(line)
    assert [(a.key, a.value, a.unit, a.ref_low, a.ref_high) for a in ex.analytes] == [
        (key, value, unit, low, high)
    ]


def test_dutch_molar_units_convert_and_stay_consistent() -> None:
    ex = _read("""
Hemoglobine 8.4 mmol/L 8.5-11.0 L
Hematocriet 0.40 L/L 0.40-0.50
Erytrocyten 4.5 x10^12/L 4.3-5.7
MCV 89 fL 80-100
MCH 1.86 fmol 1.70-2.10
MCHC 20.5 mmol/L 19.5-22.5
""")
    got = _by_key(ex)
    assert got["hgb"].value_canonical == pytest.approx(13.53, abs=0.01)
    assert got["mch"].value_canonical == pytest.approx(29.96, abs=0.01)
    assert got["mchc"].value_canonical == pytest.approx(33.03, abs=0.01)
    assert ex.warnings == [] and all(a.status == "ok" for a in ex.analytes)


@pytest.mark.parametrize(
    ("line", "key", "value", "flag"),
    [
        ("Hb  10.7Low  g/dL  12.0 - 16.0", "hgb", 10.7, "L"),
        ("Red Cell Distribution Width  15.7High  %  11.5 - 14.5", "rdw_cv", 15.7, "H"),
        ("R.B.C.3.80  *  mill/cumm  4.00 – 5.50", "rbc", 3.8, "L"),
        ("NEUT%57.4  %  40.0 - 80.0", "neut_pct", 57.4, None),
        ("EOS#0.39  K/uL  0.02-0.50", "eos_abs", 0.39, None),
        ("E0S%  1.7%  (1.0  -  6.0)", "eos_pct", 1.7, None),
        ("RDW-5D  45.2  fL  39-46", "rdw_sd", 45.2, None),
        ("Haematocrit  0,300  Low  L/L  0.360 – 0.460", "hct", 0.3, "L"),
    ],
)
def test_more_ocr_spellings(line: str, key: str, value: float, flag: str | None) -> None:
    ex = _read(line)
    assert [(a.key, a.value, a.flag) for a in ex.analytes] == [(key, value, flag)]


def test_range_bound_is_never_taken_as_the_value() -> None:
    # the result cell is unreadable ("35.4Lw"); the first number left is the range's low end
    assert _read("Packed Cell Volume (PCV)  35.4Lw  %  36.0 - 46.0").analytes == []
    assert _read("Basophils  <  1.0  %").analytes == []


def test_name_starting_with_a_symbol_in_the_second_column() -> None:
    ex = _read("Monocytes %  6.5  %  % Saturation  33  %")
    assert {a.key: a.value for a in ex.analytes} == {"mono_pct": 6.5, "tsat": 33.0}


@pytest.mark.parametrize(
    ("line", "status"),
    [
        ("Reticulocytes  14%  (0.5-2.5)", "uncertain"),  # "1,4" lost its comma
        ("Reticulocytes  14% H (0.5-2.5)", "ok"),  # the printed flag vouches for it
        ("Platelet count 20 10^3/uL 150-400", "uncertain"),
        ("Platelet count 20 L 10^3/uL 150-400", "ok"),
        ("Hemoglobin 4.5 g/dL 12-16", "ok"),  # very low, but no tenfold reading fits the range
        ("Absolute Basophil Count  0.02  lO^3/uL  up to 0.10", "ok"),  # "lO^3" is OCR for 10^3
        ("Absolute Basophil Count  0.02  /uL", "uncertain"),  # 0.00002 x10^3/uL is not a real count
        ("Absolute Basophil Count  0.00  x10^3/uL", "ok"),
        ("Reticulocyte Count  15  a  0.5 - 2.5", "uncertain"),  # "1.5" lost its point; "a" is noise
        # a unit printed but not legible is not a missing unit: 19.3 umol/L is 108 ug/dL
        ("Iron: 19.3 umo1/L~ (10.7 - 30.4)", "uncertain"),
        ("Iron: 19.3 (10.7 - 30.4)", "assumed"),  # nothing printed: the magnitude decides
        ("Iron: 95 Calculated/Derived", "assumed"),  # a method, not a unit
        ("Serum Iron  77  ua/dl,  60  170", "assumed"),  # looks like ug/dL, as 77 suggests
        ("Total RBC Count  4.98  x10712/L", "assumed"),  # 10*12/L: the factor 4.98 suggests
    ],
)
def test_suspicious_magnitudes(line: str, status: str) -> None:
    r = _read(line).analytes[0]
    assert r.status == status, r.notes


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # real Tesseract output on degraded synthetic reports
        ("Het  0.294* UL  0.360 - 0.460", [("hct", 0.294)]),
        ("RDWCV.  _  .  veces  18.4°%  (11.5-14.5)", [("rdw_cv", 18.4)]),
        ("Platelets  vee  309 X10^9/L  (150 — 410)", [("plt", 309.0)]),
        ("Lymphocytes  ......  =  _  29.6%  20.0 - 40.0", [("lymph_pct", 29.6)]),
        ("ANC  2.38 x10°9/L  2.00-7.00", [("neut_abs", 2.38)]),
        ("Absolute Eosinophil Count  w»  0.15 X10^9/L  0.02 - 0.50", [("eos_abs", 0.15)]),
        ("Haemoglobin A2  ——  29%  2.0-3.5", []),  # 2.9 read as 29: impossible, rejected
        ("Total count of tests 14", []),
        # rarer readings of a dotted leader, left of an exactly matching name (seeds 9118, 9120)
        ("Lymphs  arr  28.2 %  (20.0 - 40.0)", [("lymph_pct", 28.2)]),
        ("ANC  ceases tis  2.28 x10^9/L  2.00 - 7.00", [("neut_abs", 2.28)]),
        ("MONO#  i  .  0.18 Low x10^9/L  (0.20-1.00)", [("mono_abs", 0.18)]),
        ("HbF  Ww  se  ew  2.0 %  (up to 2.0)", [("hbf", 2.0)]),  # seed 9109, low resolution
        ("Total count of tests performed 14", []),
    ],
)
def test_tesseract_noise(line: str, expected: list[tuple[str, float]]) -> None:
    assert [(a.key, a.value) for a in _read(line).analytes] == expected


@pytest.mark.parametrize(
    ("line", "key", "value", "flag"),
    [
        # real RapidOCR output on degraded synthetic reports
        ("Hemoglobin  10.9LoW  g/dL  12.0 - 16.0", "hgb", 10.9, "L"),
        ("NEUT#  7.17High  K/uL  2.00 - 7.00", "neut_abs", 7.17, "H"),
        ("RDW-SD  49,0*fL  39.0-46.0", "rdw_sd", 49.0, "H"),
        ("MeanPlatelet Volume  10.6  fL  7.5-11.5", "mpv", 10.6, None),
        ("PlateletDistributionWidth  12.8  fL  9.0-17.0", "pdw", 12.8, None),
        # "10*" is a unit start only with its exponent: not 4.6 + "10*"
        ("Absolute Lymphocyte Count  4,610*  cells/cumm  1,000 - 3,000", "lymph_abs", 4610.0, "H"),
        ("TLC  7.810^3/uL  4.0 - 11.0", "wbc", 7.8, None),  # glued unit with its exponent still splits
        # a dotted leader read as ones (seed 9056, skewed); the value follows it
        ("Red Cell Distribution Width  1111  11.5 %  11.5-14.5", "rdw_cv", 11.5, None),
        # four ones before a unit, or before a range, are the value itself
        ("Ferritin  1111  ng/mL  20-250", "ferritin", 1111.0, None),
        ("Ferritin  1111  20 - 250", "ferritin", 1111.0, None),
    ],
)
def test_rapidocr_noise(line: str, key: str, value: float, flag: str | None) -> None:
    assert [(a.key, a.value, a.flag) for a in _read(line).analytes] == [(key, value, flag)]


def test_value_with_a_lost_digit_is_uncertain() -> None:
    # real Tesseract output: "4.1" came out as "4."
    ex = _read("Neutrophils %  67.5  &  Haemoglobin A2  4.  %")
    got = _by_key(ex)
    assert got["hba2"].value == 4.0 and got["hba2"].status == "uncertain"
    assert got["neut_pct"].value == 67.5


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("Neutrophils 4.2 2.0 - 7.0", "neut_abs"),
        ("Neutrophils 35 40 - 75", "neut_pct"),
        ("Eosinophils 2 1 - 6", "eos_pct"),
        ("Basophils 0.5 0 - 1", "baso_pct"),
        ("Reticulocyte Count 1.5 0.5 - 2.5", "retic_pct"),
    ],
)
def test_percent_or_absolute_from_the_printed_range(line: str, key: str) -> None:
    r = _read(line).analytes[0]
    assert r.key == key and r.status == "assumed"


def test_reticulocytes_ignore_neighbouring_white_cell_rows() -> None:
    ex = _read("""
Absolute Neutrophil Count 4.1 x10^9/L
Absolute Lymphocyte Count 2.0 x10^9/L
Reticulocyte Count 15
""")
    r = _by_key(ex).get("retic_abs") or _by_key(ex).get("retic_pct")
    assert r is not None and r.status == "uncertain"


def test_number_closing_a_label_is_not_the_value() -> None:
    from mappings.rowparse import parse_line

    # "Neutrophils %: 65.3" with the "%" read as "9": 9 is no result
    assert all(it.number.value != 9 for it in parse_line("Neut1ophils 9: 65.3 % (40.0-80.0)"))
    (item,) = parse_line("Hb: 13.5: g/dL")  # a stray colon after the value keeps the value
    assert item.number.value == 13.5


def test_value_glued_to_a_unit_cut_short_by_ocr() -> None:
    # real RapidOCR output on a blurred fax: "589/cumm" read as "589/c"
    ex = _read("Total WBC Count  9,466 /cumm  4,000 - 11,000\nMONO#  589/c  200-1,000")
    got = _by_key(ex)
    assert got["mono_abs"].value == 589.0 and got["mono_abs"].status != "uncertain"
    assert got["wbc"].value == 9466.0
    assert _read("Collected 12/10/2025 14").analytes == []  # a date's slashes are no unit


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # both engines on a faxed two-column report: the unit column runs into the next name
        (
            "Total RBC Count  5.22  million/cummEosinophils %  1.6  %",
            {"rbc": (5.22, "10*6/uL"), "eos_pct": (1.6, "%")},
        ),
        ("Lymphocytes  30  %Monocytes  5  %", {"lymph_pct": (30.0, "%"), "mono_pct": (5.0, "%")}),
        ("RBC  4.5  mill/Cumm  4.0 - 5.5", {"rbc": (4.5, "10*6/uL")}),  # a unit that is whole stays whole
    ],
)
def test_unit_glued_to_the_next_columns_name(line: str, expected: dict[str, tuple[float, str]]) -> None:
    assert {a.key: (a.value, a.unit) for a in _read(line).analytes} == expected


def test_parenthesised_abbreviation_misread_with_a_digit_is_not_the_value() -> None:
    # real Tesseract output on a fax: "(Hb)" read "(1b)", which letter-as-digit made 16
    got = _by_key(_read("Hemoglohin (1b)  10.5 *"))
    assert got["hgb"].value == 10.5


def test_giga_per_litre_printed_as_g_l_is_a_count_not_grams() -> None:
    """French and Swiss reports print counts in "G/L" (giga per litre); haemoglobin in g/L stays
    grams. A count is never in grams, so the reading is unambiguous per analyte."""
    ex = extract_report(
        [
            TextRow("Leucocytes   7.5   G/L   4.0 - 10.0"),
            TextRow("Plaquettes   250   G/L   150 - 400"),
            TextRow("Platelets   250   G/L   150 - 400"),
            TextRow("Hemoglobin   135   g/L   120 - 160"),
        ]
    )
    by = {a.key: a for a in ex.analytes}
    assert by["wbc"].value_canonical == pytest.approx(7.5)
    assert by["wbc"].unit == "10*9/L" and any("giga" in n for n in by["wbc"].notes)
    assert by["plt"].value_canonical == pytest.approx(250)
    assert by["hgb"].unit == "g/L" and by["hgb"].value_canonical == pytest.approx(13.5)
    assert not [w for w in ex.warnings if w.code == "unit_incompatible"]


@pytest.mark.parametrize(
    ("line", "status"),
    [
        ("Hb F  13  %  <2.0", "uncertain"),  # 1.3 with its decimal point lost
        ("HbF  .  10%  (< 2.0)", "uncertain"),
        ("HbF  13.0  %  <2.0", "ok"),  # printed with its range's precision: a real high value
        ("HbF  13  %  <2", "ok"),  # the lab prints whole numbers here
        ("HbF  13  H  %  <2.0", "ok"),  # flagged by the lab
        ("HbF  6  %  <2.0", "ok"),  # a tenth (0.6) is no likelier than the value itself
        ("HbF  1.3  %  <2.0", "ok"),
    ],
)
def test_lost_decimal_point_against_an_upper_limit_alone(line: str, status: str) -> None:
    (a,) = extract_report([TextRow(line)]).analytes
    assert a.key == "hbf" and a.status == status


DIFF_WITH_FAXED_NAMES = """
WBC              10.0   x10^9/L   4.0-11.0
Neutrophils %    60.0   %         40.0-80.0
Lymphocytes %    30.0   %         20.0-40.0
Monocytes %      6.0    %         2.0-10.0
EOS%             3.4    %         1.0-6.0
Basophils %      0.6    %         0.0-2.0
Neutrophils #    6.00   x10^9/L   2.00-7.00
MONO#            0.60   x10^9/L   0.20-1.00
{row}
"""


def test_a_garbled_name_is_read_where_the_cbc_relations_say_which_analyte_it_is() -> None:
    # seed 9096, a fax: "EOS#" came out as "FOS#"; 0.34 = 3.4 % x 10.0 says it is EOS#
    by = _by_key(_read(DIFF_WITH_FAXED_NAMES.format(row="FOS#   0.34   x10^9/L   0.02-0.50")))
    eos = by["eos_abs"]
    assert eos.value == pytest.approx(0.34) and eos.status == "ok"
    assert any("test name not legible" in n and "eos absolute = % × WBC" in n for n in eos.notes)
    assert "baso_abs" not in by  # the other name "FOS#" resembles (BAS#) does not fit


@pytest.mark.parametrize(
    "row",
    [
        "FOS#   0.52   x10^9/L   0.02-0.50",  # the value does not fit EOS# (3.4 % x 10.0)
        "PLE    250    x10^9/L   150-410",  # platelets have no relation to ask
        "Zzqx   0.34   x10^9/L   0.02-0.50",  # resembles no analyte's name
        "FOS#   0.34   x10^9/L   0.02-0.50\nLOS#   0.34   x10^9/L   0.02-0.50",  # two rows fit
    ],
)
def test_a_garbled_name_without_that_evidence_stays_unread(row: str) -> None:
    by = _by_key(_read(DIFF_WITH_FAXED_NAMES.format(row=row)))
    assert not {"eos_abs", "baso_abs", "plt"} & by.keys()


def test_names_recovered_one_after_another() -> None:
    # LYMPH% read first makes LYMPH# testable (% x WBC)
    text = DIFF_WITH_FAXED_NAMES.replace("Lymphocytes %    30.0", "I .ymphs         30.0")
    by = _by_key(_read(text.format(row="LYMPIH#   3.00   x10^9/L   1.00-3.00")))
    assert by["lymph_pct"].value == 30.0 and by["lymph_pct"].status == "ok"
    assert by["lymph_abs"].value == 3.0 and by["lymph_abs"].status == "ok"


def test_a_colon_read_for_the_point_is_doubtful_not_a_letter() -> None:
    (rdw,) = _read("RDW CV:  16:8 %  (11.5 - 14.5)").analytes
    assert rdw.value == 16.8 and rdw.status == "uncertain"
    assert "colon read as decimal point" in rdw.notes
    assert not any("letter" in n for n in rdw.notes)
