"""`fhir-gateway db upgrade`: apply Alembic migrations to the configured database."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    db = typer.Typer(help="Database schema management.", no_args_is_help=True)

    @db.command()
    def upgrade() -> None:
        """Migrate the configured database to the latest schema (also done on every start)."""
        from fhir_gateway.config import get_settings
        from fhir_gateway.db.engine import make_engine, migrate

        engine = make_engine(get_settings().resolved_database_url)
        migrate(engine)
        engine.dispose()
        typer.echo("database is at the latest schema")

    app.add_typer(db, name="db")
