"""The metric definitions of the brief, with 95% confidence intervals.

- NPS = % promoters (9-10) - % detractors (0-6) on answers 0-10, with the adjusted-Wald
  interval of Rocks (2016): the plain normal one falls short of 95% at small n.
- CSAT = satisfied answers (4 or 5 on 1-5) / all answers x 100, with a Wilson interval.
- CLV = sum over t = 1..n of R_t / (1 + r)^t.
- Retention = repeat customers / all customers x 100, with a Wilson interval.

A rate without its sample size is not a result: every function returns `n` beside the value,
and a score with fewer than `MIN_SAMPLE_SIZE` answers is shown as "too few answers" (`too_few`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from scipy.stats import binomtest, norm
from scipy.stats import t as student_t

CONFIDENCE = 0.95
# Below this many answers a score is "too few answers" instead of a number (the default of
# `Settings.min_sample_size`, SUPPORTBOT_MIN_SAMPLE_SIZE).
MIN_SAMPLE_SIZE = 10
# The metrics the minimum applies to: the scores customers give.
SCORE_METRICS = frozenset({"nps", "csat"})
# Rocks (2016): pseudo-answers added to n, and to promoters and to detractors each.
NPS_ADDED_ANSWERS = 3.0
NPS_ADDED_PROMOTERS = NPS_ADDED_DETRACTORS = 0.75


@dataclass(frozen=True)
class MetricResult:
    """A metric's value (None when there is no data), sample size and 95% interval."""

    name: str
    value: float | None
    n: int
    ci_low: float | None
    ci_high: float | None
    counts: dict[str, int] = field(default_factory=dict)
    # The standard error of a normal interval (NPS, means), and the point that interval is
    # centred on when it is not `value` (the adjusted NPS); `compare` combines both.
    standard_error: float | None = None
    centre: float | None = None

    @property
    def interval_centre(self) -> float | None:
        return self.value if self.centre is None else self.centre

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


def _whole(value: object) -> int | None:
    """`value` as an int if it is a whole number (9, numpy's 9, 9.0); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number) and number.is_integer():
            return int(number)
    return None


def _scores(values: Iterable[object], low: int, high: int, name: str) -> list[int]:
    """Answers as ints, refusing anything that is not a whole number from `low` to `high`.

    Whole-number floats count (9.0, as Rasa's float slots and some drivers give them); 4.5,
    "4", True and NaN do not: truncating them would report a score nobody gave.
    """
    scores, bad = [], []
    for value in values:
        score = _whole(value)
        if score is None or not low <= score <= high:
            bad.append(value)
        else:
            scores.append(score)
    if bad:
        raise ValueError(
            f"{name} answers must be whole numbers from {low} to {high}; got {bad[:5]!r}"
        )
    return scores


def nps(values: Iterable[object], confidence: float = CONFIDENCE) -> MetricResult:
    """Net Promoter Score of answers 0-10, in points from -100 to 100.

    Args:
        values: Whole numbers from 0 to 10; whole-number floats (9.0) count as such.
        confidence: The interval's level.

    Raises:
        ValueError: For an answer out of range or not a whole number (4.5, "4", True, NaN).
    """
    scores = _scores(values, 0, 10, "NPS")
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return nps_from_counts(promoters, len(scores) - promoters - detractors, detractors, confidence)


def nps_from_counts(
    promoters: int, passives: int, detractors: int, confidence: float = CONFIDENCE
) -> MetricResult:
    """NPS from the counts of promoters (9-10), passives (7-8) and detractors (0-6).

    The value is the plain NPS. Its interval is the adjusted Wald of Rocks (2016),
    "Interval estimation for the 'Net Promoter Score'", The American Statistician 70(4),
    as Sauro and Lewis give it (MeasuringU, "Confidence intervals for Net Promoter Scores",
    2021): add 3 to n and 3/4 to promoters and to detractors, and take the adjusted NPS
    plus or minus z standard errors of the +1/0/-1 score on those adjusted counts.
    `standard_error` and `centre` are the adjusted ones, so `compare` gives the adjusted
    Wald interval of a difference too.
    """
    if min(promoters, passives, detractors) < 0:
        raise ValueError("counts cannot be negative")
    n = promoters + passives + detractors
    counts = {"promoters": promoters, "passives": passives, "detractors": detractors}
    if n == 0:
        return MetricResult("nps", None, 0, None, None, counts)
    low, high, centre, se = nps_adjusted_wald(promoters, detractors, n, confidence)
    value = 100 * (promoters - detractors) / n
    return MetricResult("nps", value, n, low, high, counts, standard_error=se, centre=centre)


def nps_adjusted_wald(
    promoters: float, detractors: float, n: float, confidence: float = CONFIDENCE
) -> tuple[float, float, float, float]:
    """Rocks' adjusted-Wald NPS interval: (low, high, adjusted NPS, its standard error).

    Works on arrays of counts as well as on numbers, in points (-100 to 100).
    """
    n_adjusted = n + NPS_ADDED_ANSWERS
    p = (promoters + NPS_ADDED_PROMOTERS) / n_adjusted
    d = (detractors + NPS_ADDED_DETRACTORS) / n_adjusted
    return _score_interval(p, d, n_adjusted, confidence)


def nps_plain_wald(
    promoters: float, detractors: float, n: float, confidence: float = CONFIDENCE
) -> tuple[float, float, float, float]:
    """The plain normal NPS interval on the raw counts, for comparison: (low, high, NPS, se)."""
    return _score_interval(promoters / n, detractors / n, n, confidence)


def _score_interval(p: Any, d: Any, n: Any, confidence: float) -> tuple[Any, Any, Any, Any]:
    centre = 100 * (p - d)
    variance = p + d - (p - d) ** 2  # of the per-answer score +1 / 0 / -1
    se = 100 * (variance / n) ** 0.5
    margin = _z(confidence) * se
    low, high = centre - margin, centre + margin
    if isinstance(low, float):
        return max(-100.0, low), min(100.0, high), centre, se
    return low.clip(-100.0, None), high.clip(None, 100.0), centre, se


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


def csat(values: Iterable[object], confidence: float = CONFIDENCE) -> MetricResult:
    """Customer satisfaction: the share of 4s and 5s among answers 1-5, in percent.

    Answers are whole numbers from 1 to 5 (whole-number floats count); anything else is a
    ValueError, as for `nps`.
    """
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


def too_few(result: MetricResult, min_n: int = MIN_SAMPLE_SIZE) -> bool:
    """Whether a score (NPS, CSAT) has answers, but fewer than `min_n` to report a number."""
    return result.name in SCORE_METRICS and 0 < result.n < min_n


def _has_interval(result: MetricResult) -> bool:
    return result.value is not None and result.ci_low is not None and result.ci_high is not None


def compare(
    current: MetricResult, previous: MetricResult, confidence: float = CONFIDENCE
) -> Comparison:
    """The change between two independent samples, with its 95% interval.

    Means and NPS (which carry a standard error) get a normal interval, centred on the
    difference of the intervals' centres: for NPS the adjusted-Wald interval of a difference
    (the adjusted NPSs and their standard errors); the change itself stays the plain
    difference. Proportions, which
    carry Wilson intervals, get Newcombe's hybrid score interval built from those two
    intervals: unlike p(1-p)/n it stays honest at 0% and 100%, so 4 of 4 is not
    "significantly" better than 72 of 100.
    """
    if current.value is None or previous.value is None:
        return Comparison(current, previous, None, None, None)
    difference = current.value - previous.value
    se_now, se_before = current.standard_error, previous.standard_error
    if se_now is not None and se_before is not None:
        assert current.interval_centre is not None and previous.interval_centre is not None
        centre = current.interval_centre - previous.interval_centre
        margin = _z(confidence) * math.hypot(se_now, se_before)
        return Comparison(current, previous, difference, centre - margin, centre + margin)
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
