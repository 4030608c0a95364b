"""Classic red-cell discriminant indices for thalassaemia trait vs iron deficiency.

Every formula works on arrays (NaN = missing) so the single and the batch path share one
implementation. Each index carries the literature cutoff and which side of it points to
thalassaemia trait; the citation is the paper that proposed the formula and cutoff.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

Columns = Mapping[str, np.ndarray]
ThalSide = Literal["below", "above"]

THAL_SUGGESTION = "thalassaemia trait"
IRON_SUGGESTION = "iron deficiency"


@dataclass(frozen=True, slots=True)
class IndexSpec:
    key: str
    name: str
    formula: str
    cutoff: float
    thal_side: ThalSide  # values on this side of the cutoff suggest thalassaemia trait
    inputs: tuple[str, ...]
    citation: str
    compute: Callable[[Columns], np.ndarray]

    def suggests_thal(self, values: np.ndarray) -> np.ndarray:
        """Boolean array (False where value is NaN; check NaN separately)."""
        with np.errstate(invalid="ignore"):
            return values < self.cutoff if self.thal_side == "below" else values > self.cutoff

    def suggests_thal_value(self, value: float) -> bool:
        """`suggests_thal` for one known value (a plain comparison: no array, no errstate)."""
        return value < self.cutoff if self.thal_side == "below" else value > self.cutoff

    def thal_score(self, values: np.ndarray) -> np.ndarray:
        """Oriented so that larger means 'more thalassaemia-like' (for AUC comparisons)."""
        return -values if self.thal_side == "below" else values


def _c(cols: Columns, key: str) -> np.ndarray:
    return np.asarray(cols[key], dtype=float)


INDICES: tuple[IndexSpec, ...] = (
    IndexSpec(
        "mentzer",
        "Mentzer",
        "MCV / RBC",
        13.0,
        "below",
        ("mcv", "rbc"),
        "Mentzer WC. Differentiation of iron deficiency from thalassaemia trait. Lancet 1973;1(7808):882.",
        lambda c: _c(c, "mcv") / _c(c, "rbc"),
    ),
    IndexSpec(
        "england_fraser",
        "England & Fraser",
        "MCV − RBC − 5×Hb − 3.4",
        0.0,
        "below",
        ("mcv", "rbc", "hgb"),
        "England JM, Fraser PM. Differentiation of iron deficiency from thalassaemia trait by routine "
        "blood-count. Lancet 1973;1(7801):449-452.",
        lambda c: _c(c, "mcv") - _c(c, "rbc") - 5.0 * _c(c, "hgb") - 3.4,
    ),
    IndexSpec(
        "srivastava",
        "Srivastava",
        "MCH / RBC",
        3.8,
        "below",
        ("mch", "rbc"),
        "Srivastava PC. Differentiation of thalassaemia minor from iron deficiency. "
        "Lancet 1973;2(7821):154-155.",
        lambda c: _c(c, "mch") / _c(c, "rbc"),
    ),
    IndexSpec(
        "shine_lal",
        "Shine & Lal",
        "MCV² × MCH / 100",
        1530.0,
        "below",
        ("mcv", "mch"),
        "Shine I, Lal S. A strategy to detect beta-thalassaemia minor. Lancet 1977;1(8013):692-694.",
        lambda c: _c(c, "mcv") ** 2 * _c(c, "mch") / 100.0,
    ),
    IndexSpec(
        "green_king",
        "Green & King",
        "MCV² × RDW / (100 × Hb)",
        65.0,
        "below",
        ("mcv", "rdw_cv", "hgb"),
        "Green R, King R. A new red cell discriminant incorporating volume dispersion for differentiating "
        "iron deficiency anemia from thalassemia minor. Blood Cells 1989;15(3):481-491.",
        lambda c: _c(c, "mcv") ** 2 * _c(c, "rdw_cv") / (100.0 * _c(c, "hgb")),
    ),
    IndexSpec(
        "rdw_index",
        "RDW index (Jayabose)",
        "MCV × RDW / RBC",
        220.0,
        "below",
        ("mcv", "rdw_cv", "rbc"),
        "Jayabose S, Giamelli J, Levondoglu-Tugal O, et al. Differentiating iron deficiency anemia from "
        "thalassemia minor by using an RDW-based index. J Pediatr Hematol Oncol 1999;21:314.",
        lambda c: _c(c, "mcv") * _c(c, "rdw_cv") / _c(c, "rbc"),
    ),
    IndexSpec(
        "ricerca",
        "Ricerca",
        "RDW / RBC",
        4.4,
        "below",
        ("rdw_cv", "rbc"),
        "Ricerca BM, Storti S, d'Onofrio G, et al. Differentiation of iron deficiency from "
        "thalassaemia trait: "
        "a new approach. Haematologica 1987;72(5):409-413.",
        lambda c: _c(c, "rdw_cv") / _c(c, "rbc"),
    ),
    IndexSpec(
        "ehsani",
        "Ehsani",
        "MCV − 10 × RBC",
        15.0,
        "below",
        ("mcv", "rbc"),
        "Ehsani MA, Shahgholi E, Rahiminejad MS, et al. A new index for discrimination between "
        "iron deficiency "
        "anemia and beta-thalassemia minor: results in 284 patients. Pak J Biol Sci 2009;12(5):473-475.",
        lambda c: _c(c, "mcv") - 10.0 * _c(c, "rbc"),
    ),
    IndexSpec(
        "sirdah",
        "Sirdah",
        "MCV − RBC − 3 × Hb",
        27.0,
        "below",
        ("mcv", "rbc", "hgb"),
        "Sirdah M, Tarazi I, Al Najjar E, Al Haddad R. Evaluation of the diagnostic reliability of different "
        "RBC indices and formulas in the differentiation of the beta-thalassaemia minor from iron deficiency "
        "in Palestinian population. Int J Lab Hematol 2008;30(4):324-330.",
        lambda c: _c(c, "mcv") - _c(c, "rbc") - 3.0 * _c(c, "hgb"),
    ),
    IndexSpec(
        "matos_carvalho",
        "Matos & Carvalho",
        "1.91 × RBC + 0.44 × MCHC",
        23.85,
        "above",
        ("rbc", "mchc"),
        "Matos JF, Dusse LM, Borges KB, et al. A new index to discriminate between iron "
        "deficiency anemia and "
        "thalassemia trait. Rev Bras Hematol Hemoter 2016;38(3):214-219.",
        lambda c: 1.91 * _c(c, "rbc") + 0.44 * _c(c, "mchc"),
    ),
)

INDEX_BY_KEY: dict[str, IndexSpec] = {spec.key: spec for spec in INDICES}


def compute_indices(cols: Columns) -> dict[str, np.ndarray]:
    """All indices as arrays; NaN wherever an input is missing (NaN propagates through the formulas)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {spec.key: spec.compute(cols) for spec in INDICES}
    # A zero denominator is a missing input in disguise, not an infinite index.
    return {k: np.where(np.isfinite(v), v, np.nan) for k, v in out.items()}
