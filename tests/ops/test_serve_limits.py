"""`bartender serve` raises its soft open-files limit to the hard limit at start and logs the
figure (issue 12.19: at the usual soft 1024 an instance failed every request at ~990 sockets)."""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.support import TEST_SERVER_ENV, free_port

LOW_SOFT = 256


def _soft_open_files(pid: int) -> int:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise AssertionError("no open files line in /proc/<pid>/limits")


def _start_with_low_soft_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (LOW_SOFT, hard))


def test_serve_raises_soft_nofile_to_the_hard_limit_and_logs_it(database_url: str) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert hard > LOW_SOFT, "this test needs a hard limit above 256"
    port = free_port()
    log = tempfile.TemporaryFile()
    env = {**os.environ, **TEST_SERVER_ENV, "DATABASE_URL": database_url}
    env.pop("REDIS_URL", None)
    env["BARTENDER_LOG_LEVEL"] = "INFO"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bartender.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_start_with_low_soft_limit,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/ready").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        expected = hard if hard != resource.RLIM_INFINITY else None
        soft = _soft_open_files(proc.pid)
        assert soft > LOW_SOFT and (expected is None or soft == expected)
        log.seek(0)
        logged = re.search(r"open files limit: (\d+)", log.read().decode())
        assert logged and int(logged.group(1)) == soft
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()
