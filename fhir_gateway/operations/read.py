"""FHIR read: GET /fhir/{type}/{id}."""

from __future__ import annotations

from fhir_gateway.operations.context import RequestContext, authorize, check_compartment, require_type
from fhir_gateway.store.resource_store import ResourceStore, StoredResource


def read(store: ResourceStore, ctx: RequestContext, resource_type: str, resource_id: str) -> StoredResource:
    require_type(resource_type)
    authorize(ctx, resource_type, "r")
    stored = store.read(resource_type, resource_id)
    check_compartment(ctx, stored.resource)
    return stored
