"""The OperationOutcome returned with an analysis: what the caller should know before trusting it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fhir_gateway.fhir.outcome import Issue, operation_outcome


@dataclass(frozen=True)
class AnalysisWarning:
    code: str  # our machine code, e.g. uncertain-value, repaired-value, missing-analyte, assumption
    message: str  # never contains PHI
    key: str | None = None
    severity: str = "warning"


_ISSUE_TYPE = {
    "missing-analyte": "incomplete",
    "uncertain-value": "incomplete",
    "implausible-value": "value",
    "out-of-distribution": "business-rule",
}


def warnings_outcome(warnings: Iterable[AnalysisWarning]) -> dict[str, Any]:
    issues = [
        Issue(
            _ISSUE_TYPE.get(w.code, "informational"),
            w.message,
            severity="information" if w.severity == "information" else "warning",  # type: ignore[arg-type]
            details_code=w.code,
            expression=(w.key,) if w.key else (),
        )
        for w in warnings
    ]
    if not issues:
        issues = [Issue("informational", "Analysis completed without warnings", severity="information")]
    return operation_outcome(issues)
