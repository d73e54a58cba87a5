"""Exposing a conversation to an experiment: the use case the actions call.

`exposed_variant(...)` assigns the conversation's unit and records the exposure, once per
conversation session (which then keeps its variant), only where the caller is about to act on the variant (the point where
the variants make the customer see something different). A draft, stopped or decided
experiment gives its default variant and records nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from bot.experiments.assignment import assign, unit_of
from bot.experiments.declarations import Experiment
from bot.storage.repositories import ExposureRepository
from bot.storage.session import session_scope

logger = logging.getLogger(__name__)


def exposed_variant(
    experiment: Experiment | None,
    customer_id: int | None,
    conversation_id: str,
    session_key: str,
    uow: sessionmaker,
    now: datetime,
    fallback: str,
) -> str:
    """The variant this conversation sees, its exposure recorded (`fallback` without the
    experiment). A database failure is logged and the variant still used: a chat never stops
    for an experiment."""
    if experiment is None:
        return fallback
    assignment = assign(experiment, unit_of(customer_id, conversation_id))
    if not assignment.assigned:
        return assignment.variant
    try:
        with session_scope(uow) as session:
            exposures = ExposureRepository(session)
            if exposures.record(
                experiment.name,
                assignment.variant,
                assignment.unit,
                conversation_id,
                session_key,
                now,
            ):
                return assignment.variant
            # Exposed already this session: keep what the customer saw, even where the unit
            # changed since (a customer who signed in or out mid-chat).
            earlier = exposures.variant_of(experiment.name, conversation_id, session_key)
    except SQLAlchemyError:
        logger.exception(
            "Could not record the exposure of %s to %s", conversation_id, experiment.name
        )
        return assignment.variant
    return earlier if earlier in experiment.weights else assignment.variant
