"""Alembic migrations build exactly the schema the ORM tables describe, on every backend."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from audit import append, verify_chain
from fhir_gateway.db.engine import alembic_config, make_engine, migrate
from fhir_gateway.db.tables import AUDIT_TABLES, Base
from tests.audit.support import fixed_keys, sample_record


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


def test_sqlite_audit_rows_survive_the_seq_rowid_rebuild(tmp_path: Path) -> None:
    """0003 rebuilds SQLite's audit table so that `seq` is the rowid; the chain written before
    must come through whole, and the separate primary-key index must be gone."""
    engine = make_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
    keys = fixed_keys()
    try:
        with engine.begin() as conn:
            cfg = alembic_config(str(engine.url))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0002")
        with engine.begin() as conn:
            for i in range(5):
                append(conn, sample_record(i), keys, AUDIT_TABLES)
        migrate(engine)
        with engine.connect() as conn:
            verdict = verify_chain(conn, keys, AUDIT_TABLES)
            indexes = conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_event'"
            ).scalars()
            autoindexes = [n for n in indexes if n.startswith("sqlite_autoindex")]
        assert verdict.ok and verdict.count == 5, verdict.problems
        assert autoindexes == []
        with engine.begin() as conn:  # and the chain goes on from where it was
            assert append(conn, sample_record(5), keys, AUDIT_TABLES).position == 6
    finally:
        engine.dispose()
