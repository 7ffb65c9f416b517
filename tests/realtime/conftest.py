"""Fixtures for the realtime tests: a real Redis server (Debian's redis-server, started and
stopped by the tests) and `bartender serve` subprocesses sharing the test database."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support import eventually


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A private redis-server on 127.0.0.1:<port>; can be stopped and started again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="bt-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is missing (apt-get install redis-server; .ci/run does)")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.1):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    pytest.fail("redis-server exited at startup")
                import time

                time.sleep(0.02)
        pytest.fail("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)


@dataclass
class ServeProcess:
    """`bartender serve` in its own process (a real second instance)."""

    proc: subprocess.Popen[bytes]
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


async def spawn_server(database_url: str, redis_url: str | None, **env: str) -> ServeProcess:
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BARTENDER_ARGON2_TIME_COST": "1",
        "BARTENDER_ARGON2_MEMORY_KIB": "1024",
        "BARTENDER_ARGON2_PARALLELISM": "1",
        "BARTENDER_LOG_LEVEL": "WARNING",
        **env,
    }
    environment.pop("REDIS_URL", None)
    if redis_url:
        environment["REDIS_URL"] = redis_url
    # a Popen (not asyncio's process): tests kill -9 it and read its state synchronously
    proc = await asyncio.to_thread(
        subprocess.Popen,
        [sys.executable, "-m", "bartender.cli", "serve", "--port", str(port)],
        env=environment,
    )

    async with httpx.AsyncClient() as client:

        async def healthy() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"bartender serve exited with {proc.returncode}")
            try:
                return (await client.get(f"http://127.0.0.1:{port}/api/health")).status_code == 200
            except httpx.TransportError:
                return False

        try:
            await eventually(healthy, within=15, every=0.05, what="bartender serve up")
        except AssertionError:
            proc.kill()
            raise
    return ServeProcess(proc, port)


@pytest.fixture
async def serve_processes() -> AsyncIterator[list[ServeProcess]]:
    """Processes a test spawns (append to the list); all are stopped at the end."""
    processes: list[ServeProcess] = []
    yield processes
    for process in processes:
        if process.proc.poll() is None:
            process.proc.terminate()
            try:
                process.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
