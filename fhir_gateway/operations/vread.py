"""FHIR vread: GET /fhir/{type}/{id}/_history/{vid}."""

from __future__ import annotations

from fhir_gateway.operations.context import RequestContext, authorize, check_compartment, require_type
from fhir_gateway.store.resource_store import ResourceStore, StoredResource


def vread(
    store: ResourceStore, ctx: RequestContext, resource_type: str, resource_id: str, version_id: str
) -> StoredResource:
    require_type(resource_type)
    authorize(ctx, resource_type, "r")
    stored = store.vread(resource_type, resource_id, version_id)
    check_compartment(ctx, stored.resource)
    return stored
