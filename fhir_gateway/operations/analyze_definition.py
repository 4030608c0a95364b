"""The OperationDefinition for `$analyze`, advertised by the CapabilityStatement."""

from __future__ import annotations

from typing import Any


def analyze_operation_definition(base_url: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationDefinition",
        "id": "cbc-analyze",
        "url": f"{base_url}/OperationDefinition/cbc-analyze",
        "name": "CbcAnalyze",
        "title": "Analyze a Complete Blood Count report",
        "status": "active",
        "kind": "operation",
        "code": "analyze",
        "description": (
            "Reads a CBC report (image/PDF in a DocumentReference or raw bytes) or a Bundle of LOINC-coded "
            "Observations, and returns a Bundle with the Observations, a DiagnosticReport (LOINC 58410-2), "
            "a RiskAssessment and an OperationOutcome of warnings. "
            "Screening decision support, not a diagnosis."
        ),
        "system": True,
        "type": True,
        "instance": True,
        "resource": ["DocumentReference"],
        "parameter": [
            {
                "name": "resource",
                "use": "in",
                "min": 0,
                "max": "1",
                "documentation": "A DocumentReference with a base64 attachment, or a Bundle of Observations.",
                "type": "Resource",
            },
            {
                "name": "return",
                "use": "out",
                "min": 1,
                "max": "1",
                "documentation": "Bundle (collection) with the results and an OperationOutcome.",
                "type": "Bundle",
            },
        ],
    }
