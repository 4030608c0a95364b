"""WHO 2024 haemoglobin cutoffs for anaemia and its severity, vectorised.

Source: World Health Organization. Guideline on haemoglobin cutoffs to define anaemia in
individuals and populations. Geneva: WHO; 2024 (ISBN 978-92-4-008854-2), Table 1 (sea level,
non-smokers; no altitude/smoking adjustment is applied here because the inputs do not carry them).

Unknown patient details are handled by carrying a *range* of possible cutoffs: a haemoglobin
below every plausible cutoff is anaemia, one at or above every plausible cutoff is not, and
anything in between is reported as "unknown" with the assumption that would settle it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.flags import Flags

WHO_CITATION = (
    "WHO. Guideline on haemoglobin cutoffs to define anaemia in individuals and populations. "
    "Geneva: World Health Organization; 2024."
)


@dataclass(frozen=True, slots=True)
class WhoBand:
    """Anaemia if Hb < anaemia; mild >= moderate; moderate >= severe; severe below (g/dL)."""

    group: str
    anaemia: float
    moderate: float
    severe: float


# WHO 2024, Table 1 (g/dL). Severity bands: mild = [moderate, anaemia), moderate = [severe, moderate).
CHILD_6_23M = WhoBand("children 6-23 months", 10.5, 9.5, 7.0)
CHILD_24_59M = WhoBand("children 24-59 months", 11.0, 10.0, 7.0)
CHILD_5_11Y = WhoBand("children 5-11 years", 11.5, 11.0, 8.0)
ADOLESCENT_12_14Y = WhoBand("adolescents 12-14 years", 12.0, 11.0, 8.0)
WOMEN_NON_PREGNANT = WhoBand("non-pregnant women 15 years and older", 12.0, 11.0, 8.0)
MEN = WhoBand("men 15 years and older", 13.0, 11.0, 8.0)
PREGNANT_T1 = WhoBand("pregnant, first trimester", 11.0, 10.0, 7.0)
PREGNANT_T2 = WhoBand("pregnant, second trimester", 10.5, 9.5, 7.0)
PREGNANT_T3 = WhoBand("pregnant, third trimester", 11.0, 10.0, 7.0)

# Assumption texts (also used as batch warnings, so keep them short and stable).
ASSUME_ADULT = "age unknown: WHO cutoffs for people 15 years and older assumed"
ASSUME_SEX_RANGE = "sex unknown: Hb between the female (12.0) and male (13.0) cutoffs cannot be classified"
ASSUME_NOT_PREGNANT = (
    "pregnancy status unknown: non-pregnant cutoff used (a pregnant woman's cutoff would be 10.5-11.0 g/dL)"
)
ASSUME_TRIMESTER_RANGE = (
    "pregnant, trimester unknown: cutoffs 10.5 (2nd) to 11.0 g/dL (1st/3rd) both considered"
)
NO_CUTOFF_INFANT = "age under 6 months: WHO 2024 gives no anaemia cutoff; status not classified"
PREGNANT_MALE = "pregnancy flag ignored for a male patient"
OLDER_ADULT = "age over 65: WHO 2024 adult cutoffs applied (evidence for older adults is limited)"


@dataclass(frozen=True, slots=True)
class AnemiaArrays:
    status: np.ndarray  # 'yes' | 'no' | 'unknown'
    severity: np.ndarray  # 'none' | 'mild' | 'moderate' | 'severe' | 'mild or moderate' ... | '' if unknown
    cutoff_low: np.ndarray  # lowest plausible anaemia cutoff (g/dL); NaN if none applies
    cutoff_high: np.ndarray  # highest plausible anaemia cutoff (g/dL)
    group: np.ndarray  # WHO population group used
    assumptions: Flags  # per-row assumption texts


def _band_arrays(n: int) -> dict[str, np.ndarray]:
    nan = np.full(n, np.nan)
    return {k: nan.copy() for k in ("a_lo", "a_hi", "m_lo", "m_hi", "s_lo", "s_hi")}


def _assign(b: dict[str, np.ndarray], mask: np.ndarray, lo: WhoBand, hi: WhoBand | None = None) -> None:
    hi = hi or lo
    b["a_lo"][mask], b["a_hi"][mask] = min(lo.anaemia, hi.anaemia), max(lo.anaemia, hi.anaemia)
    b["m_lo"][mask], b["m_hi"][mask] = min(lo.moderate, hi.moderate), max(lo.moderate, hi.moderate)
    b["s_lo"][mask], b["s_hi"][mask] = min(lo.severe, hi.severe), max(lo.severe, hi.severe)


def classify_anemia(
    hgb: np.ndarray,
    sex_male: np.ndarray,
    age: np.ndarray,
    pregnant: np.ndarray,
    trimester: np.ndarray,
) -> AnemiaArrays:
    """Vectorised WHO 2024 classification. sex_male: 1/0/NaN; pregnant: 1/0/NaN; trimester 1-3/NaN."""
    n = len(hgb)
    hgb = np.asarray(hgb, dtype=float)
    age_known = ~np.isnan(age)
    adult = ~age_known | (age >= 15)
    male = sex_male == 1
    female = sex_male == 0
    sex_unknown = np.isnan(sex_male)
    preg = (pregnant == 1) & ~male
    preg_unknown = np.isnan(pregnant) & female & adult & (~age_known | (age < 50))

    b = _band_arrays(n)
    group = np.full(n, "", dtype=object)

    def put(mask: np.ndarray, band: WhoBand, hi: WhoBand | None = None, label: str | None = None) -> None:
        if mask.any():  # most groups match no row of a single assessment: skip seven no-op writes
            _assign(b, mask, band, hi)
            group[mask] = label or band.group

    put(age_known & (age >= 0.5) & (age < 2), CHILD_6_23M)
    put(age_known & (age >= 2) & (age < 5), CHILD_24_59M)
    put(age_known & (age >= 5) & (age < 12), CHILD_5_11Y)
    put(age_known & (age >= 12) & (age < 15) & ~preg, ADOLESCENT_12_14Y)
    put(adult & male, MEN)
    put(adult & female & ~preg, WOMEN_NON_PREGNANT)
    put(adult & sex_unknown & ~preg, WOMEN_NON_PREGNANT, MEN, "people 15 years and older (sex unknown)")
    tri = np.asarray(trimester, dtype=float)
    t1, t2, t3 = tri == 1, tri == 2, tri == 3
    known_tri = t1 | t2 | t3  # np.isin(tri, (1, 2, 3)), without its overhead
    put(preg & t1, PREGNANT_T1)
    put(preg & t2, PREGNANT_T2)
    put(preg & t3, PREGNANT_T3)
    put(preg & ~known_tri, PREGNANT_T2, PREGNANT_T1, "pregnant, trimester unknown")

    known_hb = ~np.isnan(hgb)
    has_band = ~np.isnan(b["a_lo"])
    with np.errstate(invalid="ignore"):
        yes = known_hb & has_band & (hgb < b["a_lo"])
        no = known_hb & has_band & (hgb >= b["a_hi"])
        status = np.where(yes, "yes", np.where(no, "no", "unknown")).astype(object)
        severity = np.full(n, "", dtype=object)
        severity[no] = "none"
        sev_certain = yes & (hgb < b["s_lo"])
        mod_certain = yes & (hgb >= b["s_hi"]) & (hgb < b["m_lo"])
        mild_certain = yes & (hgb >= b["m_hi"])
        severity[sev_certain] = "severe"
        severity[mod_certain] = "moderate"
        severity[mild_certain] = "mild"
        between_sev_mod = yes & (hgb >= b["s_lo"]) & (hgb < b["s_hi"])
        between_mod_mild = yes & (hgb >= b["m_lo"]) & (hgb < b["m_hi"])
        severity[between_sev_mod] = "moderate or severe"
        severity[between_mod_mild] = "mild or moderate"

    assumptions = _assumptions(n, age_known, age, sex_unknown, preg_unknown, preg, known_tri, pregnant, male)
    return AnemiaArrays(status, severity, b["a_lo"], b["a_hi"], group, assumptions)


def _assumptions(
    n: int,
    age_known: np.ndarray,
    age: np.ndarray,
    sex_unknown: np.ndarray,
    preg_unknown: np.ndarray,
    preg: np.ndarray,
    known_tri: np.ndarray,
    pregnant: np.ndarray,
    male: np.ndarray,
) -> Flags:
    flags = Flags(n)
    with np.errstate(invalid="ignore"):
        rules = (
            (~age_known, ASSUME_ADULT),
            (age_known & (age < 0.5), NO_CUTOFF_INFANT),
            (age_known & (age > 65), OLDER_ADULT),
            (sex_unknown & (~age_known | (age >= 15)) & ~preg, ASSUME_SEX_RANGE),
            (preg_unknown, ASSUME_NOT_PREGNANT),
            (preg & ~known_tri, ASSUME_TRIMESTER_RANGE),
            ((pregnant == 1) & male, PREGNANT_MALE),
        )
    for mask, text in rules:
        flags.add(mask, text)
    return flags
