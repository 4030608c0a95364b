"""Noisy-page clean-up: despeckling and rules broken into dashes (no OCR involved)."""

from __future__ import annotations

import cv2
import numpy as np

from fhir_gateway.ocr.preprocess import despeckle, remove_broken_rules


def _page() -> np.ndarray:
    img = np.full((120, 600), 255, np.uint8)
    cv2.putText(img, "Hb 12.5 g/dL", (20, 60), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 0, 2)
    for x in range(0, 600, 30):  # a table rule broken into 18-px dashes by the fax
        img[78:80, x : x + 18] = 0
    return img


def test_broken_rule_goes_and_the_decimal_point_stays() -> None:
    page = _page()
    out = remove_broken_rules(page, text_px=18.0)
    assert (out[76:82] == 255).all()  # no dash left
    text = slice(30, 70)
    assert (out[text] == page[text]).all()  # letters, digits and the decimal point untouched


def test_page_without_rules_is_left_alone() -> None:
    page = _page()
    page[76:82] = 255
    assert (remove_broken_rules(page, text_px=18.0) == page).all()


def test_despeckle_removes_grey_noise_but_keeps_thin_strokes() -> None:
    page = _page()
    page[76:82] = 255
    cv2.line(page, (300, 90), (500, 110), 0, 1)  # a one-pixel stroke, as fax leaves them
    rng = np.random.default_rng(0)
    noisy = np.clip(page + rng.normal(0, 20, page.shape), 0, 255).astype(np.uint8)
    out = despeckle(noisy)
    assert set(np.unique(out)) <= {0, 255}
    blank = out[0:20]  # paper only: the specks are gone
    assert (blank == 255).mean() > 0.999
    stroke = out[95:106, 350:450]
    assert (stroke == 0).any(axis=0).mean() > 0.8  # the thin stroke survives along its length
    assert (cv2.medianBlur(noisy, 3)[95:106, 350:450] < 128).any(axis=0).mean() < 0.8  # unlike a median


def _table() -> np.ndarray:
    """A results table: one name column and three short columns far apart (sharp column gaps)."""
    img = np.full((1400, 1000), 255, np.uint8)
    for i, y in enumerate(range(100, 1300, 40)):
        for x, text in ((40, f"Analyte name {i}"), (420, "12.5"), (600, "g/dL"), (800, "11-16")):
            cv2.putText(img, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 0.7, 0, 2, cv2.LINE_AA)
    return img


def test_fax_is_bilevel_and_a_printed_page_is_not() -> None:
    from fhir_gateway.ocr.preprocess import is_bilevel

    assert not is_bilevel(cv2.GaussianBlur(_table(), (5, 5), 1.5))  # soft grey stroke edges
    fax = np.where(_table() < 128, 0, 255).astype(np.uint8)
    assert is_bilevel(fax)
    assert not is_bilevel(np.full((200, 200), 255, np.uint8))  # no ink at all


def test_table_columns_do_not_make_an_upright_page_look_turned() -> None:
    from fhir_gateway.ocr.preprocess import _ink, _profile_score, lines_are_vertical

    page = _table()
    mask = _ink(page)
    assert _profile_score(mask, 0) > 1.3 * _profile_score(mask, 1)  # the column gaps' profile wins
    assert not lines_are_vertical(page)  # but the text lines lie horizontally


def test_turned_text_page_is_still_found() -> None:
    from fhir_gateway.ocr.preprocess import lines_are_vertical

    rng = np.random.default_rng(1)
    words = ["results", "relate", "only", "to", "the", "sample", "tested", "report", "haemoglobin"]
    img = np.full((1400, 1000), 255, np.uint8)
    for y in range(100, 1300, 40):
        text = " ".join(rng.choice(words, 5))
        cv2.putText(img, text, (40, y), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 0, 2, cv2.LINE_AA)
    assert not lines_are_vertical(img)
    assert lines_are_vertical(cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE))


def test_turned_page_with_little_line_evidence_is_still_turned() -> None:
    """A turned page whose closed-up lines are few and short (small dense text) keeps the
    projection's verdict; the line check only vetoes on strong upright evidence."""
    from bench.synthetic_reports import generate
    from fhir_gateway.ocr.preprocess import _ink, _line_ink, _small, lines_are_vertical

    rep = generate(9144)  # rotate270: read as 0 values when the line check overruled it
    img = cv2.imdecode(np.frombuffer(rep.to_image_bytes("PNG"), np.uint8), cv2.IMREAD_GRAYSCALE)
    mask = _ink(_small(img, 700)[0])
    assert _line_ink(mask) > _line_ink(np.ascontiguousarray(mask.T))  # the weak evidence points the wrong way
    assert lines_are_vertical(img)


def test_rules_go_but_blurred_text_that_merges_into_a_long_run_stays() -> None:
    """On a blurred or coarse page a word's letters merge along the middle of the line into an
    ink run as long as a rule; the rule remover used to white out such names."""
    from fhir_gateway.ocr.preprocess import remove_rules

    img = np.full((140, 700), 255, np.uint8)
    cv2.putText(img, "Mean Corpuscular Hemoglobin", (10, 50), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 0, 2)
    img[100:102, 10:690] = 0  # a table rule
    blurred = cv2.GaussianBlur(img, (0, 0), 2.5)
    px = 16.0  # the letters' height; blurred together they are too few to measure
    _, ink = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    longest = max(_longest_run(row > 0) for row in ink[25:60])
    assert longest > 6 * px  # the precondition: the blurred name holds a rule-long run
    out = remove_rules(blurred, px)
    assert (out[96:106, 30:670] > 200).all()  # the rule is gone (its blurred ends may stay grey)
    name = slice(20, 60)
    assert (out[name] == blurred[name]).all()  # the name is untouched


def _longest_run(on: np.ndarray) -> int:
    best = cur = 0
    for v in on:
        cur = cur + 1 if v else 0
        best = max(best, cur)
    return best


def test_table_grid_goes_entirely_ends_and_crossings_included() -> None:
    """Telling rules from text must not leave dots where rules cross or end: OCR reads them
    as "_" or "." glued to the cell ("_MONO%")."""
    from fhir_gateway.ocr.preprocess import remove_rules

    img = np.full((200, 700), 255, np.uint8)
    for y in (40, 100, 160):
        img[y : y + 2, 11:690] = 0
    for x in (11, 300, 688):
        img[40:162, x : x + 2] = 0
    cv2.putText(img, "MONO% 3.5", (30, 85), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 0, 2)
    out = remove_rules(img, 16.0)
    grid = img.copy()
    grid[50:95, 20:290] = 255  # all but the text
    assert (out[grid == 0] == 255).all()
    assert (out[60:95, 25:200] == img[60:95, 25:200]).all()  # the text stays
