"""Helpers for the staff-console tests: accounts, signing in, CSRF tokens from pages."""

from __future__ import annotations

import html
import re
import warnings

from aiohttp.test_utils import TestClient
from sqlalchemy.orm import sessionmaker

from bot.auth.users import UserRepository
from bot.storage.session import session_scope
from tests.web.conftest import NOW

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_user(session_factory: sessionmaker, name: str, role: str, password: str = PASSWORD) -> None:
    with session_scope(session_factory) as session:
        UserRepository(session).add(name, role, password, NOW)


def csrf_in(page: str) -> str:
    found = _CSRF.search(page)
    assert found, "no CSRF token in the page"
    return html.unescape(found.group(1))


async def login(client: TestClient, name: str, password: str = PASSWORD, next_path: str = "/staff"):  # type: ignore[no-untyped-def]
    """Sign in through the login form; returns the POST's response (redirects not followed)."""
    form_page = await client.get("/staff/login")
    token = csrf_in(await form_page.text())
    return await client.post(
        "/staff/login",
        data={"name": name, "password": password, "csrf_token": token, "next": next_path},
        allow_redirects=False,
    )


async def signed_in(client: TestClient, session_factory: sessionmaker, role: str) -> str:
    """Create an account with `role`, sign in; returns the session's CSRF token."""
    name = f"{role}-user"
    add_user(session_factory, name, role)
    response = await login(client, name)
    assert response.status == 303, await response.text()
    page = await client.get("/staff/queue")
    assert page.status == 200
    return csrf_in(await page.text())


# --- conversations in the real tracker store ----------------------------------------------------

T0 = 1_793_000_000.0  # 2026-10-26 (UTC), before the tests' NOW


def chat_events(
    t0: float = T0, second_message: str = "<script>alert(1)</script> call me on 0170 1234567"
) -> list:  # type: ignore[type-arg]
    """A short chat: an order question with an email address, then a hand-off."""
    from rasa.shared.core.events import (
        ActionExecuted,
        BotUttered,
        SessionStarted,
        UserUttered,
    )

    email = "jane.doe@example.com"
    first = f"where is my order 104233? my email is {email}"
    return [
        ActionExecuted("action_session_start", timestamp=t0),
        SessionStarted(timestamp=t0 + 0.001),
        ActionExecuted("action_listen", timestamp=t0 + 0.002),
        UserUttered(
            first,
            intent={"name": "order_status", "confidence": 0.934},
            entities=[{"entity": "email", "value": email, "start": 37, "end": 57}],
            timestamp=t0 + 1,
            input_channel="socketio",
        ),
        ActionExecuted(
            "action_check_order_status", policy="RulePolicy", confidence=1.0, timestamp=t0 + 1.2
        ),
        BotUttered(
            "Your order 104233 was shipped.",
            metadata={"utter_action": "utter_order_shipped"},
            timestamp=t0 + 1.3,
        ),
        ActionExecuted("action_listen", timestamp=t0 + 1.4),
        UserUttered(
            second_message,
            intent={"name": "request_human", "confidence": 0.71},
            timestamp=t0 + 5,
            input_channel="socketio",
        ),
        ActionExecuted("action_handoff", timestamp=t0 + 5.2),
        BotUttered("I've passed our conversation to a person.", timestamp=t0 + 5.3),
        ActionExecuted("action_listen", timestamp=t0 + 5.4),
    ]


async def store_chat(tracker_db_url: str, sender_id: str, events: list) -> None:  # type: ignore[type-arg]
    """Save the chat with Rasa's own SQLTrackerStore (its real `events` schema)."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker
    from sqlalchemy.engine import make_url

    # Rasa's tracker store warns about its own SQLAlchemy 1.x usage on import and start;
    # importing rasa.core first, since it installs a warning filter of its own.
    with warnings.catch_warnings():
        import rasa.core.brokers.broker  # noqa: F401

        warnings.simplefilter("ignore", DeprecationWarning)
        from rasa.core.tracker_store import SQLTrackerStore

        store = SQLTrackerStore(
            Domain.empty(), dialect="sqlite", db=make_url(tracker_db_url).database
        )
    try:
        await store.save(DialogueStateTracker.from_events(sender_id, events))
    finally:
        store.engine.dispose()


def summarize_into_app_db(
    tracker_db_url: str, session_factory: sessionmaker, sender_id: str, customer_id: int | None
) -> None:
    """What the summarizing tracker store does live: the session summaries in `conversations`."""
    from bot.storage.repositories import ConversationRepository
    from bot.storage.session import create_db_engine
    from bot.transcripts.summaries import summarize_conversation
    from bot.transcripts.tracker_store import conversation_events

    engine = create_db_engine(tracker_db_url)
    try:
        events = conversation_events(engine, sender_id)
    finally:
        engine.dispose()
    with session_scope(session_factory) as session:
        for summary in summarize_conversation(sender_id, events, customer_id):
            ConversationRepository(session).upsert(summary)
