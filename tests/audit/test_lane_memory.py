"""The process's memory of the lane heads it left (audit.writer._LaneMemory and its registry).
Correctness never rests on it (a stale head only costs a fallback claim), but a memory that
handed out the same lane twice, kept a rolled-back head, or mixed two databases would send
every append down the slow path or make threads contend on one lane."""

from __future__ import annotations

import gc
import time

from sqlalchemy import MetaData, create_engine

from audit import define_audit_tables, writer
from audit.writer import _KnownLane, _lane_memory, _LaneMemory


def _known(lane: int, position: int = 1, age: float = 0.0) -> _KnownLane:
    return _KnownLane(lane, position, b"m" * 32, 10 * lane + position, time.monotonic() - age)


def test_least_recently_checked_in_lane_is_handed_out_first_and_only_once() -> None:
    memory = _LaneMemory()
    for lane in (3, 1, 2):
        memory.checkin(_known(lane))
    memory.checkin(_known(3, position=2))  # lane 3 again: replaces its entry, moves to the end
    assert [memory.checkout().lane for _ in range(3)] == [1, 2, 3]  # type: ignore[union-attr]
    assert memory.checkout() is None
    assert memory.avoided() == [1, 2, 3]  # all three checked out (busy)


def test_a_checked_in_head_replaces_the_older_one_of_its_lane() -> None:
    memory = _LaneMemory()
    memory.checkin(_known(0, position=1))
    memory.checkin(_known(0, position=2))
    known = memory.checkout()
    assert known is not None and known.position == 2
    assert memory.checkout() is None


def test_rolled_back_and_stale_heads_are_forgotten() -> None:
    memory = _LaneMemory()
    memory.checkin(_known(0))
    memory.checkin(_known(1, age=writer._SEQ_MAX_AGE_SECONDS + 1))
    memory.release(0)  # the transaction that wrote lane 0 rolled back
    assert memory.checkout() is None  # lane 1's sequence number is too old to use
    assert memory.avoided() == []


def test_a_failed_write_gives_the_lane_back() -> None:
    memory = _LaneMemory()
    memory.checkin(_known(5))
    assert memory.checkout() is not None and memory.avoided() == [5]
    memory.drop(5)
    assert memory.avoided() == []


def test_one_memory_per_engine_and_table_set_dropped_with_the_engine() -> None:
    engine, other = create_engine("sqlite://"), create_engine("sqlite://")
    tables, more = define_audit_tables(MetaData()), define_audit_tables(MetaData(), prefix="more_")
    memory = _lane_memory(engine, tables)
    assert _lane_memory(engine, tables) is memory
    assert _lane_memory(engine, more) is not memory
    assert _lane_memory(other, tables) is not memory
    key = id(engine)
    assert key in writer._MEMORY
    del engine, memory
    gc.collect()
    assert key not in writer._MEMORY  # its id may now be reused by a new engine
