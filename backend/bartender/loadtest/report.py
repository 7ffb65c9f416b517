"""How a run is reported: one JSON line on stdout (the summary), a readable digest on stderr,
and optionally a CSV time series and a PNG plot of sale latency and deliveries per second
(matplotlib, the `plot` extra: `pip install 'bartender[plot]'`)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from bartender.loadtest.stats import TimeSeries


def digest(result: dict[str, Any]) -> str:
    lines = [
        f"target: {result['target']} (role {result['role']})",
        f"machine: {result['machine']}",
        f"gc: {result['gc']}",
    ]
    for run in result["runs"]:
        lines += [
            f"[{run['name']}] {run['sockets_opened']} sockets, {run['sales_ok']} sales "
            f"({run['sales_per_s']}/s; {run['sales_failed']} failed, {run['sales_retried']} "
            f"retried to success, {run['http_502']} x 502)",
            f"  failed answers (retried or not): {run['problems'] or 'none'}",
            f"  ws connect ms p50/p95/p99: {run['ws_connect_p50_ms']}/{run['ws_connect_p95_ms']}"
            f"/{run['ws_connect_p99_ms']} ({run['connect_failures']} failed)",
            f"  sale ms p50/p95/p99: {run['sale_p50_ms']}/{run['sale_p95_ms']}/"
            f"{run['sale_p99_ms']}",
            f"  sale response->subscriber ms p50/p95/p99: {run['delivery_p50_ms']}/"
            f"{run['delivery_p95_ms']}/{run['delivery_p99_ms']} (negative: before the response)",
            f"  deliveries {run['deliveries']}: lost {run['lost']}, duplicated "
            f"{run['duplicated']}, gaps {run['gaps']}, reconnects {run['reconnects']}, "
            f"snapshots {run['snapshots']}, polls that advanced {run['polls_advanced']}, "
            f"poll-mode messages {run['poll_mode_messages']}",
            f"  errors {run['errors']}%; server: {run['server_rss_idle_kb_per_conn']} KB RSS per "
            f"idle socket, {run['server_rss_mb']} MB, {run['server_cpu_cores']} CPU cores",
        ]
    if result.get("ratios"):
        lines.append(
            "bartender / reference: " + ", ".join(f"{k} {v}" for k, v in result["ratios"].items())
        )
    for check in result["thresholds"]:
        mark = "ok  " if check["passed"] else "FAIL"
        lines.append(f"{mark} {check['threshold']} (was {check['actual']})")
    lines.append("PASSED" if result["passed"] else "FAILED")
    return "\n".join(lines)


def write_csv(series: TimeSeries, path: Path) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(TimeSeries.COLUMNS)
        writer.writerows(series.rows())


def write_plot(series: TimeSeries, path: Path, title: str) -> None:
    """Sale latency (p50, p95) and deliveries per second over time, for a report."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display: write the file only
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise SystemExit("--plot needs matplotlib: pip install 'bartender[plot]'") from exc
    rows = series.rows()
    t = [r[0] for r in rows]
    fig, (latency, deliveries) = plt.subplots(2, 1, sharex=True, figsize=(9, 6))
    for column, label in ((4, "sale p50 ms"), (5, "sale p95 ms")):
        latency.plot(
            t, [r[column] if r[column] is not None else float("nan") for r in rows], label=label
        )
    latency.set_ylabel("ms")
    latency.legend(loc="upper left")
    deliveries.plot(t, [r[6] for r in rows], label="deliveries/s", color="tab:green")
    sockets = deliveries.twinx()
    sockets.plot(t, [r[1] for r in rows], label="open sockets", color="tab:gray", linestyle=":")
    deliveries.set_ylabel("deliveries/s")
    sockets.set_ylabel("open sockets")
    deliveries.set_xlabel("s since start")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
