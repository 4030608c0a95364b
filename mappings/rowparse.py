"""Split one printed line into analyte items: name, value, flag, unit, reference range.

Works on the whole line so it handles grid tables, dotted leaders, ``Name: value unit (ref)``
and two analyte columns side by side the same way: a name is the words before a value, and the
tail after the value runs until the next words that name an analyte and are followed by a value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mappings.matching import NameMatch, match_name
from mappings.units import parse_unit
from mappings.values import (
    ParsedNumber,
    RefRange,
    combine_flags,
    find_ranges,
    parse_flag,
    parse_number,
    split_glued_flag,
)

_LEADERS = re.compile(r"(?:\.{2,}|_{2,}|…+|·{2,}|-{3,}|={2,}|:{2,})")
# A unit glued to its number: "13.5g/dL", "4.5mill/cumm", "62%". Only known unit starts, so
# OCR'd numbers like "1O.5" are not split; but any "/letter" ends the number, since a unit OCR
# cut short ("589/c" for "589/cumm") is still a unit.
_GLUED_UNIT = re.compile(
    r"(?<=[\d*])(?=(?:g/|gm|gms|mg/|ug/|mcg|ng/|fl\b|fL\b|pg\b|%|/[A-Za-zµμ]|x10|X10|×10|"
    r"mill|lakh|lac|thou|K/|k/|mmol|umol|µmol|cells|10\^\d|10\*\d))"
)  # "10^"/"10*" only with their exponent: "4,610*" is 4,610 flagged, not 4,6 + "10*"
# "25.4L%", "18.4H%": value, flag and unit in one token
_GLUED_FLAG_UNIT = re.compile(
    r"(\d(?:HH|LL|H|L))(?=%|fL\b|fl\b|pg\b|g/|/|x10|X10|K/|k/|mill|lakh|thou|cells|10\^)"
)
# A name glued to its value by OCR ("Haemoglobin13.5", "MCV90"); a single trailing digit is part
# of the name ("HbA2"), so only decimals or 2+ digits are split off.
_GLUED_NAME = re.compile(
    r"(?<=[A-Za-z]{2})(?=\d+[.,]\d|\d{2,})"  # "Haemoglobin13.5", "MCV90"
    r"|(?<=[A-Za-z]\.)(?=\d+[.,]\d|\d{2,})"  # "R.B.C.3.80"
    r"|(?<=[A-Za-z][%#])(?=\d)"  # "NEUT%57.4", "EOS#0.39"
)
_RANGE_WORDS = {
    "to",
    "up",
    "upto",
    "adult",
    "adults",
    "male",
    "female",
    "men",
    "women",
    "m",
    "f",
    "child",
    "children",
    "newborn",
    "infant",
    "ref",
    "range",
    "normal",
    "reference",
    "bio",
    "biological",
    "interval",
    "<",
    ">",
    "<=",
    ">=",
    "≤",
    "≥",
    "-",
    "–",
    "—",
    ":",
    "less",
    "than",
    "more",
    "greater",
    "below",
    "above",
    "min",
    "max",
    "years",
    "yrs",
    "and",
    "&",
    "|",
}


@dataclass
class RawItem:
    """One analyte-looking item of a line, before it is resolved against the catalog."""

    name_text: str
    match: NameMatch
    number: ParsedNumber
    value_text: str
    flag: str | None = None
    unit_text: str | None = None
    unit_ucum: str | None = None
    ranges: list[RefRange] = field(default_factory=list)
    tail_text: str = ""


def tokenize(text: str) -> list[str]:
    t = _LEADERS.sub(" ", text)
    t = re.sub(r"(?<=\d)°(?=%)", "", t)  # "18.4°%": a stray degree sign before the percent
    t = _GLUED_UNIT.sub(" ", t)
    t = _GLUED_NAME.sub(" ", t)
    t = _GLUED_FLAG_UNIT.sub(r"\1 ", t)
    t = re.sub(r"(?<=[A-Za-z)%#])\s*:\s*", " : ", t)  # "Hemoglobin:13.5"
    t = re.sub(r"(?<=\d)\s*\(\s*(?=[HLA]{1,2}\s*\))", " (", t)  # "11.2(H)"
    # table rules drawn as "|" separate columns but carry no content
    return [
        part
        for tok in t.split()
        if tok.strip("|¦")
        for glued in _split_unit_name(tok)
        for part in _split_flag_unit(glued)
    ]


# a capitalised word after a unit: where the next column's name starts
_NAME_AFTER_UNIT = re.compile(r"(?<=[A-Za-z%])(?=[A-Z][a-z]{3,})")


def _split_unit_name(tok: str) -> tuple[str, ...]:
    """ "million/cummEosinophils": a unit column glued by OCR to the name of the next column of
    a two-column report. Split only where the left part is a unit and the token is not one."""
    if not re.search(r"[/%]", tok) or parse_unit(tok):
        return (tok,)
    for m in _NAME_AFTER_UNIT.finditer(tok):
        left, right = tok[: m.start()], tok[m.start() :]
        if re.search(r"[/%]", left) and parse_unit(left):
            return (left, right)
    return (tok,)


def _split_flag_unit(tok: str) -> tuple[str, ...]:
    """ "HfL", "Llakhs/cumm", "HH%": a flag column printed (or read) without the space before the
    unit column. Split only when the rest is a unit and the whole token is not one ("L/L")."""
    for n in (2, 1):
        flag, rest = tok[:n], tok[n:]
        if flag in ("H", "L", "HH", "LL") and rest and parse_unit(rest) and not parse_unit(tok):
            return (flag, rest)
    return (tok,)


def _value_token(tok: str) -> tuple[ParsedNumber, str | None] | None:
    if tok[:1] in "([" and any(c.isalpha() for c in tok):
        return None  # "(1b)": the name's own "(Hb)" misread, which letter-as-digit would make 16
    num_text, flag = split_glued_flag(tok)
    parsed = parse_number(num_text)
    if parsed is None:
        return None
    return parsed, flag


def _ends_label(tokens: list[str], k: int) -> bool:
    """ "Neutrophils 9: 65.3 %": a number closing a label ("%:" read as "9:") right before the
    value is part of the name, not the result."""
    return tokens[k].endswith(":") and k + 1 < len(tokens) and _value_token(tokens[k + 1]) is not None


def _is_flag(tok: str) -> bool:
    return parse_flag(tok) is not None and tok not in ("-", "+") and tok.lower() not in ("a",)


def _unit_at(tokens: list[str], start: int) -> tuple[int, str, str] | None:
    """Longest unit starting at ``start`` (up to 4 tokens): (length, text, ucum)."""
    for length in (4, 3, 2, 1):
        if start + length > len(tokens):
            continue
        text = " ".join(tokens[start : start + length])
        if length > 1 and not re.search(r"[/%]|lakh|lac|cumm|mm3", text, re.I):
            continue
        if parse_number(text) is not None:
            continue  # a stray "1" is a misread digit, not the UCUM unity
        ucum = parse_unit(text)
        if ucum:
            return length, text, ucum
    return None


def _name_before(tokens: list[str], start: int, end: int) -> tuple[int, NameMatch, str | None] | None:
    """Longest analyte name ending at ``end`` (exclusive); also peels a flag printed before the value."""
    flag = None
    while end > start and _is_flag(tokens[end - 1]) and end - 1 > start:
        flag = combine_flags(flag, parse_flag(tokens[end - 1]))
        end -= 1
    while end > start and not any(c.isalnum() for c in tokens[end - 1].replace("%", "a").replace("#", "a")):
        end -= 1  # ":", "=", "_", "——" between name and value
    # Prefer an exact match over a fuzzy one, and the longest span among equals, so junk left
    # of the name (serial numbers, a previous column's method text) is dropped.
    fallback: tuple[int, NameMatch, str | None] | None = None
    for begin in range(max(start, end - 8), end):
        words = tokens[begin:end]
        if not any(any(c.isalpha() for c in w) for w in words):
            continue
        match = match_name(" ".join(words))
        if match is None:
            continue
        if match.method == "exact":
            return begin, match, flag
        if fallback is None:
            fallback = (begin, match, flag)
    if fallback is None and end - start >= 2 and _is_leader_junk(tokens[end - 1]):
        # a dotted leader read as letters ("Platelets vee 309", "RDWCV. veces 18.4"): drop it
        return _name_before(tokens, start, end - 1)
    if fallback is None and end - start >= 2 and _may_be_leader_junk(tokens[end - 1]):
        found = _name_before(tokens, start, end - 1)  # "Lymphs arr 28.2", "ANC ceases tis 2.28"
        return found if found is not None and found[1].method == "exact" else None
    return fallback


def _is_leader_junk(tok: str) -> bool:
    """Rows of dots come out of OCR as 'vee', 'veces', 'w»', 'ooo': lower-case, round letters."""
    return len(tok) <= 6 and all(c in "vecswoaxnum.,:;_-—–~»«'`°" for c in tok)


def _may_be_leader_junk(tok: str) -> bool:
    """Rarer readings of dots ('arr', 'tis', 'i'): letters that also make words, so only short
    tokens ("Total count of tests 14" is no WBC), and a name left of them counts only when it
    matches exactly."""
    return len(tok) <= 3 and all(c in "vecswoaxnumrtiW.,:;_-—–~»«'`°" for c in tok)


def _is_leader_digits(tok: str) -> bool:
    """A dotted leader some engines read as a run of ones ("1111", "11111"): no result is printed
    as four or more ones, and the caller also needs a number right after it."""
    return len(tok) >= 4 and set(tok) <= set("1l|")


def _starts_range(tokens: list[str], j: int) -> bool:
    """True when tokens[j] is the low end of 'a - b' / 'a to b' rather than a result."""
    dash = j + 2 < len(tokens) and tokens[j + 1] in ("-", "–", "—", "to", "TO", "To")
    if dash and _value_token(tokens[j + 2]):
        return True
    return bool(re.fullmatch(r"[<>≤≥]=?", tokens[j - 1])) if j > 0 else False


def _next_name_start(tokens: list[str], start: int) -> int | None:
    """Index where a new analyte item starts in a tail (two columns side by side), else None."""
    for p in range(start, len(tokens)):
        tok = tokens[p]
        if not any(c.isalpha() for c in tok) or tok.lower() in _RANGE_WORDS or _is_flag(tok):
            continue
        if _unit_at(tokens, p):
            continue
        q = next((k for k in range(p + 1, min(len(tokens), p + 9)) if _value_token(tokens[k])), None)
        if q is None:
            return None
        found = _name_before(tokens, p, q)
        if found is not None and found[0] == p and not found[1].ignored:
            return p
        # names that start with a symbol: "% Saturation", "# Neutrophils"
        if p - 1 > start and tokens[p - 1] in ("%", "#"):
            found = _name_before(tokens, p - 1, q)
            if found is not None and found[0] == p - 1 and not found[1].ignored:
                return p - 1
    return None


def parse_line(text: str) -> list[RawItem]:
    """All analyte items in one printed line (usually 0 or 1, 2+ for side-by-side columns)."""
    tokens = tokenize(text)
    items: list[RawItem] = []
    i = 0
    while i < len(tokens):
        j = next(
            (k for k in range(i + 1, len(tokens)) if _value_token(tokens[k]) and not _ends_label(tokens, k)),
            None,
        )
        if j is None:
            break
        found = _name_before(tokens, i, j)
        if found is None:
            i = j + 1
            continue
        begin, match, pre_flag = found
        name_end = j
        if (
            _is_leader_digits(tokens[j])
            and j + 1 < len(tokens)
            and _value_token(tokens[j + 1])
            and not _starts_range(tokens, j + 1)
        ):
            j += 1  # "Red Cell Distribution Width 1111 11.5 %": the dots read as ones
        if _starts_range(tokens, j):
            # "PCV 35.4Lw 36.0 - 46.0": the value was unreadable and the first number left is a
            # reference-range bound; taking it would be a wrong number, so the item is dropped.
            i = j + 1
            continue
        number, glued_flag = _value_token(tokens[j])  # type: ignore[misc]
        end = _next_name_start(tokens, j + 1)
        end = len(tokens) if end is None else end
        item = RawItem(
            name_text=" ".join(tokens[begin:name_end]).strip(" :-|"),
            match=match,
            number=number,
            value_text=tokens[j],
            flag=combine_flags(pre_flag, glued_flag),
        )
        tail = tokens[j + 1 : end]
        split = _second_value_at(tail)
        _parse_tail(item, tail if split is None else tail[:split])
        items.append(item)
        if split is not None:
            # "Neutrophils 62 % 40-80 4.65 10^3/uL 2.0-7.0": percent and absolute on one row
            number2, flag2 = _value_token(tail[split])  # type: ignore[misc]
            second = RawItem(item.name_text, match, number2, tail[split], flag=flag2)
            _parse_tail(second, tail[split + 1 :])
            if second.unit_ucum and second.unit_ucum != item.unit_ucum:
                items.append(second)
        i = end
    return items


def parse_unnamed(text: str) -> RawItem | None:
    """A line that looks like a result whose name matched nothing ("FOS#  0.34  x10^9/L  0.02-0.50"):
    the name as printed, the value and the tail, with an empty match. For `extract`, which takes
    it only where the CBC relations say which analyte it is."""
    tokens = tokenize(text)
    j = next(
        (k for k in range(1, len(tokens)) if _value_token(tokens[k]) and not _ends_label(tokens, k)),
        None,
    )
    if j is None or _starts_range(tokens, j) or j > 6:
        return None
    name = " ".join(tokens[:j]).strip(" :-|.,")
    if not re.search(r"[A-Za-z]{2}", name):
        return None
    number, flag = _value_token(tokens[j])  # type: ignore[misc]
    item = RawItem(name, NameMatch((), 0.0, "fuzzy", None), number, tokens[j], flag=flag)
    _parse_tail(item, tokens[j + 1 :])
    return item


def _second_value_at(tail: list[str]) -> int | None:
    """Index of a second value with its own unit after the first unit (not a range bound)."""
    first_unit = None
    p = 0
    while p < len(tail):
        u = _unit_at(tail, p)
        if first_unit is None:
            if u:
                first_unit = u[2]
                p += u[0]
                continue
            p += 1
            continue
        before = tail[p - 1].lower()
        u2 = _unit_at(tail, p + 1) if _value_token(tail[p]) and before not in _RANGE_WORDS else None
        if u2 is not None and u2[2] != first_unit:
            return p
        p += 1
    return None


def _parse_tail(item: RawItem, tail: list[str]) -> None:
    rest: list[str] = []
    p = 0
    while p < len(tail):
        tok = tail[p]
        if item.unit_ucum is None and (u := _unit_at(tail, p)):
            item.unit_text, item.unit_ucum = u[1], u[2]
            p += u[0]
            continue
        if p + 1 < len(tail) and (two := parse_flag(f"{tok} {tail[p + 1]}")) is not None:
            item.flag = combine_flags(item.flag, two)  # "Critical Low", "Panic High"
            p += 2
            continue
        flag = parse_flag(tok.strip("[].,:;")) if tok not in ("-", "+") else None
        # a lone "-" is a range dash; a lone upper-case "A" is a flag only at the tail's edges
        if flag is not None and tok != "a" and (tok != "A" or p in (0, len(tail) - 1)):
            item.flag = combine_flags(item.flag, flag)
            p += 1
            continue
        rest.append(tok)
        p += 1
    tail_text = " ".join(rest)
    item.tail_text = tail_text
    item.ranges = find_ranges(tail_text)
    if not item.ranges:
        # low and high printed in two separate columns: "13.0   17.0"
        nums = [parse_number(t) for t in rest]
        if len(rest) == 2 and all(nums) and nums[0].value < nums[1].value:  # type: ignore[union-attr]
            item.ranges = [RefRange(nums[0].value, nums[1].value, None, tail_text)]  # type: ignore[union-attr]
