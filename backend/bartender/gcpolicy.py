"""Keep the cyclic garbage collector's full passes off the sale path.

A process holding thousands of websockets holds millions of long-lived objects (each socket's
protocol, queues, frames: ~20 KB). CPython's full collection walks all of them: measured with
5000 idle sockets, a pass stalled the event loop for ~250 ms about every 16 s at 200 sales/s,
which showed as sale p99 266 ms and 503s (`docs/benchmarks.md`, "Memory per idle websocket"
run and "Sale p99 with 5000 sockets"); with the collector off the same run had p99 28 ms.

So every `BARTENDER_GC_FREEZE_S` this task collects the young generations (cheap) and then
`gc.freeze()`s what survived: long-lived objects move to the permanent generation, which
automatic passes never walk. Garbage cycles among frozen objects (a socket closed an hour
later) are only reclaimed by the full pass this task runs every `BARTENDER_GC_FULL_S`
(unfreeze, collect everything, freeze again): one known pause per quarter hour instead of an
unplanned one every few seconds, and memory that cannot grow without bound. Off (0) in tests
that host apps inside the test process, since the collector is process-wide.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

log = logging.getLogger("bartender.gc")


def freeze_survivors() -> None:
    """Collect the young generations, then move every survivor out of the collector's way."""
    gc.collect(1)
    gc.freeze()


def full_pass() -> float:
    """Unfreeze, collect everything, freeze again; returns the pause in seconds."""
    started = time.perf_counter()
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return time.perf_counter() - started


async def _run(freeze_s: float, full_s: float) -> None:
    last_full = time.monotonic()
    freeze_survivors()
    while True:
        await asyncio.sleep(freeze_s)
        if full_s > 0 and time.monotonic() - last_full >= full_s:
            pause = full_pass()
            last_full = time.monotonic()
            log.info("full garbage collection: %.0f ms", pause * 1000)
        else:
            freeze_survivors()


def gc_policy(freeze_s: float, full_s: float) -> Any:
    """Lifespan hook running the policy for the app's lifetime (nothing when freeze_s is 0)."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        if freeze_s <= 0:
            yield
            return
        task = asyncio.create_task(_run(freeze_s, full_s), name="gc-policy")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            gc.unfreeze()  # leave the process's collector as we found it

    return lifespan
