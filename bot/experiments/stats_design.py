"""An experiment's health and design: SRM, Holm's correction, power and time to go.

statsmodels would give Holm and the power solvers, but every release that runs on pandas 2
needs `packaging>=21.3` and Rasa 3.6 pins `packaging<21`; so these few are written here with
scipy, and the tests hold them to statsmodels' numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scipy.optimize import brentq
from scipy.stats import chisquare, nct, norm
from scipy.stats import t as student_t

ALPHA = 0.05
POWER = 0.8
# Below this p-value the split is not the designed one: GrowthBook's threshold, too.
SRM_THRESHOLD = 0.001


@dataclass(frozen=True)
class SrmResult:
    """A sample-ratio-mismatch check of exposures against the designed weights."""

    observed: tuple[int, ...]
    expected: tuple[float, ...]
    statistic: float
    p_value: float
    threshold: float = SRM_THRESHOLD

    @property
    def mismatch(self) -> bool:
        return self.p_value < self.threshold

    @property
    def message(self) -> str:
        total = sum(self.observed) or 1
        seen = "/".join(f"{100 * o / total:.1f}%" for o in self.observed)
        planned = "/".join(f"{100 * e / total:.1f}%" for e in self.expected)
        if not self.mismatch:
            return f"split as designed: {seen} against {planned} (p = {self.p_value:.3f})"
        return (
            f"sample ratio mismatch: {seen} exposed against {planned} designed "
            f"(chi-square p = {self.p_value:.2g}); check assignment and exposure logging"
        )


def srm_check(
    exposures: Sequence[int], weights: Sequence[float], threshold: float = SRM_THRESHOLD
) -> SrmResult:
    """Chi-square goodness of fit (scipy's `chisquare`) of exposures to the weights."""
    total, weight = sum(exposures), sum(weights)
    expected = tuple(total * w / weight for w in weights)
    if total == 0:
        return SrmResult(tuple(exposures), expected, 0.0, 1.0, threshold)
    statistic, p_value = chisquare(list(exposures), list(expected))
    return SrmResult(tuple(exposures), expected, float(statistic), float(p_value), threshold)


@dataclass(frozen=True)
class HolmResult:
    """Holm-adjusted p-values, in the order given, and which hypotheses are rejected."""

    adjusted: tuple[float, ...]
    rejected: tuple[bool, ...]
    alpha: float


def holm(p_values: Sequence[float], alpha: float = ALPHA) -> HolmResult:
    """Holm's step-down correction (statsmodels' `multipletests(method="holm")`)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return HolmResult(tuple(adjusted), tuple(p <= alpha for p in adjusted), alpha)


def _solve_n(power_at: Callable[[float], float], power: float) -> int:
    def gap(n: float) -> float:
        return power_at(n) - power

    low = 3.0  # the t distribution of 2 per variant is degenerate in scipy's nct
    if gap(low) >= 0:
        return 3
    high = 8.0
    while gap(high) < 0:
        high *= 2
        if high > 1e12:
            raise ValueError("the effect is too small to detect")
    return math.ceil(brentq(gap, low, high, xtol=1e-6))


def sample_size_rates(
    baseline: float, mde: float, alpha: float = ALPHA, power: float = POWER, ratio: float = 1.0
) -> int:
    """Control units for a two-sided test of a rate to detect `baseline` → `baseline + mde`.

    Cohen's h and the normal power of statsmodels' `NormalIndPower` with
    `proportion_effectsize`; the variant gets `ratio` times as many.
    """
    h = abs(2 * math.asin(math.sqrt(baseline + mde)) - 2 * math.asin(math.sqrt(baseline)))
    crit = float(norm.isf(alpha / 2))

    def power_at(n1: float) -> float:
        shift = h * math.sqrt(1 / (1 / n1 + 1 / (n1 * ratio)))
        return float(norm.sf(crit - shift) + norm.cdf(-crit - shift))

    return _solve_n(power_at, power)


def sample_size_means(
    std: float, mde: float, alpha: float = ALPHA, power: float = POWER, ratio: float = 1.0
) -> int:
    """Control units for a two-sided t-test of a mean to detect a shift `mde` (sd `std`).

    The noncentral t power of statsmodels' `tt_ind_solve_power`. For NPS, pass the
    per-answer scores' sd (`NpsSummary.as_mean()`) and the shift as a fraction.
    """
    d = abs(mde) / std

    def power_at(n1: float) -> float:
        df = n1 * (1 + ratio) - 2
        crit = float(student_t.isf(alpha / 2, df))
        nc = d * math.sqrt(1 / (1 / n1 + 1 / (n1 * ratio)))
        return float(nct.sf(crit, df, nc) + nct.cdf(-crit, df, nc))

    return _solve_n(power_at, power)


@dataclass(frozen=True)
class Remaining:
    """How many more conversations (all variants) the design still needs, and how long."""

    more: int
    days: float | None

    @property
    def text(self) -> str:
        if self.more <= 0:
            return "the planned sample is reached"
        more = _round_about(self.more)
        if self.days is None:
            return f"about {more:,} more conversations"
        return f"about {more:,} more conversations (≈ {math.ceil(self.days):,} days)"


def _round_about(value: int) -> int:
    """Two significant figures: 1,234 → 1,200; small numbers as they are."""
    if value < 100:
        return value
    step = 10 ** (len(str(value)) - 2)
    return max(step, round(value / step) * step)


def remaining(
    needed_per_variant: int,
    exposed: Sequence[int],
    daily_rate: float,
    weights: Sequence[float] | None = None,
) -> Remaining:
    """From "n now, daily rate" to "about N more conversations (≈ D days)".

    Args:
        needed_per_variant: Units each variant needs (from `sample_size_*`).
        exposed: Units each variant has now.
        daily_rate: Conversations a day entering the experiment, all variants together.
        weights: The split (equal if omitted); the slowest-filling variant decides.
    """
    shares = list(weights) if weights else [1.0] * len(exposed)
    total_weight = sum(shares)
    more = max(
        math.ceil(max(needed_per_variant - n, 0) * total_weight / w)
        for n, w in zip(exposed, shares, strict=True)
    )
    return Remaining(more, more / daily_rate if daily_rate > 0 else None)
