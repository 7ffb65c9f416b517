"""The shipped deploy/nginx.conf, rendered for a test: its listen port and upstream ports
replaced (the same rewrite docker-compose.yml does for its containers), logs and pid in a
temporary directory."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

SHIPPED = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"


def nginx_binary() -> str:
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if binary is None:
        pytest.fail("nginx is missing (apt-get install nginx; .ci/run does)")
    return binary


def render_nginx_conf(work_dir: Path, listen_port: int, upstream_ports: tuple[int, int]) -> str:
    text = SHIPPED.read_text()
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{listen_port};",
        "127.0.0.1:8001 ": f"127.0.0.1:{upstream_ports[0]} ",
        "127.0.0.1:8002 ": f"127.0.0.1:{upstream_ports[1]} ",
        "/var/log/nginx/": f"{work_dir}/",
    }
    for shipped, local in replacements.items():
        assert shipped in text, f"deploy/nginx.conf no longer has {shipped!r}"
        text = text.replace(shipped, local)
    # a test's nginx runs in the foreground with its pid file beside its logs
    return f"pid {work_dir}/nginx.pid;\ndaemon off;\n" + text
