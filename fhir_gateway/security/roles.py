"""Which role may do what (the first of the two checks; scopes are the second).

Auditors read the audit log and nothing clinical; clinical roles never read the audit log;
admins operate the service (keys, migrations) from the CLI and get no clinical data over HTTP.
"""

from __future__ import annotations

from fhir_gateway.security.scopes import Interaction

ROLES: tuple[str, ...] = ("clinician", "lab", "auditor", "admin", "system")
CLINICAL_TYPES: frozenset[str] = frozenset(
    {"Patient", "Observation", "DiagnosticReport", "RiskAssessment", "DocumentReference"}
)
AUDIT_TYPES: frozenset[str] = frozenset({"AuditEvent"})

_CLINICAL_WRITE: frozenset[str] = frozenset("cruds")
ROLE_MATRIX: dict[str, dict[frozenset[str], frozenset[str]]] = {
    "clinician": {CLINICAL_TYPES: _CLINICAL_WRITE},
    "lab": {CLINICAL_TYPES: _CLINICAL_WRITE},
    "system": {CLINICAL_TYPES: _CLINICAL_WRITE},
    "auditor": {AUDIT_TYPES: frozenset("rs")},
    "admin": {},
}

DEFAULT_SCOPES: dict[str, str] = {
    "clinician": "openid fhirUser user/*.cruds",
    "lab": "user/*.cruds",
    "system": "system/*.cruds",
    "auditor": "user/AuditEvent.rs",
    "admin": "user/*.rs",
}


def role_allows(role: str, resource_type: str, interaction: Interaction) -> bool:
    return any(
        resource_type in types and interaction in allowed
        for types, allowed in ROLE_MATRIX.get(role, {}).items()
    )
