"""Adaptive push/poll: the policy's hysteresis, and a real bar switching under a real burst."""

from __future__ import annotations

import asyncio

import httpx

from bartender.realtime.policy import POLL, PUSH, AdaptivePolicy, BarLoad, BarMode, PolicyConfig
from tests.realtime.wsclient import WsClient, check_stream
from tests.support import Api, eventually, make_settings, start_server

CONFIG = PolicyConfig(enter_per_s=100, exit_per_s=30, enter_ticks=2, calm_s=3.0)


def step(
    policy: AdaptivePolicy, state: BarMode, load: BarLoad, overloaded: bool, tick_s: float
) -> None:
    """One tick, the decision applied as the hub does."""
    decision = policy.step(state, load, overloaded, tick_s)
    if decision is not None:
        policy.apply(state, decision)


def run(policy: AdaptivePolicy, loads: list[BarLoad]) -> list[tuple[str, int]]:
    state = policy.fresh()
    trace = []
    for load in loads:
        step(policy, state, load, False, tick_s=1.0)
        trace.append((state.mode, state.poll_interval_ms))
    return trace


def test_a_burst_switches_to_poll_after_enter_ticks_and_back_after_calm_seconds() -> None:
    policy = AdaptivePolicy(CONFIG)
    calm, burst = BarLoad(10, 1.0), BarLoad(50, 10.0)  # 10/s and 500 deliveries/s
    trace = run(policy, [calm, burst, burst, burst, calm, calm, calm, calm])
    assert [mode for mode, _ in trace] == [PUSH, PUSH, POLL, POLL, POLL, POLL, PUSH, PUSH]
    assert trace[2][1] == 5000  # 500/s over a 100/s budget: 5 s between polls


def test_one_hot_tick_does_not_switch() -> None:
    policy = AdaptivePolicy(CONFIG)
    trace = run(policy, [BarLoad(50, 10.0), BarLoad(1, 1.0), BarLoad(50, 10.0), BarLoad(1, 1.0)])
    assert {mode for mode, _ in trace} == {PUSH}


def test_load_between_the_thresholds_never_flaps() -> None:
    policy = AdaptivePolicy(CONFIG)
    hot, middling = BarLoad(20, 10.0), BarLoad(5, 10.0)  # 200/s, then 50/s (between 30 and 100)
    trace = run(policy, [hot, hot] + [middling] * 20)
    assert [mode for mode, _ in trace] == [PUSH] + [POLL] * 21


def test_poll_interval_grows_with_load_within_the_contract_bounds() -> None:
    policy = AdaptivePolicy(CONFIG)
    assert policy.interval_for(BarLoad(1, 1.0)) == 1000
    assert policy.interval_for(BarLoad(100, 3.5)) == 4000
    assert policy.interval_for(BarLoad(100_000, 100.0)) == 60_000
    state = policy.fresh()
    for load in (BarLoad(20, 10.0), BarLoad(20, 10.0), BarLoad(100, 10.0)):
        step(policy, state, load, False, 1.0)
    assert (state.mode, state.poll_interval_ms) == (POLL, 10_000)
    step(policy, state, BarLoad(50, 10.0), False, 1.0)  # less load but still busy: no shrink
    assert state.poll_interval_ms == 10_000


def test_process_pressure_sends_busy_bars_to_poll_and_has_its_own_hysteresis() -> None:
    from bartender.realtime.policy import Pressure

    policy = AdaptivePolicy(PolicyConfig(lag_enter_ms=200, lag_exit_ms=40, pressure_min_per_s=20))
    assert policy.pressure_state(Pressure(loop_lag_ms=300)) is True
    assert policy.pressure_state(Pressure(loop_lag_ms=100)) is True  # not yet below exit
    assert policy.pressure_state(Pressure(loop_lag_ms=30)) is False
    assert policy.pressure_state(Pressure(backlog=60_000)) is True
    state = policy.fresh()
    step(policy, state, BarLoad(5, 10.0), overloaded=True, tick_s=1.0)  # 50/s: goes to poll
    assert state.mode == POLL
    quiet = policy.fresh()
    step(policy, quiet, BarLoad(1, 1.0), overloaded=True, tick_s=1.0)  # 1/s: spared
    assert quiet.mode == PUSH


async def test_a_bar_switches_to_poll_under_a_burst_and_back_to_push_when_calm(
    database_url: str,
) -> None:
    settings = make_settings(
        database_url,
        realtime_tick_s=0.1,
        realtime_poll_enter_per_s=10,
        realtime_poll_exit_per_s=2,
        realtime_poll_calm_s=0.5,
        realtime_poll_window_s=0.1,  # the rate of the last tick: a short burst must show
    )
    async with (
        start_server(settings) as running,
        httpx.AsyncClient(base_url=running.base_url, timeout=30) as http,
    ):
        api = Api(http, running)
        bar = await api.bar()
        beer = await api.product(bar, stock=5000)
        sellers = [await api.member(bar, "staff") for _ in range(4)]
        ws = await WsClient.ready(running.ws_url, bar.owner.access_token)
        (snapshot,), mode = await ws.subscribe(bar.id)
        assert mode["mode"] == "push"

        received: list[dict] = []
        polled: list[dict] = []

        async def collect() -> None:
            while True:
                received.append(await ws.recv(30))

        async def burst(user: object) -> None:
            loop = asyncio.get_running_loop()
            end = loop.time() + 1.5
            while loop.time() < end:
                assert (await api.sell(bar, {beer: 1}, user=user)).status_code == 201  # type: ignore[arg-type]

        collector = asyncio.create_task(collect())
        await asyncio.gather(*(burst(u) for u in sellers))
        # the polling endpoint tells pollers the same thing as the sockets
        r = await http.get(f"/api/bars/{bar.id}/stock", headers=bar.owner.headers)
        polled.append(r.json())
        seq_after_burst = await api.seq(bar)
        await eventually(  # calm: back to push
            lambda: any(m["type"] == "mode" and m["mode"] == "push" for m in received),
            within=15,
            what="back to push",
        )
        assert (await api.sell(bar, {beer: 1})).status_code == 201
        final = seq_after_burst + 1
        await eventually(lambda: received and received[-1].get("seq") == final, within=10)
        collector.cancel()
        await ws.close()

    modes = [m for m in received if m["type"] == "mode"]
    # poll (its interval may grow while the burst lasts: another `mode`), then push once
    assert [m["mode"] for m in modes] == ["poll"] * (len(modes) - 1) + ["push"]
    assert len(modes) >= 2
    intervals = [m["poll_interval_ms"] for m in modes[:-1]]
    assert all(1000 <= i <= 60000 for i in intervals) and intervals == sorted(intervals)
    assert polled[0]["mode"] == "poll"
    assert polled[0]["poll_interval_ms"] in intervals
    poll_at = received.index(modes[0])
    push_at = received.index(modes[-1])
    assert not [m for m in received[poll_at:push_at] if m["type"] == "stock"]  # no push in poll
    # after the way back, what was not pushed arrives (or a snapshot), in order, then live
    assert check_stream(received, snapshot["seq"]) == final


# -- issue 12.17: ordinary jitter near the threshold must not flip a bar -----------------------


def poisson_ticks(mean: float, ticks: int, seed: int = 7) -> list[int]:
    import numpy as np

    return [int(n) for n in np.random.default_rng(seed).poisson(mean, ticks)]


def first_poll(events: list[int], connections: int, config: PolicyConfig) -> int | None:
    """The tick at which a bar first goes to poll, the rate measured as the hub does."""
    from bartender.realtime.policy import RateMeter

    policy, meter, state = AdaptivePolicy(config), RateMeter(config.window_s, 1.0), None
    state = policy.fresh()
    for tick, count in enumerate(events):
        step(policy, state, BarLoad(connections, meter.observe(count, 1.0)), False, 1.0)
        if state.mode == POLL:
            return tick
    return None


def test_a_bar_at_80_percent_of_the_threshold_stays_in_push_for_an_hour() -> None:
    config = PolicyConfig()  # 5000 deliveries/s: 100 sockets x 50 messages/s
    jitter = poisson_ticks(40.0, 3600)  # 80 %: 40 messages/s on average, Poisson
    assert first_poll(jitter, 100, config) is None
    # what the old measure did with the same seconds: the busiest tick counted at once
    # (fast attack) and two ticks over the threshold switched
    rate, hot, flipped = 0.0, 0, None
    for tick, count in enumerate(jitter):
        rate = max(float(count), 0.5 * rate + 0.5 * count)
        hot = hot + 1 if 100 * rate > config.enter_per_s else 0
        if hot >= 2:
            flipped = tick
            break
    assert flipped is not None and flipped < 600, "the old measure flipped within minutes"


def test_a_sustained_load_over_the_threshold_still_switches_within_seconds() -> None:
    config = PolicyConfig()
    tick = first_poll([10] * 30 + poisson_ticks(75.0, 60), 100, config)  # 150 % from t=30
    assert tick is not None and 30 < tick <= 45
