"""Header block -> patient context; header lines are never results; warnings carry no PHI."""

from __future__ import annotations

import datetime as dt

import pytest

from mappings.extract import extract_report
from mappings.header import extract_header, parse_age, parse_date
from mappings.rows import TextRow


def _ctx(*lines: str):
    ctx, _, warnings = extract_header([TextRow(t) for t in lines])
    return ctx, warnings


@pytest.mark.parametrize(
    ("line", "sex", "age"),
    [
        ("Age/Sex : 34 Y / M", "male", 34.0),
        ("Age / Gender : 45 Years / Female", "female", 45.0),
        ("Sex/Age : F / 28 Yrs", "female", 28.0),
        ("Age : 34 Y / F", "female", 34.0),
        ("Name: Jane Roe   Age: 6 Months   Sex: Female", "female", 0.5),
        ("Pt. Name : Baby X | Age : 10 D | Gender : M", "male", pytest.approx(10 / 365.25, abs=1e-3)),
        ("Age: 2Y 6M   Gender: Male", "male", 2.5),
        ("AGE : 61 YRS    SEX : MALE", "male", 61.0),
        ("Age: 34Y(M)", "male", 34.0),
        ("Gender: F", "female", None),
    ],
)
def test_sex_and_age(line: str, sex: str, age: float | None) -> None:
    ctx, _ = _ctx(line)
    assert ctx.sex == sex
    assert ctx.age_years == age


@pytest.mark.parametrize(
    ("lines", "pregnant", "trimester"),
    [
        (["Pregnant: Yes", "Trimester: 2"], True, 2),
        (["Pregnancy: No"], False, None),
        (["Clinical details: 2nd trimester"], True, 2),
        (["Gestational age: 30 weeks"], True, 3),
        (["Pregnancy status: yes, 10 weeks gestation"], True, 1),
        (["Sex: Female"], None, None),
    ],
)
def test_pregnancy(lines: list[str], pregnant: bool | None, trimester: int | None) -> None:
    ctx, _ = _ctx(*lines)
    assert ctx.pregnant is pregnant
    assert ctx.trimester == trimester
    if pregnant:
        assert ctx.sex == "female"
        assert ctx.age_years is None, "gestational age is not the patient's age"


@pytest.mark.parametrize(
    ("line", "collected", "reported"),
    [
        ("Collected on : 15/03/2024   Reported on : 16/03/2024", dt.date(2024, 3, 15), dt.date(2024, 3, 16)),
        ("Sample Collected On: 2024-03-05 10:30", dt.date(2024, 3, 5), None),
        ("Collection Date: 05-Mar-2024  Report Date: 06 Mar 2024", dt.date(2024, 3, 5), dt.date(2024, 3, 6)),
        ("Drawn: March 5, 2024", dt.date(2024, 3, 5), None),
        ("Reported: 12/25/2023", None, dt.date(2023, 12, 25)),
    ],
)
def test_dates(line: str, collected: dt.date | None, reported: dt.date | None) -> None:
    ctx, _ = _ctx(line)
    assert ctx.collected == collected
    assert ctx.reported == reported


def test_ambiguous_date_is_reported_without_the_date() -> None:
    ctx, warnings = _ctx("Collected: 04/05/2024")
    assert ctx.collected == dt.date(2024, 5, 4)
    assert [w.code for w in warnings] == ["date_ambiguous"]
    assert "04" not in warnings[0].message and "2024" not in warnings[0].message


def test_a_results_table_header_with_a_lab_column_is_not_the_lab_name() -> None:
    """Quest-style reports end the column titles with "Lab" (the performing site's code)."""
    rows = [
        TextRow("Patient: DOE, JANE    Sex: F    Age: 46"),
        TextRow("Test Name  In Range  Out Of Range  Reference Range  Lab"),
        TextRow("HEMOGLOBIN  11.2 L  11.7-15.5 g/dL  EN"),
    ]
    assert extract_report(rows).context.lab_name is None
    assert extract_report([TextRow("Quest Diagnostics Laboratory"), *rows]).context.lab_name == (
        "Quest Diagnostics Laboratory"
    )


def test_name_identifier_lab_and_phi_stays_out_of_warnings() -> None:
    rows = [
        TextRow("SUNRISE PATHOLOGY LABORATORY"),
        TextRow("Patient Name : Mr. Arjun Mehta      UHID : SP-2024-00917"),
        TextRow("DOB: 01/02/1990   Collected: 15-Mar-2024"),
        TextRow("Haemoglobin 13.5 g/dL 13.0 - 17.0"),
    ]
    ex = extract_report(rows)
    assert ex.context.patient_name == "Mr. Arjun Mehta"
    assert ex.context.patient_identifier == "SP-2024-00917"
    assert ex.context.lab_name == "SUNRISE PATHOLOGY LABORATORY"
    assert ex.context.sex == "male"  # from the title, reported as an assumption
    assert ex.context.age_years == pytest.approx(34.1, abs=0.1)  # from DOB and collection date
    codes = {w.code for w in ex.warnings}
    assert {"sex_from_title", "age_from_dob"} <= codes
    for w in ex.warnings:
        for phi in ("Arjun", "Mehta", "SP-2024", "1990"):
            assert phi not in w.message
    ctx = ex.context.to_patient_context()
    assert ctx.sex == "male" and not hasattr(ctx, "patient_name")


@pytest.mark.parametrize(
    "line",
    [
        "Age : 34 Years",
        "Sex : Male",
        "Patient ID : 123456",
        "Lab No : 4521",
        "Ref. By : Dr. R. Rao",
        "Collected On : 12/03/2024 09:15",
        "Bed No : 12",
        "Mobile : 9876543210",
        "Sample ID : 778899",
        "Patient Name : Hb Electrophoresis Kumar",
        "Registered on : 12/03/2024",
    ],
)
def test_header_lines_are_not_results(line: str) -> None:
    ex = extract_report([TextRow(line)])
    assert ex.analytes == []


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("34 Years", 34.0),
        ("34Y", 34.0),
        ("6 Months", 0.5),
        ("2Y 3M", 2.25),
        ("3 weeks", 21 / 365.25),
        ("45", 45.0),
        ("200 years", None),
    ],
)
def test_parse_age(text: str, years: float | None) -> None:
    assert parse_age(text) == (pytest.approx(years, abs=1e-3) if years else None)


def test_parse_date_rejects_nonsense() -> None:
    assert parse_date("31/02/2024") == (None, False)
    assert parse_date("yesterday") == (None, False)


@pytest.mark.parametrize(
    ("line", "collected", "warned"),
    [
        ("Collected: 03/04/2024   Reported: 2024-03-05", dt.date(2024, 3, 4), False),  # month-first fits
        ("Collected: 03/04/2024   Reported: 15/04/2024", dt.date(2024, 4, 3), False),  # day-first fits
        ("Collected: 03/04/2024   Reported: 04/04/2024", dt.date(2024, 4, 3), False),
        ("Collected: 03/04/2024   Reported: 2025-01-10", dt.date(2024, 4, 3), True),  # neither fits: warn
        ("Collected: 03/04/2024", dt.date(2024, 4, 3), True),
    ],
)
def test_ambiguous_date_settled_by_the_other_date(line: str, collected: dt.date, warned: bool) -> None:
    ctx, warnings = _ctx(line)
    assert ctx.collected == collected
    assert ("date_ambiguous" in {w.code for w in warnings}) is warned
