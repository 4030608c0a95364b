"""FHIR capabilities: GET /fhir/metadata (CapabilityStatement, fhirVersion 4.0.1)."""

from __future__ import annotations

from typing import Any

from fhir_gateway import __version__
from fhir_gateway.fhir.resource_types import SUPPORTED_TYPES, params_for

ANALYZE_OPERATION = "OperationDefinition/cbc-analyze"


def capability_statement(base_url: str, date: str) -> dict[str, Any]:
    resources = [
        {
            "type": rtype,
            "versioning": "versioned",
            "readHistory": True,
            "updateCreate": True,
            "interaction": [{"code": c} for c in ("read", "vread", "update", "create", "search-type")],
            "searchParam": [
                {"name": name, "type": kind, "documentation": doc}
                for name, (kind, doc) in params_for(rtype).items()
            ],
            **(
                {"operation": [{"name": "analyze", "definition": f"{base_url}/{ANALYZE_OPERATION}"}]}
                if rtype == "DocumentReference"
                else {}
            ),
        }
        for rtype in SUPPORTED_TYPES
    ]
    resources.append(
        {
            "type": "AuditEvent",
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "documentation": "Auditor role only; IHE Basic Audit Log Patterns.",
        }
    )
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "publisher": "CBC FHIR Gateway",
        "kind": "instance",
        "software": {"name": "cbc-fhir-gateway", "version": __version__},
        "implementation": {"description": "CBC FHIR Gateway", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ],
                            "text": "Bearer JWT with role and SMART v2 scopes",
                        }
                    ],
                    "description": (
                        "Every call except /fhir/metadata needs a Bearer JWT carrying `sub`, `role` "
                        "(clinician, lab, auditor, admin, system) and SMART v2 `scope` "
                        "(e.g. user/Observation.rs). "
                        "A call needs both the role and the scope."
                    ),
                },
                "resource": resources,
                "interaction": [{"code": "transaction"}, {"code": "batch"}],
                "operation": [{"name": "analyze", "definition": f"{base_url}/{ANALYZE_OPERATION}"}],
            }
        ],
    }
