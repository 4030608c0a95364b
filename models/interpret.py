"""Column-level interpretation shared by the single (`assess`) and the batch (`assess_frame`) paths."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from models.assessment import Contribution
from models.explain import explain_rows
from models.features import DERIVATIONS, complete_derivable
from models.flags import Flags
from models.indices import compute_indices
from models.morphology import ANTENATAL_TRIGGER_MCH_PG, MorphologyArrays, classify_morphology
from models.task_model import TaskModel
from models.who_anemia import AnemiaArrays, classify_anemia

CONSISTENCY_TOLERANCE = 0.10
MAX_CONTRIBUTIONS = 4  # inputs listed per prediction
MUST_BE_POSITIVE = ("hgb", "hct", "rbc", "mcv", "mch", "mchc", "rdw_cv", "rdw_sd")


@dataclass(frozen=True)
class Interpretation:
    cols: dict[str, np.ndarray]  # inputs with derivable values filled in
    derived: dict[str, np.ndarray]  # which cells were derived
    anemia: AnemiaArrays
    morphology: MorphologyArrays
    indices: dict[str, np.ndarray]
    probability: dict[str, np.ndarray]  # task_id -> calibrated probability (NaN = not assessable)
    positive: dict[str, np.ndarray]  # task_id -> screen-positive (False where probability is NaN)
    out_of_range: dict[str, dict[str, np.ndarray]]  # task_id -> input -> flag
    warnings: Flags  # per-row data-quality warnings (assumptions live in anemia.assumptions)
    explanations: dict[str, tuple[Contribution, ...]]  # task_id -> top inputs (single-row calls only)


def _screen_positive(model: TaskModel, p: np.ndarray, cols: Mapping[str, np.ndarray]) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        positive = p >= model.threshold
        if model.task.task_id == "alpha_thal_trait":
            # Trained on microcytic relatives only: a positive screen needs hypochromia (MCH < 27 pg).
            positive &= cols["mch"] < ANTENATAL_TRIGGER_MCH_PG
    return positive


def _row_warnings(
    n: int,
    raw: Mapping[str, np.ndarray],
    derived: Mapping[str, np.ndarray],
    probability: Mapping[str, np.ndarray],
    ood: Mapping[str, Mapping[str, np.ndarray]],
) -> Flags:
    """Data-quality and applicability warnings (the WHO assumptions are kept separately)."""
    rules: list[tuple[np.ndarray, str]] = [
        (np.isnan(raw["hgb"]), "haemoglobin missing: anaemia not classified")
    ]
    for key, (_, formula) in DERIVATIONS.items():
        rules.append((derived[key], f"{key} not reported; derived ({formula})"))
    with np.errstate(divide="ignore", invalid="ignore"):
        mch_calc = 10 * raw["hgb"] / raw["rbc"]
        bad_mch = np.abs(mch_calc - raw["mch"]) / raw["mch"] > CONSISTENCY_TOLERANCE
        rules.append(
            (bad_mch, "reported MCH disagrees with 10 × Hb / RBC by > 10%: check for a transcription error")
        )
    any_nan_prob = np.zeros(n, dtype=bool)
    for p in probability.values():
        any_nan_prob |= np.isnan(p)
    rules.append((any_nan_prob, "Hb, RBC and MCV are all needed for classifier probabilities"))
    for key in sorted({k for flags in ood.values() for k in flags}):
        flag = np.logical_or.reduce([flags[key] for flags in ood.values() if key in flags])
        rules.append((flag, f"{key} outside the classifiers' training range (out of distribution)"))
    rules.append(
        (
            ~np.isnan(raw["ferritin"]),
            "ferritin supplied: not a classifier input; < 15 ng/mL indicates iron deficiency (WHO 2020)",
        )
    )
    rules.append(
        (
            ~np.isnan(raw["hba2"]) | ~np.isnan(raw["hbf"]),
            "HbA2/HbF supplied: never used as classifier inputs (they define the labels)",
        )
    )
    flags = Flags(n)
    for mask, text in rules:
        flags.add(mask, text)
    return flags


def _drop_impossible(raw: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], Flags]:
    """Zero or negative red-cell values cannot be measurements: treat them as not reported."""
    cleaned = dict(raw)
    flags = Flags(len(raw["hgb"]))
    with np.errstate(invalid="ignore"):  # entered once: it costs more than the comparisons
        bads = [raw[key] <= 0 for key in MUST_BE_POSITIVE]
    for key, bad in zip(MUST_BE_POSITIVE, bads, strict=True):
        if bad.any():
            cleaned[key] = np.where(bad, np.nan, raw[key])
            flags.add(bad, f"{key} <= 0 is impossible and was ignored")
    return cleaned, flags


def interpret(
    raw: Mapping[str, np.ndarray], models: Mapping[str, TaskModel], explain: bool = False
) -> Interpretation:
    """Everything column-wise; `explain=True` (one row only) adds per-task input contributions."""
    n = len(raw["hgb"])
    raw, impossible = _drop_impossible(raw)
    cols, derived = complete_derivable(raw)
    anemia = classify_anemia(cols["hgb"], cols["sex_male"], cols["age"], cols["pregnant"], cols["trimester"])
    morphology = classify_morphology(cols["mcv"], cols["mch"], cols["mchc"])
    # The occlusion batch computes the indices of the actual row anyway (its row 0).
    explained, indices = (
        explain_rows(models, cols, MAX_CONTRIBUTIONS) if explain else ({}, compute_indices(cols))
    )
    probability: dict[str, np.ndarray] = {}
    positive: dict[str, np.ndarray] = {}
    ood: dict[str, dict[str, np.ndarray]] = {}
    explanations: dict[str, tuple[Contribution, ...]] = {}
    for task_id, model in models.items():
        if explain:
            p, explanations[task_id] = explained[task_id]
        else:
            p = model.probability(cols, indices)
        probability[task_id] = p
        positive[task_id] = _screen_positive(model, p, cols)
        ood[task_id] = model.out_of_range_flagged(cols)
    warnings = _row_warnings(n, raw, derived, probability, ood)
    warnings.rules[:0] = impossible.rules
    return Interpretation(
        cols, derived, anemia, morphology, indices, probability, positive, ood, warnings, explanations
    )
