"""Model choice on small deterministic series: the backtest picks models that beat the baseline."""

from __future__ import annotations

import numpy as np

from bartender.forecast.models import (
    SHORT_HISTORY_MODEL,
    fit_product,
    impute_censored,
    is_intermittent,
)
from tests.forecast.support import weekly_demand


def _mae(pred: np.ndarray, actual: np.ndarray) -> float:
    return float(np.mean(np.abs(pred - actual)))


def test_chosen_model_beats_seasonal_naive_on_held_out_weeks() -> None:
    # four busy beers, 11 weeks of history each; score the next 14 days against seasonal naive
    ours_error = naive_error = 0.0
    for seed in (11, 12, 13, 14):
        series = weekly_demand(92, seed=seed, level=12.0)
        train, actual = series[:77], series[78:92]  # day 77 is "today"; the horizon follows
        fit = fit_product(train, np.zeros(len(train), dtype=bool), 15)
        assert fit.family == "smooth"
        assert fit.cv_mae[fit.model] <= fit.cv_mae["SeasonalNaive(7)"]
        naive = np.array([train[len(train) - 7 + (i % 7)] for i in range(1, 15)], dtype=float)
        ours_error += _mae(fit.mean[1:15], actual)
        naive_error += _mae(naive, actual)
    assert ours_error < 0.85 * naive_error


def test_intermittent_series_use_intermittent_models() -> None:
    rng = np.random.default_rng(5)
    sales = np.where(rng.random(84) < 0.15, 1 + rng.poisson(1.0, 84), 0)
    censored = np.zeros(84, dtype=bool)
    assert is_intermittent(sales, censored)
    fit = fit_product(sales, censored, 15)
    assert fit.family == "intermittent"
    candidates = {
        "SeasonalNaive(7)",
        "SeasonalES(7,alpha=0.1)",
        "CrostonSBA",
        "ADIDA",
        "IMAPA",
        "TSB(0.1,0.1)",
    }
    assert fit.model in candidates
    assert set(fit.cv_mae) == candidates
    q = fit.quantiles()
    assert (q >= 0).all() and (np.diff(q, axis=0) >= 0).all()


def test_short_history_is_labelled_not_an_error() -> None:
    fit = fit_product(np.array([4, 6, 5]), np.zeros(3, dtype=bool), 10)
    assert fit.model == SHORT_HISTORY_MODEL and fit.family == "short"
    assert np.allclose(fit.mean, 5.0)
    fit = fit_product(np.array([], dtype=np.int64), np.zeros(0, dtype=bool), 10)
    assert fit.model == SHORT_HISTORY_MODEL and np.allclose(fit.mean, 0.0)


def test_censored_days_are_imputed_from_the_same_weekday_never_below_sales() -> None:
    sales = np.array([2, 4, 6, 8, 10, 12, 14] * 3, dtype=float)
    censored = np.zeros(21, dtype=bool)
    sales[12], censored[12] = 3, True  # a Saturday-like day that sold out at 3
    sales[13], censored[13] = 20, True  # sold out, but at more than the usual 14
    filled = impute_censored(sales, censored)
    assert filled[12] == 12.0  # the mean of the other two uncensored days of that weekday
    assert filled[13] == 20.0  # never below what was sold
    assert np.array_equal(filled[~censored], sales[~censored])
