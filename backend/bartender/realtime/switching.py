"""Push or poll, per bar: measure, share, decide, and apply the operator's override.

Once per tick the hub hands over its per-bar socket counts; this measures each bar's message
rate, exchanges counts and pressure with the other instances through Redis (when there is
one), and then either decides (the leader, or a process alone) or follows the leader's modes.
An operator override (`bartender mode`, PUT /api/bars/{id}/live-mode; realtime/control.py)
wins over both on every instance: it reaches each one through PostgreSQL, not Redis.

What clients are told is written to the `ModeBoard` (read by the polling endpoint); every
change is handed to `on_change` so the hub tells the bar's sockets.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable

from bartender.live.modes import POLL, PUSH, ModeBoard
from bartender.realtime.cluster import ClusterLink, ModeNotice
from bartender.realtime.policy import AdaptivePolicy, BarLoad, BarMode, Pressure, RateMeter

log = logging.getLogger("bartender.realtime")

MODE_KEY_TTL_S = 30
ModeChange = Callable[[uuid.UUID, str, int, bool], None]  # bar, mode, interval, back to push


class ModeSwitch:
    def __init__(
        self,
        policy: AdaptivePolicy,
        board: ModeBoard,
        cluster: ClusterLink | None,
        tick_s: float,
        on_change: ModeChange,
    ) -> None:
        self.policy = policy
        self.board = board
        self.cluster = cluster
        self.tick_s = tick_s
        self.on_change = on_change
        self.states: dict[uuid.UUID, BarMode] = {}  # the policy's view (own or the leader's)
        self.overrides: dict[uuid.UUID, str] = {}  # operator: bar -> push | poll
        self.override_all: str | None = None  # operator: every bar -> poll
        self.remote_counts: dict[uuid.UUID, int] = {}
        self.leader = True
        self._meters: dict[uuid.UUID, RateMeter] = {}
        self._events: dict[uuid.UUID, int] = {}

    # -- inputs ---------------------------------------------------------------------------
    def count_event(self, bar_id: uuid.UUID) -> None:
        self._events[bar_id] = self._events.get(bar_id, 0) + 1

    def set_overrides(
        self, per_bar: dict[uuid.UUID, str], every_bar: str | None, followed: Iterable[uuid.UUID]
    ) -> None:
        """The operator's overrides as stored in PostgreSQL (all of them, each time);
        `followed`: the bars this process has sockets on."""
        touched = set(self.overrides) | set(per_bar)
        if every_bar != self.override_all:
            touched |= set(self.states) | set(followed)
        before = {bar: self.board.get(bar) for bar in touched}
        self.overrides, self.override_all = dict(per_bar), every_bar
        self.board.set_all(self._forced_all())
        for bar in touched:
            self.refresh(bar, before[bar])

    def follow(self, bar_id: uuid.UUID, mode: str, interval: int) -> None:
        """A mode the leader announced (followers only)."""
        if not self.leader:
            self.set_policy_mode(bar_id, mode, interval)

    # -- what a bar is in ---------------------------------------------------------------------
    def effective(self, bar_id: uuid.UUID) -> tuple[str, int]:
        state = self.states.get(bar_id)
        policy = (
            (state.mode, state.poll_interval_ms)
            if state is not None
            else (PUSH, self.policy.config.default_interval_ms)
        )
        forced = self.overrides.get(bar_id) or self.override_all
        if forced == POLL:
            return POLL, policy[1] if policy[0] == POLL else self.policy.config.default_interval_ms
        if forced == PUSH:
            return PUSH, self.policy.config.default_interval_ms
        return policy

    def refresh(self, bar_id: uuid.UUID, before: tuple[str, int] | None = None) -> None:
        """Publish the bar's effective mode; tell its sockets when it changed from `before`
        (by default what the board said)."""
        before = before or self.board.get(bar_id)
        after = self.effective(bar_id)
        if bar_id in self.overrides or after[0] == POLL:
            self.board.set(bar_id, *after)
        else:
            self.board.clear(bar_id)
        if after != before:
            log.info("bar %s now in %s (poll every %d ms)", bar_id, after[0], after[1])
            self.on_change(bar_id, after[0], after[1], before[0] == POLL and after[0] == PUSH)

    def _forced_all(self) -> tuple[str, int] | None:
        if self.override_all == POLL:
            return POLL, self.policy.config.default_interval_ms
        return None

    def set_policy_mode(self, bar_id: uuid.UUID, mode: str, interval: int) -> None:
        state = self.states.get(bar_id)
        if state is None:
            state = self.states[bar_id] = self.policy.fresh()
        if (state.mode, state.poll_interval_ms) != (mode, interval):
            state.mode, state.poll_interval_ms = mode, interval
            self.refresh(bar_id)

    # -- once per tick ------------------------------------------------------------------------
    async def tick(self, counts: dict[uuid.UUID, int], pressure: Pressure) -> None:
        """Measure, share through Redis, decide push/poll (leader) or follow the leader."""
        self._measure(counts)
        view = None
        if self.cluster is not None:
            view = await self.cluster.exchange(counts, pressure.loop_lag_ms, pressure.backlog)
        if view is None:  # alone (or Redis is down): this process decides for itself
            self.remote_counts, self.leader = {}, True
        else:
            self.remote_counts, self.leader = view.remote_counts, view.leader
            pressure = Pressure(
                max(pressure.loop_lag_ms, view.max_lag_ms), max(pressure.backlog, view.max_backlog)
            )
        if self.leader:
            await self._decide(counts, pressure, shared=view is not None)
        elif self.cluster is not None:
            polling = await self.cluster.read_modes(list(counts))
            if polling is not None:
                default = self.policy.config.default_interval_ms
                for bar in counts:
                    interval = polling.get(bar)
                    if interval is None:
                        self.set_policy_mode(bar, PUSH, default)
                    else:
                        self.set_policy_mode(bar, POLL, interval)

    def _measure(self, counts: dict[uuid.UUID, int]) -> None:
        config = self.policy.config
        for bar in set(self._meters) | set(self._events):
            meter = self._meters.get(bar)
            if meter is None:
                meter = self._meters[bar] = RateMeter(config.window_s, self.tick_s)
            if meter.observe(self._events.get(bar, 0), self.tick_s) < 0.01 and bar not in counts:
                del self._meters[bar]
        self._events = {}

    def rate(self, bar_id: uuid.UUID) -> float:
        meter = self._meters.get(bar_id)
        return meter.rate if meter is not None else 0.0

    async def _decide(self, counts: dict[uuid.UUID, int], pressure: Pressure, shared: bool) -> None:
        overloaded = self.policy.pressure_state(pressure)
        bars = (
            set(counts)
            | set(self.remote_counts)
            | {bar for bar, state in self.states.items() if state.mode == POLL}
        )
        changes: list[ModeNotice] = []
        polling: list[ModeNotice] = []
        for bar in bars:
            state = self.states.get(bar)
            if state is None:
                state = self.states[bar] = self.policy.fresh()
            load = BarLoad(counts.get(bar, 0) + self.remote_counts.get(bar, 0), self.rate(bar))
            decision = self.policy.step(state, load, overloaded, self.tick_s)
            if decision is not None:
                self.policy.apply(state, decision)
                self.refresh(bar)
                changes.append(ModeNotice(bar, decision.mode, decision.poll_interval_ms))
            if state.mode == POLL:
                polling.append(ModeNotice(bar, POLL, state.poll_interval_ms))
        for bar in [b for b, s in self.states.items() if b not in bars and s.mode == PUSH]:
            del self.states[bar]
        if shared and self.cluster is not None and (changes or polling):
            await self.cluster.publish_modes(changes, polling, MODE_KEY_TTL_S)
