"""What auditing costs the service itself (not a test): FHIR creates against a real server
process (one worker, over loopback HTTP), audited and with the audit append patched out, on
SQLite and PostgreSQL, one client and 8 concurrent clients.

    .venv/bin/python bench/audit_service_overhead.py [--requests 600] [--repeat 3] [--no-pg]

Auditing cannot be switched off in the product; the "off" server is `bench.unaudited_server`,
the same CLI with the append replaced by a no-op, so the difference is exactly the audit work in
the request path. Two figures per configuration, medians over alternating off/on servers:
requests/s, and the server process's own CPU per request (from /proc), which bounds what one
worker can serve and moves far less than throughput when other work shares the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.analyze_latency import QUIET, cpu_seconds
from bench.lean_http import LeanConnection
from tests.conftest import make_token
from tests.fhir_gateway.conftest import live_gateway

PATIENT = {"resourceType": "Patient", "gender": "female", "birthDate": "1990-01-01"}
WARM_UP = 50


async def drive(base_url: str, token: str, pid: int, n: int, clients: int) -> tuple[float, float]:
    """(requests/s, server CPU ms per request) for n creates from `clients` concurrent clients,
    each on its own keep-alive connection with a pre-encoded request (bench/lean_http.py)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
    connections = [await LeanConnection.open(base_url) for _ in range(clients)]
    request = connections[0].request_bytes("POST", "/fhir/Patient", headers, orjson.dumps(PATIENT))
    todo = iter(range(n))

    async def worker(conn: LeanConnection) -> None:
        for _ in todo:
            status, body = await conn.send(request)
            assert status == 201, body[:300]

    t0, cpu0 = time.perf_counter(), cpu_seconds(pid)
    await asyncio.gather(*(worker(c) for c in connections))
    result = n / (time.perf_counter() - t0), (cpu_seconds(pid) - cpu0) / n * 1000
    for conn in connections:
        await conn.close()
    return result


Figures = dict[int, tuple[float, float]]  # clients -> (requests/s, server CPU ms per request)


async def session(base_url: str, token: str, pid: int, n: int, clients: list[int]) -> Figures:
    await drive(base_url, token, pid, WARM_UP, 1)
    results = {c: await drive(base_url, token, pid, n, c) for c in clients}
    async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        stored = (await client.get("/fhir/Patient", params={"_count": "0"})).json()["total"]
    expected = WARM_UP + n * len(clients)
    assert stored == expected, f"{stored} of {expected} creates were stored"  # "off" writes data too
    return results


def measure(backend: str, pg_url: str, n: int, clients: list[int], audited: bool) -> Figures:
    module = "fhir_gateway.cli" if audited else "bench.unaudited_server"
    with (
        tempfile.TemporaryDirectory() as tmp,
        live_gateway(backend, Path(tmp) / "var", pg_url, extra_env=QUIET, module=module) as live,
    ):
        server, settings = live
        token = make_token(settings, "system")
        return asyncio.run(session(server.base_url, token, server.proc.pid, n, clients))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=600)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    clients = [1, 8]
    print(
        f"FHIR creates against one server worker, median of {args.repeat} alternating off/on servers; "
        f"{args.requests} requests per figure"
    )
    print(
        f"{'database':<11}{'clients':>8}{'audit off':>11}{'audit on':>10}{'cost':>8}"
        f"{'CPU ms off':>12}{'CPU ms on':>11}{'CPU cost':>10}"
    )
    for backend in ["sqlite", *([] if args.no_pg else ["postgresql"])]:
        runs: dict[bool, list[Figures]] = {False: [], True: []}
        for _ in range(args.repeat):
            for audited in (False, True):  # alternating, so a change in machine load hits both alike
                runs[audited].append(measure(backend, args.pg_url, args.requests, clients, audited))
        for c in clients:
            rate = {a: statistics.median(r[c][0] for r in runs[a]) for a in runs}
            cpu = {a: statistics.median(r[c][1] for r in runs[a]) for a in runs}
            cost, cpu_cost = 1 - rate[True] / rate[False], cpu[True] / cpu[False] - 1
            # Every run's CPU ms, off | on: the spread between identical runs is part of the result.
            spread = " ".join(f"{r[c][1]:.2f}" for r in runs[False]) + " | "
            spread += " ".join(f"{r[c][1]:.2f}" for r in runs[True])
            print(
                f"{backend:<11}{c:>8}{rate[False]:>11.1f}{rate[True]:>10.1f}{cost:>8.1%}"
                f"{cpu[False]:>12.2f}{cpu[True]:>11.2f}{cpu_cost:>10.1%}   runs {spread}"
            )


if __name__ == "__main__":
    main()
