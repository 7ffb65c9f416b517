"""Figures a load test collects: latency percentiles, a per-second time series, and the
server processes' memory and CPU (when their pids are known)."""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field

import psutil


def percentiles(samples_s: list[float]) -> dict[str, float | None]:
    """p50/p95/p99/max in milliseconds (nearest rank) of samples in seconds."""
    if not samples_s:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(samples_s)

    def at(q: float) -> float:
        rank = max(0, math.ceil(q * len(ordered)) - 1)
        return round(ordered[rank] * 1000, 2)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": round(ordered[-1] * 1000, 2)}


@dataclass
class Second:
    """What happened during one second of the run."""

    sockets: int = 0
    sales_ok: int = 0
    sales_failed: int = 0
    sale_latencies_s: list[float] = field(default_factory=list)
    deliveries: int = 0
    reconnects: int = 0


class TimeSeries:
    """Per-second buckets from the start of the run (bounded by the run's duration)."""

    COLUMNS = (
        "t_s",
        "sockets",
        "sales_ok",
        "sales_failed",
        "sale_p50_ms",
        "sale_p95_ms",
        "deliveries",
        "reconnects",
    )

    def __init__(self, started: float, max_seconds: int) -> None:
        self.started = started
        self.seconds = [Second() for _ in range(max_seconds + 1)]

    def at(self, now: float) -> Second:
        index = int(now - self.started)
        return self.seconds[min(max(index, 0), len(self.seconds) - 1)]

    def rows(self) -> list[tuple[float | int | None, ...]]:
        last = max((i for i, s in enumerate(self.seconds) if s.sales_ok or s.sockets), default=0)
        rows: list[tuple[float | int | None, ...]] = []
        for i, s in enumerate(self.seconds[: last + 1]):
            p = percentiles(s.sale_latencies_s)
            rows.append(
                (i, s.sockets, s.sales_ok, s.sales_failed, p["p50"], p["p95"], s.deliveries)
                + (s.reconnects,)
            )
        return rows


class ServerProcesses:
    """RSS and CPU time of the server's processes (the app processes given, not their
    children: an embedded PostgreSQL or forecast workers are not the websocket server)."""

    def __init__(self, pids: list[int]) -> None:
        self.procs = [psutil.Process(pid) for pid in pids]

    def rss(self) -> int:
        total = 0
        for proc in self.procs:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total

    def cpu_s(self) -> float:
        total = 0.0
        for proc in self.procs:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
        return total
