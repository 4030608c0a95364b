"""Pooled PostgreSQL connections are tested before use only after sitting idle: a connection the
server dropped meanwhile is replaced, and one used moments ago costs no extra round trip."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from fhir_gateway.db import engine as engine_module
from fhir_gateway.db.engine import make_engine
from tests.conftest import PG_URL, _pg_driver_url

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _count_pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings: list[int] = []
    real = engine.dialect.do_ping

    def counting(dbapi_conn):  # type: ignore[no-untyped-def]
        pings.append(1)
        return real(dbapi_conn)

    monkeypatch.setattr(engine.dialect, "do_ping", counting)
    return pings


def test_a_connection_used_moments_ago_is_not_pinged(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(_pg_driver_url(str(PG_URL)))
    try:
        pings = _count_pings(engine, monkeypatch)
        first = _backend_pid(engine)
        assert [_backend_pid(engine) for _ in range(5)] == [first] * 5
        assert pings == []
    finally:
        engine.dispose()


def test_an_idle_connection_the_server_dropped_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(_pg_driver_url(str(PG_URL)))
    admin = make_engine(_pg_driver_url(str(PG_URL)))
    try:
        pings = _count_pings(engine, monkeypatch)
        dropped = _backend_pid(engine)
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
        monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", 0.0)  # it has now been idle "long"
        replacement = _backend_pid(engine)  # would raise if the dead connection were handed out
        assert replacement != dropped
        assert pings == [1]
    finally:
        engine.dispose()
        admin.dispose()
