"""`fhir-gateway audit verify|export`: check the tamper-evident chain; export for a SIEM."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import typer


def _runtime():  # type: ignore[no-untyped-def]
    from fhir_gateway.config import get_settings
    from fhir_gateway.runtime import Runtime

    return Runtime.start(get_settings())


def register(app: typer.Typer) -> None:
    audit = typer.Typer(help="Audit trail: verification and export.", no_args_is_help=True)

    @audit.command()
    def verify() -> None:
        """Check every record's MAC, chain link, order and each lane's head; exit 1 and name the first
        bad record if anything was deleted, inserted, edited, reordered or truncated."""
        from audit import verify_chain
        from fhir_gateway.db.tables import AUDIT_TABLES
        from fhir_gateway.runtime import AUDIT_LANES

        rt = _runtime()
        try:
            lanes = 1 if rt.engine.dialect.name == "sqlite" else AUDIT_LANES
            with rt.engine.connect() as conn:
                result = verify_chain(conn, rt.audit_keys, AUDIT_TABLES, lanes=lanes)
        finally:
            rt.close()
        if result.ok:
            typer.echo(f"audit chain OK: {result.count} records in {result.lanes} lane(s)")
            return
        bad = result.first_bad
        assert bad is not None
        where = f"record seq {bad.seq}" if bad.seq is not None else "a record that is missing"
        typer.echo(f"audit chain BROKEN at {where}: {bad}", err=True)
        typer.echo(f"{len(result.problems)} problem(s) found in {result.count} records", err=True)
        raise typer.Exit(code=1)

    @audit.command("export")
    def export_(
        since: datetime | None = typer.Option(
            None, help="Only records at or after this time (ISO 8601, UTC)."
        ),
        fmt: str = typer.Option("ndjson", "--format", help="ndjson (FHIR AuditEvents, one per line)."),
        output: Path | None = typer.Option(None, "--output", "-o", help="File to write (default: stdout)."),
        raw: bool = typer.Option(
            False, help="Plain audit records (with seq and MAC) instead of AuditEvents."
        ),
    ) -> None:
        """Decrypt and export audit records for a SIEM. Output holds PHI (patient references): protect it."""
        from audit import export_ndjson
        from fhir_gateway.db.tables import AUDIT_TABLES

        if fmt != "ndjson":
            raise typer.BadParameter("only ndjson is supported", param_hint="--format")
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        rt = _runtime()
        out = output.open("w") if output else sys.stdout
        try:
            with rt.engine.connect() as conn:
                n = export_ndjson(
                    conn, rt.audit_keys, AUDIT_TABLES, out, since=since, fmt="raw" if raw else "fhir"
                )
        finally:
            if output:
                out.close()
            rt.close()
        typer.echo(f"exported {n} audit records", err=True)

    app.add_typer(audit, name="audit")
