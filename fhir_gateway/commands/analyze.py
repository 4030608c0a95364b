"""`fhir-gateway analyze FILE…`: analyze report files locally (into the configured database) or by
posting them to a running server's `$analyze`; a progress bar for many files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import typer

from fhir_gateway.commands.read import content_type_for


def _summary_from_bundle(name: str, bundle: dict[str, Any]) -> dict[str, Any]:
    by_type: dict[str, list[dict[str, Any]]] = {}
    for e in bundle.get("entry", []):
        by_type.setdefault(e["resource"]["resourceType"], []).append(e["resource"])
    report = by_type.get("DiagnosticReport", [{}])[0]
    risk = by_type.get("RiskAssessment", [{}])[0]
    return {
        "file": name,
        "id": report.get("id"),
        "patient": (report.get("subject") or {}).get("reference"),
        "observations": sum(1 for o in by_type.get("Observation", []) if not o.get("meta", {}).get("tag")),
        "conclusion": report.get("conclusion"),
        "predictions": {
            next((c["code"] for c in p["outcome"]["coding"] if "screening-task" in c["system"]), "?"): p.get(
                "probabilityDecimal"
            )
            for p in risk.get("prediction", [])
        },
        "warnings": [
            i["diagnostics"]
            for o in by_type.get("OperationOutcome", [])
            for i in o["issue"]
            if i["severity"] == "warning"
        ],
    }


def _analyze_remote(server: str, token: str, path: Path, engine: str | None) -> dict[str, Any]:
    import httpx

    params = {"engine": engine} if engine else {}
    r = httpx.post(
        f"{server.rstrip('/')}/fhir/$analyze",
        content=path.read_bytes(),
        params=params,
        timeout=300,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type_for(path)},
    )
    body = r.json()
    if r.status_code != 200:
        issue = body.get("issue", [{}])[0]
        return {"file": path.name, "error": f"{r.status_code}: {issue.get('diagnostics', 'failed')}"}
    return _summary_from_bundle(path.name, body)


def _analyze_local(path: Path, engine: str | None) -> dict[str, Any]:
    from fhir_gateway.analysis.inputs import AnalyzeInput, document_from_bytes
    from fhir_gateway.config import get_settings
    from fhir_gateway.fhir.outcome import FhirError
    from fhir_gateway.ocr import DocumentError, read_report
    from fhir_gateway.operations import analyze as analyze_op
    from fhir_gateway.operations.context import RequestContext
    from fhir_gateway.runtime import Runtime
    from fhir_gateway.security.scopes import parse_scopes
    from fhir_gateway.security.tokens import Principal

    settings = get_settings()
    rt = Runtime.start(settings)
    try:
        doc = document_from_bytes(path.read_bytes(), content_type_for(path))
        reading = read_report(doc.data, doc.content_type, engine=engine or settings.ocr_engine)
        ctx = RequestContext(
            principal=Principal(
                sub=f"cli:{os.environ.get('USER', 'local')}",
                role="system",
                scopes=parse_scopes("system/*.cruds"),
                client_id="fhir-gateway-cli",
                patient=None,
                token_id=None,
            ),
            base_url=(settings.public_base_url or "http://127.0.0.1:8000").rstrip("/") + "/fhir",
            request_id=f"cli-{path.name}",
        )
        with rt.unit_of_work() as session:
            result = analyze_op.analyze(
                rt.store(session),
                ctx,
                AnalyzeInput(doc),
                analyze_op.Reading(reading.analytes, reading.context, reading.warnings, from_ocr=True),
                document_bytes=doc,
            )
        return _summary_from_bundle(path.name, result.bundle)
    except (FhirError, DocumentError) as exc:
        return {"file": path.name, "error": str(exc)}
    finally:
        rt.close()


def register(app: typer.Typer) -> None:
    @app.command()
    def analyze(
        files: list[Path] = typer.Argument(
            ..., exists=True, dir_okay=False, readable=True, help="Report files."
        ),
        server: str | None = typer.Option(
            None, help="Post to this server's $analyze instead of running locally."
        ),
        token: str | None = typer.Option(None, envvar="GATEWAY_TOKEN", help="Bearer token for --server."),
        engine: str | None = typer.Option(None, help="OCR engine: tesseract, rapidocr or combined."),
        as_json: bool = typer.Option(False, "--json", help="One JSON object per file on stdout."),
    ) -> None:
        """Analyze CBC report images/PDFs: store the results and print a summary per file."""
        from rich.console import Console
        from rich.progress import Progress
        from rich.table import Table

        if server and not token:
            raise typer.BadParameter("--server needs --token (or GATEWAY_TOKEN)", param_hint="--token")
        results: list[dict[str, Any]] = []
        with Progress(transient=True, disable=len(files) < 2, console=Console(stderr=True)) as progress:
            task = progress.add_task("analyzing", total=len(files))
            for path in files:
                results.append(
                    _analyze_remote(server, token, path, engine)
                    if server and token
                    else _analyze_local(path, engine)
                )
                progress.advance(task)
        if as_json:
            for r in results:
                typer.echo(json.dumps(r))
        else:
            table = Table("file", "report id", "values", "conclusion / error", show_lines=True)
            for r in results:
                table.add_row(
                    r["file"],
                    r.get("id") or "-",
                    str(r.get("observations", "-")),
                    r.get("error") or (r.get("conclusion") or "")[:300],
                )
            Console().print(table)
        if any("error" in r for r in results):
            raise typer.Exit(code=1)
