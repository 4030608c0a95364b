"""Who is asking, and the checks every operation applies before touching data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fhir_gateway.fhir.outcome import FhirError
from fhir_gateway.fhir.resource_types import SUPPORTED_TYPES
from fhir_gateway.fhir.search_index import patient_reference
from fhir_gateway.security.roles import role_allows
from fhir_gateway.security.scopes import Interaction, scopes_allow
from fhir_gateway.security.tokens import Principal


@dataclass(frozen=True)
class RequestContext:
    principal: Principal
    base_url: str  # e.g. http://host:8000/fhir
    request_id: str
    source_address: str | None = None


def require_type(resource_type: str) -> None:
    if resource_type not in SUPPORTED_TYPES:
        raise FhirError(
            404, "not-supported", f"resource type '{resource_type}' is not supported by this server"
        )


def authorize(ctx: RequestContext, resource_type: str, interaction: Interaction) -> None:
    """Both checks must pass: the role matrix and the token's SMART scopes."""
    p = ctx.principal
    if not role_allows(p.role, resource_type, interaction):
        raise FhirError(
            403, "forbidden", f"role '{p.role}' may not perform this interaction on {resource_type}"
        )
    usable = tuple(s for s in p.scopes if s.context != "patient" or p.patient)
    if not scopes_allow(usable, resource_type, interaction):
        raise FhirError(403, "forbidden", f"token scopes do not allow '{interaction}' on {resource_type}")


def patient_restriction(ctx: RequestContext) -> str | None:
    """For patient-context tokens without user/system access: the only patient they may touch."""
    p = ctx.principal
    if p.patient and not any(s.context in ("user", "system") for s in p.scopes):
        return f"Patient/{p.patient}"
    return None


def check_compartment(ctx: RequestContext, resource: dict[str, Any]) -> None:
    allowed = patient_restriction(ctx)
    if allowed and patient_reference(resource) != allowed:
        raise FhirError(403, "forbidden", "this resource is outside the token's patient compartment")
