"""Turn the stored FHIR resources of one analysis into the plain-JSON result (pure)."""

from __future__ import annotations

from typing import Any

from fhir_gateway.fhir.builders.codes import (
    EXT_OCR_CONFIDENCE,
    EXT_READING_STATUS,
    INDEX_SYSTEM,
    LOINC,
    TASK_SYSTEM,
)
from fhir_gateway.plain.schemas import (
    AnalyteOut,
    AssessmentOut,
    IndexOut,
    PredictionOut,
    ResultOut,
)
from mappings import catalog
from mappings.units import UnitError, to_canonical


def _ext(obs: dict[str, Any], url: str) -> Any:
    for e in obs.get("extension", []):
        if e.get("url") == url:
            return e.get("valueDecimal", e.get("valueCode"))
    return None


def analyte(obs: dict[str, Any]) -> AnalyteOut | None:
    coding = obs["code"]["coding"][0]
    definition = catalog.by_loinc(coding["code"]) if coding.get("system") == LOINC else None
    if definition is None:
        return None
    q = obs["valueQuantity"]
    try:
        canonical: float | None = to_canonical(definition.key, float(q["value"]), q["code"])
    except UnitError:
        canonical = None
    ref = (obs.get("referenceRange") or [{}])[0]
    flag = (obs.get("interpretation") or [{}])[0].get("coding", [{}])[0].get("code")
    return AnalyteOut(
        key=definition.key,
        loinc=definition.loinc,
        display=coding.get("display", definition.display),
        value=q["value"],
        unit=q["code"],
        value_canonical=canonical,
        unit_canonical=definition.unit,
        ref_low=ref.get("low", {}).get("value"),
        ref_high=ref.get("high", {}).get("value"),
        flag=flag,
        confidence=_ext(obs, EXT_OCR_CONFIDENCE),
        status=_ext(obs, EXT_READING_STATUS) or "ok",
        observation_id=obs["id"],
    )


def index(obs: dict[str, Any]) -> IndexOut:
    coding = obs["code"]["coding"][0]
    return IndexOut(
        key=coding["code"],
        name=coding.get("display", coding["code"]),
        value=obs["valueQuantity"]["value"],
        note=obs["note"][0]["text"],
        suggests=(obs.get("interpretation") or [{}])[0].get("text"),
    )


def prediction(pred: dict[str, Any]) -> PredictionOut:
    task = next(c["code"] for c in pred["outcome"]["coding"] if c["system"] == TASK_SYSTEM)
    risk = (pred.get("qualitativeRisk") or {}).get("coding", [{}])[0].get("code")
    return PredictionOut(
        task=task,
        outcome=pred["outcome"].get("text", task),
        probability=pred.get("probabilityDecimal"),
        screen_positive=None if risk is None else risk == "high",
        rationale=pred.get("rationale", ""),
    )


def summarize(report: dict[str, Any], risk: dict[str, Any], observations: list[dict[str, Any]]) -> ResultOut:
    measured = [a for o in observations if not _is_index(o) if (a := analyte(o)) is not None]
    notes = [n["text"] for n in risk.get("note", [])]
    return ResultOut(
        id=report["id"],
        patient_id=report["subject"]["reference"].split("/", 1)[1],
        issued=report.get("issued"),
        effective=report.get("effectiveDateTime"),
        analytes=measured,
        assessment=AssessmentOut(
            conclusion=report.get("conclusion", ""),
            predictions=[prediction(p) for p in risk.get("prediction", [])],
            indices=[index(o) for o in observations if _is_index(o)],
            recommendation=risk.get("mitigation", ""),
            model=risk["method"].get("text", ""),
        ),
        warnings=[n.removeprefix("Warning: ") for n in notes if n.startswith("Warning: ")],
    )


def _is_index(obs: dict[str, Any]) -> bool:
    return obs["code"]["coding"][0].get("system") == INDEX_SYSTEM
