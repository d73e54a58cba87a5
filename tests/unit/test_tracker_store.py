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

from bot.settings import PROJECT_ROOT, Settings
from bot.storage.migrate import upgrade
from bot.transcripts.summarizing_store import SummarizingTrackerStore

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
    ours = SummarizingTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "ours.db"))

    assert asyncio.run(converse(ours, domain)) == asyncio.run(converse(rasas, domain))
    rows = stored_rows(tmp_path / "ours.db")
    assert rows == stored_rows(tmp_path / "rasa.db")
    assert len(rows) == 2 * (8 + 4 + 2) + 2  # every event once, none twice
    assert [row[1] for row in rows].count("session_started") == 2


def test_sqlite_tracker_database_uses_write_ahead_logging(tmp_path, monkeypatch, domain):
    monkeypatch.setenv("SUPPORTBOT_VAR_DIR", str(tmp_path))
    store = SummarizingTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
