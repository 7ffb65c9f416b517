"""`bartender loadtest`: live stock and sales under load, measured end to end, for the people
who test before a bar goes live (and for docs/benchmarks.md).

Stages (k6 style) drive the open websockets and the sale rate: by default ramp the sockets up
(--ramp-up s, no sales), hold --clients sockets at --rate sales/s for --duration s, ramp down;
or give --stage DURATION:SOCKETS:RATE several times. The clients behave like the PWA: follow
`mode` into polling, reconnect with `since` after 1012/1006, re-subscribe on a seq gap. Sales
are retried with the same id on a transport error or a 5xx, like the PWA outbox.

Reports one JSON line on stdout (figures, status counts, thresholds), a digest on stderr, and
optionally a per-second CSV (--csv) and a PNG plot (--plot, matplotlib: the `plot` extra).
Thresholds (--threshold sale_p95_ms<500 --threshold errors<1% ...) fail the run with exit 1;
by default lost==0, duplicated==0 and errors<5%. Usage errors exit 2.

Two hosts can share one run: `--prepare plan.json` makes the account and bars; then
`--plan plan.json --role sockets` on one host and `--plan plan.json --role sales` on another.

Bounded: at most 20000 sockets, 2000 sales/s and 600 s of stages; every wait has a deadline.
Local targets only unless --allow-remote; the target and its addresses are printed first.
The generator's garbage collector is disabled (its pauses with thousands of live sockets would
show as server latency); the JSON says so ("gc": "disabled").
With --reference the same clients and rate also measure a plain python-websockets server
(bartender/loadtest/reference_server.py) and the JSON gives our figures as ratios of it.

Examples:
  bartender loadtest --spawn --clients 1000 --bars 100 --rate 200 --duration 20 --reference
  bartender loadtest --url http://127.0.0.1:8000 --clients 500 --bars 50 \\
      --threshold sale_p95_ms<500 --threshold ws_connect_p95_ms<1000 --threshold errors<1% \\
      --csv run.csv --plot run.png
"""
