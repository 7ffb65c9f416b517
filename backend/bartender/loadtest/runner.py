"""One load-test run: stages (ramp up, hold, ramp down) drive the number of open sockets and
the sale rate, interpolated linearly from one stage's targets to the next (k6 style; a stage of
0 s is a jump). A controller tick opens or closes clients and spends the sale budget; in-flight
sales are capped (a server that does not keep up is recorded as `sales_skipped_behind`, never
queued without bound). After the stages: the in-flight sales finish, then every open client
must reach its bar's final seq (or is counted as lost).

`lost` for a client closed during the run: the seqs its bar had committed (known from a sale
answer or another client) more than a grace period before it closed, that it never reached.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp

from bartender.loadtest.client import ClientStats, Endpoint, LiveClient
from bartender.loadtest.stats import ServerProcesses, TimeSeries, percentiles
from bartender.loadtest.targets import gather_bounded

TICK_S = 0.05
MAX_IN_FLIGHT = 512
DRAIN_SALES_S = 30.0
DRAIN_DELIVERIES_S = 10.0


@dataclass(frozen=True)
class Stage:
    duration_s: float
    sockets: int
    rate: float  # sales per second

    @classmethod
    def parse(cls, text: str) -> Stage:
        """`30s:1000:200` (or `30:1000:200`): over 30 s go to 1000 sockets and 200 sales/s."""
        try:
            duration, sockets, rate = text.split(":")
            stage = cls(float(duration.removesuffix("s")), int(sockets), float(rate))
        except ValueError:
            raise ValueError(
                f"stage {text!r}: expected DURATION:SOCKETS:RATE, e.g. 30s:1000:200"
            ) from None
        if stage.duration_s < 0 or stage.sockets < 0 or stage.rate < 0:
            raise ValueError(f"stage {text!r}: negative figures")
        return stage


def targets_at(stages: list[Stage], t: float) -> tuple[float, float]:
    """(sockets, sales/s) wanted t seconds into the run."""
    sockets, rate, start = 0.0, 0.0, 0.0
    for stage in stages:
        end = start + stage.duration_s
        if t < end:
            share = (t - start) / stage.duration_s
            return (
                sockets + (stage.sockets - sockets) * share,
                rate + (stage.rate - rate) * share,
            )
        sockets, rate, start = float(stage.sockets), stage.rate, end
    return sockets, rate


def sales_due(stages: list[Stage], t: float) -> float:
    """Sales due in the first t seconds: the integral of the interpolated rate."""
    due, rate, start = 0.0, 0.0, 0.0
    for stage in stages:
        if stage.duration_s == 0:  # a jump
            rate = stage.rate
            continue
        span = min(t, start + stage.duration_s) - start
        if span <= 0:
            break
        rate_at_span = rate + (stage.rate - rate) * span / stage.duration_s
        due += (rate + rate_at_span) / 2 * span
        rate, start = stage.rate, start + stage.duration_s
    return due


class Driver(Protocol):
    statuses: Any
    problems: Any
    retried: int
    committed: list[str]

    async def sell(self, bar: str) -> int: ...

    async def final_seqs(self) -> dict[str, int]: ...


@dataclass
class RunOptions:
    stages: list[Stage]
    role: str = "both"  # both | sockets | sales
    deflate: bool = True
    connect_concurrency: int = 100
    server_pids: list[int] = field(default_factory=list)
    lost_grace_s: float = 2.0


@dataclass
class BarSeqs:
    """When each seq of a bar was known to be committed (monotonic)."""

    times: list[float] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)

    def saw(self, seq: int, at: float) -> None:
        if not self.seqs or seq > self.seqs[-1]:
            self.times.append(at)
            self.seqs.append(seq)

    def committed_before(self, at: float) -> int | None:
        index = bisect.bisect_right(self.times, at)
        return self.seqs[index - 1] if index else None


class Run:
    def __init__(
        self,
        endpoint: Endpoint,
        bars: list[str],
        driver: Driver | None,
        session: aiohttp.ClientSession | None,
        options: RunOptions,
    ) -> None:
        self.endpoint, self.bars, self.driver = endpoint, bars, driver
        self.session, self.options = session, options
        self.stats = ClientStats()
        self.known = {bar: BarSeqs() for bar in bars}
        self.sale_times: dict[tuple[str, int], tuple[float, float]] = {}  # -> sent, answered
        self.arrivals: list[tuple[str, int, float]] = []  # (bar, seq, received at)
        self.sale_s: list[float] = []
        self.sales_failed = self.sales_behind = 0
        self.lost = 0
        self.clients: list[LiveClient] = []
        self.tasks: dict[LiveClient, asyncio.Task[None]] = {}
        self.rss_idle: list[tuple[int, int]] = []  # (open sockets, server RSS) while idle

    # -- callbacks ------------------------------------------------------------------------------
    def _on_stock(self, bar: str, seq: int, at: float) -> None:
        self.known[bar].saw(seq, at)
        self.series.at(at).deliveries += 1
        if self.driver is not None:  # matched with the sale's times at the end
            self.arrivals.append((bar, seq, at))

    async def _one_sale(self, bar: str) -> None:
        assert self.driver is not None
        sent = time.perf_counter()
        try:
            seq = await self.driver.sell(bar)
        except Exception:
            self.sales_failed += 1
            self.series.at(time.perf_counter()).sales_failed += 1
            return
        done = time.perf_counter()
        self.sale_s.append(done - sent)
        self.sale_times[(bar, seq)] = (sent, done)
        self.known[bar].saw(seq, done)
        second = self.series.at(done)
        second.sales_ok += 1
        second.sale_latencies_s.append(done - sent)

    # -- sockets --------------------------------------------------------------------------------
    def _open_client(self, gate: asyncio.Semaphore, deadline: float) -> None:
        bar = self.bars[len(self.clients) % len(self.bars)]
        client = LiveClient(
            bar, self.endpoint, self.stats, self.session, self.options.deflate, self._on_stock
        )
        self.clients.append(client)

        async def life() -> None:
            async with gate:  # bounded concurrent handshakes
                if client.stopping:
                    return
                first = asyncio.create_task(client.run(deadline))
                await client.ready.wait()
            await first

        self.tasks[client] = asyncio.create_task(life())

    async def _close_client(self, client: LiveClient) -> None:
        grace = self.options.lost_grace_s
        if client.mode == "poll":  # a polling client learns of a sale one interval later
            grace += client.poll_interval_s
        self._count_lost(client, time.perf_counter() - grace)
        await client.stop()

    def _count_lost(self, client: LiveClient, before: float, final: int | None = None) -> None:
        if client.last_seq is None:
            return
        must = final if final is not None else self.known[client.bar].committed_before(before)
        if must is not None and must > client.last_seq:
            self.lost += must - client.last_seq

    # -- the run --------------------------------------------------------------------------------
    async def execute(self) -> dict[str, Any]:
        stages, role = self.options.stages, self.options.role
        total_s = sum(s.duration_s for s in stages)
        server = ServerProcesses(self.options.server_pids) if self.options.server_pids else None
        started = time.perf_counter()
        self.series = TimeSeries(started, int(total_s + DRAIN_SALES_S + DRAIN_DELIVERIES_S) + 2)
        deadline = time.monotonic() + total_s + DRAIN_SALES_S + DRAIN_DELIVERIES_S + 30
        gate = asyncio.Semaphore(self.options.connect_concurrency)
        in_flight: set[asyncio.Task[None]] = set()
        launched = 0  # sales started or skipped so far
        # sales/s and CPU are measured over the time sales were due, not the ramp of sockets
        selling_since: float | None = None
        cpu_before = 0.0
        open_clients: list[LiveClient] = []
        reconnects = 0
        closing: set[asyncio.Task[None]] = set()
        ticks = int(total_s / TICK_S) + 2
        for _ in range(ticks):  # bounded: every tick lasts at least TICK_S
            now = time.perf_counter()
            t = now - started
            if t > total_s:
                break
            want_sockets, rate = targets_at(stages, t)
            if rate > 0 and selling_since is None:
                selling_since = now
                cpu_before = server.cpu_s() if server else 0.0
            if role != "sales":
                while len(open_clients) < int(want_sockets):
                    self._open_client(gate, deadline)
                    open_clients.append(self.clients[-1])
                while len(open_clients) > round(want_sockets):
                    # closing handshakes run beside the tick: they never delay the sales
                    closing.add(asyncio.create_task(self._close_client(open_clients.pop())))
                if rate == 0 and open_clients and server is not None:
                    self._sample_idle(open_clients, server)
            if role != "sockets" and self.driver is not None:
                launched = self._launch_sales(sales_due(stages, t), launched, in_flight)
            second = self.series.at(now)
            second.sockets = sum(1 for c in open_clients if c.ready.is_set())
            second.reconnects += self.stats.reconnects - reconnects
            reconnects = self.stats.reconnects
            await asyncio.sleep(TICK_S)
        if role != "sockets" and self.driver is not None:
            self._launch_sales(sales_due(stages, total_s), launched, in_flight)
        if in_flight:
            await asyncio.wait(in_flight, timeout=DRAIN_SALES_S)
        if closing:
            await asyncio.wait(closing, timeout=DRAIN_SALES_S)
        selling_s = time.perf_counter() - (selling_since or started)
        cpu_s = (server.cpu_s() - cpu_before) if server and selling_since else 0.0
        await self._finish(open_clients)
        return self._figures(selling_s, cpu_s, server)

    def _launch_sales(self, due: float, launched: int, in_flight: set[asyncio.Task[None]]) -> int:
        """Start the sales due by now; beyond MAX_IN_FLIGHT they are skipped, not queued."""
        while launched + 1 <= due + 1e-9:
            launched += 1
            if len(in_flight) >= MAX_IN_FLIGHT:
                self.sales_behind += 1
                continue
            task = asyncio.create_task(self._one_sale(self.bars[launched % len(self.bars)]))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        return launched

    def _sample_idle(self, open_clients: list[LiveClient], server: ServerProcesses) -> None:
        ready = sum(1 for c in open_clients if c.ready.is_set())
        if not self.rss_idle or ready != self.rss_idle[-1][0]:
            self.rss_idle.append((ready, server.rss()))

    async def _finish(self, open_clients: list[LiveClient]) -> None:
        finals: dict[str, int] = {}
        if self.driver is not None and open_clients:
            try:
                finals = await self.driver.final_seqs()
            except RuntimeError:
                finals = {}
        for bar, known in self.known.items():
            if known.seqs:
                finals[bar] = max(finals.get(bar, 0), known.seqs[-1])
        deadline = time.monotonic() + DRAIN_DELIVERIES_S
        for _ in range(int(DRAIN_DELIVERIES_S / TICK_S)):
            behind = [
                c
                for c in open_clients
                if c.bar in finals and not c.failed and (c.last_seq or 0) < finals[c.bar]
            ]
            if not behind or time.monotonic() >= deadline:
                break
            await asyncio.sleep(TICK_S)
        for client in open_clients:
            self._count_lost(client, 0.0, finals.get(client.bar))
        await gather_bounded([c.stop() for c in open_clients], 500)
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)

    def _figures(
        self, selling_s: float, cpu_s: float, server: ServerProcesses | None
    ) -> dict[str, Any]:
        driver, stats = self.driver, self.stats
        sales_ok = len(self.sale_s)
        attempts = sales_ok + self.sales_failed + len(self.clients)
        failures = self.sales_failed + stats.connect_failures + stats.auth_refused
        sale, connect = percentiles(self.sale_s), percentiles(stats.connect_s)
        after_answer: list[float] = []  # negative: the message beat the HTTP answer
        after_request: list[float] = []
        for bar, seq, at in self.arrivals:
            times = self.sale_times.get((bar, seq))
            if times is not None:
                after_request.append(at - times[0])
                after_answer.append(at - times[1])
        delivery, request = percentiles(after_answer), percentiles(after_request)
        idle_kb = None
        if len(self.rss_idle) >= 2:
            (n0, rss0), (n1, rss1) = self.rss_idle[len(self.rss_idle) // 2], self.rss_idle[-1]
            idle_kb = round((rss1 - rss0) / (n1 - n0) / 1024, 2) if n1 > n0 else None
        measures_sockets = self.options.role != "sales"
        return {
            "sockets_opened": len(self.clients),
            "sales_ok": sales_ok,
            "sales_failed": self.sales_failed,
            "sales_retried": driver.retried if driver else 0,
            "sales_skipped_behind": self.sales_behind,
            "sales_per_s": round(sales_ok / selling_s, 1) if selling_s else 0.0,
            "sale_p50_ms": sale["p50"],
            "sale_p95_ms": sale["p95"],
            "sale_p99_ms": sale["p99"],
            "ws_connect_p50_ms": connect["p50"],
            "ws_connect_p95_ms": connect["p95"],
            "ws_connect_p99_ms": connect["p99"],
            "delivery_p50_ms": delivery["p50"],
            "delivery_p95_ms": delivery["p95"],
            "delivery_p99_ms": delivery["p99"],
            "request_to_delivery_p50_ms": request["p50"],
            "request_to_delivery_p99_ms": request["p99"],
            "connect_failures": stats.connect_failures,
            "errors": round(100 * failures / attempts, 3) if attempts else 0.0,
            "deliveries": stats.deliveries,
            "lost": self.lost if measures_sockets else None,
            "duplicated": stats.duplicated if measures_sockets else None,
            "gaps": stats.gaps if measures_sockets else None,
            "reconnects": stats.reconnects,
            "snapshots": stats.snapshots,
            "polls_advanced": stats.polls,
            "poll_mode_messages": stats.poll_mode_messages,
            "http_502": int(driver.statuses.get("502", 0)) if driver else 0,
            "statuses": dict(driver.statuses) if driver else {},
            "problems": dict(driver.problems) if driver else {},
            "server_rss_idle_kb_per_conn": idle_kb,
            "server_rss_mb": round(server.rss() / 2**20, 1) if server else None,
            # while sales were due (sockets open): the app process only, not PostgreSQL
            "server_cpu_cores": round(cpu_s / selling_s, 3) if server and cpu_s else None,
        }
