"""`fhir-gateway serve`: run the HTTP service with uvicorn."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", help="Interface to bind."),
        port: int = typer.Option(8000, help="TCP port."),
        workers: int = typer.Option(1, min=1, help="Worker processes (each shares the database)."),
        ssl_certfile: Path | None = typer.Option(None, help="TLS certificate (PEM); enables HTTPS and HSTS."),
        ssl_keyfile: Path | None = typer.Option(None, help="TLS private key (PEM)."),
        log_level: str = typer.Option("info", help="uvicorn log level."),
    ) -> None:
        """Serve the FHIR API (SQLite by default; keys and database are created on first start)."""
        import uvicorn

        from fhir_gateway.config import get_settings
        from fhir_gateway.runtime import Runtime

        # Create keys, secret and schema once here so several workers don't race to do it.
        Runtime.start(get_settings()).close()
        uvicorn.run(
            "fhir_gateway.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
            ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
            log_level=log_level,
            proxy_headers=True,
            access_log=False,  # our own access log omits query strings, which may hold PHI
        )
