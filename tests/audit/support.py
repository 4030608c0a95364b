"""Shared helpers for the audit tests (also imported by the writer subprocess)."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from audit import AuditKeys, AuditRecord, Interaction


def make_engine(url: str) -> Engine:
    """Engine set up the way the service sets up its own (WAL + BEGIN IMMEDIATE on SQLite)."""
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_size=8, max_overflow=8)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy emit BEGIN itself
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA busy_timeout=30000")

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def derived(label: str) -> bytes:
    return hashlib.sha256(b"audit-test-key:" + label.encode()).digest()


def fixed_keys() -> AuditKeys:
    """Deterministic keys, so a separate writer process can rebuild the same ones."""
    return AuditKeys(
        encryption_keys={1: derived("enc1")},
        current_version=1,
        mac_key=derived("mac"),
        index_key=derived("index"),
    )


def sample_record(i: int = 0, **overrides: Any) -> AuditRecord:
    details: dict[str, Any] = {
        "agent_sub": f"clinician-{i % 3}",
        "agent_role": "clinician",
        "client_id": "ehr-app",
        "source_address": "10.1.2.3",
        "request_id": f"req-{i}",
        "resource_type": "Observation",
        "resource_id": f"obs-{i}",
        "patient": f"Patient/pat-{i % 4}",
    }
    details.update(overrides)
    interaction = details.pop("interaction", Interaction.READ)
    status = details.pop("http_status", 200)
    return AuditRecord.from_http(interaction, status, **details)
