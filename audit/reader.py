"""Search and decrypt audit records, with FHIR-style date prefixes and paging.

Filters run on the plaintext columns and blind indexes, so the database narrows the rows and only
the page requested is decrypted. Results are in global sequence order, newest first by default,
as an auditor expects. (With several lanes on PostgreSQL, sequence numbers are handed out at
append time, so two concurrent transactions may commit in the opposite order; a record can then
appear just behind a keyset cursor taken in between. Use a `date` bound for exact windows.)
Two paging styles: offset/limit (simple, for FHIR `_count` + page links) and keyset via
`AuditPage.next_cursor` (stable and cheap on large logs while new records arrive).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, func, or_, select

from audit.chain import open_sealed
from audit.keys import AuditKeys, IndexKind
from audit.record import Action, AuditRecord, Interaction, Outcome, normalize_reference
from audit.schema import AuditTables

MAX_LIMIT = 1000

_DATE_RE = re.compile(
    r"^(?P<prefix>eq|ne|gt|lt|ge|le|sa|eb|ap)?"
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?P<fraction>\.\d+)?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


@dataclass(frozen=True, slots=True)
class DateFilter:
    """A FHIR `date` search value: a prefix and the half-open range [start, end) it names.

    `2024-03` names all of March; `ge2024-03` matches from 1 March, `gt2024-03` from 1 April.
    """

    prefix: str
    start: datetime
    end: datetime

    @classmethod
    def parse(cls, value: str) -> DateFilter:
        m = _DATE_RE.match(value.strip())
        if not m:
            raise ValueError(f"not a FHIR date search value: {value!r}")
        g = m.groupdict()
        # A time without a zone is taken as UTC (FHIR leaves it to the server).
        tz = UTC if g["tz"] in (None, "Z") else datetime.strptime(g["tz"], "%z").tzinfo
        year = int(g["year"])
        if g["month"] is None:
            start = datetime(year, 1, 1, tzinfo=UTC)
            end = start.replace(year=year + 1)
        elif g["day"] is None:
            start = datetime(year, int(g["month"]), 1, tzinfo=UTC)
            end = (start + timedelta(days=32)).replace(day=1)
        elif g["hour"] is None:
            start = datetime(year, int(g["month"]), int(g["day"]), tzinfo=UTC)
            end = start + timedelta(days=1)
        else:
            second = int(g["second"] or 0)
            micro = int(float(g["fraction"]) * 1_000_000) if g["fraction"] else 0
            start = datetime(
                year, int(g["month"]), int(g["day"]), int(g["hour"]), int(g["minute"]), second, micro, tz
            )
            if g["fraction"]:
                end = start + timedelta(microseconds=1)
            elif g["second"] is not None:
                end = start + timedelta(seconds=1)
            else:
                end = start + timedelta(minutes=1)
        return cls(prefix=g["prefix"] or "eq", start=start.astimezone(UTC), end=end.astimezone(UTC))

    def clause(self, column: Any) -> ColumnElement[bool]:
        # The recorded time is an instant, so "the target range" is a point.
        match self.prefix:
            case "eq" | "ap":
                return and_(column >= self.start, column < self.end)
            case "ne":
                return or_(column < self.start, column >= self.end)
            case "gt" | "sa":
                return column >= self.end
            case "lt" | "eb":
                return column < self.start
            case "ge":
                return column >= self.start
            case "le":
                return column < self.end
        raise ValueError(f"unknown date prefix {self.prefix!r}")


@dataclass(frozen=True, kw_only=True)
class AuditQuery:
    """Search criteria; every given criterion must hold (AND). Collections mean any-of (OR)."""

    date: Sequence[DateFilter | str] = ()
    agent: str | None = None  # the actor's `sub`
    agent_role: str | None = None
    patient: str | None = None  # "123" or "Patient/123"
    entity: str | None = None  # "Observation/abc"
    action: Collection[Action | str] = ()
    outcome: Collection[Outcome | int] = ()
    interaction: Collection[Interaction | str] = ()
    resource_type: str | None = None
    newest_first: bool = True
    limit: int = 50
    offset: int = 0
    cursor: int | None = None  # keyset paging: the `next_cursor` of the previous page


@dataclass(frozen=True, slots=True)
class StoredRecord:
    seq: int
    lane: int
    position: int
    key_version: int
    mac: bytes  # the row's chain MAC; not secret, lets a SIEM anchor what it received
    record: AuditRecord


@dataclass(frozen=True)
class AuditPage:
    records: list[StoredRecord]
    total: int | None = None  # only when asked for: counting a large log costs a scan
    next_cursor: int | None = None  # pass as AuditQuery.cursor; None on the last page
    criteria: AuditQuery = field(default_factory=AuditQuery)


def search(
    conn: Connection, keys: AuditKeys, tables: AuditTables, query: AuditQuery, *, with_total: bool = False
) -> AuditPage:
    events = tables.events
    where = _criteria(query, keys, tables)
    order = events.c.seq.desc() if query.newest_first else events.c.seq.asc()
    limit = max(0, min(query.limit, MAX_LIMIT))
    page_where = list(where)
    if query.cursor is not None:
        page_where.append(events.c.seq < query.cursor if query.newest_first else events.c.seq > query.cursor)
    # One row more than asked tells whether a next page exists without a count.
    stmt = select(events).where(*page_where).order_by(order).offset(query.offset).limit(limit + 1)
    rows = conn.execute(stmt).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    total = None
    if with_total:
        total = int(conn.execute(select(func.count()).select_from(events).where(*where)).scalar_one())
    return AuditPage(
        records=[_decrypt(row, keys) for row in rows],
        total=total,
        next_cursor=int(rows[-1].seq) if has_more and rows else None,
        criteria=query,
    )


def get(conn: Connection, keys: AuditKeys, tables: AuditTables, seq: int) -> StoredRecord | None:
    row = conn.execute(select(tables.events).where(tables.events.c.seq == seq)).first()
    return _decrypt(row, keys) if row is not None else None


def iter_since(
    conn: Connection, keys: AuditKeys, tables: AuditTables, since: datetime | None = None, batch: int = 500
) -> Iterator[StoredRecord]:
    """Every record (oldest first) recorded at or after `since`, streamed in batches."""
    events = tables.events
    after = 0
    while True:
        where = [events.c.seq > after]
        if since is not None:
            where.append(events.c.recorded_at >= since)
        rows = conn.execute(select(events).where(*where).order_by(events.c.seq).limit(batch)).all()
        for row in rows:
            yield _decrypt(row, keys)
        if len(rows) < batch:
            return
        after = int(rows[-1].seq)


def _criteria(query: AuditQuery, keys: AuditKeys, tables: AuditTables) -> list[ColumnElement[bool]]:
    c = tables.events.c
    where: list[ColumnElement[bool]] = []
    for value in query.date:
        date = value if isinstance(value, DateFilter) else DateFilter.parse(value)
        where.append(date.clause(c.recorded_at))
    if query.agent:
        where.append(c.agent_index == keys.blind_index(IndexKind.AGENT, query.agent))
    if query.agent_role:
        where.append(c.agent_role == query.agent_role)
    if query.patient:
        ref = normalize_reference(query.patient, "Patient")
        where.append(c.patient_index == keys.blind_index(IndexKind.PATIENT, ref))
    if query.entity:
        if "/" not in query.entity and not query.resource_type:
            raise ValueError("entity must be a reference such as Observation/123")
        ref = normalize_reference(query.entity, query.resource_type or "")
        where.append(c.entity_index == keys.blind_index(IndexKind.ENTITY, ref))
    if query.action:
        where.append(c.action.in_([Action(a).value for a in query.action]))
    if query.outcome:
        where.append(c.outcome.in_([int(Outcome(int(o))) for o in query.outcome]))
    if query.interaction:
        where.append(c.interaction.in_([Interaction(i).value for i in query.interaction]))
    if query.resource_type:
        where.append(c.resource_type == query.resource_type)
    return where


def _decrypt(row: Row[Any], keys: AuditKeys) -> StoredRecord:
    seq, version = int(row.seq), int(row.key_version)
    record = open_sealed(seq, version, bytes(row.nonce), bytes(row.ciphertext), keys)
    return StoredRecord(
        seq=seq,
        lane=int(row.lane),
        position=int(row.position),
        key_version=version,
        mac=bytes(row.mac),
        record=record,
    )
