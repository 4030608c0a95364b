"""FHIR search: GET /fhir/{type}?… returning a searchset Bundle with paging links."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from fhir_gateway.fhir.search_params import SearchQuery, parse_search
from fhir_gateway.operations.context import RequestContext, authorize, patient_restriction, require_type
from fhir_gateway.store.resource_store import ResourceStore


def _link(
    ctx: RequestContext, resource_type: str, params: list[tuple[str, str]], count: int, offset: int
) -> str:
    query = urlencode([*params, ("_count", str(count)), ("_offset", str(offset))])
    return f"{ctx.base_url}/{resource_type}?{query}"


def search(
    store: ResourceStore,
    ctx: RequestContext,
    resource_type: str,
    items: Sequence[tuple[str, str]],
    *,
    default_count: int,
    max_count: int,
    strict: bool = True,
) -> dict[str, Any]:
    require_type(resource_type)
    authorize(ctx, resource_type, "s")
    query: SearchQuery = parse_search(
        resource_type, items, default_count=default_count, max_count=max_count, strict=strict
    )
    restricted = patient_restriction(ctx)
    if restricted:
        if resource_type == "Patient":
            query.ids.append((restricted.split("/", 1)[1],))
        else:
            query.patients.append((restricted,))
    found, total = store.search(query)
    params = query.canonical_params(items)
    links = [{"relation": "self", "url": _link(ctx, resource_type, params, query.count, query.offset)}]
    if query.count and query.offset + query.count < total:
        links.append(
            {
                "relation": "next",
                "url": _link(ctx, resource_type, params, query.count, query.offset + query.count),
            }
        )
    if query.count and query.offset > 0:
        prev = max(0, query.offset - query.count)
        links.append({"relation": "previous", "url": _link(ctx, resource_type, params, query.count, prev)})
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links}
    if found:  # FHIR forbids empty arrays, so an empty page has no `entry` at all
        bundle["entry"] = [
            {
                "fullUrl": f"{ctx.base_url}/{s.resource_type}/{s.resource_id}",
                "resource": s.resource,
                "search": {"mode": "match"},
            }
            for s in found
        ]
    return bundle
