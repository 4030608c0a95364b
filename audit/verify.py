"""Walk every lane's chain and report every break, naming the first bad record.

Rows are read in position order in bounded batches (keyset on position), so memory stays flat
for any log size. Each lane's head is read after its rows: appends hold the lane lock until
commit, so commit order equals position order within a lane, any statement that sees position k
also sees all positions < k, and a head read later never lags behind the rows already checked.
That makes verification safe against a live database without a snapshot transaction.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row, select

from audit.chain import GENESIS_MAC, DecryptError, Place, SearchColumns, head_mac, open_sealed, row_mac
from audit.keys import AuditKeys, UnknownKeyVersion
from audit.schema import AuditTables

BATCH = 1000
MAX_PROBLEMS = 100  # a wholesale rewrite would otherwise produce one problem per row
MAX_ROUNDS = 20  # catch-up walks for rows committed during verification


@dataclass(frozen=True, slots=True)
class Problem:
    lane: int
    position: int  # position in the lane's chain; gap-free, so it also names deleted records
    seq: int | None  # global sequence number (AuditEvent id) when the row exists
    reason: str

    def __str__(self) -> str:
        where = f"lane {self.lane} position {self.position}"
        return (
            f"{where} (seq {self.seq}): {self.reason}" if self.seq is not None else f"{where}: {self.reason}"
        )


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    count: int  # event rows examined
    lanes: int  # lanes examined
    problems: tuple[Problem, ...] = field(default=())

    @property
    def first_bad(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    @property
    def first_bad_seq(self) -> int | None:
        """Global sequence number of the first bad record; None if it was deleted (see first_bad)."""
        return self.problems[0].seq if self.problems else None

    @property
    def reason(self) -> str | None:
        return self.problems[0].reason if self.problems else None


def verify_chain(
    conn: Connection, keys: AuditKeys, tables: AuditTables, *, decrypt: bool = True, lanes: int | None = None
) -> VerifyResult:
    """Check every row's MAC and link, each lane's positions, and each lane's head.

    With `decrypt`, also open every body and check the plaintext search columns agree with it;
    this catches a missing key version before an auditor needs that record. Pass `lanes` (the
    count the deployment opened) to also detect a lane deleted wholesale, head and all.
    """
    head_lanes = set(conn.execute(select(tables.head.c.lane)).scalars())
    row_lanes = set(conn.execute(select(tables.events.c.lane).distinct()).scalars())
    all_lanes = sorted(head_lanes | row_lanes | set(range(lanes or 0)))
    problems: list[Problem] = []
    count = 0
    for lane in all_lanes:
        walked = _verify_lane(conn, keys, tables, lane, decrypt, problems)
        count += walked
        if len(problems) >= MAX_PROBLEMS:
            break
    problems.sort(key=lambda p: (p.lane, p.position))
    return VerifyResult(
        ok=not problems, count=count, lanes=len(all_lanes), problems=tuple(problems[:MAX_PROBLEMS])
    )


def _verify_lane(
    conn: Connection, keys: AuditKeys, tables: AuditTables, lane: int, decrypt: bool, problems: list[Problem]
) -> int:
    """Walk one lane, appending its problems; returns the number of rows examined."""
    prev_mac: bytes | None = GENESIS_MAC
    last_seen = 0
    count = 0
    for _round in range(MAX_ROUNDS):
        walked = 0
        for row in _lane_rows_after(conn, tables, lane, last_seen):
            walked += 1
            position = int(row.position)
            if position != last_seen + 1:
                # A gap means deleted records. The row after it cannot be MAC-checked (its MAC
                # covers the missing predecessor's), so any damage to it hides behind this report.
                problems.append(
                    Problem(
                        lane,
                        last_seen + 1,
                        None,
                        f"records at positions {last_seen + 1}..{position - 1} are missing",
                    )
                )
                prev_mac = None
            problems.extend(_check_row(row, prev_mac, keys, decrypt))
            prev_mac, last_seen = bytes(row.mac), position
            if len(problems) >= MAX_PROBLEMS:
                return count + walked
        count += walked
        head = conn.execute(select(tables.head).where(tables.head.c.lane == lane)).first()
        if head is not None and int(head.last_position) > last_seen and walked:
            # Rows committed while we walked: check them too, then look at the head again.
            continue
        problems.extend(_check_head(lane, head, keys, last_position=last_seen, last_mac=prev_mac))
        break
    return count


def _lane_rows_after(conn: Connection, tables: AuditTables, lane: int, after: int) -> Iterator[Row[Any]]:
    events = tables.events
    while True:
        stmt = (
            select(events)
            .where(events.c.lane == lane, events.c.position > after)
            .order_by(events.c.position)
            .limit(BATCH)
        )
        batch = conn.execute(stmt).all()
        yield from batch
        if len(batch) < BATCH:
            return
        after = int(batch[-1].position)


def _check_row(row: Row[Any], prev_mac: bytes | None, keys: AuditKeys, decrypt: bool) -> list[Problem]:
    place = Place(seq=int(row.seq), lane=int(row.lane), position=int(row.position))
    seq = place.seq

    def problem(reason: str) -> list[Problem]:
        return [Problem(place.lane, place.position, seq, reason)]

    columns = SearchColumns.from_row(row._mapping)
    nonce, ciphertext = bytes(row.nonce), bytes(row.ciphertext)
    if prev_mac is not None:
        expected_mac = row_mac(
            keys.mac_key, prev_mac, place, columns, int(row.key_version), nonce, ciphertext
        )
        if not hmac.compare_digest(expected_mac, bytes(row.mac)):
            return problem("MAC mismatch: record edited, forged, moved, or its predecessor replaced")
    if not decrypt:
        return []
    try:
        record = open_sealed(seq, int(row.key_version), nonce, ciphertext, keys)
    except UnknownKeyVersion:
        return problem(f"key version {row.key_version} is not available")
    except (DecryptError, ValueError):
        return problem("body does not decrypt under its key version and sequence number")
    if SearchColumns.of(record, keys) != columns:
        # Only possible if the writer and this check disagree, or the MAC key leaked.
        return problem("search columns do not match the encrypted record")
    return []


def _check_head(
    lane: int, head: Row[Any] | None, keys: AuditKeys, *, last_position: int, last_mac: bytes | None
) -> list[Problem]:
    if head is None:
        return [Problem(lane, 1, None, f"chain head of lane {lane} is missing")]
    problems: list[Problem] = []
    head_position = int(head.last_position)
    if not hmac.compare_digest(
        head_mac(keys.mac_key, lane, head_position, bytes(head.last_mac)), bytes(head.head_mac)
    ):
        problems.append(
            Problem(
                lane,
                head_position + 1,
                None,
                "chain head MAC mismatch: head rewritten, tail may be truncated",
            )
        )
    if head_position > last_position:
        problems.append(
            Problem(
                lane,
                last_position + 1,
                None,
                f"records at positions {last_position + 1}..{head_position} are missing (truncated tail)",
            )
        )
    elif head_position < last_position:
        problems.append(
            Problem(
                lane,
                head_position + 1,
                None,
                f"records after position {head_position} are not covered by the chain head",
            )
        )
    elif last_mac is not None and not hmac.compare_digest(bytes(head.last_mac), last_mac):
        problems.append(Problem(lane, last_position, None, "last record's MAC differs from the chain head"))
    return problems
