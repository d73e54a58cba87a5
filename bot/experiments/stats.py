"""The statistics of an experiment's analysis: per-variant summaries in, frozen results out.

One pure function per step, in the shape of GrowthBook's `gbstats`: summaries
(`ProportionSummary`, `MeanSummary`, `NpsSummary`, `CovariateSummary`) that SQL can give as
counts and sums, and comparisons against the control (`compare_rates`, `compare_means`,
`compare_nps`, `compare_cuped`, with `mean_imputed` for units without a covariate).
Differences are variant minus control, in the metric's own units (a rate or an NPS as a
fraction; the verdict shows them as points). The always-valid
intervals, the Bayesian view, SRM, Holm and power are in the `stats_*` modules beside this one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm, ttest_ind_from_stats
from scipy.stats import t as student_t

ALPHA = 0.05


@dataclass(frozen=True)
class ProportionSummary:
    """A variant's rate: `hits` of `n` (e.g. satisfied answers of all answers)."""

    n: int
    hits: int

    @property
    def mean(self) -> float:
        return self.hits / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        """The per-unit Bernoulli variance p(1 - p)."""
        return self.mean * (1 - self.mean)


@dataclass(frozen=True)
class MeanSummary:
    """A variant's mean metric: n, mean and sample variance (ddof 1)."""

    n: int
    mean: float
    variance: float

    @classmethod
    def from_sums(cls, n: int, total: float, sum_squares: float) -> MeanSummary:
        """Builds it from n, Σx and Σx², as a SQL query gives them."""
        if n == 0:
            return cls(0, 0.0, 0.0)
        variance = (sum_squares - total * total / n) / (n - 1) if n > 1 else 0.0
        return cls(n, total / n, max(variance, 0.0))


@dataclass(frozen=True)
class NpsSummary:
    """A variant's NPS answers as counts of promoters (9-10), passives (7-8), detractors (0-6)."""

    promoters: int
    passives: int
    detractors: int

    @property
    def n(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> float:
        """NPS in points, -100 to 100."""
        return 100 * self.as_mean().mean

    def as_mean(self) -> MeanSummary:
        """Each answer scored +1 / 0 / -1: NPS/100 is the mean of these scores."""
        scored = self.promoters + self.detractors  # Σx and Σx² of the scores
        return MeanSummary.from_sums(self.n, self.promoters - self.detractors, scored)


@dataclass(frozen=True)
class CovariateSummary:
    """A variant's metric y and pre-exposure covariate x for CUPED, as sums."""

    n: int
    metric_sum: float
    metric_sum_squares: float
    covariate_sum: float
    covariate_sum_squares: float
    sum_of_products: float

    @property
    def metric(self) -> MeanSummary:
        return MeanSummary.from_sums(self.n, self.metric_sum, self.metric_sum_squares)

    @property
    def covariate(self) -> MeanSummary:
        return MeanSummary.from_sums(self.n, self.covariate_sum, self.covariate_sum_squares)

    @property
    def covariance(self) -> float:
        """The sample covariance of y and x (ddof 1)."""
        if self.n <= 1:
            return 0.0
        cross = self.sum_of_products - self.metric_sum * self.covariate_sum / self.n
        return cross / (self.n - 1)

    def __add__(self, other: CovariateSummary) -> CovariateSummary:
        return CovariateSummary(
            self.n + other.n,
            self.metric_sum + other.metric_sum,
            self.metric_sum_squares + other.metric_sum_squares,
            self.covariate_sum + other.covariate_sum,
            self.covariate_sum_squares + other.covariate_sum_squares,
            self.sum_of_products + other.sum_of_products,
        )


def mean_imputed(
    present: dict[str, CovariateSummary], missing: dict[str, CovariateSummary]
) -> dict[str, CovariateSummary]:
    """Every variant's units, those without a covariate given the known units' mean x.

    `present` holds the sums of the units whose covariate is known, `missing` those of the
    units without one (their covariate sums are ignored). The fill is the mean over every
    variant's known units, so it does not depend on the assignment: the adjusted difference
    stays unbiased, the missing units keep their y, and only the known ones reduce variance.
    """
    known = sum(present.values(), CovariateSummary(0, 0.0, 0.0, 0.0, 0.0, 0.0))
    fill = known.covariate_sum / known.n if known.n else 0.0
    filled = {}
    for variant in {*present, *missing}:
        total = present.get(variant, CovariateSummary(0, 0.0, 0.0, 0.0, 0.0, 0.0))
        gap = missing.get(variant)
        if gap is not None and gap.n:
            total = total + CovariateSummary(
                gap.n, gap.metric_sum, gap.metric_sum_squares,
                fill * gap.n, fill * fill * gap.n, fill * gap.metric_sum,
            )  # fmt: skip
        filled[variant] = total
    return filled


@dataclass(frozen=True)
class Comparison:
    """A variant against the control: absolute and relative difference, interval, p-value.

    `std_error` is the absolute difference's; the relative difference is (variant - control)
    / |control|, its interval by the delta method. `method` names the test.
    """

    method: str
    n_control: int
    n_variant: int
    control_mean: float
    variant_mean: float
    difference: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    relative: float
    relative_std_error: float
    relative_ci_low: float
    relative_ci_high: float
    alpha: float = ALPHA

    @property
    def n(self) -> int:
        return self.n_control + self.n_variant

    @property
    def significant(self) -> bool:
        """Whether the interval excludes 0."""
        return self.ci_low > 0 or self.ci_high < 0


def _relative(
    control_mean: float, difference: float, std_error: float, critical: float
) -> tuple[float, float, float, float]:
    """Relative difference, its delta-method standard error and interval.

    `std_error` here is only the variant's part; the caller folds the control's in.
    """
    if control_mean == 0:
        return 0.0, 0.0, 0.0, 0.0
    relative = difference / abs(control_mean)
    return relative, std_error, relative - critical * std_error, relative + critical * std_error


def _relative_se(
    control_mean: float,
    variant_adjusted: float,
    variant_var_n: float,
    control_var_n: float,
    theta: float = 0.0,
    control_covariate_mean: float = 0.0,
    control_cov_n: float = 0.0,
    control_covariate_var_n: float = 0.0,
) -> float:
    """Delta-method s.e. of ((ȳb - θx̄b) - (ȳa - θx̄a)) / |ȳa|; θ = 0 is the plain ratio's."""
    if control_mean == 0:
        return 0.0
    grad_y = -(variant_adjusted + theta * control_covariate_mean) / control_mean**2
    grad_x = theta / control_mean
    control = (
        grad_y**2 * control_var_n
        + grad_x**2 * control_covariate_var_n
        + 2 * grad_y * grad_x * control_cov_n
    )
    return math.sqrt(max(variant_var_n / control_mean**2 + control, 0.0))


def welch_dof(var_a: float, n_a: int, var_b: float, n_b: int) -> float:
    """The Welch-Satterthwaite degrees of freedom of a difference of two means."""
    va, vb = var_a / n_a, var_b / n_b
    denominator = va**2 / (n_a - 1) + vb**2 / (n_b - 1)
    return (va + vb) ** 2 / denominator if denominator > 0 else float(n_a + n_b - 2)


def _need_two(*sizes: int) -> None:
    if min(sizes) < 2:
        raise ValueError("each variant needs at least 2 units to be compared")


def compare_rates(
    control: ProportionSummary, variant: ProportionSummary, alpha: float = ALPHA
) -> Comparison:
    """Two-proportion z-test: the pooled test's p-value, the unpooled (Wald) interval.

    The same numbers as statsmodels' `proportions_ztest` and
    `confint_proportions_2indep(method="wald")`.

    Raises:
        ValueError: A variant has fewer than 2 units (also for the other comparisons).
    """
    _need_two(control.n, variant.n)
    p_a, p_b = control.mean, variant.mean
    difference = p_b - p_a
    var_a, var_b = control.variance / control.n, variant.variance / variant.n
    std_error = math.sqrt(var_a + var_b)
    pooled = (control.hits + variant.hits) / (control.n + variant.n)
    pooled_se = math.sqrt(pooled * (1 - pooled) * (1 / control.n + 1 / variant.n))
    p_value = float(2 * norm.sf(abs(difference) / pooled_se)) if pooled_se > 0 else 1.0
    z = float(norm.ppf(1 - alpha / 2))
    rel_se = _relative_se(p_a, p_b, var_b, var_a)
    rel = _relative(p_a, difference, rel_se, z)
    return Comparison(
        "two-proportion z-test", control.n, variant.n, p_a, p_b, difference, std_error,
        difference - z * std_error, difference + z * std_error, p_value, *rel, alpha,
    )  # fmt: skip


def _welch(
    method: str,
    control: MeanSummary,
    variant: MeanSummary,
    alpha: float,
    relative_se: float,
    control_unadjusted: float | None = None,
) -> Comparison:
    _need_two(control.n, variant.n)
    difference = variant.mean - control.mean
    var_a, var_b = control.variance / control.n, variant.variance / variant.n
    std_error = math.sqrt(var_a + var_b)
    if std_error > 0:
        _, p_value = ttest_ind_from_stats(
            variant.mean, math.sqrt(variant.variance), variant.n,
            control.mean, math.sqrt(control.variance), control.n, equal_var=False,
        )  # fmt: skip
        critical = float(student_t.ppf(1 - alpha / 2, welch_dof(
            control.variance, control.n, variant.variance, variant.n)))  # fmt: skip
    else:
        p_value, critical = 1.0, 0.0
    base = control.mean if control_unadjusted is None else control_unadjusted
    rel = _relative(base, difference, relative_se, critical)
    return Comparison(
        method, control.n, variant.n, control.mean, variant.mean, difference, std_error,
        difference - critical * std_error, difference + critical * std_error, float(p_value),
        *rel, alpha,
    )  # fmt: skip


def compare_means(control: MeanSummary, variant: MeanSummary, alpha: float = ALPHA) -> Comparison:
    """Welch's t-test (scipy's `ttest_ind_from_stats(equal_var=False)`) and its t interval."""
    _need_two(control.n, variant.n)
    rel_se = _relative_se(
        control.mean, variant.mean, variant.variance / variant.n, control.variance / control.n
    )
    return _welch("Welch's t-test", control, variant, alpha, rel_se)


def compare_nps(control: NpsSummary, variant: NpsSummary, alpha: float = ALPHA) -> Comparison:
    """Difference of two NPS (as fractions) with a normal interval.

    The variance is the per-answer +1/0/-1 scores' (the delta method for P - D); the
    test is a z-test. Multiply by 100 for NPS points.
    """
    _need_two(control.n, variant.n)
    a, b = control.as_mean(), variant.as_mean()
    difference = b.mean - a.mean
    var_a, var_b = a.variance / a.n, b.variance / b.n
    std_error = math.sqrt(var_a + var_b)
    z = float(norm.ppf(1 - alpha / 2))
    p_value = float(2 * norm.sf(abs(difference) / std_error)) if std_error > 0 else 1.0
    rel = _relative(a.mean, difference, _relative_se(a.mean, b.mean, var_b, var_a), z)
    return Comparison(
        "NPS difference (normal)", a.n, b.n, a.mean, b.mean, difference, std_error,
        difference - z * std_error, difference + z * std_error, p_value, *rel, alpha,
    )  # fmt: skip


@dataclass(frozen=True)
class CupedComparison:
    """CUPED's adjusted comparison beside the plain one.

    `theta` is pooled across the variants; `variance_reduction` is 1 - var_adj / var of
    the difference's estimate.
    """

    adjusted: Comparison
    unadjusted: Comparison
    theta: float
    variance_reduction: float


def compare_cuped(
    control: CovariateSummary, variant: CovariateSummary, alpha: float = ALPHA
) -> CupedComparison:
    """CUPED (Deng et al. 2013): y - θ(x - x̄) with θ = cov(y, x) / var(x) of both variants.

    The adjusted means are centred on the pooled covariate mean, so they read as means of
    the metric; Welch's t on the adjusted variances var(y) + θ²var(x) - 2θcov(y, x).
    """
    _need_two(control.n, variant.n)
    pooled = control + variant
    pooled_x = pooled.covariate
    theta = pooled.covariance / pooled_x.variance if pooled_x.variance > 0 else 0.0

    def adjusted(s: CovariateSummary) -> MeanSummary:
        y, x = s.metric, s.covariate
        var = y.variance + theta**2 * x.variance - 2 * theta * s.covariance
        return MeanSummary(s.n, y.mean - theta * (x.mean - pooled_x.mean), max(var, 0.0))

    adj_a, adj_b = adjusted(control), adjusted(variant)
    y_a, x_a = control.metric, control.covariate
    rel_se = _relative_se(
        y_a.mean,
        variant.metric.mean - theta * variant.covariate.mean,
        adj_b.variance / adj_b.n,
        y_a.variance / control.n,
        theta,
        x_a.mean,
        control.covariance / control.n,
        x_a.variance / control.n,
    )
    result = _welch("CUPED Welch's t-test", adj_a, adj_b, alpha, rel_se, y_a.mean)
    plain = compare_means(y_a, variant.metric, alpha)
    reduction = 1 - result.std_error**2 / plain.std_error**2 if plain.std_error > 0 else 0.0
    return CupedComparison(result, plain, theta, reduction)
