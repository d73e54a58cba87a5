"""A session's summary row: written once, replaced by later summaries, customer never erased."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.storage.models import Conversation, Customer
from bot.storage.repositories import ConversationRepository
from bot.storage.session import session_scope
from bot.transcripts.summaries import ConversationSummary

FIRST = ConversationSummary(
    conversation_id="web-123",
    session_key="2026-11-01T10:00:00",
    channel="socketio",
    topic="order_status",
    started_at=datetime(2026, 11, 1, 10, 0),
    last_event_at=datetime(2026, 11, 1, 10, 1),
    user_messages=1,
    bot_messages=2,
    fallbacks=0,
    first_response_seconds=0.4,
    response_seconds_total=0.4,
    responses=1,
    handed_off=False,
    handoff_seconds=None,
    survey_asked=False,
    customer_id=None,
    variant="B",
    search_text="where is my order",
)


def stored(factory: sessionmaker) -> list[dict]:
    with session_scope(factory) as session:
        rows = session.execute(select(Conversation).order_by(Conversation.id)).scalars().all()
        return [
            {f.name: getattr(row, f.name) for f in dataclasses.fields(ConversationSummary)}
            for row in rows
        ]


def check_summary_upserts(factory: sessionmaker) -> None:
    with session_scope(factory) as session:
        customer = Customer(
            name="Ada Lovelace", email="ada@example.com", created_at=datetime(2025, 1, 1)
        )
        session.add(customer)
        session.flush()
        customer_id = customer.id
    known = dataclasses.replace(FIRST, customer_id=customer_id)
    with session_scope(factory) as session:
        ConversationRepository(session).upsert(known)
    assert stored(factory) == [dataclasses.asdict(known)]

    later = dataclasses.replace(
        FIRST,
        last_event_at=datetime(2026, 11, 1, 10, 5),
        user_messages=3,
        bot_messages=5,
        handed_off=True,
        handoff_seconds=300.0,
        survey_asked=True,
        customer_id=None,  # this summary does not know who it was: the stored customer stays
        variant="",
        search_text="where is my order\nthanks",
    )
    with session_scope(factory) as session:
        ConversationRepository(session).upsert(later)
    expected = dataclasses.asdict(dataclasses.replace(later, customer_id=customer_id, variant="B"))
    assert stored(factory) == [expected]

    # a summary of an earlier moment (written late by another process) changes nothing
    with session_scope(factory) as session:
        ConversationRepository(session).upsert(known)
    assert stored(factory) == [expected]

    other_session = dataclasses.replace(FIRST, session_key="2026-11-02T09:00:00", topic="returns")
    third = dataclasses.replace(other_session, session_key="2026-11-03T09:00:00", topic="refunds")
    final = dataclasses.replace(later, last_event_at=datetime(2026, 11, 1, 10, 9), user_messages=4)
    with session_scope(factory) as session:
        ConversationRepository(session).upsert_many([other_session, third, final])
    rows = stored(factory)
    assert [row["topic"] for row in rows] == ["order_status", "returns", "refunds"]
    assert rows[0]["user_messages"] == 4
    assert rows[0]["customer_id"] == customer_id


def test_summaries_upsert_on_sqlite(session_factory):
    check_summary_upserts(session_factory)
