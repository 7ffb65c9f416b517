"""What a fitting worker process runs, and the plain result it sends back.

Kept apart from `models` so the app process never imports statsforecast: workers import it
(once each, ~1 s), the app only reads `FitResult`s.

A worker must not outlive the app (each holds ~220 MB): `die_with_parent` runs first in every
worker. On Linux the kernel kills the worker when its parent dies, even by kill -9
(PR_SET_PDEATHSIG); a thread watching the parent's pid is the fallback elsewhere, and when
prctl is unavailable.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass

import numpy as np

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PARENT_CHECK_S = 1.0


@dataclass(frozen=True)
class FitResult:
    """One product's fitted forecast; index 0 of `mean`/`quantiles` is the current business day."""

    model: str
    family: str
    mean: np.ndarray  # shape (horizon,)
    dispersion: float
    quantiles: np.ndarray  # shape (3, horizon): P10, P50, P90


def die_with_parent(parent_pid: int) -> None:
    """Process-pool initializer: end this worker when `parent_pid` (the app) dies."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass  # the watchdog below still works
    # pdeathsig only covers deaths after prctl: the app may already be gone
    if os.getppid() != parent_pid:
        os._exit(1)
    threading.Thread(
        target=_watch_parent, args=(parent_pid,), name="parent-watchdog", daemon=True
    ).start()


def _watch_parent(parent_pid: int) -> None:
    # an orphan is re-parented (to init or a subreaper): its parent pid changes
    while True:
        time.sleep(PARENT_CHECK_S)
        if os.getppid() != parent_pid:
            os._exit(1)


def warm_up() -> bool:
    """Import the models in this worker before the first real request needs them."""
    from bartender.forecast import models  # noqa: F401

    return True


def fit_chunk(
    series: dict[str, tuple[np.ndarray, np.ndarray]], horizon: int
) -> dict[str, FitResult]:
    """Fit each product of `series` ({key: (sold per day, censored per day)})."""
    from bartender.forecast.models import fit_many

    return {
        key: FitResult(fit.model, fit.family, fit.mean, fit.dispersion, fit.quantiles())
        for key, fit in fit_many(series, horizon).items()
    }
