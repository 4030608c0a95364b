"""The fast append: a process remembers the heads it left, and the append applies only if the
head is still as remembered (one statement on PostgreSQL, two on SQLite). These tests take the
memory out of date in every way it can be (another writer, a rollback) and check the chain stays
whole, and that companion statements (the caller's data) run exactly once on every path."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import CTE, Engine, String, cast, column, event, func, select, text
from sqlalchemy.exc import IntegrityError

from audit import Companion, append, ensure_chain_heads, verify_chain
from tests.audit.conftest import AuditDB
from tests.audit.support import make_engine, sample_record


@pytest.fixture
def data_table(pg_db: AuditDB) -> Iterator[str]:
    name = f"{pg_db.prefix}data"
    with pg_db.engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY)"))
    yield name
    with pg_db.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {name}"))


_STATEMENTS: dict[str, CTE] = {}


def _insert(table: str, row_id: int) -> Companion:
    """The same CTE object every time, with the value as a parameter (as the service does)."""
    statement = text(f"INSERT INTO {table} (id) VALUES (:row_id) RETURNING id").columns(column("id"))
    cte = _STATEMENTS.setdefault(table, statement.cte("data"))
    return Companion((cte,), {"row_id": row_id})


def _ids(engine: Engine, table: str) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(text(f"SELECT id FROM {table} ORDER BY id")).scalars())


def _statements_per_append(engine: Engine, db: AuditDB, i: int) -> int:
    """Statements the database runs for one append in its own transaction (COMMIT not counted)."""
    seen: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    with engine.connect() as conn:
        sqlite = db.backend == "sqlite"
        if sqlite:  # SQLite's fast path runs on the driver's cursor, past SQLAlchemy's events
            conn.connection.dbapi_connection.set_trace_callback(seen.append)
        else:
            event.listen(engine, "before_cursor_execute", count)
        try:
            with conn.begin():
                append(conn, sample_record(i), db.keys, db.tables)
        finally:
            if sqlite:
                conn.connection.dbapi_connection.set_trace_callback(None)
            else:
                event.remove(engine, "before_cursor_execute", count)
    return len([s for s in seen if s.strip().upper() != "COMMIT"])


def _verify(db: AuditDB, count: int) -> None:
    with db.engine.connect() as conn:
        verdict = verify_chain(conn, db.keys, db.tables)
    assert verdict.ok, verdict.problems
    assert verdict.count == count


def test_next_append_on_a_known_lane_takes_fewer_statements(db: AuditDB) -> None:
    first = _statements_per_append(db.engine, db, 1)  # claim the lane, then write
    fast = 1 if db.backend == "postgresql" else 3  # SQLite: BEGIN IMMEDIATE, move head, insert
    assert first > fast
    assert _statements_per_append(db.engine, db, 2) == fast
    assert _statements_per_append(db.engine, db, 3) == fast
    _verify(db, 3)


def test_another_writer_moving_the_head_is_detected_and_the_chain_stays_whole(db: AuditDB) -> None:
    other = make_engine(db.url)  # a second engine has its own memory, like a second process
    try:
        for i in range(10):
            engine = db.engine if i % 3 else other
            with engine.begin() as conn:
                append(conn, sample_record(i), db.keys, db.tables)
    finally:
        other.dispose()
    _verify(db, 10)
    with db.engine.connect() as conn:
        rows = conn.execute(select(db.tables.events.c.seq, db.tables.events.c.position)).all()
    assert sorted(p for _, p in rows) == list(range(1, 11))  # one lane here: every record, no gap
    if db.backend == "sqlite":
        assert sorted(s for s, _ in rows) == list(range(1, 11))  # and gap-free numbers


def test_rolled_back_append_does_not_mislead_the_next(db: AuditDB) -> None:
    with db.engine.begin() as conn:
        append(conn, sample_record(1), db.keys, db.tables)
    with db.engine.connect() as conn:
        tx = conn.begin()
        append(conn, sample_record(2), db.keys, db.tables)  # remembered, then undone
        tx.rollback()
    with db.engine.begin() as conn:
        appended = append(conn, sample_record(3), db.keys, db.tables)
    assert appended.position == 2
    if db.backend == "sqlite":
        assert appended.seq == 2
    _verify(db, 2)


def test_companions_run_once_on_the_fast_path_the_fallback_and_the_slow_path(
    pg_db: AuditDB, data_table: str
) -> None:
    other = make_engine(pg_db.url)
    try:
        with pg_db.engine.begin() as conn:  # slow path: nothing remembered yet
            append(conn, sample_record(1), pg_db.keys, pg_db.tables, _insert(data_table, 1))
        with pg_db.engine.begin() as conn:  # fast path
            append(conn, sample_record(2), pg_db.keys, pg_db.tables, _insert(data_table, 2))
        with other.begin() as conn:  # another writer moves the head...
            append(conn, sample_record(3), pg_db.keys, pg_db.tables)
        with pg_db.engine.begin() as conn:  # ...so this fast attempt misses and falls back
            append(conn, sample_record(4), pg_db.keys, pg_db.tables, _insert(data_table, 4))
    finally:
        other.dispose()
    assert _ids(pg_db.engine, data_table) == [1, 2, 4]  # a second run would have hit the primary key
    _verify(pg_db, 4)


def test_companions_roll_back_with_the_record(pg_db: AuditDB, data_table: str) -> None:
    with pg_db.engine.begin() as conn:
        append(conn, sample_record(1), pg_db.keys, pg_db.tables)
    with pytest.raises(RuntimeError), pg_db.engine.begin() as conn:
        append(conn, sample_record(2), pg_db.keys, pg_db.tables, _insert(data_table, 2))
        raise RuntimeError("the request failed after the append")
    assert _ids(pg_db.engine, data_table) == []
    _verify(pg_db, 1)


def test_companions_are_refused_where_the_database_cannot_take_them(sqlite_db: AuditDB) -> None:
    with pytest.raises(ValueError, match="PostgreSQL"), sqlite_db.engine.begin() as conn:
        append(conn, sample_record(1), sqlite_db.keys, sqlite_db.tables, _insert("t", 1))


def test_an_uncommitted_head_is_not_offered_to_another_transaction(pg_db: AuditDB) -> None:
    """Until the first transaction commits, the head it wrote is not the one others see: a second
    transaction of the same process that tried it would waste a statement and then claim anyway."""
    with pg_db.engine.begin() as conn:
        ensure_chain_heads(conn, pg_db.keys, pg_db.tables, lanes=2)
        append(conn, sample_record(0), pg_db.keys, pg_db.tables)  # the process now knows a lane
    seen: list[str] = []
    with pg_db.engine.connect() as first, pg_db.engine.connect() as second, first.begin():
        held = append(first, sample_record(1), pg_db.keys, pg_db.tables)
        with second.begin():
            event.listen(second, "before_cursor_execute", lambda *args: seen.append(args[2]))
            other = append(second, sample_record(2), pg_db.keys, pg_db.tables)
    assert other.lane != held.lane
    assert len(seen) == 2  # claim a free lane, write: no failed attempt on the first's lane
    _verify(pg_db, 3)


def test_appends_in_one_transaction_stay_on_its_lane(db: AuditDB) -> None:
    with db.engine.begin() as conn:
        places = [append(conn, sample_record(i), db.keys, db.tables) for i in range(4)]
    assert {p.lane for p in places} == {places[0].lane}
    assert [p.position for p in places] == [1, 2, 3, 4]
    _verify(db, 4)


def test_fast_and_claiming_appends_store_columns_alike(db: AuditDB) -> None:
    """The fast path's statements may run precompiled (SQLite): its rows must be stored exactly
    as the claiming path stores them, e.g. the time in the same text form, which date searches
    compare as text on SQLite."""
    when = datetime(2024, 3, 5, 10, 30, tzinfo=UTC)
    with db.engine.begin() as conn:  # a fresh engine claims first, then appends fast
        for _ in range(3):
            append(conn, sample_record(0, recorded=when), db.keys, db.tables)
    events = db.tables.events
    columns = [c for c in events.c if c.name not in ("seq", "position", "nonce", "ciphertext", "mac")]
    with db.engine.connect() as conn:
        raw = [
            tuple(r) for r in conn.execute(select(*[cast(c, String) for c in columns]).order_by(events.c.seq))
        ]
    assert raw[0] == raw[1] == raw[2]
    _verify(db, 3)


def test_a_driver_error_on_the_fast_path_is_sqlalchemys_and_rolls_back(sqlite_db: AuditDB) -> None:
    """SQLite's fast path runs on the driver's cursor: a constraint failure there must still be
    SQLAlchemy's IntegrityError (the service answers it with a 409), and leave nothing behind."""
    db = sqlite_db
    with db.engine.begin() as conn:
        append(conn, sample_record(1), db.keys, db.tables)
    events = db.tables.events
    with db.engine.begin() as conn:  # a row squatting on the next sequence number
        row = conn.execute(select(events)).mappings().one()
        conn.execute(events.insert().values({**row, "seq": 2, "lane": 1}))
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        append(conn, sample_record(2), db.keys, db.tables)
    with db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 2
        head = conn.execute(select(db.tables.head.c.last_position)).scalar_one()
    assert head == 1  # the head's move rolled back with the failed insert
