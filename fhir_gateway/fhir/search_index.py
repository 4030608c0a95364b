"""What a stored resource is searchable by: its patient, its clinically relevant date and its codes.

Pure: takes the resource JSON, returns plain values. PHI-bearing keys (patient references,
identifiers) are hashed by the caller-supplied `blind` function before they reach the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fhir_gateway.fhir.dates import parse_start

# Where each type keeps its clinically relevant date, in order of preference.
DATE_ELEMENTS: dict[str, tuple[str, ...]] = {
    "Observation": ("effectiveDateTime", "effectiveInstant", "effectivePeriod.start", "issued"),
    "DiagnosticReport": ("effectiveDateTime", "effectivePeriod.start", "issued"),
    "RiskAssessment": ("occurrenceDateTime", "occurrencePeriod.start"),
    "DocumentReference": ("date", "context.period.start"),
}
TOKEN_ELEMENTS: dict[str, dict[str, str]] = {
    "Observation": {"code": "code", "category": "category"},
    "DiagnosticReport": {"code": "code", "category": "category"},
    "RiskAssessment": {"code": "code"},
    "DocumentReference": {"type": "type", "category": "category"},
}


@dataclass(frozen=True)
class IndexEntry:
    patient_hash: str | None
    effective_at: datetime | None
    tokens: list[tuple[str, str, str]] = field(default_factory=list)  # (param, system, code)


def _get(resource: dict[str, Any], dotted: str) -> Any:
    cur: Any = resource
    for part in dotted.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def _codings(value: Any) -> Iterable[dict[str, Any]]:
    concepts = value if isinstance(value, list) else [value]
    for concept in concepts:
        if isinstance(concept, dict):
            yield from (c for c in concept.get("coding", []) if isinstance(c, dict) and c.get("code"))


def patient_reference(resource: dict[str, Any]) -> str | None:
    """'Patient/<id>' this resource belongs to (itself, for a Patient)."""
    rtype = resource.get("resourceType")
    if rtype == "Patient":
        return f"Patient/{resource['id']}" if resource.get("id") else None
    ref = _get(resource, "subject.reference")
    return ref if isinstance(ref, str) and ref.startswith("Patient/") else None


def identifier_hashes(identifier: dict[str, Any], blind: Callable[[str], str]) -> list[str]:
    """Keyed hashes that let `identifier=system|value` and `identifier=value` match without plaintext."""
    value = str(identifier["value"])
    hashes = [blind(f"*|{value}")]
    if identifier.get("system"):
        hashes.append(blind(f"{identifier['system']}|{value}"))
    return hashes


def build_index(resource: dict[str, Any], blind: Callable[[str], str]) -> IndexEntry:
    rtype = resource["resourceType"]
    patient = patient_reference(resource)
    effective = None
    for element in DATE_ELEMENTS.get(rtype, ()):
        value = _get(resource, element)
        if isinstance(value, str):
            effective = parse_start(value)
            break
    tokens = [
        (param, c.get("system", ""), str(c["code"]))
        for param, element in TOKEN_ELEMENTS.get(rtype, {}).items()
        for c in _codings(resource.get(element))
    ]
    if rtype == "Patient":
        for ident in resource.get("identifier", []):
            if isinstance(ident, dict) and ident.get("value"):
                tokens += [("identifier", "", h) for h in identifier_hashes(ident, blind)]
    for ref in resource.get("derivedFrom", []) if rtype == "Observation" else []:
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            tokens.append(("derived-from", "", ref["reference"]))
    return IndexEntry(blind(patient) if patient else None, effective, tokens)
