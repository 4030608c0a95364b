"""Audit tables, attachable to the caller's MetaData so its migrations create them.

`<prefix>event` holds one row per record: a global sequence number (order and id), its place in
a chain (lane, position), a few plaintext search columns that are not PHI (codes, a role, an
HTTP status, the time), keyed hashes for the identifying lookups (patient, agent, entity), and
the AES-GCM envelope of the full JSON record. `mac` chains the row to its predecessor in its lane.

`<prefix>chain_head` holds one row per lane: the lane's last position and MAC. A writer locks a
head row until its transaction ends, which serialises appends to that lane across processes;
verification compares each head with its lane's last row, so a deleted tail is detected rather
than looking like a shorter, valid chain.

Lanes: with one lane (the default) there is a single chain and every audited transaction
serialises on it from append to commit. PostgreSQL deployments with several concurrent writers
can open more lanes (`audit.writer.ensure_chain_heads(..., lanes=N)`): each is an independent
chain with the same guarantees, and a writer takes whichever lane is free, so commits are no
longer serialised. SQLite serialises all writes anyway and always appends to the lowest lane.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Sequence,
    SmallInteger,
    String,
    Table,
)
from sqlalchemy.types import TypeDecorator

DEFAULT_PREFIX = "audit_"
MAX_LANES = 64


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend.

    PostgreSQL keeps the zone (timestamptz); SQLite stores text without one. Storing naive UTC
    on SQLite and re-attaching UTC on the way out makes both return the same value, which the
    MAC (computed over the instant) depends on.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("audit timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


@dataclass(frozen=True)
class AuditTables:
    events: Table
    head: Table
    seq_generator: Sequence  # PostgreSQL's source of global sequence numbers; unused on SQLite


def define_audit_tables(metadata: MetaData, prefix: str = DEFAULT_PREFIX) -> AuditTables:
    """Add the audit tables to `metadata`. Call once per MetaData; `prefix` keeps names unique."""
    events = Table(
        f"{prefix}event",
        metadata,
        # Global order and the AuditEvent id. Computed by the writer before insert, because the MAC
        # covers it. Gap-free on SQLite; on PostgreSQL a rolled-back append leaves a gap here,
        # which is harmless: completeness is proven by (lane, position), which never has gaps.
        # On SQLite the column is declared INTEGER so that it *is* the rowid: one B-tree fewer to
        # write per record than a BIGINT key with its own index.
        Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
        Column("lane", SmallInteger, nullable=False),
        Column("position", BigInteger, nullable=False),
        Column("recorded_at", UTCDateTime(), nullable=False),
        Column("action", String(1), nullable=False),
        Column("interaction", String(32), nullable=False),
        Column("outcome", SmallInteger, nullable=False),
        Column("http_status", SmallInteger),
        Column("resource_type", String(64)),
        Column("agent_role", String(32)),
        # Keyed hashes (hex HMAC-SHA256) of identifying values; see audit.keys.IndexKind.
        Column("agent_index", String(64)),
        Column("patient_index", String(64)),
        Column("entity_index", String(64)),
        Column("key_version", Integer, nullable=False),
        Column("nonce", LargeBinary(12), nullable=False),
        Column("ciphertext", LargeBinary, nullable=False),
        Column("mac", LargeBinary(32), nullable=False),
        Index(f"ux_{prefix}event_lane_position", "lane", "position", unique=True),
        Index(f"ix_{prefix}event_recorded_at", "recorded_at"),
        Index(f"ix_{prefix}event_patient", "patient_index", "seq"),
        Index(f"ix_{prefix}event_agent", "agent_index", "seq"),
        Index(f"ix_{prefix}event_entity", "entity_index", "seq"),
    )
    head = Table(
        f"{prefix}chain_head",
        metadata,
        Column("lane", SmallInteger, primary_key=True, autoincrement=False),
        Column("last_position", BigInteger, nullable=False),
        Column("last_mac", LargeBinary(32), nullable=False),
        # MAC over (lane, last_position, last_mac): rewriting a head to hide a truncated tail
        # needs the key.
        Column("head_mac", LargeBinary(32), nullable=False),
        CheckConstraint(f"lane >= 0 AND lane < {MAX_LANES}", name=f"ck_{prefix}chain_head_lane"),
    )
    seq_generator = Sequence(f"{prefix}event_seq", metadata=metadata)
    return AuditTables(events=events, head=head, seq_generator=seq_generator)
