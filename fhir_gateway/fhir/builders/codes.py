"""Code systems, codes and extension URLs used in the resources the gateway emits."""

from __future__ import annotations

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"  # diagnostic service section
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
RISK_PROBABILITY = "http://terminology.hl7.org/CodeSystem/risk-probability"
DOC_TYPE_LOINC = "11502-2"  # Laboratory report

# The gateway's own identifiers. Canonical URLs name our definitions; they are identifiers, and
# the StructureDefinitions are described in README ("FHIR profile notes").
GATEWAY_BASE = "https://cbc-fhir-gateway.org/fhir"
EXT_OCR_CONFIDENCE = f"{GATEWAY_BASE}/StructureDefinition/ocr-confidence"
EXT_READING_STATUS = f"{GATEWAY_BASE}/StructureDefinition/reading-status"
EXT_SOURCE_TEXT = f"{GATEWAY_BASE}/StructureDefinition/source-text"
INDEX_SYSTEM = f"{GATEWAY_BASE}/CodeSystem/cbc-discriminant-index"
MODEL_SYSTEM = f"{GATEWAY_BASE}/CodeSystem/cbc-models"
TASK_SYSTEM = f"{GATEWAY_BASE}/CodeSystem/cbc-screening-task"
FINDING_SYSTEM = f"{GATEWAY_BASE}/CodeSystem/cbc-finding"
DERIVED_TAG = {
    "system": f"{GATEWAY_BASE}/CodeSystem/provenance",
    "code": "derived",
    "display": "Computed by the gateway",
}

CBC_PANEL = ("58410-2", "CBC panel - Blood by Automated count")
CBC_DIFF_PANEL = ("57021-8", "CBC W Auto Differential panel - Blood")
DIFFERENTIAL_KEYS = frozenset(
    {
        "neut_pct",
        "lymph_pct",
        "mono_pct",
        "eos_pct",
        "baso_pct",
        "neut_abs",
        "lymph_abs",
        "mono_abs",
        "eos_abs",
        "baso_abs",
    }
)

INTERPRETATION_DISPLAY = {
    "H": "High",
    "L": "Low",
    "HH": "Critical high",
    "LL": "Critical low",
    "A": "Abnormal",
    "N": "Normal",
}

LAB_CATEGORY = {"coding": [{"system": OBS_CATEGORY, "code": "laboratory", "display": "Laboratory"}]}
