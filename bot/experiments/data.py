"""Per-variant sums of an experiment's metrics, from the app database (in SQL, not rows).

An exposed conversation session is joined with its conversation summary and its survey row
(both keyed by conversation id and session key), so every metric the bot stores can be cut
by variant. The sums are what the statistics need and nothing more (`bot.experiments.stats`' summaries):
counts for rates, the three NPS groups, and a mean's n, sum and sum of squares.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from bot.experiments.stats import MeanSummary, NpsSummary, ProportionSummary
from bot.storage.models import Conversation, ExperimentExposure, Recommendation, SurveyResponse

Sums = ProportionSummary | NpsSummary | MeanSummary


def _exposed(experiment: str, until: datetime | None = None) -> Any:
    """The experiment's exposures, those before `until` when it is given."""
    if until is None:
        return ExperimentExposure.experiment == experiment
    return and_(ExperimentExposure.experiment == experiment, ExperimentExposure.exposed_at < until)


def _surveys(
    session: Session, experiment: str, metric: str, until: datetime | None
) -> dict[str, Sums]:
    join = and_(
        SurveyResponse.conversation_id == ExperimentExposure.conversation_id,
        SurveyResponse.session_key == ExperimentExposure.session_key,
    )
    if metric == "csat":
        columns = [
            func.count(SurveyResponse.csat),
            func.sum(case((SurveyResponse.csat >= 4, 1), else_=0)),
        ]
    else:
        columns = [
            func.sum(case((SurveyResponse.nps >= 9, 1), else_=0)),
            func.sum(case((SurveyResponse.nps.between(7, 8), 1), else_=0)),
            func.sum(case((SurveyResponse.nps <= 6, 1), else_=0)),
        ]
    rows = session.execute(
        select(ExperimentExposure.variant, *columns)
        .join(SurveyResponse, join)
        .where(_exposed(experiment, until))
        .group_by(ExperimentExposure.variant)
    ).all()
    if metric == "csat":
        return {v: ProportionSummary(int(n or 0), int(h or 0)) for v, n, h in rows}
    return {v: NpsSummary(int(p or 0), int(pa or 0), int(d or 0)) for v, p, pa, d in rows}


def _conversations(
    session: Session, experiment: str, metric: str, until: datetime | None
) -> dict[str, Sums]:
    join = and_(
        Conversation.conversation_id == ExperimentExposure.conversation_id,
        Conversation.session_key == ExperimentExposure.session_key,
    )
    query = (
        select(ExperimentExposure.variant)
        .join(Conversation, join)
        .where(_exposed(experiment, until))
    )
    if metric == "first_response_time":
        seconds = Conversation.first_response_seconds
        rows = session.execute(
            query.add_columns(
                func.count(seconds), func.sum(seconds), func.sum(seconds * seconds)
            ).group_by(ExperimentExposure.variant)
        ).all()
        return {
            v: MeanSummary.from_sums(int(n or 0), float(s or 0), float(q or 0))
            for v, n, s, q in rows
        }
    if metric == "survey_response_rate":
        answered = case(
            (and_(SurveyResponse.id.is_not(None), SurveyResponse.status != "declined"), 1), else_=0
        )
        rows = session.execute(
            query.add_columns(func.count(), func.sum(answered))
            .outerjoin(
                SurveyResponse,
                and_(
                    SurveyResponse.conversation_id == Conversation.conversation_id,
                    SurveyResponse.session_key == Conversation.session_key,
                ),
            )
            .where(Conversation.survey_asked.is_(True))
            .group_by(ExperimentExposure.variant)
        ).all()
        return {v: ProportionSummary(int(n or 0), int(h or 0)) for v, n, h in rows}
    handed_off = case((Conversation.handed_off.is_(True), 1), else_=0)
    rows = session.execute(
        query.add_columns(func.count(), func.sum(handed_off)).group_by(ExperimentExposure.variant)
    ).all()
    if metric == "handoff_rate":
        return {v: ProportionSummary(int(n or 0), int(h or 0)) for v, n, h in rows}
    return {v: ProportionSummary(int(n or 0), int(n or 0) - int(h or 0)) for v, n, h in rows}


def _recommendations(session: Session, experiment: str, until: datetime | None) -> dict[str, Sums]:
    """Suggestions shown in an exposed conversation from its first exposure on, each once.

    Suggestion rows carry no session key, so they join by conversation: on its variant's
    first exposure, so that a conversation exposed in several sessions does not count its
    suggestions once per session, and a suggestion shown before the exposure (which the
    variant could not have changed) is not counted.
    """
    first = (
        select(
            ExperimentExposure.conversation_id,
            ExperimentExposure.variant,
            func.min(ExperimentExposure.exposed_at).label("since"),
        )
        .where(_exposed(experiment, until))
        .group_by(ExperimentExposure.conversation_id, ExperimentExposure.variant)
        .subquery()
    )
    picked = case((Recommendation.picked_at.is_not(None), 1), else_=0)
    rows = session.execute(
        select(first.c.variant, func.count(), func.sum(picked))
        .select_from(first)
        .join(
            Recommendation,
            and_(
                Recommendation.conversation_id == first.c.conversation_id,
                Recommendation.shown_at >= first.c.since,
            ),
        )
        .group_by(first.c.variant)
    ).all()
    return {v: ProportionSummary(int(n or 0), int(h or 0)) for v, n, h in rows}


def variant_sums(
    session: Session, experiment: str, metric: str, until: datetime | None = None
) -> dict[str, Sums]:
    """The metric's sums per variant over the experiment's exposed sessions.

    With `until`, only the sessions exposed before it count (the analysis as of that time).
    """
    if metric in ("csat", "nps"):
        return _surveys(session, experiment, metric, until)
    if metric in ("containment", "handoff_rate", "first_response_time", "survey_response_rate"):
        return _conversations(session, experiment, metric, until)
    if metric == "recommendation_acceptance":
        return _recommendations(session, experiment, until)
    raise ValueError(f"unknown metric {metric!r}")
