"""Parsing printed numbers, reference ranges and abnormal flags.

Everything here works on short strings (one cell or token) and never guesses silently: when a
number needed a letter->digit fix or had an ambiguous separator, the result says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# OCR engines confuse these letters with digits inside numbers ("1O.5", "l2.4", "S.2").
_LETTER_DIGITS = {
    "O": "0",
    "o": "0",
    "D": "0",
    "Q": "0",
    "l": "1",
    "I": "1",
    "|": "1",
    "i": "1",
    "S": "5",
    "s": "5",
    "B": "8",
    "Z": "2",
    "z": "2",
    "G": "6",
    "b": "6",
    "g": "9",
}

_FLAG_WORDS: dict[str, str] = {
    "h": "H",
    "high": "H",
    "hi": "H",
    "↑": "H",
    "(h)": "H",
    "[h]": "H",
    "h*": "H",
    "+": "H",
    "l": "L",
    "low": "L",
    "lo": "L",
    "↓": "L",
    "(l)": "L",
    "[l]": "L",
    "l*": "L",
    "-": "L",
    "hh": "HH",
    "h!": "HH",
    "h!!": "HH",
    "↑↑": "HH",
    "(hh)": "HH",
    "critical high": "HH",
    "critically high": "HH",
    "panic high": "HH",
    "ch": "HH",
    "ll": "LL",
    "l!": "LL",
    "l!!": "LL",
    "↓↓": "LL",
    "(ll)": "LL",
    "critical low": "LL",
    "critically low": "LL",
    "panic low": "LL",
    "cl": "LL",
    "a": "A",
    "abnormal": "A",
    "abn": "A",
    "*": "A",
    "**": "A",
    "!": "A",
    "(a)": "A",
}
# Subset that may be glued to a number ("11.2L", "*8.1", "↑15"); single "+"/"-" are signs there.
_GLUED_FLAG = re.compile(
    r"^(?P<pre>[*↑↓!]{1,2})?(?P<num>.*?)"
    r"(?P<post>\(?(?:HH|LL|H|L|(?i:high|low))\)?\*?|\(A\)|[*↑↓!]{1,2})?$"
)


_ARROW_AS_T = re.compile(r"^\d[\d,.]*\dt$|^\dt$")


@dataclass(frozen=True, slots=True)
class ParsedNumber:
    value: float
    decimals: int  # digits printed after the decimal separator
    ocr_fixed: bool = False  # a letter had to be read as a digit, or a colon as the point
    notes: tuple[str, ...] = field(default_factory=tuple)
    truncated: bool = False  # "4." : a digit after the decimal point was probably lost


_NUMBER_CHARS = re.compile(r"^[0-9OoDQlIi|SsBZzGbg.,]+$")
# "16:8": a decimal point OCR read as a colon. No CBC result is printed with a colon, and times
# ("10:30") sit in header lines, which never reach the value parser. Reported as an OCR fix, so
# the value stays doubtful unless the other engine or the CBC relations confirm it.
_COLON_AS_POINT = re.compile(r"^\d{1,4}:\d{1,3}$")
COLON_POINT = "colon read as decimal point"


def _digits_only(text: str) -> tuple[str, bool]:
    fixed = False
    out = []
    for ch in text:
        if ch.isdigit() or ch in ".,":
            out.append(ch)
        elif ch in _LETTER_DIGITS:
            out.append(_LETTER_DIGITS[ch])
            fixed = True
        else:
            raise ValueError(text)
    return "".join(out), fixed


def _resolve_separators(t: str) -> tuple[str, tuple[str, ...]]:
    """Return a plain '123.45' string from grouped/decimal-comma forms."""
    notes: list[str] = []
    if "," in t and "." in t:
        # "1,234.5" (grouping + point) or "1.234,5" (European)
        if t.rfind(",") < t.rfind("."):
            return t.replace(",", ""), ()
        return t.replace(".", "").replace(",", "."), ()
    if "," in t:
        parts = t.split(",")
        indian = len(parts) >= 3 and all(len(p) == 2 for p in parts[1:-1]) and len(parts[-1]) == 3
        # "0,300" is a decimal comma (no one groups 300 as 0,300)
        western = all(len(p) == 3 for p in parts[1:]) and 1 <= len(parts[0]) <= 3 and parts[0] != "0"
        if indian or western:
            return t.replace(",", ""), ()
        if len(parts) == 2:
            return parts[0] + "." + parts[1], ("decimal comma",)
        raise ValueError(t)
    if t.count(".") > 1:
        parts = t.split(".")
        if all(len(p) == 3 for p in parts[1:]):
            notes.append("dots read as thousands separators")
            return t.replace(".", ""), tuple(notes)
        raise ValueError(t)
    return t, ()


_PRINTED_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def printed_numbers(text: str) -> list[ParsedNumber]:
    """Every number printed in `text` ("4.41", "1,50,000", "11,0"), as `parse_number` reads it."""
    found = (parse_number(tok) for tok in _PRINTED_NUMBER.findall(text))
    return [n for n in found if n is not None]


def parse_number(text: str) -> ParsedNumber | None:
    """Parse one printed number; None if the text is not a number.

    Accepts decimal commas, Western and Indian grouping (1,50,000), leading zeros and common
    OCR letter/digit confusions (reported through ``ocr_fixed``). Requires at least one real
    digit so words such as "SI" or "Bl" are never read as numbers.
    """
    t = text.strip().strip("()[]").rstrip(":;\"'”’")  # quotes: stray marks or a misread "*"
    truncated = False
    if t[-1:] in (".", ","):
        # "13.5." is punctuation after a number; "4." usually lost the digit after the point
        t = t[:-1]
        truncated = "." not in t and "," not in t
    colon = bool(_COLON_AS_POINT.match(t))
    if colon:
        t = t.replace(":", ".")
    if not t or not _NUMBER_CHARS.match(t) or not any(c.isdigit() for c in t):
        return None
    if t[0] in ".," and len(t) > 1:
        t = "0" + t  # ".5" printed without the leading zero
    try:
        digits, fixed = _digits_only(t)
        plain, notes = _resolve_separators(digits)
        if plain.endswith(".") or plain.startswith("."):
            return None
        value = float(plain)
    except ValueError:
        return None
    decimals = len(plain.split(".")[1]) if "." in plain else 0
    if fixed:
        notes = (*notes, "letter read as digit")
    if colon:
        notes = (*notes, COLON_POINT)
    return ParsedNumber(
        value=value, decimals=decimals, ocr_fixed=fixed or colon, notes=notes, truncated=truncated
    )


def split_glued_flag(token: str) -> tuple[str, str | None]:
    """'11.2L' -> ('11.2', 'L'); '*8.1' -> ('8.1', 'A'); '↑15' -> ('15', 'H')."""
    if _ARROW_AS_T.match(token.strip()):
        # "3,428t": an up arrow glued to the value, read as a t; no result ends in a t
        return token.strip()[:-1], "A"
    m = _GLUED_FLAG.match(token.strip())
    if not m or not m.group("num"):
        return token, None
    flag = None
    for part in (m.group("pre"), m.group("post")):
        if part:
            flag = combine_flags(flag, parse_flag(part.rstrip("*")) or parse_flag(part))
    if flag is None:
        return token, None
    # "IL" or "lL" could be OCR for "11": only accept a glued letter flag after a real digit.
    num = m.group("num")
    if not num or not num[-1].isdigit():
        return token, None
    return num, flag


def parse_flag(text: str) -> str | None:
    """Printed abnormal flag -> FHIR interpretation code H, L, HH, LL or A (None if not a flag)."""
    t = " ".join(text.strip().lower().split())
    if not t:
        return None
    return _FLAG_WORDS.get(t)


def flag_contradicts(flag: str | None, value: float, low: float | None, high: float | None) -> bool:
    """A low flag on a value above its range, or a high flag below it: the value or the flag
    was misread ("6,5 (L)" for 0,5 with range 1.0-6.0; "7.1L" for 7.11, its 1 read as an L)."""
    if flag in ("L", "LL") and high is not None:
        return value > high
    if flag in ("H", "HH") and low is not None:
        return value < low
    return False


def combine_flags(a: str | None, b: str | None) -> str | None:
    """Keep the more specific flag: direction beats 'A', critical beats plain."""
    if a is None or b is None:
        return a or b
    rank = {"A": 0, "H": 1, "L": 1, "HH": 2, "LL": 2}
    return a if rank[a] >= rank[b] else b


# ---- reference ranges -------------------------------------------------------------------------

_NUM = r"\d[\d,]*(?:\.\d+)?|\.\d+"
_DASH = r"(?:-|–|—|‑|~|to|TO|To)"
_RANGE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"(?P<a>{_NUM})\s*{_DASH}\s*(?P<b>{_NUM})"), "between"),
    (re.compile(rf"(?:<=|≤|<|less than|up\s*to|upto|below|max\.?)\s*(?P<b>{_NUM})", re.I), "upper"),
    (re.compile(rf"(?:>=|≥|>|more than|greater than|above|min\.?)\s*(?P<a>{_NUM})", re.I), "lower"),
)


@dataclass(frozen=True, slots=True)
class RefRange:
    low: float | None
    high: float | None
    label: str | None = None  # "male", "female", "adult", ... when the range was labelled
    text: str = ""


def _num(s: str) -> float:
    parsed = parse_number(s)
    if parsed is None:
        raise ValueError(s)
    return parsed.value


_SEX_LABEL = re.compile(r"\b(male|female|men|women|m|f)\b[)\]]?\s*[:\-]?\s*$", re.I)


def find_ranges(text: str) -> list[RefRange]:
    """All reference ranges in a string, e.g. '13.0 - 17.0', '< 5', 'M: 13-17 F: 12-15'."""
    out: list[RefRange] = []
    taken: list[tuple[int, int]] = []
    for pattern, kind in _RANGE_PATTERNS:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            try:
                low = _num(m.group("a")) if kind in ("between", "lower") else None
                high = _num(m.group("b")) if kind in ("between", "upper") else None
            except ValueError:
                continue
            if low is not None and high is not None and low > high:
                continue
            label = None
            lm = _SEX_LABEL.search(text[: m.start()])
            if lm:
                word = lm.group(1).lower()
                label = "male" if word in ("male", "men", "m") else "female"
            taken.append((m.start(), m.end()))
            out.append(RefRange(low, high, label, m.group(0)))
    out.sort(key=lambda r: text.find(r.text))
    return out


def choose_range(ranges: list[RefRange], sex: str | None) -> RefRange | None:
    """One range for the patient: the sex-labelled one if known, the only one otherwise."""
    if not ranges:
        return None
    labelled = [r for r in ranges if r.label]
    if labelled and sex:
        for r in labelled:
            if r.label == sex:
                return r
    if len(ranges) == 1 or not labelled:
        return ranges[0]
    return None  # several sex-specific ranges and sex unknown: do not pick one
