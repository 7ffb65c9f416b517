"""The subscription state machine and its `go_live` merge, as pure logic (no server)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from bartender.realtime.subscription import Resync, Subscription, SubState


@dataclass
class Socket:
    """Records what a subscription hands its socket."""

    user_id: uuid.UUID = field(default_factory=uuid.uuid4)
    subs: dict[uuid.UUID, Subscription] = field(default_factory=dict)
    sent: list[tuple[str, int | None]] = field(default_factory=list)
    resyncs: int = 0

    def enqueue(
        self, item: str | Resync, bar_id: uuid.UUID | None = None, seq: int | None = None
    ) -> None:
        assert isinstance(item, str)
        self.sent.append((item, seq))

    def resync(self, sub: Subscription, *, snapshot: bool = False, then_mode: bool = False) -> None:
        sub.state = SubState.PENDING
        self.resyncs += 1

    def drop_bar(self, bar_id: uuid.UUID) -> None:
        pass


def loading(since: int) -> tuple[Subscription, Socket]:
    socket = Socket()
    sub = Subscription(socket, uuid.uuid4(), last_seq=since)
    sub.start_loading()
    return sub, socket


def test_frames_buffered_while_loading_are_merged_without_duplicates() -> None:
    sub, socket = loading(since=10)
    sub.offer(12, "f12")  # live frames arrive while history is read
    sub.offer(13, "f13")
    frames = sub.go_live(10, {11: "f11", 12: "f12"}, reach=12)
    assert frames == [("f11", 11), ("f12", 12), ("f13", 13)]
    assert sub.state is SubState.LIVE and sub.last_seq == 13 and sub.buffer is None
    sub.offer(13, "f13")  # already sent: dropped
    sub.offer(14, "f14")
    assert socket.sent == [("f14", 14)]


def test_a_hole_or_a_run_short_of_reach_is_refused() -> None:
    sub, _ = loading(since=10)
    assert sub.go_live(10, {11: "a", 13: "c"}, reach=13) is None  # 12 missing
    assert sub.state is SubState.LOADING
    assert sub.go_live(10, {11: "a"}, reach=12) is None  # stops short of the database
    assert sub.go_live(10, {11: "a", 12: "b"}, reach=12) == [("a", 11), ("b", 12)]


def test_nothing_missed_goes_live_at_since() -> None:
    sub, _ = loading(since=7)
    assert sub.go_live(7, {}, reach=0) == []
    assert (sub.state, sub.last_seq) == (SubState.LIVE, 7)


def test_live_jump_asks_for_a_resync_and_pending_drops_frames() -> None:
    socket = Socket()
    sub = Subscription(socket, uuid.uuid4(), last_seq=5, state=SubState.LIVE)
    sub.offer(7, "f7")  # 6 never seen
    assert socket.resyncs == 1 and sub.state is SubState.PENDING
    sub.offer(8, "f8")  # pending: the resync will cover it
    assert socket.sent == []
