"""Event-loop lag: how late a periodic tick runs, the first sign of CPU starvation.

A task sleeps `interval` and records how much later than asked it woke up. When the process
gets less CPU than its work needs (noisy neighbours, a blocking call), every request waits by
about that much before any of its code runs; the histogram shows it before the users do.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from bartender.observe.metrics import EVENT_LOOP_LAG


async def _measure(interval: float) -> None:
    loop = asyncio.get_running_loop()
    while True:
        asked = loop.time() + interval
        await asyncio.sleep(interval)
        EVENT_LOOP_LAG.observe(max(0.0, loop.time() - asked))


@contextlib.asynccontextmanager
async def loop_lag_monitor(_app: Any, interval: float = 0.25) -> AsyncIterator[None]:
    """Lifespan hook: measure the loop's lag for the app's lifetime."""
    task = asyncio.create_task(_measure(interval), name="event-loop-lag")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
