"""Per-variant sums of each metric, from exposures joined with the stored conversations."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.experiments.data import variant_sums
from bot.experiments.stats import MeanSummary, NpsSummary, ProportionSummary
from bot.storage.models import Conversation, Customer, Product, Recommendation, SurveyResponse
from bot.storage.repositories import ExposureRepository
from bot.storage.session import session_scope

NOW = datetime(2026, 12, 2, 9, 0)
# (variant, nps, csat, handed off, first response seconds)
CHATS = [
    ("a", 10, 5, False, 2.0),
    ("a", 6, 2, True, 4.0),
    ("a", None, None, False, 6.0),  # asked, not answered
    ("b", 9, 4, False, 1.0),
    ("b", 8, 4, False, 3.0),
]


@pytest.fixture
def stored(session_factory):
    with session_scope(session_factory) as session:
        exposures = ExposureRepository(session)
        for i, (variant, nps, csat, handed_off, seconds) in enumerate(CHATS):
            chat = f"chat-{i}"
            exposures.record("t", variant, f"conversation:{chat}", chat, "1.0", NOW)
            session.add(
                Conversation(
                    conversation_id=chat,
                    session_key="1.0",
                    started_at=NOW,
                    last_event_at=NOW,
                    handed_off=handed_off,
                    first_response_seconds=seconds,
                    survey_asked=True,
                )
            )
            if nps is not None:
                session.add(
                    SurveyResponse(
                        conversation_id=chat,
                        session_key="1.0",
                        nps=nps,
                        csat=csat,
                        status="completed",
                        created_at=NOW,
                        updated_at=NOW,
                    )
                )
        # a survey of a session nobody exposed does not count
        session.add(
            SurveyResponse(
                conversation_id="chat-0",
                session_key="2.0",
                nps=0,
                csat=1,
                status="completed",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        customer = Customer(email="x@example.com", name="X", created_at=NOW)
        product = Product(sku="S-1", name="P", category="C", price=1, stock=1)
        session.add_all([customer, product])
        session.flush()
        for chat, picked in (("chat-0", True), ("chat-0", False), ("chat-3", True)):
            session.add(
                Recommendation(
                    conversation_id=chat,
                    product_id=product.id,
                    kind="popular",
                    model="m",
                    rank=1,
                    shown_at=NOW,
                    picked_at=NOW if picked else None,
                )
            )
    return session_factory


def sums(session_factory, metric):
    with session_scope(session_factory) as session:
        return variant_sums(session, "t", metric)


def test_survey_metrics_per_variant(stored):
    assert sums(stored, "csat") == {"a": ProportionSummary(2, 1), "b": ProportionSummary(2, 2)}
    assert sums(stored, "nps") == {"a": NpsSummary(1, 0, 1), "b": NpsSummary(1, 1, 0)}
    assert sums(stored, "survey_response_rate") == {
        "a": ProportionSummary(3, 2),
        "b": ProportionSummary(2, 2),
    }


def test_conversation_metrics_per_variant(stored):
    assert sums(stored, "containment") == {
        "a": ProportionSummary(3, 2),
        "b": ProportionSummary(2, 2),
    }
    assert sums(stored, "handoff_rate") == {
        "a": ProportionSummary(3, 1),
        "b": ProportionSummary(2, 0),
    }
    assert sums(stored, "first_response_time") == {
        "a": MeanSummary(3, 4.0, 4.0),  # 2, 4, 6 s
        "b": MeanSummary(2, 2.0, 2.0),  # 1, 3 s
    }


def test_recommendation_acceptance_per_variant(stored):
    assert sums(stored, "recommendation_acceptance") == {
        "a": ProportionSummary(2, 1),
        "b": ProportionSummary(1, 1),
    }


def test_a_suggestion_counts_once_and_only_after_the_exposure(stored):
    with session_scope(stored) as session:
        # chat-0 exposed again in a later session: its suggestions still count once
        ExposureRepository(session).record(
            "t", "a", "conversation:chat-0", "chat-0", "2.0", NOW + timedelta(hours=1)
        )
        product_id = session.execute(select(Product.id)).scalar_one()
        # shown in chat-3 before its exposure: the variant could not have changed it
        session.add(
            Recommendation(
                conversation_id="chat-3",
                product_id=product_id,
                kind="popular",
                model="m",
                rank=1,
                shown_at=NOW - timedelta(minutes=5),
                picked_at=NOW,
            )
        )
    assert sums(stored, "recommendation_acceptance") == {
        "a": ProportionSummary(2, 1),
        "b": ProportionSummary(1, 1),
    }


def test_an_unknown_metric_is_refused(stored):
    with pytest.raises(ValueError, match="unknown metric"):
        sums(stored, "happiness")
