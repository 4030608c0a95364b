"""Someone with write access to the database edits the audit tables directly; verify must say where.

Each case builds a 10-record chain, tampers with it in plain SQL, and checks the first bad
sequence number and that the reason names the kind of damage.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, delete, insert, select, update

from audit import append, verify_chain
from tests.audit.conftest import AuditDB
from tests.audit.support import sample_record

N = 10
PAYLOAD = (
    "recorded_at",
    "action",
    "interaction",
    "outcome",
    "http_status",
    "resource_type",
    "agent_role",
    "agent_index",
    "patient_index",
    "entity_index",
    "key_version",
    "nonce",
    "ciphertext",
    "mac",
)


def _row(conn: Connection, db: AuditDB, seq: int) -> dict[str, Any]:
    return dict(conn.execute(select(db.tables.events).where(db.tables.events.c.seq == seq)).one()._mapping)


def _set(conn: Connection, db: AuditDB, seq: int, **values: Any) -> None:
    conn.execute(update(db.tables.events).where(db.tables.events.c.seq == seq).values(**values))


def delete_middle(conn: Connection, db: AuditDB) -> None:
    conn.execute(delete(db.tables.events).where(db.tables.events.c.seq == 5))


def edit_ciphertext(conn: Connection, db: AuditDB) -> None:
    ciphertext = bytearray(_row(conn, db, 4)["ciphertext"])
    ciphertext[10] ^= 0x01
    _set(conn, db, 4, ciphertext=bytes(ciphertext))


def edit_outcome_column(conn: Connection, db: AuditDB) -> None:
    _set(conn, db, 6, outcome=0 if _row(conn, db, 6)["outcome"] else 4)


def edit_patient_index(conn: Connection, db: AuditDB) -> None:
    # Re-point record 3 at another patient's blind index (hiding who was looked at).
    _set(conn, db, 3, patient_index=_row(conn, db, 4)["patient_index"])


def edit_time(conn: Connection, db: AuditDB) -> None:
    from datetime import timedelta

    _set(conn, db, 7, recorded_at=_row(conn, db, 7)["recorded_at"] - timedelta(days=30))


def swap_two(conn: Connection, db: AuditDB) -> None:
    # Exchange everything but the sequence number: records 3 and 7 trade places.
    r3, r7 = _row(conn, db, 3), _row(conn, db, 7)
    _set(conn, db, 3, **{k: r7[k] for k in PAYLOAD})
    _set(conn, db, 7, **{k: r3[k] for k in PAYLOAD})


def insert_forged(conn: Connection, db: AuditDB) -> None:
    # Make room at 5 (shift 5..10 to 6..11), insert a forged record there and fix the head count.
    events = db.tables.events
    shift = {"seq": events.c.seq + 1000, "position": events.c.position + 1000}
    conn.execute(update(events).where(events.c.seq >= 5).values(**shift))
    unshift = {"seq": events.c.seq - 999, "position": events.c.position - 999}
    conn.execute(update(events).where(events.c.seq >= 1000).values(**unshift))
    forged = _row(conn, db, 4) | {"seq": 5, "position": 5, "mac": bytes(32)}
    conn.execute(insert(events).values(**forged))
    conn.execute(update(db.tables.head).values(last_position=db.tables.head.c.last_position + 1))


def append_forged(conn: Connection, db: AuditDB) -> None:
    conn.execute(insert(db.tables.events).values(**(_row(conn, db, N) | {"seq": N + 1, "position": N + 1})))


def truncate_tail(conn: Connection, db: AuditDB) -> None:
    conn.execute(delete(db.tables.events).where(db.tables.events.c.seq > 7))


def truncate_tail_and_rewrite_head(conn: Connection, db: AuditDB) -> None:
    truncate_tail(conn, db)
    conn.execute(update(db.tables.head).values(last_position=7, last_mac=_row(conn, db, 7)["mac"]))


def delete_head(conn: Connection, db: AuditDB) -> None:
    conn.execute(delete(db.tables.head).where(db.tables.head.c.lane == 0))


CASES: list[tuple[Callable[[Connection, AuditDB], None], int, str]] = [
    (delete_middle, 5, "missing"),
    (edit_ciphertext, 4, "MAC mismatch"),
    (edit_outcome_column, 6, "MAC mismatch"),
    (edit_patient_index, 3, "MAC mismatch"),
    (edit_time, 7, "MAC mismatch"),
    (swap_two, 3, "MAC mismatch"),
    (insert_forged, 5, "MAC mismatch"),
    (append_forged, N + 1, "MAC mismatch"),
    (truncate_tail, 8, "truncated"),
    (truncate_tail_and_rewrite_head, 8, "head MAC mismatch"),
    (delete_head, 1, "chain head of lane 0 is missing"),
]


@pytest.mark.parametrize(("tamper", "first_bad", "reason"), CASES, ids=[c[0].__name__ for c in CASES])
def test_tampering_is_detected_at_the_right_record(
    db: AuditDB, tamper: Callable[[Connection, AuditDB], None], first_bad: int, reason: str
) -> None:
    with db.engine.begin() as conn:
        for i in range(N):
            append(conn, sample_record(i, outcome_description=None), db.keys, db.tables)
    with db.engine.connect() as conn:
        assert verify_chain(conn, db.keys, db.tables).ok
    with db.engine.begin() as conn:
        tamper(conn, db)
    with db.engine.connect() as conn:
        verdict = verify_chain(conn, db.keys, db.tables)
    assert not verdict.ok
    bad = verdict.first_bad
    assert bad is not None and (bad.lane, bad.position) == (0, first_bad), verdict.problems
    # One lane, so positions and global sequence numbers coincide wherever the row still exists.
    assert bad.seq in (first_bad, None)
    assert reason in (verdict.reason or ""), verdict.problems


def test_a_single_edit_is_reported_once(db: AuditDB) -> None:
    """Later records still link to the stored MAC, so one edit does not cascade into N reports."""
    with db.engine.begin() as conn:
        for i in range(N):
            append(conn, sample_record(i), db.keys, db.tables)
        edit_ciphertext(conn, db)
    with db.engine.connect() as conn:
        verdict = verify_chain(conn, db.keys, db.tables)
    assert [(p.seq, p.position) for p in verdict.problems] == [(4, 4)]
    assert str(verdict.problems[0]).startswith("lane 0 position 4 (seq 4): MAC mismatch")


def test_a_chain_made_with_another_mac_key_fails(db: AuditDB) -> None:
    from dataclasses import replace

    with db.engine.begin() as conn:
        append(conn, sample_record(1), db.keys, db.tables)
    impostor = replace(db.keys, mac_key=b"\x01" * 32)
    with db.engine.connect() as conn:
        verdict = verify_chain(conn, impostor, db.tables)
    assert verdict.first_bad_seq == 1
