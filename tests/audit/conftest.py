"""Fixtures: every database test runs on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set.

Table names carry a per-run, per-test prefix, so runs sharing one PostgreSQL database (ours, the
service's tests) never touch each other's tables.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData

from audit import AuditKeys, AuditTables, define_audit_tables
from tests.audit.support import fixed_keys, make_engine

PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite", *(["postgresql"] if PG_URL else [])]
RUN_ID = uuid.uuid4().hex[:8]
_serial = itertools.count()


@dataclass
class AuditDB:
    url: str
    engine: Engine
    prefix: str
    tables: AuditTables
    keys: AuditKeys
    sqlite_path: Path | None

    @property
    def backend(self) -> str:
        return self.engine.dialect.name


def _open(backend: str, tmp_path: Path) -> AuditDB:
    prefix = f"t{RUN_ID}_{next(_serial)}_audit_"
    sqlite_path = tmp_path / "audit.db" if backend == "sqlite" else None
    url = f"sqlite:///{sqlite_path}" if sqlite_path else str(PG_URL)
    engine = make_engine(url)
    metadata = MetaData()
    tables = define_audit_tables(metadata, prefix)
    metadata.create_all(engine)
    return AuditDB(url, engine, prefix, tables, fixed_keys(), sqlite_path)


def _close(db: AuditDB) -> None:
    db.tables.events.metadata.drop_all(db.engine)
    db.engine.dispose()


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditDB]:
    handle = _open(request.param, tmp_path)
    yield handle
    _close(handle)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[AuditDB]:
    handle = _open("sqlite", tmp_path)
    yield handle
    _close(handle)


@pytest.fixture
def pg_db(tmp_path: Path) -> Iterator[AuditDB]:
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL not set")
    handle = _open("postgresql", tmp_path)
    yield handle
    _close(handle)
