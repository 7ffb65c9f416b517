"""Who may do what in a bar: membership lookup (cached per process) and role checks.

A bar the caller is not a member of answers 404, as if it did not exist. The cache is
invalidated by NOTIFY bt_membership (a trigger on memberships), so every instance drops a
removed member at once; while the LISTEN connection is down the cache is bypassed.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import asyncpg

from bartender.db.listener import Listener
from bartender.errors import Forbidden

ROLE_RANK = {"staff": 1, "manager": 2, "owner": 3}

ROLE_OF = "SELECT role FROM memberships WHERE bar_id = $1 AND user_id = $2"


@dataclass(frozen=True, slots=True)
class Member:
    user_id: uuid.UUID
    bar_id: uuid.UUID
    role: str

    def at_least(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]

    def require(self, role: str) -> Member:
        if not self.at_least(role):
            raise Forbidden(f"This needs the {role} role in this bar.")
        return self


@dataclass(frozen=True, slots=True)
class Manager(Member):
    """A member whose role is manager or owner, checked at the edge (deps.ManagerDep): a
    service taking a `Manager` cannot be handed an unchecked member (mypy says so)."""


@dataclass(frozen=True, slots=True)
class Owner(Manager):
    """The bar's owner, checked at the edge (deps.OwnerDep)."""


class MembershipCache:
    def __init__(self, listener: Listener, ttl_s: float) -> None:
        self._listener = listener
        self._ttl = ttl_s
        self._entries: dict[tuple[uuid.UUID, uuid.UUID], tuple[str | None, float]] = {}
        self._invalidations = 0
        listener.on("bt_membership", self._invalidate)
        listener.on_reconnect(self._clear)

    def _invalidate(self, payload: str) -> None:
        bar, _, user = payload.partition(":")
        self._invalidations += 1
        try:
            self._entries.pop((uuid.UUID(user), uuid.UUID(bar)), None)
        except ValueError:
            self._entries.clear()

    async def _clear(self) -> None:
        self._invalidations += 1
        self._entries.clear()

    async def role(
        self, pool: asyncpg.Pool | asyncpg.Connection, user_id: uuid.UUID, bar_id: uuid.UUID
    ) -> str | None:
        key = (user_id, bar_id)
        now = time.monotonic()
        if self._listener.live:
            hit = self._entries.get(key)
            if hit is not None and hit[1] > now:
                return hit[0]
        before = self._invalidations
        role: str | None = await pool.fetchval(ROLE_OF, bar_id, user_id)
        # an invalidation that raced our read may carry newer truth: do not cache over it
        if self._listener.live and before == self._invalidations:
            if len(self._entries) > 100_000:
                self._entries.clear()
            self._entries[key] = (role, now + self._ttl)
        return role
