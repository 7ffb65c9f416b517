"""What a fitting worker process runs, and the plain result it sends back.

Kept apart from `models` so the app process never imports statsforecast: workers import it
(once each, ~1 s), the app only reads `FitResult`s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FitResult:
    """One product's fitted forecast; index 0 of `mean`/`quantiles` is the current business day."""

    model: str
    family: str
    mean: np.ndarray  # shape (horizon,)
    dispersion: float
    quantiles: np.ndarray  # shape (3, horizon): P10, P50, P90


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
