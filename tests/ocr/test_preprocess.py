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
