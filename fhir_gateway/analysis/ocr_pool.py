"""OCR in a process pool sized to the cores, so CPU-bound reading never blocks the event loop."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from fhir_gateway.fhir.outcome import FhirError
from fhir_gateway.ocr import DocumentError, ReportReading, read_report


def _read(data: bytes, content_type: str, engine: str | None) -> ReportReading:
    return read_report(data, content_type, engine=engine)


class OcrPool:
    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # forkserver: never fork a process that is running server threads.
            ctx = multiprocessing.get_context("forkserver")
            self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
        return self._executor

    async def read(
        self, data: bytes, content_type: str, *, engine: str | None, timeout: float
    ) -> ReportReading:
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self._pool(), _read, data, content_type, engine)
            return await asyncio.wait_for(future, timeout)
        except DocumentError as exc:
            raise FhirError(
                exc.http_status,
                "invalid"
                if exc.http_status == 422
                else "not-supported"
                if exc.http_status == 415
                else "too-costly",
                str(exc),
            ) from exc
        except TimeoutError as exc:
            raise FhirError(
                503,
                "timeout",
                f"reading the document took longer than {timeout:g} s; try a smaller or clearer document",
                headers={"Retry-After": "30"},
            ) from exc
        except BrokenProcessPool as exc:
            self._executor = None  # a crashed worker (e.g. out of memory) must not poison later requests
            raise FhirError(
                503, "transient", "the document reader failed; retry later", headers={"Retry-After": "10"}
            ) from exc
        except ValueError as exc:
            raise FhirError(400, "invalid", str(exc)) from exc

    def close(self) -> None:
        """Stop the workers, even one still reading: a worker left behind would outlive the server
        (it waits on its queue forever, and keeps the forkserver alive with it)."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        # Python 3.14 has executor.terminate_workers(); before it, the process map is the way.
        workers = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in workers:
            process.terminate()
        for process in workers:
            process.join(timeout=10)
