"""The optional triggers stop edits and deletions but let appends through."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Connection, delete, text, update
from sqlalchemy.exc import DBAPIError

from audit import append, verify_chain
from audit.guard import MESSAGE, install_append_only_guard, remove_append_only_guard
from tests.audit.conftest import AuditDB
from tests.audit.support import sample_record


@pytest.fixture
def guarded(db: AuditDB) -> Iterator[AuditDB]:
    with db.engine.begin() as conn:
        install_append_only_guard(conn, db.tables)
        for i in range(3):
            append(conn, sample_record(i), db.keys, db.tables)
    yield db
    with db.engine.begin() as conn:  # the PostgreSQL trigger function outlives dropped tables
        remove_append_only_guard(conn, db.tables)


ATTEMPTS: dict[str, Callable[[Connection, AuditDB], object]] = {
    "update event": lambda c, db: c.execute(update(db.tables.events).values(outcome=0)),
    "delete event": lambda c, db: c.execute(delete(db.tables.events).where(db.tables.events.c.seq == 2)),
    "delete head": lambda c, db: c.execute(delete(db.tables.head)),
    "rewind head": lambda c, db: c.execute(update(db.tables.head).values(last_position=1)),
    "truncate": lambda c, db: c.execute(
        text(f"TRUNCATE {db.tables.events.name}")
        if db.backend == "postgresql"
        else text(f"DELETE FROM {db.tables.events.name}")
    ),
}


@pytest.mark.parametrize("attempt", list(ATTEMPTS))
def test_guard_refuses_tampering(guarded: AuditDB, attempt: str) -> None:
    db = guarded
    with pytest.raises(DBAPIError, match=MESSAGE), db.engine.begin() as conn:
        ATTEMPTS[attempt](conn, db)
    with db.engine.begin() as conn:
        append(conn, sample_record(9), db.keys, db.tables)
    with db.engine.connect() as conn:
        verdict = verify_chain(conn, db.keys, db.tables)
    assert verdict.ok and verdict.count == 4
