"""`bartender loadtest`: thresholds decide the exit code, stages interpolate, remote targets
need --allow-remote, a short real run against a served app reports what it saw, and the tester
is inside the built wheel (it used to be loaded from tests/ by path)."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from bartender.loadtest.runner import Stage, sales_due, targets_at
from bartender.loadtest.thresholds import evaluate, parse_threshold
from tests.support import spawn_server

ROOT = Path(__file__).resolve().parents[2]
KNOWN = frozenset({"sale_p95_ms", "errors", "lost", "ws_connect_p95_ms"})


def test_thresholds_parse_compare_and_fail_what_was_not_measured() -> None:
    checks = [
        parse_threshold(text, KNOWN)
        for text in ("sale_p95_ms<500", "errors<1%", "lost==0", "ws_connect_p95_ms <= 1000")
    ]
    figures: dict[str, float | None] = {
        "sale_p95_ms": 499.9,
        "errors": 1.0,
        "lost": 0,
        "ws_connect_p95_ms": None,
    }
    results = evaluate(checks, figures)
    assert [r["passed"] for r in results] == [True, False, True, False]
    assert [r["threshold"] for r in results] == [
        "sale_p95_ms<500",
        "errors<1%",
        "lost==0",
        "ws_connect_p95_ms<=1000",
    ]
    for bad in ("sale_p95_ms<<5", "nope<1", "lost<1%", "sale_p95_ms<fast"):
        with pytest.raises(ValueError):
            parse_threshold(bad, KNOWN)


def test_stages_ramp_linearly_from_the_previous_targets_and_jump_on_zero_duration() -> None:
    stages = [Stage.parse("10s:100:0"), Stage.parse("0:100:50"), Stage.parse("10:0:0")]
    assert targets_at(stages, 0) == (0, 0)
    assert targets_at(stages, 5) == (50, 0)
    assert targets_at(stages, 10) == (100, 50)  # the 0 s stage jumped the rate
    assert targets_at(stages, 15) == (50, 25)
    assert targets_at(stages, 30) == (0, 0)
    # the sales due are the rate's integral: none while ramping sockets, 50/s for 10 s after
    # the jump, then half of that over the 10 s ramp down
    assert sales_due(stages, 10) == 0
    assert sales_due(stages, 30) == 250
    assert sales_due([Stage(10, 0, 10)], 5) == 12.5
    with pytest.raises(ValueError):
        Stage.parse("10s:100")


def _loadtest(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bartender.cli", "loadtest", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_usage_errors_exit_2_and_a_remote_target_needs_allow_remote() -> None:
    helped = _loadtest("--help")
    assert helped.returncode == 0 and "--allow-remote" in helped.stdout, helped.stderr
    remote = _loadtest("--url", "http://192.0.2.10:8000", "--clients", "1", "--bars", "1")
    assert remote.returncode == 2 and "--allow-remote" in remote.stderr
    bad = _loadtest("--url", "http://127.0.0.1:1", "--threshold", "latency<5")
    assert bad.returncode == 2 and "unknown metric" in bad.stderr
    too_many = _loadtest("--url", "http://127.0.0.1:1", "--stage", "10s:999999:1")
    assert too_many.returncode == 2


@pytest.mark.slow
async def test_a_short_real_run_reports_and_its_thresholds_set_the_exit_code(
    database_url: str, tmp_path: Path
) -> None:
    async with spawn_server(database_url) as base:
        common = ["--url", base, "--bars", "3", "--csv", str(tmp_path / "run.csv")]
        common += ["--stage", "1s:12:0", "--stage", "0s:12:15", "--stage", "2s:12:15"]
        # sales stop, then the sockets stay a second (every delivery arrives) and close
        common += ["--stage", "0s:12:0", "--stage", "1s:12:0", "--stage", "0.5s:0:0"]
        passing = await asyncio.to_thread(
            _loadtest,
            *common,
            "--threshold",
            "lost==0",
            "--threshold",
            "errors<1%",
            "--threshold",
            "sale_p95_ms<5000",
        )
        assert passing.returncode == 0, passing.stderr
        result = json.loads(passing.stdout.splitlines()[-1])
        run = result["runs"][0]
        assert result["passed"] and result["target"].startswith(base)
        assert run["sales_ok"] == 30 and run["sales_failed"] == 0  # 15/s for 2 s
        assert run["sockets_opened"] == 12 and run["connect_failures"] == 0
        # every subscriber of a bar received every sale of that bar, once, in order
        assert run["lost"] == 0 and run["duplicated"] == 0 and run["gaps"] == 0
        assert run["deliveries"] == run["sales_ok"] * 4  # 12 sockets over 3 bars
        rows = list(csv.DictReader((tmp_path / "run.csv").read_text().splitlines()))
        assert sum(int(r["sales_ok"]) for r in rows) == run["sales_ok"]
        assert max(int(r["sockets"]) for r in rows) == 12

        failing = await asyncio.to_thread(
            _loadtest, *common, "--threshold", "sale_p50_ms<0.001", "--threshold", "lost==0"
        )
        assert failing.returncode == 1, failing.stderr
        checks = json.loads(failing.stdout.splitlines()[-1])["thresholds"]
        assert [c["passed"] for c in checks] == [False, True]
        assert "FAIL sale_p50_ms<0.001" in failing.stderr


@pytest.mark.slow
def test_the_built_wheel_carries_the_load_tester_and_it_runs_from_a_fresh_venv(
    tmp_path: Path,
) -> None:
    pytest.importorskip("hatchling", reason="building the wheel offline needs hatchling")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = (tmp_path / "dist").glob("bartender-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for module in ("command", "runner", "client", "targets", "thresholds", "reference_server"):
        assert f"bartender/loadtest/{module}.py" in names
    assert any(n.startswith("bartender/_migrations/") for n in names)

    # a fresh venv (dependencies from this environment: the network is not needed) with the
    # wheel installed, not editable, run from outside the checkout
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q"]
        + [str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    clean_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.run(
        [str(python), "-c", "import bartender.loadtest.command as c; print(c.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env,
        timeout=60,
    )
    assert where.returncode == 0, where.stderr
    assert where.stdout.strip().startswith(str(env_dir)), where.stdout
    help_text = subprocess.run(
        [str(env_dir / "bin" / "bartender"), "loadtest", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env,
        timeout=60,
    )
    assert help_text.returncode == 0, help_text.stderr
    assert "--threshold" in help_text.stdout and "--role" in help_text.stdout


def test_the_time_series_goes_to_csv_and_a_png_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the plot is the optional `plot` extra")
    from bartender.loadtest.report import write_csv, write_plot
    from bartender.loadtest.stats import TimeSeries

    series = TimeSeries(started=100.0, max_seconds=10)
    for second in range(5):
        bucket = series.at(100.0 + second + 0.5)
        bucket.sockets = 10
        bucket.sales_ok = 3
        bucket.sale_latencies_s += [0.010, 0.020, 0.030 + second / 100]
        bucket.deliveries = 30
    write_csv(series, tmp_path / "run.csv")
    rows = list(csv.DictReader((tmp_path / "run.csv").read_text().splitlines()))
    assert len(rows) == 5 and rows[4]["sale_p95_ms"] == "70.0" and rows[0]["deliveries"] == "30"
    write_plot(series, tmp_path / "run.png", "test")
    png = (tmp_path / "run.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000


async def _prepare_two_bars(base: str, tmp_path: Path) -> Path:
    """`loadtest --prepare` for two bars against `base`; the plan file."""
    plan = tmp_path / "plan.json"
    prepared = await asyncio.to_thread(
        _loadtest, "--url", base, "--bars", "2", "--prepare", str(plan), "--stage", "5s:0:10"
    )
    assert prepared.returncode == 0, prepared.stderr
    return plan


@pytest.mark.slow
async def test_sockets_and_sales_from_two_processes_share_one_run_through_a_plan(
    database_url: str, tmp_path: Path
) -> None:
    async with spawn_server(database_url) as base:
        plan = await _prepare_two_bars(base, tmp_path)
        assert plan.stat().st_mode & 0o777 == 0o600  # it holds an access token
        sockets, sales = await asyncio.gather(
            asyncio.to_thread(
                _loadtest,
                *("--plan", str(plan), "--role", "sockets"),
                *("--stage", "1s:6:0", "--stage", "7s:6:0", "--stage", "0.5s:0:0"),
            ),
            asyncio.to_thread(
                _loadtest,
                *("--plan", str(plan), "--role", "sales"),
                *("--stage", "3s:0:0", "--stage", "0s:0:10", "--stage", "2s:0:10"),
            ),
        )
    assert sales.returncode == 0, sales.stderr
    assert sockets.returncode == 0, sockets.stderr
    sold = json.loads(sales.stdout.splitlines()[-1])["runs"][0]
    seen = json.loads(sockets.stdout.splitlines()[-1])["runs"][0]
    assert sold["sales_ok"] == 20 and sold["sockets_opened"] == 0 and sold["lost"] is None
    assert seen["sales_ok"] == 0 and seen["sockets_opened"] == 6
    # the sockets saw every sale the other process made: 3 sockets per bar
    assert seen["lost"] == 0 and seen["duplicated"] == 0 and seen["gaps"] == 0
    assert seen["deliveries"] == 20 * 3


@pytest.mark.slow
async def test_clients_follow_a_bar_into_poll_mode_and_still_reach_every_sale(
    database_url: str, tmp_path: Path
) -> None:
    async with spawn_server(database_url) as base:
        plan = await _prepare_two_bars(base, tmp_path)
        env = {**os.environ, "DATABASE_URL": database_url}
        for bar in json.loads(plan.read_text())["bars"]:  # the emergency switch, per bar
            forced = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "bartender.cli", "mode", "--bar", bar, "poll"],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert forced.returncode == 0, forced.stderr
        run = await asyncio.to_thread(
            _loadtest,
            *("--plan", str(plan), "--threshold", "lost==0"),
            *("--stage", "1s:4:0", "--stage", "0s:4:5", "--stage", "2s:4:5", "--stage", "0s:4:0"),
            # the sockets stay open: the run waits until each client's polls reach the end
            *(
                "--stage",
                "0.5s:4:0",
            ),
        )
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout.splitlines()[-1])["runs"][0]
    assert figures["sales_ok"] == 10
    assert figures["poll_mode_messages"] >= 4  # every client was told to poll
    assert figures["deliveries"] == 0  # no stock message in poll mode ...
    assert figures["polls_advanced"] >= 1 and figures["lost"] == 0  # ... the polls caught up
