"""Patient/report context from the header block: sex, age, pregnancy, dates, name, identifiers.

The same patterns also tell the extractor which rows are header lines, so "Age: 34" or a date
is never mistaken for a result. Warnings name the field, never its value (PHI).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from mappings.readings import HeaderContext, ReadingWarning
from mappings.rows import TextRow

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1
    )
}

_DATE = (
    r"(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}"
    r"|\d{1,2}[\s\-/.]*[A-Za-z]{3,9}[\s\-/.,]*\d{2,4}|[A-Za-z]{3,9}\s+\d{1,2},?\s+\d{4})"
)

# Labels that only ever appear in header blocks. A row matching any of them is not a result row.
_HEADER_LABELS = re.compile(
    r"\b(?:patient'?s?\s*name|pt\.?\s*name|name|age|sex|gender|d\.?o\.?b|date\s*of\s*birth|"
    r"uhid|mrn|mr\.?\s*no|patient\s*id|pid|reg(?:istration)?\.?\s*(?:no|id)|ip\s*no|op\s*no|"
    r"lab\s*(?:no|id)|sample\s*(?:id|no|type|date|collected|drawn)|specimen|accession|barcode|"
    r"bill\s*no|visit|ref(?:erred|\.)?\s*by|referring|consultant|doctor|physician|clinician|"
    r"collect(?:ed|ion)|received|registered|reported|report\s*(?:date|status)|released|"
    r"authori[sz]ed|printed|address|phone|mobile|e-?mail|location|ward|bed\s*no|client|"
    r"pregnan(?:t|cy)|trimester|gestation|lmp|patient|drawn|clinical\s*(?:details|history|notes|info))\b(?:\s*(?:on|date|at|time|no\.?|id|&\s*time))*\s*[:\-/]",
    re.I,
)
_NAME = re.compile(
    r"(?:patient'?s?\s*name|pt\.?\s*name|name\s*of\s*(?:the\s*)?patient|\bname|\bpatient)\s*[:\-]\s*"
    r"(?P<v>.+?)(?=\s{2,}|\s*\|\s*|\s+(?:age|sex|gender|uhid|mrn|id|date|ref|dob|d\.o\.b)\b|$)",
    re.I,
)
_IDENT = re.compile(
    r"\b(?:uhid|mrn|mr\.?\s*no|patient\s*id|pid|reg(?:istration)?\.?\s*(?:no|id)|"
    r"hospital\s*no|ip\s*no|patient\s*no|cr\s*no)\.?\s*[:\-]?\s*(?P<v>[A-Za-z0-9][\w\-/]*)",
    re.I,
)
_AGE_SEX = re.compile(
    r"\b(?:age\s*/\s*(?:sex|gender)|age\s*&\s*sex)\s*[:\-]?\s*(?P<age>[^/|]+?)\s*/\s*"
    r"(?P<sex>male|female|m|f)\b",
    re.I,
)
_SEX_AGE = re.compile(
    r"\b(?:sex|gender)\s*/\s*age\s*[:\-]?\s*(?P<sex>male|female|m|f)\s*/\s*(?P<age>[^|]+)", re.I
)
_AGE = re.compile(
    r"(?<!gestational )(?<!gestation )\bage\s*[:\-]?\s*"
    r"(?P<age>\d[\d.]*\s*(?:[a-z]+)?(?:\s*\d+\s*[a-z]+){0,2})",
    re.I,
)
_SEX = re.compile(r"\b(?:sex|gender)\s*[:\-]?\s*(?P<sex>male|female|m|f)\b", re.I)
# "Age : 34 Y / F" and "Age: 34Y(M)" print sex right after the age without its own label
_AGE_THEN_SEX = re.compile(r"\bage\s*[:\-]?\s*\d+[\d.]*\s*[a-z]*\s*[/(]\s*(?P<sex>male|female|m|f)\b", re.I)
_AGE_PART = re.compile(
    r"(?P<n>\d+(?:\.\d+)?)\s*(?P<u>y(?:ea)?r?s?|yrs?|m(?:on)?(?:th)?s?|mo|w(?:ee)?ks?|d(?:ays?)?)?", re.I
)
_COLLECTED = re.compile(
    rf"(?:collect(?:ed|ion)|sample\s*(?:date|drawn|collected)|drawn|sampling)"
    rf"\s*(?:date|on|at|time|date\s*&\s*time)?\s*[:\-]?\s*(?P<d>{_DATE})",
    re.I,
)
_REPORTED = re.compile(
    rf"(?:report(?:ed)?|reporting|released|authori[sz]ed)\s*(?:date|on|at|time|date\s*&\s*time)?"
    rf"\s*[:\-]?\s*(?P<d>{_DATE})",
    re.I,
)
_DOB = re.compile(rf"(?:d\.?o\.?b\.?|date\s*of\s*birth)\s*[:\-]?\s*(?P<d>{_DATE})", re.I)
_PREGNANT = re.compile(
    r"\bpregnan(?:t|cy)\s*(?:status)?\s*[:\-]?\s*(?P<v>yes|no|y|n|positive|negative)\b", re.I
)
_TRIMESTER = re.compile(
    r"\b(?P<a>1st|2nd|3rd|first|second|third)\s*trimester|\btrimester\s*[:\-]?\s*"
    r"(?P<b>[123]|iii|ii|i)\b",
    re.I,
)
_WEEKS = re.compile(
    r"(?:gestation(?:al)?\s*(?:age)?|\bga|pregnan(?:t|cy))\s*[:\-]?\s*(?P<w>\d{1,2})\s*(?:weeks?|wks?)"
    r"|(?P<w2>\d{1,2})\s*(?:weeks?|wks?)\s*(?:of\s*)?(?:gestation|pregnan)",
    re.I,
)
_LAB = re.compile(
    r"\b(?:laborator(?:y|ies)|diagnostics?|patholog(?:y|ists?)|labs?|hospital|clinic|"
    r"medical\s*cent(?:er|re)|healthcare)\b",
    re.I,
)
# Column titles of a results table ("Test Name  Result  Reference Range  Lab"): two or more of
# them make a table's header row, not the laboratory's name.
_COLUMN_TITLE = re.compile(
    r"\b(?:test(?:\s*name)?|investigations?|parameters?|results?|observed|units?|flags?|"
    r"reference|range|interval|in\s*range|out\s*of\s*range|specimen)\b",
    re.I,
)


def _is_column_titles(text: str) -> bool:
    return len({m.group(0).lower() for m in _COLUMN_TITLE.finditer(text)}) >= 2


_TITLE = re.compile(r"^\s*(?P<t>mr|mrs|ms|miss|master|smt|shri|sri)\b\.?", re.I)
_ORDINAL = {
    "1st": 1,
    "first": 1,
    "i": 1,
    "1": 1,
    "2nd": 2,
    "second": 2,
    "ii": 2,
    "2": 2,
    "3rd": 3,
    "third": 3,
    "iii": 3,
    "3": 3,
}


def parse_date(text: str) -> tuple[dt.date | None, bool]:
    """(date, ambiguous) for printed dates; numeric d/m vs m/d ambiguity is read day-first."""
    t = text.strip().rstrip(",.")
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", t)
    try:
        if m:
            return dt.date(int(m[1]), int(m[2]), int(m[3])), False
        m = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{2,4})", t)
        if m:
            a, b, y = int(m[1]), int(m[2]), int(m[3])
            y = y + 2000 if y < 100 else y
            if a > 12:
                return dt.date(y, b, a), False
            if b > 12:
                return dt.date(y, a, b), False
            return dt.date(y, b, a), a != b
        m = re.fullmatch(r"(\d{1,2})[\s\-/.]*([A-Za-z]{3,9})[\s\-/.,]*(\d{2,4})", t)
        if m and m[2][:3].lower() in _MONTHS:
            y = int(m[3])
            return dt.date(y + 2000 if y < 100 else y, _MONTHS[m[2][:3].lower()], int(m[1])), False
        m = re.fullmatch(r"([A-Za-z]{3,9})\s+(\d{1,2}),?\s+(\d{4})", t)
        if m and m[1][:3].lower() in _MONTHS:
            return dt.date(int(m[3]), _MONTHS[m[1][:3].lower()], int(m[2])), False
    except ValueError:
        return None, False
    return None, False


def parse_age(text: str) -> float | None:
    """'34 Years', '34Y', '6 Months', '2Y 3M', '10 D' -> years."""
    total = 0.0
    found = False
    for m in _AGE_PART.finditer(text):
        n = float(m["n"])
        unit = (m["u"] or "y").lower()
        if unit.startswith("y"):
            total += n
        elif unit.startswith("mo") or unit == "m" or unit.startswith("mon") or unit == "ms":
            total += n / 12
        elif unit.startswith("w"):
            total += n * 7 / 365.25
        elif unit.startswith("d"):
            total += n / 365.25
        else:
            total += n
        found = True
    if not found or total > 130:
        return None
    return round(total, 3)


def _swap_day_month(d: dt.date) -> dt.date | None:
    try:
        return dt.date(d.year, d.day, d.month)
    except ValueError:
        return None


def _settle_ambiguous_dates(
    ctx: HeaderContext, ambiguous: dict[str, str], warnings: list[ReadingWarning]
) -> None:
    """Use the other date to settle d/m vs m/d: a CBC is reported within days of collection."""
    for attr, label in ambiguous.items():
        other_attr = "reported" if attr == "collected" else "collected"
        this, other = getattr(ctx, attr), getattr(ctx, other_attr)
        swapped = _swap_day_month(this) if this else None
        if other is not None and other_attr not in ambiguous and swapped is not None:

            def fits(d: dt.date, other: dt.date = other, attr: str = attr) -> bool:
                gap = (other - d).days if attr == "collected" else (d - other).days
                return 0 <= gap <= 14

            choices = [d for d in (this, swapped) if fits(d)]
            if len(choices) == 1:
                setattr(ctx, attr, choices[0])
                continue
        warnings.append(
            ReadingWarning("date_ambiguous", f"{label} date could be day/month or month/day; read day-first")
        )


def _sex(word: str) -> str:
    return "male" if word.lower() in ("m", "male") else "female"


def is_header_line(text: str) -> bool:
    return bool(_HEADER_LABELS.search(text))


def extract_header(rows: Sequence[TextRow]) -> tuple[HeaderContext, set[int], list[ReadingWarning]]:
    """Header context, the indices of rows that are header lines, and warnings (no PHI)."""
    ctx = HeaderContext()
    header_rows: set[int] = set()
    warnings: list[ReadingWarning] = []
    dob: dt.date | None = None
    ambiguous_dates: dict[str, str] = {}  # attr -> label, for dates that could be d/m or m/d
    for i, row in enumerate(rows):
        text = " ".join(row.cells) if row.cells and not row.text else row.text
        pregnancy_note = bool(_PREGNANT.search(text) or _TRIMESTER.search(text) or _WEEKS.search(text))
        if not (is_header_line(text) or pregnancy_note):
            if (
                ctx.lab_name is None
                and i < 6
                and _LAB.search(text)
                and not re.search(r"\d", text)
                and not _is_column_titles(text)
            ):
                ctx.lab_name = text.strip()
                header_rows.add(i)
            continue
        header_rows.add(i)
        if ctx.patient_name is None and (m := _NAME.search(text)):
            ctx.patient_name = m["v"].strip(" :-|") or None
        if ctx.patient_identifier is None and (m := _IDENT.search(text)):
            ctx.patient_identifier = m["v"]
        if m := (_AGE_SEX.search(text) or _SEX_AGE.search(text)):
            ctx.age_years = ctx.age_years if ctx.age_years is not None else parse_age(m["age"])
            ctx.sex = ctx.sex or _sex(m["sex"])  # type: ignore[assignment]
        if ctx.age_years is None and (m := _AGE.search(text)):
            ctx.age_years = parse_age(m["age"])
        if ctx.sex is None and (m := _SEX.search(text) or _AGE_THEN_SEX.search(text)):
            ctx.sex = _sex(m["sex"])  # type: ignore[assignment]
        for pattern, attr, label in (
            (_COLLECTED, "collected", "collection"),
            (_REPORTED, "reported", "report"),
        ):
            if getattr(ctx, attr) is None and (m := pattern.search(text)):
                date, ambiguous = parse_date(m["d"])
                setattr(ctx, attr, date)
                if ambiguous:
                    ambiguous_dates[attr] = label
        if dob is None and (m := _DOB.search(text)):
            dob, _ = parse_date(m["d"])
        if m := _PREGNANT.search(text):
            ctx.pregnant = m["v"].lower() in ("yes", "y", "positive")
        if m := _TRIMESTER.search(text):
            ctx.trimester = _ORDINAL[(m["a"] or m["b"]).lower()]
            ctx.pregnant = True if ctx.pregnant is None else ctx.pregnant
        elif ctx.trimester is None and (m := _WEEKS.search(text)):
            weeks = int(m["w"] or m["w2"])
            ctx.trimester = 1 if weeks < 14 else 2 if weeks < 28 else 3
            ctx.pregnant = True if ctx.pregnant is None else ctx.pregnant
    _settle_ambiguous_dates(ctx, ambiguous_dates, warnings)
    if ctx.age_years is None and dob is not None:
        ref = ctx.collected or ctx.reported
        if ref is not None and ref >= dob:
            ctx.age_years = round((ref - dob).days / 365.25, 3)
            warnings.append(ReadingWarning("age_from_dob", "age computed from date of birth"))
    if ctx.sex is None and ctx.patient_name and (m := _TITLE.match(ctx.patient_name)):
        title = m["t"].lower()
        ctx.sex = "male" if title in ("mr", "master", "shri", "sri") else "female"
        warnings.append(ReadingWarning("sex_from_title", "sex not printed; inferred from the name title"))
    if ctx.pregnant and ctx.sex is None:
        ctx.sex = "female"
    return ctx, header_rows, warnings
