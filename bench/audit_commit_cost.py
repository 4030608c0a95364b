"""How much of the audit's cost per FHIR create is the commit's (not a test): in-process creates,
audit off and on, with the service's durable commit and with the database told not to wait for
the disk, plus the median time of the COMMIT itself.

    .venv/bin/python bench/audit_commit_cost.py [--creates 400] [--rounds 7] [--resource Patient] [--no-pg]

The audit's pages (event row, its index entries, the chain head) go into the same commit as the
data, so that commit writes and syncs more. The relaxed setting (SQLite `synchronous=NORMAL`,
PostgreSQL `synchronous_commit=off`) is not one the service uses: an audit trail must survive a
crash with the change it records. It is here only to show which part of the cost is the sync.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # runnable as a plain script from anywhere
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bench.inprocess_creates import (  # noqa: E402
    InProcessCreates,
    add_timing_arguments,
    backends,
    two_empty_databases,
)

WARM_UP = 300
WAL_HEADER, FRAME_HEADER = 32, 24  # bytes, from SQLite's WAL file format
SQLITE_SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
RELAXED = {"sqlite": "PRAGMA synchronous=NORMAL", "postgresql": "SET synchronous_commit = off"}


class TimedCommits:
    """Creates on one database, recording how long each COMMIT takes."""

    def __init__(self, url: str | None, resource: str, relaxed: bool) -> None:
        self.creator = InProcessCreates(url, resource)
        engine = self.creator.runtime.engine
        engine.dispose()  # new connections only from here on, so every one gets the setting
        if relaxed:
            event.listen(engine, "connect", _relax)
        self.commits: list[float] = []
        dialect = engine.dialect
        commit = dialect.do_commit

        def timed(dbapi_connection: Any) -> None:
            started = time.perf_counter()
            commit(dbapi_connection)
            self.commits.append(time.perf_counter() - started)

        dialect.do_commit = timed  # type: ignore[method-assign]

    def run(self, audited: bool, creates: int) -> tuple[float, float]:
        """(µs per create, median µs per commit)."""
        self.commits.clear()
        started = time.perf_counter()
        for _ in range(creates):
            self.creator.one(audited)
        per_create = (time.perf_counter() - started) / creates * 1e6
        return per_create, statistics.median(self.commits) * 1e6

    def setting(self) -> str:
        """The setting as the database reports it, so a relaxed run cannot silently be durable."""
        with self.creator.runtime.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                level = conn.exec_driver_sql("PRAGMA synchronous").scalar()
                return f"synchronous={ {1: 'NORMAL', 2: 'FULL', 3: 'EXTRA'}.get(int(level or 0), level) }"
            return f"synchronous_commit={conn.exec_driver_sql('SHOW synchronous_commit').scalar()}"

    def close(self) -> None:
        self.creator.close()


def _relax(dbapi_connection: Any, _record: Any) -> None:
    module = type(dbapi_connection).__module__
    statement = RELAXED["sqlite" if module.startswith("sqlite3") else "postgresql"]
    cursor = dbapi_connection.cursor()
    cursor.execute(statement)
    cursor.close()
    if not module.startswith("sqlite3"):
        dbapi_connection.commit()  # psycopg opened a transaction for the SET


def measure(urls: tuple[str | None, str | None], resource: str, creates: int, rounds: int) -> None:
    """`urls`: two empty databases (None: a temporary SQLite file each), durable and relaxed."""
    setups = {
        "durable": TimedCommits(urls[0], resource, False),
        "relaxed": TimedCommits(urls[1], resource, True),
    }
    try:
        for setup in setups.values():
            for i in range(WARM_UP):
                setup.creator.one(i % 2 == 0)
        samples: dict[tuple[str, bool], list[tuple[float, float]]] = {
            (name, audited): [] for name in setups for audited in (False, True)
        }
        for _ in range(rounds):  # interleaved, so drift hits every variant alike
            for name, setup in setups.items():
                for audited in (False, True):
                    samples[(name, audited)].append(setup.run(audited, creates))
        for name in setups:
            off = [statistics.median(x) for x in zip(*samples[(name, False)], strict=True)]
            on = [statistics.median(x) for x in zip(*samples[(name, True)], strict=True)]
            adds = on[0] - off[0]
            print(
                f"  {name:<8} ({setups[name].setting()})\n"
                f"  {'':<8} create off {off[0]:7.1f} on {on[0]:7.1f} audit adds {adds:6.1f} "
                f"({adds / on[0]:.1%})   commit off {off[1]:6.1f} on {on[1]:6.1f} (+{on[1] - off[1]:.1f})"
            )
    finally:
        for setup in setups.values():
            setup.close()


def wal_frames_per_create(resource: str, creates: int = 200) -> dict[bool, float]:
    """SQLite: 4 KB WAL frames written per create, audit off and on (pages each commit dirtied).
    Automatic checkpoints are off meanwhile, so the WAL only grows; a separate database from the
    timed ones, since that setting would change their timings."""
    creator = InProcessCreates(None, resource)
    try:
        engine = creator.runtime.engine
        engine.dispose()
        event.listen(
            engine,
            "connect",
            lambda dbapi_connection, _r: dbapi_connection.execute("PRAGMA wal_autocheckpoint=0"),
        )
        database = creator.data_dir / "bench.db"
        wal = Path(f"{database}-wal")
        for i in range(WARM_UP):
            creator.one(i % 2 == 0)
        with closing(sqlite3.connect(database)) as raw:
            page_size = raw.execute("PRAGMA page_size").fetchone()[0]
        frames: dict[bool, float] = {}
        for audited in (False, True):
            with closing(sqlite3.connect(database, isolation_level=None)) as raw:  # autocommit: no open read
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            for _ in range(creates):
                creator.one(audited)
            frames[audited] = (wal.stat().st_size - WAL_HEADER) / (page_size + FRAME_HEADER) / creates
        return frames
    finally:
        creator.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_timing_arguments(ap, creates=400, rounds=7)
    args = ap.parse_args()

    print(f"{args.resource} creates in-process, µs, medians of {args.rounds} rounds of {args.creates}")
    print(f"relaxed = {RELAXED} (not the service's setting)")
    for backend, server_url in backends(args):
        print(backend)
        with two_empty_databases(server_url) as urls:
            measure(urls, args.resource, args.creates, args.rounds)
        if backend == "sqlite":
            frames = wal_frames_per_create(args.resource)
            print(f"  WAL frames per create: off {frames[False]:.1f}, on {frames[True]:.1f}")


if __name__ == "__main__":
    main()
