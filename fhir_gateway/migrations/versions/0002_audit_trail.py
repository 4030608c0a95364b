"""Audit trail: encrypted, hash-chained events and per-lane chain heads (see audit.schema).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from audit.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_chain_head",
        sa.Column("lane", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("last_position", sa.BigInteger(), nullable=False),
        sa.Column("last_mac", sa.LargeBinary(length=32), nullable=False),
        sa.Column("head_mac", sa.LargeBinary(length=32), nullable=False),
        sa.CheckConstraint("lane >= 0 AND lane < 64", name="ck_audit_chain_head_lane"),
        sa.PrimaryKeyConstraint("lane", name="pk_audit_chain_head"),
    )
    op.create_table(
        "audit_event",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("lane", sa.SmallInteger(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(length=1), nullable=False),
        sa.Column("interaction", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.SmallInteger(), nullable=False),
        sa.Column("http_status", sa.SmallInteger(), nullable=True),
        sa.Column("resource_type", sa.String(length=64), nullable=True),
        sa.Column("agent_role", sa.String(length=32), nullable=True),
        sa.Column("agent_index", sa.String(length=64), nullable=True),
        sa.Column("patient_index", sa.String(length=64), nullable=True),
        sa.Column("entity_index", sa.String(length=64), nullable=True),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.LargeBinary(length=12), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("mac", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_event"),
    )
    op.create_index("ix_audit_event_agent", "audit_event", ["agent_index", "seq"])
    op.create_index("ix_audit_event_entity", "audit_event", ["entity_index", "seq"])
    op.create_index("ix_audit_event_patient", "audit_event", ["patient_index", "seq"])
    op.create_index("ix_audit_event_recorded_at", "audit_event", ["recorded_at"])
    op.create_index("ux_audit_event_lane_position", "audit_event", ["lane", "position"], unique=True)
    if op.get_bind().dialect.name == "postgresql":
        # Global event order across writer processes; SQLite serialises writes and needs none.
        op.execute(sa.schema.CreateSequence(sa.Sequence("audit_event_seq")))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.schema.DropSequence(sa.Sequence("audit_event_seq")))
    op.drop_table("audit_event")
    op.drop_table("audit_chain_head")
