"""Database units of work run on at most `Settings.db_threads` threads at once."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import anyio

from fhir_gateway.api.db_threads import run_db_work


def test_no_more_than_db_threads_units_of_work_run_at_once() -> None:
    rt = SimpleNamespace(settings=SimpleNamespace(db_threads=2), db_limiter=None)
    lock, running, peak = threading.Lock(), [0], [0]

    def work(i: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return i * i

    async def main() -> list[int]:
        results: list[int] = [0] * 6

        async def one(i: int) -> None:
            results[i] = await run_db_work(rt, work, i)  # type: ignore[arg-type]

        async with anyio.create_task_group() as tg:
            for i in range(6):
                tg.start_soon(one, i)
        return results

    assert anyio.run(main) == [i * i for i in range(6)]
    assert peak[0] == 2
