"""An experiment's analysis as JSON: what `supportbot experiments analyze --json` prints and
what the website's `/api/experiments` (and its dashboard panel) show.

The primary metric's CUPED comparison (`cuped`) sits beside its plain one.
Estimates are in the metric's units (NPS points, rates in percent, times in seconds);
differences against the control in points (rates, NPS) or seconds. A number that cannot be
computed (a p-value of two identical, certain variants) is null, never NaN.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy.orm import sessionmaker

from bot.experiments.analysis import (
    LABELS,
    Analysis,
    CupedAnalysis,
    DayAnalysis,
    MetricAnalysis,
    analyze,
    primary_over_time,
)
from bot.experiments.declarations import METRICS, Declarations, Experiment
from bot.metrics.core import MIN_SAMPLE_SIZE, too_few


def _number(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _scale(metric: str) -> float:
    return 1.0 if metric == "first_response_time" else 100.0


def unit(metric: str) -> str:
    """How the metric's estimates read: "points" (NPS), "percent" (rates) or "seconds"."""
    if metric == "first_response_time":
        return "seconds"
    return "points" if metric == "nps" else "percent"


def metric_json(
    analysis: MetricAnalysis, max_drop: float | None = None, min_n: int = MIN_SAMPLE_SIZE
) -> dict[str, Any]:
    """One metric: its estimate per variant and each variant against the control.

    `max_drop` is a guardrail's tolerated harm (None for the primary metric).
    """
    k = _scale(analysis.metric)
    return {
        "metric": analysis.metric,
        "label": analysis.label,
        "unit": unit(analysis.metric),
        "higher_is_better": METRICS[analysis.metric],
        "max_drop": max_drop,
        "variants": {
            name: {
                "n": r.n,
                "value": _number(r.value),
                "ci_low": _number(r.ci_low),
                "ci_high": _number(r.ci_high),
                "too_few": too_few(r, min_n),
            }
            for name, r in analysis.estimates.items()
        },
        "against_control": [
            {
                "variant": c.variant,
                "n": c.comparison.n,
                "difference": _number(k * c.comparison.difference),
                "ci": [_number(k * c.comparison.ci_low), _number(k * c.comparison.ci_high)],
                "always_valid_ci": [
                    _number(k * c.sequential.ci_low),
                    _number(k * c.sequential.ci_high),
                ],
                "p_value": _number(c.comparison.p_value),
                "always_valid_p_value": _number(c.sequential.p_value),
                "holm_p_value": _number(c.adjusted_p),
                "relative": _number(c.comparison.relative),
                "chance_to_beat_control": _number(c.bayes.chance_to_beat),
                "expected_loss": _number(k * c.bayes.loss_variant),
                "method": c.comparison.method,
                "guardrail": c.state,
            }
            for c in analysis.against_control
        ],
    }


def cuped_json(metric: str, cuped: CupedAnalysis | None) -> dict[str, Any] | None:
    """The primary metric's CUPED comparisons beside the plain ones (null where CUPED does
    not apply); `note` instead of comparisons when there is no pre-exposure data."""
    if cuped is None:
        return None
    k = _scale(metric)
    return {
        "covariate": cuped.covariate,
        "with_covariate": cuped.with_covariate,
        "sessions": cuped.sessions,
        "note": cuped.note,
        "against_control": [
            {
                "variant": name,
                "difference": _number(k * c.adjusted.difference),
                "ci": [_number(k * c.adjusted.ci_low), _number(k * c.adjusted.ci_high)],
                "p_value": _number(c.adjusted.p_value),
                "unadjusted_difference": _number(k * c.unadjusted.difference),
                "unadjusted_ci": [
                    _number(k * c.unadjusted.ci_low),
                    _number(k * c.unadjusted.ci_high),
                ],
                "variance_reduction": _number(c.variance_reduction),
                "theta": _number(c.theta),
            }
            for name, c in cuped.comparisons.items()
        ],
    }


def analysis_json(analysis: Analysis, min_n: int = MIN_SAMPLE_SIZE) -> dict[str, Any]:
    """Exposures, SRM, the primary metric and the guardrails, the sample still needed and the
    verdict per variant."""
    experiment = analysis.experiment
    return {
        "exposures": analysis.exposures,
        "srm": {
            "p_value": _number(analysis.srm.p_value),
            "mismatch": analysis.srm.mismatch,
            "message": analysis.srm.message,
        },
        "primary": metric_json(analysis.primary, None, min_n),
        "cuped": cuped_json(analysis.primary.metric, analysis.cuped),
        "guardrails": [
            metric_json(g, declared.max_drop, min_n)
            for g, declared in zip(analysis.guardrails, experiment.guardrails, strict=True)
        ],
        "remaining": analysis.remaining.text if analysis.remaining else None,
        "verdicts": {
            v: {"decision": d.decision, "text": d.text} for v, d in analysis.verdicts.items()
        },
    }


def over_time_json(experiment: Experiment, days: list[DayAnalysis]) -> list[dict[str, Any]]:
    """Per variant, the primary metric's difference against the control at each day's end
    with its fixed-horizon and always-valid intervals (days with too little data left out)."""
    k = _scale(experiment.primary_metric)
    series: dict[str, list[dict[str, Any]]] = {v.name: [] for v in experiment.variants[1:]}
    for day in days:
        for c in day.primary.against_control:
            series[c.variant].append(
                {
                    "day": day.day,
                    "n": c.comparison.n,
                    "difference": _number(k * c.comparison.difference),
                    "ci": [_number(k * c.comparison.ci_low), _number(k * c.comparison.ci_high)],
                    "always_valid_ci": [
                        _number(k * c.sequential.ci_low),
                        _number(k * c.sequential.ci_high),
                    ],
                }
            )
    return [{"variant": name, "points": points} for name, points in series.items()]


def experiment_json(
    experiment: Experiment,
    analysis: Analysis,
    days: list[DayAnalysis] | None = None,
    min_n: int = MIN_SAMPLE_SIZE,
) -> dict[str, Any]:
    """An experiment as declared (with any recorded decision), with its analysis."""
    decision = experiment.decision
    return {
        "name": experiment.name,
        "focus": experiment.focus,
        "status": experiment.status,
        "hypothesis": experiment.hypothesis,
        "primary_metric": experiment.primary_metric,
        "primary_label": LABELS[experiment.primary_metric],
        "minimum_detectable_effect": experiment.minimum_detectable_effect,
        "start": experiment.start,
        "planned_end": experiment.planned_end,
        "decision": (
            {"ship": decision.ship, "by": decision.by, "reason": decision.reason, "at": decision.at}
            if decision
            else None
        ),
        "control": experiment.control.name,
        "variants": [
            {
                "name": v.name,
                "weight": v.weight,
                "exposures": analysis.exposures.get(v.name, 0),
            }
            for v in experiment.variants
        ],
        **analysis_json(analysis, min_n),
        "over_time": over_time_json(experiment, days or []),
    }


def experiments_report(
    declared: Declarations, uow: sessionmaker, now: datetime, min_n: int = MIN_SAMPLE_SIZE
) -> dict[str, Any]:
    """Every declared experiment with its analysis and its primary metric day by day, and
    the entries the file left out (line and message)."""
    return {
        "experiments": [
            experiment_json(
                experiment,
                analyze(experiment, uow, now),
                primary_over_time(experiment, uow, now),
                min_n,
            )
            for experiment in declared.experiments
        ],
        "problems": [{"line": p.line, "message": p.message} for p in declared.problems],
    }
