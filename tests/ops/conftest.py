"""Fixtures for the operations tests: a real redis-server (the realtime tests' fixture,
re-exported so pytest finds it here too)."""

from __future__ import annotations

from tests.realtime.conftest import RedisServer, redis_server

__all__ = ["RedisServer", "redis_server"]
