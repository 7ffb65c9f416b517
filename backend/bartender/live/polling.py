"""GET /stock?since=: the polling endpoint. Warm and unchanged, it never touches PostgreSQL."""

from __future__ import annotations

import re
import uuid

import msgspec

from bartender.live import queries
from bartender.live.catalog import CatalogVersions
from bartender.live.feed import StockFeed
from bartender.live.modes import ModeBoard

# how far back the database may be asked for net changes before a snapshot is cheaper
MAX_DB_CHANGES_SPAN = 10_000

_ETAG = re.compile(r'(?:W/)?"(\d+)"')


def etag(seq: int) -> str:
    return f'"{seq}"'


def not_modified(if_none_match: str | None, seq: int) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    # compared as text: a 5000-digit tag is simply not ours (int() would refuse it)
    wanted = str(seq)
    return any((m.lstrip("0") or "0") == wanted for m in _ETAG.findall(if_none_match))


def _body(
    bar_id: uuid.UUID,
    seq: int,
    mode: tuple[str, int, int],
    key: bytes,
    items: bytes,
    levels: bytes | None = None,
) -> bytes:
    # catalog_seq (additive): the bar's catalog version, +1 per product created or edited
    # (live/catalog.py); a client re-reads the product list when it changes.
    # `items` (additive, issue 15, with changes): the latest level of each stock item moved.
    extra = b',"items":%s' % levels if levels is not None else b""
    return (
        b'{"bar_id":"%s","seq":%d,"mode":"%s","poll_interval_ms":%d,"catalog_seq":%d,"%s":%s%s}'
        % (str(bar_id).encode(), seq, mode[0].encode(), mode[1], mode[2], key, items, extra)
    )


async def poll(
    feed: StockFeed,
    catalog: CatalogVersions,
    modes: ModeBoard,
    bar_id: uuid.UUID,
    since: int | None,
    if_none_match: str | None,
) -> tuple[int, int, bytes | None]:
    """Returns (status, seq, body): 304 with no body, or 200 with changes or a snapshot."""
    state = await feed.state(bar_id)
    seq = state.seq
    if not_modified(if_none_match, seq) and (since is None or since == seq):
        return 304, seq, None
    mode = (*modes.get(bar_id), await catalog.seq(bar_id))
    pool = feed.pool

    if since is not None and since >= 0:
        if since > seq:
            # this instance may lag one the client polled before: ask the database
            async with pool.acquire() as conn:
                db_seq, snap = await queries.snapshot(conn, bar_id)
                if db_seq < since:  # the client knows a future we do not: resync it
                    return 200, db_seq, _body(bar_id, db_seq, mode, b"snapshot", snap)
                changes = await queries.net_changes(conn, bar_id, since, db_seq)
                levels = await queries.net_items(conn, bar_id, since, db_seq)
            return 200, db_seq, _body(bar_id, db_seq, mode, b"changes", changes, levels)
        net = state.changes_since(since) if feed.live else None
        net_levels = state.items_since(since) if net is not None else None
        if net is not None and net_levels is not None:
            encoded = msgspec.json.encode(net), msgspec.json.encode(net_levels)
            return 200, seq, _body(bar_id, seq, mode, b"changes", *encoded)
        if seq - since <= MAX_DB_CHANGES_SPAN:
            async with pool.acquire() as conn:
                changes = await queries.net_changes(conn, bar_id, since, seq)
                levels = await queries.net_items(conn, bar_id, since, seq)
            return 200, seq, _body(bar_id, seq, mode, b"changes", changes, levels)
    async with pool.acquire() as conn:
        snap_seq, snap = await queries.snapshot(conn, bar_id)
    return 200, snap_seq, _body(bar_id, snap_seq, mode, b"snapshot", snap)
