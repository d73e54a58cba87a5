"""The early-handoff experiment in the fallback action: both variants behave as declared, and
an exposure is recorded once per conversation session, where the variants differ."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.support import ActionHandleFallback
from bot.storage.models import ExperimentExposure
from bot.storage.session import session_scope
from tests.actions.conftest import conversation_in, make_tracker, texts

SESSION_START = {"event": "session_started", "timestamp": 1000.0}


def first_miss(conversation: str):
    tracker = make_tracker("blorp", "nlu_fallback", history=[SESSION_START])
    tracker.sender_id = conversation
    return tracker


def exposures(session_factory):
    with session_scope(session_factory) as session:
        rows = session.execute(select(ExperimentExposure)).scalars().all()
        return [(r.experiment, r.variant, r.conversation_id, r.session_key) for r in rows]


async def test_first_miss_offers_a_person_at_once(experimenting, domain, session_factory):
    chat = conversation_in(experimenting, "early-handoff", "first-miss")
    dispatcher = CollectingDispatcher()
    events = await ActionHandleFallback(experimenting).run(dispatcher, first_miss(chat), domain)
    assert "connect you with a person" in texts(dispatcher)[0]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/affirm", "/deny"]
    assert events[0]["value"] == "handoff"
    assert exposures(session_factory) == [("early-handoff", "first-miss", chat, "1000.000000")]


async def test_the_control_asks_to_rephrase_first(experimenting, domain, session_factory):
    chat = conversation_in(experimenting, "early-handoff", "second-miss")
    dispatcher = CollectingDispatcher()
    events = await ActionHandleFallback(experimenting).run(dispatcher, first_miss(chat), domain)
    assert "say it in other words" in texts(dispatcher)[0]
    assert "buttons" not in dispatcher.messages[0] or not dispatcher.messages[0]["buttons"]
    assert events[0]["value"] is None
    assert exposures(session_factory) == [("early-handoff", "second-miss", chat, "1000.000000")]


async def test_an_exposure_is_recorded_once_per_session(experimenting, domain, session_factory):
    chat = conversation_in(experimenting, "early-handoff", "second-miss")
    for _ in range(3):
        await ActionHandleFallback(experimenting).run(
            CollectingDispatcher(), first_miss(chat), domain
        )
    assert len(exposures(session_factory)) == 1


async def test_no_exposure_where_the_variants_do_not_differ(experimenting, domain, session_factory):
    """At the second miss in a row both variants offer a person: nothing to expose."""
    chat = conversation_in(experimenting, "early-handoff", "second-miss")
    history = [
        SESSION_START,
        {"event": "user", "text": "blorp", "parse_data": {"intent": {"name": "nlu_fallback"}}},
        {"event": "action", "name": "action_handle_fallback"},
    ]
    tracker = make_tracker("zzz", "nlu_fallback", history=history)
    tracker.sender_id = chat
    dispatcher = CollectingDispatcher()
    await ActionHandleFallback(experimenting).run(dispatcher, tracker, domain)
    assert "still can't help" in texts(dispatcher)[0]
    assert exposures(session_factory) == []
