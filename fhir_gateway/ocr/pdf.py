"""PDF pages: read the text layer with its character geometry; rasterise only image-only pages.

A born-digital PDF carries exact text, so OCR would only add errors; we rebuild words from the
character boxes and hand them to the same row builder the OCR path uses.
"""

from __future__ import annotations

import logging

import numpy as np

from fhir_gateway.ocr.decode import Page
from fhir_gateway.ocr.errors import DocumentTooLarge, UnreadableDocument
from fhir_gateway.ocr.layout import build_rows
from fhir_gateway.ocr.limits import Limits
from mappings.rows import Word

log = logging.getLogger(__name__)

# PDF points are scaled to a 288-DPI-like pixel grid so geometry thresholds match OCR output.
_PT_SCALE = 4.0
# Fewer printable characters than this and the page is treated as a scan with no text layer
# (some scanners add a page number or a stamp as text).
_MIN_TEXT_CHARS = 25


def decode_pdf(data: bytes, limits: Limits) -> list[Page]:
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise UnreadableDocument("cannot open PDF") from exc
    try:
        n = len(doc)
        if n == 0:
            raise UnreadableDocument("PDF has no pages")
        if n > limits.max_pages:
            raise DocumentTooLarge(f"PDF has {n} pages; limit {limits.max_pages}")
        pages: list[Page] = []
        for i in range(n):
            page = doc[i]
            words = _page_words(page)
            if sum(len(w.text) for w in words) >= _MIN_TEXT_CHARS:
                pages.append(Page(index=i, rows=build_rows(words, page=i), source="pdf-text"))
            else:
                pages.append(Page(index=i, image=_rasterise(page, limits), source="pdf-image"))
        return pages
    finally:
        doc.close()


def _rasterise(page: object, limits: Limits) -> np.ndarray:
    w_pt, h_pt = page.get_size()  # type: ignore[attr-defined]
    scale = limits.pdf_dpi / 72.0
    if w_pt * h_pt * scale * scale > limits.max_pixels:
        # shrink rather than refuse: a huge page size in a PDF is cheap to fake and the DPI is ours
        scale = (limits.max_pixels / max(w_pt * h_pt, 1.0)) ** 0.5
        if scale < 0.5:
            raise DocumentTooLarge("PDF page is too large to rasterise")
    bitmap = page.render(scale=scale, grayscale=True)  # type: ignore[attr-defined]
    arr = bitmap.to_numpy()
    if arr.ndim == 3:
        arr = arr[..., 0]
    return np.ascontiguousarray(arr, dtype=np.uint8)


def _page_words(page: object) -> list[Word]:
    """Words from the text layer, with boxes in a top-left pixel grid."""
    textpage = page.get_textpage()  # type: ignore[attr-defined]
    try:
        _, h_pt = page.get_size()  # type: ignore[attr-defined]
        words: list[Word] = []
        chars: list[tuple[str, float, float, float, float]] = []

        def flush() -> None:
            if chars:
                text = "".join(c[0] for c in chars)
                x0 = min(c[1] for c in chars)
                x1 = max(c[3] for c in chars)
                top = max(c[4] for c in chars)
                bottom = min(c[2] for c in chars)
                words.append(
                    Word(
                        text,
                        1.0,
                        round(x0 * _PT_SCALE),
                        round((h_pt - top) * _PT_SCALE),
                        round(x1 * _PT_SCALE),
                        round((h_pt - bottom) * _PT_SCALE),
                    )
                )
                chars.clear()

        for i in range(textpage.count_chars()):
            ch = textpage.get_text_range(i, 1)
            if not ch or ch.isspace() or ch in "\x00\ufffe":
                flush()
                continue
            left, bottom, right, top = textpage.get_charbox(i, loose=True)
            if chars:
                prev = chars[-1]
                height = max(prev[4] - prev[2], 1.0)
                # a jump backwards or a gap wider than ~a space means a new word even without a space char
                if (
                    left < prev[1] - 0.5
                    or left - prev[3] > 0.25 * height
                    or abs(bottom - prev[2]) > 0.5 * height
                ):
                    flush()
            chars.append((ch, left, bottom, right, top))
        flush()
        return words
    finally:
        textpage.close()
