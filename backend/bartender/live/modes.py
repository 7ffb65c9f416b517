"""How the clients of each bar should get updates right now: push or poll, and how often.

The realtime hub decides (adaptive policy, operator switch) and writes here; the polling
endpoint and `mode` messages read here. A bar never written is in push.
"""

from __future__ import annotations

import uuid

PUSH, POLL = "push", "poll"
DEFAULT_POLL_INTERVAL_MS = 5000  # what a bar in push tells its pollers


class ModeBoard:
    """Per-bar (mode, poll_interval_ms) as last decided in this process; bars without an entry
    follow `every_bar` when the operator has put every bar in poll, else push."""

    def __init__(self, default_interval_ms: int = DEFAULT_POLL_INTERVAL_MS) -> None:
        self.default_interval_ms = default_interval_ms
        self._modes: dict[uuid.UUID, tuple[str, int]] = {}
        self._every_bar: tuple[str, int] | None = None

    def get(self, bar_id: uuid.UUID) -> tuple[str, int]:
        entry = self._modes.get(bar_id)
        if entry is not None:
            return entry
        return self._every_bar or (PUSH, self.default_interval_ms)

    def set(self, bar_id: uuid.UUID, mode: str, poll_interval_ms: int) -> None:
        self._modes[bar_id] = (mode, poll_interval_ms)

    def clear(self, bar_id: uuid.UUID) -> None:
        self._modes.pop(bar_id, None)

    def set_all(self, mode: tuple[str, int] | None) -> None:
        self._every_bar = mode
