"""Resource store: versioned, encrypted resource bodies and search tokens.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resource_versions",
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("resource_id", sa.String(64), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("last_updated", sa.DateTime(timezone=False), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("patient_hash", sa.String(64), nullable=True),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_resource_versions"),
        sa.UniqueConstraint("resource_type", "resource_id", "version_id", name="uq_resource_version"),
    )
    op.create_index(
        "ix_current_patient", "resource_versions", ["resource_type", "is_current", "patient_hash"]
    )
    op.create_index("ix_current_date", "resource_versions", ["resource_type", "is_current", "effective_at"])
    op.create_index("ix_current_id", "resource_versions", ["resource_type", "resource_id", "is_current"])
    op.create_table(
        "search_tokens",
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("resource_pk", sa.Integer(), nullable=False),
        sa.Column("param", sa.String(64), nullable=False),
        sa.Column("system", sa.String(255), nullable=False),
        sa.Column("code", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_search_tokens"),
        sa.ForeignKeyConstraint(
            ["resource_pk"],
            ["resource_versions.pk"],
            ondelete="CASCADE",
            name="fk_search_tokens_resource_pk_resource_versions",
        ),
    )
    op.create_index("ix_search_tokens_resource_pk", "search_tokens", ["resource_pk"])
    op.create_index("ix_token_lookup", "search_tokens", ["param", "code", "system"])


def downgrade() -> None:
    op.drop_table("search_tokens")
    op.drop_table("resource_versions")
