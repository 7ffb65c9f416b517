"""`bartender serve` raises its soft open-files limit to the hard limit at start and logs the
figure (issue 12.19: at the usual soft 1024 an instance failed every request at ~990 sockets)."""

from __future__ import annotations

import re
import resource
from pathlib import Path

from tests.support import ServeProcess

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
    server = ServeProcess(
        {"DATABASE_URL": database_url, "BARTENDER_LOG_LEVEL": "INFO"},
        unset=("REDIS_URL",),
        preexec_fn=_start_with_low_soft_limit,
    )
    with server:
        assert server.proc is not None
        expected = hard if hard != resource.RLIM_INFINITY else None
        soft = _soft_open_files(server.proc.pid)
        assert soft > LOW_SOFT and (expected is None or soft == expected)
        logged = re.search(r"open files limit: (\d+)", server.output())
        assert logged and int(logged.group(1)) == soft
