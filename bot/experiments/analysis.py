"""`analyze(experiment, uow, now)`: an experiment's results, from the database to a verdict.

Per variant: exposures, n, the metric with its 95% interval. Against the control: the
difference with its fixed-horizon and always-valid intervals, the p-value, the chance to
beat the control and the expected loss. SRM of the exposures against the weights, Holm's
correction across the guardrails, the sample the minimum detectable effect needs, and the
plain-English verdict. The statistics are `bot.experiments.stats*`; this module only reads
the sums (`bot.experiments.data`) and puts the pieces together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import sessionmaker

from bot.experiments.data import Sums, variant_sums
from bot.experiments.declarations import METRICS, Experiment
from bot.experiments.stats import (
    Comparison,
    MeanSummary,
    NpsSummary,
    ProportionSummary,
    compare_means,
    compare_nps,
    compare_rates,
)
from bot.experiments.stats_bayes import BayesResult, bayes_means, bayes_normal, bayes_rates
from bot.experiments.stats_design import (
    Remaining,
    SrmResult,
    holm,
    remaining,
    sample_size_means,
    sample_size_rates,
    srm_check,
)
from bot.experiments.stats_sequential import SequentialResult, always_valid
from bot.experiments.stats_verdict import Reading, Verdict, verdict
from bot.metrics.core import MetricResult, mean_from_sums, nps_from_counts, proportion
from bot.storage.repositories import ExposureRepository
from bot.storage.session import session_scope

LABELS = {
    "csat": "CSAT",
    "nps": "NPS",
    "containment": "containment",
    "handoff_rate": "hand-off rate",
    "survey_response_rate": "survey response rate",
    "recommendation_acceptance": "recommendation acceptance",
    "first_response_time": "first response time",
}


@dataclass(frozen=True)
class VariantComparison:
    """One variant against the control, in the metric's shown units (points or seconds)."""

    variant: str
    comparison: Comparison
    sequential: SequentialResult
    bayes: BayesResult
    # Holm-adjusted p-value, for a guardrail (None for the primary metric).
    adjusted_p: float | None = None


@dataclass(frozen=True)
class MetricAnalysis:
    metric: str
    estimates: dict[str, MetricResult]
    against_control: list[VariantComparison] = field(default_factory=list)

    @property
    def label(self) -> str:
        return LABELS[self.metric]


@dataclass(frozen=True)
class Analysis:
    experiment: Experiment
    exposures: dict[str, int]
    srm: SrmResult
    primary: MetricAnalysis
    guardrails: list[MetricAnalysis]
    remaining: Remaining | None
    verdicts: dict[str, Verdict]


def _estimate(metric: str, sums: Sums | None) -> MetricResult:
    if isinstance(sums, NpsSummary):
        return nps_from_counts(sums.promoters, sums.passives, sums.detractors)
    if isinstance(sums, MeanSummary):
        total, squares = sums.mean * sums.n, sums.variance * (sums.n - 1) + sums.mean**2 * sums.n
        return mean_from_sums(metric, sums.n, total, squares, lower_bound=0.0)
    if isinstance(sums, ProportionSummary):
        return proportion(metric, sums.hits, sums.n)
    return MetricResult(metric, None, 0, None, None)


def _compare(control: Sums, variant: Sums) -> tuple[Comparison, BayesResult] | None:
    if control.n < 2 or variant.n < 2:
        return None
    if isinstance(control, ProportionSummary) and isinstance(variant, ProportionSummary):
        return compare_rates(control, variant), bayes_rates(control, variant)
    if isinstance(control, NpsSummary) and isinstance(variant, NpsSummary):
        comparison = compare_nps(control, variant)
        return comparison, bayes_normal(comparison.difference, comparison.std_error)
    if isinstance(control, MeanSummary) and isinstance(variant, MeanSummary):
        return compare_means(control, variant), bayes_means(control, variant)
    return None


def _metric(experiment: Experiment, metric: str, sums: dict[str, Sums]) -> MetricAnalysis:
    estimates = {v.name: _estimate(metric, sums.get(v.name)) for v in experiment.variants}
    control = sums.get(experiment.control.name)
    compared = []
    for variant in experiment.variants[1:]:
        result = _compare(control, sums[variant.name]) if control and variant.name in sums else None
        if result is not None:
            comparison, bayes = result
            compared.append(
                VariantComparison(variant.name, comparison, always_valid(comparison), bayes)
            )
    return MetricAnalysis(metric, estimates, compared)


def _reading(
    analysis: MetricAnalysis, compared: VariantComparison, max_drop: float | None
) -> Reading:
    points = analysis.metric != "first_response_time"
    return Reading(
        analysis.label,
        compared.comparison,
        compared.sequential,
        points=points,
        higher_is_better=METRICS[analysis.metric],
        max_drop=max_drop,
        unit="" if points else " s",
    )


def _needed(experiment: Experiment, control: Sums | None) -> int | None:
    """Units per variant the minimum detectable effect needs at 80% power."""
    mde = experiment.minimum_detectable_effect
    if control is None or control.n < 2:
        return None
    try:
        if isinstance(control, ProportionSummary):
            baseline = min(max(control.mean, 0.01), 0.99)
            effect = mde / 100 if baseline + mde / 100 < 1 else -mde / 100
            return sample_size_rates(baseline, effect)
        if isinstance(control, NpsSummary):
            scores = control.as_mean()
            return sample_size_means(math.sqrt(scores.variance) or 1.0, mde / 100)
        if isinstance(control, MeanSummary):
            return sample_size_means(math.sqrt(control.variance) or 1.0, mde)
    except ValueError:
        return None
    return None


def _daily_rate(experiment: Experiment, exposed: int, now: datetime) -> float | None:
    if experiment.start is None or exposed == 0:
        return None
    days = max((now.date() - experiment.start).days, 1)
    return exposed / days


def analyze(experiment: Experiment, uow: sessionmaker, now: datetime) -> Analysis:
    """The experiment's results as its conversations and surveys stand now."""
    with session_scope(uow) as session:
        counts = ExposureRepository(session).counts(experiment.name)
        primary_sums = variant_sums(session, experiment.name, experiment.primary_metric)
        guard_sums = {
            g.metric: variant_sums(session, experiment.name, g.metric)
            for g in experiment.guardrails
        }
    exposures = {v.name: counts.get(v.name, 0) for v in experiment.variants}
    srm = srm_check(list(exposures.values()), [v.weight for v in experiment.variants])
    primary = _metric(experiment, experiment.primary_metric, primary_sums)
    guardrails = [
        _metric(experiment, g.metric, guard_sums[g.metric]) for g in experiment.guardrails
    ]
    guardrails = _holm(guardrails)
    needed = _needed(experiment, primary_sums.get(experiment.control.name))
    rate = _daily_rate(experiment, sum(exposures.values()), now)
    left = (
        remaining(
            needed, list(exposures.values()), rate or 0.0, [v.weight for v in experiment.variants]
        )
        if needed is not None
        else None
    )
    if left is not None and rate is None:
        left = Remaining(left.more, None)
    verdicts: dict[str, Verdict] = {}
    for compared in primary.against_control:
        guards = [
            _reading(analysis, c, g.max_drop)
            for analysis, g in zip(guardrails, experiment.guardrails, strict=True)
            for c in analysis.against_control
            if c.variant == compared.variant
        ]
        verdicts[compared.variant] = verdict(
            _reading(primary, compared, None),
            guards,
            srm,
            left,
            variant=compared.variant,
            control=experiment.control.name,
        )
    return Analysis(experiment, exposures, srm, primary, guardrails, left, verdicts)


def _holm(guardrails: list[MetricAnalysis]) -> list[MetricAnalysis]:
    """Holm's correction across every guardrail comparison of the experiment."""
    pairs = [(i, j) for i, g in enumerate(guardrails) for j in range(len(g.against_control))]
    if not pairs:
        return guardrails
    adjusted = holm([guardrails[i].against_control[j].comparison.p_value for i, j in pairs])
    corrected = [list(g.against_control) for g in guardrails]
    for (i, j), p in zip(pairs, adjusted.adjusted, strict=True):
        c = corrected[i][j]
        corrected[i][j] = VariantComparison(
            c.variant, c.comparison, c.sequential, c.bayes, float(p)
        )
    return [MetricAnalysis(g.metric, g.estimates, corrected[i]) for i, g in enumerate(guardrails)]
