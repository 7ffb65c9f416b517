"""What a load test runs against: a BarTender server (an account, bars with one stocked product
each, sales with the PWA's retry rule) or the plain python-websockets reference server.

A `Plan` is everything two load-test processes need to share one run (`--role sockets` on one
host, `--role sales` on another): written by `--prepare FILE`, read by `--plan FILE`.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections import Counter
from collections.abc import Awaitable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp
from websockets.asyncio.client import ClientConnection, connect

SALE_ATTEMPTS = 6  # a failed sale is retried with the same id (idempotent), like the PWA outbox
RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})


@dataclass
class Plan:
    base_url: str
    token: str
    bars: dict[str, str]  # bar id -> its product id

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/ws"

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)))
        path.chmod(0o600)  # it holds an access token

    @classmethod
    def load(cls, path: Path) -> Plan:
        return cls(**json.loads(path.read_text()))


async def gather_bounded(coros: list[Awaitable[Any]], limit: int) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(coro: Awaitable[Any]) -> Any:
        async with gate:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))


async def prepare(session: aiohttp.ClientSession, base_url: str, bars: int, stock: int) -> Plan:
    """A fresh owner account and `bars` bars, each with one product holding `stock`."""
    email = f"loadtest-{uuid.uuid4().hex[:10]}@example.com"
    password = uuid.uuid4().hex
    async with session.post(
        f"{base_url}/api/auth/signup", json={"email": email, "password": password, "name": "Load"}
    ) as r:
        if r.status != 201:
            raise RuntimeError(f"signup answered {r.status}: {await r.text()}")
    async with session.post(
        f"{base_url}/api/auth/login", json={"email": email, "password": password}
    ) as r:
        if r.status != 200:
            raise RuntimeError(f"login answered {r.status}: {await r.text()}")
        token = (await r.json())["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    products: dict[str, str] = {}

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        # a busy server (503) applied nothing: try again, a bounded number of times
        for attempt in range(SALE_ATTEMPTS):
            async with session.post(f"{base_url}{path}", headers=headers, json=body) as r:
                if r.status == 201:
                    answer: dict[str, Any] = await r.json()
                    return answer
                if r.status not in RETRYABLE or attempt == SALE_ATTEMPTS - 1:
                    raise RuntimeError(f"POST {path} answered {r.status}: {await r.text()}")
            await asyncio.sleep(min(2.0, 0.1 * 2**attempt))
        raise AssertionError("unreachable")

    async def make_bar(i: int) -> None:
        bar = await post(
            "/api/bars", {"name": f"Load {i}", "currency": "XOF", "timezone": "Africa/Abidjan"}
        )
        product = await post(
            f"/api/bars/{bar['id']}/products",
            {
                "name": "Flag",
                "category": "Bières",
                "price": 1000,
                "low_threshold": 0,
                "par_level": 0,
            },
        )
        await post(
            f"/api/bars/{bar['id']}/deliveries",
            {"id": str(uuid.uuid4()), "items": [{"product_id": product["id"], "qty": stock}]},
        )
        products[bar["id"]] = product["id"]

    await gather_bounded([make_bar(i) for i in range(bars)], 8)
    return Plan(base_url, token, products)


def _seconds(header: str | None) -> float | None:
    try:
        return max(0.0, float(header)) if header else None
    except ValueError:
        return None


def problem_type(status: int, text: str) -> str:
    """`503 busy` from a problem document's `type`; the bare status for anything else."""
    try:
        kind = json.loads(text.split(": ", 1)[1]).get("type", "")
    except (ValueError, IndexError, AttributeError):
        kind = ""
    return f"{status} {kind}".strip()


class SaleDriver:
    """Sells one unit at a time; a transport error or a 5xx/429 is retried with the same sale
    id (the server answers a replay with the original result), at most SALE_ATTEMPTS times."""

    def __init__(self, session: aiohttp.ClientSession, plan: Plan) -> None:
        self.session = session
        self.plan = plan
        self.headers = {"Authorization": f"Bearer {plan.token}"}
        self.statuses: Counter[str] = Counter()  # every answer, retries included
        self.problems: Counter[str] = Counter()  # "503 busy": failed answers by problem type
        self.retried = 0  # sales that needed more than one attempt and then succeeded
        self.committed: list[str] = []  # ids of the sales the server confirmed

    async def sell(self, bar: str) -> int:
        """The seq of the committed sale; RuntimeError when every attempt failed."""
        sale_id = str(uuid.uuid4())
        body = {"id": sale_id, "items": [{"product_id": self.plan.bars[bar], "qty": 1}]}
        url = f"{self.plan.base_url}/api/bars/{bar}/sales"
        last = "no attempt"
        retry_after: float | None = None
        for attempt in range(SALE_ATTEMPTS):
            if attempt:
                backoff = min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.5)
                # the server's Retry-After (503 busy) when it gave one, within the same bound
                await asyncio.sleep(min(2.0, retry_after) if retry_after else backoff)
            try:
                async with self.session.post(url, headers=self.headers, json=body) as r:
                    self.statuses[str(r.status)] += 1
                    if r.status in (200, 201):
                        seq = int((await r.json())["seq"])
                        self.committed.append(sale_id)
                        self.retried += attempt > 0
                        return seq
                    last = f"{r.status}: {(await r.text())[:200]}"
                    self.problems[problem_type(r.status, last)] += 1
                    retry_after = _seconds(r.headers.get("Retry-After"))
                    if r.status not in RETRYABLE:
                        break
            except (aiohttp.ClientError, TimeoutError) as exc:
                self.statuses[type(exc).__name__] += 1
                last = type(exc).__name__
                retry_after = None
        raise RuntimeError(f"sale failed after retries ({last})")

    async def final_seqs(self) -> dict[str, int]:
        """Each bar's current seq, from the server (the truth a client must reach)."""

        async def one(bar: str) -> tuple[str, int]:
            url = f"{self.plan.base_url}/api/bars/{bar}/products"
            for attempt in range(5):
                try:
                    async with self.session.get(url, headers=self.headers) as r:
                        if r.status == 200:
                            return bar, int((await r.json())["seq"])
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.2 * (attempt + 1))
            raise RuntimeError(f"could not read the seq of bar {bar}")

        return dict(await gather_bounded([one(bar) for bar in self.plan.bars], 16))


class ReferenceDriver:
    """Sales for the reference server: a `publish` message stands for a sale."""

    def __init__(self, publisher: ClientConnection, bars: list[str]) -> None:
        self.publisher = publisher
        self.pending: dict[str, asyncio.Queue[int]] = {bar: asyncio.Queue() for bar in bars}
        self.lock = asyncio.Lock()
        self.statuses: Counter[str] = Counter()
        self.problems: Counter[str] = Counter()
        self.retried = 0
        self.committed: list[str] = []
        self.reader = asyncio.create_task(self._read_acks())

    @classmethod
    async def open(cls, ws_url: str, bars: int) -> tuple[ReferenceDriver, Plan]:
        publisher = await connect(ws_url, compression=None, max_queue=None)
        names = [str(uuid.uuid4()) for _ in range(bars)]
        plan = Plan(
            ws_url.replace("ws://", "http://").rstrip("/"), "reference", dict.fromkeys(names, "")
        )
        return cls(publisher, names), plan

    async def _read_acks(self) -> None:
        async for raw in self.publisher:
            message = json.loads(raw)
            if message.get("type") == "published":
                self.pending[message["bar_id"]].put_nowait(message["seq"])

    async def sell(self, bar: str) -> int:
        async with self.lock:  # one publish per bar in flight keeps acks in order
            await self.publisher.send(json.dumps({"type": "publish", "bar_id": bar}))
        seq = await self.pending[bar].get()
        self.statuses["published"] += 1
        return seq

    async def final_seqs(self) -> dict[str, int]:
        return {}

    async def close(self) -> None:
        self.reader.cancel()
        await self.publisher.close()
