"""FHIR create: POST /fhir/{type}."""

from __future__ import annotations

from typing import Any

from fhir_gateway.fhir.validation import validate_resource
from fhir_gateway.operations.context import RequestContext, authorize, check_compartment, require_type
from fhir_gateway.store.resource_store import ResourceStore, StoredResource


def create(
    store: ResourceStore, ctx: RequestContext, resource_type: str, body: Any, resource_id: str | None = None
) -> StoredResource:
    """`resource_id` is only for ids the server itself pre-assigned (transaction urn:uuid entries)."""
    require_type(resource_type)
    authorize(ctx, resource_type, "c")
    resource = validate_resource(body, expected_type=resource_type)
    check_compartment(ctx, resource)
    # The server assigns ids on create (FHIR http.html#create); any client id is ignored.
    resource = {k: v for k, v in resource.items() if k != "id"}
    return store.create(resource, resource_id)
