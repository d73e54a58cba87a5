"""action_session_start: a manager is told each open monitoring alert once, at the start of
their next chat; a customer's chat starts as before, with nothing of the alerts."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

from actions.session import ActionSessionStart
from bot.auth.tokens import IDENTITY_KEY, Identity, seal
from bot.bootstrap import Services
from bot.monitoring import run_check
from bot.storage.models import AlertNotice
from bot.storage.session import session_scope
from tests.actions.conftest import CONVERSATION, NOW, signed_in, texts, visitor
from tests.monitoring.data import baseline, window


@pytest.fixture
def csat_alert(services: Services) -> Services:
    baseline(services.session_factory, satisfied=0.84, now=NOW)
    window(services.session_factory, satisfied=0.71, now=NOW)
    [alert] = run_check(services.session_factory, (), NOW, 10).raised
    assert alert.metric == "csat"
    return services


def manager(services: Services, name: str = "maria", conversation: str = CONVERSATION) -> dict:
    """The metadata a channel gives the message of a manager's token (with their name)."""
    sealed = seal(services.signing_key(), conversation, Identity("manager", name=name))
    return {IDENTITY_KEY: sealed, "client": "203.0.113.7"}


def session_start(
    metadata: dict[str, Any] | None,
    previous: dict[str, Any] | None = None,
    conversation: str = CONVERSATION,
) -> Tracker:
    """A tracker as Rasa sends it to action_session_start: the starting message's metadata in
    the session_started_metadata slot; the latest message is the previous session's (if any)."""
    latest = {"text": "hello", "intent": {"name": "greet"}, "metadata": previous or {}}
    return Tracker(
        sender_id=conversation,
        slots={"session_started_metadata": metadata},
        latest_message=latest if previous is not None else {},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def start(
    services: Services, tracker: Tracker, domain: dict
) -> tuple[list[str], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await ActionSessionStart(services).run(dispatcher, tracker, domain)
    return texts(dispatcher), events


def notices(services: Services) -> int:
    with session_scope(services.session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(AlertNotice)) or 0)


def test_the_domain_lists_the_action(domain: dict):
    assert "action_session_start" in domain["actions"]


async def test_a_manager_is_told_the_alert_once(csat_alert: Services, domain: dict):
    said, events = await start(csat_alert, session_start(manager(csat_alert)), domain)
    [message] = said
    assert message.startswith(
        "Monitoring alert since we last spoke:\n• CSAT fell from 84% (n = 412) to 71% "
        "(n = 130) over the last 7 days, against the 28 days before: down 13 points, 95% CI "
    )
    assert message.endswith("\nThe dashboard lists every open alert.")
    assert [e["event"] for e in events] == ["session_started", "action"]
    assert events[-1]["name"] == "action_listen"

    # The next chat, in another conversation of the same manager: nothing again.
    later = session_start(manager(csat_alert, conversation="chat-2"), conversation="chat-2")
    said, events = await start(csat_alert, later, domain)
    assert said == [] and [e["event"] for e in events] == ["session_started", "action"]
    # Another manager still hears of it.
    said, _ = await start(csat_alert, session_start(manager(csat_alert, "omar")), domain)
    assert len(said) == 1 and "CSAT fell" in said[0]


async def test_a_customers_chat_start_says_nothing_of_it(csat_alert: Services, domain: dict):
    for metadata in (signed_in(csat_alert, 7), visitor(), None):
        said, events = await start(csat_alert, session_start(metadata), domain)
        assert said == []
        assert [e["event"] for e in events] == ["session_started", "action"]
    assert notices(csat_alert) == 0


async def test_staff_are_not_told(csat_alert: Services, domain: dict):
    said, _ = await start(csat_alert, session_start(signed_in(csat_alert, None, "staff")), domain)
    assert said == [] and notices(csat_alert) == 0


async def test_a_managers_earlier_message_does_not_make_a_customer_a_manager(
    csat_alert: Services, domain: dict
):
    # The session is started by a customer's message; the one before it was a manager's.
    tracker = session_start(signed_in(csat_alert, 7), previous=manager(csat_alert))
    said, _ = await start(csat_alert, tracker, domain)
    assert said == [] and notices(csat_alert) == 0


async def test_a_manager_seal_from_another_conversation_proves_nothing(
    csat_alert: Services, domain: dict
):
    copied = manager(csat_alert, conversation="the-managers-own-chat")
    said, _ = await start(csat_alert, session_start(copied), domain)
    assert said == [] and notices(csat_alert) == 0


async def test_without_open_alerts_a_manager_hears_nothing(services: Services, domain: dict):
    said, events = await start(services, session_start(manager(services)), domain)
    assert said == [] and [e["event"] for e in events] == ["session_started", "action"]


async def test_slots_are_carried_over_when_the_domain_says_so(services: Services, domain: dict):
    carrying = {**domain, "session_config": {"carry_over_slots_to_new_session": True}}
    tracker = session_start(visitor())
    tracker.slots["order_id"] = "100001"
    _, events = await start(services, tracker, carrying)
    assert [(e["event"], e.get("name")) for e in events] == [
        ("session_started", None),
        ("slot", "order_id"),
        ("action", "action_listen"),
    ]
    # The real domain does not carry slots over.
    _, events = await start(services, tracker, domain)
    assert [e["event"] for e in events] == ["session_started", "action"]
