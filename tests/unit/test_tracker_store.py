"""The summarizing tracker store stores and reads back exactly what Rasa's SQLTrackerStore does.

Both stores get the same conversation, saved and read back turn by turn as Rasa's processor
does (including a second conversation session and a save without a read before it); the
rows in the two databases and the trackers read back must be identical.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, text

from bot.rasa.tracker_store import SummarizingTrackerStore
from bot.settings import PROJECT_ROOT, Settings
from bot.storage.migrate import upgrade

SENDER = "customer-1"


def user(text_: str, intent: str, at: float) -> UserUttered:
    return UserUttered(text_, {"name": intent, "confidence": 0.9}, timestamp=at)


def turns(start: float) -> list[list]:
    """Three turns of events, each what one message adds to the tracker."""
    return [
        [
            ActionExecuted("action_session_start", timestamp=start),
            SessionStarted(timestamp=start),
            ActionExecuted("action_listen", timestamp=start),
            user("where is my order 104233?", "order_status", start + 1),
            SlotSet("order_id", "104233", timestamp=start + 1.1),
            ActionExecuted("action_order_status", timestamp=start + 1.2),
            BotUttered("Order 104233 shipped.", timestamp=start + 1.3),
            ActionExecuted("action_listen", timestamp=start + 1.4),
        ],
        [
            user("thanks", "thank_you", start + 5),
            ActionExecuted("utter_you_are_welcome", timestamp=start + 5.1),
            BotUttered("You're welcome!", timestamp=start + 5.2),
            ActionExecuted("action_listen", timestamp=start + 5.3),
        ],
        [
            user("bye", "goodbye", start + 9),
            ActionExecuted("action_listen", timestamp=start + 9.1),
        ],
    ]


async def converse(store, domain: Domain) -> list[list[dict]]:
    """Save each turn after reading the tracker back, as Rasa does; returns what was read."""
    read_back = []
    sessions = [turns(1_000.0), turns(90_000.0)]  # the second is a new conversation session
    for session in sessions:
        for events in session:
            tracker = await store.retrieve(SENDER) or DialogueStateTracker(SENDER, domain.slots)
            read_back.append([event.as_dict() for event in tracker.events])
            for event in events:
                tracker.update(event)
            await store.save(tracker)
    # The same tracker saved twice, with an event added in between.
    tracker = await store.retrieve(SENDER)
    await store.save(tracker)
    tracker.update(BotUttered("One more thing.", timestamp=90_020.0))
    await store.save(tracker)
    # A tracker this store neither read nor saved (Rasa's API builds some): counted in the
    # database, as Rasa does.
    rebuilt = DialogueStateTracker.from_dict(
        SENDER, [event.as_dict() for event in tracker.events], domain.slots
    )
    rebuilt.update(BotUttered("And one more.", timestamp=90_030.0))
    await store.save(rebuilt)
    full = await store.retrieve_full_tracker(SENDER)
    read_back.append([event.as_dict() for event in full.events])
    return read_back


def stored_rows(db: Path) -> list[tuple]:
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id"
            )
        ).all()
    engine.dispose()
    return [(*row[:5], json.loads(row[5])) for row in rows]


@pytest.fixture
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def test_same_rows_and_trackers_as_rasas_store(tmp_path, monkeypatch, domain):
    settings = Settings(var_dir=tmp_path)
    upgrade(settings.database_url)
    monkeypatch.setenv("SUPPORTBOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)

    rasas = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "rasa.db"))
    ours = SummarizingTrackerStore(
        domain, dialect="sqlite", db=str(tmp_path / "ours.db"), summary_delay=0
    )

    assert asyncio.run(converse(ours, domain)) == asyncio.run(converse(rasas, domain))
    rows = stored_rows(tmp_path / "ours.db")
    assert rows == stored_rows(tmp_path / "rasa.db")
    assert len(rows) == 2 * (8 + 4 + 2) + 2  # every event once, none twice
    assert [row[1] for row in rows].count("session_started") == 2


def test_chats_saved_at_the_same_time_are_all_stored_in_order(tmp_path, monkeypatch, domain):
    """Chats whose reads and saves interleave each get every event once, in order, and each
    read of a chat hands back what that chat saved before (the trackers end complete)."""
    monkeypatch.setenv("SUPPORTBOT_VAR_DIR", str(tmp_path))
    store = SummarizingTrackerStore(
        domain, dialect="sqlite", db=str(tmp_path / "tracker.db"), summary_delay=0
    )
    senders = [f"customer-{n}" for n in range(24)]

    async def chat(sender: str) -> list[dict]:
        for events in turns(1_000.0):
            tracker = await store.retrieve(sender) or DialogueStateTracker(sender, domain.slots)
            for event in events:
                tracker.update(event)
            await store.save(tracker)
        return [event.as_dict() for event in tracker.events]

    async def all_chats() -> list[list[dict]]:
        return await asyncio.gather(*(chat(sender) for sender in senders))

    saved = asyncio.run(all_chats())
    expected = [event.as_dict() for turn in turns(1_000.0) for event in turn]
    assert saved == [expected] * len(senders)
    rows = stored_rows(tmp_path / "tracker.db")
    for sender in senders:
        assert [row[5] for row in rows if row[0] == sender] == expected


def test_sqlite_tracker_database_uses_write_ahead_logging(tmp_path, monkeypatch, domain):
    monkeypatch.setenv("SUPPORTBOT_VAR_DIR", str(tmp_path))
    store = SummarizingTrackerStore(
        domain, dialect="sqlite", db=str(tmp_path / "tracker.db"), summary_delay=0
    )
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"


@pytest.fixture
def app_database(tmp_path, monkeypatch) -> Settings:
    settings = Settings(var_dir=tmp_path)
    upgrade(settings.database_url)
    monkeypatch.setenv("SUPPORTBOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    return settings


def summary_rows(settings: Settings) -> list[tuple]:
    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT conversation_id, user_messages FROM conversations ORDER BY conversation_id")
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]


async def first_turn(store, domain: Domain, sender: str = SENDER) -> DialogueStateTracker:
    """A new conversation's first message, saved, then the second read as Rasa reads it."""
    tracker = DialogueStateTracker(sender, domain.slots)
    for event in turns(1_000.0)[0]:
        tracker.update(event)
    await store.save(tracker)
    tracker = await store.retrieve(sender)  # from the database: it starts at session_started
    for event in turns(1_000.0)[1]:
        tracker.update(event)
    await store.save(tracker)
    return tracker


def test_the_tracker_saved_last_is_handed_back_once(app_database, domain, tmp_path):
    store = SummarizingTrackerStore(
        domain, dialect="sqlite", db=str(tmp_path / "tracker.db"), summary_delay=0
    )

    async def chat() -> None:
        saved = await first_turn(store, domain)
        again = await store.retrieve(SENDER)
        assert again is saved  # no read of the session from the database
        # handed out once: without a save, the next read rebuilds it from the database
        rebuilt = await store.retrieve(SENDER)
        assert rebuilt is not saved
        assert [e.as_dict() for e in rebuilt.events] == [e.as_dict() for e in saved.events]
        assert rebuilt.current_state() == saved.current_state()

    asyncio.run(chat())


def test_a_new_session_is_kept_as_rasa_reads_it_back(app_database, domain, tmp_path):
    """A session that starts in a message leaves events before its start in the tracker;
    the next read gets the latest session only, as from the database."""
    db = str(tmp_path / "tracker.db")
    store = SummarizingTrackerStore(domain, dialect="sqlite", db=db, summary_delay=0)
    reader = SummarizingTrackerStore(domain, dialect="sqlite", db=db, summary_delay=0)

    async def chat() -> None:
        tracker = DialogueStateTracker(SENDER, domain.slots)
        tracker.update(ActionExecuted("action_listen", timestamp=999.0))
        tracker.update(ActionExecuted("action_session_start", timestamp=1_000.0))
        tracker.update(SessionStarted(timestamp=1_000.5))
        tracker.update(SlotSet("order_id", "104233", timestamp=1_000.6))
        for event in turns(1_000.5)[0][2:]:
            tracker.update(event)
        await store.save(tracker)
        kept = await store.retrieve(SENDER)
        from_database = await reader.retrieve(SENDER)
        assert kept is not tracker and len(tracker.events) == len(kept.events) + 2
        assert [e.as_dict() for e in kept.events] == [e.as_dict() for e in from_database.events]
        assert kept.current_state() == from_database.current_state()
        assert kept.get_slot("order_id") == "104233"
        # and it saves as the one read from the database would
        kept.update(BotUttered("Anything else?", timestamp=1_010.0))
        from_database.update(BotUttered("Anything else?", timestamp=1_010.0))
        await store.save(kept)
        assert [e.as_dict() for e in (await reader.retrieve(SENDER)).events] == [
            e.as_dict() for e in from_database.events
        ]

    asyncio.run(chat())
    rows = stored_rows(tmp_path / "tracker.db")
    assert [row[1] for row in rows].count("bot") == 2  # the new message stored once


def test_a_conversation_changed_elsewhere_is_caught_up_or_read_from_the_database(
    app_database, domain, tmp_path
):
    """Replicas taking a conversation's messages in turn: the kept tracker gets the other
    replica's new events (the same tracker a read would build, saved as Rasa would save
    it); an erased conversation, or one whose new session started elsewhere, is read."""
    db = str(tmp_path / "tracker.db")
    store = SummarizingTrackerStore(domain, dialect="sqlite", db=db, summary_delay=0)
    other_worker = SummarizingTrackerStore(domain, dialect="sqlite", db=db, summary_delay=0)
    reader = SummarizingTrackerStore(domain, dialect="sqlite", db=db, summary_delay=0)

    async def chat() -> None:
        saved = await first_turn(store, domain)
        # another Rasa process answers the next message
        elsewhere = await other_worker.retrieve(SENDER)
        elsewhere.update(SlotSet("order_id", "555000", timestamp=1_008.0))
        for event in turns(1_000.0)[2]:
            elsewhere.update(event)
        await other_worker.save(elsewhere)
        tracker = await store.retrieve(SENDER)
        assert tracker is saved  # caught up, not rebuilt
        from_database = await reader.retrieve(SENDER)
        assert [e.as_dict() for e in tracker.events] == [e.as_dict() for e in elsewhere.events]
        assert [e.as_dict() for e in tracker.events] == [e.as_dict() for e in from_database.events]
        assert tracker.current_state() == from_database.current_state()
        assert tracker.get_slot("order_id") == "555000"
        # saved again: only its own new event is stored
        tracker.update(BotUttered("Anything else?", timestamp=1_010.0))
        await store.save(tracker)
        rows = [row for row in stored_rows(tmp_path / "tracker.db") if row[0] == SENDER]
        assert [row[5]["timestamp"] for row in rows] == [
            e.as_dict()["timestamp"] for e in (await reader.retrieve(SENDER)).events
        ]
        assert len(rows) == len(tracker.events)

        # a new session started by the other replica: read from the database
        elsewhere = await other_worker.retrieve(SENDER)
        for event in turns(90_000.0)[0]:
            elsewhere.update(event)
        await other_worker.save(elsewhere)
        again = await store.retrieve(SENDER)
        assert again is not tracker
        assert [e.as_dict() for e in again.events] == [
            e.as_dict() for e in (await reader.retrieve(SENDER)).events
        ]
        assert again.events[1].type_name == SessionStarted.type_name

        # the conversation is erased: nothing is handed back
        await first_turn(store, domain, "to-forget")
        with store.engine.begin() as connection:
            connection.execute(text("DELETE FROM events WHERE sender_id = 'to-forget'"))
        assert await store.retrieve("to-forget") is None

    asyncio.run(chat())


def test_summaries_are_written_together_shortly_after(app_database, domain, tmp_path):
    store = SummarizingTrackerStore(
        domain, dialect="sqlite", db=str(tmp_path / "tracker.db"), summary_delay=0.2
    )

    async def chat() -> list[list[tuple]]:
        seen = []
        await first_turn(store, domain, "alice")
        await first_turn(store, domain, "bob")
        seen.append(summary_rows(app_database))  # not yet
        for _ in range(50):  # bounded: 5 s at most
            await asyncio.sleep(0.1)
            if summary_rows(app_database):
                break
        seen.append(summary_rows(app_database))
        # one more message: summarised again, and at once when asked
        tracker = await store.retrieve("bob")
        for event in turns(1_000.0)[2]:
            tracker.update(event)
        await store.save(tracker)
        store.summarize_waiting()
        seen.append(summary_rows(app_database))
        return seen

    before, after, latest = asyncio.run(chat())
    assert before == []
    assert after == [("alice", 2), ("bob", 2)]
    assert latest == [("alice", 2), ("bob", 3)]


def test_summaries_waiting_at_exit_are_written(app_database, domain, tmp_path):
    store = SummarizingTrackerStore(
        domain, dialect="sqlite", db=str(tmp_path / "tracker.db"), summary_delay=3600
    )
    asyncio.run(first_turn(store, domain))  # the loop ends before the timer fires
    assert summary_rows(app_database) == []
    store.summarize_waiting()  # what the exit handler does
    assert summary_rows(app_database) == [(SENDER, 2)]


def test_summaries_are_made_off_the_event_loop(app_database, domain, tmp_path, monkeypatch):
    """What a visitor wrote is summarised (and redacted) on a thread, not on Rasa's loop."""
    import threading

    import bot.rasa.tracker_store as module

    threads = []
    original = module.summarize_signed_conversation

    def recording(*args, **kwargs):
        threads.append(threading.get_ident())
        return original(*args, **kwargs)

    monkeypatch.setattr(module, "summarize_signed_conversation", recording)
    store = SummarizingTrackerStore(
        domain, dialect="sqlite", db=str(tmp_path / "tracker.db"), summary_delay=0.05
    )

    async def chat() -> int:
        await first_turn(store, domain, "carol")
        for _ in range(50):  # bounded: 5 s at most
            await asyncio.sleep(0.1)
            if summary_rows(app_database):
                break
        return threading.get_ident()

    loop_thread = asyncio.run(chat())
    assert summary_rows(app_database) == [("carol", 2)]
    assert threads and loop_thread not in threads
