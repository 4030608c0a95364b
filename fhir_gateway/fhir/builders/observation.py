"""Observations for measured analytes (read or received) and for derived discriminant indices."""

from __future__ import annotations

from typing import Any

from fhir_gateway.fhir.builders.codes import (
    DERIVED_TAG,
    EXT_OCR_CONFIDENCE,
    EXT_READING_STATUS,
    INDEX_SYSTEM,
    INTERPRETATION,
    INTERPRETATION_DISPLAY,
    LAB_CATEGORY,
    LOINC,
    UCUM,
)
from mappings.readings import AnalyteReading
from models.assessment import IndexEntry


def _decimal(value: float) -> float:
    # Round away binary noise (13.200000000000001) without losing printed precision.
    return round(float(value), 6)


def quantity(value: float, ucum: str) -> dict[str, Any]:
    return {"value": _decimal(value), "unit": ucum, "system": UCUM, "code": ucum}


def analyte_observation(
    reading: AnalyteReading,
    *,
    subject: str,
    effective: str | None,
    derived_from: list[str],
    from_ocr: bool,
) -> dict[str, Any]:
    """One measured analyte. Uncertain readings become `preliminary` so no one mistakes them for
    verified results; repaired and assumed values carry a note saying what was changed."""
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "preliminary" if reading.status == "uncertain" else "final",
        "category": [LAB_CATEGORY],
        "code": {
            "coding": [{"system": LOINC, "code": reading.loinc, "display": reading.display}],
            "text": reading.display,
        },
        "subject": {"reference": subject},
        "valueQuantity": quantity(reading.value, reading.unit),
    }
    if effective:
        obs["effectiveDateTime"] = effective
    extensions: list[dict[str, Any]] = []
    if from_ocr:
        extensions.append({"url": EXT_OCR_CONFIDENCE, "valueDecimal": round(float(reading.confidence), 3)})
    extensions.append({"url": EXT_READING_STATUS, "valueCode": reading.status})
    obs["extension"] = extensions
    if reading.flag:
        obs["interpretation"] = [
            {
                "coding": [
                    {
                        "system": INTERPRETATION,
                        "code": reading.flag,
                        "display": INTERPRETATION_DISPLAY.get(reading.flag, reading.flag),
                    }
                ]
            }
        ]
    ref = _reference_range(reading)
    if ref:
        obs["referenceRange"] = [ref]
    if derived_from:
        obs["derivedFrom"] = [{"reference": r} for r in derived_from]
    notes = list(reading.notes)
    if reading.status == "uncertain":
        notes.append("Uncertain reading: verify against the source document before clinical use.")
    if notes:
        obs["note"] = [{"text": n} for n in notes]
    return obs


def _reference_range(reading: AnalyteReading) -> dict[str, Any] | None:
    if reading.ref_low is None and reading.ref_high is None:
        return None
    ref: dict[str, Any] = {}
    if reading.ref_low is not None:
        ref["low"] = quantity(reading.ref_low, reading.unit)
    if reading.ref_high is not None:
        ref["high"] = quantity(reading.ref_high, reading.unit)
    return ref


def index_observation(
    index: IndexEntry, *, subject: str, effective: str | None, derived_from: list[str]
) -> dict[str, Any] | None:
    """A discriminant index, explicitly marked as computed (meta.tag, method, note), not measured."""
    if index.value is None:
        return None
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "meta": {"tag": [DERIVED_TAG]},
        "status": "final",
        "category": [LAB_CATEGORY],
        "code": {
            "coding": [{"system": INDEX_SYSTEM, "code": index.key, "display": index.name}],
            "text": index.name,
        },
        "subject": {"reference": subject},
        "valueQuantity": {"value": _decimal(index.value), "unit": "1", "system": UCUM, "code": "1"},
        "method": {"text": f"Calculated: {index.formula}"},
        "note": [
            {
                "text": "Derived by the gateway from measured values, not measured. "
                f"Cutoff {index.cutoff:g}: "
                f"{index.direction}. Source: {index.citation}"
            }
        ],
    }
    if index.suggests:
        obs["interpretation"] = [{"text": index.suggests}]
    if effective:
        obs["effectiveDateTime"] = effective
    if derived_from:
        obs["derivedFrom"] = [{"reference": r} for r in derived_from]
    return obs
