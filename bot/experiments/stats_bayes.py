"""The Bayesian view: chance to beat the control and the expected loss of each choice.

As GrowthBook does, the difference's posterior is normal: for rates from Beta posteriors'
means and variances (a flat Beta(1, 1) prior by default), for means from a flat prior.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm

from bot.experiments.stats import MeanSummary, ProportionSummary


@dataclass(frozen=True)
class BayesResult:
    """Posterior of the difference (variant - control) and what choosing each side risks.

    `loss_variant` is E[max(control - variant, 0)], what shipping the variant loses in
    expectation; `loss_control` the same for keeping the control.
    """

    mean_difference: float
    std_difference: float
    chance_to_beat: float
    loss_variant: float
    loss_control: float


def bayes_normal(mean_difference: float, std_difference: float) -> BayesResult:
    """Chance to beat and expected losses for a N(mean, std²) posterior of the difference."""
    mu, sigma = mean_difference, std_difference
    if sigma <= 0:
        return BayesResult(mu, 0.0, float(mu > 0), max(-mu, 0.0), max(mu, 0.0))
    z = mu / sigma
    # E[max(-D, 0)] for D ~ N(mu, sigma²): sigma φ(z) - mu Φ(-z), the truncated normal's mean.
    loss_variant = float(sigma * norm.pdf(z) - mu * norm.cdf(-z))
    loss_control = loss_variant + mu  # E[max(D, 0)] - E[max(-D, 0)] = E[D]
    return BayesResult(mu, sigma, float(norm.sf(-z)), loss_variant, loss_control)


def _beta_moments(summary: ProportionSummary, prior: tuple[float, float]) -> tuple[float, float]:
    a, b = prior[0] + summary.hits, prior[1] + summary.n - summary.hits
    return a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1))


def bayes_rates(
    control: ProportionSummary,
    variant: ProportionSummary,
    prior: tuple[float, float] = (1.0, 1.0),
) -> BayesResult:
    """Rates with Beta(prior) posteriors, their difference approximated as normal."""
    m_a, v_a = _beta_moments(control, prior)
    m_b, v_b = _beta_moments(variant, prior)
    return bayes_normal(m_b - m_a, math.sqrt(v_a + v_b))


def bayes_means(control: MeanSummary, variant: MeanSummary) -> BayesResult:
    """Means with flat priors: the difference's posterior is N(Δ, s²_a/n_a + s²_b/n_b)."""
    std = math.sqrt(control.variance / control.n + variant.variance / variant.n)
    return bayes_normal(variant.mean - control.mean, std)
