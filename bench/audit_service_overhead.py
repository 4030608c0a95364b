"""What auditing costs the service itself (not a test): FHIR creates through the real app
(in-process ASGI, no network), with the audit append on and patched out, on SQLite and
PostgreSQL, one client and 8 concurrent clients.

    .venv/bin/python bench/audit_service_overhead.py [--requests 600] [--no-pg]

Auditing cannot be switched off in the product; the "off" runs replace the append with a no-op
in this process only, so the difference is exactly the audit work in the request path.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fhir_gateway import auditing, runtime
from fhir_gateway.app import create_app
from fhir_gateway.config import Settings
from fhir_gateway.security.tokens import mint_token
from tests.conftest import create_pg_database, drop_pg_database

SECRET = "bench-secret-" + "c" * 60
PATIENT = {"resourceType": "Patient", "gender": "female", "birthDate": "1990-01-01"}


async def run(settings: Settings, n: int, clients: int) -> tuple[float, float]:
    """(requests/s, CPU ms per request of this process: client and app together)."""
    app = create_app(settings)
    token = mint_token(settings, SECRET, sub="bench", role="system", scope="system/*.cruds")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", headers=headers) as client:
            await client.post("/fhir/Patient", json=PATIENT)
            todo = iter(range(n))

            async def worker() -> None:
                for _ in todo:
                    r = await client.post("/fhir/Patient", json=PATIENT)
                    assert r.status_code == 201, r.text

            t0, cpu0 = time.perf_counter(), time.process_time()
            await asyncio.gather(*(worker() for _ in range(clients)))
            rate = n / (time.perf_counter() - t0)
            cpu_ms = (time.process_time() - cpu0) / n * 1000
            stored = (await client.get("/fhir/Patient", params={"_count": "0"})).json()["total"]
            assert stored == n + 1, f"{stored} of {n + 1} creates were stored"  # "off" writes data too
            return rate, cpu_ms


def measure(url: str, n: int, clients: int, audited: bool) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            database_url=url or f"sqlite:///{tmp}/g.db",
            jwt_secret=SECRET,
            log_level="WARNING",
        )
        if audited:
            return asyncio.run(run(settings, n, clients))
        with (
            mock.patch.object(runtime, "append_success", lambda *a, **k: None),
            # The rows stay queued and the store inserts them at commit, as without an append.
            mock.patch.object(runtime, "take_pending_params", lambda session: None),
            mock.patch.object(auditing, "append", lambda *a, **k: None),
        ):
            return asyncio.run(run(settings, n, clients))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=600)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    print(
        f"FHIR create requests/s through the app, median of {args.repeat}; {args.requests} requests per run"
    )
    # CPU per request moves far less than throughput when other work shares a virtual machine.
    print(
        f"{'database':<11}{'clients':>8}{'audit off':>11}{'audit on':>10}{'cost':>8}"
        f"{'CPU ms off':>12}{'CPU ms on':>11}{'CPU cost':>10}"
    )
    for backend in ["sqlite", *([] if args.no_pg else ["postgresql"])]:
        for clients in (1, 8):
            rates: dict[bool, list[float]] = {False: [], True: []}
            cpus: dict[bool, list[float]] = {False: [], True: []}
            for _ in range(args.repeat):
                # Off and on alternate, so a change in machine load hits both alike.
                for audited in (False, True):
                    pg_name, url = (None, "")
                    if backend == "postgresql":
                        pg_name, url = create_pg_database(args.pg_url)
                    try:
                        rate, cpu_ms = measure(url, args.requests, clients, audited)
                        rates[audited].append(rate)
                        cpus[audited].append(cpu_ms)
                    finally:
                        if pg_name:
                            drop_pg_database(args.pg_url, pg_name)
            results = {audited: statistics.median(r) for audited, r in rates.items()}
            cpu = {audited: statistics.median(c) for audited, c in cpus.items()}
            cost = 1 - results[True] / results[False]
            cpu_cost = cpu[True] / cpu[False] - 1
            print(
                f"{backend:<11}{clients:>8}{results[False]:>11.1f}{results[True]:>10.1f}{cost:>8.1%}"
                f"{cpu[False]:>12.2f}{cpu[True]:>11.2f}{cpu_cost:>10.1%}"
            )


if __name__ == "__main__":
    main()
