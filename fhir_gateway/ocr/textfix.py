"""Engine-specific misreads of unit notation, fixed before mapping.

Tesseract reads the caret of "10^3/uL" as "A", "4" or "%" ("10A3/uL", "1043/uL") and a lone "%" as
"%o". Only whole tokens of exactly
these shapes are rewritten, and never a digit, so no value can change.
"""

from __future__ import annotations

import re

_POWER = re.compile(
    r"^(?P<x>[xX×*]?)10[A4\^*%](?P<exp>3|6|9|12)(?P<rest>/(?:uL|ul|µL|μL|µl|L|l|cumm|mm3)\.?)$"
)
_PERCENT = re.compile(r"^%[oº°]$")


def fix_token(token: str) -> str:
    m = _POWER.match(token)
    if m:
        return f"{m['x']}10^{m['exp']}{m['rest']}"
    if _PERCENT.match(token):
        return "%"
    # a flag glued to its unit ("HfL") is not an OCR-engine quirk: mappings.rowparse splits it
    return token


def fix_text(text: str) -> str:
    return " ".join(fix_token(t) for t in text.split(" "))
