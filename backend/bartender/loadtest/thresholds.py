"""Pass/fail criteria for a load test run, k6 style: `--threshold sale_p95_ms<500`.

A threshold names a figure of the JSON summary (`metric_names()`), a comparison and a number;
`errors` is a percentage and may be written `errors<1%`. A run fails (exit 1) when any
threshold fails, including one whose figure this run did not measure (a `--role sales` run
measures no deliveries): asked for and not shown is not a pass.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
_PATTERN = re.compile(r"^\s*([a-z][a-z0-9_]*)\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*(%?)\s*$")
PERCENT_METRICS = frozenset({"errors"})


@dataclass(frozen=True)
class Threshold:
    metric: str
    op: str
    value: float

    def __str__(self) -> str:
        suffix = "%" if self.metric in PERCENT_METRICS else ""
        return f"{self.metric}{self.op}{self.value:g}{suffix}"

    def check(self, figures: dict[str, float | None]) -> tuple[bool, float | None]:
        """(passed, the figure); a figure the run did not measure fails."""
        actual = figures.get(self.metric)
        if actual is None:
            return False, None
        return _COMPARISONS[self.op](actual, self.value), actual


def parse_threshold(text: str, known: frozenset[str]) -> Threshold:
    """`sale_p95_ms<500` -> Threshold; ValueError naming what is wrong."""
    match = _PATTERN.match(text)
    if match is None:
        raise ValueError(f"threshold {text!r}: expected <metric><op><number>, e.g. sale_p95_ms<500")
    metric, op, value, percent = match.groups()
    if metric not in known:
        raise ValueError(f"threshold {text!r}: unknown metric {metric!r} (one of {sorted(known)})")
    if percent and metric not in PERCENT_METRICS:
        raise ValueError(f"threshold {text!r}: only {sorted(PERCENT_METRICS)} are percentages")
    return Threshold(metric, op, float(value))


def evaluate(
    thresholds: list[Threshold], figures: dict[str, float | None]
) -> list[dict[str, object]]:
    """One result per threshold: {"threshold", "actual", "passed"}."""
    results: list[dict[str, object]] = []
    for threshold in thresholds:
        passed, actual = threshold.check(figures)
        results.append({"threshold": str(threshold), "actual": actual, "passed": passed})
    return results
