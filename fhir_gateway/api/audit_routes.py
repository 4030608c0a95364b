"""AuditEvent read/search for auditors. Registered before the generic FHIR routes."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request

from audit import Interaction
from fhir_gateway.api.db_threads import run_db_work
from fhir_gateway.api.dependencies import request_context, runtime
from fhir_gateway.api.responses import FhirJSONResponse
from fhir_gateway.auditing import open_scope
from fhir_gateway.operations.audit_search import read_audit_event, search_audit_events

router = APIRouter(prefix="/fhir", tags=["AuditEvent"])


@router.get("/AuditEvent", summary="Search the audit trail (auditor role only)")
async def search_events(request: Request) -> FhirJSONResponse:
    items = list(request.query_params.multi_items())
    scope = open_scope(request, Interaction.SEARCH_TYPE, "AuditEvent", query=urlencode(items))
    ctx = request_context(request)
    rt = runtime(request)

    def run() -> dict:
        # The auditor's own search is audited in the same transaction as it reads.
        with rt.unit_of_work(audit=scope) as session:
            return search_audit_events(
                session.connection(), rt.audit_keys, ctx, items, default_count=rt.settings.default_page_size
            )

    return FhirJSONResponse(await run_db_work(rt, run))


@router.get("/AuditEvent/{event_id}", summary="Read one AuditEvent (auditor role only)")
async def read_event(event_id: str, request: Request) -> FhirJSONResponse:
    scope = open_scope(request, Interaction.READ, "AuditEvent", resource_id=event_id)
    ctx = request_context(request)
    rt = runtime(request)

    def run() -> dict:
        with rt.unit_of_work(audit=scope) as session:
            return read_audit_event(session.connection(), rt.audit_keys, ctx, event_id)

    return FhirJSONResponse(await run_db_work(rt, run))
