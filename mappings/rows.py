"""Text rows: the hand-off from the OCR layout engine to the mapping code.

The OCR side turns an image or PDF page into lines of text in reading order; this module only
defines their shape, so mapping code can be tested with hand-written rows and no images.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word with the engine's confidence (0..1) and its pixel box."""

    text: str
    conf: float
    x0: int
    y0: int
    x1: int
    y1: int


@dataclass(frozen=True, slots=True)
class TextRow:
    """One printed line.

    ``text`` is the whole line in reading order. ``cells`` holds column-split texts when the
    layout engine found column gaps (e.g. ``("Haemoglobin", "11.2", "g/dL", "13.0 - 17.0")``),
    else ``()``. ``confidence`` is the line's OCR confidence (0..1); ``words`` may be empty for
    PDF text layers or hand-made rows.
    """

    text: str
    words: tuple[Word, ...] = ()
    confidence: float = 1.0
    page: int = 0
    cells: tuple[str, ...] = ()

    @staticmethod
    def of(text: str, *cells: str, confidence: float = 1.0, page: int = 0) -> TextRow:
        """Convenience constructor for tests and PDF text layers."""
        return TextRow(text=text, confidence=confidence, page=page, cells=tuple(cells))
