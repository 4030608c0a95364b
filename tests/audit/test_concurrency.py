"""Several writers at once — threads and separate processes — must still produce one linear chain."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

from sqlalchemy import delete, select, update

from audit import append, ensure_chain_heads, verify_chain
from tests.audit.conftest import AuditDB
from tests.audit.support import sample_record

ROOT = Path(__file__).resolve().parents[2]


def _assert_gap_free_valid_chain(db: AuditDB, expected: int, lanes: int = 1) -> dict[int, int]:
    """Every lane holds positions 1..n without a gap, all rows are there, the chain verifies."""
    events = db.tables.events
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(events.c.lane, events.c.position).order_by(events.c.lane, events.c.position)
        ).all()
        verdict = verify_chain(conn, db.keys, db.tables, lanes=lanes)
    per_lane: dict[int, list[int]] = {}
    for lane, position in rows:
        per_lane.setdefault(lane, []).append(position)
    for positions in per_lane.values():
        assert positions == list(range(1, len(positions) + 1))
    assert len(rows) == expected
    assert verdict.ok, verdict.problems
    assert verdict.count == expected
    return {lane: len(positions) for lane, positions in per_lane.items()}


def _thread_writers(db: AuditDB, threads: int, per_thread: int) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(worker: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with db.engine.begin() as conn:
                    append(conn, sample_record(worker * 1000 + i), db.keys, db.tables)
        except BaseException as exc:  # surfaced below; a thread cannot fail the test itself
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors, errors


def test_concurrent_threads_keep_the_chain_linear(db: AuditDB) -> None:
    # Starting on an empty log also races the lazy creation of the head row.
    _thread_writers(db, threads=6, per_thread=25)
    _assert_gap_free_valid_chain(db, 150)


def _start_writer_processes(
    db: AuditDB, processes: int, per_process: int, barrier: Path
) -> list[subprocess.Popen[str]]:
    """`barrier`: an empty directory the processes meet in (see tests/audit/writer_process.py)."""
    args = [db.url, db.prefix, str(per_process), str(barrier), str(processes)]
    cmd = [sys.executable, "-m", "tests.audit.writer_process", *args]
    return [
        subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]


def _wait(procs: list[subprocess.Popen[str]]) -> None:
    spans = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        spans.append(json.loads(out.splitlines()[-1]))
    # The writers' append periods overlapped, so they really did contend.
    assert max(s["start"] for s in spans) < min(s["end"] for s in spans), spans


def _process_writers(db: AuditDB, processes: int, per_process: int, barrier: Path) -> None:
    _wait(_start_writer_processes(db, processes, per_process, barrier))


def test_concurrent_processes_keep_the_chain_linear_on_postgresql(pg_db: AuditDB, tmp_path: Path) -> None:
    _process_writers(pg_db, processes=4, per_process=40, barrier=tmp_path)
    _assert_gap_free_valid_chain(pg_db, 160)


def test_concurrent_processes_on_sqlite(sqlite_db: AuditDB, tmp_path: Path) -> None:
    _process_writers(sqlite_db, processes=3, per_process=20, barrier=tmp_path)
    _assert_gap_free_valid_chain(sqlite_db, 60)


def test_verify_while_writers_are_appending(db: AuditDB) -> None:
    """Rows committed during verification are legitimate and must not read as a truncated tail."""
    with db.engine.begin() as conn:
        for i in range(50):
            append(conn, sample_record(i), db.keys, db.tables)
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            i = 0
            while not stop.is_set():
                with db.engine.begin() as conn:
                    append(conn, sample_record(i), db.keys, db.tables)
                i += 1
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(10):
            with db.engine.connect() as conn:
                verdict = verify_chain(conn, db.keys, db.tables)
                conn.rollback()  # end SQLite's BEGIN IMMEDIATE promptly so the writer proceeds
            assert verdict.ok, verdict.problems
    finally:
        stop.set()
        thread.join()
    assert not errors, errors


def _open_lanes(db: AuditDB, lanes: int) -> None:
    with db.engine.begin() as conn:
        ensure_chain_heads(conn, db.keys, db.tables, lanes=lanes)


def test_lanes_let_postgresql_writers_commit_in_parallel(pg_db: AuditDB, tmp_path: Path) -> None:
    _open_lanes(pg_db, 4)
    _process_writers(pg_db, processes=4, per_process=40, barrier=tmp_path)
    _thread_writers(pg_db, threads=3, per_thread=20)
    counts = _assert_gap_free_valid_chain(pg_db, 220, lanes=4)
    assert len(counts) > 1, counts  # concurrent writers really did spread over lanes


def _append_outside_lane_0(db: AuditDB, count: int) -> None:
    """While another connection holds lane 0's head, appends take the next free lane (1)."""
    head = db.tables.head
    with db.engine.connect() as holder:
        holder.execute(select(head.c.lane).where(head.c.lane == 0).with_for_update()).one()
        for i in range(count):
            with db.engine.begin() as conn:
                assert append(conn, sample_record(900 + i), db.keys, db.tables).lane == 1
        holder.rollback()


def test_an_edit_in_another_lane_is_named_by_lane_and_position(pg_db: AuditDB) -> None:
    _open_lanes(pg_db, 3)
    # Placed first, on a process that remembers no lane yet: a remembered lane 0 would wait for
    # the holder. Racing threads alone may leave every lane but 0 with under two records.
    _append_outside_lane_0(pg_db, 3)
    _thread_writers(pg_db, threads=3, per_thread=15)
    events = pg_db.tables.events
    with pg_db.engine.begin() as conn:
        victim = conn.execute(
            select(events.c.seq).where(events.c.lane == 1, events.c.position == 2)
        ).scalar_one()
        conn.execute(update(events).where(events.c.seq == victim).values(outcome=8))
    with pg_db.engine.connect() as conn:
        verdict = verify_chain(conn, pg_db.keys, pg_db.tables, lanes=3)
    assert verdict.first_bad is not None
    assert (verdict.first_bad.lane, verdict.first_bad.position, verdict.first_bad.seq) == (1, 2, victim)


def test_a_lane_deleted_wholesale_is_caught_when_the_lane_count_is_known(db: AuditDB) -> None:
    _open_lanes(db, 3)
    with db.engine.begin() as conn:
        for i in range(5):
            assert append(conn, sample_record(i), db.keys, db.tables).lane == 0  # no contention: lowest lane
    with db.engine.begin() as conn:
        conn.execute(delete(db.tables.head).where(db.tables.head.c.lane == 2))
    with db.engine.connect() as conn:
        assert verify_chain(conn, db.keys, db.tables, lanes=3).reason == "chain head of lane 2 is missing"
        assert verify_chain(conn, db.keys, db.tables, lanes=2).ok
