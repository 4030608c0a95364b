"""Units of work run in worker threads, at most `Settings.db_threads` at a time.

More threads than that only contend for the GIL: with 8 concurrent structured `$analyze`
requests on one worker, Starlette's default pool (40 threads) cost 5.6-6.1 ms of server CPU per
request against 4.3-5.4 ms with two (PostgreSQL, the bench/analyze_latency.py setup). Two threads
still overlap one request's database round trips with another's Python work.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from anyio import CapacityLimiter, to_thread

from fhir_gateway.runtime import Runtime

T = TypeVar("T")


async def run_db_work(rt: Runtime, fn: Callable[..., T], *args: Any) -> T:
    if rt.db_limiter is None:  # made on first use: a limiter belongs to the running event loop
        rt.db_limiter = CapacityLimiter(max(1, rt.settings.db_threads))
    return await to_thread.run_sync(partial(fn, *args), limiter=rt.db_limiter)
