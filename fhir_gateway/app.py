"""FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from fhir_gateway import __version__
from fhir_gateway.api.analyze_routes import router as analyze_router
from fhir_gateway.api.audit_routes import router as audit_router
from fhir_gateway.api.db_threads import run_db_work
from fhir_gateway.api.errors import install_error_handlers
from fhir_gateway.api.fhir_routes import router as fhir_router
from fhir_gateway.api.middleware import install_middleware
from fhir_gateway.api.plain_routes import router as plain_router
from fhir_gateway.config import Settings, get_settings
from fhir_gateway.runtime import Runtime
from fhir_gateway.warm_up import cool_down, warm_up


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = Runtime.start(settings)
        warm_up()
        try:
            yield
        finally:
            cool_down()
            app.state.runtime.close()

    app = FastAPI(
        title="CBC FHIR Gateway",
        version=__version__,
        description="FHIR R4 gateway for Complete Blood Count reports: LOINC Observations, DiagnosticReport, "
        "RiskAssessment. Decision support for screening, not a diagnosis.",
        lifespan=lifespan,
    )
    install_middleware(app)
    install_error_handlers(app)

    @app.get("/health", tags=["ops"], summary="Liveness and database check (no token needed)")
    async def health(request: Request) -> JSONResponse:
        rt: Runtime = request.app.state.runtime

        def ping() -> None:
            with rt.engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        await run_db_work(rt, ping)
        return JSONResponse({"status": "ok", "version": __version__})

    app.include_router(analyze_router)  # before the generic routes: '$analyze' is not a type
    app.include_router(audit_router)
    app.include_router(fhir_router)
    app.include_router(plain_router)
    return app
