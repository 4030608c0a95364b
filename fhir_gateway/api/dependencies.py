"""Per-request wiring: the runtime, the authenticated principal and the request context."""

from __future__ import annotations

import uuid

from fastapi import Request

from fhir_gateway.auditing import current_scope
from fhir_gateway.fhir.outcome import FhirError
from fhir_gateway.operations.context import RequestContext
from fhir_gateway.runtime import Runtime
from fhir_gateway.security.tokens import Principal, TokenError


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def base_url(request: Request) -> str:
    configured = runtime(request).settings.public_base_url
    return (configured or str(request.base_url)).rstrip("/") + "/fhir"


def request_id(request: Request) -> str:
    rid = getattr(request.state, "request_id", None)
    return rid or str(uuid.uuid4())


def authenticate(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="cbc-fhir-gateway"'}
    if scheme.lower() != "bearer" or not token.strip():
        raise FhirError(401, "login", "a Bearer token is required", headers=challenge)
    try:
        return runtime(request).verifier.verify(token.strip())
    except TokenError as exc:
        raise FhirError(
            401,
            "login",
            str(exc),
            headers={"WWW-Authenticate": 'Bearer realm="cbc-fhir-gateway", error="invalid_token"'},
        ) from exc


def request_context(request: Request) -> RequestContext:
    principal = authenticate(request)
    scope = current_scope(request)
    if scope is not None:
        scope.principal = principal
    return RequestContext(
        principal=principal,
        base_url=base_url(request),
        request_id=request_id(request),
        source_address=request.client.host if request.client else None,
    )
