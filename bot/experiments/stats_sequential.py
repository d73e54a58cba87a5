"""Always-valid intervals: results that stay honest when an experiment is looked at daily.

The asymptotic confidence sequence of Waudby-Smith et al. (2023, arXiv:2103.06476, eq. 9,
after Howard et al.), as GrowthBook's `SequentialTwoSidedTTest` computes it: a normal
mixture with a tuning parameter, the total sample size at which the sequence is tightest.
It takes any fixed-horizon `Comparison`, so it composes with rates, means, NPS and CUPED.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.experiments.stats import Comparison

# GrowthBook's default: the interval is tightest around this many units in both variants.
TUNING = 5000.0


@dataclass(frozen=True)
class SequentialResult:
    """An always-valid interval for a difference and its always-valid p-value.

    `relative` says whether it is for the relative difference rather than the absolute.
    """

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    tuning: float
    relative: bool = False

    @property
    def excludes_zero(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0


def mixture_rho(alpha: float, tuning: float) -> float:
    """The mixing spread ρ that makes the sequence tightest at n = `tuning` (eq. 161)."""
    log_term = -2 * math.log(alpha)
    return math.sqrt((log_term + math.log(log_term + 1)) / tuning)


def always_valid(
    comparison: Comparison, tuning: float = TUNING, relative: bool = False
) -> SequentialResult:
    """The always-valid interval and p-value for a comparison's difference.

    Args:
        comparison: The fixed-horizon result (its estimate, standard error, n and alpha).
        tuning: The total n (both variants) at which the interval is tightest.
        relative: For the relative difference instead of the absolute one.
    """
    alpha, n = comparison.alpha, comparison.n
    if relative:
        estimate, std_error = comparison.relative, comparison.relative_std_error
    else:
        estimate, std_error = comparison.difference, comparison.std_error
    if n == 0 or std_error <= 0:
        return SequentialResult(estimate, estimate, estimate, 1.0, n, tuning, relative)
    rho = mixture_rho(alpha, tuning)
    s2 = std_error**2 * n  # the per-unit variance of the difference
    spread = n * rho**2 + 1
    halfwidth = math.sqrt(s2 * 2 * spread * math.log(math.sqrt(spread) / alpha) / (n * rho) ** 2)
    # eq. 155: the mixture's e-value; its inverse, capped at 1, is an always-valid p-value.
    st2 = estimate**2 / std_error**2
    log_evalue = rho**2 * st2 * n / (2 * spread) - 0.5 * math.log(spread)
    p_value = 1.0 if log_evalue <= 0 else math.exp(-log_evalue)
    return SequentialResult(
        estimate, estimate - halfwidth, estimate + halfwidth, p_value, n, tuning, relative
    )
