"""Resource store tables. Bodies are ciphertext; only non-identifying search keys are plaintext.

Plaintext columns are resource type/id/version, lastUpdated, the clinically relevant date (for
`date` search and sorting) and code tokens (LOINC/SNOMED codes). Patient references and
identifiers are stored only as keyed hashes (blind indexes).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from audit import define_audit_tables

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ResourceVersion(Base):
    __tablename__ = "resource_versions"
    __table_args__ = (
        UniqueConstraint("resource_type", "resource_id", "version_id", name="uq_resource_version"),
        Index("ix_current_patient", "resource_type", "is_current", "patient_hash"),
        Index("ix_current_date", "resource_type", "is_current", "effective_at"),
        Index("ix_current_id", "resource_type", "resource_id", "is_current"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource_type: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str] = mapped_column(String(64))
    version_id: Mapped[int] = mapped_column(Integer)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    last_updated: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    effective_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=False), nullable=True)
    patient_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    key_version: Mapped[int] = mapped_column(Integer)
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    body: Mapped[bytes] = mapped_column(LargeBinary)


class SearchToken(Base):
    """One (param, system, code) per searchable coding; `code` is a blind index for PHI params."""

    __tablename__ = "search_tokens"
    __table_args__ = (Index("ix_token_lookup", "param", "code", "system"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource_pk: Mapped[int] = mapped_column(
        ForeignKey("resource_versions.pk", ondelete="CASCADE"), index=True
    )
    param: Mapped[str] = mapped_column(String(64))
    system: Mapped[str] = mapped_column(String(255), default="")
    code: Mapped[str] = mapped_column(String(255))


# The audit trail's tables live in the same database (and metadata, hence migrations), so an
# audit record commits in the same transaction as the change it describes.
AUDIT_TABLES = define_audit_tables(Base.metadata)
