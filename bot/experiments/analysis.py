"""`analyze(experiment, uow, now)`: an experiment's results, from the database to a verdict.

Per variant: exposures, n, the metric with its 95% interval. Against the control: the
difference with its fixed-horizon and always-valid intervals, the p-value, the chance to
beat the control and the expected loss. SRM of the exposures against the weights, Holm's
correction across the guardrails, the sample the minimum detectable effect needs, and the
plain-English verdict. `until` cuts the analysis at a time (the sessions exposed before
it), and `primary_over_time` repeats the primary comparison per day, so the always-valid
interval can be watched narrowing. The primary metric is also compared by CUPED, adjusted for
a pre-exposure covariate (`bot.experiments.covariate`), beside the plain comparison. The
statistics are `bot.experiments.stats*`; this module only reads the sums
(`bot.experiments.data`, `bot.experiments.covariate`) and puts the pieces together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import sessionmaker

from bot.experiments.covariate import CupedSums, cuped_sums, describe
from bot.experiments.data import Sums, variant_sums
from bot.experiments.declarations import METRICS, Experiment
from bot.experiments.stats import (
    Comparison,
    CovariateSummary,
    CupedComparison,
    MeanSummary,
    NpsSummary,
    ProportionSummary,
    compare_cuped,
    compare_means,
    compare_nps,
    compare_rates,
    mean_imputed,
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
from bot.experiments.stats_verdict import Reading, Verdict, guardrail_state, verdict
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
    # For a guardrail: "harmed", "unresolved" or "holds" (`guardrail_state`).
    state: str | None = None


@dataclass(frozen=True)
class MetricAnalysis:
    metric: str
    estimates: dict[str, MetricResult]
    against_control: list[VariantComparison] = field(default_factory=list)

    @property
    def label(self) -> str:
        return LABELS[self.metric]


NO_COVARIATE = "no pre-exposure data"


@dataclass(frozen=True)
class CupedAnalysis:
    """The primary metric against the control adjusted by CUPED, beside the plain comparison.

    `covariate` says what x is; `with_covariate` and `sessions` count, per variant, the
    sessions with a y whose customer had a covariate, and all sessions with a y. Without a
    usable covariate (no session has one, or it never varies) `comparisons` is empty and
    `note` says "no pre-exposure data" rather than repeating the plain numbers.
    """

    covariate: str
    with_covariate: dict[str, int]
    sessions: dict[str, int]
    comparisons: dict[str, CupedComparison] = field(default_factory=dict)
    note: str | None = None


@dataclass(frozen=True)
class Analysis:
    experiment: Experiment
    exposures: dict[str, int]
    srm: SrmResult
    primary: MetricAnalysis
    guardrails: list[MetricAnalysis]
    remaining: Remaining | None
    verdicts: dict[str, Verdict]
    # None for a primary metric CUPED does not apply to (recommendation acceptance).
    cuped: CupedAnalysis | None = None


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


def _cuped(experiment: Experiment, sums: CupedSums | None) -> CupedAnalysis | None:
    """CUPED on every session: a missing covariate is the known ones' mean (`mean_imputed`).

    Mean imputation rather than dropping the anonymous sessions, so that the adjusted
    difference is of the same sessions as the plain one and the two can be read side by side.
    """
    if sums is None:
        return None
    names = [v.name for v in experiment.variants]
    known = {v: sums.present[v].n if v in sums.present else 0 for v in names}
    filled = mean_imputed(sums.present, sums.missing)
    total = {v: filled[v].n if v in filled else 0 for v in names}
    analysis = CupedAnalysis(describe(experiment.primary_metric), known, total)
    pooled_x = sum(sums.present.values(), CovariateSummary(0, 0.0, 0.0, 0.0, 0.0, 0.0)).covariate
    if pooled_x.n < 2 or pooled_x.variance <= 0:
        return replace(analysis, note=NO_COVARIATE)
    control = filled.get(experiment.control.name)
    comparisons = {}
    for name in names[1:]:
        variant = filled.get(name)
        if control is not None and variant is not None and min(control.n, variant.n) >= 2:
            comparisons[name] = compare_cuped(control, variant)
    return replace(analysis, comparisons=comparisons)


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


def analyze(
    experiment: Experiment, uow: sessionmaker, now: datetime, until: datetime | None = None
) -> Analysis:
    """The experiment's results as its conversations and surveys stand now.

    With `until`, only the sessions exposed before it count: the analysis as it stood then.
    """
    if until is not None:
        now = min(now, until)
    with session_scope(uow) as session:
        counts = ExposureRepository(session).counts(experiment.name, until)
        primary_sums = variant_sums(session, experiment.name, experiment.primary_metric, until)
        guard_sums = {
            g.metric: variant_sums(session, experiment.name, g.metric, until)
            for g in experiment.guardrails
        }
        covariate_sums = cuped_sums(session, experiment.name, experiment.primary_metric, until)
    exposures = {v.name: counts.get(v.name, 0) for v in experiment.variants}
    srm = srm_check(list(exposures.values()), [v.weight for v in experiment.variants])
    primary = _metric(experiment, experiment.primary_metric, primary_sums)
    guardrails = [
        _metric(experiment, g.metric, guard_sums[g.metric]) for g in experiment.guardrails
    ]
    guardrails = _with_states(experiment, _holm(guardrails))
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
    return Analysis(
        experiment,
        exposures,
        srm,
        primary,
        guardrails,
        left,
        verdicts,
        _cuped(experiment, covariate_sums),
    )


def _with_states(experiment: Experiment, guardrails: list[MetricAnalysis]) -> list[MetricAnalysis]:
    """Each guardrail comparison with its state: harmed, unresolved or holds."""
    return [
        replace(
            analysis,
            against_control=[
                replace(c, state=guardrail_state(_reading(analysis, c, declared.max_drop)))
                for c in analysis.against_control
            ],
        )
        for analysis, declared in zip(guardrails, experiment.guardrails, strict=True)
    ]


# At most this many days in `primary_over_time` (the latest ones).
MAX_DAYS = 180


@dataclass(frozen=True)
class DayAnalysis:
    """The primary metric as it stood at the end of `day` (sessions exposed until then)."""

    day: date
    primary: MetricAnalysis


def primary_over_time(
    experiment: Experiment, uow: sessionmaker, now: datetime, max_days: int = MAX_DAYS
) -> list[DayAnalysis]:
    """The primary metric's analysis at the end of each day, from the first exposure to now.

    Each day counts the sessions exposed up to its end (`variant_sums`' `until`), so the last
    day is `analyze`'s primary metric and the always-valid intervals can be seen narrowing.
    """
    with session_scope(uow) as session:
        first, last = ExposureRepository(session).span(experiment.name)
        if first is None or last is None:
            return []
        end = min(last.date(), now.date())
        day = max(first.date(), end - timedelta(days=max_days - 1))
        days = []
        while day <= end:
            until = datetime.combine(day + timedelta(days=1), time.min)
            sums = variant_sums(session, experiment.name, experiment.primary_metric, until)
            days.append(DayAnalysis(day, _metric(experiment, experiment.primary_metric, sums)))
            day += timedelta(days=1)
    return days


def _holm(guardrails: list[MetricAnalysis]) -> list[MetricAnalysis]:
    """Holm's correction across every guardrail comparison of the experiment."""
    pairs = [(i, j) for i, g in enumerate(guardrails) for j in range(len(g.against_control))]
    if not pairs:
        return guardrails
    adjusted = holm([guardrails[i].against_control[j].comparison.p_value for i, j in pairs])
    corrected = [list(g.against_control) for g in guardrails]
    for (i, j), p in zip(pairs, adjusted.adjusted, strict=True):
        c = corrected[i][j]
        corrected[i][j] = replace(c, adjusted_p=float(p))
    return [MetricAnalysis(g.metric, g.estimates, corrected[i]) for i, g in enumerate(guardrails)]
