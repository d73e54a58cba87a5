"""Every metric of a period at once, compared with the previous period.

Four aggregate queries in all (surveys and conversations, for both periods), plus the
order-based retention, whatever the number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bot.metrics import customer_value, queries
from bot.metrics.core import MIN_SAMPLE_SIZE, Comparison, MetricResult, compare, too_few
from bot.metrics.periods import Period
from bot.metrics.queries import (
    CONVERSATION_METRICS,
    EVERYTHING,
    SURVEY_METRICS,
    ConversationAggregate,
    Cut,
    SurveyAggregate,
)

OVERVIEW_METRICS = SURVEY_METRICS + CONVERSATION_METRICS


@dataclass(frozen=True)
class OverviewRow:
    metric: str
    comparison: Comparison

    @property
    def current(self) -> MetricResult:
        return self.comparison.current

    @property
    def previous(self) -> MetricResult:
        return self.comparison.previous


def _period_results(session: Session, period: Period, cut: Cut) -> dict[str, MetricResult]:
    surveys = queries.survey_aggregates(session, period.start, period.end, cut).get(
        "all", SurveyAggregate()
    )
    conversations = queries.conversation_aggregates(session, period.start, period.end, cut).get(
        "all", ConversationAggregate()
    )
    results = {m: queries.survey_metric(m, surveys) for m in SURVEY_METRICS}
    results.update({m: queries.conversation_metric(m, conversations) for m in CONVERSATION_METRICS})
    return results


def overview(
    session: Session, period: Period, cut: Cut = EVERYTHING, with_customers: bool = True
) -> list[OverviewRow]:
    """Each metric of `period` beside the previous period's, with the change's interval."""
    previous = period.previous()
    now, before = _period_results(session, period, cut), _period_results(session, previous, cut)
    rows = [OverviewRow(m, compare(now[m], before[m])) for m in OVERVIEW_METRICS]
    if with_customers and cut.is_everything:
        retention_now = customer_value.repeat_purchase_retention(session, period.start, period.end)
        retention_before = customer_value.repeat_purchase_retention(
            session, previous.start, previous.end
        )
        rows.append(OverviewRow("retention", compare(retention_now, retention_before)))
        rows.append(
            OverviewRow(
                "churn",
                compare(
                    customer_value.churn(retention_now), customer_value.churn(retention_before)
                ),
            )
        )
    return rows


def breakdown(
    session: Session, period: Period, by: str, cut: Cut = EVERYTHING
) -> dict[str, dict[str, MetricResult]]:
    """Each survey and conversation metric per topic, channel or variant."""
    surveys = queries.survey_aggregates(session, period.start, period.end, cut, by)
    conversations = queries.conversation_aggregates(session, period.start, period.end, cut, by)
    groups: dict[str, dict[str, MetricResult]] = {}
    for name in sorted(set(surveys) | set(conversations)):
        survey = surveys.get(name, SurveyAggregate())
        conversation = conversations.get(name, ConversationAggregate())
        groups[name] = {m: queries.survey_metric(m, survey) for m in SURVEY_METRICS}
        groups[name].update(
            {m: queries.conversation_metric(m, conversation) for m in CONVERSATION_METRICS}
        )
    return dict(sorted(groups.items(), key=lambda item: -item[1]["containment"].n))


def result_json(result: MetricResult, min_n: int = MIN_SAMPLE_SIZE) -> dict[str, Any]:
    """A result for JSON; `too_few`: an NPS or CSAT of fewer than `min_n` answers."""
    return {
        "value": result.value,
        "n": result.n,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "counts": result.counts,
        "too_few": too_few(result, min_n),
    }


def comparison_json(comparison: Comparison, min_n: int = MIN_SAMPLE_SIZE) -> dict[str, Any]:
    """A comparison for JSON; never `significant` when either side has too few answers."""
    few = too_few(comparison.current, min_n) or too_few(comparison.previous, min_n)
    return {
        **result_json(comparison.current, min_n),
        "previous": result_json(comparison.previous, min_n),
        "change": comparison.difference,
        "change_ci_low": comparison.ci_low,
        "change_ci_high": comparison.ci_high,
        "significant": comparison.significant and not few,
    }
