"""The PWA's logic without a browser: `node --test pwa/tests/` (Debian's nodejs, no npm package).

Covers live.js (gap, re-subscribe, poll, backoff) and store.js with fake sockets and clocks, in
milliseconds. Skipped only where node is not installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PWA = Path(__file__).resolve().parents[2] / "pwa"


def test_node_unit_tests_pass() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (apt-get install nodejs)")
    tests = sorted(str(p) for p in (PWA / "tests").glob("*.test.mjs"))
    assert tests, "no pwa/tests/*.test.mjs found"
    run = subprocess.run(
        [node, "--test", *tests], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "# fail 0" in run.stdout
