"""Forecast worker processes die with the app (issue 12.21): after a kill -9 of the process
that started them, none of its children is left running (each worker holds ~220 MB)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.support import TEST_SERVER_ENV, eventually

# What the app does at startup (Forecaster.start), then waits to be killed.
APP = """
import os, sys, time
from bartender.forecast.service import Forecaster
forecaster = Forecaster(2)
forecaster.start(prewarm=False)
pool = forecaster._executor
# both workers spawned, and at least one has run its initializer and a task
print(sorted({pool.submit(os.getpid).result() for _ in range(4)}), flush=True)
time.sleep(600)
"""


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # ended while we looked
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:  # fields: state, ppid, ...
                found.append(int(entry.name))
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie (PID 1 here may not reap orphans at once)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def test_workers_exit_when_the_app_is_killed(tmp_path: Path) -> None:
    # a file, not a pipe: orphaned workers would hold a pipe open (and `wait()` with it)
    out = tmp_path / "out"
    with out.open("wb") as stdout:
        app = await asyncio.create_subprocess_exec(
            sys.executable, "-c", APP, env={**os.environ, **TEST_SERVER_ENV}, stdout=stdout
        )
    try:
        line = await eventually(
            lambda: out.read_text().strip(), within=60, what="the workers started"
        )
        assert line.startswith("["), line
        children = children_of(app.pid)
        # two workers and multiprocessing's resource tracker
        assert len(children) >= 2, children
        assert all(running(pid) for pid in children)
        app.send_signal(signal.SIGKILL)
        await asyncio.wait_for(app.wait(), 10)
        await eventually(
            lambda: not any(running(pid) for pid in children),
            within=10,
            what="every child of the killed app gone",
        )
    finally:
        if app.returncode is None:
            app.kill()
            await app.wait()
