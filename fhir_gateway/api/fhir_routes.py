"""Thin FHIR REST router: parse HTTP, call one operation inside one unit of work, render."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Request

from audit import Interaction
from fhir_gateway.api.body import read_fhir_json
from fhir_gateway.api.db_threads import run_db_work
from fhir_gateway.api.dependencies import base_url, request_context, runtime
from fhir_gateway.api.responses import FhirJSONResponse, resource_response
from fhir_gateway.auditing import current_scope, open_scope
from fhir_gateway.operations import create, read, search, transaction, update, vread
from fhir_gateway.operations.analyze_definition import analyze_operation_definition
from fhir_gateway.operations.capabilities import capability_statement
from fhir_gateway.operations.context import RequestContext
from fhir_gateway.store.resource_store import ResourceStore, StoredResource

router = APIRouter(prefix="/fhir", tags=["FHIR"])
T = TypeVar("T")


async def _in_unit_of_work(request: Request, work: Callable[[ResourceStore], T]) -> T:
    """Run `work` in one transaction that also appends the request's audit record (if the
    work returns a stored resource, the record names it and its patient)."""
    rt = runtime(request)
    scope = current_scope(request)

    def run() -> T:
        with rt.unit_of_work(audit=scope) as session:
            result = work(rt.store(session))
            if scope is not None:
                stored = result[0] if isinstance(result, tuple) else result
                if isinstance(stored, StoredResource):
                    scope.describe(stored)
            return result

    return await run_db_work(rt, run)


def _one_patient(items: list[tuple[str, str]]) -> str | None:
    """The patient a search is about, when it names exactly one (BALP PatientQuery)."""
    values = [v for k, v in items if k in ("patient", "subject") and "," not in v]
    return values[0] if len(values) == 1 else None


def _lenient(request: Request) -> bool:
    return "handling=lenient" in request.headers.get("prefer", "").replace(" ", "")


# CapabilityStatement.date is when the statement last changed: it is fixed for the life of the
# process (it was "now" per request, so two reads a second apart differed).
_CAPABILITIES_DATE = datetime.now(UTC).isoformat(timespec="seconds")


@router.get("/metadata", summary="CapabilityStatement (no token needed)")
async def metadata(request: Request) -> FhirJSONResponse:
    return FhirJSONResponse(capability_statement(base_url(request), _CAPABILITIES_DATE))


@router.get("/OperationDefinition/cbc-analyze", summary="The $analyze OperationDefinition (no token needed)")
async def analyze_definition(request: Request) -> FhirJSONResponse:
    return FhirJSONResponse(analyze_operation_definition(base_url(request)))


@router.post("", summary="Transaction or batch Bundle")
async def post_bundle(request: Request) -> FhirJSONResponse:
    scope = open_scope(request, Interaction.TRANSACTION)
    ctx: RequestContext = request_context(request)
    settings = runtime(request).settings
    body = await read_fhir_json(request, settings.max_body_bytes)
    if isinstance(body, dict) and body.get("type") == "batch":
        scope.interaction = Interaction.BATCH
    result: dict[str, Any] = await _in_unit_of_work(
        request,
        lambda store: transaction.transaction(
            store, ctx, body, default_count=settings.default_page_size, max_count=settings.max_page_size
        ),
    )
    return FhirJSONResponse(result)


@router.post("/{resource_type}", status_code=201, summary="Create a resource")
async def create_resource(resource_type: str, request: Request) -> FhirJSONResponse:
    open_scope(request, Interaction.CREATE, resource_type).status = 201
    ctx = request_context(request)
    body = await read_fhir_json(request, runtime(request).settings.max_body_bytes)
    stored = await _in_unit_of_work(request, lambda store: create.create(store, ctx, resource_type, body))
    return resource_response(stored, ctx.base_url, status=201)


@router.put("/{resource_type}/{resource_id}", summary="Update (or create with a client id) a resource")
async def update_resource(resource_type: str, resource_id: str, request: Request) -> FhirJSONResponse:
    scope = open_scope(request, Interaction.UPDATE, resource_type, resource_id=resource_id)
    ctx = request_context(request)
    body = await read_fhir_json(request, runtime(request).settings.max_body_bytes)
    if_match = request.headers.get("if-match")

    def work(store: ResourceStore) -> tuple[StoredResource, bool]:
        stored, created = update.update(store, ctx, resource_type, resource_id, body, if_match)
        if created:
            scope.interaction, scope.status = Interaction.CREATE, 201
        return stored, created

    stored, created = await _in_unit_of_work(request, work)
    return resource_response(stored, ctx.base_url, status=201 if created else 200)


@router.get("/{resource_type}/{resource_id}", summary="Read the current version")
async def read_resource(resource_type: str, resource_id: str, request: Request) -> FhirJSONResponse:
    open_scope(request, Interaction.READ, resource_type, resource_id=resource_id)
    ctx = request_context(request)
    stored = await _in_unit_of_work(request, lambda store: read.read(store, ctx, resource_type, resource_id))
    return resource_response(stored, ctx.base_url)


@router.get("/{resource_type}/{resource_id}/_history/{version_id}", summary="Read one version")
async def vread_resource(
    resource_type: str, resource_id: str, version_id: str, request: Request
) -> FhirJSONResponse:
    open_scope(request, Interaction.VREAD, resource_type, resource_id=resource_id, version_id=version_id)
    ctx = request_context(request)
    stored = await _in_unit_of_work(
        request, lambda store: vread.vread(store, ctx, resource_type, resource_id, version_id)
    )
    return resource_response(stored, ctx.base_url)


async def _search(resource_type: str, request: Request, items: list[tuple[str, str]]) -> FhirJSONResponse:
    open_scope(
        request, Interaction.SEARCH_TYPE, resource_type, query=urlencode(items), patient=_one_patient(items)
    )
    ctx = request_context(request)
    settings = runtime(request).settings
    strict = not _lenient(request)
    bundle = await _in_unit_of_work(
        request,
        lambda store: search.search(
            store,
            ctx,
            resource_type,
            items,
            default_count=settings.default_page_size,
            max_count=settings.max_page_size,
            strict=strict,
        ),
    )
    return FhirJSONResponse(bundle)


@router.get("/{resource_type}", summary="Search (searchset Bundle with paging links)")
async def search_get(resource_type: str, request: Request) -> FhirJSONResponse:
    return await _search(resource_type, request, list(request.query_params.multi_items()))


@router.post("/{resource_type}/_search", summary="Search with form-encoded parameters")
async def search_post(resource_type: str, request: Request) -> FhirJSONResponse:
    form = await request.form()
    items = list(request.query_params.multi_items()) + [(k, str(v)) for k, v in form.multi_items()]
    return await _search(resource_type, request, items)
