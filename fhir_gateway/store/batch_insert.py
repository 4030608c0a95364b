"""New resource versions are queued during a unit of work and inserted in one batch.

Core rather than ORM objects: an `$analyze` writes ~22 versions and ~130 search tokens, and the
ORM's per-object bookkeeping cost more than the encryption and the database together. On
PostgreSQL the whole batch is one statement, so a write costs one round trip however many rows
it has, or none when it rides along with the audit append.
"""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import CTE, Connection, column, event, insert, literal_column, select, text
from sqlalchemy.orm import Session

from fhir_gateway.db.tables import ResourceVersion, SearchToken

VERSIONS = ResourceVersion.__table__
TOKENS = SearchToken.__table__
_PENDING = "resource_store.pending"  # Session.info key: rows not yet inserted, in write order

_INSERT_VERSIONS = insert(VERSIONS).returning(VERSIONS.c.pk, sort_by_parameter_order=True)
_INSERT_TOKENS = insert(TOKENS)

# PostgreSQL: the rows travel as two JSON documents turned back into rows by the server, and the
# versions' generated keys are joined to their tokens inside the statement. JSON rather than
# one array per column: psycopg adapts array elements one by one in Python, which cost more than
# everything else in an `$analyze`; orjson writes the whole batch in microseconds. Two
# data-modifying CTEs, so the batch can also ride along in another statement (the audit append)
# and cost no round trip of its own.
_PG_VERSIONS = """
    INSERT INTO resource_versions (resource_type, resource_id, version_id, is_current,
        last_updated, effective_at, patient_hash, key_version, nonce, body)
    SELECT r.resource_type, r.resource_id, r.version_id, r.is_current, r.last_updated,
           r.effective_at, r.patient_hash, r.key_version, decode(r.nonce, 'base64'),
           decode(r.body, 'base64')
    FROM json_to_recordset(CAST(:store_versions AS json)) AS r(
        resource_type varchar, resource_id varchar, version_id integer, is_current boolean,
        last_updated timestamp, effective_at timestamp, patient_hash varchar, key_version integer,
        nonce text, body text)
    RETURNING pk, resource_type, resource_id, version_id
"""
_PG_TOKENS = """
    INSERT INTO search_tokens (resource_pk, param, system, code)
    SELECT v.pk, t.param, t.system, t.code
    FROM json_to_recordset(CAST(:store_tokens AS json)) AS t(
        resource_type varchar, resource_id varchar, version_id integer,
        param varchar, system varchar, code varchar)
    JOIN new_versions AS v USING (resource_type, resource_id, version_id)
    RETURNING 1
"""
# Built once: the values travel as parameters, so the statements' cache keys are computed once.
PG_BATCH_CTES: tuple[CTE, ...] = (
    text(_PG_VERSIONS)
    .columns(column("pk"), column("resource_type"), column("resource_id"), column("version_id"))
    .cte("new_versions"),
    text(_PG_TOKENS).columns(column("one")).cte("new_tokens"),
)
_PG_STANDALONE = select(literal_column("1")).add_cte(*PG_BATCH_CTES)

_VERSION_COLUMNS = (
    "resource_type",
    "resource_id",
    "version_id",
    "is_current",
    "last_updated",
    "effective_at",
    "patient_hash",
    "key_version",
    "nonce",
    "body",
)


@dataclass(frozen=True, slots=True)
class PendingRow:
    version: dict[str, Any]  # resource_versions columns
    tokens: list[tuple[str, str, str]]  # (param, system, code)


def queue(session: Session, version: dict[str, Any], tokens: Iterable[tuple[str, str, str]]) -> None:
    session.info.setdefault(_PENDING, []).append(PendingRow(version, list(tokens)))


def flush_pending(session: Session) -> None:
    """Insert the queued rows now (reads call this first, so a unit of work sees its own writes)."""
    if not session.info.get(_PENDING):
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        params = take_pending_params(session)
        if params:
            conn.execute(_PG_STANDALONE, params)
    else:
        _insert_batched(conn, session.info.pop(_PENDING))


def take_pending_params(session: Session) -> dict[str, str] | None:
    """PostgreSQL only: the queued rows as parameters of `PG_BATCH_CTES`, to attach to another
    statement (which must then be executed in this transaction). None if nothing is queued."""
    pending: list[PendingRow] | None = session.info.pop(_PENDING, None)
    if not pending:
        return None
    versions = [
        {
            **{c: p.version[c] for c in _VERSION_COLUMNS},
            "nonce": b64encode(p.version["nonce"]).decode(),
            "body": b64encode(p.version["body"]).decode(),
        }
        for p in pending
    ]
    tokens = [
        {
            "resource_type": p.version["resource_type"],
            "resource_id": p.version["resource_id"],
            "version_id": p.version["version_id"],
            "param": param,
            "system": system,
            "code": code,
        }
        for p in pending
        for param, system, code in p.tokens
    ]
    # orjson writes naive datetimes as ISO 8601 without an offset: PostgreSQL reads that as the
    # timestamp (without time zone) these columns hold.
    return {"store_versions": orjson.dumps(versions).decode(), "store_tokens": orjson.dumps(tokens).decode()}


def _insert_batched(conn: Connection, pending: list[PendingRow]) -> None:
    """Other backends: two batched statements (SQLAlchemy's multi-row VALUES)."""
    pks = conn.execute(_INSERT_VERSIONS, [p.version for p in pending]).scalars().all()
    tokens = [
        {"resource_pk": pk, "param": param, "system": system, "code": code}
        for pk, p in zip(pks, pending, strict=True)
        for param, system, code in p.tokens
    ]
    if tokens:
        conn.execute(_INSERT_TOKENS, tokens)


# Whatever path commits, queued rows go in first: they are never silently dropped.
event.listen(Session, "before_commit", flush_pending)
