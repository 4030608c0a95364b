"""Append a record to the chain inside the caller's transaction.

Locking: the first statement is an UPDATE of one chain-head row (a lane). On PostgreSQL that
takes a row lock held until the caller's transaction commits or rolls back, and other writers —
in any process — take another free lane (`FOR UPDATE SKIP LOCKED`) or wait for this one. On
SQLite the UPDATE takes the database write lock. Either way the lane position and the previous
MAC are read under the lock, so each lane's chain stays linear and gap-free, and a rollback
undoes the head update together with the record: no orphan record, no hole.

Because the lane lock lasts until the caller's commit, append as late in the unit of work as
possible (just before commit).

Fast path: a process remembers, per lane it wrote, the head it left and the next sequence number
(fetched ahead on PostgreSQL), once that transaction commits, so its next append on that lane is
one statement on PostgreSQL (two elsewhere) whose UPDATE of the head applies only if the head is
still exactly what the process remembers. If another writer moved the head, nothing is written
and the append falls back to the locking claim above. Correctness never rests on the memory.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import Any, NamedTuple

import orjson
from sqlalchemy import (
    CTE,
    Connection,
    Dialect,
    Engine,
    Insert,
    ScalarSelect,
    Select,
    String,
    Update,
    bindparam,
    event,
    func,
    insert,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningUpdate

from audit.chain import GENESIS_MAC, Place, SearchColumns, head_mac, row_mac, seal
from audit.keys import AuditKeys
from audit.record import AuditRecord, format_instant
from audit.schema import MAX_LANES, AuditTables


class Appended(NamedTuple):
    """Where the record went and its MAC. A named tuple: cheaper to build than a frozen
    dataclass, which sets each field through a call."""

    seq: int
    lane: int
    position: int
    mac: bytes


@dataclass(frozen=True)
class Companion:
    """Data-modifying CTEs of the caller's own (PostgreSQL), e.g. the rows a record describes, to
    be executed exactly once in the append's statement, so data and record share a round trip.

    Reuse the same CTE objects across calls and pass the values in `params`: the combined
    statement is then built and its cache key computed once, not per append."""

    ctes: tuple[CTE, ...]
    params: Mapping[str, Any] = field(default_factory=dict)


def append(
    bind: Connection | Session,
    record: AuditRecord,
    keys: AuditKeys,
    tables: AuditTables,
    companion: Companion | None = None,
) -> Appended:
    """Encrypt, chain and insert `record` in the transaction already open on `bind`.

    `companion` (PostgreSQL only) is executed exactly once, in the append's own statement when it
    can take it, else in one of its own just before the append.

    Nothing is committed here. Under PostgreSQL's default READ COMMITTED this never fails for
    concurrency reasons (a waiting writer re-reads the head); under REPEATABLE READ or
    SERIALIZABLE a concurrent append to the same lane raises a serialization error and the
    caller must retry the transaction.
    """
    conn = bind.connection() if isinstance(bind, Session) else bind
    statements = _statements(tables)
    if companion is not None and conn.dialect.name != "postgresql":
        raise ValueError("companion statements need PostgreSQL (data-modifying CTEs)")
    lanes = _lane_memory(conn.engine, tables)
    info = conn.info
    if conn.dialect.name != "postgresql":
        return _append_elsewhere(conn, info, statements, record, keys, tables, lanes)

    known = _own_pending(info, lanes) or lanes.checkout()
    if known is not None:
        place = Place(known.next_seq, known.lane, known.position + 1)
        row, head = _sealed_row(record, keys, place, known.last_mac)
        stmt = statements.append_if_head_unchanged
        params = {"v_event": _event_json(row), **head}
        params.update(b_prev_position=known.position, b_prev_mac=known.last_mac)
        if companion is not None:
            stmt = _with_ctes(stmt, companion.ctes)
            params.update(companion.params)
        try:
            result = conn.execute(stmt, params).one()
        except BaseException:
            lanes.drop(known.lane)
            raise
        companion = None  # executed, whether or not the head matched
        if result.appended:
            return _remember_at_commit(info, lanes, place, row["mac"], int(result.next_seq))
        lanes.lost(known.lane)  # another writer moved this head (or our last write rolled back)
    if companion is not None:
        conn.execute(_with_ctes(_SELECT_ONE, companion.ctes), dict(companion.params))
    place, prev_mac = _claim_place(conn, statements, keys, tables, avoid=lanes.avoided())
    row, head = _sealed_row(record, keys, place, prev_mac)
    # One round trip for both writes; the lane lock is held meanwhile, so fewer is better.
    next_seq = conn.execute(statements.insert_event_and_set_head, {**_prefixed(row), **head}).scalar_one()
    return _remember_at_commit(info, lanes, place, row["mac"], int(next_seq))


def _append_elsewhere(
    conn: Connection,
    info: dict[Any, Any],
    statements: _Statements,
    record: AuditRecord,
    keys: AuditKeys,
    tables: AuditTables,
    lanes: _LaneMemory,
) -> Appended:
    """SQLite and others (no data-modifying CTEs): two statements when the head is as remembered
    (move it, insert the row), else three (claim, insert, set the head's MACs). Writers are
    serialised by the database there, so the next sequence number is simply the last one + 1."""
    known = _own_pending(info, lanes) or lanes.checkout()
    if known is not None:
        place = Place(known.next_seq, known.lane, known.position + 1)
        row, head = _sealed_row(record, keys, place, known.last_mac)
        move_head, insert_event = _precompiled(conn, statements)
        try:
            moved = move_head.execute(
                conn, {**head, "b_prev_position": known.position, "b_prev_mac": known.last_mac}
            )
        except BaseException:
            lanes.drop(known.lane)
            raise
        if moved == 1:
            insert_event.execute(conn, row)
            return _remember_at_commit(info, lanes, place, row["mac"], place.seq + 1)
        lanes.lost(known.lane)
    place, prev_mac = _claim_place(conn, statements, keys, tables)
    row, head = _sealed_row(record, keys, place, prev_mac)
    conn.execute(statements.insert_event, row)
    conn.execute(statements.set_head_mac, head)
    return _remember_at_commit(info, lanes, place, row["mac"], place.seq + 1)


_SELECT_ONE = select(literal_column("1"))
_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class _Precompiled:
    """A statement compiled once for a dialect with positional parameters, run on the
    transaction's own DBAPI cursor. For the two small statements of SQLite's fast path,
    SQLAlchemy's per-call work (cache key, parameters, execution context, result) cost as much as
    SQLite's own: ~55 against ~30 µs per append through `execute`, and still a third of the
    append's instructions through `exec_driver_sql`. Driver errors are raised as SQLAlchemy's
    (an IntegrityError stays one), and no engine event listens to cursor executions here."""

    statement: Any
    sql: str | None = None  # None: the dialect's paramstyle is named; use `statement` as is
    # the parameters in the statement's positional order, taken from a mapping in one C call
    values_of: Callable[[Mapping[str, Any]], tuple[Any, ...]] = tuple
    # (position, processor) for the parameters whose type has a bind processor; most have none,
    # and a Python step per parameter (17 for the event row) cost more than SQLite's insert
    processed: tuple[tuple[int, Callable[[Any], Any]], ...] = ()

    @classmethod
    def of(cls, statement: Any, dialect: Dialect) -> _Precompiled:
        compiled = statement.compile(dialect=dialect)
        if not compiled.positional or compiled.positiontup is None:
            return cls(statement)
        names = tuple(compiled.positiontup)
        # the dialect's own processors (e.g. SQLite's datetime text format), as execute() applies
        types = (compiled.binds[n].type.dialect_impl(dialect) for n in names)
        processors = (t.bind_processor(dialect) for t in types)
        processed = tuple((i, p) for i, p in enumerate(processors) if p is not None)
        getter = itemgetter(*names)
        values_of = getter if len(names) > 1 else lambda params: (getter(params),)
        return cls(statement, compiled.string, values_of, processed)

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Run in `conn`'s transaction; the number of rows affected."""
        if self.sql is None:
            return conn.execute(self.statement, dict(params)).rowcount
        values = self.values_of(params)
        if self.processed:
            values = list(values)  # type: ignore[assignment]
            for i, process in self.processed:
                values[i] = process(values[i])  # type: ignore[index]
        cursor = conn.connection.cursor()
        try:
            cursor.execute(self.sql, values)
            return cursor.rowcount
        except conn.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(
                self.sql, values, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
            ) from exc
        finally:
            cursor.close()


_PRECOMPILED: dict[tuple[int, str], tuple[_Statements, _Precompiled, _Precompiled]] = {}


def _precompiled(conn: Connection, statements: _Statements) -> tuple[_Precompiled, _Precompiled]:
    """(move head if unchanged, insert event) for this connection's dialect."""
    key = (id(statements), conn.dialect.name)
    cached = _PRECOMPILED.get(key)
    if cached is None or cached[0] is not statements:
        move = _Precompiled.of(statements.move_head_if_unchanged, conn.dialect)
        insert_event = _Precompiled.of(statements.insert_event, conn.dialect)
        cached = _PRECOMPILED[key] = (statements, move, insert_event)
    return cached[1], cached[2]


@lru_cache(maxsize=32)
def _with_ctes(stmt: Select[Any], ctes: tuple[CTE, ...]) -> Select[Any]:
    return stmt.add_cte(*ctes)


def _sealed_row(
    record: AuditRecord, keys: AuditKeys, place: Place, prev_mac: bytes
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The event row (encrypted, MACed onto prev_mac) and the head values that point at it."""
    columns = SearchColumns.of(record, keys)
    key_version, nonce, ciphertext = seal(record, place.seq, keys)
    mac = row_mac(keys.mac_key, prev_mac, place, columns, key_version, nonce, ciphertext)
    row = {
        "seq": place.seq,
        "lane": place.lane,
        "position": place.position,
        "key_version": key_version,
        "nonce": nonce,
        "ciphertext": ciphertext,
        "mac": mac,
        **columns.as_dict(),
    }
    head = {
        "b_lane": place.lane,
        "b_position": place.position,
        "b_last_mac": mac,
        "b_head_mac": head_mac(keys.mac_key, place.lane, place.position, mac),
    }
    return row, head


def _prefixed(row: dict[str, Any]) -> dict[str, Any]:
    return {f"v_{k}": v for k, v in row.items()}


def _event_json(row: dict[str, Any]) -> str:
    """The event row for PostgreSQL's json_populate_record, spelled so that each column reads
    back exactly as sealed (the MAC covers the stored values): bytes in bytea's hex form, the
    instant to the microsecond with its offset. The other columns are ints, strings and nulls,
    which orjson writes as they are (a bytes column added later would make it raise)."""
    spelled = {
        "recorded_at": format_instant(row["recorded_at"]),
        "nonce": "\\x" + row["nonce"].hex(),
        "ciphertext": "\\x" + row["ciphertext"].hex(),
        "mac": "\\x" + row["mac"].hex(),
    }
    return orjson.dumps({**row, **spelled}).decode()


# How old a sequence number fetched ahead may be when used. Sequence numbers order the log for
# readers; a stale one would list a record among older ones.
_SEQ_MAX_AGE_SECONDS = 1.0


class _KnownLane(NamedTuple):
    lane: int
    position: int  # the head this process left: last position and MAC
    last_mac: bytes
    next_seq: int  # PostgreSQL: fetched ahead in the same statement; elsewhere: last seq + 1
    fetched_at: float  # when next_seq was fetched (the append's statement), time.monotonic()

    def fresh(self, now: float) -> bool:
        return now - self.fetched_at < _SEQ_MAX_AGE_SECONDS


class _LaneMemory:
    """What one process knows about the lanes it wrote last, for one database. Thread-safe."""

    def __init__(self) -> None:
        # by lane, least recently checked in first (a dict: moving one lane to the end is cheap)
        self._idle: dict[int, _KnownLane] = {}
        self._busy: set[int] = set()  # checked out by a thread of this process
        self._avoid: set[int] = set()
        self._lock = threading.Lock()

    def checkout(self) -> _KnownLane | None:
        now = time.monotonic()
        with self._lock:
            while self._idle:
                # least recently used: concurrent writers spread out
                known = self._idle.pop(next(iter(self._idle)))
                if known.fresh(now):
                    self._busy.add(known.lane)
                    return known
        return None

    def hold(self, lane: int) -> None:
        with self._lock:
            self._busy.add(lane)

    def drop(self, lane: int) -> None:
        """A checked-out lane's write raised: the lane is no longer this thread's."""
        with self._lock:
            self._busy.discard(lane)

    def release(self, lane: int) -> None:
        """The transaction that wrote `lane` rolled back: the head is not what we wrote."""
        with self._lock:
            self._busy.discard(lane)
            self._idle.pop(lane, None)

    def checkin(self, known: _KnownLane) -> None:
        with self._lock:
            self._idle.pop(known.lane, None)
            self._idle[known.lane] = known
            self._busy.discard(known.lane)
            self._avoid.discard(known.lane)

    def lost(self, lane: int) -> None:
        """Another process writes this lane: prefer others when claiming, so processes settle on
        different lanes instead of invalidating each other's memory."""
        with self._lock:
            self._busy.discard(lane)
            self._avoid.add(lane)
            if len(self._avoid) >= MAX_LANES // 2:
                self._avoid.clear()

    def avoided(self) -> list[int]:
        """Lanes a claim should take last: those other processes write, and this process's own
        (idle or about to be written by another thread). Claiming one of ours makes that
        thread's fast path wait on our lock and then fail."""
        with self._lock:
            return sorted(self._avoid | self._busy | self._idle.keys())


# id(engine) -> id(tables) -> (tables, memory). Keyed by id, not a WeakKeyDictionary, because
# this is looked up on every append and a weak-keyed lookup builds a weak reference each time;
# an engine's entry is dropped when the engine is collected (weakref.finalize), before its id
# can be reused.
_MEMORY: dict[int, dict[int, tuple[AuditTables, _LaneMemory]]] = {}
_MEMORY_LOCK = threading.Lock()


def _lane_memory(engine: Engine, tables: AuditTables) -> _LaneMemory:
    # Per engine (database) and table set: a remembered head is only meaningful for its own chain.
    per_engine = _MEMORY.get(id(engine))
    if per_engine is not None:
        found = per_engine.get(id(tables))
        if found is not None and found[0] is tables:
            return found[1]
    with _MEMORY_LOCK:
        per_engine = _MEMORY.get(id(engine))
        if per_engine is None:
            per_engine = _MEMORY[id(engine)] = {}
            event.listen(engine, "commit", _on_commit)
            event.listen(engine, "rollback", _on_rollback)
            weakref.finalize(engine, _MEMORY.pop, id(engine), None)
        found = per_engine.get(id(tables))
        if found is None or found[0] is not tables:
            found = per_engine[id(tables)] = (tables, _LaneMemory())
        return found[1]


# A head is remembered only once its transaction commits: until then no other transaction sees
# it, so a thread trying it early would find the old head, waste a statement and claim anyway.
_PENDING = "audit_lanes_pending"


def _remember_at_commit(
    info: dict[Any, Any], lanes: _LaneMemory, place: Place, mac: bytes, next_seq: int
) -> Appended:
    """Note the head this append left, for the lane memory once the transaction commits, and
    return where the record went. `info`: the connection's `info` (fetched once per append: a
    chain of property lookups). `next_seq`: the lane's next append's sequence number."""
    known = _KnownLane(place.lane, place.position, mac, next_seq, time.monotonic())
    lanes.hold(known.lane)
    info.setdefault(_PENDING, []).append((lanes, known))
    return Appended(place.seq, place.lane, place.position, mac)


def _own_pending(info: dict[Any, Any], lanes: _LaneMemory) -> _KnownLane | None:
    """A lane this transaction already wrote: it holds its lock, so the head is as it left it."""
    pending = info.get(_PENDING)
    if pending:
        for i, (memory, known) in enumerate(pending):
            if memory is lanes:
                del pending[i]
                return known
    return None


def _on_commit(conn: Connection) -> None:
    for lanes, known in conn.info.pop(_PENDING, ()):
        lanes.checkin(known)


def _on_rollback(conn: Connection) -> None:
    for lanes, known in conn.info.pop(_PENDING, ()):
        lanes.release(known.lane)


@dataclass(frozen=True)
class _Statements:
    """Statements built once per table set. Rebuilding them per append (and re-deriving their
    cache keys) cost more CPU than the encryption and MAC together."""

    claim_free_lane: ReturningUpdate[Any]  # PostgreSQL: the lowest lane nobody holds (b_avoid last)
    claim_any_lane: ReturningUpdate[Any]  # PostgreSQL: all busy, queue on a random one
    claim_lowest_lane: ReturningUpdate[Any]  # SQLite and others
    insert_event: Insert
    set_head_mac: Update
    insert_event_and_set_head: Update  # PostgreSQL: both of the above in one statement (a CTE)
    append_if_head_unchanged: Select[Any]  # PostgreSQL fast path: claim, insert and set head at once
    move_head_if_unchanged: Update  # elsewhere, fast path: the head moves only if as remembered


_STATEMENTS: dict[int, tuple[AuditTables, _Statements]] = {}


def _statements(tables: AuditTables) -> _Statements:
    cached = _STATEMENTS.get(id(tables))
    if cached is not None and cached[0] is tables:
        return cached[1]
    head, events = tables.head, tables.events

    def bump(lane_choice: ScalarSelect[Any]) -> ReturningUpdate[Any]:
        return (
            update(head)
            .where(head.c.lane == lane_choice)
            .values(last_position=head.c.last_position + 1)
            # RETURNING gives the new position and the not-yet-updated last_mac in one round trip.
            .returning(head.c.lane, head.c.last_position, head.c.last_mac)
        )

    free_lane = (
        select(head.c.lane)
        .order_by(head.c.lane.in_(bindparam("b_avoid", expanding=True)), head.c.lane)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    random_lane = select(head.c.lane).order_by(func.random()).limit(1)
    next_seq = tables.seq_generator.next_value().label("seq")
    set_head_mac = (
        update(head)
        .where(head.c.lane == bindparam("b_lane"))
        .values(last_mac=bindparam("b_last_mac"), head_mac=bindparam("b_head_mac"))
    )
    event_columns = [c.name for c in events.c]
    move_head_if_unchanged = (
        update(head)
        .where(
            head.c.lane == bindparam("b_lane"),
            head.c.last_position == bindparam("b_prev_position"),
            head.c.last_mac == bindparam("b_prev_mac"),
        )
        .values(
            last_position=bindparam("b_position"),
            last_mac=bindparam("b_last_mac"),
            head_mac=bindparam("b_head_mac"),
        )
    )
    moved_head = move_head_if_unchanged.returning(head.c.lane).cte("moved_head")
    # The row travels as one JSON parameter that the server turns back into a row of the table's
    # own type: one bound value instead of 17, each of which SQLAlchemy and psycopg process on
    # every append (see _event_json for how the values are spelled).
    if not _PLAIN_NAME.fullmatch(events.name):
        raise ValueError(f"audit table name {events.name!r} must be a plain identifier")
    event_row = text(f"json_populate_record(NULL::{events.name}, CAST(:v_event AS json)) AS r").bindparams(
        bindparam("v_event", type_=String())
    )
    # The row is inserted once per head row moved: none at all if the head was not as remembered.
    new_event = (
        insert(events)
        .from_select(
            event_columns,
            select(*[literal_column(f"r.{name}") for name in event_columns])
            .select_from(moved_head)
            .select_from(event_row),
        )
        .returning(events.c.seq)
        .cte("new_event")
    )
    append_if_head_unchanged = select(
        select(func.count()).select_from(new_event).scalar_subquery().label("appended"),
        tables.seq_generator.next_value().label("next_seq"),
    )
    statements = _Statements(
        claim_free_lane=bump(free_lane.scalar_subquery()).returning(next_seq),
        claim_any_lane=bump(random_lane.scalar_subquery()).returning(next_seq),
        # SQLite has no sequences. RETURNING is evaluated after the UPDATE took the database
        # write lock, so max(seq) + 1 is race-free there and the global sequence is gap-free.
        claim_lowest_lane=bump(select(func.min(head.c.lane)).scalar_subquery()).returning(
            select(func.coalesce(func.max(events.c.seq), 0) + 1).scalar_subquery().label("seq")
        ),
        insert_event=insert(events),
        set_head_mac=set_head_mac,
        insert_event_and_set_head=set_head_mac.add_cte(
            insert(events).values({c.name: bindparam(f"v_{c.name}") for c in events.c}).cte("new_event")
        ).returning(tables.seq_generator.next_value()),  # the lane's next append's number, ahead
        append_if_head_unchanged=append_if_head_unchanged,
        move_head_if_unchanged=move_head_if_unchanged,
    )
    _STATEMENTS[id(tables)] = (tables, statements)
    return statements


def _claim_place(
    conn: Connection,
    statements: _Statements,
    keys: AuditKeys,
    tables: AuditTables,
    avoid: list[int] | None = None,
) -> tuple[Place, bytes]:
    """Lock a lane by advancing its head; return the new row's place and the lane's previous MAC."""
    for _attempt in range(2):
        if conn.dialect.name == "postgresql":
            row = conn.execute(statements.claim_free_lane, {"b_avoid": avoid or []}).first()
            if row is None:
                row = conn.execute(statements.claim_any_lane).first()
        else:
            row = conn.execute(statements.claim_lowest_lane).first()
        if row is not None:
            return Place(int(row.seq), int(row.lane), int(row.last_position)), bytes(row.last_mac)
        ensure_chain_heads(conn, keys, tables)  # no head row yet (first append ever): create lane 0
    raise RuntimeError("audit chain head could not be created")


def ensure_chain_heads(conn: Connection, keys: AuditKeys, tables: AuditTables, lanes: int = 1) -> None:
    """Create the genesis head rows of lanes 0..lanes-1 that do not exist yet. Idempotent.

    The first append creates lane 0 lazily. A PostgreSQL deployment with concurrent writers
    calls this at start-up with e.g. lanes=8 (it needs the MAC key, which is why a key-less
    migration cannot seed the rows). Lanes can be added later but never removed.
    """
    if not 1 <= lanes <= MAX_LANES:
        raise ValueError(f"lanes must be between 1 and {MAX_LANES}")
    rows = [
        {
            "lane": lane,
            "last_position": 0,
            "last_mac": GENESIS_MAC,
            "head_mac": head_mac(keys.mac_key, lane, 0, GENESIS_MAC),
        }
        for lane in range(lanes)
    ]
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(pg_insert(tables.head).values(rows).on_conflict_do_nothing(index_elements=["lane"]))
    elif dialect == "sqlite":
        conn.execute(sqlite_insert(tables.head).values(rows).on_conflict_do_nothing(index_elements=["lane"]))
    else:  # elsewhere a concurrent duplicate fails and the caller retries
        existing = set(conn.execute(select(tables.head.c.lane)).scalars())
        missing = [row for row in rows if row["lane"] not in existing]
        if missing:
            conn.execute(insert(tables.head), missing)
