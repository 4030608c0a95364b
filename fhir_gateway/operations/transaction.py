"""FHIR transaction and batch: POST /fhir with a Bundle.

A transaction is all-or-nothing: entries run inside the request's unit of work and the first
failure aborts it with an OperationOutcome naming the entry. A batch runs each entry in its own
savepoint and reports per-entry outcomes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from fhir_gateway.fhir.outcome import FhirError
from fhir_gateway.fhir.references import rewrite_references
from fhir_gateway.operations import create, read, search, update, vread
from fhir_gateway.operations.context import RequestContext, require_type
from fhir_gateway.store.resource_store import ResourceStore, StoredResource

PROCESS_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}
SearchFn = Callable[[str, list[tuple[str, str]]], dict[str, Any]]


def _check_bundle(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise FhirError(400, "invalid", "POST /fhir expects a Bundle of type transaction or batch")
    if body.get("type") not in ("transaction", "batch"):
        raise FhirError(400, "invalid", "Bundle.type must be 'transaction' or 'batch'", ("Bundle.type",))
    entries = body.get("entry") or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise FhirError(400, "structure", "Bundle.entry must be a list of objects", ("Bundle.entry",))
    for i, e in enumerate(entries):
        if not isinstance(e.get("request"), dict):
            raise FhirError(
                400, "required", f"Bundle.entry[{i}].request is required", (f"Bundle.entry[{i}]",)
            )
    # Entry resources are validated one by one later; validating them inside the Bundle would
    # make the schema try every resource type for each entry.
    shell = {**body, "entry": [{k: v for k, v in e.items() if k != "resource"} for e in entries]}
    if not shell["entry"]:
        shell.pop("entry")
    try:
        get_fhir_model_class("Bundle").model_validate(shell)
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        where = ".".join(["Bundle", *(str(p) for p in first["loc"])])
        raise FhirError(400, "invalid", f"{where}: {first['msg']}", (where,)) from exc
    return body


def _entry_label(index: int, entry: dict[str, Any]) -> str:
    full = entry.get("fullUrl")
    return f"Bundle.entry[{index}]" + (f" ({full})" if full else "")


def _status_line(status: int) -> str:
    return {200: "200 OK", 201: "201 Created"}.get(status, str(status))


def _response(stored: StoredResource, status: int) -> dict[str, Any]:
    return {
        "resource": stored.resource,
        "response": {
            "status": _status_line(status),
            "location": f"{stored.resource_type}/{stored.resource_id}/_history/{stored.version_id}",
            "etag": stored.etag,
            "lastModified": stored.last_updated.replace(tzinfo=UTC).isoformat(),
        },
    }


def _run_entry(
    store: ResourceStore,
    ctx: RequestContext,
    entry: dict[str, Any],
    assigned: dict[str, str],
    search_fn: SearchFn,
) -> dict[str, Any]:
    request = entry.get("request")
    if not isinstance(request, dict) or "method" not in request or "url" not in request:
        raise FhirError(400, "required", "entry.request with method and url is required")
    method, url = request["method"], request["url"]
    path, _, query = url.partition("?")
    parts = [p for p in urlsplit(path).path.split("/") if p]
    if method == "POST":
        if request.get("ifNoneExist"):
            raise FhirError(400, "not-supported", "conditional create (ifNoneExist) is not supported")
        resource = entry.get("resource")
        if not isinstance(resource, dict) or len(parts) != 1 or resource.get("resourceType") != parts[0]:
            raise FhirError(
                400, "invalid", "POST entries need request.url '<Type>' and a resource of that type"
            )
        preset = assigned.get(entry.get("fullUrl") or "")
        stored = create.create(
            store, ctx, parts[0], resource, resource_id=preset.split("/")[1] if preset else None
        )
        return _response(stored, 201)
    if method == "PUT":
        if len(parts) != 2:
            raise FhirError(400, "invalid", "PUT entries need request.url '<Type>/<id>'")
        stored, created = update.update(
            store, ctx, parts[0], parts[1], entry.get("resource"), request.get("ifMatch")
        )
        return _response(stored, 201 if created else 200)
    if method == "GET":
        if len(parts) == 1:
            bundle = search_fn(parts[0], parse_qsl(query, keep_blank_values=True))
            return {"resource": bundle, "response": {"status": "200 OK"}}
        if len(parts) == 2:
            return _response(read.read(store, ctx, parts[0], parts[1]), 200)
        if len(parts) == 4 and parts[2] == "_history":
            return _response(vread.vread(store, ctx, parts[0], parts[1], parts[3]), 200)
        raise FhirError(400, "invalid", "unsupported GET url in entry")
    raise FhirError(400, "not-supported", f"entry method '{method}' is not supported")


def _assign_ids(entries: list[dict[str, Any]]) -> dict[str, str]:
    assigned: dict[str, str] = {}
    for entry in entries:
        full, request, resource = entry.get("fullUrl"), entry.get("request") or {}, entry.get("resource")
        if (
            isinstance(full, str)
            and full.startswith("urn:uuid:")
            and request.get("method") == "POST"
            and isinstance(resource, dict)
        ):
            if full in assigned:
                raise FhirError(400, "invalid", f"fullUrl {full} is used by more than one entry")
            assigned[full] = f"{resource.get('resourceType')}/{uuid.uuid4()}"
    return assigned


def transaction(
    store: ResourceStore,
    ctx: RequestContext,
    body: Any,
    *,
    default_count: int,
    max_count: int,
) -> dict[str, Any]:
    bundle = _check_bundle(body)
    entries: list[dict[str, Any]] = list(bundle.get("entry") or [])

    def search_fn(rtype: str, items: list[tuple[str, str]]) -> dict[str, Any]:
        require_type(rtype)
        return search.search(store, ctx, rtype, items, default_count=default_count, max_count=max_count)

    if bundle["type"] == "batch":
        return _batch(store, ctx, entries, search_fn)

    assigned = _assign_ids(entries)
    entries = [rewrite_references(e, assigned) if "resource" in e else e for e in entries]
    results: dict[int, dict[str, Any]] = {}
    order = sorted(
        range(len(entries)),
        key=lambda i: PROCESS_ORDER.get((entries[i].get("request") or {}).get("method", ""), 9),
    )
    for i in order:
        try:
            results[i] = _run_entry(store, ctx, entries[i], assigned, search_fn)
        except FhirError as err:
            err.diagnostics = f"{_entry_label(i, entries[i])}: {err.diagnostics}"
            err.expression = (f"Bundle.entry[{i}]", *err.expression)
            raise
    out: dict[str, Any] = {"resourceType": "Bundle", "type": "transaction-response"}
    if entries:
        out["entry"] = [results[i] for i in range(len(entries))]
    return out


def _batch(
    store: ResourceStore, ctx: RequestContext, entries: list[dict[str, Any]], search_fn: SearchFn
) -> dict[str, Any]:
    out_entries = []
    for entry in entries:
        try:
            with store.session.begin_nested():
                out_entries.append(_run_entry(store, ctx, entry, {}, search_fn))
        except FhirError as err:
            out_entries.append(
                {"response": {"status": str(err.status), "outcome": err.outcome()}}
                | ({"fullUrl": entry["fullUrl"]} if isinstance(entry.get("fullUrl"), str) else {})
            )
    out: dict[str, Any] = {"resourceType": "Bundle", "type": "batch-response"}
    if out_entries:
        out["entry"] = out_entries
    return out
