"""The RiskAssessment: one prediction per screening task, with rationale and confirmatory test."""

from __future__ import annotations

from typing import Any

from fhir_gateway.fhir.builders.codes import MODEL_SYSTEM, RISK_PROBABILITY, SNOMED, TASK_SYSTEM
from models.assessment import Assessment, TaskPrediction


def _outcome(p: TaskPrediction) -> dict[str, Any]:
    codings = [{"system": TASK_SYSTEM, "code": p.task_id, "display": p.title}]
    if p.snomed_code:
        codings.insert(
            0, {"system": SNOMED, "code": p.snomed_code, "display": p.snomed_display or p.outcome_label}
        )
    return {"coding": codings, "text": p.outcome_label}


def rationale(p: TaskPrediction) -> str:
    bits: list[str] = []
    if p.probability is None:
        bits.append("Not computed: required inputs are missing")
    else:
        side = "at or above" if p.positive_at_screening else "below"
        bits.append(
            f"Calibrated probability {p.probability:.3f} is {side} the screening threshold {p.threshold:.3f}"
        )
    if p.top_contributions:
        moved = ", ".join(
            f"{c.feature} {c.value:g} ({c.delta_probability:+.3f})" for c in p.top_contributions
        )
        bits.append(f"inputs that moved it most: {moved}")
    if p.missing_inputs:
        bits.append(f"missing inputs: {', '.join(p.missing_inputs)}")
    if p.out_of_distribution:
        bits.append(f"outside the training distribution: {', '.join(p.out_of_distribution_inputs)}")
    bits.append(p.confidence_note)
    return "; ".join(b for b in bits if b)


def qualitative(p: TaskPrediction) -> dict[str, Any] | None:
    if p.positive_at_screening is None:
        return None
    code, display = ("high", "High likelihood") if p.positive_at_screening else ("low", "Low likelihood")
    return {
        "coding": [{"system": RISK_PROBABILITY, "code": code, "display": display}],
        "text": "screen positive" if p.positive_at_screening else "screen negative",
    }


def recommendation(assessment: Assessment) -> str:
    """The confirmatory tests the positive screens call for."""
    return (
        " | ".join(
            f"{p.title}: {p.recommendation}" for p in assessment.predictions if p.positive_at_screening
        )
        or "No confirmatory test indicated by this screen; interpret with the clinical picture."
    )


def risk_assessment(
    *,
    assessment: Assessment,
    subject: str,
    basis: list[str],
    occurrence: str,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """`warnings` (no PHI) are kept as notes after the disclaimer, so they travel with the assessment."""
    predictions = []
    for p in assessment.predictions:
        pred: dict[str, Any] = {"outcome": _outcome(p), "rationale": rationale(p)}
        if p.probability is not None:
            pred["probabilityDecimal"] = round(float(p.probability), 4)
        qualitative_risk = qualitative(p)
        if qualitative_risk:
            pred["qualitativeRisk"] = qualitative_risk
        predictions.append(pred)
    mitigation = recommendation(assessment)
    ra: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "status": "final",
        "subject": {"reference": subject},
        "occurrenceDateTime": occurrence,
        "method": {
            "coding": [
                {
                    "system": MODEL_SYSTEM,
                    "code": assessment.model_name,
                    "display": f"{assessment.model_name} {assessment.model_version}",
                }
            ],
            "text": f"{assessment.model_name} version {assessment.model_version}",
        },
        "basis": [{"reference": r} for r in basis],
        "mitigation": mitigation,
        "note": [{"text": assessment.disclaimer}, *({"text": f"Warning: {w}"} for w in warnings or [])],
    }
    if predictions:
        ra["prediction"] = predictions
    return ra
