"""A small production layout for tests: Debian's nginx running the shipped deploy/nginx.conf
(tests/ops/nginx.py renders it) in front of `bartender serve` instances (tests.support's
ServeProcess: fixed ports, stopped, killed and started again on the same port)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

from tests.ops.nginx import nginx_binary, render_nginx_conf
from tests.support import eventually, free_port


async def wait_for_port(port: int, proc: subprocess.Popen[bytes], within: float) -> None:
    """Until something accepts connections on `port` (fails at once if `proc` exited)."""

    async def listening() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return False
        writer.close()
        await writer.wait_closed()
        return True

    await eventually(listening, within=within, what=f"something listening on {port}")


class Nginx:
    """Debian's nginx in the foreground with the shipped config, in front of two instances."""

    def __init__(self, work_dir: Path, upstream_ports: tuple[int, int]) -> None:
        self.port = free_port()
        self.work_dir = work_dir
        self.conf = work_dir / "nginx.conf"
        self.conf.write_text(render_nginx_conf(work_dir, self.port, upstream_ports))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [nginx_binary(), "-c", str(self.conf), "-e", str(self.work_dir / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def ready(self) -> None:
        assert self.proc is not None
        await wait_for_port(self.port, self.proc, 15)

    def errors(self) -> str:
        path = self.work_dir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: lets workers finish
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
