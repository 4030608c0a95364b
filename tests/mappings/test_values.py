"""Numbers, flags and reference ranges as labs print them."""

from __future__ import annotations

import pytest

from mappings.values import choose_range, find_ranges, parse_flag, parse_number, split_glued_flag


@pytest.mark.parametrize(
    ("text", "value", "decimals"),
    [
        ("13.5", 13.5, 1),
        ("13,5", 13.5, 1),
        ("08", 8.0, 0),
        ("007", 7.0, 0),
        ("0.42", 0.42, 2),
        (".42", 0.42, 2),
        ("7,500", 7500.0, 0),
        ("1,50,000", 150000.0, 0),
        ("4,50,000", 450000.0, 0),
        ("12,34,567", 1234567.0, 0),
        ("150,000", 150000.0, 0),
        ("1,234.5", 1234.5, 1),
        ("1.234,5", 1234.5, 1),
        ("4.50", 4.5, 2),
        ("(13.5)", 13.5, 1),
        ("250", 250.0, 0),
        ("13.5.", 13.5, 1),
        ("13.5,", 13.5, 1),
    ],
)
def test_parse_number(text: str, value: float, decimals: int) -> None:
    parsed = parse_number(text)
    assert parsed is not None
    assert parsed.value == pytest.approx(value)
    assert parsed.decimals == decimals
    assert not parsed.ocr_fixed


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1O.5", 10.5),
        ("l2.4", 12.4),
        ("4.S", 4.5),
        ("8O", 80.0),
        ("1B.2", 18.2),
        ("I3.0", 13.0),
        ("2O0", 200.0),
    ],
)
def test_ocr_letters_in_numbers_are_flagged(text: str, value: float) -> None:
    parsed = parse_number(text)
    assert parsed is not None and parsed.value == pytest.approx(value)
    assert parsed.ocr_fixed, "a letter read as a digit must lower confidence"


@pytest.mark.parametrize("text", ["", "SI", "Bl", "OIL", "abc", "13-17", "g/dL", "1.2.3.4.5", "x10^3"])
def test_not_numbers(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize(
    ("token", "number", "flag"),
    [
        ("11.2L", "11.2", "L"),
        ("18.1H", "18.1", "H"),
        ("*8.1", "8.1", "A"),
        ("8.1*", "8.1", "A"),
        ("↑15", "15", "H"),
        ("3.2↓", "3.2", "L"),
        ("25.0HH", "25.0", "HH"),
        ("1.1LL", "1.1", "LL"),
        ("11.2(L)", "11.2", "L"),
        ("13.5", "13.5", None),
        ("RBC", "RBC", None),
        ("1IL", "1IL", None),
        ("3,428t", "3,428", "A"),  # an up arrow read as a t (seed 9204); its direction comes from the range
        ("1st", "1st", None),
        ("t", "t", None),
    ],
)
def test_split_glued_flag(token: str, number: str, flag: str | None) -> None:
    assert split_glued_flag(token) == (number, flag)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("H", "H"),
        ("High", "H"),
        ("HIGH", "H"),
        ("↑", "H"),
        ("(H)", "H"),
        ("[H]", "H"),
        ("L", "L"),
        ("Low", "L"),
        ("↓", "L"),
        ("(L)", "L"),
        ("HH", "HH"),
        ("Critical High", "HH"),
        ("↑↑", "HH"),
        ("LL", "LL"),
        ("Panic Low", "LL"),
        ("A", "A"),
        ("Abnormal", "A"),
        ("*", "A"),
        ("Normal", None),
        ("g/dL", None),
        ("", None),
    ],
)
def test_parse_flag(text: str, code: str | None) -> None:
    assert parse_flag(text) == code


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("13.0 - 17.0", 13.0, 17.0),
        ("13.0-17.0", 13.0, 17.0),
        ("13.0–17.0", 13.0, 17.0),
        ("13 — 17", 13.0, 17.0),
        ("(13.0 - 17.0)", 13.0, 17.0),
        ("[4.0-11.0]", 4.0, 11.0),
        ("4.0 to 11.0", 4.0, 11.0),
        ("< 5", None, 5.0),
        ("<5", None, 5.0),
        ("≤ 2", None, 2.0),
        ("> 150", 150.0, None),
        ("up to 10", None, 10.0),
        ("Upto 15", None, 15.0),
        ("1,50,000 - 4,50,000", 150000.0, 450000.0),
        ("13.0 - 17.0 g/dL", 13.0, 17.0),
        ("Adult: 40-80", 40.0, 80.0),
        ("0.40-0.50", 0.4, 0.5),
        ("4,0 - 11,0", None, None),
    ],
)
def test_find_ranges(text: str, low: float | None, high: float | None) -> None:
    ranges = find_ranges(text)
    if low is None and high is None:
        # decimal commas inside a range are ambiguous with grouping; such ranges are not guessed
        assert all(r.low is None or r.low <= (r.high or r.low) for r in ranges)
        return
    assert ranges, text
    assert (ranges[0].low, ranges[0].high) == (low, high)


def test_inverted_range_is_not_a_range() -> None:
    assert find_ranges("17 - 13") == []


def test_sex_specific_ranges() -> None:
    ranges = find_ranges("M: 13.0-17.0 F: 12.0-15.0")
    assert [(r.low, r.high, r.label) for r in ranges] == [(13.0, 17.0, "male"), (12.0, 15.0, "female")]
    assert choose_range(ranges, "female").low == 12.0
    assert choose_range(ranges, "male").high == 17.0
    assert choose_range(ranges, None) is None, "never pick a sex-specific range for an unknown sex"


def test_trailing_decimal_point_means_a_lost_digit() -> None:
    parsed = parse_number("4.")
    assert parsed is not None and parsed.value == 4.0 and parsed.truncated
    assert not parse_number("13.5.").truncated  # punctuation after a complete number


@pytest.mark.parametrize(
    ("text", "value"), [("16:8", 16.8), ("42:8", 42.8), ("17:81", 17.81), ("65:8", 65.8)]
)
def test_a_colon_for_the_decimal_point_is_read_and_reported(text: str, value: float) -> None:
    n = parse_number(text)
    assert n is not None and n.value == pytest.approx(value)
    assert n.ocr_fixed and "colon read as decimal point" in n.notes
    assert "letter read as digit" not in n.notes


@pytest.mark.parametrize("text", ["10:30:00", "1:2:3", "12345:6", ":5", "5:"])
def test_times_and_stray_colons_are_not_numbers(text: str) -> None:
    n = parse_number(text)
    assert n is None or not n.ocr_fixed
