"""One socket's subscription to one bar: its state machine and the merge that makes it live.

A subscription remembers the last seq it queued and is in one of three states:
- LIVE: the next seq is queued, an older one dropped, a jump asks for a resync;
- PENDING: a resync is queued; live frames are dropped (the resync will cover them);
- LOADING: the resync is reading history or a snapshot; live frames are buffered and merged
  by seq when it finishes (`go_live`).
That is what keeps a socket's frames of a bar strictly in order, without gap or duplicate,
even when NOTIFYs arrive mid-replay. `go_live` is pure logic over the subscription's fields.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from typing import Protocol

Frames = list[tuple[str, int | None]]  # text frames with their stock seq (None: not stock)


class SubState(enum.Enum):
    LIVE = "live"
    PENDING = "pending"
    LOADING = "loading"


class Outbox(Protocol):
    """What a subscription knows of its socket (realtime/connection.py `Client`)."""

    user_id: uuid.UUID
    subs: dict[uuid.UUID, Subscription]

    def enqueue(
        self, item: str | Resync, bar_id: uuid.UUID | None = None, seq: int | None = None
    ) -> None: ...

    def resync(
        self, sub: Subscription, *, snapshot: bool = False, then_mode: bool = False
    ) -> None: ...

    def drop_bar(self, bar_id: uuid.UUID) -> None: ...


@dataclass(slots=True, eq=False)
class Subscription:
    client: Outbox
    bar_id: uuid.UUID
    last_seq: int | None
    state: SubState = SubState.PENDING
    buffer: list[tuple[int, str]] | None = None

    def offer(self, seq: int, frame: str) -> None:
        """A live stock frame of the bar, in seq order."""
        if self.state is SubState.LIVE:
            assert self.last_seq is not None
            if seq <= self.last_seq:
                return
            if seq == self.last_seq + 1:
                self.last_seq = seq
                self.client.enqueue(frame, self.bar_id, seq)
            else:  # a transaction we never saw: catch up from history or a snapshot
                self.client.resync(self)
        elif self.state is SubState.LOADING:
            assert self.buffer is not None
            self.buffer.append((seq, frame))

    def start_loading(self) -> None:
        self.state, self.buffer = SubState.LOADING, []

    def go_live(self, since: int, known: dict[int, str], reach: int) -> Frames | None:
        """Merge `known` frames with those buffered while loading and return the contiguous
        run after `since`; None when it has a hole or stops short of `reach` (the caller
        falls back to a snapshot). On success the subscription is LIVE at the end of the run,
        synchronously: no live frame can slip between the replay and what follows."""
        for seq, frame in self.buffer or ():
            known.setdefault(seq, frame)
        frames: Frames = []
        seq = since
        while seq + 1 in known:
            seq += 1
            frames.append((known[seq], seq))
        if seq < reach or any(s > seq for s in known):
            return None
        self.last_seq, self.state, self.buffer = seq, SubState.LIVE, None
        return frames


@dataclass(slots=True, frozen=True)
class Resync:
    """Queue marker: bring `sub` up to date here, in queue order (then send `mode`)."""

    sub: Subscription
    snapshot: bool = False
    then_mode: bool = False
