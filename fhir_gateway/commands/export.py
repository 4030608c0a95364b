"""`fhir-gateway export --deidentify`: NDJSON of stored resources for research."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import typer

TYPES = ("Patient", "Observation", "DiagnosticReport", "RiskAssessment", "DocumentReference")


def register(app: typer.Typer) -> None:
    @app.command()
    def export(
        deidentify: bool = typer.Option(
            False, "--deidentify", help="Required: only de-identified export exists."
        ),
        output: Path | None = typer.Option(None, "--output", "-o", help="File to write (default: stdout)."),
        types: list[str] = typer.Option(list(TYPES), "--type", help="Resource types to export (repeatable)."),
    ) -> None:
        """Write current resources as NDJSON with identifiers removed, dates reduced to the year, ages
        over 89 grouped and ids replaced by stable keyed pseudonyms."""
        from fhir_gateway.config import get_settings
        from fhir_gateway.deidentify import deidentify as scrub
        from fhir_gateway.deidentify import pseudonymizer
        from fhir_gateway.fhir.search_params import SearchQuery
        from fhir_gateway.runtime import Runtime

        if not deidentify:
            raise typer.BadParameter(
                "identified bulk export is not offered; pass --deidentify", param_hint="--deidentify"
            )
        unknown = sorted(set(types) - set(TYPES))
        if unknown:
            raise typer.BadParameter(f"unknown types: {', '.join(unknown)}", param_hint="--type")
        rt = Runtime.start(get_settings())
        pseudo = pseudonymizer(rt.keyring.index_key)
        today = datetime.now(UTC).date()
        out = output.open("w") if output else sys.stdout
        count = 0
        try:
            for rtype in types:
                offset = 0
                while True:
                    with rt.unit_of_work() as session:
                        page, total = rt.store(session).search(SearchQuery(rtype, count=500, offset=offset))
                    for stored in page:
                        out.write(
                            json.dumps(scrub(stored.resource, pseudo, today), separators=(",", ":")) + "\n"
                        )
                        count += 1
                    offset += len(page)
                    if not page or offset >= total:
                        break
        finally:
            if output:
                out.close()
            rt.close()
        typer.echo(f"exported {count} de-identified resources", err=True)
