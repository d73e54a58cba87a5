"""The metric definitions of the brief, with 95% confidence intervals.

- NPS = % promoters (9-10) - % detractors (0-6) on answers 0-10. Its interval comes from the
  variance of the per-answer score (+1 promoter, 0 passive, -1 detractor).
- CSAT = satisfied answers (4 or 5 on 1-5) / all answers x 100, with a Wilson interval.
- CLV = sum over t = 1..n of R_t / (1 + r)^t.
- Retention = repeat customers / all customers x 100, with a Wilson interval.

A rate without its sample size is not a result: every function returns `n` beside the value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from scipy.stats import binomtest, norm
from scipy.stats import t as student_t

CONFIDENCE = 0.95


@dataclass(frozen=True)
class MetricResult:
    """A metric's value (None when there is no data), sample size and 95% interval."""

    name: str
    value: float | None
    n: int
    ci_low: float | None
    ci_high: float | None
    counts: dict[str, int] = field(default_factory=dict)
    # The standard error of `value`, where the interval is a normal one (NPS).
    standard_error: float | None = None

    def describe(self, digits: int = 0) -> str:
        """E.g. "32 (95% CI 24 to 40, n = 412)"."""
        if self.value is None or self.ci_low is None or self.ci_high is None:
            return f"no data (n = {self.n})"
        return (
            f"{self.value:.{digits}f} (95% CI {self.ci_low:.{digits}f} to "
            f"{self.ci_high:.{digits}f}, n = {self.n})"
        )


def _z(confidence: float = CONFIDENCE) -> float:
    return float(norm.ppf(0.5 + confidence / 2))


def _scores(values: Iterable[int], low: int, high: int, name: str) -> list[int]:
    scores = [int(v) for v in values]
    bad = [v for v in scores if not low <= v <= high]
    if bad:
        raise ValueError(f"{name} answers must be between {low} and {high}; got {bad[:5]}")
    return scores


def nps(values: Iterable[int], confidence: float = CONFIDENCE) -> MetricResult:
    """Net Promoter Score of answers 0-10, in points from -100 to 100."""
    scores = _scores(values, 0, 10, "NPS")
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return nps_from_counts(promoters, len(scores) - promoters - detractors, detractors, confidence)


def nps_from_counts(
    promoters: int, passives: int, detractors: int, confidence: float = CONFIDENCE
) -> MetricResult:
    """NPS from the counts of promoters (9-10), passives (7-8) and detractors (0-6)."""
    if min(promoters, passives, detractors) < 0:
        raise ValueError("counts cannot be negative")
    n = promoters + passives + detractors
    counts = {"promoters": promoters, "passives": passives, "detractors": detractors}
    if n == 0:
        return MetricResult("nps", None, 0, None, None, counts)
    p, d = promoters / n, detractors / n
    value = 100 * (p - d)
    variance = p + d - (p - d) ** 2  # of the per-answer score +1 / 0 / -1
    se = 100 * math.sqrt(variance / n)
    margin = _z(confidence) * se
    return MetricResult(
        "nps",
        value,
        n,
        max(-100.0, value - margin),
        min(100.0, value + margin),
        counts,
        standard_error=se,
    )


def proportion(
    name: str,
    hits: int,
    n: int,
    confidence: float = CONFIDENCE,
    labels: tuple[str, str] = ("hits", "misses"),
) -> MetricResult:
    """A percentage of `hits` among `n`, with a Wilson interval."""
    if not 0 <= hits <= n:
        raise ValueError(f"{name}: hits must be between 0 and n")
    return _wilson(name, hits, n, {labels[0]: hits, labels[1]: n - hits}, confidence)


def _wilson(
    name: str, hits: int, n: int, counts: dict[str, int], confidence: float
) -> MetricResult:
    if n == 0:
        return MetricResult(name, None, 0, None, None, counts)
    interval = binomtest(hits, n).proportion_ci(confidence_level=confidence, method="wilson")
    return MetricResult(name, 100 * hits / n, n, 100 * interval.low, 100 * interval.high, counts)


def csat(values: Iterable[int], confidence: float = CONFIDENCE) -> MetricResult:
    """Customer satisfaction: the share of 4s and 5s among answers 1-5, in percent."""
    scores = _scores(values, 1, 5, "CSAT")
    satisfied = sum(1 for s in scores if s >= 4)
    return csat_from_counts(satisfied, len(scores), confidence)


def csat_from_counts(satisfied: int, n: int, confidence: float = CONFIDENCE) -> MetricResult:
    """CSAT from the number of satisfied answers (4 or 5) among `n` answers."""
    return proportion("csat", satisfied, n, confidence, ("satisfied", "not_satisfied"))


def mean_from_sums(
    name: str,
    n: int,
    total: float,
    total_of_squares: float,
    confidence: float = CONFIDENCE,
    lower_bound: float | None = None,
) -> MetricResult:
    """A mean with its Student-t interval, from n, the sum and the sum of squares.

    Databases aggregate these three exactly, so the interval needs no row in Python.
    `lower_bound` clips the interval for quantities that cannot go below it (times >= 0).
    """
    if n <= 0:
        return MetricResult(name, None, 0, None, None, {"n": 0})
    mean = total / n
    if n == 1:
        return MetricResult(name, mean, 1, None, None, {"n": 1})
    variance = max(0.0, (total_of_squares - n * mean * mean) / (n - 1))
    se = math.sqrt(variance / n)
    margin = float(student_t.ppf(0.5 + confidence / 2, n - 1)) * se
    low = mean - margin if lower_bound is None else max(lower_bound, mean - margin)
    return MetricResult(name, mean, n, low, mean + margin, {"n": n}, standard_error=se)


def retention_rate(
    repeat_customers: int, total_customers: int, confidence: float = CONFIDENCE
) -> MetricResult:
    """Repeat customers as a percentage of all customers of the period."""
    if not 0 <= repeat_customers <= total_customers:
        raise ValueError("repeat customers must be between 0 and the number of customers")
    return proportion(
        "retention", repeat_customers, total_customers, confidence, ("repeat", "not_repeat")
    )


def clv(revenues: Sequence[float], discount_rate: float) -> float:
    """Customer lifetime value: each period's revenue discounted to today, summed.

    `revenues[0]` is period 1, discounted once: CLV = sum_t R_t / (1 + r)^t.
    """
    if discount_rate <= -1:
        raise ValueError("the discount rate must be greater than -100%")
    return sum(r / (1 + discount_rate) ** t for t, r in enumerate(revenues, start=1))


@dataclass(frozen=True)
class Comparison:
    """This period against the previous one."""

    current: MetricResult
    previous: MetricResult
    difference: float | None
    ci_low: float | None
    ci_high: float | None

    @property
    def significant(self) -> bool:
        """Whether the 95% interval of the difference excludes zero."""
        return (
            self.ci_low is not None
            and self.ci_high is not None
            and (self.ci_low > 0 or self.ci_high < 0)
        )


def _has_interval(result: MetricResult) -> bool:
    return result.value is not None and result.ci_low is not None and result.ci_high is not None


def compare(
    current: MetricResult, previous: MetricResult, confidence: float = CONFIDENCE
) -> Comparison:
    """The change between two independent samples, with its 95% interval.

    Means and NPS (which carry a standard error) get a normal interval. Proportions, which
    carry Wilson intervals, get Newcombe's hybrid score interval built from those two
    intervals: unlike p(1-p)/n it stays honest at 0% and 100%, so 4 of 4 is not
    "significantly" better than 72 of 100.
    """
    if current.value is None or previous.value is None:
        return Comparison(current, previous, None, None, None)
    difference = current.value - previous.value
    se_now, se_before = current.standard_error, previous.standard_error
    if se_now is not None and se_before is not None:
        margin = _z(confidence) * math.hypot(se_now, se_before)
        return Comparison(current, previous, difference, difference - margin, difference + margin)
    if se_now is None and se_before is None and _has_interval(current) and _has_interval(previous):
        assert current.ci_low is not None and current.ci_high is not None
        assert previous.ci_low is not None and previous.ci_high is not None
        low = difference - math.hypot(
            current.value - current.ci_low, previous.ci_high - previous.value
        )
        high = difference + math.hypot(
            current.ci_high - current.value, previous.value - previous.ci_low
        )
        return Comparison(current, previous, difference, low, high)
    return Comparison(current, previous, difference, None, None)
