"""Tesseract in-process (tesserocr) and as a process per image (pytesseract): same words, same
places; a page that takes too long is an unreadable document, not a server fault; the backend
falls back to the CLI when the API or the model is missing."""

from __future__ import annotations

import difflib
import multiprocessing

import numpy as np
import pytest

from bench.synthetic_reports import generate
from fhir_gateway.ocr import tesseract_api
from fhir_gateway.ocr.engines import TesseractEngine, _default_backend
from fhir_gateway.ocr.errors import UnreadableDocument
from fhir_gateway.ocr.preprocess import preprocess


@pytest.fixture(scope="module")
def page() -> np.ndarray:
    gray = np.asarray(generate(5, degraded=False).render_page(0).convert("L"))
    return preprocess(gray)[0]


def test_the_api_is_what_this_machine_uses() -> None:
    """`make install` provides both the wheel and the model; a silent fall-back would hide it."""
    assert tesseract_api.available()
    assert TesseractEngine().backend == "api"


def test_both_backends_read_the_same_words_at_the_same_places(page: np.ndarray) -> None:
    api = TesseractEngine(bands=1, backend="api").read(page)
    cli = TesseractEngine(bands=1, backend="cli").read(page)
    assert len(api) > 150
    # the wheel's Tesseract may be a newer release than the system's: allow a few words apart
    match = difflib.SequenceMatcher(None, [w.text for w in cli], [w.text for w in api], autojunk=False)
    assert match.ratio() >= 0.95
    at_cli = {w.text: (w.x0, w.y0, w.x1, w.y1) for w in cli}
    for w in api:
        if w.text in at_cli and sum(x.text == w.text for x in api) == 1:
            assert np.allclose((w.x0, w.y0, w.x1, w.y1), at_cli[w.text], atol=3), w.text
    assert all(0.0 <= w.conf <= 1.0 for w in api)
    numbers = [w.text for w in api if any(c.isdigit() for c in w.text)]
    assert sum(n in {w.text for w in cli} for n in numbers) >= 0.97 * len(numbers)


def test_a_page_over_its_time_is_an_unreadable_document(page: np.ndarray) -> None:
    with pytest.raises(UnreadableDocument, match="in time"):
        TesseractEngine(bands=1, backend="api", timeout=0.001).read(page)
    # the engine object that timed out is reused and reads normally afterwards
    assert len(TesseractEngine(bands=1, backend="api").read(page[:400])) > 5


def _words_in_child(page: np.ndarray) -> int:
    return len(TesseractEngine(bands=2, backend="api").read(page))


def test_a_forked_worker_reads_with_its_own_engines(page: np.ndarray) -> None:
    """The parent's API objects are not shared with a fork (the OCR pool's forkserver children
    inherit none, but a plain fork of a process that has read a page must work too)."""
    here = len(TesseractEngine(bands=2, backend="api").read(page))
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply(_words_in_child, (page,)) == here


def test_backend_choice_and_fall_back(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pydantic import ValidationError

    from fhir_gateway.config import Settings

    monkeypatch.setenv("GATEWAY_TESSERACT_BACKEND", "cli")
    assert _default_backend() == "cli" and Settings().tesseract_backend == "cli"
    monkeypatch.setenv("GATEWAY_TESSERACT_BACKEND", "gpu")
    with pytest.raises(ValidationError):
        Settings()
    monkeypatch.delenv("GATEWAY_TESSERACT_BACKEND")
    # no English model anywhere: the CLI (which then reports its own error) rather than a crash
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    monkeypatch.setattr(tesseract_api, "_TESSDATA_DIRS", ())
    tesseract_api.tessdata_dir.cache_clear()
    tesseract_api.available.cache_clear()
    try:
        assert _default_backend() == "cli"
    finally:
        monkeypatch.undo()
        tesseract_api.tessdata_dir.cache_clear()
        tesseract_api.available.cache_clear()
    assert _default_backend() == "api"
