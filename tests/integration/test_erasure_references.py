"""Erasing a customer also erases the anonymous chats that name their orders, returns and
tickets, and nothing of anyone else's, on real SQLite and PostgreSQL databases."""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker

from bot.settings import Settings
from bot.storage.migrate import upgrade
from bot.storage.models import Conversation, Customer, Order, ReturnRequest, Ticket
from bot.storage.session import create_db_engine, make_session_factory, session_scope
from bot.transcripts.erasure import delete_tracker_events, erase
from bot.transcripts.references import References, conversations_by_reference
from tests.web.staff_support import summarize_into_app_db

NOW = datetime(2026, 11, 1, 12)
T0 = 1_793_000_000.0
ERASED, KEPT = 7, 8
POSTGRES_URL = os.environ.get(
    "SUPPORTBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@dataclass
class Databases:
    app_url: str
    tracker_url: str
    session_factory: sessionmaker
    tracker: Engine


@contextmanager
def _postgres_databases() -> Iterator[tuple[str, str]]:
    """Two fresh PostgreSQL databases (app, tracker store), dropped afterwards."""
    admin = sa.create_engine(
        POSTGRES_URL, future=True, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with admin.connect():
            pass
    except Exception as error:  # any failure to connect means: not here
        admin.dispose()
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}: {type(error).__name__}")
    names = [f"supportbot_test_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with admin.connect() as connection:
        for name in names:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL)
    try:
        yield (
            url.set(database=names[0]).render_as_string(hide_password=False),
            url.set(database=names[1]).render_as_string(hide_password=False),
        )
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    """A migrated, empty app database and an empty tracker store, both real."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            settings = Settings(var_dir=tmp_path)
            app_url, tracker_url = settings.database_url, settings.tracker_db_url
        else:
            app_url, tracker_url = stack.enter_context(_postgres_databases())
        upgrade(app_url)
        app, tracker = create_db_engine(app_url), create_db_engine(tracker_url)
        stack.callback(app.dispose)
        stack.callback(tracker.dispose)
        yield Databases(app_url, tracker_url, make_session_factory(app), tracker)


async def _store(url: str, sender_id: str, events: list[Any]) -> None:
    """Save a chat with Rasa's own SQLTrackerStore, so the `events` table is Rasa's."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    parsed = make_url(url)
    with warnings.catch_warnings():
        import rasa.core.brokers.broker  # noqa: F401 - installs Rasa's own warning filter

        warnings.simplefilter("ignore", DeprecationWarning)
        from rasa.core.tracker_store import SQLTrackerStore

        store = SQLTrackerStore(
            Domain.empty(),
            dialect=parsed.get_backend_name(),
            host=parsed.host,
            port=parsed.port,
            db=parsed.database,
            username=parsed.username,
            password=parsed.password,
        )
    try:
        await store.save(DialogueStateTracker.from_events(sender_id, events))
    finally:
        store.engine.dispose()


def _chat(*turns: str | tuple[str, Any], t0: float = T0) -> list[Any]:
    """Customer messages ("text"), bot messages ("bot: text") and slots ((name, value))."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

    events: list[Any] = [ActionExecuted("action_listen", timestamp=t0)]
    for n, turn in enumerate(turns, start=1):
        if isinstance(turn, tuple):
            events.append(SlotSet(turn[0], turn[1], timestamp=t0 + n))
        elif turn.startswith("bot: "):
            events.append(BotUttered(turn[5:], timestamp=t0 + n))
        else:
            events.append(UserUttered(turn, intent={"name": "order_status"}, timestamp=t0 + n))
    return events


def _senders(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(sa.text("SELECT DISTINCT sender_id FROM events")).scalars())


def _add_shop(factory: sessionmaker) -> dict[str, int]:
    """Customer 7 with orders 107000 and 107001, return R900007 and a ticket on 107001 opened
    in an anonymous chat; customer 8 with order 108000 and a ticket of their own."""
    with session_scope(factory) as session:
        for cid in (ERASED, KEPT):
            session.add(
                Customer(id=cid, email=f"{cid}@example.com", name=f"C{cid}", created_at=NOW)
            )
        session.flush()
        for oid, number, cid in ((1, "107000", 7), (2, "107001", 7), (3, "108000", 8)):
            session.add(
                Order(
                    id=oid,
                    number=number,
                    customer_id=cid,
                    status="shipped",
                    placed_at=NOW,
                    shipping_address="Hauptstr. 1, 10115 Berlin",
                    payment_method="card",
                    total=Decimal("10.00"),
                )
            )
        session.flush()
        session.add(
            ReturnRequest(
                number="R900007",
                order_id=1,
                status="open",
                reason="broken",
                conversation_id="anon-return-opened",
                created_at=NOW,
            )
        )
        tickets = {
            "erased": Ticket(
                kind="handoff",
                status="open",
                conversation_id="anon-handoff-on-order",
                order_id=2,
                reason="help",
                created_at=NOW,
            ),
            "anonymous": Ticket(
                kind="handoff",
                status="open",
                conversation_id="anon-handoff",
                reason="help",
                created_at=NOW,
            ),
            "kept": Ticket(
                kind="handoff",
                status="open",
                conversation_id="c8-own",
                customer_id=KEPT,
                reason="help",
                created_at=NOW,
            ),
        }
        session.add_all(tickets.values())
        session.flush()
        return {name: int(ticket.id) for name, ticket in tickets.items()}


async def _add_chats(db: Databases, tickets: dict[str, int]) -> tuple[set[str], set[str]]:
    """The chats of the tracker store: those to erase, and those to keep."""
    erased, kept = tickets["erased"], tickets["kept"]
    to_erase = {
        "anon-order": _chat("where is order 107000?", "bot: It was shipped."),
        "anon-spaced": _chat("status of 107 000 please"),
        "anon-slot": _chat("yes", ("order_id", "107001")),
        "anon-proven": _chat("ok", ("proven_orders", ["108000", "107001"])),
        "anon-return": _chat("what about my return R900007?"),
        "anon-return-lower": _chat("return r900007 is late"),
        "anon-ticket": _chat(f"I'm writing about ticket #{erased}"),
        "anon-ticket-slot": _chat("thanks", ("ticket_id", str(erased))),
        "anon-return-opened": _chat("I want to return it"),  # linked by the return's row
        "anon-handoff-on-order": _chat("talk to a person"),  # linked by the ticket's row
        # Names 107000, and has a ticket of its own that the next chat names.
        "anon-handoff": _chat(
            "107000 never came", f"bot: I've passed it on (ticket #{tickets['anonymous']})."
        ),
        "anon-followup": _chat(f"any news on ticket no. {tickets['anonymous']}?"),
    }
    to_keep = {
        "anon-other-customer": _chat("where is order 108000?", f"bot: (ticket #{kept})"),
        "anon-longer-numbers": _chat(
            "call 1070001 or 91070000, parcel 1Z107000X, return R9000071",
            f"ticket #{erased}0 and ticket #1{erased}",
            ("order_id", "1070009"),
        ),
        "anon-other-ticket": _chat(f"ticket #{kept}", ("ticket_id", str(kept))),
        "anon-stamp": _chat("hello", t0=1_793_107_000.0),  # the number is in the timestamps
        "anon-a-number": _chat(f"I have {erased} questions"),  # a ticket id alone is nothing
        "c8-own": _chat("my friend's order 107000 is late"),  # customer 8's own chat
    }
    for sender, events in {**to_erase, **to_keep}.items():
        await _store(db.tracker_url, sender, events)
    summarize_into_app_db(db.tracker_url, db.session_factory, "c8-own", KEPT)
    return set(to_erase), set(to_keep)


async def test_the_anonymous_chats_naming_the_customers_references_are_erased(
    databases: Databases,
) -> None:
    tickets = _add_shop(databases.session_factory)
    to_erase, to_keep = await _add_chats(databases, tickets)

    with session_scope(databases.session_factory) as session:
        result = erase(session, databases.tracker, customer_id=ERASED)

    assert set(result.conversation_ids) == to_erase
    assert result.found_by_reference == len(to_erase)
    assert _senders(databases.tracker) == to_keep
    with session_scope(databases.session_factory) as session:
        left = set(session.execute(sa.select(Ticket.id)).scalars())
        assert left == {tickets["kept"]}
        assert session.execute(sa.select(Conversation.customer_id)).scalars().all() == [KEPT]


async def test_an_erasure_stopped_after_the_tracker_store_finishes_when_run_again(
    databases: Databases,
) -> None:
    """The summaries' search text still names the order when the transcripts are gone."""
    _add_shop(databases.session_factory)
    await _store(databases.tracker_url, "anon-order", _chat("where is order 107000?"))
    await _store(databases.tracker_url, "anon-other", _chat("where is order 108000?"))
    for sender in ("anon-order", "anon-other"):
        summarize_into_app_db(databases.tracker_url, databases.session_factory, sender, None)
    delete_tracker_events(databases.tracker, ["anon-order"])  # the first run got this far

    with session_scope(databases.session_factory) as session:
        result = erase(session, databases.tracker, customer_id=ERASED)
    assert "anon-order" in result.conversation_ids
    with session_scope(databases.session_factory) as session:
        kept = session.execute(sa.select(Conversation.conversation_id)).scalars().all()
    assert kept == ["anon-other"]


async def test_a_customer_without_orders_finds_nothing_by_reference(databases: Databases) -> None:
    with session_scope(databases.session_factory) as session:
        session.add(Customer(id=1, email="a@example.com", name="A", created_at=NOW))
    await _store(databases.tracker_url, "anon", _chat("where is order 107000?"))
    with session_scope(databases.session_factory) as session:
        assert conversations_by_reference(session, databases.tracker, 1) == set()
    assert not References()
