"""FHIR update: PUT /fhir/{type}/{id} (update-as-create allowed), with If-Match version checks."""

from __future__ import annotations

from typing import Any

from fhir_gateway.fhir.outcome import FhirError
from fhir_gateway.fhir.search_params import ID_PATTERN
from fhir_gateway.fhir.validation import validate_resource
from fhir_gateway.operations.context import RequestContext, authorize, check_compartment, require_type
from fhir_gateway.store.resource_store import ResourceStore, StoredResource


def parse_if_match(value: str | None) -> int | None:
    if not value:
        return None
    digits = value.removeprefix("W/").strip('"')
    if not digits.isdigit():
        raise FhirError(400, "invalid", 'If-Match must be a version ETag such as W/"3"')
    return int(digits)


def update(
    store: ResourceStore,
    ctx: RequestContext,
    resource_type: str,
    resource_id: str,
    body: Any,
    if_match: str | None,
) -> tuple[StoredResource, bool]:
    """Returns the stored version and whether it was created (201) rather than updated (200)."""
    require_type(resource_type)
    authorize(ctx, resource_type, "u")
    if not ID_PATTERN.match(resource_id):
        raise FhirError(400, "invalid", "ids are 1-64 characters of A-Z, a-z, 0-9, '-' and '.'")
    resource = validate_resource(body, expected_type=resource_type)
    if resource.get("id") != resource_id:
        raise FhirError(400, "invalid", "the resource id must match the id in the URL", ("id",))
    check_compartment(ctx, resource)
    if store.exists(resource_type, resource_id):
        check_compartment(ctx, store.read(resource_type, resource_id).resource)
    else:
        authorize(ctx, resource_type, "c")
    stored = store.update(resource, resource_id, parse_if_match(if_match))
    return stored, stored.version_id == 1
