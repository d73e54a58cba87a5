"""The customer-experience metrics of a period, aggregated in the database.

Every query returns sums and counts, never rows: NPS needs promoters, detractors and n;
a mean needs n, the sum and the sum of squares. Those aggregates add up, so a trend is
one query grouped by day, rolled up into weeks or months here.

Survey metrics are counted by when the answer was given (`survey_responses.created_at`),
conversation metrics by when the conversation started (`conversations.started_at`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, case, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from bot.metrics.core import (
    CONFIDENCE,
    Comparison,
    MetricResult,
    compare,
    csat_from_counts,
    mean_from_sums,
    nps_from_counts,
    proportion,
)
from bot.storage.models import Conversation, SurveyResponse

SURVEY_METRICS = ("nps", "csat", "survey_response_rate")
CONVERSATION_METRICS = (
    "containment",
    "handoff_rate",
    "fallback_rate",
    "first_response_time",
    "response_time",
    "handoff_time",
)
CUTS = ("topic", "channel", "variant")


@dataclass(frozen=True)
class Cut:
    """Which conversations count: all of them, or one topic, channel or variant."""

    topic: str | None = None
    channel: str | None = None
    variant: str | None = None

    @property
    def is_everything(self) -> bool:
        return self.topic is None and self.channel is None and self.variant is None


# The default cut: every conversation.
EVERYTHING = Cut()


class _Additive:
    """Aggregates that add up field by field (days into weeks, groups into totals)."""

    def __add__(self, other: Any) -> Any:
        values = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}  # type: ignore[arg-type]
        return type(self)(**values)


@dataclass(frozen=True)
class SurveyAggregate(_Additive):
    asked: int = 0
    answered: int = 0
    nps_n: int = 0
    promoters: int = 0
    detractors: int = 0
    csat_n: int = 0
    satisfied: int = 0


@dataclass(frozen=True)
class ConversationAggregate(_Additive):
    n: int = 0
    handoffs: int = 0
    fallbacks: int = 0
    user_messages: int = 0
    first_response_n: int = 0
    first_response_sum: float = 0.0
    first_response_squares: float = 0.0
    response_n: int = 0
    response_sum: float = 0.0
    response_squares: float = 0.0
    handoff_n: int = 0
    handoff_sum: float = 0.0
    handoff_squares: float = 0.0


def _count_if(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _cut_filters(model: Any, cut: Cut) -> list[ColumnElement[bool]]:
    filters = []
    for name in CUTS:
        value = getattr(cut, name)
        if value is not None:
            filters.append(getattr(model, name) == value)
    return filters


def _group_key(model: Any, by: str | None, time_column: Any) -> Any:
    if by is None:
        return None
    if by == "day":
        # "YYYY-MM-DD" from the text form of the timestamp, the same on SQLite and PostgreSQL.
        return func.substr(cast(time_column, String), 1, 10)
    if by not in CUTS:
        raise ValueError(f"cannot break down by {by!r}; choose one of {', '.join(CUTS)}")
    return func.coalesce(getattr(model, by), "none")


def survey_aggregates(
    session: Session,
    start: datetime,
    end: datetime,
    cut: Cut = EVERYTHING,
    by: str | None = None,
) -> dict[str, SurveyAggregate]:
    """Survey counts of [start, end), in total (key "all") or per `by` value."""
    model = SurveyResponse
    key = _group_key(model, by, model.created_at)
    columns = [
        func.count(),
        _count_if(model.status != "declined"),
        func.count(model.nps),
        _count_if(model.nps >= 9),
        _count_if(model.nps <= 6),
        func.count(model.csat),
        _count_if(model.csat >= 4),
    ]
    query = select(*([key] if key is not None else []), *columns).where(
        model.created_at >= start, model.created_at < end, *_cut_filters(model, cut)
    )
    if key is not None:
        query = query.group_by(key)
    found: dict[str, SurveyAggregate] = {}
    for row in session.execute(query):
        values = list(row)
        name = str(values.pop(0)) if key is not None else "all"
        found[name] = SurveyAggregate(*(int(v or 0) for v in values))
    return found


def conversation_aggregates(
    session: Session,
    start: datetime,
    end: datetime,
    cut: Cut = EVERYTHING,
    by: str | None = None,
) -> dict[str, ConversationAggregate]:
    """Conversation counts and time sums of [start, end), in total or per `by` value."""
    model = Conversation
    key = _group_key(model, by, model.started_at)
    frt = model.first_response_seconds
    per_conversation = case(
        (model.responses > 0, model.response_seconds_total / model.responses), else_=None
    )
    handoff = model.handoff_seconds
    columns = [
        func.count(),
        _count_if(model.handed_off.is_(True)),
        func.coalesce(func.sum(model.fallbacks), 0),
        func.coalesce(func.sum(model.user_messages), 0),
        func.count(frt),
        func.coalesce(func.sum(frt), 0.0),
        func.coalesce(func.sum(frt * frt), 0.0),
        func.count(per_conversation),
        func.coalesce(func.sum(per_conversation), 0.0),
        func.coalesce(func.sum(per_conversation * per_conversation), 0.0),
        func.count(handoff),
        func.coalesce(func.sum(handoff), 0.0),
        func.coalesce(func.sum(handoff * handoff), 0.0),
    ]
    query = select(*([key] if key is not None else []), *columns).where(
        model.started_at >= start, model.started_at < end, *_cut_filters(model, cut)
    )
    if key is not None:
        query = query.group_by(key)
    found: dict[str, ConversationAggregate] = {}
    for row in session.execute(query):
        values = list(row)
        name = str(values.pop(0)) if key is not None else "all"
        converted: dict[str, Any] = {
            f.name: (int if f.type in ("int", int) else float)(value or 0)
            for f, value in zip(fields(ConversationAggregate), values, strict=True)
        }
        found[name] = ConversationAggregate(**converted)
    return found


def survey_metric(
    metric: str, aggregate: SurveyAggregate, confidence: float = CONFIDENCE
) -> MetricResult:
    """NPS, CSAT or the survey response rate from a period's survey counts."""
    a = aggregate
    if metric == "nps":
        passives = a.nps_n - a.promoters - a.detractors
        return nps_from_counts(a.promoters, passives, a.detractors, confidence)
    if metric == "csat":
        return csat_from_counts(a.satisfied, a.csat_n, confidence)
    if metric == "survey_response_rate":
        return proportion(
            metric, a.answered, a.asked, confidence, labels=("answered", "not_answered")
        )
    raise ValueError(f"{metric!r} is not a survey metric")


def conversation_metric(
    metric: str, aggregate: ConversationAggregate, confidence: float = CONFIDENCE
) -> MetricResult:
    """A rate (percent) or a mean time (seconds) from a period's conversation aggregates."""
    a = aggregate
    if metric == "containment":
        return proportion(
            metric, a.n - a.handoffs, a.n, confidence, labels=("contained", "handed_off")
        )
    if metric == "handoff_rate":
        return proportion(metric, a.handoffs, a.n, confidence, labels=("handed_off", "contained"))
    if metric == "fallback_rate":
        return proportion(
            metric, a.fallbacks, a.user_messages, confidence,
            labels=("not_understood", "understood"),
        )  # fmt: skip
    if metric == "first_response_time":
        return mean_from_sums(
            metric, a.first_response_n, a.first_response_sum, a.first_response_squares,
            confidence, lower_bound=0.0,
        )  # fmt: skip
    if metric == "response_time":
        return mean_from_sums(
            metric, a.response_n, a.response_sum, a.response_squares, confidence,
            lower_bound=0.0,
        )  # fmt: skip
    if metric == "handoff_time":
        return mean_from_sums(
            metric, a.handoff_n, a.handoff_sum, a.handoff_squares, confidence, lower_bound=0.0
        )
    raise ValueError(f"{metric!r} is not a conversation metric")


def is_supported(metric: str) -> bool:
    return metric in SURVEY_METRICS or metric in CONVERSATION_METRICS


def metric_result(
    session: Session,
    metric: str,
    start: datetime,
    end: datetime,
    cut: Cut = EVERYTHING,
    confidence: float = CONFIDENCE,
) -> MetricResult:
    """One metric over [start, end) for the conversations of `cut`, with its interval at
    `confidence` (95% unless asked)."""
    if metric in SURVEY_METRICS:
        aggregate = survey_aggregates(session, start, end, cut).get("all", SurveyAggregate())
        return survey_metric(metric, aggregate, confidence)
    if metric in CONVERSATION_METRICS:
        totals = conversation_aggregates(session, start, end, cut).get(
            "all", ConversationAggregate()
        )
        return conversation_metric(metric, totals, confidence)
    raise ValueError(f"unknown metric {metric!r}")


def metric_by(
    session: Session, metric: str, start: datetime, end: datetime, by: str, cut: Cut = EVERYTHING
) -> dict[str, MetricResult]:
    """One metric per topic, channel or variant, largest samples first."""
    if metric in SURVEY_METRICS:
        groups = survey_aggregates(session, start, end, cut, by)
        results = {k: survey_metric(metric, v) for k, v in groups.items()}
    elif metric in CONVERSATION_METRICS:
        conversation_groups = conversation_aggregates(session, start, end, cut, by)
        results = {k: conversation_metric(metric, v) for k, v in conversation_groups.items()}
    else:
        raise ValueError(f"unknown metric {metric!r}")
    return dict(sorted(results.items(), key=lambda item: (-item[1].n, item[0])))


def with_previous(
    session: Session,
    metric: str,
    period: tuple[datetime, datetime],
    previous: tuple[datetime, datetime],
    cut: Cut = EVERYTHING,
    confidence: float = CONFIDENCE,
) -> Comparison:
    """A metric of a period compared with the previous period: change and its interval (at
    `confidence`, 95% unless asked)."""
    return compare(
        metric_result(session, metric, *period, cut, confidence),
        metric_result(session, metric, *previous, cut, confidence),
        confidence,
    )


@dataclass(frozen=True)
class PainPoint:
    topic: str
    csat: MetricResult
    nps: MetricResult
    detractor_share: MetricResult


def pain_points(
    session: Session,
    start: datetime,
    end: datetime,
    min_answers: int = 20,
    limit: int = 5,
    cut: Cut = EVERYTHING,
) -> list[PainPoint]:
    """Topics with the lowest CSAT and most detractors, among those with enough answers.

    Ranked by CSAT, then by detractor share; topics with fewer than `min_answers`
    answers are left out, because a handful of answers says little.
    """
    found = []
    for topic, aggregate in survey_aggregates(session, start, end, cut, by="topic").items():
        if topic == "other" or max(aggregate.csat_n, aggregate.nps_n) < min_answers:
            continue
        found.append(
            PainPoint(
                topic=topic,
                csat=survey_metric("csat", aggregate),
                nps=survey_metric("nps", aggregate),
                detractor_share=proportion(
                    "detractors",
                    aggregate.detractors,
                    aggregate.nps_n,
                    labels=("detractors", "others"),
                ),
            )
        )

    def badness(point: PainPoint) -> tuple[float, float]:
        csat_value = point.csat.value if point.csat.value is not None else 100.0
        detractors = point.detractor_share.value or 0.0
        return (csat_value, -detractors)

    return sorted(found, key=badness)[:limit]


def _bucket(day: date, size: str) -> date:
    if size == "day":
        return day
    if size == "week":
        return day - timedelta(days=day.weekday())
    if size == "month":
        return day.replace(day=1)
    raise ValueError("bucket must be day, week or month")


def trend(
    session: Session,
    metric: str,
    start: datetime,
    end: datetime,
    bucket: str = "week",
    cut: Cut = EVERYTHING,
) -> list[tuple[date, MetricResult]]:
    """The metric per day, week (from Monday) or month of [start, end), oldest first."""
    rolled: dict[date, Any] = {}
    daily: Iterable[tuple[str, Any]]
    if metric in SURVEY_METRICS:
        daily = survey_aggregates(session, start, end, cut, by="day").items()
    elif metric in CONVERSATION_METRICS:
        daily = conversation_aggregates(session, start, end, cut, by="day").items()
    else:
        raise ValueError(f"unknown metric {metric!r}")
    for key, aggregate in daily:
        when = _bucket(date.fromisoformat(key), bucket)
        rolled[when] = rolled[when] + aggregate if when in rolled else aggregate
    compute = survey_metric if metric in SURVEY_METRICS else conversation_metric
    return [(when, compute(metric, rolled[when])) for when in sorted(rolled)]


def score_distribution(
    session: Session, question: str, start: datetime, end: datetime, cut: Cut = EVERYTHING
) -> dict[int, int]:
    """How many answers each score got: NPS 0-10 or CSAT 1-5."""
    if question not in ("nps", "csat"):
        raise ValueError("question must be nps or csat")
    column = getattr(SurveyResponse, question)
    scores = range(0, 11) if question == "nps" else range(1, 6)
    counts = dict.fromkeys(scores, 0)
    query = (
        select(column, func.count())
        .where(
            SurveyResponse.created_at >= start,
            SurveyResponse.created_at < end,
            column.is_not(None),
            *_cut_filters(SurveyResponse, cut),
        )
        .group_by(column)
    )
    for score, count in session.execute(query):
        counts[int(score)] = int(count)
    return counts
