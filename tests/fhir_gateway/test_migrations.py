"""Alembic migrations build exactly the schema the ORM tables describe, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from fhir_gateway.db.engine import make_engine, migrate
from fhir_gateway.db.tables import Base


def test_migrations_match_models_and_are_idempotent(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        migrate(engine)  # a second start must be a no-op
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            tables = set(inspect(conn).get_table_names())
        assert diff == []
        assert {"resource_versions", "search_tokens", "alembic_version"} <= tables
    finally:
        engine.dispose()
