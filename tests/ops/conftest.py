"""Fixtures for the operations tests: a real redis-server (the realtime tests' helper)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.realtime.conftest import RedisServer


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)
