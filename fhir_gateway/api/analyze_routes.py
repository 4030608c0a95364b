"""`$analyze` routes: parse the input, read documents in the OCR pool, then run the operation in
one unit of work. Registered before the generic FHIR routes so `$analyze` is not taken for a type."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from audit import Interaction
from fhir_gateway.analysis.inputs import (
    DOCUMENT_TYPES,
    AnalyzeInput,
    DocumentInput,
    ObservationsInput,
    document_from_bytes,
    document_from_reference,
    media_type,
    parse_analyze_body,
)
from fhir_gateway.api.body import JSON_TYPES, read_fhir_json, read_limited
from fhir_gateway.api.db_threads import run_db_work
from fhir_gateway.api.dependencies import request_context, runtime
from fhir_gateway.api.responses import FhirJSONResponse
from fhir_gateway.auditing import AuditScope, open_scope
from fhir_gateway.fhir.outcome import FhirError
from fhir_gateway.operations import analyze as analyze_op
from fhir_gateway.operations import read as read_op
from fhir_gateway.operations.context import RequestContext, authorize
from fhir_gateway.runtime import Runtime

router = APIRouter(prefix="/fhir", tags=["$analyze"])


def _query_options(request: Request, inp: AnalyzeInput) -> AnalyzeInput:
    q = request.query_params
    pregnant = q.get("pregnant")
    if pregnant not in (None, "true", "false"):
        raise FhirError(400, "invalid", "'pregnant' must be true or false")
    trimester = q.get("trimester")
    if trimester is not None and trimester not in ("1", "2", "3"):
        raise FhirError(400, "invalid", "'trimester' must be 1, 2 or 3")
    engine = q.get("engine") or inp.options.get("engine")
    if engine is not None and engine not in ("tesseract", "rapidocr", "combined"):
        raise FhirError(400, "invalid", "'engine' must be tesseract, rapidocr or combined")
    return AnalyzeInput(
        inp.payload,
        subject=q.get("subject") or inp.subject,
        pregnant=(pregnant == "true") if pregnant is not None else inp.pregnant,
        trimester=int(trimester) if trimester else inp.trimester,
        options={**inp.options, **({"engine": engine} if engine else {})},
    )


async def read_input(request: Request) -> AnalyzeInput:
    settings = runtime(request).settings
    ctype = media_type(request.headers.get("content-type"))
    if ctype in JSON_TYPES:
        inp = parse_analyze_body(await read_fhir_json(request, settings.max_body_bytes))
    elif ctype in DOCUMENT_TYPES:
        inp = AnalyzeInput(document_from_bytes(await read_limited(request, settings.max_body_bytes), ctype))
    else:
        raise FhirError(
            415,
            "not-supported",
            "send application/fhir+json (DocumentReference, Bundle or Parameters) "
            "or the report itself as image/png, image/jpeg, image/tiff, image/webp, image/heic or "
            "application/pdf",
        )
    return _query_options(request, inp)


async def run_analysis(
    rt: Runtime, ctx: RequestContext, inp: AnalyzeInput, scope: AuditScope | None
) -> analyze_op.AnalyzeResult:
    """Authorise first (no OCR work for callers who may not store results), read, then persist."""
    for rtype in ("Observation", "DiagnosticReport", "RiskAssessment"):
        authorize(ctx, rtype, "c")
    payload = inp.payload
    if isinstance(payload, DocumentInput):
        ocr = await rt.ocr.read(
            payload.data,
            payload.content_type,
            engine=inp.options.get("engine") or rt.settings.ocr_engine,
            timeout=rt.settings.request_timeout_seconds,
        )
        reading = analyze_op.Reading(
            ocr.analytes, ocr.context, ocr.warnings, from_ocr=True, engine=ocr.engine
        )
        document: DocumentInput | None = payload
    else:
        assert isinstance(payload, ObservationsInput)
        reading = analyze_op.structured_reading(payload.observations)
        document = None

    def persist() -> analyze_op.AnalyzeResult:
        with rt.unit_of_work(audit=scope) as session:
            result = analyze_op.analyze(rt.store(session), ctx, inp, reading, document_bytes=document)
            if scope is not None:
                scope.resource_type, scope.resource_id = "DiagnosticReport", result.analysis_id
                scope.patient = f"Patient/{result.patient_id}"
            return result

    return await run_db_work(rt, persist)


@router.post("/$analyze", summary="Analyze a CBC report (document, raw bytes, Bundle or Parameters)")
async def analyze(request: Request) -> FhirJSONResponse:
    scope = open_scope(request, Interaction.OPERATION, "DiagnosticReport", operation="$analyze")
    ctx = request_context(request)
    inp = await read_input(request)
    result = await run_analysis(runtime(request), ctx, inp, scope)
    return FhirJSONResponse(result.bundle)


@router.post("/DocumentReference/{doc_id}/$analyze", summary="Re-analyze a stored DocumentReference")
async def analyze_stored(doc_id: str, request: Request) -> FhirJSONResponse:
    scope = open_scope(
        request, Interaction.OPERATION, "DocumentReference", resource_id=doc_id, operation="$analyze"
    )
    ctx = request_context(request)
    rt = runtime(request)

    def load() -> dict[str, Any]:
        with rt.unit_of_work() as session:
            return read_op.read(rt.store(session), ctx, "DocumentReference", doc_id).resource

    doc = await run_db_work(rt, load)
    inp = _query_options(request, AnalyzeInput(document_from_reference(doc, stored_id=doc_id)))
    result = await run_analysis(rt, ctx, inp, scope)
    return FhirJSONResponse(result.bundle)
