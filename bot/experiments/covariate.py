"""CUPED's per-variant sums: the primary metric y and a pre-exposure covariate x, in SQL.

Each exposed session is one observation, as in `bot.experiments.data`: its y is the metric
of that session (a CSAT answer scored 1 if satisfied else 0, an NPS answer +1/0/-1, a
conversation handed off or not, ...). Its x is what was known about the session's customer
before the customer's first exposure in this experiment:

- their mean earlier survey score for the primary metric (the 1-5 CSAT or the 0-10 NPS
  answers they gave before that first exposure), where they gave any;
- else the number of orders they placed before it (0 is a known value).

The customer is the one in a `customer:<id>` unit, else the customer the exposed session's
conversation belongs to. An anonymous conversation has no customer and so no covariate; the
sessions with and without one come back apart (`CupedSums`), for
`bot.experiments.stats.mean_imputed` to fill the missing x with the mean of the known ones.

Recommendation acceptance is counted per suggestion shown, not per session, so it has no
per-session y here (`cuped_sums` returns None for it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Integer, and_, case, cast, func, literal, select
from sqlalchemy.orm import Session, aliased

from bot.experiments.data import _exposed
from bot.experiments.stats import CovariateSummary
from bot.storage.models import Conversation, ExperimentExposure, Order, SurveyResponse

CUSTOMER_UNIT = "customer:"
# What the covariate is, per primary metric, as the analysis says it.
DESCRIPTIONS = {
    "csat": "the customer's mean earlier CSAT answer, else their orders before the first exposure",
    "nps": "the customer's mean earlier NPS answer, else their orders before the first exposure",
}
ORDERS_ONLY = "the customer's orders before their first exposure"
SUPPORTED = ("csat", "nps", "containment", "handoff_rate", "first_response_time",
             "survey_response_rate")  # fmt: skip


@dataclass(frozen=True)
class CupedSums:
    """Per variant, the sums of the sessions whose customer has a covariate (`present`) and,
    with zero covariate sums, of those without (`missing`)."""

    present: dict[str, CovariateSummary] = field(default_factory=dict)
    missing: dict[str, CovariateSummary] = field(default_factory=dict)


def describe(metric: str) -> str:
    """The covariate used for `metric`, in words."""
    return DESCRIPTIONS.get(metric, ORDERS_ONLY)


def _metric_value(metric: str, survey: Any, conversation: Any) -> Any:
    """The session's y for `metric` (NULL where the session has none)."""
    if metric == "csat":
        return case((survey.csat >= 4, 1), (survey.csat.is_not(None), 0), else_=None)
    if metric == "nps":
        return case(
            (survey.nps >= 9, 1), (survey.nps <= 6, -1), (survey.nps.is_not(None), 0), else_=None
        )
    if metric in ("containment", "handoff_rate"):
        handed = case((conversation.handed_off.is_(True), 1), else_=0)
        value = handed if metric == "handoff_rate" else 1 - handed
        return case((conversation.id.is_not(None), value), else_=None)
    if metric == "first_response_time":
        return conversation.first_response_seconds
    answered = case(
        (and_(survey.id.is_not(None), survey.status != "declined"), 1), else_=0
    )  # survey_response_rate: among the sessions that were asked
    return case((conversation.survey_asked.is_(True), answered), else_=None)


def cuped_sums(
    session: Session, experiment: str, metric: str, until: datetime | None = None
) -> CupedSums | None:
    """Σy, Σy², Σx, Σx², Σxy and n per variant, split by whether the covariate is known.

    With `until`, only the sessions exposed before it count, and "first exposure" means the
    first of those. None for a metric without a per-session value.
    """
    if metric not in SUPPORTED:
        return None
    exposure = ExperimentExposure
    survey, conversation = aliased(SurveyResponse), aliased(Conversation)
    unit_customer = case(
        (
            exposure.unit.like(f"{CUSTOMER_UNIT}%"),
            cast(func.substr(exposure.unit, len(CUSTOMER_UNIT) + 1), Integer),
        ),
        else_=func.coalesce(conversation.customer_id, survey.customer_id),
    )
    exposed = (
        select(
            exposure.variant.label("variant"),
            exposure.exposed_at.label("exposed_at"),
            unit_customer.label("customer_id"),
            cast(_metric_value(metric, survey, conversation), Float).label("y"),
        )
        .select_from(exposure)
        .outerjoin(
            conversation,
            and_(
                conversation.conversation_id == exposure.conversation_id,
                conversation.session_key == exposure.session_key,
            ),
        )
        .outerjoin(
            survey,
            and_(
                survey.conversation_id == exposure.conversation_id,
                survey.session_key == exposure.session_key,
            ),
        )
        .where(_exposed(experiment, until))
        .subquery("exposed")
    )
    first = (
        select(exposed.c.customer_id, func.min(exposed.c.exposed_at).label("first_at"))
        .where(exposed.c.customer_id.is_not(None))
        .group_by(exposed.c.customer_id)
        .subquery("first_exposure")
    )
    orders = (
        select(func.count(Order.id))
        .where(Order.customer_id == first.c.customer_id, Order.placed_at < first.c.first_at)
        .scalar_subquery()
    )
    x: Any = cast(orders, Float)
    if metric in ("csat", "nps"):
        earlier = aliased(SurveyResponse)
        score = getattr(earlier, metric)
        mean_score = (
            select(func.avg(cast(score, Float)))
            .where(
                earlier.customer_id == first.c.customer_id,
                earlier.created_at < first.c.first_at,
                score.is_not(None),
            )
            .scalar_subquery()
        )
        x = func.coalesce(mean_score, x)
    covariates = select(first.c.customer_id, x.label("x")).subquery("covariate")
    known = case((covariates.c.x.is_not(None), literal(True)), else_=literal(False))
    xv, y = func.coalesce(covariates.c.x, 0.0), exposed.c.y
    rows = session.execute(
        select(
            exposed.c.variant,
            known,
            func.count(y),
            func.sum(y),
            func.sum(y * y),
            func.sum(xv),
            func.sum(xv * xv),
            func.sum(xv * y),
        )
        .select_from(exposed)
        .outerjoin(covariates, covariates.c.customer_id == exposed.c.customer_id)
        .where(y.is_not(None))
        .group_by(exposed.c.variant, known)
    ).all()
    sums = CupedSums()
    for variant, has_x, n, sy, syy, sx, sxx, sxy in rows:
        summary = CovariateSummary(
            int(n or 0), float(sy or 0), float(syy or 0), float(sx or 0), float(sxx or 0),
            float(sxy or 0),
        )  # fmt: skip
        (sums.present if has_x else sums.missing)[variant] = summary
    return sums
