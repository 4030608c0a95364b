"""Combined reading: Tesseract segments and reads the page; RapidOCR re-reads every cell that
holds a digit, from Tesseract's own boxes (recognition only, ~10 ms a crop, no full-page text
detection), and the two readings are merged per analyte.

Merging is conservative because a wrong number is worse than a missing one:
  * both engines agree            -> keep, confidence = the higher of the two;
  * they disagree                 -> the CBC consistency rules decide; if they cannot, the
                                     reading of the engine that is sure of it wins only when the
                                     other is not, otherwise the value is marked uncertain;
  * only one engine found the row -> keep it with that engine's own status.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Sequence

import numpy as np

from fhir_gateway.ocr.checks import printed_digits
from fhir_gateway.ocr.engines import RapidOcrEngine
from mappings.consistency import check_and_repair
from mappings.extract import LOW_CONFIDENCE
from mappings.header import is_header_line
from mappings.matching import match_name
from mappings.readings import AnalyteReading, Extraction, ReadingWarning
from mappings.rows import TextRow, Word
from mappings.units import parse_unit
from mappings.values import flag_contradicts

_DIGIT = re.compile(r"\d")
# RapidOCR's recogniser expects a text line about 48 px high; margins keep glyph edges.
_MARGIN_X, _MARGIN_Y = 0.35, 0.25


def reread_rows(
    image: np.ndarray,
    rows: Sequence[TextRow],
    engine: RapidOcrEngine,
    whole: Collection[int] = (),
    skip: Collection[int] = (),
) -> list[TextRow]:
    """Rows with the same geometry, value cells re-recognised by RapidOCR; rows listed in
    `whole` (results Tesseract could not map, e.g. "Tron" for "Iron") are re-read entirely,
    rows listed in `skip` (see `settled_rows`) keep Tesseract's reading. A row that was not re-read
    (nothing to check, or a number in it could not be cropped) is returned as the same object
    (see `echoed_rows`)."""
    crops: list[np.ndarray] = []
    where: list[tuple[int, int]] = []
    for ri, row in enumerate(rows):
        if not row.words or not _DIGIT.search(row.text) or (ri in skip and ri not in whole):
            continue
        cells = _cells_of(row)
        todo = range(len(cells)) if ri in whole else _cells_to_check(row, cells)
        boxes = {ci: _crop(image, cells[ci]) for ci in todo}
        # a number Tesseract's reading of which would slip through unchecked makes the row no
        # second reading at all; an uncroppable sliver without digits ("-") just keeps its text
        if any(b is None and _DIGIT.search(" ".join(w.text for w in cells[ci])) for ci, b in boxes.items()):
            continue
        for ci, box in boxes.items():
            if box is not None:
                crops.append(box)
                where.append((ri, ci))
    texts = engine.recognise(crops) if crops else []
    new_cells: dict[int, dict[int, tuple[str, float]]] = {}
    for (ri, ci), (text, score) in zip(where, texts, strict=True):
        new_cells.setdefault(ri, {})[ci] = (text, score)
    out: list[TextRow] = []
    for ri, row in enumerate(rows):
        if ri not in new_cells:
            out.append(row)
            continue
        cells = _cells_of(row)
        parts: list[str] = []
        words: list[Word] = []
        for ci, cell in enumerate(cells):
            text, score = new_cells[ri].get(ci, (" ".join(w.text for w in cell), min(w.conf for w in cell)))
            text = text.strip() or " ".join(w.text for w in cell)
            parts.append(text)
            words.append(
                Word(
                    text,
                    round(score, 4),
                    min(w.x0 for w in cell),
                    min(w.y0 for w in cell),
                    max(w.x1 for w in cell),
                    max(w.y1 for w in cell),
                )
            )
        conf = sum(w.conf for w in words) / len(words)
        out.append(
            TextRow(
                text="  ".join(parts),
                words=tuple(words),
                confidence=round(conf, 4),
                page=row.page,
                cells=tuple(parts) if len(parts) > 1 else (),
            )
        )
    return out


def echoed_rows(rows: Sequence[TextRow], reread: Sequence[TextRow]) -> set[str]:
    """Texts of the rows `reread_rows` passed through unread: for `merge(echoes=...)`."""
    return {r.text for r, b in zip(rows, reread, strict=True) if b is r}


# A value Tesseract reads at this confidence (value word x name match) was right in 750 of 750
# generated-report readings (bench seeds 3000-3059), against 19 wrong among the rest: re-reading
# it costs ~25 ms of RapidOCR and never changed it.
SETTLED_CONFIDENCE = 0.9


def settled_rows(
    rows: Sequence[TextRow], result: Extraction, min_conf: float = SETTLED_CONFIDENCE
) -> set[int]:
    """Rows whose every analyte Tesseract read plainly ("ok", no notes) and confidently: the
    cross-check is spent on the others. A row that gave no analyte is never settled, nor one that
    names more analytes than it gave (two columns, the right-hand value read as letters)."""
    by_source: dict[str, list[AnalyteReading]] = {}
    for a in result.analytes:
        by_source.setdefault(a.source_text, []).append(a)
    out: set[int] = set()
    for i, r in enumerate(rows):
        found = by_source.get(r.text)
        if (
            found
            and all(a.status == "ok" and a.confidence >= min_conf and not a.notes for a in found)
            and len(found) > len(_later_name_cells(r.cells))
        ):
            out.add(i)
    return out


def doubtful_rows(rows: Sequence[TextRow], result: Extraction) -> set[int]:
    """Rows that gave an uncertain analyte. They are re-read whole, not just the value: the doubt
    may sit in another cell (a range read "75-115" makes 10.6 look tenfold off), and a doubt
    the cross-check leaves standing costs a full RapidOCR pass (`needs_full_read`)."""
    sources = {a.source_text for a in result.analytes if a.status == "uncertain"}
    return {i for i, r in enumerate(rows) if r.text in sources}


def _cells_to_check(row: TextRow, cells: list[tuple[Word, ...]]) -> list[int]:
    """Per analyte in the row (two columns side by side give two), the value cell and, unless it
    cannot matter, the one after it (a flag or a unit such as 10^3/uL): that is where a misread
    changes the number. Names and reference ranges keep Tesseract's reading, which halves the
    crops. A one-cell row ("Hb: 13.5 g/dL") is re-read whole."""
    if len(cells) == 1:
        return [0]
    texts = [" ".join(w.text for w in c) for c in cells]
    starts = [0, *_later_name_cells(texts)]
    out: list[int] = []
    for s, end in zip(starts, [*starts[1:], len(cells)], strict=True):
        digit_cells = [i for i in range(s + 1, end) if _DIGIT.search(texts[i])]
        if digit_cells:
            value = digit_cells[0]
        elif s > 0 and s + 1 < end and _letters_for_a_number(texts[s + 1]):
            value = s + 1  # "EOS%  Zieh  %": the right-hand column's 2.1 read as letters
        else:
            continue
        out.append(value)
        if value + 1 < end and _may_change_value(cells[value + 1]):
            out.append(value + 1)
    return out


def _later_name_cells(texts: Sequence[str]) -> list[int]:
    """Cells after the first analyte's value that name another analyte: the right-hand column of
    a two-column report ("R.B.C.  4.90  mill/cumm  EOS%  2.1  %")."""
    first_value = next((i for i, t in enumerate(texts) if i and _DIGIT.search(t)), None)
    if first_value is None:
        return []
    return [
        i
        for i in range(first_value + 1, len(texts))
        if not _DIGIT.search(texts[i]) and _NAMEISH.search(texts[i]) and match_name(texts[i]) is not None
    ]


def _letters_for_a_number(text: str) -> bool:
    """A short cell of letters where a value belongs ("Zieh" for 2.1, "Ll" for 1.1: the segment
    has no number, so even a flag word there may be one), not a unit."""
    t = text.strip()
    return 0 < len(t) <= 5 and " " not in t and parse_unit(t) is None


# A reference range ("4.0 - 11.0", "(< 0.10)", "up to 2.0"), as opposed to a unit or a flag
_RANGEISH = re.compile(r"\d\s*[-–—=]\s*[.\d]|^[(\[]?\s*[<>≤≥]|\bup\s*to\b", re.IGNORECASE)


def _may_change_value(nxt: Sequence[Word]) -> bool:
    """Whether the cell after the value can change the reported value (its unit, or a flag arrow
    read as a digit) and so needs RapidOCR's reading too. Not a reference range (the value cell
    then holds its own unit), nor a known unit Tesseract read confidently."""
    text = " ".join(w.text for w in nxt)
    if _RANGEISH.search(text):
        return False
    confident = min(w.conf for w in nxt) >= SETTLED_CONFIDENCE
    return not (confident and parse_unit(text) is not None)


def _cells_of(row: TextRow) -> list[tuple[Word, ...]]:
    """Group the row's words back into its cells (cells are consecutive words)."""
    if not row.cells:
        return [row.words]
    out: list[tuple[Word, ...]] = []
    i = 0
    for cell in row.cells:
        n = len(cell.split())
        out.append(row.words[i : i + n])
        i += n
    if i != len(row.words):  # texts with odd spacing: fall back to one cell
        return [row.words]
    return [c for c in out if c]


def _crop(image: np.ndarray, cell: Sequence[Word]) -> np.ndarray | None:
    x0, y0 = min(w.x0 for w in cell), min(w.y0 for w in cell)
    x1, y1 = max(w.x1 for w in cell), max(w.y1 for w in cell)
    h = y1 - y0
    if h < 4 or x1 <= x0:
        return None
    mx, my = int(_MARGIN_X * h) + 2, int(_MARGIN_Y * h) + 2
    ih, iw = image.shape[:2]
    crop = image[max(0, y0 - my) : min(ih, y1 + my), max(0, x0 - mx) : min(iw, x1 + mx)]
    return crop if crop.size else None


# --------------------------------------------------------------------------- merging


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a))


def merge(
    primary: Extraction,
    secondary: Extraction,
    names: tuple[str, str] = ("tesseract", "rapidocr"),
    echoes: Collection[str] = (),
) -> tuple[list[AnalyteReading], list[ReadingWarning], dict[str, int]]:
    """`echoes`: source texts of rows the secondary reading copied from the primary without
    reading them again (see `reread_rows`). Their analytes are the primary's own reading a
    second time, not a second opinion, so they can neither agree nor disagree with it."""
    stats = {"agree": 0, "disagree": 0, "only_primary": 0, "only_secondary": 0, "resolved": 0, "uncertain": 0}
    a_by = {a.key: a for a in primary.analytes}
    b_by = {b.key: b for b in secondary.analytes if not (b.source_text in echoes and b.key in a_by)}
    merged: dict[str, AnalyteReading] = {}
    disputed: list[str] = []
    for key in [*a_by, *(k for k in b_by if k not in a_by)]:
        a, b = a_by.get(key), b_by.get(key)
        if a is not None and b is not None:
            # the same quantity, whatever unit each reading found or assumed ("4,610" /uL
            # and "4.610" 10^3/uL are both 4.61 x10^3/uL)
            if _same(a.value_canonical, b.value_canonical):
                stats["agree"] += 1
                merged[key] = _agreed(a, b)
            else:
                stats["disagree"] += 1
                merged[key] = a
                disputed.append(key)
        elif a is not None:
            stats["only_primary"] += 1
            merged[key] = a
        elif b is not None:
            stats["only_secondary"] += 1
            merged[key] = b
    warnings: list[ReadingWarning] = []
    for key in disputed:
        a, b = a_by[key], b_by[key]
        a_contradicts = _flag_contradicts(a)
        if a_contradicts != _flag_contradicts(b):
            # "E0S%  6,5 (L)  1.0-6.0" beside "0,5 (L)": a value on the wrong side of its range
            # for its own printed flag is the misread one
            choice, other = (b, a) if a_contradicts else (a, b)
            stats["resolved"] += 1
            merged[key] = dataclasses.replace(
                choice,
                notes=[
                    *choice.notes,
                    f"the other engine read {other.value:g}, which contradicts the printed flag",
                ],
            )
            continue
        glued = b if arrow_glued(b, a) else a if arrow_glued(a, b) else None
        if glued is not None:
            choice = a if glued is b else b
            stats["resolved"] += 1
            merged[key] = dataclasses.replace(
                choice,
                status="ok" if choice.status == "uncertain" and _only_glyph_doubts(choice) else choice.status,
                notes=[
                    *choice.notes,
                    f"the other engine read {glued.value:g}: a flag arrow beside the value read as a digit",
                ],
            )
            continue
        n_a = _n_warnings(check_and_repair, merged, key, a)
        n_b = _n_warnings(check_and_repair, merged, key, b)
        if n_b < n_a or (n_b == n_a and b.confidence >= 0.9 > a.confidence and b.status != "uncertain"):
            choice, other, who = b, a, names[1]
        elif n_a < n_b or (n_a == n_b and a.confidence >= 0.9 > b.confidence and a.status != "uncertain"):
            choice, other, who = a, b, names[0]
        else:
            choice = a if a.confidence >= b.confidence else b
            other = b if choice is a else a
            merged[key] = dataclasses.replace(
                choice, status="uncertain", notes=[*choice.notes, "OCR engines disagree"]
            )
            stats["uncertain"] += 1
            warnings.append(
                ReadingWarning("engines-disagree", f"OCR engines read different values for {key}", key)
            )
            continue
        stats["resolved"] += 1
        merged[key] = dataclasses.replace(
            choice, notes=[*choice.notes, f"chosen from {who}; other engine read {other.value:g}"]
        )
    return list(merged.values()), warnings, stats


# Notes that express doubt about the glyphs only: a second engine reading the same digits
# settles them. Any other doubt (units, consistency, plausibility) is not about the OCR.
_OCR_DOUBTS = ("low OCR confidence", "last digit may be a misread flag arrow")


def _agreed(a: AnalyteReading, b: AnalyteReading) -> AnalyteReading:
    conf = max(a.confidence, b.confidence)
    if a.status != "uncertain":
        return dataclasses.replace(a, confidence=conf)
    if b.status != "uncertain":
        return dataclasses.replace(b, confidence=conf)
    doubts = [n for n in a.notes if not n.startswith(_OCR_DOUBTS)]
    other_doubts = any("consisten" in n or "unusual" in n for n in [*a.notes, *b.notes])
    # two engines that are both unsure of the glyphs can agree on the same wrong fragment
    # ("2..." for a smudged "5.03"): agreement settles the doubt only if one of them is sure
    if len(doubts) < len(a.notes) and not other_doubts and conf >= LOW_CONFIDENCE:
        return dataclasses.replace(
            a, status="ok", confidence=conf, notes=[*doubts, "read identically by two OCR engines"]
        )
    return dataclasses.replace(a, confidence=conf)


def _flag_contradicts(a: AnalyteReading) -> bool:
    return flag_contradicts(a.flag, a.value, a.ref_low, a.ref_high)


def arrow_glued(long: AnalyteReading, short: AnalyteReading) -> bool:
    """Whether `long` is `short` with a flag arrow or L glued to it and read as one more digit
    ("235↑" as 2351, "42L" as 421, "3.31↑" as 3.311) while the other engine read it apart.
    Flags are printed only beside abnormal values, so `short` must be outside its range."""
    pl, ps = printed_digits(long), printed_digits(short)
    if pl is None or ps is None or not (pl[0].startswith(ps[0]) and len(pl[0]) == len(ps[0]) + 1):
        return False
    if pl[0][-1] not in "17" or pl[1] not in (ps[1], ps[1] + 1):  # "421": no decimals either side
        return False
    low = short.ref_low if short.ref_low is not None else long.ref_low
    high = short.ref_high if short.ref_high is not None else long.ref_high
    return low is not None and high is not None and not low <= short.value <= high


def _only_glyph_doubts(a: AnalyteReading) -> bool:
    """The reading's only doubts are about glyphs, which the other engine's reading settles."""
    return all(n.startswith(_OCR_DOUBTS) or n.startswith("OCR engines disagree") for n in a.notes)


def _n_warnings(check, merged: dict[str, AnalyteReading], key: str, candidate: AnalyteReading) -> int:
    """How badly the CBC rules object to `candidate`: their warnings, plus one when they had to
    repair or doubt the candidate itself (consistency repairs silently, without a warning)."""
    trial = [dataclasses.replace(candidate if k == key else v) for k, v in merged.items()]
    checked, warns = check(trial)
    after = next((x for x in checked if x.key == key), None)
    objected = (
        after is None or after.status in ("repaired", "uncertain") or not _same(after.value, candidate.value)
    )
    return len(warns) + int(objected) + int(candidate.status == "uncertain")


# Analytes every CBC prints; one of them missing means a row was lost, not that it was absent.
CORE_KEYS = ("hgb", "hct", "rbc", "mcv", "mch", "mchc", "wbc", "plt")
_NAMEISH = re.compile(r"[A-Za-z]{2,}")
# Numbers that are no result: a range ("39.0-46.0") or inside a unit ("10^3/uL"). A row with only
# these is the tail of a result row the layout split ("fL  39.0-46.0"), not a lost result.
_NOT_A_VALUE = re.compile(r"\d[\d.,]*\s*[-–—]\s*\d[\d.,]*|\S*/\S*")


def needs_full_read(
    result: Extraction, rows: Sequence[TextRow], reread: Sequence[TextRow] | None = None
) -> bool:
    """Whether the Tesseract-led reading looks incomplete or doubtful enough to pay for a full
    RapidOCR pass (text detection included, several seconds a page). `reread`: the cross-check's
    rows, aligned with `rows`; a row whose re-reading gave an analyte is no longer an orphan."""
    keys = {a.key for a in result.analytes}
    if any(k not in keys for k in CORE_KEYS):
        return True
    if any(a.status == "uncertain" for a in result.analytes):
        return True
    orphans = orphan_rows(rows, result)
    if reread is not None and len(reread) == len(rows):
        orphans &= orphan_rows(reread, result)
    return sum(1 for i in orphans if rows[i].confidence < 0.75) >= 2


def orphan_rows(rows: Sequence[TextRow], result: Extraction) -> set[int]:
    """Indexes of rows that look like results (a name and a number) but produced no analyte.
    Header rows ("Age/Sex: 42 Y / M") are not results; see `header_rows`."""
    sources = {a.source_text for a in result.analytes}
    return {
        i
        for i, r in enumerate(rows)
        if r.words
        and _DIGIT.search(r.text)
        and _NAMEISH.search(r.text)
        and r.text not in sources
        and not is_header_line(r.text)
        and (_DIGIT.search(_NOT_A_VALUE.sub(" ", r.text)) or _starts_with_a_name(r.text))
    }


def _starts_with_a_name(text: str) -> bool:
    """ "Monocytes  ar  %  2.0-10.0": a result whose value came out as letters, unlike the split-off
    tail "fL  39.0-46.0" of another row."""
    words = text.split()
    return any(match_name(" ".join(words[:n])) is not None for n in range(1, min(4, len(words)) + 1))


def header_rows(rows: Sequence[TextRow], result: Extraction) -> set[int]:
    """Header rows holding a number, worth re-reading only while the patient's age or sex (needed
    for the reference thresholds) is still unknown."""
    if result.context.age_years is not None and result.context.sex is not None:
        return set()
    return {i for i, r in enumerate(rows) if r.words and _DIGIT.search(r.text) and is_header_line(r.text)}


def hybrid_row(a: TextRow, b: TextRow) -> TextRow | None:
    """Row `a` as the cross-check re-read it whole (`b`), with Tesseract's name cells and
    RapidOCR's number cells. On faxed and low-resolution pages the two engines fail
    differently: Tesseract keeps "Total Leucocyte Count" legible but reads its "7.4" as "iA",
    RapidOCR reads the 7.4 and garbles the name; neither reading alone gives the analyte.
    None when there is nothing to join: a row not re-read, cells that do not line up, or a
    reading that swapping would not change."""
    if b is a or not a.words:
        return None
    ca, cb = _cells_of(a), list(b.words)
    if len(ca) != len(cb) or len(ca) < 2:
        return None
    words = [
        dataclasses.replace(bw, text=" ".join(w.text for w in aw), conf=min(w.conf for w in aw))
        if i == 0 or not _DIGIT.search(" ".join(w.text for w in aw) + bw.text)
        else bw
        for i, (aw, bw) in enumerate(zip(ca, cb, strict=True))
    ]
    if all(w.text == bw.text for w, bw in zip(words, cb, strict=True)):
        return None
    parts = [w.text for w in words]
    return TextRow(
        text="  ".join(parts),
        words=tuple(words),
        confidence=round(sum(w.conf for w in words) / len(words), 4),
        page=b.page,
        cells=tuple(parts),
    )


def hybrid_rows(rows: Sequence[TextRow], reread: Sequence[TextRow]) -> list[TextRow]:
    """`reread` with each row that `hybrid_row` can join replaced by the joined row, so the
    rows keep their order and sections ("Absolute counts") for the extraction."""
    return [hybrid_row(a, b) or b for a, b in zip(rows, reread, strict=True)]
