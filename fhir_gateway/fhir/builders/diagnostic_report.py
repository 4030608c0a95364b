"""The CBC DiagnosticReport: LOINC panel code, HM/LAB category, results, conclusion and codes."""

from __future__ import annotations

from typing import Any

from fhir_gateway.fhir.builders.codes import CBC_DIFF_PANEL, CBC_PANEL, DIFFERENTIAL_KEYS, LOINC, V2_0074
from fhir_gateway.fhir.builders.findings import finding_concept
from models.assessment import Assessment


def conclusion_text(assessment: Assessment) -> str:
    a, m = assessment.anemia, assessment.morphology
    parts: list[str] = []
    if a.status == "yes":
        parts.append(
            f"Anemia ({a.severity or 'severity not classified'}) by WHO 2024 criteria for {a.who_group}"
        )
    elif a.status == "no":
        parts.append(f"No anemia by WHO 2024 criteria for {a.who_group}")
    else:
        parts.append("Anemia status could not be determined")
    if m.size != "unknown":
        parts.append(f"red cells {m.label}")
    for p in assessment.predictions:
        if p.probability is None:
            continue
        verdict = "screen positive" if p.positive_at_screening else "screen negative"
        if not p.positive_at_screening and p.probability >= p.threshold:
            verdict += " (probability above threshold, but the task's other screening criteria are not met)"
        parts.append(f"{p.title}: {verdict} (p={p.probability:.2f}; threshold {p.threshold:.2f})")
    return ". ".join(parts) + ". " + assessment.disclaimer


def conclusion_codes(assessment: Assessment) -> list[dict[str, Any]]:
    codes: list[dict[str, Any]] = []
    if assessment.anemia.status == "yes":
        severity = f", {assessment.anemia.severity}" if assessment.anemia.severity else ""
        key = "macrocytic_anemia" if assessment.morphology.size == "macrocytic" else "anemia"
        codes.append(finding_concept(key, f"Anemia{severity} ({assessment.morphology.label})"))
    return codes


def diagnostic_report(
    *,
    assessment: Assessment,
    analyte_keys: set[str],
    subject: str,
    results: list[str],
    effective: str | None,
    issued: str,
    document: str | None,
    presented_form: dict[str, Any] | None,
) -> dict[str, Any]:
    code, display = CBC_DIFF_PANEL if analyte_keys & DIFFERENTIAL_KEYS else CBC_PANEL
    report: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "category": [
            {"coding": [{"system": V2_0074, "code": "HM", "display": "Hematology"}]},
            {"coding": [{"system": V2_0074, "code": "LAB", "display": "Laboratory"}]},
        ],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
        "subject": {"reference": subject},
        "issued": issued,
        "conclusion": conclusion_text(assessment),
    }
    if effective:
        report["effectiveDateTime"] = effective
    if results:
        report["result"] = [{"reference": r} for r in results]
    codes = conclusion_codes(assessment)
    if codes:
        report["conclusionCode"] = codes
    if presented_form:
        report["presentedForm"] = [presented_form]
    if document:
        report["extension"] = [
            {
                "url": "http://hl7.org/fhir/StructureDefinition/workflow-supportingInfo",
                "valueReference": {"reference": document},
            }
        ]
    return report
