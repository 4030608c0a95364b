"""Checks on OCR'd readings that need to know how OCR fails, so they live here, not in mappings.

A flag arrow glued to a value ("15.1↑") is often read by Tesseract as one more digit ("15.17",
"15.11"): the number stays plausible and consistent, so nothing downstream notices. Arrows are
printed only for abnormal values, and labs print values with the precision of their reference
range, so an abnormal, unflagged value with one decimal more than its range, ending in a digit
an arrow looks like, is read without that digit, flagged, and reported as repaired (as uncertain
where the shorter value is in range, where no arrow is printed). A value above its range whose
last digit, a 1, may be a glued "L" (without it the value is low), on a report that flags its
abnormal values, is reported as uncertain. Likewise a value whose last digit was lost ("5. I")
stays uncertain even when the CBC sums do not object.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from mappings.readings import AnalyteReading
from mappings.values import printed_numbers

_ARROW_DIGITS = "17"


def _decimals(source: str, value: float) -> int | None:
    for p in printed_numbers(source):
        if abs(p.value - value) <= 1e-9 * max(1.0, abs(value)):
            return p.decimals
    return None


def printed_digits(a: AnalyteReading) -> tuple[str, int] | None:
    """The value's digits as printed, without the decimal point, and its number of decimals."""
    d = _decimals(a.source_text, a.value)
    return None if d is None else (f"{a.value:.{d}f}".replace(".", ""), d)


def arrow_read_as_digit(a: AnalyteReading) -> bool:
    if a.flag or a.ref_low is None or a.ref_high is None:
        return False
    if a.ref_low <= a.value <= a.ref_high:
        return False  # a normal value carries no arrow
    text = a.source_text
    d_val = _decimals(text, a.value)
    d_ref = max((_decimals(text, r) or 0) for r in (a.ref_low, a.ref_high))
    if d_val is None or d_ref < 1 or d_val != d_ref + 1:
        return False
    last = f"{a.value:.{d_val}f}"[-1]
    return last in _ARROW_DIGITS


def arrow_dropped(a: AnalyteReading) -> AnalyteReading | None:
    """`a` (see `arrow_read_as_digit`) without its last digit, flagged as the arrow said: "7.71"
    with range 12.0-16.0 is 7.7↓. None if the shorter value would be inside the range, where no
    arrow is printed, so the digit may be real after all."""
    d = _decimals(a.source_text, a.value)
    if d is None or a.ref_low is None or a.ref_high is None:
        return None
    shorter = float(f"{a.value:.{d}f}"[:-1])
    flag = "H" if shorter > a.ref_high else "L" if shorter < a.ref_low else None
    if flag is None or not a.value:
        return None
    return dataclasses.replace(
        a,
        value=shorter,
        value_canonical=round(a.value_canonical * shorter / a.value, 6),
        flag=flag,
        status="repaired",
        confidence=round(min(a.confidence, 0.8), 3),
        notes=[
            *a.notes,
            f"printed {a.value:g} has one decimal more than its reference range and ends in a digit "
            f"a flag arrow reads as; read as {shorter:g} {'↑' if flag == 'H' else '↓'}",
        ],
    )


def low_flag_read_as_digit(a: AnalyteReading) -> bool:
    """ "42L" read as 421 (Tesseract takes an L glued to a number for a 1): above the range and
    unflagged, while the value without that last 1 is below it, where an L flag belongs."""
    if a.flag or a.ref_low is None or a.ref_high is None or a.value <= a.ref_high:
        return False
    d_val = _decimals(a.source_text, a.value)
    if d_val is None:
        return False
    printed = f"{a.value:.{d_val}f}"
    if not printed.endswith("1") or len(printed.replace(".", "")) < 2:
        return False
    shorter = float(printed[:-1].rstrip("."))
    return shorter < a.ref_low


def digit_lost(a: AnalyteReading) -> bool:
    """ "5. I" read as 5.0: the CBC sums cannot tell 5.0 from 5.1, so agreement with them is no
    evidence for the lost digit."""
    return any("digit after it was probably lost" in n for n in a.notes)


def mark_ocr_suspects(analytes: Iterable[AnalyteReading], trusted_sources: set[str]) -> list[AnalyteReading]:
    analytes = list(analytes)
    # a report that flags abnormal values elsewhere would have flagged this one too
    flags_in_use = any(a.flag for a in analytes)
    out = []
    for a in analytes:
        if a.source_text not in trusted_sources and a.status != "uncertain":
            if arrow_read_as_digit(a):
                a = arrow_dropped(a) or dataclasses.replace(
                    a, status="uncertain", notes=[*a.notes, "last digit may be a misread flag arrow (↑/↓)"]
                )
            elif flags_in_use and low_flag_read_as_digit(a):
                a = dataclasses.replace(
                    a, status="uncertain", notes=[*a.notes, "last digit may be a misread flag L"]
                )
            elif digit_lost(a):
                a = dataclasses.replace(
                    a, status="uncertain", notes=[*a.notes, "low OCR confidence: digit lost"]
                )
        out.append(a)
    return out
