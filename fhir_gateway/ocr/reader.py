"""`read_report`: document bytes -> LOINC-coded, unit-checked CBC analytes.

decode (formats, bomb guards) -> per page: PDF text layer rows, or preprocess + OCR + rows
-> all pages' rows merged -> `mappings.extract.extract_report` (catalog, units, ranges, flags,
consistency repair, header context). Only this module knows the order; each step is plain data
in, plain data out.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from fhir_gateway.ocr.checks import mark_ocr_suspects
from fhir_gateway.ocr.decode import Page, decode
from fhir_gateway.ocr.engines import ENGINES, RapidOcrEngine, TesseractEngine
from fhir_gateway.ocr.layout import build_rows
from fhir_gateway.ocr.limits import DEFAULT_LIMITS, Limits
from fhir_gateway.ocr.preprocess import DEFAULT_STEPS, PreprocessInfo, Steps, preprocess
from fhir_gateway.ocr.probe import CLEAR_VOTE, RETRY_BELOW, line_crops, upright_score, upside_down_vote
from mappings.readings import AnalyteReading, Extraction, HeaderContext, ReadingWarning
from mappings.rows import TextRow

log = logging.getLogger(__name__)

# Chosen by bench/ocr_accuracy.py (see the closing note of issue 3); overridable per deployment.
DEFAULT_ENGINE = os.environ.get("GATEWAY_OCR_ENGINE", "combined")


@dataclass
class PageInfo:
    index: int
    source: str  # "image" | "pdf-text" | "pdf-image"
    rotation: int = 0
    skew: float = 0.0
    page_found: bool = False
    scale: float = 1.0
    rows: int = 0
    mean_confidence: float | None = None


@dataclass
class ReportReading:
    analytes: list[AnalyteReading]
    context: HeaderContext
    warnings: list[ReadingWarning]
    confidence: dict[str, float]  # per analyte key, 0..1
    timings: dict[str, float]  # seconds per stage
    pages: list[PageInfo]
    engine: str
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def page_count(self) -> int:
        return len(self.pages)


def read_report(
    data: bytes,
    content_type: str,
    *,
    engine: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    steps: Steps = DEFAULT_STEPS,
) -> ReportReading:
    """Read a CBC report. Raises `fhir_gateway.ocr.errors.DocumentError` subclasses for bad input."""
    from mappings.extract import extract_report

    engine = engine or DEFAULT_ENGINE
    if engine not in ENGINES:
        raise ValueError(f"unknown OCR engine {engine!r}; choose one of {ENGINES}")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    pages = decode(data, content_type, limits)
    timings["decode"] = time.perf_counter() - t0

    rows_a: list[TextRow] = []  # primary engine (or text layer)
    rows_b: list[TextRow] = []  # cross-check reading (combined only)
    images: list[tuple[int, np.ndarray]] = []  # preprocessed pages, for the combined fallback
    infos: list[PageInfo] = []
    warnings: list[ReadingWarning] = []
    echoes: set[str] = set()  # rows the cross-check did not re-read (see combine.merge)
    for page in pages:
        info = PageInfo(index=page.index, source=page.source)
        if page.rows is not None:
            rows_a.extend(page.rows)
            rows_b.extend(page.rows)
            info.rows = len(page.rows)
        else:
            ra, rb, img, pinfo = _ocr_page(page, engine, steps, timings)
            images.append((page.index, img))
            info.rotation, info.skew, info.page_found, info.scale = (
                pinfo.rotation,
                pinfo.skew,
                pinfo.page_found,
                round(pinfo.scale, 3),
            )
            rows_a.extend(ra)
            rows_b.extend(rb)
            echoes.update(r.text for r, b in zip(ra, rb, strict=True) if b is r)
            info.rows = len(ra)
            confs = [r.confidence for r in ra if r.words]
            info.mean_confidence = round(float(np.mean(confs)), 4) if confs else None
            if info.rotation:
                warnings.append(
                    ReadingWarning(
                        "page-rotated",
                        f"page {page.index + 1} was rotated by {info.rotation} degrees before reading",
                    )
                )
        infos.append(info)

    t = time.perf_counter()
    trusted = {r.text for p in pages if p.rows is not None for r in p.rows}  # PDF text layer

    def extract(rows: list[TextRow]) -> Extraction:
        ex = extract_report(rows)
        ex.analytes = mark_ocr_suspects(ex.analytes, trusted)
        return ex

    result = extract(rows_a)
    stats: dict[str, int] = {}
    if engine == "combined" and images:
        from fhir_gateway.ocr.combine import merge, needs_full_read

        result, stats = _merged(result, extract(rows_b), merge, stats, echoes=echoes)
        result = _rechecked(result)
        result, stats = _hybrid_added(result, rows_a, rows_b, extract, merge, stats)
        timings["extract"] = time.perf_counter() - t
        if needs_full_read(result, rows_a, rows_b):
            # Tesseract's segmentation missed or garbled something: read the page(s) again with
            # RapidOCR's own text detection and let the merge rules decide per analyte.
            t = time.perf_counter()
            rows_c: list[TextRow] = [r for p in pages if p.rows is not None for r in p.rows]
            rapid = RapidOcrEngine()
            for index, img in images:
                rows_c.extend(build_rows(rapid.read(img), page=index))
            _add(timings, "ocr.rapidocr-full", time.perf_counter() - t)
            t = time.perf_counter()
            result, stats = _merged(result, extract(rows_c), merge, stats, prefix="full_")
            result = _rechecked(result)
    _add(timings, "extract", time.perf_counter() - t)
    warnings.extend(result.warnings)
    analytes, context = result.analytes, result.context
    timings["total"] = time.perf_counter() - t0
    if not any(r.text.strip() for r in rows_a):
        warnings.append(ReadingWarning("no-text", "no text could be read from the document"))
    log.info(
        "read report: %d page(s), %d analyte(s), engine=%s, %.2fs",
        len(pages),
        len(analytes),
        engine,
        timings["total"],
    )  # counts only: no PHI in logs
    return ReportReading(
        analytes=analytes,
        context=context,
        warnings=warnings,
        confidence={a.key: round(a.confidence, 4) for a in analytes},
        timings={k: round(v, 4) for k, v in timings.items()},
        pages=infos,
        engine=engine,
        stats=stats,
    )


def _merged(
    a: Extraction,
    b: Extraction,
    merge: Callable[..., Any],
    stats: dict[str, int],
    prefix: str = "",
    echoes: Collection[str] = (),
) -> tuple[Extraction, dict[str, int]]:
    analytes, merge_warnings, st = merge(a, b, echoes=echoes)
    keys = {x.key for x in analytes}
    warns = [w for w in a.warnings if w.key is None or w.key in keys or w.code.startswith("missing")]
    # a value the second reading recovered should not stay reported as missing/implausible
    warns = [w for w in warns if not (w.key in keys and w.key not in {x.key for x in a.analytes})]
    stats = {**stats, **{prefix + k: v for k, v in st.items()}}
    return Extraction(
        analytes=analytes, context=_merge_context(a.context, b.context), warnings=[*warns, *merge_warnings]
    ), stats


def _hybrid_added(
    result: Extraction,
    rows_a: list[TextRow],
    rows_b: list[TextRow],
    extract: Callable[[list[TextRow]], Extraction],
    merge: Callable[..., Any],
    stats: dict[str, int],
) -> tuple[Extraction, dict[str, int]]:
    """Analytes neither engine's reading gave, from rows that join Tesseract's names to
    RapidOCR's numbers (see `combine.hybrid_rows`). Only missing analytes are taken: where an
    engine read the analyte, its reading and the merge rules stand."""
    from fhir_gateway.ocr.combine import hybrid_rows

    rows = hybrid_rows(rows_a, rows_b)
    joined = {r.text for r, b in zip(rows, rows_b, strict=True) if r is not b}
    if not joined:
        return result, stats
    found = extract(rows)
    have = {a.key for a in result.analytes}
    new = [a for a in found.analytes if a.key not in have and a.source_text in joined]
    if not new:
        return result, stats
    extra = Extraction(analytes=new, context=found.context, warnings=[])
    merged, stats = _merged(result, extra, merge, stats, prefix="hybrid_")
    return _rechecked(merged), stats


def _rechecked(result: Extraction) -> Extraction:
    """The CBC consistency rules once more over a merged reading: each engine's reading was
    checked alone, and the merge may hold values neither had (a WBC only RapidOCR read makes
    "EOS% 29" testable against EOS# and the differential sum)."""
    from mappings.consistency import check_and_repair

    analytes, new = check_and_repair(result.analytes)
    seen = {(w.code, w.message) for w in result.warnings}
    extra = [w for w in new if (w.code, w.message) not in seen]
    return Extraction(analytes=analytes, context=result.context, warnings=[*result.warnings, *extra])


def _ocr_page(
    page: Page, engine: str, steps: Steps, timings: dict[str, float]
) -> tuple[list[TextRow], list[TextRow], np.ndarray, PreprocessInfo]:
    assert page.image is not None
    t = time.perf_counter()
    img, pinfo = preprocess(page.image, steps)
    _add(timings, "preprocess", time.perf_counter() - t)
    for k, v in pinfo.timings.items():
        _add(timings, f"preprocess.{k}", v)
    # Tesseract reads `img` (binary if the page was despeckled); RapidOCR reads `grey`, the
    # same page before binarisation (same geometry, so Tesseract's boxes crop it directly)
    grey = pinfo.grey if pinfo.grey is not None else img
    pinfo.grey = None  # not kept alive with the page info
    reader = RapidOcrEngine() if engine == "rapidocr" else TesseractEngine()
    vote = None
    if steps.orientation:
        t = time.perf_counter()
        crops = line_crops(grey, (pinfo.text_px or steps.target_text_px) * pinfo.scale)
        vote = upside_down_vote(RapidOcrEngine().upside_down(crops)) if crops else None
        if vote is not None and vote > CLEAR_VOTE:
            img, grey = _turn(img, grey)
            pinfo.rotation = (pinfo.rotation + 180) % 360
        _add(timings, "orientation-probe", time.perf_counter() - t)
    t = time.perf_counter()
    own = grey if engine == "rapidocr" else img
    words = reader.read(own)
    unclear = vote is None or abs(vote) <= CLEAR_VOTE
    if steps.orientation and unclear and upright_score(words) < RETRY_BELOW:
        words_f = reader.read(cv2.rotate(own, cv2.ROTATE_180))
        if upright_score(words_f) > upright_score(words) + 0.05:
            img, grey = _turn(img, grey)
            words = words_f
            pinfo.rotation = (pinfo.rotation + 180) % 360
    rows = build_rows(words, page=page.index)
    _add(timings, f"ocr.{reader.name}", time.perf_counter() - t)
    rows_b: list[TextRow] = rows
    if engine == "combined":
        from fhir_gateway.ocr.combine import (
            doubtful_rows,
            header_rows,
            orphan_rows,
            reread_rows,
            settled_rows,
        )
        from mappings.extract import extract_report

        t = time.perf_counter()
        first = extract_report(rows)  # a few ms: pure text work
        first.analytes = mark_ocr_suspects(first.analytes, set())
        whole = orphan_rows(rows, first) | doubtful_rows(rows, first) | header_rows(rows, first)
        rows_b = reread_rows(grey, rows, RapidOcrEngine(), whole=whole, skip=settled_rows(rows, first))
        _add(timings, "ocr.rapidocr-crosscheck", time.perf_counter() - t)
    return rows, rows_b, grey, pinfo


def _turn(img: np.ndarray, grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    turned = cv2.rotate(img, cv2.ROTATE_180)
    return turned, (turned if grey is img else cv2.rotate(grey, cv2.ROTATE_180))


def _add(timings: dict[str, float], key: str, seconds: float) -> None:
    timings[key] = timings.get(key, 0.0) + seconds


def _merge_context(a: HeaderContext, b: HeaderContext) -> HeaderContext:
    import dataclasses

    filled = {
        f.name: getattr(b, f.name)
        for f in dataclasses.fields(a)
        if getattr(a, f.name) is None and getattr(b, f.name) is not None
    }
    return dataclasses.replace(a, **filled) if filled else a
