"""`assess(cbc, context)`: one CBC in, one fully explained Assessment out."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mappings.canonical import CanonicalCBC, PatientContext
from models.artifacts import MODEL_NAME, MODEL_VERSION, loaded_models
from models.assessment import (
    AnemiaFinding,
    Assessment,
    IndexEntry,
    MorphologyFinding,
    TaskPrediction,
)
from models.features import columns_from_cbc
from models.indices import INDICES, IRON_SUGGESTION, THAL_SUGGESTION
from models.interpret import Interpretation, interpret
from models.task_model import TaskModel
from models.who_anemia import WHO_CITATION


def _opt(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def _opt_bool(value: float) -> bool | None:
    return None if np.isnan(value) else bool(value)


def _anemia(itp: Interpretation) -> AnemiaFinding:
    a = itp.anemia
    lo, hi = float(a.cutoff_low[0]), float(a.cutoff_high[0])
    has_cut = not np.isnan(lo)
    return AnemiaFinding(
        status=a.status[0],
        hgb_g_dl=_opt(itp.cols["hgb"][0]),
        threshold_g_dl=lo if has_cut and lo == hi else None,
        threshold_range_g_dl=(lo, hi) if has_cut else None,
        who_group=a.group[0] or "no WHO group applies",
        severity=a.severity[0] or None,
        citation=WHO_CITATION,
    )


def _morphology(itp: Interpretation) -> MorphologyFinding:
    m = itp.morphology
    return MorphologyFinding(
        size=m.size[0],
        hypochromic=_opt_bool(m.hypochromic[0]),
        antenatal_screen_trigger=_opt_bool(m.antenatal_trigger[0]),
        alpha_zero_hint=_opt_bool(m.alpha_zero_hint[0]),
        label=m.label[0],
    )


def _indices(itp: Interpretation) -> tuple[IndexEntry, ...]:
    entries = []
    for spec in INDICES:
        value = _opt(itp.indices[spec.key][0])
        suggests = None
        if value is not None:
            suggests = THAL_SUGGESTION if spec.suggests_thal_value(value) else IRON_SUGGESTION
        sign = "<" if spec.thal_side == "below" else ">"
        entries.append(
            IndexEntry(
                key=spec.key,
                name=spec.name,
                formula=spec.formula,
                value=value,
                cutoff=spec.cutoff,
                direction=f"{sign} {spec.cutoff:g} suggests {THAL_SUGGESTION}",
                suggests=suggests,
                citation=spec.citation,
                inputs=spec.inputs,
            )
        )
    return tuple(entries)


def _missing(model: TaskModel, cols: Mapping[str, np.ndarray]) -> tuple[str, ...]:
    """Inputs absent after derivation (a derived MCH is reported as a warning, not as missing)."""
    return tuple(k for k in model.task.inputs if np.isnan(cols[k][0]))


def confidence_note(model: TaskModel, missing: tuple[str, ...], ood: tuple[str, ...]) -> str:
    """Which out-of-fold AUC applies to this input pattern, and what lowers trust further."""
    full = model.cv_auc.get("all inputs", float("nan"))
    missing_groups = [g for g in model.task.optional_groups if any(k in missing for k in g)]
    if any(k in missing for k in model.task.required):
        absent = ", ".join(k for k in model.task.required if k in missing)
        note = f"not assessable: required input(s) {absent} missing"
    elif not missing_groups:
        note = f"all model inputs present (cross-validated AUC {full:.3f})"
    else:
        key = f"without {'+'.join(missing_groups[0])}" if len(missing_groups) == 1 else "required inputs only"
        reduced = model.cv_auc.get(key, float("nan"))
        note = (
            f"missing {', '.join(missing)}: cross-validated AUC {reduced:.3f} for this pattern "
            f"vs {full:.3f} with all inputs"
        )
    if ood:
        note += f"; {', '.join(ood)} outside the training distribution, probability less reliable"
    if model.task.task_id == "alpha_thal_trait":
        note += "; WEAK model (small Sri Lankan set, cross-validated AUC near chance): do not rely on it"
    return note


def _prediction(task_id: str, model: TaskModel, itp: Interpretation) -> TaskPrediction:
    t = model.task
    p = _opt(itp.probability[task_id][0])
    ood = tuple(k for k, flag in itp.out_of_range[task_id].items() if flag[0])
    missing = _missing(model, itp.cols)
    return TaskPrediction(
        task_id=task_id,
        title=t.title,
        probability=p,
        threshold=model.threshold,
        positive_at_screening=None if p is None else bool(itp.positive[task_id][0]),
        missing_inputs=missing,
        confidence_note=confidence_note(model, missing, ood),
        top_contributions=itp.explanations.get(task_id, ()),
        out_of_distribution=bool(ood),
        out_of_distribution_inputs=ood,
        recommendation=t.recommendation,
        outcome_label=t.outcome_label,
        snomed_code=t.snomed_code,
        snomed_display=t.snomed_display,
    )


def assess(cbc: CanonicalCBC, context: PatientContext) -> Assessment:
    """Interpret one CBC: WHO anaemia status, morphology, indices and calibrated task probabilities."""
    models = loaded_models()
    raw = columns_from_cbc(cbc, context)
    itp = interpret(raw, models, explain=True)
    predictions = tuple(_prediction(tid, m, itp) for tid, m in models.items())
    assumptions = tuple(itp.anemia.assumptions.row(0))
    warnings = tuple(itp.warnings.row(0))
    return Assessment(
        anemia=_anemia(itp),
        morphology=_morphology(itp),
        indices=_indices(itp),
        predictions=predictions,
        warnings=warnings,
        assumptions=assumptions,
        model_name=MODEL_NAME,
        model_version=MODEL_VERSION,
    )
