"""`fhir-gateway read FILE... [--json] [--engine ...]`: read CBC reports from the command line."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Any

import typer

_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".pdf": "application/pdf",
}

_FIELDS = (
    "key",
    "loinc",
    "value",
    "unit",
    "value_canonical",
    "unit_canonical",
    "ref_low",
    "ref_high",
    "flag",
    "confidence",
    "status",
    "source_text",
)


def content_type_for(path: Path) -> str:
    """Media type of a report file, by suffix (mimetypes lacks HEIC on some systems)."""
    return _TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def reading_to_dict(path: str, reading: Any, *, include_phi: bool = False) -> dict[str, Any]:
    ctx = reading.context
    context: dict[str, Any] = {
        "sex": ctx.sex,
        "age_years": ctx.age_years,
        "pregnant": ctx.pregnant,
        "trimester": ctx.trimester,
        "collected": ctx.collected.isoformat() if ctx.collected else None,
        "reported": ctx.reported.isoformat() if ctx.reported else None,
    }
    if include_phi:  # only when the user asks: names and identifiers are PHI
        context.update(
            patient_name=ctx.patient_name, patient_identifier=ctx.patient_identifier, lab_name=ctx.lab_name
        )
    return {
        "file": path,
        "engine": reading.engine,
        "pages": len(reading.pages),
        "analytes": [{f: getattr(a, f) for f in _FIELDS} for a in reading.analytes],
        "context": context,
        "warnings": [{"code": w.code, "message": w.message, "key": w.key} for w in reading.warnings],
        "timings": reading.timings,
    }


def _range_text(low: float | None, high: float | None) -> str:
    if low is None and high is None:
        return ""
    return f"{'' if low is None else f'{low:g}'}–{'' if high is None else f'{high:g}'}"


def register(app: typer.Typer) -> None:
    @app.command("read")
    def read(
        files: list[Path] = typer.Argument(
            ...,
            exists=True,
            dir_okay=False,
            readable=True,
            help="Report images (PNG, JPEG, TIFF, WebP, HEIC) or PDFs.",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
        engine: str | None = typer.Option(
            None, "--engine", help="tesseract | rapidocr | combined (default)."
        ),
        show_patient: bool = typer.Option(
            False, "--show-patient", help="Include patient name/identifier (PHI) in JSON output."
        ),
    ) -> None:
        """Read CBC lab reports into LOINC-coded, unit-checked values."""
        from rich.console import Console
        from rich.table import Table

        from fhir_gateway.ocr import DocumentError, read_report
        from fhir_gateway.ocr.engines import ENGINES

        if engine is not None and engine not in ENGINES:
            raise typer.BadParameter(f"choose one of {', '.join(ENGINES)}", param_hint="--engine")
        console = Console()
        if not console.is_terminal:
            console = Console(width=170)  # piped output: do not fold the table to 80 columns
        results: list[dict[str, Any]] = []
        failed = False
        for path in files:
            try:
                reading = read_report(path.read_bytes(), content_type_for(path), engine=engine)
            except DocumentError as exc:
                failed = True
                results.append({"file": str(path), "error": str(exc), "http_status": exc.http_status})
                if not as_json:
                    console.print(f"[red]{path}: {exc}[/red]")
                continue
            data = reading_to_dict(str(path), reading, include_phi=show_patient)
            results.append(data)
            if as_json:
                continue
            table = Table(title=f"{path.name} — {data['pages']} page(s), engine {reading.engine}")
            for col in (
                "key",
                "loinc",
                "value",
                "unit",
                "canonical",
                "ref",
                "flag",
                "conf",
                "status",
                "source",
            ):
                table.add_column(
                    col, overflow="fold", no_wrap=col != "source", max_width=44 if col == "source" else None
                )
            for a in reading.analytes:
                ref = _range_text(a.ref_low, a.ref_high)
                table.add_row(
                    a.key,
                    a.loinc,
                    f"{a.value:g}",
                    a.unit,
                    f"{a.value_canonical:.4g} {a.unit_canonical}",
                    ref,
                    a.flag or "",
                    f"{a.confidence:.2f}",
                    a.status,
                    a.source_text[:60],
                )
            console.print(table)
            ctx = data["context"]
            console.print(f"sex={ctx['sex']} age={ctx['age_years']} collected={ctx['collected']}")
            for w in reading.warnings:
                console.print(f"[yellow]warning[/yellow] {w.code}: {w.message}")
        if as_json:
            typer.echo(json.dumps(results if len(results) > 1 else results[0], indent=2, default=str))
        if failed:
            raise typer.Exit(code=1)
