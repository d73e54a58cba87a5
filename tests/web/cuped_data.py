"""Signed-in customers with a history before an experiment, then exposed and surveyed.

Each customer has a taste for the shop u ~ N(0, 1). Before their first exposure, some
answered CSAT surveys (scores grow with u), the others only placed orders (more of them
with a larger u); after it, they answer the experiment's CSAT survey (again growing with u,
plus the variant's effect). With `correlated=False` the history comes from an unrelated
taste, so it says nothing about the answers in the experiment. Orders and surveys after the
first exposure are planted too: they must not count as pre-exposure data.

`plant_customers` returns what an analysis should find, computed here from the planted
values: per exposed session with a CSAT answer, (variant, y, x), x None for an anonymous
conversation.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.orm import sessionmaker

from bot.storage.models import (
    Conversation,
    Customer,
    ExperimentExposure,
    Order,
    SurveyResponse,
)
from bot.storage.session import session_scope
from tests.web.experiments_data import CONTROL, FIRST_DAY, NAME, VARIANT

Observation = tuple[str, float, float | None]


def _score(value: float) -> int:
    return int(np.clip(np.rint(value), 1, 5))


def _survey(chat: str, key: str, customer: int | None, csat: int, at: datetime) -> SurveyResponse:
    return SurveyResponse(
        conversation_id=chat,
        session_key=key,
        customer_id=customer,
        nps=None,
        csat=csat,
        status="partial",
        created_at=at,
        updated_at=at,
    )


def _exposed(
    session, variant: str, unit: str, chat: str, key: str, customer: int | None, at: datetime
) -> None:
    session.add(
        ExperimentExposure(
            experiment=NAME,
            variant=variant,
            unit=unit,
            conversation_id=chat,
            session_key=key,
            exposed_at=at,
        )
    )
    session.add(
        Conversation(
            conversation_id=chat,
            session_key=key,
            customer_id=customer,
            started_at=at,
            last_event_at=at,
            survey_asked=True,
        )
    )


def plant_customers(
    factory: sessionmaker,
    per_variant: int,
    seed: int,
    correlated: bool = True,
    anonymous: int = 0,
    effect: float = 0.3,
) -> list[Observation]:
    """`per_variant` customers in each variant (customer units) and `anonymous` anonymous
    conversations per variant; the planted observations, as the analysis should see them."""
    rng = np.random.default_rng(seed)
    observations: list[Observation] = []
    order_number = 0
    with session_scope(factory) as session:
        for v, variant in enumerate((CONTROL, VARIANT)):
            lift = effect if variant == VARIANT else 0.0
            for i in range(per_variant):
                taste = rng.normal()
                history = taste if correlated else rng.normal()
                customer = Customer(
                    email=f"c{v}-{i}-{seed}@example.com", name="C", created_at=datetime(2025, 1, 1)
                )
                session.add(customer)
                session.flush()
                first = FIRST_DAY + timedelta(minutes=int(rng.integers(0, 10 * 24 * 60)))
                if rng.random() < 0.6:  # answered surveys before: their mean is x
                    scores = [
                        _score(3.3 + history + rng.normal(0, 0.7))
                        for _ in range(int(rng.integers(1, 4)))
                    ]
                    for k, score in enumerate(scores):
                        at = first - timedelta(days=5 + 7 * k)
                        session.add(
                            _survey(f"old-{customer.id}-{k}", "1.0", customer.id, score, at)
                        )
                    x = float(np.mean(scores))
                    before = int(rng.integers(0, 6))
                else:  # only ordered: the orders before the first exposure are x
                    before = int(rng.poisson(np.exp(1.0 + 0.5 * history)))
                    x = float(before)
                after = int(rng.integers(0, 4))
                for k in range(before + after):
                    order_number += 1
                    placed = (
                        first - timedelta(days=1 + k)
                        if k < before
                        else first + timedelta(hours=1 + k)
                    )
                    session.add(
                        Order(
                            number=f"T{seed}-{order_number:07d}",
                            customer_id=customer.id,
                            status="delivered",
                            placed_at=placed,
                            shipping_address="1 Street",
                            payment_method="card",
                            total=10,
                        )
                    )
                # A survey after the first exposure, of a session nobody exposed.
                session.add(
                    _survey(
                        f"later-{customer.id}", "1.0", customer.id, 1, first + timedelta(days=2)
                    )
                )
                sessions = 1 + int(rng.random() < 0.3)
                for s in range(sessions):
                    at = first + timedelta(days=s, minutes=1)
                    chat, key = f"chat-{customer.id}-{s}", f"{s}.0"
                    _exposed(session, variant, f"customer:{customer.id}", chat, key, None, at)
                    csat = _score(3.3 + taste + lift + rng.normal(0, 0.7))
                    session.add(_survey(chat, key, customer.id, csat, at + timedelta(minutes=5)))
                    observations.append((variant, float(csat >= 4), x))
            for i in range(anonymous):
                at = FIRST_DAY + timedelta(minutes=int(rng.integers(0, 10 * 24 * 60)))
                chat = f"anon-{variant}-{seed}-{i}"
                _exposed(session, variant, f"conversation:{chat}", chat, "1.0", None, at)
                csat = _score(3.3 + rng.normal() + lift + rng.normal(0, 0.7))
                session.add(_survey(chat, "1.0", None, csat, at))
                observations.append((variant, float(csat >= 4), None))
    return observations
