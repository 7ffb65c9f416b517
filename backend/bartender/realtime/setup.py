"""Wiring of the realtime hub into one process's runtime (called by the app's lifespan)."""

from __future__ import annotations

import uuid

from bartender.realtime.cluster import ClusterLink
from bartender.realtime.hub import Hub
from bartender.realtime.policy import AdaptivePolicy, PolicyConfig
from bartender.runtime import Runtime


def build_hub(rt: Runtime) -> Hub:
    """The hub, its push/poll policy (writing `rt.modes`) and, with REDIS_URL, the Redis
    link and its readiness probe. Call before the listener starts."""
    settings = rt.settings
    cluster = None
    if settings.redis_url:
        cluster = ClusterLink(
            settings.redis_url,
            instance_id=uuid.uuid4().hex,
            heartbeat_ttl_s=max(3.0, 4 * settings.realtime_tick_s),
            history_len=settings.feed_history,
            history_ttl_s=settings.realtime_history_ttl_s,
        )
        rt.readiness_probes["redis"] = cluster.ping
    policy = AdaptivePolicy(
        PolicyConfig(
            enter_per_s=settings.realtime_poll_enter_per_s,
            exit_per_s=settings.realtime_poll_exit_per_s,
            calm_s=settings.realtime_poll_calm_s,
            window_s=settings.realtime_poll_window_s,
        )
    )
    return Hub(
        settings,
        rt.feed,
        rt.catalog,
        rt.modes,
        rt.tokens,
        rt.memberships,
        policy,
        cluster,
    )
