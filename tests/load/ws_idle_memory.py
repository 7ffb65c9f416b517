"""Server memory per idle websocket under uvicorn options, measured from outside.

Starts one embedded PostgreSQL, then for each option serves create_app() with uvicorn in its
own process and runs `bartender loadtest` (another process) against it: N sockets offering
permessage-deflate as browsers do, almost no sales; the load tester reports the server's RSS
slope per idle socket. Prints one JSON line: per option, each round's KB per socket and the
median, plus the ratio of each option to the shipped one within this run.

    python tests/load/ws_idle_memory.py --clients 3000 --rounds 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from seeding import free_port

OPTIONS = {
    # what `bartender serve` runs: websockets-sansio, no deflate, 64 KiB frames
    "shipped": {"ws": "websockets-sansio", "ws_per_message_deflate": False, "ws_max_size": 65536},
    "max_size_16MiB": {"ws": "websockets-sansio", "ws_per_message_deflate": False},
    "wsproto": {"ws": "wsproto", "ws_per_message_deflate": False, "ws_max_size": 65536},  # WS_IMPL
    "deflate_accepted": {"ws": "websockets-sansio", "ws_per_message_deflate": True},
}

SERVER = """
import json, sys, uvicorn
from bartender.app import create_app
from bartender.settings import Settings
options = json.loads(sys.argv[2])
uvicorn.run(create_app(Settings.from_env()), host="127.0.0.1", port=int(sys.argv[1]),
            lifespan="on", log_level="warning", **options)
"""


def wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    import urllib.request

    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit("server died")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/ready", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("server not ready")


def measure(database_url: str, options: dict[str, object], clients: int, bars: int) -> float:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BARTENDER_FORECAST_WORKERS": "0",
        "BARTENDER_ALERTS_WORKER": "0",
        "BARTENDER_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port), json.dumps(options)], env=env
    )
    try:
        wait_ready(port, server)
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "bartender.cli",
                "loadtest",
                "--url",
                f"http://127.0.0.1:{port}",
                "--server-pid",
                str(server.pid),
                "--clients",
                str(clients),
                "--bars",
                str(bars),
                "--rate",
                "1",
                "--duration",
                "8",
                "--ramp-up",
                "15",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
            check=True,
        ).stdout
        line = [x for x in out.splitlines() if x.startswith("{")][-1]
        return float(json.loads(line)["runs"][0]["server_rss_idle_kb_per_conn"])
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=3000)
    ap.add_argument("--bars", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--only", nargs="*", default=list(OPTIONS))
    args = ap.parse_args()
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="bt-xdg-"))
    from bartender.db.embedded import EmbeddedPostgres
    from bartender.db.migrate import migrate

    pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="bt-mem-", dir="/tmp")))
    url = pg.start()
    try:
        asyncio.run(migrate(url))
        kb: dict[str, list[float]] = {name: [] for name in args.only}
        for _ in range(args.rounds):  # alternate options each round: noise hits all alike
            for name in args.only:
                kb[name].append(measure(url, OPTIONS[name], args.clients, args.bars))
    finally:
        pg.stop()
    medians = {name: statistics.median(v) for name, v in kb.items()}
    base = medians.get("shipped")
    print(
        json.dumps(
            {
                "tool": "ws_idle_memory",
                "clients": args.clients,
                "bars": args.bars,
                "deflate_offered_by_clients": True,
                "kb_per_idle_socket": kb,
                "median": medians,
                "ratio_to_shipped": {n: round(m / base, 3) for n, m in medians.items()}
                if base
                else None,
                "note": "shared 2-core machine, other engineers' tests running: noisy",
            }
        )
    )


if __name__ == "__main__":
    main()
