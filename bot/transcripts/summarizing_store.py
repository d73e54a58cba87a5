"""Rasa's SQL tracker store, which also keeps each session's summary in the app database.

The transcript is stored exactly as Rasa stores it; after each save the current session's
summary (times, counts, hand-off, topic) is upserted into `conversations`, so that the
metrics are live without reading the tracker store. A failure there is logged and never
breaks the chat: `supportbot backfill-conversations` rebuilds the summaries.

It also does Rasa's own work with less of it, the same rows in the same order:
- a tracker is read as its stored JSON only, not as one ORM object per event;
- a save knows how many of the tracker's events are already stored when this store read
  or saved that tracker before, instead of counting them in the database again (Rasa
  counts on every save), and inserts the new ones in one statement instead of through one
  ORM object each;
- an SQLite file is opened with the app's settings (WAL, busy timeout) and its
  connections are kept, instead of one new connection per read or write.

Configured in the endpoints file as
`tracker_store: {type: bot.transcripts.summarizing_store.SummarizingTrackerStore, ...}`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.auth.tokens import identity_from_events
from bot.bootstrap import Services, bootstrap
from bot.storage.repositories import ConversationRepository
from bot.storage.session import create_db_engine, session_scope
from bot.transcripts.summaries import summarize_conversation

logger = logging.getLogger(__name__)

# Set on a tracker this store read or saved: how many of its events the database holds.
_STORED_EVENTS = "_supportbot_stored_events"


class SummarizingTrackerStore(SQLTrackerStore):
    """SQLTrackerStore plus a `conversations` row per session in the app database."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._services: Services | None = None
        engine: Engine = self.engine  # type: ignore[has-type]
        if engine.dialect.name == "sqlite" and engine.url.database:
            engine.dispose()
            self.engine = create_db_engine(str(engine.url))
            self.sessionmaker = sessionmaker(bind=self.engine)

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        """Rasa's read, taking only the events' JSON from the database."""
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions)
            events = [json.loads(data) for (data,) in query.with_entities(self.SQLEvent.data)]
        if not (self.domain and events):
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        if not fetch_events_from_all_sessions:
            setattr(tracker, _STORED_EVENTS, len(events))
        return tracker

    def _stored_count(self, session: Session, tracker: DialogueStateTracker) -> int:
        """How many of the tracker's events are stored: known after a read or a save of this
        tracker object, otherwise counted in the database as Rasa does."""
        stored = tracker.__dict__.pop(_STORED_EVENTS, None)
        if stored is None:  # Rasa's count: the events of the latest session in the database
            stored = self._event_query(session, tracker.sender_id, False).count()
        return int(stored)

    def services(self) -> Services:
        if self._services is None:
            self._services = bootstrap()
        return self._services

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the new events as Rasa does, then the summary of the current session."""
        await self.stream_events(tracker)
        events = list(tracker.events)
        serialised = [event.as_dict() for event in events]
        with self.session_scope() as session:
            stored = self._stored_count(session, tracker)
            rows = [
                _event_row(tracker.sender_id, event, data)
                for event, data in zip(events[stored:], serialised[stored:], strict=True)
            ]
            if rows:  # one multi-row INSERT instead of an ORM object per event
                session.execute(self.SQLEvent.__table__.insert(), rows)
            session.commit()
        setattr(tracker, _STORED_EVENTS, len(events))
        try:
            self.summarize(tracker.sender_id, serialised)
        except Exception:  # noqa: BLE001 - the chat must go on; a backfill can redo this
            logger.exception("Could not summarise conversation %s", tracker.sender_id)

    def summarize(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        services = self.services()
        identity = identity_from_events(services.signing_key(), events)
        summaries = summarize_conversation(sender_id, events, identity.customer_id)
        if not summaries:
            return
        with session_scope(services.session_factory) as session:
            repository = ConversationRepository(session)
            for summary in summaries:
                repository.upsert(summary)


def _event_row(sender_id: str, event: Event, data: dict[str, Any]) -> dict[str, Any]:
    """The `events` row Rasa's SQLTrackerStore writes for an event (same columns, same JSON)."""
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }
