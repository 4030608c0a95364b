"""OCR engines behind one small interface: an image in, words with boxes and 0..1 confidences out.

Tesseract gives word-level boxes. RapidOCR (PP-OCRv4 ONNX models shipped in the wheel) gives
text-line boxes, which are usually one table cell; the layout code treats them as words.
"""

from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, runtime_checkable

import numpy as np

from fhir_gateway.ocr.errors import UnreadableDocument
from fhir_gateway.ocr.textfix import fix_text
from mappings.rows import Word

# Tesseract's OpenMP threads make it ~10-20x slower on a busy 2-core machine (measured: 0.5 s vs
# 12 s per page); we parallelise across pages/processes instead. A deployment may override it.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


# Pages shorter than this (px) are read whole: two processes' start-up would cost more than
# they save.
MIN_BAND_PAGE_HEIGHT = 1200


def _default_bands() -> int:
    """GATEWAY_OCR_BANDS (validated by Settings at start-up; inherited by the OCR processes),
    else one per core, at most 4."""
    raw = os.environ.get("GATEWAY_OCR_BANDS", "0")
    asked = int(raw) if raw.strip().isdigit() else 0
    return max(1, min(asked or os.cpu_count() or 1, 4))


def band_cuts(image: np.ndarray, bands: int, min_gap: int = 10) -> list[int]:
    """Rows at which to cut `image` into `bands` horizontal bands holding similar amounts of ink
    (Tesseract's time follows the text, not the height), each cut in the middle of at least
    `min_gap` blank rows, so no text line is split and none touches a band's edge (Tesseract
    misreads glyphs at the border); [] when the page is short, one band is asked for, or no
    such gap lies near an ideal cut. A blank row may hold a few dark pixels (under a tenth of a
    text row's): the specks a noisy page keeps after despeckling would otherwise close every gap."""
    h = image.shape[0]
    if bands < 2 or h < MIN_BAND_PAGE_HEIGHT:
        return []
    grey = image if image.ndim == 2 else image.mean(axis=2)
    ink = (grey < 128).sum(axis=1)
    total = int(ink.sum())
    if total == 0:
        return []
    # a text row's ink is ~100-250 px on A4 pages; specks leave ~1-20 px in the gaps
    blank = ink <= max(3.0, 0.08 * float(np.percentile(ink, 90)))
    # runs of blank rows: starts and ends from the edges of the 0/1 blank signal
    edges = np.diff(np.concatenate(([0], blank.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    keep = (ends - starts >= min_gap) & (starts > 0) & (ends < h)  # not the page margins
    middles = (starts[keep] + ends[keep]) // 2
    if middles.size == 0:
        return []
    cumulative = np.cumsum(ink)
    cuts: list[int] = []
    for i in range(1, bands):
        ideal = int(np.searchsorted(cumulative, total * i / bands))
        nearest = int(middles[np.argmin(np.abs(middles - ideal))])
        if abs(nearest - ideal) > h // (4 * bands):
            return []
        cuts.append(nearest)
    return cuts if all(b > a for a, b in itertools.pairwise([0, *cuts, h])) else []


@runtime_checkable
class OcrEngine(Protocol):
    name: str

    def read(self, image: np.ndarray) -> list[Word]:
        """Recognise a grayscale page; boxes are in the image's pixel coordinates."""
        ...


def _default_backend() -> str:
    """GATEWAY_TESSERACT_BACKEND (validated by Settings): "api" (in-process, see tesseract_api)
    or "cli" (pytesseract, one `tesseract` process per image). Default: the API when tesserocr and
    the English model are there."""
    from fhir_gateway.ocr import tesseract_api

    asked = os.environ.get("GATEWAY_TESSERACT_BACKEND", "").strip().lower()
    if asked == "cli" or not tesseract_api.available():
        return "cli"
    return "api"


class TesseractEngine:
    """Tesseract 5 LSTM: word boxes and confidences, in-process (tesserocr) or via pytesseract
    `image_to_data`."""

    name = "tesseract"

    def __init__(
        self, psm: int = 6, timeout: float = 60.0, bands: int | None = None, backend: str | None = None
    ) -> None:
        # psm 6 (one uniform block) keeps every table cell; the row builder re-derives lines from
        # geometry anyway, so Tesseract's own block/line segmentation is not needed. (Other page
        # segmentation modes were not benchmarked yet.)
        self.psm = psm
        self.timeout = timeout
        # Tesseract runs single-threaded (OMP_THREAD_LIMIT above); a tall page is cut at blank
        # rows into this many bands, read by as many Tesseract threads (or processes) at once, so
        # one page uses every core. Under load the OCR pool already fills the cores and this costs
        # little.
        self.bands = bands if bands is not None else _default_bands()
        self.backend = backend or _default_backend()

    def _data(self, image: np.ndarray) -> dict[str, list[object]]:
        if self.backend == "api":
            from fhir_gateway.ocr import tesseract_api

            return tesseract_api.image_to_data(image, self.psm, self.timeout)
        import pytesseract

        return pytesseract.image_to_data(
            image,
            lang="eng",
            config=f"--oem 1 --psm {self.psm}",
            output_type=pytesseract.Output.DICT,
            timeout=self.timeout,
        )

    def _banded_data(self, image: np.ndarray) -> dict[str, list[object]]:
        cuts = band_cuts(image, self.bands)
        if not cuts:
            return self._data(image)
        edges = [0, *cuts, image.shape[0]]
        bands = [image[a:b] for a, b in itertools.pairwise(edges)]
        # each thread waits on a `tesseract` process, or runs the API, which releases the GIL
        with ThreadPoolExecutor(max_workers=len(bands)) as pool:
            parts = list(pool.map(self._data, bands))
        merged: dict[str, list[object]] = {k: [] for k in ("text", "conf", "left", "top", "width", "height")}
        for top, part in zip(edges[:-1], parts, strict=True):
            for k, values in merged.items():
                values.extend(part[k] if k != "top" else [int(v) + top for v in part[k]])
        return merged

    def read(self, image: np.ndarray) -> list[Word]:
        import pytesseract

        try:
            data = self._banded_data(image)
        except pytesseract.TesseractError as exc:
            raise UnreadableDocument("OCR engine could not read this page") from exc
        except RuntimeError as exc:  # pytesseract's timeout, tesseract_api.RecognitionTimeout
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
                RapidOcrEngine._shared.text_rec = _ThreadedRecogniser(RapidOcrEngine._shared.text_rec)  # type: ignore[attr-defined]
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
        rec = self._engine().text_rec  # type: ignore[attr-defined]
        imgs = [c if c.ndim == 3 else np.stack([c] * 3, axis=-1) for c in crops]
        res, _ = rec(imgs)
        return [(fix_text(str(t)), float(s)) for t, s in res]


_BATCHES_PER_CALL = 4


class _ThreadedRecogniser:
    """RapidOCR's recogniser with its batches run on several threads (onnxruntime releases the
    GIL, and a session may run concurrently). Crops are sorted by width/height as it does, and
    each batch is padded to its widest. Used by the cross-check and by RapidOCR's own full-page
    read alike."""

    def __init__(self, rec: Any) -> None:
        self._rec = rec
        self.rec_batch_num = rec.rec_batch_num

    def __call__(self, img_list: Any, return_word_box: bool = False) -> tuple[list[Any], float]:
        imgs = [img_list] if isinstance(img_list, np.ndarray) else list(img_list)
        threads = _default_bands()
        if not imgs:
            return self._rec(imgs, return_word_box)
        # Batches of a quarter of the crops (at most its own size): a page's 5-12 crops then make
        # 4 batches that any number of threads up to 4 share evenly, where batches of 6 left one
        # thread idle or with the smaller half. Formed alike whatever the thread count, so the
        # result does not depend on it.
        size = max(1, min(int(self.rec_batch_num), -(-len(imgs) // _BATCHES_PER_CALL)))
        order = np.argsort(np.array([img.shape[1] / float(img.shape[0]) for img in imgs]))  # as it does
        batches = [[int(i) for i in order[b : b + size]] for b in range(0, len(order), size)]
        with ThreadPoolExecutor(max_workers=max(1, min(threads, len(batches)))) as pool:
            done = list(pool.map(lambda batch: self._rec([imgs[i] for i in batch], return_word_box), batches))
        out: list[Any] = [("", 0.0)] * len(imgs)
        for batch, (res, _) in zip(batches, done, strict=True):
            for i, r in zip(batch, res, strict=True):
                out[i] = r
        return out, sum(elapsed for _, elapsed in done)


ENGINES = ("tesseract", "rapidocr", "combined")


def get_engine(name: str) -> OcrEngine:
    if name == "tesseract":
        return TesseractEngine()
    if name == "rapidocr":
        return RapidOcrEngine()
    raise ValueError(f"unknown OCR engine {name!r}; choose one of {ENGINES}")
