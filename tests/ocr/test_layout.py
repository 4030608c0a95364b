"""Rows and cells from word boxes (no OCR involved)."""

from __future__ import annotations

from fhir_gateway.ocr.layout import build_rows
from mappings.rows import Word


def _line(y: int, items: list[tuple[int, str]], h: int = 20, dy_per_px: float = 0.0) -> list[Word]:
    out = []
    for x, text in items:
        w = 12 * len(text)
        yy = y + int(x * dy_per_px)
        out.append(Word(text, 0.9, x, yy, x + w, yy + h))
    return out


def test_grid_row_cells() -> None:
    words = _line(
        100,
        [
            (40, "Hemoglobin"),
            (400, "11.2"),
            (500, "L"),
            (600, "g/dL"),
            (800, "13.0"),
            (860, "-"),
            (880, "17.0"),
        ],
    )
    (row,) = build_rows(words)
    assert row.cells == ("Hemoglobin", "11.2", "L", "g/dL", "13.0 - 17.0")


def test_rows_follow_slight_skew_and_keep_order() -> None:
    # 1.5 % slope: over 900 px the baseline drifts more than half a line height
    words = _line(100, [(40, "Hb"), (300, "13.5"), (600, "g/dL"), (900, "12-16")], dy_per_px=0.015)
    words += _line(140, [(40, "MCV"), (300, "85.0"), (600, "fL"), (900, "80-100")], dy_per_px=0.015)
    rows = build_rows(words)
    assert [r.cells[0] for r in rows] == ["Hb", "MCV"]
    assert rows[0].cells[-1] == "12-16" and rows[1].cells[-1] == "80-100"


def test_two_analyte_columns_are_split() -> None:
    words = _line(
        100, [(40, "Hemoglobin"), (300, "13.5"), (380, "g/dL"), (700, "MCV"), (900, "85.0"), (980, "fL")]
    )
    rows = build_rows(words)
    assert [r.cells for r in rows] == [("Hemoglobin", "13.5", "g/dL"), ("MCV", "85.0", "fL")]


def test_unit_column_is_not_mistaken_for_a_second_analyte() -> None:
    words = _line(100, [(40, "Platelet"), (140, "Count"), (400, "250"), (600, "10^3/uL"), (800, "150-410")])
    (row,) = build_rows(words)
    assert row.cells == ("Platelet Count", "250", "10^3/uL", "150-410")


def test_header_pairs_become_separate_cells() -> None:
    words = _line(
        50,
        [
            (40, "Age/Sex:"),
            (150, "34"),
            (190, "Y"),
            (215, "/"),
            (235, "F"),
            (700, "Collected:"),
            (828, "01/02/2025"),
        ],
    )
    (row,) = build_rows(words)
    assert row.cells == ("Age/Sex: 34 Y / F", "Collected: 01/02/2025")


def test_misread_unit_before_a_range_does_not_start_a_second_analyte() -> None:
    # "g/dL" read as "gill,": what follows is the row's reference range, not a second result
    words = _line(100, [(40, "Hb"), (300, "14.0"), (600, "gill,"), (800, "12.0"), (860, "+"), (880, "16.0")])
    (row,) = build_rows(words)
    assert row.cells == ("Hb", "14.0", "gill,", "12.0 + 16.0")


def test_a_speck_at_a_rows_end_does_not_push_its_value_into_another_row() -> None:
    # seed 9268: noise gave "Lymphocytes" a "," below its baseline; the row then ran on from the
    # comma, 28.8 did not overlap it, and the value came out as a row of its own
    words = [Word("Lymphocytes", 0.97, 113, 908, 272, 944), Word(",", 0.0, 540, 939, 542, 941)]
    words += [Word("28.8", 0.88, 723, 913, 774, 934), Word("%", 0.88, 784, 913, 807, 934)]
    (row,) = build_rows(words)
    assert row.text.startswith("Lymphocytes") and "28.8" in row.text


def test_a_row_of_specks_does_not_take_the_word_it_touches() -> None:
    # seed 9080: a ";" left of "141" made a row of its own, which took the 141 (the speck lies
    # inside the number's height, so against the speck's height the overlap looked complete)
    words = [Word("Lymphocytes", 0.97, 113, 959, 276, 996), Word("37.6", 0.96, 502, 965, 555, 987)]
    words += [Word("Iron", 0.79, 891, 965, 935, 987), Word(";", 0.13, 1210, 962, 1212, 964)]
    words += [Word("141", 0.97, 1281, 947, 1324, 986), Word("ug/dL", 0.9, 1446, 965, 1515, 992)]
    rows = build_rows(words)
    assert any(r.text.startswith("Iron") and "141" in r.text for r in rows), [r.text for r in rows]


def test_a_word_that_noise_made_tall_still_continues_its_row() -> None:
    # seed 9084: noise made "Cell" 51 px tall beside "Blood"'s 22; Blood is no speck
    words = [Word("Red", 0.49, 112, 525, 152, 546), Word("Blood", 0.91, 161, 524, 217, 546)]
    words += [Word("Cell", 0.91, 227, 508, 263, 559), Word("Count", 0.91, 278, 508, 331, 559)]
    words += [Word("5.54", 0.9, 723, 525, 783, 559)]
    (row,) = build_rows(words)
    assert row.text.startswith("Red Blood Cell Count")
