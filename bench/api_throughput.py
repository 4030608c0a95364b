"""API throughput benchmark (not a test): creates, reads and searches from concurrent clients.

Starts the real server (`fhir-gateway serve`) on loopback for each database, then prints
requests/s and p50/p99 latency per kind.

    .venv/bin/python bench/api_throughput.py [--requests 400] [--concurrency 8] [--workers 1]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--no-pg]
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import make_token
from tests.fhir_gateway.conftest import live_gateway

QUIET = {"GATEWAY_LOG_LEVEL": "WARNING"}


def observation(pid: str, i: int) -> dict:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "718-7"}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": f"2024-01-{1 + i % 28:02d}T10:00:00Z",
        "valueQuantity": {
            "value": 10 + (i % 50) / 10,
            "unit": "g/dL",
            "system": "http://unitsofmeasure.org",
            "code": "g/dL",
        },
    }


async def run_kind(name: str, n: int, concurrency: int, make_request) -> dict:  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)

    async def worker() -> None:
        nonlocal errors
        while not queue.empty():
            i = queue.get_nowait()
            t0 = time.perf_counter()
            r = await make_request(i)
            latencies.append(time.perf_counter() - t0)
            errors += r.status_code >= 400

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - t0
    lat = sorted(latencies)
    return {
        "kind": name,
        "n": n,
        "rps": n / wall,
        "p50_ms": statistics.median(lat) * 1000,
        "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000,
        "errors": errors,
    }


async def bench_server(base: str, token: str, n: int, concurrency: int) -> list[dict]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
    limits = httpx.Limits(max_connections=concurrency * 2)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as client:
        pids = [
            (await client.post("/fhir/Patient", json={"resourceType": "Patient", "gender": "female"})).json()[
                "id"
            ]
            for _ in range(10)
        ]
        created: list[str] = []

        async def create(i: int) -> httpx.Response:
            r = await client.post("/fhir/Observation", json=observation(pids[i % 10], i))
            if r.status_code == 201:
                created.append(r.json()["id"])
            return r

        results = [await run_kind("create", n, concurrency, create)]

        async def read(i: int) -> httpx.Response:
            return await client.get(f"/fhir/Observation/{created[i % len(created)]}")

        results.append(await run_kind("read", n, concurrency, read))

        async def search(i: int) -> httpx.Response:
            return await client.get(
                f"/fhir/Observation?patient={pids[i % 10]}&code=http://loinc.org|718-7&date=ge2024-01-10&_count=20"
            )

        results.append(await run_kind("search", n, concurrency, search))
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=400, help="requests per kind")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--workers", type=int, default=1, help="server worker processes")
    ap.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()

    backends = [("sqlite", None)] + ([] if args.no_pg else [("postgresql", args.pg_url)])
    print(f"requests/kind={args.requests} concurrency={args.concurrency} workers={args.workers}")
    print(f"{'database':<11}{'kind':<8}{'n':>6}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for backend, pg_url in backends:
        with (
            tempfile.TemporaryDirectory() as tmp,
            live_gateway(backend, Path(tmp) / "var", pg_url, workers=args.workers, extra_env=QUIET) as (
                server,
                settings,
            ),
        ):
            token = make_token(settings, "system")
            for row in asyncio.run(bench_server(server.base_url, token, args.requests, args.concurrency)):
                print(
                    f"{backend:<11}{row['kind']:<8}{row['n']:>6}{row['rps']:>9.1f}{row['p50_ms']:>9.1f}"
                    f"{row['p99_ms']:>9.1f}{row['errors']:>8}"
                )


if __name__ == "__main__":
    main()
