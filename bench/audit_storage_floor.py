"""The audit append alone, against the barest write (not a test): a floor, not the service.

Each "write" is one transaction: insert one row whose body is AES-GCM ciphertext of a ~1.5 KB
FHIR JSON document, with no search index, no validation and no HTTP. The audited variant also
appends one audit record (encrypt + chain under the head lock) in the same transaction, just
before commit. The share is therefore the append's cost against almost nothing; what auditing
costs the gateway's real writes is bench/audit_throughput.py. Concurrent writers are separate
OS processes, as gateway replicas would be.

    .venv/bin/python bench/audit_storage_floor.py                       # SQLite temp file only
    .venv/bin/python bench/audit_storage_floor.py \\
        --database-url sqlite:///var/bench.db \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test --writes 2000 --writers 1,4

Tables get a random `bench_<hex>_` prefix and are dropped afterwards (unless --keep).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
)
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # runnable as a plain script from anywhere
    sys.path.insert(0, str(ROOT))

from audit import (  # noqa: E402
    AuditKeys,
    AuditRecord,
    AuditTables,
    Companion,
    Interaction,
    append,
    define_audit_tables,
    ensure_chain_heads,
)
from audit.verify import verify_chain  # noqa: E402
from tests.audit.support import make_engine  # noqa: E402  (configured like the service)

KEYS_ENV = "AUDIT_BENCH_KEYS"  # keys reach workers through the environment, never argv (ps shows argv)
BODY = json.dumps({"resourceType": "Observation", "status": "final", "note": "x" * 1400}).encode()


def define_tables(prefix: str, lanes: list[int]) -> tuple[MetaData, Table, dict[int, AuditTables]]:
    """The resource table, plus one set of audit tables per lane count (lanes are never removed,
    so each configuration needs its own chain)."""
    metadata = MetaData()
    resources = Table(
        f"{prefix}resource",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("resource_type", String(64), nullable=False),
        Column("nonce", LargeBinary(12), nullable=False),
        Column("body", LargeBinary, nullable=False),
    )
    audits = {n: define_audit_tables(metadata, f"{prefix}a{n}_") for n in lanes}
    return metadata, resources, audits


def keys_to_env(keys: AuditKeys) -> str:
    return json.dumps({"enc": keys.current_key.hex(), "mac": keys.mac_key.hex(), "idx": keys.index_key.hex()})


def keys_from_env() -> AuditKeys:
    raw = json.loads(os.environ[KEYS_ENV])
    return AuditKeys({1: bytes.fromhex(raw["enc"])}, 1, bytes.fromhex(raw["mac"]), bytes.fromhex(raw["idx"]))


def run_worker(
    url: str, prefix: str, lanes: int, writes: int, start_at: float, worker: int
) -> dict[str, float]:
    """One writer: `writes` transactions, audited into the `lanes` chain unless lanes == 0.

    Waits for `start_at` so concurrent workers overlap.
    """
    engine = make_engine(url)
    _, resources, audits = define_tables(prefix, [lanes] if lanes else [])
    keys = keys_from_env()
    cipher = AESGCM(keys.current_key)
    with engine.connect():  # open the pooled connection before the clock starts
        pass
    time.sleep(max(0.0, start_at - time.time()))
    insert_row = resources.insert()  # built once, values as parameters, as the service does
    insert_cte = (
        resources.insert()
        .values({c: bindparam(c, type_=resources.c[c].type) for c in ("resource_type", "nonce", "body")})
        .cte("data_row")
    )
    started, cpu_started = time.time(), time.process_time()
    for i in range(writes):
        nonce = os.urandom(12)
        with engine.begin() as conn:
            body = cipher.encrypt(nonce, BODY, None)
            row = {"resource_type": "Observation", "nonce": nonce, "body": body}
            if not lanes:
                conn.execute(insert_row, row)
                continue
            record = AuditRecord.from_http(
                Interaction.CREATE,
                201,
                agent_sub=f"bench-user-{worker}",
                agent_role="lab",
                client_id="bench",
                source_address="10.0.0.1",
                request_id=f"{worker}-{i}",
                resource_type="Observation",
                resource_id=str(i),
                patient=f"Patient/{i % 97}",
            )
            if conn.dialect.name == "postgresql":
                # As in the service: the row rides in the append's statement (a data-modifying CTE).
                append(conn, record, keys, audits[lanes], Companion((insert_cte,), row))
            else:
                conn.execute(insert_row, row)
                append(conn, record, keys, audits[lanes])  # last statement before commit
    ended, cpu = time.time(), time.process_time() - cpu_started
    engine.dispose()
    return {"start": started, "end": ended, "writes": writes, "cpu": cpu}


def measure(
    url: str, prefix: str, lanes: int, writers: int, writes: int, keys_env: str
) -> tuple[float, float]:
    """(writes/s, client CPU µs per write) of `writers` worker processes sharing `writes` transactions.

    Client CPU excludes the database server's; it is the gateway-side cost and, unlike
    wall-clock throughput, barely moves when other work shares the machine.
    """
    per_worker = max(1, writes // writers)
    start_at = time.time() + 1.5  # time for the workers to import and connect
    env = {**os.environ, KEYS_ENV: keys_env}
    args = [sys.executable, __file__, "_worker", url, prefix, str(lanes), str(per_worker), str(start_at)]
    procs = [
        subprocess.Popen([*args, str(w)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for w in range(writers)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"worker failed:\n{err}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    seconds = max(r["end"] for r in results) - min(r["start"] for r in results)
    total = per_worker * writers
    return total / seconds, sum(r["cpu"] for r in results) / total * 1e6


def bench_backend(
    url: str, writes: int, writer_counts: list[int], lane_counts: list[int], repeat: int, keep: bool
) -> None:
    backend = make_url(url).get_backend_name()
    if backend != "postgresql":
        lane_counts = [1]  # SQLite serialises writers itself and always appends to the lowest lane
    prefix = f"bench_{secrets.token_hex(4)}_"
    engine = make_engine(url)
    metadata, _, audits = define_tables(prefix, lane_counts)
    metadata.create_all(engine)
    keys = AuditKeys.generate()
    with engine.begin() as conn:
        for lanes, tables in audits.items():
            ensure_chain_heads(conn, keys, tables, lanes=lanes)
    keys_env = keys_to_env(keys)
    try:
        for lanes in [0, *lane_counts]:  # warm-up: first-run costs (file growth, caches) unmeasured
            measure(url, prefix, lanes, 1, 50, keys_env)
        for writers in writer_counts:
            rates: dict[int, list[float]] = {lanes: [] for lanes in [0, *lane_counts]}
            cpu: dict[int, list[float]] = {lanes: [] for lanes in rates}
            for _ in range(repeat):
                for lanes in rates:  # interleaved, so drift (checkpoints, autovacuum) hits every mode
                    rate, cpu_per_write = measure(url, prefix, lanes, writers, writes, keys_env)
                    rates[lanes].append(rate)
                    cpu[lanes].append(cpu_per_write)
            plain = statistics.median(rates[0])
            for lanes in lane_counts:
                audited = statistics.median(rates[lanes])
                overhead = (1 - audited / plain) * 100
                cpu_cells = f"{statistics.median(cpu[0]):>9.0f} {statistics.median(cpu[lanes]):>8.0f}"
                runs = f"runs plain {_runs(rates[0])} | audited {_runs(rates[lanes])}"
                cells = f"{backend:<11} {writers:>7} {lanes:>5} {plain:>10.0f} {audited:>12.0f}"
                print(f"{cells} {overhead:>8.1f}% {cpu_cells}   {runs}", flush=True)
        for lanes, tables in audits.items():
            with engine.connect() as conn:
                started = time.perf_counter()
                verdict = verify_chain(conn, keys, tables, lanes=lanes)
                elapsed = time.perf_counter() - started
            print(
                f"{backend:<11} verify_chain, {lanes} lane(s): {verdict.count} records in {elapsed:.2f} s "
                f"= {verdict.count / elapsed:.0f} records/s (MAC + decrypt each), ok={verdict.ok}",
                flush=True,
            )
    finally:
        if not keep:
            metadata.drop_all(engine)
        engine.dispose()


def cpu_cost(records: int = 3000) -> None:
    """In-process CPU per audited write on in-memory SQLite: no disk, no network, so the figure
    isolates what auditing adds on the gateway (JSON, AES-GCM, 3 HMACs, 3 statements)."""
    engine = create_engine("sqlite://")
    metadata, resources, audits = define_tables("cpu_", [1])
    metadata.create_all(engine)
    keys = AuditKeys.generate()
    record = AuditRecord.from_http(
        Interaction.CREATE,
        201,
        agent_sub="u",
        agent_role="lab",
        client_id="c",
        source_address="10.0.0.1",
        request_id="r",
        resource_type="Observation",
        resource_id="1",
        patient="Patient/1",
    )
    costs: dict[bool, list[float]] = {False: [], True: []}
    with engine.begin() as conn:
        for audited in (False, True, False, True, False, True):
            started = time.process_time()
            for _ in range(records):
                conn.execute(
                    resources.insert().values(resource_type="Observation", nonce=b"n" * 12, body=BODY)
                )
                if audited:
                    append(conn, record, keys, audits[1])
            costs[audited].append((time.process_time() - started) / records * 1e6)
    plain, audited = min(costs[False]), min(costs[True])
    print(
        f"in-process CPU per write (in-memory SQLite, best of 3): plain {plain:.0f} µs, "
        f"audited {audited:.0f} µs -> auditing adds {audited - plain:.0f} µs CPU per write"
    )


def _runs(rates: list[float]) -> str:
    return ",".join(f"{r:.0f}" for r in rates)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_worker":
        url, prefix, lanes, writes, start_at, worker = argv[1:7]
        print(json.dumps(run_worker(url, prefix, int(lanes), int(writes), float(start_at), int(worker))))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", action="append", dest="urls", help="repeatable; default: temp SQLite"
    )
    parser.add_argument("--writes", type=int, default=1500, help="transactions per measurement (all writers)")
    parser.add_argument("--writers", default="1,4", help="comma-separated writer (process) counts")
    parser.add_argument("--lanes", default="1,8", help="comma-separated chain lane counts (PostgreSQL)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell; the median is reported")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark tables")
    args = parser.parse_args(argv)
    writer_counts = [int(w) for w in args.writers.split(",")]
    lane_counts = [int(n) for n in args.lanes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        urls = args.urls or [f"sqlite:///{tmp}/audit_bench.db"]
        print(
            f"audited vs plain writes/s: {args.writes} transactions per run, median of {args.repeat} runs, "
            f"{os.cpu_count()} CPUs; each transaction = 1 encrypted resource insert (+ 1 audit append)"
        )
        header = ["backend".ljust(11), "writers".rjust(7), "lanes".rjust(5), "plain w/s".rjust(10)]
        cpu_header = ["cpu:plain".rjust(9), "audited".rjust(8), " (client CPU µs per write)"]
        print(" ".join([*header, "audited w/s".rjust(12), "overhead".rjust(9), *cpu_header]))
        cpu_cost()
        for url in urls:
            bench_backend(url, args.writes, writer_counts, lane_counts, args.repeat, args.keep)


if __name__ == "__main__":
    main()
