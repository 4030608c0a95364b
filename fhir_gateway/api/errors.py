"""Render every failure as an OperationOutcome; nothing a client sends may produce a bare 500."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from fhir_gateway.api.db_threads import run_db_work
from fhir_gateway.api.responses import FhirJSONResponse
from fhir_gateway.auditing import append_failure, current_scope
from fhir_gateway.fhir.outcome import FhirError, Issue, operation_outcome

log = logging.getLogger("fhir_gateway.errors")

_HTTP_CODES = {
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    413: "too-costly",
    415: "not-supported",
}


async def _audit(request: Request, status: int, reason: str) -> None:
    scope = current_scope(request)
    runtime = getattr(request.app.state, "runtime", None)
    if scope is None or runtime is None:
        return  # not an audited route (e.g. an unknown URL)
    await run_db_work(
        runtime, append_failure, runtime.engine.begin, scope, runtime.audit_keys, status, reason
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(FhirError)
    async def fhir_error(request: Request, exc: FhirError) -> FhirJSONResponse:
        await _audit(request, exc.status, exc.diagnostics[:300])
        return FhirJSONResponse(exc.outcome(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> FhirJSONResponse:
        await _audit(request, 400, "request did not match the API schema")
        issues = [
            Issue("invalid", f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}") for e in exc.errors()[:20]
        ]
        return FhirJSONResponse(operation_outcome(issues), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> FhirJSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "processing")
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        return FhirJSONResponse(
            operation_outcome([Issue(code, detail)]), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> FhirJSONResponse:
        # Log the type and route only: exception text can quote request data (PHI).
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        await _audit(request, 500, f"internal error ({type(exc).__name__})")
        return FhirJSONResponse(
            operation_outcome([Issue("exception", "internal error; the request was not applied")]),
            status_code=500,
        )
