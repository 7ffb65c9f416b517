"""GET /metrics over a real socket: access rules, and the series move with a sale and a 409.

Metrics are process-wide (one registry per process, as Prometheus expects), so the tests
compare a scrape before with a scrape after, never absolute values.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bartender.observe.logging import REQUEST_ID, JsonFormatter
from bartender.settings import Settings
from tests.realtime.wsclient import WsClient
from tests.support import Api, RunningServer, make_settings, start_server

TOKEN = "scrape-" + uuid.uuid4().hex
SALES_ROUTE = "/api/bars/{bar_id}/sales"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, metrics_token=TOKEN)


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(http: httpx.AsyncClient) -> Samples:
    r = await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_scrape_after_a_sale_and_a_409(api: Api, http: httpx.AsyncClient) -> None:
    bar = await api.bar()
    product = await api.product(bar, stock=3)
    before = await scrape(http)

    sold = await api.sell(bar, {product: 2})
    assert sold.status_code == 201, sold.text
    refused = await api.sell(bar, {product: 5})
    assert refused.status_code == 409 and refused.json()["type"] == "insufficient_stock"
    assert refused.json()["request_id"] == refused.headers["x-request-id"]

    after = await scrape(http)
    assert value(after, "bartender_sales_total") - value(before, "bartender_sales_total") == 1
    conflicts = "bartender_http_409_total"
    assert (
        value(after, conflicts, type="insufficient_stock")
        - value(before, conflicts, type="insufficient_stock")
        == 1
    )
    latency = "bartender_http_request_duration_seconds_count"
    for status in ("201", "409"):
        labels = {"route": SALES_ROUTE, "method": "POST", "status": status}
        assert value(after, latency, **labels) - value(before, latency, **labels) == 1, status
    # scrape-time gauges: the pool (min size 1 in tests) and the outbox, per channel
    assert value(after, "bartender_db_pool_size") >= 1
    assert value(after, "bartender_db_pool_waiting") == 0
    assert value(after, "bartender_stock_ops_in_flight") == 0
    for channel in ("push", "webhook"):
        assert ("bartender_outbox_depth", frozenset({("channel", channel)})) in after
    # the event-loop lag task ticks every 0.25 s; a 404 is timed under a fixed label
    names = {name for name, _ in after}
    assert {"bartender_event_loop_lag_seconds_count", "process_cpu_seconds_total"} <= names
    await http.get("/api/no-such-route")
    again = await scrape(http)
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert value(again, latency, **unmatched) - value(after, latency, **unmatched) == 1


async def test_websocket_gauges_come_from_the_hub(
    api: Api, http: httpx.AsyncClient, server: RunningServer
) -> None:
    bar = await api.bar()
    client = await WsClient.ready(server.ws_url, bar.owner.access_token)
    try:
        await client.send({"type": "subscribe", "bar_id": bar.id, "since": None})
        assert (await client.recv())["type"] == "snapshot"
        samples = await scrape(http)
        assert value(samples, "bartender_ws_connections") == 1
        assert value(samples, "bartender_ws_bar_connections_max") == 1
        assert value(samples, "bartender_bars_mode", mode="push") == 1
        assert value(samples, "bartender_bars_mode", mode="poll") == 0
    finally:
        await client.close()


async def test_metrics_need_the_token(http: httpx.AsyncClient) -> None:
    assert (await http.get("/metrics")).status_code == 401
    wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["type"] == "unauthenticated"


@pytest.fixture
async def open_server(database_url: str) -> AsyncIterator[RunningServer]:
    async with start_server(make_settings(database_url)) as running:
        yield running


async def test_without_token_only_unproxied_loopback(open_server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=open_server.base_url) as http:
        assert (await http.get("/metrics")).status_code == 200
        relayed = await http.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert relayed.status_code == 403 and relayed.json()["type"] == "forbidden"


async def test_request_ids(http: httpx.AsyncClient) -> None:
    generated = await http.get("/api/health")
    assert len(generated.headers["x-request-id"]) == 32
    kept = await http.get("/api/health", headers={"X-Request-ID": "phone-42.abc"})
    assert kept.headers["x-request-id"] == "phone-42.abc"
    unsafe = await http.get("/api/health", headers={"X-Request-ID": "a b\tc"})
    assert unsafe.headers["x-request-id"] not in ("a b\tc", "")
    missing = await http.get("/api/bars", headers={"X-Request-ID": "trace-1"})
    assert missing.status_code == 401
    assert missing.json()["request_id"] == "trace-1" == missing.headers["x-request-id"]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_access_log_never_carries_secrets(database_url: str) -> None:
    collect = _Collect()
    access = logging.getLogger("bartender.access")
    access.addHandler(collect)
    access.setLevel(logging.INFO)
    try:
        async with (
            start_server(make_settings(database_url, access_log=True)) as server,
            httpx.AsyncClient(base_url=server.base_url) as http,
        ):
            api = Api(http, server)
            owner = await api.user()
            r = await http.get("/api/bars?secret=query", headers=owner.headers)
            assert r.status_code == 200
    finally:
        access.removeHandler(collect)
        access.setLevel(logging.NOTSET)
    last = collect.records[-1]
    assert last.getMessage().startswith("GET /api/bars 200 ")
    text = "\n".join(rec.getMessage() + repr(rec.__dict__) for rec in collect.records)
    assert owner.access_token not in text and "secret=query" not in text


def test_json_log_lines_carry_the_request_id() -> None:
    record = logging.LogRecord("bartender", logging.WARNING, __file__, 1, "slow %s", ("x",), None)
    token = REQUEST_ID.set("req-7")
    try:
        record.request_id = REQUEST_ID.get()
        line = json.loads(JsonFormatter().format(record))
    finally:
        REQUEST_ID.reset(token)
    assert line["message"] == "slow x" and line["request_id"] == "req-7"
    assert line["level"] == "WARNING" and line["time"].endswith("Z")
