"""Where the audit's cost per FHIR create goes (not a test): wall time per create in-process,
without HTTP, audit off and on, and two variants that take one part away.

    .venv/bin/python bench/audit_breakdown.py [--creates 500] [--rounds 9] [--resource Patient] [--no-pg]

- seal only: the record is built, encrypted and MACed, but not written (on PostgreSQL the data
  rows that ride in the append's statement are written by a statement of their own);
- no search indexes: a database without the audit table's four secondary indexes (time, agent,
  patient, entity), which the product needs for the auditor's searches.

So: sealing = seal only - off; the four indexes = on - on without them (each against its own
off); the rest = the append's statements, the chain head and the commit's extra pages. Rounds
interleave the variants, so drift hits all of them; medians are printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # runnable as a plain script from anywhere
    sys.path.insert(0, str(ROOT))

from sqlalchemy import Connection, literal_column, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from audit import AuditKeys, AuditRecord, AuditTables, Companion  # noqa: E402
from audit.chain import GENESIS_MAC, Place  # noqa: E402
from audit.writer import _sealed_row  # noqa: E402  (the step itself, not a copy)
from bench.inprocess_creates import (  # noqa: E402
    InProcessCreates,
    add_timing_arguments,
    backends,
    two_empty_databases,
)
from fhir_gateway import auditing  # noqa: E402

SEARCH_INDEXES = ("recorded_at", "agent", "patient", "entity")
WARM_UP = 200


def seal_only(
    bind: Connection | Session,
    record: AuditRecord,
    keys: AuditKeys,
    tables: AuditTables,
    companion: Companion | None = None,
) -> None:
    """What the append computes (the writer's own sealing step), without its statements."""
    _sealed_row(record, keys, Place(1, 0, 1), GENESIS_MAC)
    if companion is not None:  # the data rows would have ridden in the append's statement
        conn = bind.connection() if isinstance(bind, Session) else bind
        conn.execute(_standalone(companion.ctes), dict(companion.params))


@lru_cache(maxsize=8)
def _standalone(ctes: tuple[Any, ...]) -> Any:
    """Built once, as the service's own standalone flush is, so its cache key is computed once."""
    return select(literal_column("1")).add_cte(*ctes)


def drop_search_indexes(creator: InProcessCreates) -> None:
    events = "audit_event"
    with creator.runtime.engine.begin() as conn:
        for name in SEARCH_INDEXES:
            conn.execute(text(f"DROP INDEX ix_{events}_{name}"))


def per_create(creator: InProcessCreates, audited: bool, creates: int) -> float:
    started = time.perf_counter()
    for _ in range(creates):
        creator.one(audited)
    return (time.perf_counter() - started) / creates * 1e6


def measure(
    urls: tuple[str | None, str | None], creates: int, rounds: int, resource: str
) -> dict[str, float]:
    """`urls`: two empty databases (None: a temporary SQLite file each)."""
    full, bare = InProcessCreates(urls[0], resource), InProcessCreates(urls[1], resource)
    drop_search_indexes(bare)
    real_append = auditing.append

    def with_append(append: Callable[..., Any], creator: InProcessCreates, audited: bool) -> float:
        auditing.append = append
        try:
            return per_create(creator, audited, creates)
        finally:
            auditing.append = real_append

    variants: dict[str, Callable[[], float]] = {
        "off": lambda: per_create(full, False, creates),
        "on": lambda: per_create(full, True, creates),
        "seal only": lambda: with_append(seal_only, full, True),
        "off, no search indexes": lambda: per_create(bare, False, creates),
        "on, no search indexes": lambda: per_create(bare, True, creates),
    }
    try:
        for creator in (full, bare):
            for audited in (False, True) * (WARM_UP // 2):
                creator.one(audited)
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(rounds):
            for name, run in variants.items():
                times[name].append(run())
        return {name: statistics.median(values) for name, values in times.items()}
    finally:
        full.close()
        bare.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_timing_arguments(ap, creates=500, rounds=9)
    args = ap.parse_args()

    rounds = f"median of {args.rounds} rounds of {args.creates}"
    print(f"{args.resource} creates in-process, µs per create, {rounds}")
    for backend, server_url in backends(args):
        with two_empty_databases(server_url) as urls:
            t = measure(urls, args.creates, args.rounds, args.resource)
        audit = t["on"] - t["off"]
        sealing = t["seal only"] - t["off"]
        indexes = audit - (t["on, no search indexes"] - t["off, no search indexes"])
        print(
            f"{backend:<11} off {t['off']:7.1f}  on {t['on']:7.1f}  audit adds {audit:6.1f} "
            f"({audit / t['on']:.1%} of an audited create's time)"
        )
        rest = audit - sealing - indexes
        print(
            f"{'':<11} of which: sealing (record, JSON, AES-GCM, HMACs) {sealing:6.1f}, "
            f"the four search indexes {indexes:6.1f}, statements + chain head + commit {rest:6.1f}"
        )


if __name__ == "__main__":
    main()
