"""What the monitoring check looks for, from results already computed: one function per kind.

- `metric_drop`: a headline metric of the recent window against its baseline is worse, and
  the interval of the change (`bot.metrics.core.compare`) excludes zero, with at least the
  minimum sample on both sides. Five metrics are tested at each check, so the interval that
  decides is Bonferroni's (99% for five: at most a 5% chance that any of the five raises an
  alert by chance); the message gives the usual 95% interval.
- `guardrail_findings`: an experiment's guardrail whose state is "harmed" (its interval shows
  harm, `bot.experiments.stats_verdict.guardrail_state`).
- `srm_finding`: an experiment's exposures fail the sample-ratio-mismatch check.

Each finding carries the stable key of its condition and a plain-English message with the
numbers, their n and the 95% interval. Pure: no database, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.experiments.analysis import Analysis
from bot.experiments.declarations import METRICS
from bot.experiments.output import unit
from bot.metrics.answers import HIGHER_IS_BETTER, SECONDS_METRICS, format_number, label
from bot.metrics.core import Comparison

METRIC_DROP, GUARDRAIL_HARMED, SRM = "metric_drop", "guardrail_harmed", "srm"
# The chance, at one check, that any headline metric raises an alert though none changed.
FAMILY_ALPHA = 0.05


@dataclass(frozen=True)
class Finding:
    """A condition that holds now; `key` names it across checks."""

    key: str
    kind: str
    message: str
    metric: str | None = None
    experiment: str | None = None
    variant: str | None = None
    current_value: float | None = None
    baseline_value: float | None = None
    n_current: int | None = None
    n_baseline: int | None = None
    difference: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None


def _amount(metric: str, value: float) -> str:
    """A change in the metric's unit: "13 points", "1.3 s", "2.5 min"."""
    if metric in SECONDS_METRICS:
        return format_number(metric, value)
    return f"{value:.1f} points" if abs(value) < 1 else f"{value:.0f} points"


def _bounds(metric: str, low: float, high: float) -> str:
    if metric in SECONDS_METRICS:
        return f"{format_number(metric, low)} to {format_number(metric, high)}"
    digits = 1 if min(abs(low), abs(high)) < 1 else 0
    return f"{low:.{digits}f} to {high:.{digits}f}"


def _worse(metric: str, comparison: Comparison) -> bool:
    """Whether the whole 95% interval of the change lies on the worse side of zero."""
    if comparison.ci_low is None or comparison.ci_high is None:
        return False
    if metric in HIGHER_IS_BETTER:
        return comparison.ci_high < 0
    return comparison.ci_low > 0


def family_confidence(tests: int, alpha: float = FAMILY_ALPHA) -> float:
    """The confidence of each of `tests` intervals so that all hold together at 1 - alpha
    (Bonferroni)."""
    return 1 - alpha / max(tests, 1)


def metric_drop(
    metric: str,
    comparison: Comparison,
    window_days: int,
    baseline_days: int,
    min_n: int,
    tested: Comparison | None = None,
) -> Finding | None:
    """The finding when `metric` got significantly worse (recent window vs baseline), else None.

    `comparison` is the change with its 95% interval, as the message shows it; `tested`, when
    given, the same change with the interval that decides (`family_confidence`).
    E.g. "CSAT fell from 84% (n = 412) to 71% (n = 130) over the last 7 days, against the 28
    days before: down 13 points, 95% CI 6 to 20."
    """
    now, before = comparison.current, comparison.previous
    if now.value is None or before.value is None or comparison.difference is None:
        return None
    if now.n < min_n or before.n < min_n or not _worse(metric, tested or comparison):
        return None
    if comparison.ci_low is None or comparison.ci_high is None:
        return None
    higher_is_better = metric in HIGHER_IS_BETTER
    # The size of the harm and its interval, as positive numbers.
    if higher_is_better:
        size, low, high = -comparison.difference, -comparison.ci_high, -comparison.ci_low
    else:
        size, low, high = comparison.difference, comparison.ci_low, comparison.ci_high
    verb, direction = ("fell", "down") if higher_is_better else ("rose", "up")
    message = (
        f"{label(metric)} {verb} from {format_number(metric, before.value)} "
        f"(n = {before.n:,}) to {format_number(metric, now.value)} (n = {now.n:,}) over the last "
        f"{window_days} days, against the {baseline_days} days before: {direction} "
        f"{_amount(metric, size)}, 95% CI {_bounds(metric, low, high)}."
    )
    return Finding(
        key=f"metric:{metric}",
        kind=METRIC_DROP,
        message=message,
        metric=metric,
        current_value=now.value,
        baseline_value=before.value,
        n_current=now.n,
        n_baseline=before.n,
        difference=comparison.difference,
        ci_low=comparison.ci_low,
        ci_high=comparison.ci_high,
    )


def _scale(metric: str) -> float:
    """Experiment comparisons are in fractions for rates and NPS, seconds for times."""
    return 1.0 if metric in SECONDS_METRICS else 100.0


def _shown(metric: str, value: float) -> str:
    """An experiment's estimate as people read it (NPS points, percent or seconds)."""
    shown = unit(metric)
    if shown == "seconds":
        return format_number("first_response_time", value)
    return f"{value:.0f}" if shown == "points" else f"{value:.1f}%"


def guardrail_findings(analysis: Analysis) -> list[Finding]:
    """One finding per guardrail comparison whose state is "harmed"."""
    experiment = analysis.experiment
    found = []
    for guardrail in analysis.guardrails:
        metric, k = guardrail.metric, _scale(guardrail.metric)
        for compared in guardrail.against_control:
            if compared.state != "harmed":
                continue
            c = compared.comparison
            higher_is_better = METRICS[metric]
            if higher_is_better:
                size, low, high = -c.difference * k, -c.ci_high * k, -c.ci_low * k
            else:
                size, low, high = c.difference * k, c.ci_low * k, c.ci_high * k
            direction = "down" if higher_is_better else "up"
            message = (
                f"Experiment {experiment.name}: the guardrail {guardrail.label} is harmed in "
                f"variant {compared.variant}: {_shown(metric, c.variant_mean * k)} "
                f"(n = {c.n_variant:,}) against {_shown(metric, c.control_mean * k)} for the "
                f"control {experiment.control.name} (n = {c.n_control:,}): {direction} "
                f"{_amount(metric, size)}, 95% CI {_bounds(metric, low, high)} (p = "
                f"{c.p_value:.2g})."
            )
            found.append(
                Finding(
                    key=f"guardrail:{experiment.name}:{metric}:{compared.variant}",
                    kind=GUARDRAIL_HARMED,
                    message=message,
                    metric=metric,
                    experiment=experiment.name,
                    variant=compared.variant,
                    current_value=c.variant_mean * k,
                    baseline_value=c.control_mean * k,
                    n_current=c.n_variant,
                    n_baseline=c.n_control,
                    difference=c.difference * k,
                    ci_low=c.ci_low * k,
                    ci_high=c.ci_high * k,
                    p_value=c.p_value,
                )
            )
    return found


def srm_finding(analysis: Analysis) -> Finding | None:
    """The finding when the experiment's exposures do not match its weights, else None."""
    srm = analysis.srm
    total = sum(analysis.exposures.values())
    if total == 0 or not srm.mismatch:
        return None
    counts = ", ".join(f"{name} {count:,}" for name, count in analysis.exposures.items())
    name = analysis.experiment.name
    return Finding(
        key=f"srm:{name}",
        kind=SRM,
        message=f"Experiment {name}: {srm.message} (n = {total:,} exposed sessions: {counts}).",
        experiment=name,
        n_current=total,
        p_value=srm.p_value,
    )
