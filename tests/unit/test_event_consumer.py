"""The event consumer's summaries (`bot.transcripts.event_consumer.SummaryWriter`) on SQLite.

The conversations are saved by the project's tracker store with summaries off (as in the
scaled profile) and an in-memory event broker collecting exactly what Rasa publishes; the
writer then gets those messages, as RabbitMQ would hand them out: once, twice, shuffled,
late, or before the tracker store holds them.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass
from typing import Any

import pytest
from rasa.core.brokers.broker import EventBroker
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, text

from bot.rasa.tracker_store import SummarizingTrackerStore
from bot.runtime import endpoints_config
from bot.settings import PROJECT_ROOT, Settings
from bot.storage.migrate import upgrade
from bot.storage.session import create_db_engine, make_session_factory
from bot.transcripts.event_consumer import BatchResult, Delivery, SummaryWriter, _acknowledgements
from tests.unit.test_tracker_store import turns

COLUMNS = (
    "conversation_id, session_key, channel, topic, started_at, last_event_at, user_messages, "
    "bot_messages, fallbacks, first_response_seconds, response_seconds_total, responses, "
    "handed_off, handoff_seconds, survey_asked, customer_id, search_text"
)


KEY = "k" * 32


class CollectingBroker(EventBroker):
    """An event broker that keeps what Rasa's tracker store publishes, in order."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any]) -> None:
        self.published.append(json.loads(json.dumps(event)))  # as it crosses the wire

    def is_ready(self) -> bool:
        return True


@pytest.fixture
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


@pytest.fixture
def app(tmp_path, monkeypatch) -> Settings:
    settings = Settings(var_dir=tmp_path)
    upgrade(settings.database_url)
    monkeypatch.setenv("SUPPORTBOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SUPPORTBOT_SECRET_KEY", KEY)
    return settings


def rows(settings: Settings) -> list[tuple]:
    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        found = connection.execute(
            text(f"SELECT {COLUMNS} FROM conversations ORDER BY conversation_id, session_key")
        ).all()
    engine.dispose()
    return [tuple(row) for row in found]


async def chat(store: SummarizingTrackerStore, domain: Domain, sender: str, start: float) -> None:
    """Two sessions of three turns each, saved turn by turn as Rasa's processor does."""
    for session_start in (start, start + 90_000):
        for events in turns(session_start):
            tracker = await store.retrieve(sender) or DialogueStateTracker(sender, domain.slots)
            for event in events:
                tracker.update(event)
            await store.save(tracker)


def deliveries(published: list[dict[str, Any]], received_at: float = 0.0) -> list[Delivery]:
    return [Delivery.parse(json.dumps(body).encode(), received_at) for body in published]


@pytest.fixture
def stored(app, domain, tmp_path):
    """Two conversations in the tracker store, nothing summarised; the writer and what was
    published."""
    broker = CollectingBroker()
    store = SummarizingTrackerStore(
        domain,
        dialect="sqlite",
        db=str(tmp_path / "tracker.db"),
        summarize=False,
        event_broker=broker,
    )

    async def both() -> None:
        await chat(store, domain, "alice", 1_000.0)
        await chat(store, domain, "bob", 2_000.0)

    asyncio.run(both())
    tracker_engine = create_db_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    app_engine = create_db_engine(app.database_url)
    writer = SummaryWriter(tracker_engine, make_session_factory(app_engine), KEY, settle_seconds=30)
    yield store, writer, broker.published
    tracker_engine.dispose()
    app_engine.dispose()
    store.engine.dispose()


def test_the_store_writes_no_summary_when_the_broker_does(stored, app):
    _, _, published = stored
    assert rows(app) == []
    assert len(published) == 2 * 2 * (8 + 4 + 2)  # every stored event was published once


def test_the_same_events_twice_give_the_same_rows(stored, app):
    _, writer, published = stored
    first = writer.process(deliveries(published))
    assert first.done == list(range(len(published))) and first.waiting == []
    once = rows(app)
    assert [(r[0], r[6]) for r in once] == [("alice", 3), ("alice", 3), ("bob", 3), ("bob", 3)]
    # Redelivered, all of it, twice over and in another order: nothing changes.
    again = deliveries(published) * 2
    random.Random(7).shuffle(again)
    second = writer.process(again)
    assert len(second.done) == len(again)
    assert rows(app) == once


def test_an_old_event_delivered_late_does_not_undo_a_newer_summary(stored, app):
    _, writer, published = stored
    writer.process(deliveries(published))
    latest = rows(app)
    writer.process(deliveries(published[:3]))  # alice's first turn, redelivered after all
    assert rows(app) == latest


def test_the_rows_are_those_the_tracker_store_writes_itself(
    stored, app, domain, tmp_path, monkeypatch
):
    _, writer, published = stored
    writer.process(deliveries(published))
    from_broker = rows(app)
    # The embedded default: the store summarises as it saves (into a fresh app database).
    other = Settings(var_dir=tmp_path / "embedded")
    upgrade(other.database_url)
    monkeypatch.setenv("DATABASE_URL", other.database_url)
    store = SummarizingTrackerStore(
        domain, dialect="sqlite", db=str(tmp_path / "embedded.db"), summary_delay=0
    )

    async def both() -> None:
        await chat(store, domain, "alice", 1_000.0)
        await chat(store, domain, "bob", 2_000.0)

    asyncio.run(both())
    store.services().close()
    store.engine.dispose()
    assert rows(other) == from_broker


def test_an_event_published_before_it_is_stored_waits_for_it(stored, app):
    store, writer, published = stored
    # A message Rasa published just before its replica stored it (here: never stores it).
    tracker = asyncio.run(store.retrieve("alice"))
    late = {"sender_id": "alice", **BotUttered("Still there?", timestamp=99_999.0).as_dict()}
    batch = [*deliveries(published), *deliveries([late], received_at=100.0)]
    writer.clock = lambda: 110.0  # 10 s after it arrived: still waiting
    result = writer.process(batch)
    assert result.waiting == [len(batch) - 1]
    assert len(result.done) == len(published)
    before = [r for r in rows(app) if r[0] == "alice"][-1][7]  # bot messages, second session
    # Now stored: it is done, and the summary counts it.
    tracker.update(BotUttered("Still there?", timestamp=99_999.0))
    asyncio.run(store.save(tracker))
    result = writer.process(batch[-1:])
    assert result.done == [0] and result.waiting == []
    alice = [r for r in rows(app) if r[0] == "alice"]
    assert (before, alice[-1][7]) == (2, 3)


def test_an_event_never_stored_is_let_go_after_the_settle_time(stored, app):
    _, writer, _ = stored
    ghost = {"sender_id": "carol", "event": "user", "timestamp": 5.0, "text": "hello?"}
    writer.clock = lambda: 100.0
    assert writer.process(deliveries([ghost], received_at=80.0)).waiting == [0]
    result = writer.process(deliveries([ghost], received_at=60.0))  # 40 s > 30 s
    assert result.done == [0]
    assert [r for r in rows(app) if r[0] == "carol"] == []  # nothing made up


def test_a_message_that_is_no_event_is_acknowledged(stored, app):
    _, writer, _ = stored
    junk = [Delivery.parse(b"not json", 0.0), Delivery.parse(b'{"event": "user"}', 0.0)]
    assert writer.process(junk).done == [0, 1]
    assert rows(app) == []


def test_broker_summaries_turn_the_stores_off_and_need_a_broker(tmp_path):
    broker = Settings(var_dir=tmp_path, summaries_from="broker")
    config = endpoints_config(broker, {"EVENT_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672"})
    assert config["tracker_store"]["summarize"] is False
    assert config["event_broker"]["queues"] == ["supportbot_events"]
    with pytest.raises(ValueError, match="needs EVENT_BROKER_URL"):
        endpoints_config(broker, {})
    embedded = endpoints_config(Settings(var_dir=tmp_path), {})
    assert "summarize" not in embedded["tracker_store"]
    with pytest.raises(ValueError, match="SUPPORTBOT_SUMMARIES_FROM"):
        Settings(var_dir=tmp_path, summaries_from="both")


def test_the_sweep_summarises_what_the_broker_never_delivered(stored, app):
    _, writer, published = stored
    # Nothing delivered (the broker lost it all): the sweep from the start writes every row.
    swept, after = writer.sweep(0)
    assert swept == 2 and after == writer.last_event_id() > 0
    from_sweep = rows(app)
    assert [(r[0], r[6]) for r in from_sweep] == [
        ("alice", 3), ("alice", 3), ("bob", 3), ("bob", 3)
    ]  # fmt: skip
    # They are the rows the delivered events give, and a sweep with nothing new does nothing.
    writer.process(deliveries(published))
    assert rows(app) == from_sweep
    assert writer.sweep(after) == (0, after)


def test_the_sweep_takes_only_conversations_changed_since_and_a_bounded_number(stored, app, domain):
    store, writer, _ = stored
    _, after = writer.sweep(0)
    asyncio.run(chat(store, domain, "carol", 5_000.0))
    assert writer.sweep(after, most=10) == (1, writer.last_event_id())
    assert sorted({r[0] for r in rows(app)}) == ["alice", "bob", "carol"]
    # At most `most` conversations a sweep: the next sweep goes on from the last one taken.
    first, middle = writer.sweep(0, most=1)
    assert first == 1 and 0 < middle < writer.last_event_id()
    assert writer.sweep(middle, most=5)[0] == 2


@dataclass
class _Delivered:
    delivery_tag: int


def test_a_batch_holding_nothing_back_is_acknowledged_at_once_and_a_held_message_never():
    items = [(_Delivered(tag), Delivery("c", "user", 1.0, 0.0)) for tag in (7, 3, 9, 8)]
    everything = _acknowledgements(items, BatchResult(done=[0, 1, 2, 3]))
    assert [(m.delivery_tag, many) for m, many in everything] == [(9, True)]
    # the message tagged 8 waits for its event to be stored: the others one by one
    holding = _acknowledgements(items, BatchResult(done=[0, 1, 2], waiting=[3]))
    assert [(m.delivery_tag, many) for m, many in holding] == [(7, False), (3, False), (9, False)]
    assert _acknowledgements(items, BatchResult(waiting=[0, 1, 2, 3])) == []
