"""The replay chain: what brings a subscription from its last seq to live.

The missed frames come from this process's history (the stock feed), else from the Redis
history shared by the instances, else (a short gap) from the PostgreSQL ledger, else one
snapshot. Whatever the source, `Subscription.go_live` merges the frames buffered meanwhile,
so the socket continues live with no gap and no duplicate.
"""

from __future__ import annotations

import uuid

import msgspec

from bartender.live import queries
from bartender.live.feed import StockEvent, StockFeed
from bartender.realtime import protocol
from bartender.realtime.cluster import ClusterLink
from bartender.realtime.subscription import Frames, Subscription


def stock_frame(event: StockEvent) -> str:
    """The `stock` message of one committed transaction (encoded once per transaction)."""
    return protocol.stock(event.bar_id, event.seq, event.changes or [], event.cause, event.items)


class Replay:
    def __init__(self, feed: StockFeed, cluster: ClusterLink | None, ledger_span: int) -> None:
        self.feed = feed
        self.cluster = cluster
        self.ledger_span = ledger_span  # longest gap read from the ledger; beyond: snapshot

    async def frames_since(self, sub: Subscription, force_snapshot: bool) -> Frames:
        """The frames after `sub.last_seq` (or a snapshot); `sub` is LIVE once they are out.
        The caller has put `sub` in LOADING so that live frames are buffered meanwhile."""
        since = sub.last_seq
        if since is not None and not force_snapshot:
            frames = await self._missed(sub, since)
            if frames is not None:
                return frames
        return await self._snapshot(sub)

    async def _missed(self, sub: Subscription, since: int) -> Frames | None:
        bar_id, feed = sub.bar_id, self.feed
        state = await feed.state(bar_id)
        if since >= state.seq:
            # the client is where we are, or ahead of this instance: fine unless it is ahead
            # of the database too (then only a snapshot resynchronises it)
            db_seq = state.seq if since == state.seq else await queries.bar_seq(feed.pool, bar_id)
            if db_seq is None or db_seq < since:
                return None
            return sub.go_live(since, {}, reach=0)
        known: dict[int, str] = {}
        events = state.events_since(since) if feed.live else None
        if events is not None:
            known.update((e.seq, stock_frame(e)) for e in events)
        elif self.cluster is not None and self.cluster.healthy:
            known.update(await self.cluster.history_since(bar_id, since))
        in_ledger = state.seq - since <= self.ledger_span
        if since + 1 not in known and in_ledger:
            # not in any history (a bar this process has not followed): the ledger
            known.update(await self._ledger(bar_id, since, state.seq))
            return sub.go_live(since, known, reach=state.seq)
        frames = sub.go_live(since, known, reach=state.seq)
        if frames is None and in_ledger:
            # the shared history has a hole (an instance died before writing its batch):
            # the ledger has every transaction; a snapshot is the last resort
            known.update(await self._ledger(bar_id, since, state.seq))
            frames = sub.go_live(since, known, reach=state.seq)
        return frames

    async def _ledger(self, bar_id: uuid.UUID, since: int, upto: int) -> dict[int, str]:
        rows = await queries.ledger_range(self.feed.pool, bar_id, since, upto)
        return {
            row["seq"]: protocol.stock(
                str(bar_id),
                row["seq"],
                msgspec.json.decode(row["changes"]),
                row["cause"],
                msgspec.json.decode(row["items"]),
            )
            for row in rows
        }

    async def _snapshot(self, sub: Subscription) -> Frames:
        seq, stock = await queries.snapshot(self.feed.pool, sub.bar_id)
        rest = sub.go_live(seq, {}, reach=0)
        if rest is None:  # frames buffered meanwhile have a hole: catch up again from here
            sub.last_seq, sub.buffer = seq, None
            sub.client.resync(sub)
            rest = []
        return [(protocol.snapshot(sub.bar_id, seq, stock.decode()), seq), *rest]
