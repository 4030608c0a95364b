"""Plain-JSON convenience API: /upload, /predict, /results/{id}, /history. Same pipeline, same
storage and the same role/scope checks as the FHIR API; errors are OperationOutcomes too."""

from __future__ import annotations

import mimetypes

from fastapi import APIRouter, Query, Request
from starlette.datastructures import UploadFile

from audit import Interaction
from fhir_gateway.analysis.inputs import AnalyzeInput, document_from_bytes, media_type
from fhir_gateway.api.analyze_routes import run_analysis
from fhir_gateway.api.db_threads import run_db_work
from fhir_gateway.api.dependencies import request_context, runtime
from fhir_gateway.auditing import AuditScope, append_success, open_scope
from fhir_gateway.fhir.builders.diagnostic_report import conclusion_text
from fhir_gateway.fhir.builders.risk_assessment import qualitative, rationale, recommendation
from fhir_gateway.fhir.outcome import FhirError
from fhir_gateway.fhir.search_params import ID_PATTERN, SearchQuery
from fhir_gateway.operations import read as read_op
from fhir_gateway.operations.context import RequestContext, authorize, patient_restriction
from fhir_gateway.plain.schemas import (
    AssessmentOut,
    HistoryItem,
    HistoryOut,
    IndexOut,
    PredictIn,
    PredictionOut,
    ResultOut,
)
from fhir_gateway.plain.summary import summarize
from fhir_gateway.runtime import Runtime
from fhir_gateway.store.resource_store import ResourceStore
from mappings.canonical import CANONICAL_UNITS, CanonicalCBC, PatientContext
from models import assess

router = APIRouter(tags=["plain JSON"])


def _audit_only(rt: Runtime, scope: AuditScope) -> None:
    with rt.engine.begin() as conn:
        append_success(conn, scope, rt.audit_keys)
    scope.recorded = True


UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "Report image or PDF"},
                        "patient": {"type": "string", "description": "Existing Patient id (optional)"},
                        "pregnant": {"type": "boolean"},
                        "trimester": {"type": "integer", "minimum": 1, "maximum": 3},
                    },
                }
            }
        },
    }
}


def _load_result(store: ResourceStore, ctx: RequestContext, analysis_id: str) -> ResultOut:
    report = read_op.read(store, ctx, "DiagnosticReport", analysis_id).resource
    risk = read_op.read(store, ctx, "RiskAssessment", analysis_id).resource
    observations = [
        read_op.read(store, ctx, "Observation", ref["reference"].split("/", 1)[1]).resource
        for ref in report.get("result", [])
    ]
    return summarize(report, risk, observations)


@router.post(
    "/upload",
    response_model=ResultOut,
    openapi_extra=UPLOAD_DOC,
    summary="Upload a report file; returns its analytes, assessment and warnings",
)
async def upload(request: Request) -> ResultOut:
    scope = open_scope(request, Interaction.OPERATION, "DiagnosticReport", operation="$analyze")
    ctx = request_context(request)
    rt: Runtime = runtime(request)
    limit = rt.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise FhirError(413, "too-costly", f"request body is larger than {limit} bytes")
    if not media_type(request.headers.get("content-type")).startswith("multipart/form-data"):
        raise FhirError(415, "not-supported", "send multipart/form-data with a 'file' field")
    form = await request.form(max_files=1, max_fields=10, max_part_size=limit)
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise FhirError(400, "required", "the form needs a 'file' field holding the report")
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise FhirError(413, "too-costly", f"the file is larger than {limit} bytes")
    ctype = media_type(file.content_type)
    if ctype in ("", "application/octet-stream") and file.filename:
        ctype = mimetypes.guess_type(file.filename)[0] or ctype
    pregnant, trimester, patient = form.get("pregnant"), form.get("trimester"), form.get("patient")
    if pregnant not in (None, "true", "false") or trimester not in (None, "1", "2", "3"):
        raise FhirError(400, "invalid", "'pregnant' must be true/false and 'trimester' 1, 2 or 3")
    if patient is not None and not (isinstance(patient, str) and ID_PATTERN.match(patient)):
        raise FhirError(400, "invalid", "'patient' must be a Patient id")
    inp = AnalyzeInput(
        document_from_bytes(data, ctype),
        subject=f"Patient/{patient}" if patient else None,
        pregnant=None if pregnant is None else pregnant == "true",
        trimester=int(trimester) if isinstance(trimester, str) else None,
    )
    result = await run_analysis(rt, ctx, inp, scope)

    def load() -> ResultOut:
        with rt.unit_of_work() as session:
            return _load_result(rt.store(session), ctx, result.analysis_id)

    return await run_db_work(runtime(request), load)


@router.post("/predict", response_model=AssessmentOut, summary="Interpret CBC values (nothing is stored)")
async def predict(request: Request, body: PredictIn) -> AssessmentOut:
    scope = open_scope(request, Interaction.OPERATION, "RiskAssessment", operation="predict")
    ctx = request_context(request)
    authorize(ctx, "RiskAssessment", "r")
    unknown = sorted(set(body.values) - set(CANONICAL_UNITS))
    if unknown:
        raise FhirError(400, "invalid", f"unknown CBC keys: {', '.join(unknown)}")
    sex = {"M": "male", "F": "female"}.get(body.sex or "", body.sex)
    a = assess(
        CanonicalCBC(body.values),
        PatientContext(sex=sex, age_years=body.age, pregnant=body.pregnant, trimester=body.trimester),
    )  # type: ignore[arg-type]
    # Nothing is stored, but the interaction is still audited, in a transaction of its own.
    await run_db_work(runtime(request), _audit_only, runtime(request), scope)
    return AssessmentOut(
        conclusion=conclusion_text(a),
        predictions=[
            PredictionOut(
                task=p.task_id,
                outcome=p.outcome_label,
                probability=p.probability,
                screen_positive=None if qualitative(p) is None else p.positive_at_screening,
                rationale=rationale(p),
            )
            for p in a.predictions
        ],
        indices=[
            IndexOut(
                key=i.key,
                name=i.name,
                value=i.value,
                note=f"Cutoff {i.cutoff:g}: {i.direction}. Source: {i.citation}",
                suggests=i.suggests,
            )
            for i in a.indices
            if i.value is not None
        ],
        recommendation=recommendation(a),
        model=f"{a.model_name} version {a.model_version}",
    )


@router.get("/results/{analysis_id}", response_model=ResultOut, summary="One stored analysis")
async def results(analysis_id: str, request: Request) -> ResultOut:
    scope = open_scope(request, Interaction.READ, "DiagnosticReport", resource_id=analysis_id)
    ctx = request_context(request)
    rt = runtime(request)

    def load() -> ResultOut:
        with rt.unit_of_work(audit=scope) as session:
            out = _load_result(rt.store(session), ctx, analysis_id)
            scope.patient = f"Patient/{out.patient_id}"
            return out

    return await run_db_work(runtime(request), load)


@router.get("/history", response_model=HistoryOut, summary="A patient's analyses, newest first")
async def history(
    request: Request,
    patient: str = Query(description="Patient id"),
    count: int = Query(20, ge=1, le=200),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> HistoryOut:
    scope = open_scope(
        request,
        Interaction.SEARCH_TYPE,
        "DiagnosticReport",
        patient=patient,
        query=f"patient={patient}&count={count}&offset={offset}",
    )
    ctx = request_context(request)
    authorize(ctx, "DiagnosticReport", "s")
    if not ID_PATTERN.match(patient):
        raise FhirError(400, "invalid", "'patient' must be a Patient id")
    allowed = patient_restriction(ctx)
    if allowed and allowed != f"Patient/{patient}":
        raise FhirError(403, "forbidden", "this patient is outside the token's patient compartment")
    rt = runtime(request)
    query = SearchQuery(
        "DiagnosticReport",
        patients=[(f"Patient/{patient}",)],
        count=count,
        offset=offset,
        sort="-_lastUpdated",
    )

    def load() -> HistoryOut:
        with rt.unit_of_work(audit=scope) as session:
            found, total = rt.store(session).search(query)
        items = [
            HistoryItem(
                id=s.resource_id,
                issued=s.resource.get("issued"),
                effective=s.resource.get("effectiveDateTime"),
                conclusion=s.resource.get("conclusion", ""),
            )
            for s in found
        ]
        return HistoryOut(patient_id=patient, total=total, count=count, offset=offset, items=items)

    return await run_db_work(runtime(request), load)
