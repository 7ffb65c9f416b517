"""The README's serve command: embedded PostgreSQL, migrations, --demo, clean stop, stale state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest

from bartender.demo import LOGINS
from tests.support import ServeProcess


def _serve(data_dir: Path, *args: str) -> ServeProcess:
    """`bartender serve` on its own embedded PostgreSQL in `data_dir` (no outside database)."""
    server = ServeProcess(
        {"BARTENDER_DATA_DIR": str(data_dir)}, args, unset=("DATABASE_URL", "REDIS_URL")
    )
    server.start()
    server.wait_ready()
    return server


def _postmaster_running(data_dir: Path) -> bool:
    return (data_dir / "pg" / "postmaster.pid").exists()


def _stop(server: ServeProcess, sig: int = signal.SIGTERM) -> str:
    code = server.stop(sig)
    assert sig == signal.SIGKILL or code != -signal.SIGKILL, "serve ignored the signal for 30 s"
    output = server.output()
    server.close()
    return output


@pytest.mark.slow
def test_serve_demo_on_embedded_postgres_survives_restarts_and_kills() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bt-cli-", dir="/tmp"))
    server = _serve(data_dir, "--demo")
    base = server.base_url
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
        output = _stop(server)
    assert "Chez Fatou" in output and email in output  # the demo logins are printed
    assert not _postmaster_running(data_dir), "SIGTERM must stop the embedded PostgreSQL"

    # the data survives a restart; --demo does not seed twice
    server = _serve(data_dir, "--demo")
    base = server.base_url
    token = httpx.post(
        f"{base}/api/auth/login", json={"email": email, "password": password}
    ).json()["access_token"]
    bars = httpx.get(f"{base}/api/bars", headers={"Authorization": f"Bearer {token}"}).json()
    assert len(bars["bars"]) == 1
    # a killed owner leaves a stale pid behind; the next start must clean it and still stop
    _stop(server, signal.SIGKILL)
    server = _serve(data_dir)
    assert httpx.get(f"{server.base_url}/api/health").status_code == 200
    _stop(server)
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
