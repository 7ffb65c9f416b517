"""The Redis link itself, against a real redis-server: heartbeats and leader election, and
mode changes over redis-py 8 pub/sub (the path `broadcaster` 0.3.1 breaks), surviving a
Redis restart."""

from __future__ import annotations

import asyncio
import uuid

from redis.exceptions import RedisError

from bartender.realtime.cluster import MODE_CHANNEL, ClusterLink, ModeNotice
from tests.realtime.conftest import RedisServer
from tests.support import eventually


def link(url: str, instance_id: str) -> ClusterLink:
    return ClusterLink(
        url, instance_id=instance_id, heartbeat_ttl_s=3, history_len=4, history_ttl_s=60
    )


async def subscribers(client: ClusterLink) -> int:
    return int((await client.redis.pubsub_numsub(MODE_CHANNEL))[0][1])


async def two_subscribers(client: ClusterLink) -> bool:
    return await subscribers(client) >= 2


async def test_instances_see_each_others_sockets_and_agree_on_one_leader(
    redis_server: RedisServer,
) -> None:
    a, b = link(redis_server.url, "a"), link(redis_server.url, "b")
    bar, other = uuid.uuid4(), uuid.uuid4()
    try:
        await a.exchange({bar: 2}, lag_ms=10.0, backlog=5)
        view_b = await b.exchange({bar: 3, other: 1}, lag_ms=300.0, backlog=0)
        view_a = await a.exchange({bar: 2}, lag_ms=10.0, backlog=5)
        assert view_a is not None and view_b is not None
        assert view_b.remote_counts == {bar: 2}
        assert view_a.remote_counts == {bar: 3, other: 1}
        assert (view_a.leader, view_b.leader) == (True, False)
        assert view_a.max_lag_ms == 300.0 and view_b.max_backlog == 5
    finally:
        await a.stop()
        await b.stop()
    # a stopped instance leaves the others' view at once
    c = link(redis_server.url, "c")
    view_c = await c.exchange({}, lag_ms=0.0, backlog=0)
    assert view_c is not None and view_c.remote_counts == {} and view_c.leader
    await c.stop()


async def test_mode_changes_reach_the_other_instance_through_pubsub_and_survive_a_restart(
    redis_server: RedisServer,
) -> None:
    leader, follower = link(redis_server.url, "a"), link(redis_server.url, "b")
    heard: asyncio.Queue[tuple[uuid.UUID, str, int]] = asyncio.Queue()
    follower.on_mode(lambda bar, mode, interval: heard.put_nowait((bar, mode, interval)))
    bar = uuid.uuid4()
    await leader.start()
    await follower.start()
    try:
        await eventually(lambda: two_subscribers(leader), what="both subscribed")
        notice = ModeNotice(bar, "poll", 3000)
        await leader.publish_modes([notice], [notice], ttl_s=30)
        assert await asyncio.wait_for(heard.get(), 5) == (bar, "poll", 3000)
        assert await follower.read_modes([bar, uuid.uuid4()]) == {bar: 3000}

        redis_server.stop()
        assert await follower.read_modes([bar]) is None  # down: fails fast, says so
        assert follower.healthy is False
        redis_server.start()

        async def resubscribed() -> bool:
            try:
                return await two_subscribers(leader)
            except RedisError:
                return False

        # both listeners re-subscribe by themselves
        await eventually(resubscribed, within=15, every=0.1, what="listeners back")
        back = ModeNotice(bar, "push", 5000)
        await leader.publish_modes([back], [], ttl_s=30)
        assert await asyncio.wait_for(heard.get(), 5) == (bar, "push", 5000)
        assert await follower.read_modes([bar]) == {}
    finally:
        await leader.stop()
        await follower.stop()
