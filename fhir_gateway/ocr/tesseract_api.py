"""Tesseract in-process through its C++ API (tesserocr), with the model loaded once per thread.

`pytesseract` starts a `tesseract` process per image: ~0.1 s of CPU to load eng.traineddata each
time, plus the page written as PNG to a temporary file and TSV read back. A page read in two bands
paid that twice. Here each OCR thread keeps one `PyTessBaseAPI` (~20 MB) and hands it the
grayscale pixels directly; recognition releases the GIL, so bands still run in parallel.

The result has the shape of `pytesseract.image_to_data(..., output_type=DICT)` for the fields
the engine uses, so both backends feed the same word builder.
"""

from __future__ import annotations

import os
import queue
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

# Where Debian, Ubuntu, Fedora/Alpine and source builds put eng.traineddata (tesseract-ocr-eng).
_TESSDATA_DIRS = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
)
FIELDS = ("text", "conf", "left", "top", "width", "height")


class RecognitionTimeout(RuntimeError):
    """Tesseract gave up on the page after the allowed time."""


class TesseractUnavailable(Exception):
    """The model could not be loaded: a deployment fault, never the document's (not a
    RuntimeError, which the engine reports as an unreadable page)."""


@lru_cache(maxsize=1)
def tessdata_dir() -> str | None:
    """TESSDATA_PREFIX (Tesseract's own variable) if it holds the English model, else the usual
    system places; None when there is none (the engine then falls back to the CLI)."""
    prefix = os.environ.get("TESSDATA_PREFIX")
    for d in ((prefix,) if prefix else ()) + _TESSDATA_DIRS:
        if (Path(d) / "eng.traineddata").is_file():
            return d
    return None


@lru_cache(maxsize=1)
def available() -> bool:
    try:
        import tesserocr  # noqa: F401
    except ImportError:
        return False
    return tessdata_dir() is not None


class _Pool:
    """Idle API objects of this process for one page segmentation mode. An object serves one
    thread at a time (Tesseract's API is not re-entrant). Pools are per process id: a forked
    child starts empty rather than share the parent's native objects."""

    def __init__(self, psm: int) -> None:
        self.psm = psm
        self.idle: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def take(self) -> Any:
        try:
            return self.idle.get_nowait()
        except queue.Empty:
            import tesserocr

            try:
                return tesserocr.PyTessBaseAPI(
                    path=tessdata_dir() or "", lang="eng", psm=self.psm, oem=tesserocr.OEM.LSTM_ONLY
                )
            except RuntimeError as exc:
                raise TesseractUnavailable("could not load the Tesseract model") from exc

    def give_back(self, api: Any) -> None:
        self.idle.put(api)


_pools: dict[tuple[int, int], _Pool] = {}
_pools_lock = threading.Lock()


def _pool(psm: int) -> _Pool:
    key = (os.getpid(), psm)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            for stale in [k for k in _pools if k[0] != key[0]]:
                del _pools[stale]
            pool = _pools[key] = _Pool(psm)
        return pool


def image_to_data(image: np.ndarray, psm: int, timeout: float) -> dict[str, list[Any]]:
    """Word texts, confidences (0-100) and boxes of a grayscale uint8 page."""
    import tesserocr

    grey = np.ascontiguousarray(image if image.ndim == 2 else image.mean(axis=2).astype(np.uint8))
    h, w = grey.shape
    pool = _pool(psm)
    api = pool.take()
    try:
        api.SetImageBytes(grey.tobytes(), w, h, 1, w)
        if not api.Recognize(int(timeout * 1000)):
            raise RecognitionTimeout("Tesseract did not finish in time")
        out: dict[str, list[Any]] = {k: [] for k in FIELDS}
        level = tesserocr.RIL.WORD
        iterator = api.GetIterator()
        for word in tesserocr.iterate_level(iterator, level):
            text = word.GetUTF8Text(level)
            box = word.BoundingBox(level)
            if text is None or box is None:
                continue
            x0, y0, x1, y1 = box
            out["text"].append(text)
            out["conf"].append(word.Confidence(level))
            out["left"].append(x0)
            out["top"].append(y0)
            out["width"].append(x1 - x0)
            out["height"].append(y1 - y0)
        return out
    finally:
        api.Clear()
        pool.give_back(api)
