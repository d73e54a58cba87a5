"""The experiment statistics against scipy, statsmodels and GrowthBook's own worked examples.

statsmodels cannot be installed beside Rasa 3.6 (its `packaging` pin), so its numbers here
were computed with statsmodels 0.14.6 on the same inputs and are written down.
"""

from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from bot.experiments.stats import (
    CovariateSummary,
    MeanSummary,
    NpsSummary,
    ProportionSummary,
    compare_cuped,
    compare_means,
    compare_nps,
    compare_rates,
    welch_dof,
)
from bot.experiments.stats_bayes import bayes_means, bayes_normal, bayes_rates
from bot.experiments.stats_design import (
    Remaining,
    holm,
    remaining,
    sample_size_means,
    sample_size_rates,
    srm_check,
)
from bot.experiments.stats_sequential import always_valid
from bot.experiments.stats_verdict import Reading, verdict

approx = pytest.approx

# GrowthBook's tests (packages/stats/tests/frequentist/test_tests.py) use these sums.
GB_A = MeanSummary.from_sums(3407, 1396.87, 52377.9767)
GB_B = MeanSummary.from_sums(3461, 2422.7, 134698.29)


def mean_summary(values: np.ndarray) -> MeanSummary:
    return MeanSummary.from_sums(len(values), float(values.sum()), float((values**2).sum()))


def covariate_summary(y: np.ndarray, x: np.ndarray) -> CovariateSummary:
    return CovariateSummary(
        len(y), y.sum(), (y**2).sum(), x.sum(), (x**2).sum(), float((x * y).sum())
    )


# Summaries


def test_mean_summary_from_sums_is_numpys_mean_and_sample_variance() -> None:
    values = np.array([0.3, 0.5, 0.9, 22.0])
    summary = mean_summary(values)
    assert summary.mean == approx(values.mean())
    assert summary.variance == approx(values.var(ddof=1))
    assert MeanSummary.from_sums(1, 3.0, 9.0).variance == 0.0


def test_nps_summary_scores_answers_plus_one_zero_minus_one() -> None:
    summary = NpsSummary(promoters=50, passives=30, detractors=20)
    scores = np.array([1] * 50 + [0] * 30 + [-1] * 20, dtype=float)
    assert summary.n == 100
    assert summary.score == approx(30.0)
    assert summary.as_mean().variance == approx(scores.var(ddof=1))


# Against control


def test_rates_match_statsmodels_ztest_and_wald_interval() -> None:
    result = compare_rates(ProportionSummary(1000, 380), ProportionSummary(1000, 430))
    # statsmodels: proportions_ztest([430, 380], [1000, 1000]) and
    # confint_proportions_2indep(430, 1000, 380, 1000, method="wald").
    assert result.p_value == approx(0.022753060839175963, rel=1e-12)
    assert (result.ci_low, result.ci_high) == approx(
        (0.007028041060388374, 0.0929719589396116), rel=1e-12
    )
    assert result.difference == approx(0.05)
    # The pooled z-test is the 2x2 chi-square without continuity correction.
    table = [[430, 570], [380, 620]]
    assert result.p_value == approx(stats.chi2_contingency(table, correction=False)[1])


def test_relative_difference_of_rates_matches_growthbook_delta_method() -> None:
    # GrowthBook's test_two_sided_ttest_binom: 14/28 against 16/30, uplift sd 0.2717.
    result = compare_rates(ProportionSummary(28, 14), ProportionSummary(30, 16))
    assert result.relative == approx(0.06667, abs=5e-6)
    assert result.relative_std_error == approx(0.2717, abs=5e-5)


def test_means_match_growthbook_welch_example_absolute_and_relative() -> None:
    result = compare_means(GB_A, GB_B)
    assert result.difference == approx(0.29)
    assert result.std_error == approx(0.12478, abs=5e-6)
    assert (result.ci_low, result.ci_high) == approx((0.04538, 0.53462), abs=5e-6)
    assert result.p_value == approx(0.02016, abs=5e-6)
    assert result.relative == approx(0.70732, abs=5e-6)
    assert result.relative_std_error == approx(0.37879, abs=5e-6)
    assert (result.relative_ci_low, result.relative_ci_high) == approx(
        (-0.03526, 1.44989), abs=5e-6
    )


def test_means_match_scipy_welch_on_raw_data() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.normal(10, 3, 200), rng.normal(11, 5, 150)
    result = compare_means(mean_summary(a), mean_summary(b))
    scipy_result = stats.ttest_ind(b, a, equal_var=False)
    assert result.p_value == approx(scipy_result.pvalue, rel=1e-9)
    dof = welch_dof(a.var(ddof=1), len(a), b.var(ddof=1), len(b))
    t_stat = result.difference / result.std_error
    assert t_stat == approx(scipy_result.statistic, rel=1e-9)
    assert 2 * stats.t.sf(abs(t_stat), dof) == approx(scipy_result.pvalue, rel=1e-9)
    half = stats.t.ppf(0.975, dof) * result.std_error
    assert result.ci_high - result.difference == approx(half)


def test_nps_difference_uses_the_per_answer_score_variances() -> None:
    control, variant = NpsSummary(300, 400, 300), NpsSummary(420, 330, 250)
    result = compare_nps(control, variant)
    a = np.repeat([1.0, 0.0, -1.0], [300, 400, 300])
    b = np.repeat([1.0, 0.0, -1.0], [420, 330, 250])
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    assert 100 * result.difference == approx(variant.score - control.score) == approx(17.0)
    assert result.std_error == approx(se)
    assert (result.ci_low, result.ci_high) == approx((0.17 - 1.959964 * se, 0.17 + 1.959964 * se))
    assert result.p_value == approx(2 * stats.norm.sf(0.17 / se))


def test_a_variant_without_data_is_refused_not_divided_by() -> None:
    with pytest.raises(ValueError, match="at least 2 units"):
        compare_rates(ProportionSummary(0, 0), ProportionSummary(10, 5))
    with pytest.raises(ValueError, match="at least 2 units"):
        compare_means(MeanSummary(1, 3.0, 0.0), GB_B)
    with pytest.raises(ValueError, match="at least 2 units"):
        compare_nps(NpsSummary(0, 0, 0), NpsSummary(5, 3, 2))


# CUPED


def correlated(rng: np.random.Generator, n: int, lift: float) -> tuple[np.ndarray, np.ndarray]:
    x = rng.normal(50, 10, n)
    return 0.8 * x + rng.normal(0, 6, n) + lift, x


def test_cuped_is_welch_on_the_adjusted_values_with_a_pooled_theta() -> None:
    rng = np.random.default_rng(11)
    (y_a, x_a), (y_b, x_b) = correlated(rng, 400, 0.0), correlated(rng, 380, 1.5)
    result = compare_cuped(covariate_summary(y_a, x_a), covariate_summary(y_b, x_b))
    x, y = np.concatenate([x_a, x_b]), np.concatenate([y_a, y_b])
    theta = np.cov(y, x, ddof=1)[0, 1] / x.var(ddof=1)
    assert result.theta == approx(theta)
    adj_a, adj_b = y_a - theta * (x_a - x.mean()), y_b - theta * (x_b - x.mean())
    reference = stats.ttest_ind(adj_b, adj_a, equal_var=False)
    assert result.adjusted.difference == approx(adj_b.mean() - adj_a.mean())
    assert result.adjusted.p_value == approx(reference.pvalue, rel=1e-9)
    assert result.adjusted.difference / result.adjusted.std_error == approx(reference.statistic)
    assert result.unadjusted.difference == approx(y_b.mean() - y_a.mean())


def test_cuped_interval_is_narrower_on_correlated_data() -> None:
    rng = np.random.default_rng(3)
    (y_a, x_a), (y_b, x_b) = correlated(rng, 1000, 0.0), correlated(rng, 1000, 1.0)
    result = compare_cuped(covariate_summary(y_a, x_a), covariate_summary(y_b, x_b))
    adjusted = result.adjusted.ci_high - result.adjusted.ci_low
    plain = result.unadjusted.ci_high - result.unadjusted.ci_low
    assert adjusted < 0.75 * plain
    # Corr(y, x)² = 0.64² / (0.64 + 0.36) here: CUPED removes about that share of variance.
    rho2 = np.corrcoef(np.concatenate([y_a, y_b]), np.concatenate([x_a, x_b]))[0, 1] ** 2
    assert result.variance_reduction == approx(rho2, abs=0.02)
    assert result.variance_reduction == approx(1 - (adjusted / plain) ** 2, abs=0.01)


def test_cuped_relative_and_sequential_match_growthbook_example() -> None:
    # GrowthBook's test_sequential_test_runs_ra (relative, tuning 5000): 0.50338,
    # (-0.50969, 1.51646), sd 0.33341. The last digit differs by 1e-5: GrowthBook's delta
    # method leaves out the control covariate mean's term θ·x̄_a/ȳ_a² (x̄_a = 0.0056 here).
    control = CovariateSummary(3000, 1396.87, 52377.9767, 16.87, 527.9767, 1)
    variant = CovariateSummary(3461, 2422.7, 134698.29, 22.7, 1348.29, 1)
    result = compare_cuped(control, variant)
    assert result.adjusted.relative == approx(0.50338, abs=5e-6)
    assert result.adjusted.relative_std_error == approx(0.33341, abs=5e-6)
    sequential = always_valid(result.adjusted, relative=True)
    assert (sequential.ci_low, sequential.ci_high) == approx((-0.50969, 1.51646), abs=2e-5)


# Sequential


def test_sequential_interval_matches_growthbook_means_example() -> None:
    # GrowthBook's test_sequential_test_runs: n = 3000 / 3461, tuning 1000, relative.
    control = MeanSummary.from_sums(3000, 1396.87, 52377.9767)
    result = always_valid(compare_means(control, GB_B), tuning=1000, relative=True)
    assert result.estimate == approx(0.50336, abs=5e-6)
    assert (result.ci_low, result.ci_high) == approx((-0.55844, 1.56516), abs=5e-6)
    assert result.p_value == 1.0
    assert not result.excludes_zero


def test_sequential_interval_matches_growthbook_proportions_example() -> None:
    comparison = compare_rates(ProportionSummary(3000, 1396), ProportionSummary(3461, 2422))
    result = always_valid(comparison, relative=True)
    assert result.estimate == approx(0.50386, abs=5e-6)
    assert (result.ci_low, result.ci_high) == approx((0.40098, 0.60675), abs=5e-6)
    assert result.p_value < 1e-10
    assert result.excludes_zero


def test_always_valid_interval_is_wider_than_the_fixed_one() -> None:
    comparison = compare_rates(ProportionSummary(2000, 1500), ProportionSummary(2000, 1580))
    result = always_valid(comparison)
    assert result.ci_low < comparison.ci_low < comparison.ci_high < result.ci_high
    assert result.p_value >= comparison.p_value


# Bayesian


def test_bayes_normal_matches_truncated_normal_risk() -> None:
    mu, sigma = 0.02, 0.015
    result = bayes_normal(mu, sigma)
    assert result.chance_to_beat == approx(stats.norm.sf(0, mu, sigma))
    # GrowthBook's get_risk: P(D < 0) · -E[D | D < 0] and P(D > 0) · E[D | D > 0].
    below = stats.truncnorm(-np.inf, (0 - mu) / sigma, loc=mu, scale=sigma).mean()
    above = stats.truncnorm((0 - mu) / sigma, np.inf, loc=mu, scale=sigma).mean()
    assert result.loss_variant == approx(-stats.norm.cdf(0, mu, sigma) * below)
    assert result.loss_control == approx(stats.norm.sf(0, mu, sigma) * above)


def test_bayes_rates_agree_with_beta_posterior_draws() -> None:
    control, variant = ProportionSummary(800, 560), ProportionSummary(820, 600)
    result = bayes_rates(control, variant)
    rng = np.random.default_rng(5)
    a = rng.beta(1 + 560, 1 + 240, 400_000)
    b = rng.beta(1 + 600, 1 + 220, 400_000)
    assert result.chance_to_beat == approx(np.mean(b > a), abs=0.005)
    assert result.loss_variant == approx(np.mean(np.maximum(a - b, 0)), abs=2e-4)
    assert result.loss_control == approx(np.mean(np.maximum(b - a, 0)), abs=2e-4)


def test_bayes_means_posterior_is_the_welch_normal() -> None:
    result = bayes_means(GB_A, GB_B)
    assert result.mean_difference == approx(0.29)
    assert result.std_difference == approx(0.12478, abs=5e-6)
    assert result.chance_to_beat == approx(stats.norm.sf(0, 0.29, result.std_difference))


# SRM, Holm, power


def test_srm_is_scipys_chisquare_and_flags_below_one_in_a_thousand() -> None:
    result = srm_check([4_500, 5_500], [50, 50])
    statistic, p_value = stats.chisquare([4_500, 5_500], [5_000, 5_000])
    assert (result.statistic, result.p_value) == approx((statistic, p_value))
    assert result.statistic == approx(100.0)
    assert result.mismatch and "sample ratio mismatch" in result.message
    fine = srm_check([5_030, 4_970], [50, 50])
    assert fine.p_value == approx(stats.chi2.sf(0.36, 1)) and not fine.mismatch
    three = srm_check([2_000, 1_000, 1_000], [2, 1, 1])
    assert three.p_value == approx(1.0) and three.expected == (2_000, 1_000, 1_000)


def test_holm_matches_statsmodels_multipletests() -> None:
    result = holm([0.01, 0.04, 0.03, 0.005, 0.2])
    # statsmodels: multipletests([...], method="holm")
    assert result.adjusted == approx((0.04, 0.09, 0.09, 0.025, 0.2))
    assert result.rejected == (True, False, False, True, False)


def test_sample_sizes_match_statsmodels_solvers() -> None:
    # NormalIndPower().solve_power(proportion_effectsize(0.65, 0.60), power=0.8) = 1470.09
    assert sample_size_rates(0.60, 0.05) == 1471
    # ... (0.33, 0.30), power=0.9, ratio=2 = 3776.79
    assert sample_size_rates(0.30, 0.03, power=0.9, ratio=2.0) == 3777
    # tt_ind_solve_power(0.2, power=0.8) = 393.41; (0.5, power=0.9, ratio=1.5) = 70.83
    assert sample_size_means(1.0, 0.2) == 394
    assert sample_size_means(2.0, 1.0, power=0.9, ratio=1.5) == 71


def test_remaining_turns_counts_and_a_daily_rate_into_words() -> None:
    result = remaining(1_471, [850, 870], daily_rate=140)
    assert result.more == 1_242
    assert result.text == "about 1,200 more conversations (≈ 9 days)"
    assert remaining(1_000, [1_000, 1_200], 50).text == "the planned sample is reached"
    uneven = remaining(100, [0, 0], 10, weights=[80, 20])
    assert uneven.more == 500 and uneven.days == 50


# Verdict


def reading(name: str, low: float, high: float, **kwargs: object) -> Reading:
    """A rate comparison whose interval is (low, high) in points."""
    comparison = compare_rates(ProportionSummary(1000, 500), ProportionSummary(1000, 500))
    shifted = replace(
        comparison, difference=(low + high) / 200, ci_low=low / 100, ci_high=high / 100
    )
    return Reading(name, shifted, **kwargs)  # type: ignore[arg-type]


def test_verdict_ships_a_winner_whose_guardrails_hold() -> None:
    primary = compare_rates(ProportionSummary(1200, 840), ProportionSummary(1200, 912))
    sequential = always_valid(primary)
    text = verdict(
        Reading("CSAT", primary, sequential), [reading("containment", -1.0, 2.0, max_drop=5)]
    )
    assert text.decision == "ship"
    low, high = 100 * sequential.ci_low, 100 * sequential.ci_high
    assert text.text == (
        f"B improves CSAT by 6.0 points (95% CI {low:.1f} to {high:.1f}, always-valid); "
        "guardrails hold; ship B"
    )


def test_verdict_exact_wording() -> None:
    win = verdict(reading("CSAT", 2.0, 10.0), [reading("containment", -1.0, 1.0)])
    assert win.text == (
        "B improves CSAT by 6.0 points (95% CI 2.0 to 10.0, fixed-horizon); guardrails hold; ship B"
    )
    wait = verdict(reading("CSAT", -2.0, 4.0), remaining=Remaining(1_242, 8.9))
    assert (wait.decision, wait.text) == (
        "continue",
        "no difference detectable yet: about 1,200 more conversations (≈ 9 days)",
    )
    stop = verdict(reading("CSAT", 2.0, 10.0), [reading("containment", -7.0, -1.0)])
    assert (stop.decision, stop.text) == (
        "stop",
        "stopped: guardrail containment fell by 4.0 points (95% CI -7.0 to -1.0, fixed-horizon)",
    )
    worse = verdict(reading("CSAT", -9.0, -1.0), variant="first-miss", control="second-miss")
    assert worse.decision == "keep_control" and worse.text.endswith("keep second-miss")


def test_verdict_lower_is_better_and_unresolved_guardrails() -> None:
    handoff = verdict(reading("handoff rate", -6.0, -2.0, higher_is_better=False))
    assert handoff.text.startswith("B lowers handoff rate by 4.0 points (95% CI -6.0 to -2.0")
    rising = verdict(
        reading("CSAT", 1.0, 3.0), [reading("handoff", 1.0, 3.0, higher_is_better=False)]
    )
    assert rising.text.startswith("stopped: guardrail handoff rose by 2.0 points")
    open_guard = verdict(reading("CSAT", 1.0, 5.0), [reading("containment", -6.0, 1.0, max_drop=5)])
    assert open_guard.decision == "continue"
    assert "containment could still drop by 6.0 points (limit 5.0 points)" in open_guard.text


def test_verdict_is_withheld_when_the_split_is_broken() -> None:
    srm = srm_check([4_500, 5_500], [50, 50])
    result = verdict(reading("CSAT", 2.0, 10.0), srm=srm)
    assert result.decision == "withheld"
    assert result.text == f"verdict withheld: {srm.message}"
    assert "45.0%/55.0% exposed against 50.0%/50.0% designed" in result.text
