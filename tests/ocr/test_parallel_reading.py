"""One page on several cores: Tesseract on bands cut at blank rows, RapidOCR's cross-check
batches on threads. Both must give what one sequential pass gives."""

from __future__ import annotations

import numpy as np
import pytest

from bench.synthetic_reports import generate
from fhir_gateway.ocr.engines import MIN_BAND_PAGE_HEIGHT, RapidOcrEngine, TesseractEngine, band_cuts
from fhir_gateway.ocr.preprocess import preprocess
from fhir_gateway.ocr.reader import read_report


def _page_with_lines(height: int, lines: list[tuple[int, int]]) -> np.ndarray:
    page = np.full((height, 800), 255, np.uint8)
    for top, bottom in lines:
        page[top:bottom, 50:750:3] = 0  # a text-like line: dark columns with gaps
    return page


def test_cuts_fall_on_blank_rows_and_split_the_ink_evenly() -> None:
    lines = [(100 + 40 * i, 120 + 40 * i) for i in range(40)]  # rows 100..1680
    page = _page_with_lines(2400, lines)
    (cut,) = band_cuts(page, 2)
    assert not (page[cut] < 128).any()
    assert all(not (top <= cut < bottom) for top, bottom in lines)
    above, below = (page[:cut] < 128).sum(), (page[cut:] < 128).sum()
    assert abs(int(above) - int(below)) <= 0.1 * (above + below)  # by ink, not by height (1200)
    assert cut < 1000


def test_specks_left_by_despeckling_do_not_close_the_gaps() -> None:
    """A noisy page keeps a few dark pixels in every gap; it is still cut, between lines."""
    lines = [(100 + 40 * i, 120 + 40 * i) for i in range(40)]
    page = _page_with_lines(2400, lines)
    rng = np.random.default_rng(7)
    rows, cols = rng.integers(0, 2400, 4000), rng.integers(0, 800, 4000)
    page[rows, cols] = 0  # ~1.7 specks per row, against ~233 dark pixels in a text row
    (cut,) = band_cuts(page, 2)
    assert all(not (top - 2 <= cut < bottom + 2) for top, bottom in lines)
    assert (page[cut] < 128).sum() <= 8


def test_no_cut_on_short_pages_dense_pages_or_one_band() -> None:
    lines = [(100 + 40 * i, 120 + 40 * i) for i in range(40)]
    assert band_cuts(_page_with_lines(2400, lines), 1) == []
    assert band_cuts(_page_with_lines(MIN_BAND_PAGE_HEIGHT - 1, lines[:20]), 2) == []
    solid = np.full((2400, 800), 255, np.uint8)
    solid[50:2350, 100:700:3] = 0  # ink on every row near the middle: nowhere safe to cut
    assert band_cuts(solid, 2) == []


@pytest.fixture(scope="module")
def page() -> np.ndarray:
    rep = generate(3, degraded=False)
    gray = np.asarray(rep.render_page(0).convert("L"))
    img, _ = preprocess(gray)
    assert band_cuts(img, 2), "the fixture page must be tall enough to be banded"
    return img


def test_banded_tesseract_reads_the_same_words_at_the_same_places(page: np.ndarray) -> None:
    whole = TesseractEngine(bands=1).read(page)
    banded = TesseractEngine(bands=2).read(page)
    key = lambda w: (w.text, w.x0, w.y0, w.x1, w.y1)  # noqa: E731
    same = set(map(key, whole)) & set(map(key, banded))
    assert len(same) >= 0.97 * len(whole) and len(banded) >= 0.97 * len(whole)


def test_threaded_recognition_equals_one_call(page: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    from fhir_gateway.ocr.probe import line_crops

    crops = line_crops(page, 20.0, limit=40)
    assert len(crops) > 12  # several batches of six
    engine = RapidOcrEngine()
    monkeypatch.setenv("GATEWAY_OCR_BANDS", "1")
    one = engine.recognise(crops)
    monkeypatch.setenv("GATEWAY_OCR_BANDS", "2")
    assert engine.recognise(crops) == one


def test_threaded_full_page_read_equals_one_call(page: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    """RapidOCR's own detection + recognition (the combined engine's fallback) goes through the
    same threaded recogniser."""
    part = page[: page.shape[0] // 3]  # enough lines for several batches, cheaper to detect
    engine = RapidOcrEngine()
    monkeypatch.setenv("GATEWAY_OCR_BANDS", "1")
    one = engine.read(part)
    assert len(one) > 12
    monkeypatch.setenv("GATEWAY_OCR_BANDS", "2")
    assert engine.read(part) == one


def test_report_reads_the_same_on_one_core_and_on_two(monkeypatch: pytest.MonkeyPatch) -> None:
    data = generate(3, degraded=False).to_image_bytes("PNG")

    def values(bands: str) -> list[tuple[str, float]]:
        monkeypatch.setenv("GATEWAY_OCR_BANDS", bands)
        return sorted((a.key, a.value_canonical) for a in read_report(data, "image/png").analytes)

    assert values("2") == values("1")


def test_bands_setting_is_validated_at_start_up_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from fhir_gateway.config import Settings
    from fhir_gateway.ocr.engines import _default_bands

    monkeypatch.setenv("GATEWAY_OCR_BANDS", "9")
    with pytest.raises(ValidationError):
        Settings()
    monkeypatch.setenv("GATEWAY_OCR_BANDS", "3")
    assert Settings().ocr_bands == 3 and _default_bands() == 3
    monkeypatch.setenv("GATEWAY_OCR_BANDS", "1")
    assert TesseractEngine().bands == 1
