"""Shared fixtures: database backends (SQLite always, PostgreSQL when TEST_DATABASE_URL is set),
app settings, tokens, and the three-way FHIR validator."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from fhir_gateway.config import Settings
from fhir_gateway.security.roles import DEFAULT_SCOPES
from fhir_gateway.security.tokens import mint_token
from tests.fhir_validation import FhirValidator

TEST_SECRET = "test-secret-" + "x" * 60
PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite", *(["postgresql"] if PG_URL else [])]


def _pg_driver_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_server_url() -> str | None:
    return _pg_driver_url(PG_URL) if PG_URL else None


def create_pg_database(server_url: str) -> tuple[str, str]:
    """A fresh, uniquely named database, so parallel runs and other suites never collide."""
    name = f"gw_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(server_url: str, name: str) -> None:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, pg_server_url: str | None) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{(tmp_path / 'gateway.db').as_posix()}"
        return
    assert pg_server_url
    name, url = create_pg_database(pg_server_url)
    try:
        yield url
    finally:
        drop_pg_database(pg_server_url, name)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        jwt_secret=TEST_SECRET,
        max_body_bytes=2 * 1024 * 1024,
    )


def make_token(settings: Settings, role: str, scope: str | None = None, **kw: object) -> str:
    return mint_token(
        settings,
        TEST_SECRET,
        sub=f"{role}-user",
        role=role,
        scope=DEFAULT_SCOPES[role] if scope is None else scope,
        **kw,
    )  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def fhir_validator() -> Iterator[FhirValidator]:
    validator = FhirValidator.start()
    try:
        yield validator
    finally:
        validator.close()
