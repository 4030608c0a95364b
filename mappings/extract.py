"""Rows of report text -> LOINC-coded, unit-checked analyte readings plus header context.

Pipeline: header lines are recognised first (and never read as results); every other line is
split into items (``rowparse``); each item is resolved to one catalog analyte and unit, using
the printed unit, "%"/"#"/"absolute" in the name, magnitude, and finally the report context
(section headings, neighbouring rows) for percent-vs-absolute; then the CBC consistency rules
confirm, repair or mark values (``consistency``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from mappings.catalog import AnalyteDef, analyte, family_members
from mappings.consistency import TRUNCATED, check_and_repair, vouching_relations
from mappings.header import extract_header
from mappings.matching import NameMatch, near_keys
from mappings.readings import AnalyteReading, Extraction, HeaderContext, ReadingWarning
from mappings.rowparse import RawItem, parse_line, parse_unnamed
from mappings.rows import TextRow, Word
from mappings.units import closest_unit, count_reading, to_canonical
from mappings.values import RefRange, choose_range, flag_contradicts

__all__ = [
    "AnalyteReading",
    "Extraction",
    "HeaderContext",
    "ReadingWarning",
    "extract_report",
]

LOW_CONFIDENCE = 0.6  # below this an OCR value is reported as uncertain
UNUSUAL_FOR_UNIT = "value is unusual for the printed unit; the unit or decimal point may be misread"
NAME_APPROXIMATE = "test name matched approximately"  # its note starts so; the score follows
DECIMAL_SUSPECT = (
    "far outside the printed range with no flag, while a tenfold shift fits it: decimal point misread?"
)
_DIFFERENTIAL = frozenset({"neut", "lymph", "mono", "eos", "baso"})
_MATCH_FACTOR = {"exact": 1.0, "ocr": 0.9, "fuzzy": 0.85}
_ABS_SECTION = re.compile(r"\babs(?:olute)?\b", re.I)
_PCT_SECTION = re.compile(r"\bdifferential\b|\bd\.?l\.?c\b|\bdiff\b|\bd\.?c\b|percent", re.I)


@dataclass
class _Pending:
    """An item whose analyte could not be told apart yet (e.g. neutrophils % vs absolute)."""

    row_index: int
    item: RawItem
    options: list[tuple[AnalyteDef, str]]  # (analyte, unit) pairs that fit the printed value
    row: TextRow
    section: str | None
    notes: list[str] = field(default_factory=list)


def extract_report(rows: Sequence[TextRow]) -> Extraction:
    """Read analytes, header context and warnings from a report's text rows."""
    context, header_rows, warnings = extract_header(rows)
    readings: list[tuple[int, AnalyteReading]] = []
    pending: list[_Pending] = []
    nameless: list[_Pending] = []  # result-like rows whose name matched nothing
    section: str | None = None
    for index, row in enumerate(rows):
        if index in header_rows:
            continue
        text = _row_text(row)
        items = parse_line(text)
        if not items:
            section = _section_of(text, section)
            if (unnamed := parse_unnamed(text)) is not None:
                nameless.append(_Pending(index, unnamed, [], row, section))
            continue
        for item in items:
            if item.match.ignored:
                continue
            result = _resolve(item, row, index, context, section, warnings)
            if isinstance(result, _Pending):
                pending.append(result)
            elif result is not None:
                readings.append((index, result))
    for p in pending:
        reading = _resolve_pending(p, readings, warnings)
        if reading is not None:
            readings.append((p.row_index, reading))
    readings.sort(key=lambda pair: pair[0])
    analytes = _deduplicate([r for _, r in readings], warnings)
    analytes, consistency_warnings = check_and_repair(analytes)
    warnings.extend(consistency_warnings)
    analytes.extend(_named_by_relations(nameless, analytes, context))
    return Extraction(analytes=analytes, context=context, warnings=warnings)


def _named_by_relations(
    nameless: list[_Pending], analytes: list[AnalyteReading], context: HeaderContext
) -> list[AnalyteReading]:
    """Rows whose name is past reading ("FOS#  0.34  x10^9/L  0.02-0.50" on a fax), each taken
    as the one missing analyte whose name it resembles (`near_keys`) and whose CBC relations
    with the values already read hold as tightly as a repair must. A name alone never decides:
    with no relation to ask (platelets, RDW) or two analytes that fit, the row stays unread.
    Each row taken may make the next one's relation computable (LYMPH% before LYMPH#)."""
    trusted = {a.key: a.value_canonical for a in analytes if a.status != "uncertain"}
    have = {a.key for a in analytes}
    taken: list[AnalyteReading] = []
    left = list(nameless)
    while left:
        found: dict[str, list[tuple[_Pending, AnalyteReading]]] = {}
        for p in left:
            fits = [
                r
                for key in near_keys(p.item.name_text)
                if key not in have and (r := _named_as(p, key, trusted, context))
            ]
            if len(fits) == 1:
                found.setdefault(fits[0].key, []).append((p, fits[0]))
        # two rows that both fit one analyte: neither is taken
        new = [pairs[0] for pairs in found.values() if len(pairs) == 1]
        if not new:
            break
        for p, r in new:
            taken.append(r)
            have.add(r.key)
            trusted[r.key] = r.value_canonical
            left.remove(p)
    return taken


def _named_as(
    p: _Pending, key: str, trusted: dict[str, float], context: HeaderContext
) -> AnalyteReading | None:
    """The nameless row read as `key`, if the relations vouch for its value as that analyte.
    The partners need not be vouched for in turn (as a doubtful value's confirmation asks): the
    value is as read, only its name is in question, and a wrong partner would have to meet a
    value that happens to fit it within rounding."""
    item = dataclasses.replace(p.item, match=NameMatch((key,), 0.0, "fuzzy", None))
    reading = _resolve(item, p.row, p.row_index, context, p.section, [])
    if not isinstance(reading, AnalyteReading) or reading.key != key or not _only_name_in_doubt(reading):
        return None
    vouching = vouching_relations(key, reading.value_canonical, trusted, supported=False)
    if not vouching:
        return None
    reading.status = "ok" if reading.confidence >= LOW_CONFIDENCE else "uncertain"
    reading.notes = [n for n in reading.notes if not n.startswith(NAME_APPROXIMATE)]
    reading.notes.append(
        f"test name not legible; read as {reading.display} because the CBC relations confirm the "
        "value: " + "; ".join(vouching)
    )
    return reading


def _only_name_in_doubt(r: AnalyteReading) -> bool:
    """Nothing but the name (and the confidence it costs) is doubtful in the reading, or else the
    unit, which the relations settle too: they fail for a tenfold other scale."""
    return all(n.startswith(_NAME_OR_UNIT_DOUBTS) for n in r.notes)


_NAME_OR_UNIT_DOUBTS = (
    NAME_APPROXIMATE,
    "low OCR confidence",
    "a unit is printed but could not be read",
    "unit printed but not legible",
    "unit not printed; assumed",
)


# ---- rows -------------------------------------------------------------------------------------


def _row_text(row: TextRow) -> str:
    # Cells keep column boundaries; "  " keeps a dropped column from gluing two numbers.
    if row.cells and len(row.cells) > 1:
        return "   ".join(c.strip() for c in row.cells if c.strip())
    return row.text


def _section_of(text: str, current: str | None) -> str | None:
    """Headings such as 'DIFFERENTIAL COUNT' or 'ABSOLUTE COUNTS' set the percent/absolute context."""
    stripped = text.strip()
    if not stripped or re.search(r"\d", stripped):
        return current
    if _ABS_SECTION.search(stripped):
        return "abs"
    if _PCT_SECTION.search(stripped):
        return "pct"
    if stripped.isupper() or len(stripped.split()) <= 4:
        return None  # another heading ("PLATELETS", "RBC INDICES") ends the section
    return current


def _value_confidence(row: TextRow, value_text: str) -> float:
    words: tuple[Word, ...] = row.words
    # the word holding the value (possibly with a glued flag, "11.2L"); not every word sharing a digit
    hits = [w.conf for w in words if w.text and value_text in w.text]
    conf = min(hits) if hits else row.confidence
    return max(0.0, min(1.0, conf))


# ---- resolution -------------------------------------------------------------------------------


def _candidates(item: RawItem) -> list[AnalyteDef]:
    """Matched analytes, widened to the percent/absolute sibling when the name is generic."""
    matched = [analyte(k) for k in item.match.keys]
    out = {a.key: a for a in matched}
    for a in matched:
        generic = a.form == "pct" and item.match.hint != "pct"
        unit_mismatch = item.unit_ucum is not None and item.unit_ucum not in a.units
        if a.family and (generic or unit_mismatch):
            for sibling in family_members(a.family).values():
                out.setdefault(sibling.key, sibling)
    return list(out.values())


def _resolve(
    item: RawItem,
    row: TextRow,
    index: int,
    context: HeaderContext,
    section: str | None,
    warnings: list[ReadingWarning],
) -> AnalyteReading | _Pending | None:
    cands = _candidates(item)
    notes: list[str] = []
    if item.match.hint:
        hinted = [a for a in cands if a.form in (None, item.match.hint)]
        cands = hinted or cands
    value = item.number.value
    if item.unit_ucum is not None:
        fitting = [a for a in cands if item.unit_ucum in a.units]
        if not fitting and (other := count_reading(item.unit_ucum)) is not None:
            # "Leucocytes 7.5 G/L": giga per litre, not grams; no count is ever in grams
            fitting = [a for a in cands if other in a.units]
            if fitting:
                item = dataclasses.replace(item, unit_ucum=other)
                notes.append(f"unit read as {other} (G/L: giga per litre), as for a count")
        if not fitting:
            warnings.append(
                ReadingWarning(
                    "unit_incompatible",
                    f"printed unit {item.unit_ucum} does not fit {cands[0].key}; value not used",
                    cands[0].key,
                )
            )
            return None
        options = [(a, item.unit_ucum) for a in fitting]
        if len(options) > 1:
            # e.g. RDW printed in % or fL was already decided by the unit; this is % vs abs
            typical = [(a, u) for a, u in options if a.is_typical(value * a.units[u])]
            options = typical or options
    else:
        options = [(a, u) for a in cands for u in a.infer_units if a.is_typical(value * a.units[u])]
        options = _dedupe_options(options)
        if not options:
            a = cands[0]
            notes.append("unit not printed and no unit fits the value's magnitude")
            options = [(a, a.unit)]
            return _make_reading(item, row, a, a.unit, context, "uncertain", notes)
    keys = {a.key for a, _ in options}
    if len(keys) > 1 or len(options) > 1:
        if len(keys) > 1 and _same_family(options):
            by_range = _fit_printed_range(options, item, context)
            if by_range is not None:
                a, u = by_range
                notes.append(
                    f"percent or absolute not printed; read as {a.key} from the printed reference range"
                )
                if item.unit_ucum is None:
                    notes.append(f"unit not printed; assumed {u}")
                return _make_reading(item, row, a, u, context, "assumed", notes)
            return _Pending(index, item, options, row, section, notes)
        notes.append(
            "unit not printed; several units fit the magnitude: " + ", ".join(sorted(u for _, u in options))
        )
        a, u = options[0]
        return _make_reading(item, row, a, u, context, "uncertain", notes)
    a, u = options[0]
    status = "ok"
    illegible = _unread_unit(item.tail_text) if item.unit_ucum is None else None
    looks_like = closest_unit(illegible, a.units) if illegible is not None else None
    if looks_like is not None and a.units[looks_like] == a.units[u]:
        u = looks_like  # "x10712/L" for an RBC count is 10*12/L, the same as the 10*6/uL guessed
    if illegible is not None and looks_like != u:
        # "19.3 umo1/L~" is not a missing unit: guessing ug/dL from 19.3 would be 5.6x off
        status = "uncertain"
        notes.append("a unit is printed but could not be read; the value's magnitude fits " + u)
    elif illegible is not None:
        status = "assumed"  # "77 ua/dl": magnitude and the unit's look agree
        notes.append(f"unit printed but not legible; read as {u}, as its look and the magnitude suggest")
    elif item.unit_ucum is None:
        status = "assumed"
        notes.append(f"unit not printed; assumed {u} from the value's magnitude")
    elif value and not a.is_typical(value * a.units[u]):
        # e.g. "0.02 lO^3/uL" read as 0.02 /uL: a misread unit or decimal point is likelier than
        # a value this far out; the consistency rules may still confirm it
        status = "uncertain"
        notes.append(UNUSUAL_FOR_UNIT)
    return _make_reading(item, row, a, u, context, status, notes)


# A token in the unit's place that reads like a unit (letters around a slash: "umo1/L~",
# "g/dl'", "x1O^9/L") but matched none: the unit was printed, just not legibly.
_UNITISH = re.compile(r"^\S*[A-Za-zµμ]\S*/\S*[A-Za-z]\S*$")


def _unread_unit(tail_text: str) -> str | None:
    """The illegible unit at the start of a row's tail, if one is there."""
    tokens = tail_text.split(maxsplit=2)[:2]
    # the tokenizer may have cut it at a digit ("umo1 /L~"); units are short ("cells/cu.mm"),
    # a method column ("Calculated/Derived") is not one
    firsts = ["".join(tokens[:n]) for n in (1, 2) if len(tokens) >= n]
    return next((t for t in firsts if len(t) <= 12 and _UNITISH.match(t)), None)


def _fit_printed_range(
    options: list[tuple[AnalyteDef, str]], item: RawItem, context: HeaderContext
) -> tuple[AnalyteDef, str] | None:
    """The only option whose typical magnitude holds both ends of the printed range: '40-75' is a
    percentage of neutrophils, '2.0-7.0' an absolute count."""
    ref = choose_range(item.ranges, context.sex)
    if ref is None or ref.low is None or ref.high is None:
        return None
    fits = [
        (a, u)
        for a, u in options
        if a.is_typical(ref.low * a.units[u]) and a.is_typical(ref.high * a.units[u])
    ]
    return fits[0] if len({a.key for a, _ in fits}) == 1 else None


def _dedupe_options(options: list[tuple[AnalyteDef, str]]) -> list[tuple[AnalyteDef, str]]:
    """Units with the same factor (10*3/uL vs 10*9/L) are one reading, keep the first."""
    seen: set[tuple[str, float]] = set()
    out = []
    for a, u in options:
        sig = (a.key, a.units[u])
        if sig not in seen:
            seen.add(sig)
            out.append((a, u))
    return out


def _same_family(options: list[tuple[AnalyteDef, str]]) -> bool:
    families = {a.family for a, _ in options}
    return len(families) == 1 and None not in families


def _resolve_pending(
    p: _Pending, readings: list[tuple[int, AnalyteReading]], warnings: list[ReadingWarning]
) -> AnalyteReading | None:
    """Percent or absolute? Decide from what the rest of the report says, or mark uncertain."""
    taken = {r.key for _, r in readings if r.status != "uncertain"}
    free = [(a, u) for a, u in p.options if a.key not in taken]
    reason = None
    choice: list[tuple[AnalyteDef, str]] = []
    if len({a.key for a, _ in free}) == 1 and len({a.key for a, _ in p.options}) > 1:
        choice, reason = free, "the other form of this count is printed elsewhere"
    elif p.section and p.options[0][0].family in _DIFFERENTIAL:
        choice = [(a, u) for a, u in p.options if a.form == p.section]
        reason = f"printed under a {'absolute' if p.section == 'abs' else 'differential (percent)'} heading"
    if not choice and p.options[0][0].family in _DIFFERENTIAL:
        # only the white-cell differential is printed as a block of percent or absolute rows
        near = [r for i, r in readings if abs(i - p.row_index) <= 6 and r.status != "uncertain"]
        forms = {analyte(r.key).form for r in near if analyte(r.key).family in _DIFFERENTIAL}
        if len(forms) == 1:
            form = forms.pop()
            choice = [(a, u) for a, u in p.options if a.form == form]
            kind = "absolute counts" if form == "abs" else "percentages"
            reason = f"neighbouring differential rows are {kind}"
    notes = list(p.notes)
    if len(choice) == 1 or (choice and len({a.key for a, _ in choice}) == 1):
        a, u = choice[0]
        notes.append(f"percent or absolute not printed; read as {a.key} because {reason}")
        if p.item.unit_ucum is None:
            notes.append(f"unit not printed; assumed {u}")
        return _make_reading(p.item, p.row, a, u, None, "assumed", notes)
    a, u = p.options[0]
    alternatives = ", ".join(sorted({x.key for x, _ in p.options} - {a.key}))
    notes.append(f"could be {a.key} or {alternatives}; nothing on the report decides")
    warnings.append(
        ReadingWarning(
            "ambiguous_analyte", f"{a.family} printed without unit: percent or absolute count unclear", a.key
        )
    )
    return _make_reading(p.item, p.row, a, u, None, "uncertain", notes)


def _make_reading(
    item: RawItem,
    row: TextRow,
    a: AnalyteDef,
    unit: str,
    context: HeaderContext | None,
    status: str,
    notes: list[str],
) -> AnalyteReading:
    value = item.number.value
    sex = context.sex if context else None
    ref = choose_range(item.ranges, sex)
    if ref is None and item.ranges:
        notes.append("several sex-specific reference ranges printed and sex unknown; none chosen")
    confidence = _value_confidence(row, item.value_text) * _MATCH_FACTOR[item.match.method]
    if item.match.method == "fuzzy":
        notes.append(f"{NAME_APPROXIMATE} ({item.match.score:.0f}/100)")
    if item.number.ocr_fixed:
        letters = "letter read as digit" in item.number.notes
        # a colon for the point leaves the digits as read: less doubt than a letter for a digit
        confidence *= 0.6 if letters else 0.8
        status = "uncertain"
        if letters:
            notes.append("a letter in the printed value was read as a digit")
    if item.number.truncated:
        confidence *= 0.6
        status = "uncertain"
        notes.append(TRUNCATED)
    notes.extend(n for n in item.number.notes if n != "letter read as digit")
    if status == "assumed":
        confidence *= 0.9
    if confidence < LOW_CONFIDENCE and status in ("ok", "assumed"):
        status = "uncertain"
        notes.append("low OCR confidence")
    flag = item.flag
    if ref is not None and flag == "A":
        # "*" only says abnormal; the range tells the direction
        if ref.high is not None and value > ref.high:
            flag = "H"
        elif ref.low is not None and value < ref.low:
            flag = "L"
    if (
        status in ("ok", "assumed")
        and flag is None
        and ref is not None
        and _decimal_suspect(value, ref, item.number.decimals)
    ):
        status = "uncertain"
        notes.append(DECIMAL_SUSPECT)
    if ref is not None and flag_contradicts(flag, value, ref.low, ref.high):
        status = "uncertain"
        notes.append("printed flag contradicts the value and reference range")
    return AnalyteReading(
        key=a.key,
        loinc=a.loinc,
        display=a.display,
        value=value,
        unit=unit,
        value_canonical=round(to_canonical(a.key, value, unit), 6),
        unit_canonical=a.unit,
        ref_low=ref.low if ref else None,
        ref_high=ref.high if ref else None,
        flag=flag,
        confidence=round(confidence, 3),
        source_text=row.text or " ".join(row.cells),
        status=status,  # type: ignore[arg-type]
        notes=notes,
    )


_RANGE_DECIMAL = re.compile(r"\d[.,]\d")


def _decimal_suspect(value: float, ref: RefRange, decimals: int) -> bool:
    """'14 %' printed against 0.5-2.5 without a flag: a lost decimal point is the likelier story.
    Against an upper limit alone ('13 %' against '< 2.0'), where a tenth of nearly any high value
    fits, only when the value also lacks the decimals its limit is printed with."""
    if ref.high is None or (ref.low is not None and ref.low <= value <= ref.high):
        return False
    if ref.low is None:
        return (
            decimals == 0
            and bool(_RANGE_DECIMAL.search(ref.text))
            and value > 4 * ref.high
            and value * 0.1 <= ref.high
        )
    far = value > 2 * ref.high or value < ref.low / 2
    return far and any(ref.low <= value * f <= ref.high for f in (0.1, 10.0))


def _deduplicate(readings: list[AnalyteReading], warnings: list[ReadingWarning]) -> list[AnalyteReading]:
    """One reading per analyte; two different printed values make it uncertain."""
    by_key: dict[str, AnalyteReading] = {}
    order: list[str] = []
    for r in readings:
        kept = by_key.get(r.key)
        if kept is None:
            by_key[r.key] = r
            order.append(r.key)
            continue
        same = abs(kept.value_canonical - r.value_canonical) <= 0.01 * max(abs(kept.value_canonical), 1e-9)
        if same:
            if r.confidence > kept.confidence:
                by_key[r.key] = r
            continue
        better = r if (r.status != "uncertain" and kept.status == "uncertain") else kept
        better.status = "uncertain"
        better.notes.append("the report prints this analyte twice with different values")
        by_key[r.key] = better
        warnings.append(
            ReadingWarning("conflicting_values", f"{r.key} printed twice with different values", r.key)
        )
    return [by_key[k] for k in order]
