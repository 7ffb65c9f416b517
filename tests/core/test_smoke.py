"""The server comes up on a real socket with a real database."""

from tests.support import Api


async def test_health_and_ready(api: Api) -> None:
    assert (await api.http.get("/api/health")).json() == {"status": "ok"}
    ready = await api.http.get("/api/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"]["postgres"] == "ok"


async def test_sell_happy_path(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=10)
    r = await api.sell(bar, {flag: 3})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["number"] == 1 and body["total"] == 3000
    assert body["stock"] == [{"product_id": flag, "stock": 7}]
    assert (await api.stock(bar))[flag] == 7
