"""OCR engines behind one small interface: an image in, words with boxes and 0..1 confidences out.

Tesseract gives word-level boxes. RapidOCR (PP-OCRv4 ONNX models shipped in the wheel) gives
text-line boxes, which are usually one table cell; the layout code treats them as words.
"""

from __future__ import annotations

import os
import threading
from typing import Protocol, runtime_checkable

import numpy as np

from fhir_gateway.ocr.errors import UnreadableDocument
from fhir_gateway.ocr.textfix import fix_text
from mappings.rows import Word

# Tesseract's OpenMP threads make it ~10-20x slower on a busy 2-core machine (measured: 0.5 s vs
# 12 s per page); we parallelise across pages/processes instead. A deployment may override it.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


@runtime_checkable
class OcrEngine(Protocol):
    name: str

    def read(self, image: np.ndarray) -> list[Word]:
        """Recognise a grayscale page; boxes are in the image's pixel coordinates."""
        ...


class TesseractEngine:
    """Tesseract 5 LSTM via pytesseract `image_to_data`."""

    name = "tesseract"

    def __init__(self, psm: int = 6, timeout: float = 60.0) -> None:
        # psm 6 (one uniform block) keeps every table cell; the row builder re-derives lines from
        # geometry anyway, so Tesseract's own block/line segmentation is not needed. (Other page
        # segmentation modes were not benchmarked yet.)
        self.psm = psm
        self.timeout = timeout

    def _data(self, image: np.ndarray) -> dict[str, list[object]]:
        import pytesseract

        return pytesseract.image_to_data(
            image,
            lang="eng",
            config=f"--oem 1 --psm {self.psm}",
            output_type=pytesseract.Output.DICT,
            timeout=self.timeout,
        )

    def read(self, image: np.ndarray) -> list[Word]:
        import pytesseract

        try:
            data = self._data(image)
        except pytesseract.TesseractError as exc:
            raise UnreadableDocument("OCR engine could not read this page") from exc
        except RuntimeError as exc:  # pytesseract reports its timeout as a plain RuntimeError
            # a page that takes a minute is hostile or broken input, not a server fault
            raise UnreadableDocument("OCR did not finish in time for this page") from exc
        words: list[Word] = []
        for text, conf, x, y, w, h in zip(
            data["text"], data["conf"], data["left"], data["top"], data["width"], data["height"], strict=True
        ):
            c = float(conf)
            if c < 0 or not str(text).strip():
                continue
            words.append(
                Word(fix_text(str(text).strip()), round(c / 100.0, 4), int(x), int(y), int(x + w), int(y + h))
            )
        return words


class RapidOcrEngine:
    """RapidOCR (PaddleOCR PP-OCRv4 models on onnxruntime, CPU)."""

    name = "rapidocr"
    _lock = threading.Lock()
    _shared: object | None = None

    def __init__(self, max_side_len: int = 2600) -> None:
        self.max_side_len = max_side_len

    def _engine(self) -> object:
        # The ONNX sessions take ~0.1 s and ~100 MB to create: share one per process.
        with RapidOcrEngine._lock:
            if RapidOcrEngine._shared is None:
                from rapidocr_onnxruntime import RapidOCR

                # one intra-op thread: like Tesseract's OpenMP, onnxruntime's thread pool loses badly on
                # a shared machine (measured 1.75 s vs 3.1 s for 60 crops); scale with processes instead
                RapidOcrEngine._shared = RapidOCR(
                    max_side_len=self.max_side_len,
                    print_verbose=False,
                    intra_op_num_threads=1,
                    inter_op_num_threads=1,
                )
            return RapidOcrEngine._shared

    def read(self, image: np.ndarray) -> list[Word]:
        engine = self._engine()
        img = image if image.ndim == 3 else np.stack([image] * 3, axis=-1)
        result, _ = engine(img, use_cls=False)  # type: ignore[operator]
        words: list[Word] = []
        for quad, text, score in result or []:
            pts = np.asarray(quad, dtype=np.float32)
            t = fix_text(str(text).strip())
            if not t:
                continue
            words.append(
                Word(
                    t,
                    round(float(score), 4),
                    int(pts[:, 0].min()),
                    int(pts[:, 1].min()),
                    int(pts[:, 0].max()),
                    int(pts[:, 1].max()),
                )
            )
        return words

    def upside_down(self, crops: list[np.ndarray]) -> list[tuple[bool, float]]:
        """PP-OCR's 0/180 line classifier: (turned by 180 degrees, score) per text-line crop."""
        engine = self._engine()
        imgs = [c if c.ndim == 3 else np.stack([c] * 3, axis=-1) for c in crops]
        _, res, _ = engine.text_cls(imgs)  # type: ignore[attr-defined]
        return [("180" in str(label), float(score)) for label, score in res]

    def recognise(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """Recognition only, on text-line crops (no detection): the cheap cross-check path."""
        engine = self._engine()
        imgs = [c if c.ndim == 3 else np.stack([c] * 3, axis=-1) for c in crops]
        res, _ = engine.text_rec(imgs)  # type: ignore[attr-defined]
        return [(fix_text(str(t)), float(s)) for t, s in res]


ENGINES = ("tesseract", "rapidocr", "combined")


def get_engine(name: str) -> OcrEngine:
    if name == "tesseract":
        return TesseractEngine()
    if name == "rapidocr":
        return RapidOcrEngine()
    raise ValueError(f"unknown OCR engine {name!r}; choose one of {ENGINES}")
