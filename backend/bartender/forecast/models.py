"""Per-product model choice and fitting (pure numpy + statsforecast; runs in worker processes).

Input: one product's units sold per business day (oldest first, ending yesterday) and which of
those days were censored (the shelf was empty: demand was at least what was sold). Output: the
mean demand for the next `horizon` days, the winning model's name, and the dispersion that the
quantiles and the safety stock use.

Choice: a rolling-origin backtest over the last `CV_WINDOWS` weeks (fit on everything before
the origin, forecast 7 days, score the mean absolute error on uncensored days only; seasonal
naive must beat the others by 10 %, as its luck on three weeks does not carry forward) among
- smooth series: SeasonalNaive(7), SeasonalES(7, alpha=0.1) (a fixed, cheap ETS per weekday)
  and AutoETS(season_length=7, model="ANA") (8 ms a fit here, so only where the history has
  at least `ETS_MIN_DAYS` days; the full ZZZ search costs ~65 ms a fit for no gain here);
- intermittent series (average inter-demand interval >= 1.32): SeasonalNaive(7), CrostonSBA,
  ADIDA, IMAPA, TSB(0.1, 0.1), and SeasonalES(7) (spirits sell on weekends too).
Histories under `MIN_HISTORY_DAYS` days get `short_history_mean` (mean of the observed days):
too short to backtest anything, said so in the model name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsforecast.models import (
    ADIDA,
    IMAPA,
    TSB,
    AutoETS,
    CrostonSBA,
    SeasonalExponentialSmoothing,
    SeasonalNaive,
)

SEASON = 7
MIN_HISTORY_DAYS = 14
CV_WINDOWS = 3
CV_HORIZON = 7
ETS_MIN_DAYS = 56
# AutoETS is the cost (~8 ms a fit on 180 days, linear in length): it sees the last 13 weeks
# only, and only products selling at least ETS_MIN_MEAN a day, where a tuned level and
# weekly shape pay off; slower sellers are well served by the fixed SeasonalES.
ETS_WINDOW_DAYS = 91
ETS_MIN_MEAN = 3.0
INTERMITTENT_ADI = 1.32
SHORT_HISTORY_MODEL = "short_history_mean"
MAX_DISPERSION = 40.0
QUANTILES = (0.1, 0.5, 0.9)

# name -> factory; models are cheap to build, and a fresh one per fit keeps fits independent
SMOOTH_MODELS: dict[str, Callable[[], object]] = {
    "SeasonalNaive(7)": lambda: SeasonalNaive(SEASON),
    "SeasonalES(7,alpha=0.1)": lambda: SeasonalExponentialSmoothing(SEASON, 0.1),
    "AutoETS(7,ANA)": lambda: AutoETS(season_length=SEASON, model="ANA"),
}
INTERMITTENT_MODELS: dict[str, Callable[[], object]] = {
    "SeasonalNaive(7)": lambda: SeasonalNaive(SEASON),
    "SeasonalES(7,alpha=0.1)": SMOOTH_MODELS["SeasonalES(7,alpha=0.1)"],
    "CrostonSBA": CrostonSBA,
    "ADIDA": ADIDA,
    "IMAPA": IMAPA,
    "TSB(0.1,0.1)": lambda: TSB(0.1, 0.1),
}
BASELINE = "SeasonalNaive(7)"
SN_HANDICAP = 1.1


@dataclass(frozen=True)
class Fit:
    """One product's forecast: mean per day (day 0 = the first day after the history)."""

    model: str
    family: str  # "smooth" | "intermittent" | "short"
    mean: np.ndarray
    # variance = dispersion * mean (quasi-Poisson, >= 1): fitted on backtest errors
    dispersion: float
    cv_mae: dict[str, float]

    def quantiles(self) -> np.ndarray:
        """P10/P50/P90 per day, shape (3, horizon): monotone, >= 0, from the demand distribution."""
        return demand_quantiles(self.mean, self.dispersion)


def demand_quantiles(mean: np.ndarray, dispersion: float) -> np.ndarray:
    """Quantiles of a negative binomial with this mean and variance = dispersion * mean.

    Counts are integers, so the quantiles are too (the smallest k with P(D <= k) >= q); a
    dispersion of 1 is Poisson. Monotone in q by construction and never negative.
    """
    mean = np.maximum(np.asarray(mean, dtype=float), 0.0)
    out = np.zeros((len(QUANTILES), len(mean)))
    positive = mean > 1e-9
    if not positive.any():
        return out
    m = mean[positive]
    for row, q in enumerate(QUANTILES):
        if dispersion <= 1.0001:
            out[row, positive] = stats.poisson.ppf(q, m)
        else:
            # NB(n, p): mean n(1-p)/p, variance mean/p  ->  p = 1/dispersion
            p = 1.0 / dispersion
            n = m * p / (1.0 - p)
            out[row, positive] = stats.nbinom.ppf(q, n, p)
    return np.maximum.accumulate(np.maximum(out, 0.0), axis=0)


def impute_censored(sales: np.ndarray, censored: np.ndarray) -> np.ndarray:
    """Fill censored days for fitting only (models need a contiguous series).

    A censored day's demand was at least what was sold; the estimate is the mean of the same
    weekday's uncensored days (else of all uncensored days), never below what was sold.
    """
    y = sales.astype(float).copy()
    if not censored.any():
        return y
    observed = ~censored
    overall = y[observed].mean() if observed.any() else float(y.max(initial=0.0))
    weekday = np.arange(len(y)) % SEASON
    for t in np.flatnonzero(censored):
        same = observed & (weekday == weekday[t])
        estimate = y[same].mean() if same.any() else overall
        y[t] = max(y[t], estimate)
    return y


def is_intermittent(sales: np.ndarray, censored: np.ndarray) -> bool:
    """Average inter-demand interval (observed days per day with a sale) >= 1.32 (Syntetos)."""
    observed = sales[~censored]
    nonzero = int(np.count_nonzero(observed))
    return nonzero == 0 or len(observed) / nonzero >= INTERMITTENT_ADI


def _forecast(factory: Callable[[], object], y: np.ndarray, horizon: int) -> np.ndarray:
    if factory is SMOOTH_MODELS["AutoETS(7,ANA)"]:
        y = y[-ETS_WINDOW_DAYS:]
    result = factory().forecast(y=y, h=horizon)  # type: ignore[attr-defined]
    return np.maximum(np.asarray(result["mean"], dtype=float), 0.0)


def _candidates(family: str, y: np.ndarray) -> dict[str, Callable[[], object]]:
    if family == "intermittent":
        return INTERMITTENT_MODELS
    if len(y) >= ETS_MIN_DAYS and float(y[-ETS_WINDOW_DAYS:].mean()) >= ETS_MIN_MEAN:
        return SMOOTH_MODELS
    return {k: v for k, v in SMOOTH_MODELS.items() if not k.startswith("AutoETS")}


def backtest(
    y: np.ndarray,
    censored: np.ndarray,
    models: dict[str, Callable[[], object]],
    windows: int = CV_WINDOWS,
    horizon: int = CV_HORIZON,
) -> tuple[dict[str, float], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Rolling-origin backtest: MAE per model on uncensored days, and (forecast, actual) pairs."""
    n = len(y)
    pairs: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {k: ([], []) for k in models}
    for w in range(windows, 0, -1):
        origin = n - w * horizon
        if origin < MIN_HISTORY_DAYS:
            continue
        train, test = y[:origin], y[origin : origin + horizon]
        keep = ~censored[origin : origin + horizon]
        if not keep.any():
            continue
        for name, factory in models.items():
            pred = _forecast(factory, train, len(test))
            pairs[name][0].append(pred[keep])
            pairs[name][1].append(test[keep])
    mae: dict[str, float] = {}
    joined: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, (preds, actuals) in pairs.items():
        if preds:
            p, a = np.concatenate(preds), np.concatenate(actuals)
            mae[name] = float(np.mean(np.abs(p - a)))
            joined[name] = (p, a)
    return mae, joined


def dispersion_from(pred: np.ndarray, actual: np.ndarray) -> float:
    """variance / mean of the demand given the forecast, from out-of-sample errors (>= 1)."""
    denominator = float(np.sum(np.maximum(pred, 0.05)))
    if denominator <= 0 or len(pred) == 0:
        return 1.0
    return float(np.clip(np.sum((actual - pred) ** 2) / denominator, 1.0, MAX_DISPERSION))


def fit_product(sales: np.ndarray, censored: np.ndarray, horizon: int) -> Fit:
    """Choose, fit and forecast one product (see the module docstring)."""
    sales = np.asarray(sales, dtype=float)
    censored = np.asarray(censored, dtype=bool)
    observed = sales[~censored]
    if len(sales) < MIN_HISTORY_DAYS or len(observed) < SEASON:
        level = float(observed.mean()) if len(observed) else float(sales.max(initial=0.0))
        spread = float(observed.var() / level) if len(observed) > 1 and level > 0 else 1.0
        return Fit(
            SHORT_HISTORY_MODEL,
            "short",
            np.full(horizon, level),
            float(np.clip(spread, 1.0, MAX_DISPERSION)),
            {},
        )
    family = "intermittent" if is_intermittent(sales, censored) else "smooth"
    y = impute_censored(sales, censored)
    models = _candidates(family, y)
    mae, pairs = backtest(y, censored, models)
    if not mae:  # every backtest day censored: trust the baseline family choice
        name = BASELINE if family == "smooth" else "CrostonSBA"
        return Fit(name, family, _forecast(models[name], y, horizon), 1.0, {})
    # ties go to the earlier (cheaper, simpler) model; seasonal naive copies last week's noise,
    # so it must win by a margin to be believed
    scored = {k: v * (SN_HANDICAP if k == BASELINE else 1.0) for k, v in mae.items()}
    name = min(scored, key=lambda k: (round(scored[k], 9), list(models).index(k)))
    pred, actual = pairs[name]
    return Fit(
        name, family, _forecast(models[name], y, horizon), dispersion_from(pred, actual), mae
    )


def fit_many(series: dict[str, tuple[np.ndarray, np.ndarray]], horizon: int) -> dict[str, Fit]:
    """Fit every product of a chunk (the unit of work a worker process gets)."""
    return {key: fit_product(sales, censored, horizon) for key, (sales, censored) in series.items()}
