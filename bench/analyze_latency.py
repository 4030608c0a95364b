"""End-to-end `$analyze` latency (not a test): image and structured-Bundle inputs, one client and 8
concurrent clients, on SQLite and PostgreSQL. Also times `read_report` alone on the same image, so
the service overhead on top of OCR is visible.

    .venv/bin/python bench/analyze_latency.py [--images 12] [--bundles 300] [--no-pg]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lean_http import LeanConnection
from bench.synthetic_reports import generate
from fhir_gateway.ocr import read_report
from tests.conftest import make_token
from tests.fhir_gateway.analyze_fixtures import THAL_LIKE, cbc_bundle
from tests.fhir_gateway.conftest import live_gateway

QUIET = {"GATEWAY_LOG_LEVEL": "WARNING"}


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc), to tell the server's own cost per
    request apart from the benchmark client's, which shares this machine's cores."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(n: int, calls: list[Callable[[int], Awaitable[int]]], server_pid: int) -> dict[str, float]:
    """n requests from len(calls) concurrent clients; each call sends request i, returns its status."""
    latencies: list[float] = []
    errors = 0
    next_i = 0

    async def worker(call: Callable[[int], Awaitable[int]]) -> None:
        nonlocal next_i, errors
        while next_i < n:
            i = next_i
            next_i += 1
            t0 = time.perf_counter()
            status = await call(i)
            latencies.append(time.perf_counter() - t0)
            errors += status != 200

    t0, cpu0, own0 = time.perf_counter(), cpu_seconds(server_pid), time.process_time()
    await asyncio.gather(*(worker(c) for c in calls))
    wall = time.perf_counter() - t0
    return {
        "n": n,
        "rps": n / wall,
        "server_cpu_ms": (cpu_seconds(server_pid) - cpu0) / n * 1000,
        "client_cpu_ms": (time.process_time() - own0) / n * 1000,
        "p50": statistics.median(latencies) * 1000,
        "p95": pct(latencies, 0.95) * 1000,
        "errors": errors,
    }


async def run(
    base: str, token: str, images: list[bytes], bundles: int, server_pid: int
) -> list[tuple[str, int, dict]]:
    rows = []
    bundle = orjson.dumps(
        cbc_bundle(THAL_LIKE, {"resourceType": "Patient", "gender": "female", "birthDate": "1990-01-01"})
    )
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
    # Bundles: pre-encoded requests on lean keep-alive connections, so the client's own CPU (it
    # shares the two cores) stays small next to the server's; see bench/lean_http.py.
    connections = [await LeanConnection.open(base) for _ in range(8)]
    request = connections[0].request_bytes("POST", "/fhir/$analyze", headers, bundle)

    def structured(conn: LeanConnection) -> Callable[[int], Awaitable[int]]:
        async def call(_: int) -> int:
            return (await conn.send(request))[0]

        return call

    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=600
    ) as client:

        async def image(i: int) -> int:
            r = await client.post(
                "/fhir/$analyze", content=images[i % len(images)], headers={"Content-Type": "image/png"}
            )
            return r.status_code

        await structured(connections[0])(0)
        await image(0)  # warm the OCR pool
        for conc in (1, 8):
            calls = [structured(c) for c in connections[:conc]]
            rows.append(("bundle", conc, await measure(bundles, calls, server_pid)))
        for conc in (1, 8):
            rows.append(("image", conc, await measure(len(images), [image] * conc, server_pid)))
    for conn in connections:
        await conn.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=12)
    ap.add_argument("--bundles", type=int, default=300)
    ap.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()

    images = [generate(5000 + i, degraded=True).to_image_bytes("PNG") for i in range(args.images)]
    ocr_times = []
    for img in images:
        t0 = time.perf_counter()
        read_report(img, "image/png")
        ocr_times.append(time.perf_counter() - t0)
    ocr_p50 = statistics.median(ocr_times) * 1000
    print(
        f"read_report alone on the same {len(images)} images: p50 {ocr_p50:.0f} ms, "
        f"p95 {pct(ocr_times, 0.95) * 1000:.0f} ms"
    )
    print(
        f"{'database':<11}{'input':<8}{'clients':>8}{'n':>6}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'errors':>8}{'server CPU ms/req':>19}{'client CPU ms/req':>19}"
    )
    for backend in ["sqlite", *([] if args.no_pg else ["postgresql"])]:
        with (
            tempfile.TemporaryDirectory() as tmp,
            live_gateway(backend, Path(tmp) / "var", args.pg_url, extra_env=QUIET) as (server, settings),
        ):
            token = make_token(settings, "system")
            rows = asyncio.run(run(server.base_url, token, images, args.bundles, server.proc.pid))
            for kind, conc, m in rows:
                # Image rows: OCR runs in the pool's child processes, not counted here.
                print(
                    f"{backend:<11}{kind:<8}{conc:>8}{m['n']:>6}{m['rps']:>9.1f}{m['p50']:>9.1f}"
                    f"{m['p95']:>9.1f}{m['errors']:>8}{m['server_cpu_ms']:>19.2f}{m['client_cpu_ms']:>19.2f}"
                )
                if kind == "image" and conc == 1:
                    print(
                        f"{'':<11}image path overhead over read_report p50: "
                        f"{(m['p50'] / ocr_p50 - 1) * 100:+.1f}%"
                    )


if __name__ == "__main__":
    main()
