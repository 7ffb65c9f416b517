"""The README's serve command: embedded PostgreSQL, migrations, --demo, clean stop, stale state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from bartender.demo import LOGINS
from tests.support import TEST_SERVER_ENV, free_port


def _serve(data_dir: Path, *args: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(TEST_SERVER_ENV, BARTENDER_DATA_DIR=str(data_dir), BARTENDER_LOG_LEVEL="WARNING")
    # output to a file, not a pipe: grandchildren (PostgreSQL, worker processes) may keep a
    # pipe open after the server exits
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bartender.cli", "serve", "--port", str(port), *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    proc.log = log  # type: ignore[attr-defined]
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, _output(proc)
        try:
            if httpx.get(f"{base}/api/ready").status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not start")


def _output(proc: subprocess.Popen) -> str:
    proc.log.seek(0)  # type: ignore[attr-defined]
    return proc.log.read().decode()  # type: ignore[attr-defined]


def _postmaster_running(data_dir: Path) -> bool:
    return (data_dir / "pg" / "postmaster.pid").exists()


def _stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> str:
    proc.send_signal(sig)
    proc.wait(timeout=30)
    output = _output(proc)
    proc.log.close()  # type: ignore[attr-defined]
    return output


@pytest.mark.slow
def test_serve_demo_on_embedded_postgres_survives_restarts_and_kills() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bt-cli-", dir="/tmp"))
    proc, base = _serve(data_dir, "--demo")
    try:
        email, _name, password, _role = LOGINS[2]
        login = httpx.post(f"{base}/api/auth/login", json={"email": email, "password": password})
        assert login.status_code == 200
        session = login.json()
        bar_id = session["memberships"][0]["bar_id"]
        headers = {"Authorization": f"Bearer {session['access_token']}"}
        products = httpx.get(f"{base}/api/bars/{bar_id}/products", headers=headers).json()
        assert len(products["products"]) >= 12 and products["seq"] >= 1
        assert all(p["stock"] > 0 for p in products["products"])
    finally:
        output = _stop(proc)
    assert "Chez Fatou" in output and email in output  # the demo logins are printed
    assert not _postmaster_running(data_dir), "SIGTERM must stop the embedded PostgreSQL"

    # the data survives a restart; --demo does not seed twice
    proc, base = _serve(data_dir, "--demo")
    token = httpx.post(
        f"{base}/api/auth/login", json={"email": email, "password": password}
    ).json()["access_token"]
    bars = httpx.get(f"{base}/api/bars", headers={"Authorization": f"Bearer {token}"}).json()
    assert len(bars["bars"]) == 1
    # a killed owner leaves a stale pid behind; the next start must clean it and still stop
    _stop(proc, signal.SIGKILL)
    proc, base = _serve(data_dir)
    assert httpx.get(f"{base}/api/health").status_code == 200
    _stop(proc)
    assert not _postmaster_running(data_dir)


def test_migrate_command_is_idempotent(database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "bartender.cli", "migrate"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "migrations applied" in done.stdout
