"""The resource types this server stores, and the search parameters each supports."""

from __future__ import annotations

SUPPORTED_TYPES: tuple[str, ...] = (
    "Patient",
    "Observation",
    "DiagnosticReport",
    "RiskAssessment",
    "DocumentReference",
)

# name -> (FHIR search type, documentation) per resource type; common params apply to all.
COMMON_PARAMS: dict[str, tuple[str, str]] = {
    "_id": ("token", "Logical id of the resource"),
    "_lastUpdated": ("date", "When the resource version was last changed"),
}
TYPE_PARAMS: dict[str, dict[str, tuple[str, str]]] = {
    "Patient": {
        "identifier": ("token", "A patient identifier (system|value); matched through a keyed hash"),
    },
    "Observation": {
        "patient": ("reference", "The subject, when it is a Patient"),
        "subject": ("reference", "The subject of the observation"),
        "code": ("token", "The observation code (system|code), e.g. http://loinc.org|718-7"),
        "category": ("token", "The observation category"),
        "date": ("date", "Clinically relevant time (effective[x])"),
        "derived-from": ("reference", "Resources the observation was derived from"),
    },
    "DiagnosticReport": {
        "patient": ("reference", "The subject, when it is a Patient"),
        "subject": ("reference", "The subject of the report"),
        "code": ("token", "The report code, e.g. http://loinc.org|58410-2"),
        "category": ("token", "The report category"),
        "date": ("date", "Clinically relevant time (effective[x])"),
    },
    "RiskAssessment": {
        "patient": ("reference", "The subject, when it is a Patient"),
        "subject": ("reference", "The subject of the assessment"),
        "code": ("token", "The assessment type"),
        "date": ("date", "When the assessment was made (occurrence[x])"),
    },
    "DocumentReference": {
        "patient": ("reference", "The subject, when it is a Patient"),
        "subject": ("reference", "The subject of the document"),
        "type": ("token", "Kind of document (LOINC)"),
        "category": ("token", "Categorization of document"),
        "date": ("date", "When this document reference was created"),
    },
}

# Result parameters we accept; _total/_totalMethod are satisfied (we always count), _elements may be ignored.
RESULT_PARAMS: frozenset[str] = frozenset(
    {"_count", "_offset", "_sort", "_format", "_total", "_totalMethod", "_summary", "_elements"}
)
SORT_KEYS: frozenset[str] = frozenset({"date", "-date", "_lastUpdated", "-_lastUpdated", "_id", "-_id"})


def params_for(resource_type: str) -> dict[str, tuple[str, str]]:
    return {**COMMON_PARAMS, **TYPE_PARAMS.get(resource_type, {})}
