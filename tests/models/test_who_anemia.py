"""WHO 2024 haemoglobin cutoffs: boundaries, severity bands and unknown patient details."""

from __future__ import annotations

import numpy as np
import pytest

from models.who_anemia import (
    ASSUME_ADULT,
    ASSUME_NOT_PREGNANT,
    ASSUME_SEX_RANGE,
    NO_CUTOFF_INFANT,
    classify_anemia,
)

NAN = float("nan")


def classify(hgb: float, sex: float = NAN, age: float = NAN, pregnant: float = NAN, trimester: float = NAN):
    arr = classify_anemia(*(np.array([v], dtype=float) for v in (hgb, sex, age, pregnant, trimester)))
    return arr.status[0], arr.severity[0], arr.cutoff_low[0], arr.cutoff_high[0], arr.assumptions.row(0)


@pytest.mark.parametrize(
    ("sex", "age", "pregnant", "trimester", "cutoff"),
    [
        (1, 1.0, 0, NAN, 10.5),  # 6-23 months
        (0, 3.0, 0, NAN, 11.0),  # 24-59 months
        (1, 8.0, 0, NAN, 11.5),  # 5-11 years
        (0, 13.0, 0, NAN, 12.0),  # 12-14 years
        (0, 30.0, 0, NAN, 12.0),  # non-pregnant women
        (1, 30.0, 0, NAN, 13.0),  # men
        (0, 30.0, 1, 1, 11.0),
        (0, 30.0, 1, 2, 10.5),
        (0, 30.0, 1, 3, 11.0),
    ],
)
def test_cutoff_is_strict_lower_bound(
    sex: float, age: float, pregnant: float, trimester: float, cutoff: float
) -> None:
    at = classify(cutoff, sex, age, pregnant, trimester)
    below = classify(cutoff - 0.1, sex, age, pregnant, trimester)
    assert at[0] == "no" and at[2] == at[3] == cutoff
    assert below[0] == "yes"


@pytest.mark.parametrize(
    ("hgb", "sex", "age", "expected"),
    [
        (12.5, 1, 40, "mild"),
        (11.0, 1, 40, "mild"),
        (10.9, 1, 40, "moderate"),
        (8.0, 1, 40, "moderate"),
        (7.9, 1, 40, "severe"),
        (11.4, 0, 40, "mild"),
        (9.4, 1, 1.5, "moderate"),
        (6.9, 1, 3, "severe"),
        (7.5, 0, 8, "severe"),
        (12.0, 1, 40, "mild"),
    ],
)
def test_severity_bands(hgb: float, sex: float, age: float, expected: str) -> None:
    assert classify(hgb, sex, age, 0)[1] == expected


def test_unknown_sex_gives_a_range_and_says_so() -> None:
    assert classify(12.5, NAN, 40)[0] == "unknown"
    assert classify(11.9, NAN, 40)[0] == "yes"
    assert classify(13.0, NAN, 40)[0] == "no"
    assert ASSUME_SEX_RANGE in classify(12.5, NAN, 40)[4]


def test_unknown_age_assumes_adult_and_says_so() -> None:
    status, _, lo, hi, notes = classify(12.5, 1)
    assert (status, lo, hi) == ("yes", 13.0, 13.0)
    assert ASSUME_ADULT in notes


def test_unknown_pregnancy_in_woman_of_reproductive_age_is_an_assumption() -> None:
    assert ASSUME_NOT_PREGNANT in classify(11.5, 0, 25)[4]
    assert ASSUME_NOT_PREGNANT not in classify(11.5, 0, 25, 0)[4]


def test_pregnant_unknown_trimester_is_unknown_between_cutoffs() -> None:
    assert classify(10.7, 0, 25, 1)[0] == "unknown"
    assert classify(10.4, 0, 25, 1)[0] == "yes"


def test_infant_and_missing_hb_are_not_classified() -> None:
    status, severity, *_, notes = classify(8.0, 1, 0.2)
    assert status == "unknown" and severity == "" and NO_CUTOFF_INFANT in notes
    assert classify(NAN, 1, 40)[0] == "unknown"


def test_vectorised_rows_are_independent() -> None:
    arr = classify_anemia(
        np.array([12.5, 12.5, 9.0]),
        np.array([1.0, 0.0, 1.0]),
        np.array([40.0, 40.0, 40.0]),
        np.array([0.0, 0.0, 0.0]),
        np.full(3, np.nan),
    )
    assert list(arr.status) == ["yes", "no", "yes"]
    assert list(arr.severity) == ["mild", "none", "moderate"]


def test_joined_flags_equal_per_row_text() -> None:
    arr = classify_anemia(
        np.array([12.5, 12.5, 11.0, 10.0]),
        np.array([np.nan, 0.0, 0.0, np.nan]),
        np.array([np.nan, 30.0, 30.0, 0.3]),
        np.array([np.nan, np.nan, 0.0, np.nan]),
        np.full(4, np.nan),
    )
    joined = arr.assumptions.joined(" | ")
    for i in range(4):
        assert joined[i] == " | ".join(arr.assumptions.row(i))
    assert joined[2] == "" and ASSUME_ADULT in joined[0] and NO_CUTOFF_INFANT in joined[3]
