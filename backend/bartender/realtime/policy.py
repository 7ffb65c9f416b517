"""Adaptive push/poll, per bar, with hysteresis (docs/realtime.md explains the thresholds).

Pure and synchronous: the hub feeds it one `BarLoad` per bar and tick; `step` returns a
`Decision` (the new mode and interval) or None, and the hub applies it. The load of a bar is
what pushing costs: deliveries per second = sockets on the bar (all instances) x stock
messages per second on it, the message rate averaged by a `RateMeter` over `window_s`
(a moving average, so that one busy second is not a trend). A bar enters `poll` when that
load stays above `enter_per_s` for `enter_ticks` ticks, or when the process is under pressure
(event-loop lag or send backlog over their limits) and the bar carries at least
`pressure_min_per_s`; it returns to `push` only after `calm_s` seconds below `exit_per_s`
with no pressure. The poll interval grows with the load it spares: 1 s per `enter_per_s`
deliveries per second, between 1000 and 60000 ms, rounded to whole seconds.

Why the average: with a per-tick rate and a fast-attack smoothing, a bar at 80 % of the
threshold crossed it in two consecutive ticks every few minutes from ordinary (Poisson)
jitter and then stayed in poll for the rest of the rush (issue 12.17); the moving average
over ~10 s keeps such a bar in push, while pressure still reacts within one tick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bartender.live.modes import POLL, PUSH

__all__ = ["POLL", "PUSH", "AdaptivePolicy", "BarLoad", "BarMode", "Decision", "PolicyConfig"]
MIN_INTERVAL_MS, MAX_INTERVAL_MS = 1000, 60_000


@dataclass(frozen=True)
class PolicyConfig:
    enter_per_s: float = 5000.0  # deliveries/s on one bar that switch it to poll
    exit_per_s: float = 1500.0  # ... and the level it must stay under to come back
    enter_ticks: int = 3  # consecutive ticks over enter_per_s before switching
    window_s: float = 10.0  # the message rate is a moving average over about this long
    calm_s: float = 10.0  # seconds under exit_per_s before going back to push
    lag_enter_ms: float = 250.0  # event-loop lag that means the process is overloaded
    lag_exit_ms: float = 50.0
    backlog_enter: int = 50_000  # frames waiting in all send queues of the process
    backlog_exit: int = 5_000
    pressure_min_per_s: float = 200.0  # under pressure, bars above this go to poll first
    default_interval_ms: int = 5000  # what the polling endpoint says for a bar in push


@dataclass(frozen=True)
class BarLoad:
    connections: int  # sockets subscribed to the bar, every instance
    messages_per_s: float  # stock messages per second on the bar

    @property
    def deliveries_per_s(self) -> float:
        return self.connections * self.messages_per_s


@dataclass(frozen=True)
class Pressure:
    loop_lag_ms: float = 0.0
    backlog: int = 0


@dataclass
class BarMode:
    mode: str = PUSH
    poll_interval_ms: int = 5000
    hot_ticks: int = 0  # consecutive ticks over the enter threshold
    calm_for_s: float = 0.0  # time spent under the exit threshold while in poll


@dataclass(frozen=True)
class Decision:
    """What a bar should switch to."""

    mode: str
    poll_interval_ms: int


class RateMeter:
    """Stock messages per second of one bar: an exponential moving average over `window_s`."""

    __slots__ = ("alpha", "rate")

    def __init__(self, window_s: float, tick_s: float) -> None:
        self.alpha = min(1.0, tick_s / window_s) if window_s > 0 else 1.0
        self.rate = 0.0

    def observe(self, events: int, tick_s: float) -> float:
        self.rate += self.alpha * (events / tick_s - self.rate)
        return self.rate


class AdaptivePolicy:
    """Decides push or poll per bar, tick after tick (see the module docstring)."""

    def __init__(self, config: PolicyConfig) -> None:
        self.config = config
        self._overloaded = False

    def fresh(self) -> BarMode:
        return BarMode(poll_interval_ms=self.config.default_interval_ms)

    @staticmethod
    def apply(state: BarMode, decision: Decision) -> None:
        state.mode, state.poll_interval_ms = decision.mode, decision.poll_interval_ms

    def pressure_state(self, pressure: Pressure) -> bool:
        """Process overload with its own hysteresis (enter high, leave low)."""
        c = self.config
        lag, backlog = pressure.loop_lag_ms, pressure.backlog
        if self._overloaded:
            self._overloaded = lag > c.lag_exit_ms or backlog > c.backlog_exit
        else:
            self._overloaded = lag > c.lag_enter_ms or backlog > c.backlog_enter
        return self._overloaded

    def interval_for(self, load: BarLoad) -> int:
        seconds = math.ceil(load.deliveries_per_s / self.config.enter_per_s)
        return max(MIN_INTERVAL_MS, min(MAX_INTERVAL_MS, seconds * 1000))

    def step(
        self, state: BarMode, load: BarLoad, overloaded: bool, tick_s: float
    ) -> Decision | None:
        """Advance one bar by one tick: its counters move; the mode it should now be in is
        returned when it differs from `state` (the caller applies it), else None."""
        c = self.config
        rate = load.deliveries_per_s
        if state.mode == PUSH:
            state.hot_ticks = state.hot_ticks + 1 if rate > c.enter_per_s else 0
            if state.hot_ticks >= c.enter_ticks or (overloaded and rate >= c.pressure_min_per_s):
                state.calm_for_s, state.hot_ticks = 0.0, 0
                return Decision(POLL, self.interval_for(load))
            return None
        calm = rate < c.exit_per_s and not overloaded
        state.calm_for_s = state.calm_for_s + tick_s if calm else 0.0
        if state.calm_for_s >= c.calm_s:
            state.calm_for_s = 0.0
            return Decision(PUSH, c.default_interval_ms)
        if not calm:
            # grow with load, never shrink while still busy (no interval flapping)
            interval = max(state.poll_interval_ms, self.interval_for(load))
            if interval != state.poll_interval_ms:
                return Decision(POLL, interval)
        return None
