"""Red-cell morphology from MCV/MCH/MCHC, vectorised.

Cutoffs: microcytic MCV < 80 fL, macrocytic MCV > 100 fL, hypochromia MCH < 27 pg or
MCHC < 32 g/dL (conventional adult limits, e.g. Bain BJ, Blood Cells: A Practical Guide, 5th ed.).
MCH < 27 pg is the antenatal haemoglobinopathy screening trigger and MCH < 25 pg the hint to
look for alpha-zero thalassaemia (Ryan K, Bain BJ, et al. Significant haemoglobinopathies:
guidelines for screening and diagnosis. Br J Haematol 2010;149:35-49; NHS Sickle Cell and
Thalassaemia Screening Programme handbook).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MICROCYTIC_MCV_FL = 80.0
MACROCYTIC_MCV_FL = 100.0
HYPOCHROMIC_MCH_PG = 27.0
HYPOCHROMIC_MCHC_G_DL = 32.0
ANTENATAL_TRIGGER_MCH_PG = 27.0
ALPHA_ZERO_HINT_MCH_PG = 25.0


@dataclass(frozen=True, slots=True)
class MorphologyArrays:
    size: np.ndarray  # microcytic | normocytic | macrocytic | unknown
    hypochromic: np.ndarray  # 1.0 / 0.0 / NaN (unknown)
    antenatal_trigger: np.ndarray  # MCH < 27 pg (1/0/NaN)
    alpha_zero_hint: np.ndarray  # MCH < 25 pg (1/0/NaN)
    label: np.ndarray  # e.g. "microcytic hypochromic"


def _tri_state(condition: np.ndarray, known: np.ndarray) -> np.ndarray:
    return np.where(known, condition.astype(float), np.nan)


def classify_morphology(mcv: np.ndarray, mch: np.ndarray, mchc: np.ndarray) -> MorphologyArrays:
    mcv, mch, mchc = (np.asarray(a, dtype=float) for a in (mcv, mch, mchc))
    with np.errstate(invalid="ignore"):
        size = np.select(
            [np.isnan(mcv), mcv < MICROCYTIC_MCV_FL, mcv > MACROCYTIC_MCV_FL],
            ["unknown", "microcytic", "macrocytic"],
            default="normocytic",
        ).astype(object)
        low_mch = mch < HYPOCHROMIC_MCH_PG
        low_mchc = mchc < HYPOCHROMIC_MCHC_G_DL
    # Hypochromic if either known value is low; normochromic only if every known value is normal.
    any_low = low_mch | low_mchc
    any_known = ~np.isnan(mch) | ~np.isnan(mchc)
    hypochromic = _tri_state(any_low, any_known)
    antenatal = _tri_state(low_mch, ~np.isnan(mch))
    alpha_zero = _tri_state(mch < ALPHA_ZERO_HINT_MCH_PG, ~np.isnan(mch))
    chrom = np.where(hypochromic == 1, " hypochromic", np.where(hypochromic == 0, " normochromic", ""))
    label = np.char.add(size.astype(str), chrom.astype(str)).astype(object)
    return MorphologyArrays(size, hypochromic, antenatal, alpha_zero, label)
