"""`bartender serve` with BARTENDER_LOG_FORMAT=json: every line JSON, request ids, no secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import httpx

from tests.support import TEST_SERVER_ENV, eventually, free_port

SECRET = "Bearer not-a-real-token-" + os.urandom(6).hex()


async def test_json_logs_of_a_real_server(database_url: str) -> None:
    port = free_port()
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(  # noqa: ASYNC220 (started once, before the test runs)
            [sys.executable, "-m", "bartender.cli", "serve", "--port", str(port)],
            env={
                **os.environ,
                **TEST_SERVER_ENV,
                "DATABASE_URL": database_url,
                "BARTENDER_LOG_LEVEL": "INFO",
                "BARTENDER_LOG_FORMAT": "json",
                "BARTENDER_ACCESS_LOG": "1",
            },
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:

                async def up() -> bool:
                    try:
                        return (await http.get("/api/health")).status_code == 200
                    except httpx.TransportError:
                        return proc.poll() is not None  # died: stop waiting, fail below

                await eventually(up, within=30, what="the server to answer")
                assert proc.poll() is None
                r = await http.get(
                    "/api/bars", headers={"Authorization": SECRET, "X-Request-ID": "log-test-1"}
                )
                assert r.status_code == 401
        finally:
            proc.terminate()
            proc.wait(15)
        log.seek(0)
        text = log.read().decode()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # all JSON
    access = [e for e in lines if e["logger"] == "bartender.access"]
    assert any(
        e["request_id"] == "log-test-1" and e["status"] == 401 and e["route"] == "/api/bars"
        for e in access
    ), access
    assert any(e["logger"] == "uvicorn.error" for e in lines)  # uvicorn's lines too
    assert SECRET.split()[1] not in text
