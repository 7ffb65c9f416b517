"""Catalog changes of a bar (NOTIFY bt_catalog, migrations/functions/22_catalog.sql): a per-bar
catalog version kept in process for the polling endpoint and `mode` messages, and the changed
product handed to the hub so subscribed sockets see it without a reload."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable

import asyncpg
import msgspec

from bartender.db.listener import Listener

log = logging.getLogger("bartender.catalog")

CATALOG_SEQ = "SELECT seq FROM bar_catalog WHERE bar_id = $1"
# the product as GET /products shows it (product_view, the one definition of that shape)
PRODUCT_JSON = """
SELECT (to_jsonb(p) - 'bar_id')::text FROM product_view p WHERE p.bar_id = $1 AND p.id = $2
"""


class CatalogNotice(msgspec.Struct):
    bar_id: uuid.UUID
    catalog_seq: int
    product: msgspec.Raw = msgspec.Raw(b"")  # empty when the payload was too large
    product_id: uuid.UUID | None = None


CatalogSubscriber = Callable[[uuid.UUID, int, str], None]

_decode = msgspec.json.Decoder(CatalogNotice).decode


class CatalogVersions:
    """Per-bar catalog versions (cached, NOTIFY-maintained) and catalog-change subscribers."""

    def __init__(self, pool: asyncpg.Pool, listener: Listener) -> None:
        self._pool = pool
        self._listener = listener
        self._seqs: dict[uuid.UUID, int] = {}
        self._subscribers: list[CatalogSubscriber] = []
        self._fetches: set[asyncio.Task[None]] = set()
        listener.on("bt_catalog", self._on_notify)
        listener.on_reconnect(self._forget)

    def subscribe(self, subscriber: CatalogSubscriber) -> None:
        self._subscribers.append(subscriber)

    async def seq(self, bar_id: uuid.UUID) -> int:
        """The bar's catalog version; no query when known and LISTEN is live."""
        known = self._seqs.get(bar_id)
        if known is not None and self._listener.live:
            return known
        seq = int(await self._pool.fetchval(CATALOG_SEQ, bar_id) or 0)
        if self._listener.live:
            seq = max(seq, self._seqs.get(bar_id, 0))
            self._seqs[bar_id] = seq
        return seq

    def known(self, bar_id: uuid.UUID) -> int:
        """The last catalog version seen for the bar (0 when never read)."""
        return self._seqs.get(bar_id, 0)

    async def _forget(self) -> None:
        self._seqs.clear()  # changes sent while LISTEN was down are lost: re-read

    def _on_notify(self, payload: str) -> None:
        try:
            notice = _decode(payload)
        except (msgspec.DecodeError, msgspec.ValidationError):
            log.warning("bad bt_catalog payload %r", payload)
            return
        if notice.catalog_seq > self._seqs.get(notice.bar_id, -1):
            self._seqs[notice.bar_id] = notice.catalog_seq
        if len(notice.product):
            self._publish(notice.bar_id, notice.catalog_seq, bytes(notice.product).decode())
        elif notice.product_id is not None:  # too large for NOTIFY: read it
            task = asyncio.create_task(self._fetch_and_publish(notice))
            self._fetches.add(task)
            task.add_done_callback(self._fetches.discard)

    async def _fetch_and_publish(self, notice: CatalogNotice) -> None:
        product = await self._pool.fetchval(PRODUCT_JSON, notice.bar_id, notice.product_id)
        if product is not None:
            self._publish(notice.bar_id, notice.catalog_seq, product)

    def _publish(self, bar_id: uuid.UUID, catalog_seq: int, product_json: str) -> None:
        for subscriber in self._subscribers:
            try:
                subscriber(bar_id, catalog_seq, product_json)
            except Exception:
                log.exception("catalog subscriber failed")
