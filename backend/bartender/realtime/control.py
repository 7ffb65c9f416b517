"""The operator's emergency switch: one bar, or every bar, into poll (and back).

Stored in PostgreSQL (`live_mode_overrides`), so that it survives restarts and reaches every
instance, with or without Redis: each change NOTIFYs `bt_live_mode` on commit, and every
instance re-reads the (tiny) table and hands it to its `ModeSwitch`, which tells the sockets.
Set from `bartender mode` or PUT /api/bars/{bar_id}/live-mode (owner); every change is logged.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterable

import asyncpg

from bartender.db.listener import Listener
from bartender.live.modes import POLL, PUSH
from bartender.realtime.switching import ModeSwitch

log = logging.getLogger("bartender.realtime.control")

AUTO = "auto"
ALL = "all"
CHANNEL = "bt_live_mode"

SET = """
WITH upsert AS (
    INSERT INTO live_mode_overrides (scope, mode, set_by) VALUES ($1, $2, $3)
    ON CONFLICT (scope) DO UPDATE SET mode = EXCLUDED.mode, set_by = EXCLUDED.set_by,
                                      set_at = now()
    RETURNING 1
)
SELECT pg_notify('bt_live_mode', $1) FROM (SELECT count(*) FROM upsert) AS done
"""
CLEAR = """
WITH removed AS (DELETE FROM live_mode_overrides WHERE scope = $1 RETURNING 1)
SELECT pg_notify('bt_live_mode', $1) FROM (SELECT count(*) FROM removed) AS done
"""
LOAD = "SELECT scope, mode FROM live_mode_overrides"
READ = "SELECT mode FROM live_mode_overrides WHERE scope = $1"


async def set_override(
    db: asyncpg.Connection | asyncpg.Pool,
    bar_id: uuid.UUID | None,
    mode: str,
    actor: uuid.UUID | None,
) -> None:
    """Force `bar_id` (None: every bar) into `mode` (poll | push), or back to `auto`."""
    scope = ALL if bar_id is None else str(bar_id)
    if mode not in (POLL, PUSH, AUTO) or (bar_id is None and mode == PUSH):
        raise ValueError(f"mode {mode!r} is not allowed for {scope}")
    if mode == AUTO:
        await db.execute(CLEAR, scope)
    else:
        await db.execute(SET, scope, mode, actor)
    log.warning("live mode of %s set to %s by %s", scope, mode, actor or "the command line")


async def read_override(db: asyncpg.Connection | asyncpg.Pool, bar_id: uuid.UUID) -> str:
    """The bar's own override: poll, push or auto."""
    mode: str | None = await db.fetchval(READ, str(bar_id))
    return mode or AUTO


class Overrides:
    """Keeps this instance's `ModeSwitch` in line with the table (NOTIFY, reconnects)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        listener: Listener,
        switch: ModeSwitch,
        followed: Callable[[], Iterable[uuid.UUID]],
    ) -> None:
        self._pool = pool
        self._switch = switch
        self._followed = followed  # the bars this process has sockets on
        self._loading: set[asyncio.Task[None]] = set()
        listener.on(CHANNEL, self._on_notify)
        listener.on_reconnect(self.load)  # a change NOTIFYed while we were away

    async def load(self) -> None:
        rows = await self._pool.fetch(LOAD)
        per_bar: dict[uuid.UUID, str] = {}
        every_bar = None
        for row in rows:
            if row["scope"] == ALL:
                every_bar = row["mode"]
            else:
                per_bar[uuid.UUID(row["scope"])] = row["mode"]
        if per_bar != self._switch.overrides or every_bar != self._switch.override_all:
            log.warning("live mode overrides now: every bar %s, %s", every_bar or AUTO, per_bar)
        self._switch.set_overrides(per_bar, every_bar, self._followed())

    def _on_notify(self, _scope: str) -> None:
        task = asyncio.create_task(self.load())
        self._loading.add(task)
        task.add_done_callback(self._loading.discard)
