"""SQLite: the audit event's `seq` becomes the table's rowid (declared INTEGER, not BIGINT).

A BIGINT primary key on SQLite is a separate unique index beside the rowid, so every audit record
wrote one B-tree more than needed. The table is rebuilt with its rows and indexes; PostgreSQL is
untouched (BIGINT there is already the primary key index).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _retype(new: sa.types.TypeEngine[int], old: sa.types.TypeEngine[int]) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("audit_event", recreate="always") as batch:
        batch.alter_column("seq", type_=new, existing_type=old, existing_nullable=False)


def upgrade() -> None:
    _retype(sa.Integer(), sa.BigInteger())


def downgrade() -> None:
    _retype(sa.BigInteger(), sa.Integer())
