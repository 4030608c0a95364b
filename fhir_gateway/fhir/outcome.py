"""OperationOutcome building and the exception that carries one to the HTTP edge."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["fatal", "error", "warning", "information"]


@dataclass(frozen=True)
class Issue:
    code: str  # http://hl7.org/fhir/issue-type, e.g. invalid, not-found, security, processing
    diagnostics: str
    severity: Severity = "error"
    expression: tuple[str, ...] = ()
    details_code: str | None = None  # optional machine code in our own system

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"severity": self.severity, "code": self.code, "diagnostics": self.diagnostics}
        if self.expression:
            out["expression"] = list(self.expression)
        if self.details_code:
            out["details"] = {
                "coding": [{"system": "urn:cbc-fhir-gateway:issue", "code": self.details_code}],
                "text": self.details_code,
            }
        return out


def operation_outcome(issues: Sequence[Issue]) -> dict[str, Any]:
    if not issues:
        issues = [Issue("informational", "All OK", severity="information")]
    return {"resourceType": "OperationOutcome", "issue": [i.to_json() for i in issues]}


@dataclass
class FhirError(Exception):
    """Raised anywhere below the routers; rendered as an OperationOutcome with `status`."""

    status: int
    code: str
    diagnostics: str
    expression: tuple[str, ...] = ()
    extra_issues: list[Issue] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.diagnostics}"

    def outcome(self) -> dict[str, Any]:
        return operation_outcome(
            [Issue(self.code, self.diagnostics, expression=self.expression), *self.extra_issues]
        )


def not_found(resource_type: str, resource_id: str, version: str | None = None) -> FhirError:
    what = f"{resource_type}/{resource_id}" + (f"/_history/{version}" if version else "")
    return FhirError(404, "not-found", f"{what} is not known")
