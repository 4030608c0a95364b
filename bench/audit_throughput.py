"""Audited vs unaudited write throughput of the gateway (not a test): the benchmark of issue #6.

The writes are the service's own: FHIR creates over loopback HTTP against real server processes,
with auditing (encryption, chaining, search-index MACs, the append in the data's transaction)
and with the append patched out; on SQLite and PostgreSQL; one client, 8 concurrent clients, and
8 clients spread over 2 server processes writing the same database at once (replicas; on
PostgreSQL they append to the chain's lanes concurrently); a minimal Patient and a hemoglobin
Observation.

    .venv/bin/python bench/audit_throughput.py [--requests 300] [--rounds 9] [--no-pg]
        [--resource Patient|Observation|both]

Auditing cannot be switched off in the product; the "off" server is `bench.unaudited_server`,
the same CLI with the append replaced by a no-op, so the difference is exactly the audit work in
the request path.

Both servers run at once, each on its own database, and are driven in turn: a round is one burst
of creates against each (in alternating order), seconds apart. This machine's speed drifts by
tens of percent over minutes (other tenants, CPU frequency), which swamped the audit's share when
each configuration had its own server minutes apart; paired bursts see the same machine. Per
round: cost = 1 - on/off requests/s, and the servers' own CPU per request (from /proc, the
server process and its workers), which bounds what one process can serve. Printed: the median
over rounds and its interquartile range.

The audit append alone against the barest possible write (one encrypted row, no search index,
no HTTP) is measured by bench/audit_storage_floor.py; its share is larger because that write
does almost nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.analyze_latency import QUIET, cpu_seconds
from bench.lean_http import LeanConnection
from tests.conftest import TEST_SECRET, make_token
from tests.fhir_gateway.conftest import live_gateway
from tests.live_server import LiveServer

PATIENT = {"resourceType": "Patient", "gender": "female", "birthDate": "1990-01-01"}
# The gateway's everyday clinical write: one CBC value of a patient, as an EHR interface posts it.
HEMOGLOBIN = {
    "resourceType": "Observation",
    "status": "final",
    "category": [
        {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}
            ]
        }
    ],
    "code": {
        "coding": [
            {"system": "http://loinc.org", "code": "718-7", "display": "Hemoglobin [Mass/volume] in Blood"}
        ]
    },
    "subject": {"reference": "Patient/bench-patient-1"},
    "effectiveDateTime": "2026-11-27T08:30:00Z",
    "valueQuantity": {"value": 10.9, "unit": "g/dL", "system": "http://unitsofmeasure.org", "code": "g/dL"},
    "interpretation": [
        {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "L"}
            ]
        }
    ],
    "referenceRange": [
        {
            "low": {"value": 12.0, "unit": "g/dL", "system": "http://unitsofmeasure.org", "code": "g/dL"},
            "high": {"value": 15.5, "unit": "g/dL", "system": "http://unitsofmeasure.org", "code": "g/dL"},
        }
    ],
}
BODIES = {"Patient": PATIENT, "Observation": HEMOGLOBIN}
WARM_UP = 50
UNAUDITED = "bench.unaudited_server"


# (server processes, concurrent clients): one writer; many through one process; many through two
# processes writing the same database at once, as replicas behind a balancer would.
SETUPS = ((1, 1), (1, 8), (2, 8))


@dataclass(frozen=True)
class Cluster:
    """Server processes sharing one database (and keyring), as replicas behind a balancer."""

    base_urls: tuple[str, ...]
    pids: tuple[int, ...]
    token: str


@contextmanager
def cluster(
    backend: str, data_dir: Path, pg_url: str, processes: int, module: str = "fhir_gateway.cli"
) -> Iterator[Cluster]:
    """The first server creates the database; the others join it with the same keyring file.
    Separate processes on separate ports, so the benchmark, not the kernel's accept order,
    decides which process serves which client."""
    with live_gateway(backend, data_dir, pg_url, extra_env=QUIET, module=module) as (first, settings):
        keyring = str(data_dir / "keyring.json")
        env = {**QUIET, "GATEWAY_JWT_SECRET": TEST_SECRET, "GATEWAY_KEYRING_FILE": keyring}
        others = [
            LiveServer.start(data_dir / f"replica{i}", settings.resolved_database_url, env, module=module)
            for i in range(1, processes)
        ]
        try:
            servers = [first, *others]
            token = make_token(settings, "system")
            yield Cluster(tuple(s.base_url for s in servers), tuple(s.proc.pid for s in servers), token)
        finally:
            for server in others:
                server.stop()


async def drive(servers: Cluster, n: int, clients: int, resource: str = "Patient") -> tuple[float, float]:
    """(requests/s, server CPU ms per request) for n creates of `resource` from `clients`
    concurrent clients, each on its own keep-alive connection to one of the servers in turn,
    with a pre-encoded request (bench/lean_http.py)."""
    headers = {"Authorization": f"Bearer {servers.token}", "Content-Type": "application/fhir+json"}
    urls = servers.base_urls
    connections = [await LeanConnection.open(urls[i % len(urls)]) for i in range(clients)]
    request = connections[0].request_bytes(
        "POST", f"/fhir/{resource}", headers, orjson.dumps(BODIES[resource])
    )
    todo = iter(range(n))

    async def worker(conn: LeanConnection) -> None:
        for _ in todo:
            status, body = await conn.send(request)
            assert status == 201, body[:300]

    def cpu() -> float:
        return sum(cpu_seconds(pid) for pid in servers.pids)

    t0, cpu0 = time.perf_counter(), cpu()
    await asyncio.gather(*(worker(c) for c in connections))
    result = n / (time.perf_counter() - t0), (cpu() - cpu0) / n * 1000
    for conn in connections:
        await conn.close()
    return result


async def stored_total(base_url: str, token: str, resource: str) -> int:
    async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        return (await client.get(f"/fhir/{resource}", params={"_count": "0"})).json()["total"]


@dataclass
class Pairs:
    """Per round, for one client count: (off, on) requests/s and server CPU ms per request."""

    rate: list[tuple[float, float]] = field(default_factory=list)
    cpu: list[tuple[float, float]] = field(default_factory=list)

    def cost(self) -> list[float]:
        return [1 - on / off for off, on in self.rate]

    def cpu_cost(self) -> list[float]:
        return [on / off - 1 for off, on in self.cpu]


def measure(
    backend: str, pg_url: str, resource: str, n: int, clients: list[int], rounds: int, processes: int = 1
) -> dict[int, Pairs]:
    results = {c: Pairs() for c in clients}
    with (
        tempfile.TemporaryDirectory() as tmp,
        cluster(backend, Path(tmp) / "off", pg_url, processes, module=UNAUDITED) as off,
        cluster(backend, Path(tmp) / "on", pg_url, processes) as on,
    ):
        servers = (off, on)
        for server in servers:
            asyncio.run(drive(server, WARM_UP, 1, resource))
        for r in range(rounds):
            for c in clients:
                order = (0, 1) if r % 2 == 0 else (1, 0)  # neither always goes first
                figures = {i: asyncio.run(drive(servers[i], n, c, resource)) for i in order}
                results[c].rate.append((figures[0][0], figures[1][0]))
                results[c].cpu.append((figures[0][1], figures[1][1]))
        expected = WARM_UP + n * len(clients) * rounds
        for server in servers:
            stored = asyncio.run(stored_total(server.base_urls[0], server.token, resource))
            assert stored == expected, f"{stored} of {expected} creates were stored"  # "off" writes data too
    return results


def quartiles(values: list[float]) -> tuple[float, float, float]:
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=300, help="creates per burst")
    ap.add_argument("--rounds", type=int, default=9, help="paired bursts per client count")
    ap.add_argument("--resource", choices=[*BODIES, "both"], default="both", help="what is created")
    ap.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    resources = list(BODIES) if args.resource == "both" else [args.resource]
    print(
        f"FHIR creates, audit off and on, {args.rounds} paired rounds of {args.requests} creates; "
        f"median over rounds [interquartile range]; {os.cpu_count()} CPUs"
    )
    print(
        f"{'created':<12}{'database':<11}{'servers':>8}{'clients':>8}{'off req/s':>10}{'on req/s':>10}"
        f"{'cost':>8}{'cost IQR':>16}{'CPU ms off':>12}{'CPU ms on':>11}{'CPU cost':>10}{'CPU cost IQR':>16}"
    )
    for resource in resources:
        for backend in ["sqlite", *([] if args.no_pg else ["postgresql"])]:
            for processes in sorted({p for p, _ in SETUPS}):
                clients = [c for p, c in SETUPS if p == processes]
                results = measure(
                    backend, args.pg_url, resource, args.requests, clients, args.rounds, processes
                )
                for c, pairs in results.items():
                    print(f"{resource:<12}{backend:<11}{processes:>8}{c:>8}{row(pairs)}", flush=True)


def row(pairs: Pairs) -> str:
    off_rate = statistics.median(off for off, _ in pairs.rate)
    on_rate = statistics.median(on for _, on in pairs.rate)
    off_cpu = statistics.median(off for off, _ in pairs.cpu)
    on_cpu = statistics.median(on for _, on in pairs.cpu)
    q1, cost, q3 = quartiles(pairs.cost())
    c1, cpu_cost, c3 = quartiles(pairs.cpu_cost())
    iqr, cpu_iqr = f"[{q1:.1%}, {q3:.1%}]", f"[{c1:.1%}, {c3:.1%}]"
    return (
        f"{off_rate:>10.1f}{on_rate:>10.1f}{cost:>8.1%}{iqr:>16}"
        f"{off_cpu:>12.2f}{on_cpu:>11.2f}{cpu_cost:>10.1%}{cpu_iqr:>16}"
    )


if __name__ == "__main__":
    main()
