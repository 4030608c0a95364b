"""Words with boxes -> printed rows and cells.

Rows are grown left to right: a word joins the row whose right-most word overlaps it
vertically, which follows a slightly skewed line instead of cutting it at a fixed y. Cells are
split at gaps much wider than a space. Two analyte blocks printed side by side are split into
separate rows where a cell that looks like an analyte name follows a value.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Iterable, Sequence

from mappings.rows import TextRow, Word

# A gap wider than this many median word heights separates two cells.
_CELL_GAP = 0.9
# Minimum vertical overlap (share of the smaller height) for a word to continue a row.
_ROW_OVERLAP = 0.45

_NUM = re.compile(r"\d")
_UNITISH = re.compile(
    r"(/|\^|%|^(fl|fL|pg|g/?dl|gm|mmol|umol|iu|u|ul|µl|x10|10\*|cumm|cells|lakhs?|mill(ion)?|thou|k|m|"
    r"ratio|sec|mm)\b)",
    re.IGNORECASE,
)
_FLAGISH = re.compile(r"^[(\[]?(l|h|ll|hh|low|high|a|abn|abnormal|crit|\*+|↑|↓)[)\]]?$", re.IGNORECASE)
# an analyte name starts with letters ("HbA2", "NEUT%", "Haemoglobin A2" are names too)
_NAME_START = re.compile(r"^[A-Za-z][A-Za-z.]{1,}")
_HAS_LETTERS = re.compile(r"[A-Za-z]{2,}")


def build_rows(words: Iterable[Word], page: int = 0) -> list[TextRow]:
    ws = [w for w in words if w.text.strip() and w.x1 > w.x0 and w.y1 > w.y0]
    if not ws:
        return []
    rows = _group_lines(ws)
    out: list[TextRow] = []
    for line in rows:
        cells = _split_cells(line)
        for part in _split_side_by_side(cells):
            out.append(_make_row(part, page))
    return out


def _group_lines(ws: list[Word]) -> list[list[Word]]:
    rows: list[list[Word]] = []
    for w in sorted(ws, key=lambda w: (w.x0, w.y0)):
        best, best_score = None, 0.0
        for row in rows:
            last = row[-1]
            if last.x1 > w.x0 + 0.5 * (w.y1 - w.y0) and last.x0 >= w.x0:
                continue  # would go backwards: that is another line
            # a speck of punctuation at the row's end (a "," below the baseline) says little
            # about where the line runs: measure against the last word of text height; a row of
            # specks only is measured against the word's own height, or any word it touches
            # would overlap it "fully" (seed 9080: a ";" took the "141" of the Iron row)
            anchor = next((x for x in reversed(row) if 3 * (x.y1 - x.y0) >= w.y1 - w.y0), None)
            ref = anchor or last
            ov = min(ref.y1, w.y1) - max(ref.y0, w.y0)
            height = w.y1 - w.y0 if anchor is None else min(ref.y1 - ref.y0, w.y1 - w.y0)
            share = ov / max(1, height)
            # prefer rows whose last word is near: avoids stealing words across a gutter
            score = share - 0.0001 * max(0, w.x0 - last.x1)
            if share >= _ROW_OVERLAP and score > best_score:
                best, best_score = row, score
        if best is None:
            rows.append([w])
        else:
            best.append(w)
    rows.sort(key=lambda r: statistics.median((w.y0 + w.y1) / 2 for w in r))
    return rows


def _split_cells(line: list[Word]) -> list[list[Word]]:
    line = sorted(line, key=lambda w: w.x0)
    h = statistics.median(w.y1 - w.y0 for w in line)
    cells: list[list[Word]] = [[line[0]]]
    for prev, w in itertools.pairwise(line):
        if w.x0 - prev.x1 > _CELL_GAP * h:
            cells.append([w])
        else:
            cells[-1].append(w)
    return cells


def _cell_text(cell: Sequence[Word]) -> str:
    return " ".join(w.text for w in cell)


def _is_name(text: str) -> bool:
    from mappings.units import parse_unit

    t = text.strip()
    if not _NAME_START.match(t) or _FLAGISH.match(t):
        return False
    first = t.split()[0]
    # a unit column ("g/dL", "10^3/uL", "mill/cumm") is not the start of a second analyte
    return parse_unit(first.rstrip(".,")) is None and "/" not in first and "^" not in first


def _split_side_by_side(cells: list[list[Word]]) -> list[list[list[Word]]]:
    """Split `name value unit   name value unit` into two rows."""
    texts = [_cell_text(c) for c in cells]
    for i in range(2, len(cells)):
        left_has_value = any(_NUM.search(t) for t in texts[1:i])
        right_value = next((t for t in texts[i + 1 :] if _NUM.search(t)), None)
        if (
            _is_name(texts[0])
            and left_has_value
            and _is_name(texts[i])
            and right_value is not None
            and _is_single_value(right_value)
        ):
            return [cells[:i], *_split_side_by_side(cells[i:])]
    return [cells]


# a reference range ("12.0 - 16.0", "150-410", "< 2.0", "up to 0.10"); OCR may read the dash as
# "+", "~" or "="
_RANGEISH = re.compile(r"\d\s*[-–—+~=]\s*[.\d]|^[(\[]?\s*[<>≤≥]|\bup\s*to\b", re.IGNORECASE)


def _is_single_value(text: str) -> bool:
    """Whether the first number after a second name looks like that analyte's result (one number,
    maybe a flag), not like the reference range of the row's own analyte, whose unit cell was
    misread as a word ("Hb  14.0  gill,  12.0 + 16.0")."""
    numbers = [t for t in text.split() if _NUM.search(t)]
    return len(numbers) == 1 and not _UNITISH.search(text) and not _RANGEISH.search(text)


def _make_row(cells: list[list[Word]], page: int) -> TextRow:
    words = tuple(w for c in cells for w in c)
    texts = tuple(_cell_text(c) for c in cells)
    conf = sum(w.conf for w in words) / len(words)
    return TextRow(
        text="  ".join(texts),
        words=words,
        confidence=round(conf, 4),
        page=page,
        cells=texts if len(texts) > 1 else (),
    )
