"""Realistic synthetic bar demand: the demo's history and the backtest's ground truth.

What a bar in Abidjan or Lyon actually sees, per product and business day:
- a weekly shape (quiet Monday/Tuesday, busy Friday/Saturday nights),
- payday peaks (the last two and first three days of a month),
- holidays (New Year, Labour Day, Independence Day, Christmas week) and a few promotions,
- a slow trend, over-dispersed counts (negative binomial), intermittent products
  (a whisky bottle now and then, sold in lumps), a few new products with a short history,
- and stockouts: the bar restocks with a fixed min/max rule and a supplier lead time, a late
  truck empties the shelf, and the days the shelf was empty record only what was left
  (censored demand).

Everything is seeded: the same seed gives the same bar.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

# Monday .. Sunday: a bar's week (the business day of a Friday night is the Friday)
WEEKLY_SHAPE = np.array([0.65, 0.7, 0.8, 0.95, 1.45, 1.75, 1.0])
WEEKLY_SHAPE = WEEKLY_SHAPE / WEEKLY_SHAPE.mean()
HOLIDAYS = {(1, 1): 2.2, (5, 1): 1.8, (8, 7): 2.0, (12, 24): 1.9, (12, 25): 1.6, (12, 31): 2.6}


@dataclass(frozen=True)
class Profile:
    """How one product sells: `base` units on an average day, `kind` says how."""

    name: str
    category: str
    kind: str  # "fast" | "medium" | "intermittent"
    base: float
    price: int
    cost: int
    # negative binomial size: smaller = burstier
    dispersion: float = 8.0


@dataclass
class SyntheticProduct:
    """One product's simulated life: true demand, what the ledger saw, and the stock."""

    profile: Profile
    start: int  # first day index on sale (new products start late)
    demand: np.ndarray  # true demand per day (int), also on censored days
    sales: np.ndarray  # what was sold = min(demand, stock on hand)
    opening: np.ndarray  # stock at the start of the day (after that day's arrival)
    censored: np.ndarray  # the shelf emptied that day: sales understate demand
    arrivals: np.ndarray  # units delivered at the start of each day
    low_threshold: int = 0
    par_level: int = 0
    deliveries: list[tuple[int, int]] = field(default_factory=list)

    @property
    def closing_stock(self) -> int:
        return int(self.opening[-1] - self.sales[-1])


def calendar_factor(dates: list[dt.date]) -> np.ndarray:
    """Weekly shape x payday x holidays for each date (shared by every product of a bar)."""
    out = np.empty(len(dates))
    for i, d in enumerate(dates):
        f = WEEKLY_SHAPE[d.weekday()]
        last_day = (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        if d.day <= 3 or d.day >= last_day.day - 1:
            f *= 1.35
        f *= HOLIDAYS.get((d.month, d.day), 1.0)
        out[i] = f
    return out


def expected_demand(profile: Profile, dates: list[dt.date], rng: np.random.Generator) -> np.ndarray:
    """The mean demand per day: calendar x a slow trend x promotions."""
    n = len(dates)
    mean = profile.base * calendar_factor(dates)
    trend = 1.0 + rng.uniform(-0.25, 0.25) * np.linspace(-0.5, 0.5, n)
    mean = mean * trend
    for _ in range(rng.integers(0, 3)):  # promotions: a few days at a discount
        start = int(rng.integers(0, max(1, n - 7)))
        mean[start : start + int(rng.integers(3, 8))] *= rng.uniform(1.4, 2.0)
    return mean


def draw_demand(profile: Profile, mean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Integer demand around `mean`: negative binomial, or lumpy occurrences if intermittent."""
    if profile.kind == "intermittent":
        # a sale happens on some days only, and then in lumps (a bottle and glasses)
        lump = 1.0 + 1.5
        occurs = rng.random(len(mean)) < np.clip(mean / lump, 0, 0.95)
        sizes = 1 + rng.poisson(1.5, len(mean))
        return np.where(occurs, sizes, 0).astype(np.int64)
    k = profile.dispersion
    p = k / (k + mean)
    return rng.negative_binomial(k, p).astype(np.int64)


def simulate_stock(
    product: SyntheticProduct,
    lead_time: int,
    rng: np.random.Generator,
    late_truck_rate: float = 0.08,
    trucks_until: int | None = None,
) -> None:
    """Run the bar's fixed min/max rule over the true demand; fills sales/opening/censored.

    The rule: at closing, when stock + on order <= low_threshold, order up to par_level;
    the truck comes `lead_time` days later, sometimes a few days late (the stockouts). No
    truck comes from day `trucks_until` on (it is still on the road when the data ends).
    """
    n = len(product.demand)
    stock = product.par_level
    pipeline: dict[int, int] = {}
    for day in range(product.start, n):
        arrived = pipeline.pop(day, 0) if trucks_until is None or day < trucks_until else 0
        stock += arrived
        product.arrivals[day] = arrived
        product.opening[day] = stock
        sold = min(int(product.demand[day]), stock)
        product.sales[day] = sold
        product.censored[day] = product.demand[day] >= stock
        stock -= sold
        on_order = sum(pipeline.values())
        if stock + on_order <= product.low_threshold:
            qty = product.par_level - stock - on_order
            delay = lead_time + (int(rng.integers(2, 5)) if rng.random() < late_truck_rate else 0)
            arrival = day + max(1, delay)
            pipeline[arrival] = pipeline.get(arrival, 0) + qty
            if arrival < (n if trucks_until is None else min(n, trucks_until)):
                product.deliveries.append((arrival, qty))


def generate_bar(
    profiles: list[Profile],
    days: int,
    seed: int,
    end: dt.date,
    lead_time: int = 2,
    new_products: int = 0,
    new_from: int | None = None,
) -> tuple[list[dt.date], list[SyntheticProduct]]:
    """Simulate `days` business days ending with `end` for each profile.

    The last `new_products` profiles start 5..13 days before day `new_from` (default: the
    end), so they have short histories there.
    Stock levels (low_threshold / par_level) follow the usual bar habit: about a day and a
    half of sales in reserve, a week's worth at par.
    """
    rng = np.random.default_rng(seed)
    dates = [end - dt.timedelta(days=days - 1 - i) for i in range(days)]
    products = []
    for index, profile in enumerate(profiles):
        start = 0
        if index >= len(profiles) - new_products:
            start = (days if new_from is None else new_from) - int(rng.integers(5, 14))
        mean = expected_demand(profile, dates, rng)
        demand = draw_demand(profile, mean, rng)
        demand[:start] = 0
        avg = max(profile.base, 0.3)
        product = SyntheticProduct(
            profile=profile,
            start=start,
            demand=demand,
            sales=np.zeros(days, dtype=np.int64),
            opening=np.zeros(days, dtype=np.int64),
            censored=np.zeros(days, dtype=bool),
            arrivals=np.zeros(days, dtype=np.int64),
            low_threshold=max(1, round(avg * (lead_time + 0.5))),
            par_level=max(3, round(avg * (lead_time + 7))),
        )
        simulate_stock(product, lead_time, rng)
        products.append(product)
    return dates, products


_BEERS = [
    "Flag",
    "Castel",
    "Bock",
    "Heineken",
    "Guinness",
    "33 Export",
    "Beaufort",
    "Ivoire",
    "Desperados",
    "Leffe",
    "Kronenbourg",
    "Pelforth",
]
_SODAS = [
    "Coca-Cola",
    "Fanta",
    "Sprite",
    "Youzou",
    "Orangina",
    "Schweppes",
    "Eau minérale",
    "Tonic",
    "Ginger ale",
    "Malta",
]
_SPIRITS = [
    "Whisky",
    "Rhum",
    "Gin",
    "Vodka",
    "Cognac",
    "Pastis",
    "Vin rouge",
    "Vin blanc",
    "Champagne",
    "Liqueur",
]


def bar_profiles(count: int, seed: int) -> list[Profile]:
    """`count` products: ~35 % fast movers, ~30 % medium, ~35 % intermittent."""
    rng = np.random.default_rng(seed)
    profiles = []
    for i in range(count):
        roll = i % 20
        if roll < 7:
            name, category, kind = _BEERS[i % len(_BEERS)], "Bières", "fast"
            base, price = float(rng.uniform(12, 60)), int(rng.choice([600, 800, 1000, 1200]))
        elif roll < 13:
            name, category, kind = _SODAS[i % len(_SODAS)], "Sodas", "medium"
            base, price = float(rng.uniform(3, 12)), int(rng.choice([300, 500, 700]))
        else:
            name, category, kind = _SPIRITS[i % len(_SPIRITS)], "Alcools", "intermittent"
            base, price = float(rng.uniform(0.15, 1.6)), int(rng.choice([1500, 2500, 20000]))
        profiles.append(
            Profile(
                f"{name} #{i + 1}",
                category,
                kind,
                base,
                price,
                int(price * 0.6),
                float(rng.uniform(4, 15)),
            )
        )
    return profiles


def profile_for(name: str, category: str, price: int, par_level: int) -> Profile:
    """A demand profile for an existing product (a demo drink) from its category and par."""
    lowered = category.lower()
    if "alcool" in lowered or "vin" in lowered or "spirit" in lowered:
        return Profile(
            name, category, "intermittent", max(0.4, par_level / 20), price, int(price * 0.5)
        )
    if "bi" in lowered:  # Bières / Beers
        return Profile(name, category, "fast", max(4.0, par_level / 4), price, int(price * 0.7))
    return Profile(name, category, "medium", max(2.0, par_level / 6), price, int(price * 0.6))
