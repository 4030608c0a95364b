"""`fhir-gateway` command line. Each command lives in its own module under `fhir_gateway.commands`
and exposes `register(app)`, so commands stay small and independent."""

from __future__ import annotations

import importlib
import pkgutil

import typer

from fhir_gateway import commands

app = typer.Typer(
    name="fhir-gateway",
    help="CBC FHIR Gateway: read CBC reports, map them to LOINC-coded FHIR and interpret them.",
    no_args_is_help=True,
    add_completion=False,
)

for _module in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
    importlib.import_module(f"{commands.__name__}.{_module.name}").register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
