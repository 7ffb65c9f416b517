"""The garbage-collector policy: survivors frozen out of the collector's way, cycles among
them still reclaimed by the periodic full pass."""

from __future__ import annotations

import gc
import weakref

from bartender.gcpolicy import freeze_survivors, full_pass


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_frozen_cycles_wait_for_the_full_pass() -> None:
    try:
        node = _Node()
        alive = weakref.ref(node)
        freeze_survivors()
        assert gc.get_freeze_count() > 0
        del node
        gc.collect()  # an ordinary full collection does not walk frozen objects
        assert alive() is not None
        full_pass()  # unfreeze, collect, freeze again
        assert alive() is None
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
