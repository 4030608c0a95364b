"""The OCR process pool stops its workers when the service stops, even one still reading."""

from __future__ import annotations

import time

from fhir_gateway.analysis.ocr_pool import OcrPool


def test_close_stops_every_worker_even_a_busy_one() -> None:
    pool = OcrPool(workers=2)
    executor = pool._pool()
    busy = executor.submit(time.sleep, 60)  # stands in for a read that is still running
    assert executor.submit(sum, [1, 2]).result(timeout=60) == 3  # the workers are up
    workers = list(executor._processes.values())
    assert workers and busy.running()

    started = time.monotonic()
    pool.close()

    assert all(process.exitcode is not None for process in workers)
    assert time.monotonic() - started < 15  # did not wait for the busy read to finish
    pool.close()  # idempotent
