"""Rasa's SQL tracker store, which also keeps each session's summary in the app database.

The transcript is stored exactly as Rasa stores it, before the reply is sent. Each session's
summary (times, counts, hand-off, topic) is upserted into `conversations` soon after
(`summary_delay`, one second by default): the summaries of all the chats that changed in that
second are written together, in one statement and one transaction, and a chat that got
several messages in it is summarised once. So the metrics and the staff console are at most
about a second behind the chat. A failure there is logged and never breaks the chat, and the
summaries still waiting are written when the process exits normally; after a crash,
`supportbot backfill-conversations` rebuilds them from the transcripts.

It also does Rasa's own work with less of it, the same rows in the same order:
- a tracker is read as its stored JSON only, not as one ORM object per event;
- a save knows how many of the tracker's events are already stored when this store read
  or saved that tracker before, instead of counting them in the database again (Rasa
  counts on every save), and inserts the new ones in one statement instead of through one
  ORM object each;
- the tracker it saved last for a conversation is kept (the most recent `cached_trackers`
  conversations) and handed back by the next read, instead of being rebuilt from the
  database, when the database still ends with the same event and the tracker holds what
  Rasa's read would: one indexed look-up instead of reading and replaying the session. A
  tracker is handed out once (Rasa's processor changes it), so a read that is not followed
  by a save leaves the next read to the database. A conversation that another process
  (a replica taking turns with this one) wrote to since is caught up with the events stored
  after the kept tracker's, as the read would replay them last; one erased, or with a
  session started elsewhere, is read from the database;
- an SQLite file is opened with the app's settings (WAL, busy timeout) and its
  connections are kept, instead of one new connection per read or write.

Configured in the endpoints file as
`tracker_store: {type: bot.rasa.tracker_store.SummarizingTrackerStore, ...}`;
with `summarize: false` (SUPPORTBOT_SUMMARIES_FROM=broker, the scaled profile) it writes no
summaries: `supportbot consume-events` writes them from the event broker's queue
(`bot/transcripts/event_consumer.py`).
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.bootstrap import Services, bootstrap
from bot.storage.repositories import ConversationRepository
from bot.storage.session import create_db_engine, session_scope
from bot.transcripts.summaries import summarize_signed_conversation
from bot.transcripts.tracker_store import load_event

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Set on a tracker this store read or saved: how many of its events the database holds.
_STORED_EVENTS = "_supportbot_stored_events"
DEFAULT_SUMMARY_DELAY = 1.0
# Enough for 250 chats going on at once to be answered from memory. Each kept tracker holds
# a few hundred objects that every full garbage collection walks, so more would make those
# pauses longer (1,000 kept trackers: about 300,000 objects, a 100-150 ms pause).
DEFAULT_CACHED_TRACKERS = 250


class SummarizingTrackerStore(SQLTrackerStore):
    """SQLTrackerStore plus a `conversations` row per session in the app database."""

    def __init__(
        self,
        *args: Any,
        summary_delay: float = DEFAULT_SUMMARY_DELAY,
        cached_trackers: int = DEFAULT_CACHED_TRACKERS,
        summarize: bool = True,
        outage_wait: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # Seconds a read or a save waits for a database that is down (SUPPORTBOT_DB_OUTAGE_WAIT):
        # Rasa would otherwise answer from memory and drop what it could not store.
        self.outage_wait = float(outage_wait)
        # False where `supportbot consume-events` summarises from the event broker instead
        # (SUPPORTBOT_SUMMARIES_FROM=broker, written into the endpoints file).
        self.summarize = bool(summarize)
        self._services: Services | None = None
        engine: Engine = self.engine  # type: ignore[has-type]
        if engine.dialect.name == "sqlite" and engine.url.database:
            engine.dispose()
            self.engine = create_db_engine(str(engine.url))
            self.sessionmaker = sessionmaker(bind=self.engine)
        self._queries = _Queries(self.SQLEvent.__table__)
        # sender id -> (the tracker saved last, the id of the last event stored for it)
        self._trackers: OrderedDict[str, tuple[DialogueStateTracker, int]] = OrderedDict()
        self.cached_trackers = int(cached_trackers)
        self.summary_delay = float(summary_delay)
        # sender id -> the conversation's events, waiting to be summarised
        self._unsummarised: dict[str, list[Event]] = {}
        self._summary_timer: asyncio.TimerHandle | None = None
        self._pending_write: asyncio.Future[None] | None = None
        atexit.register(_summarize_waiting, weakref.ref(self))

    # --- reading -----------------------------------------------------------------------------

    async def _through_outage(self, work: Callable[[], T]) -> T:
        """`work()`, tried again while the database is unreachable, for up to `outage_wait` s.

        `work` runs on a thread: while the database answers (Rasa's SQL store is
        synchronous), the replica's other chats go on. A read, or a save whose transaction
        the error rolled back, is safe to repeat; the waits between tries are on the event
        loop."""
        deadline = time.monotonic() + self.outage_wait
        delay = 0.2
        while True:
            try:
                return await asyncio.to_thread(work)
            except sa.exc.OperationalError:
                if time.monotonic() + delay > deadline:
                    raise
                logger.warning(
                    f"The tracker store's database is unreachable; again in {delay:.1f} s"
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        """The tracker saved last if the database still ends with its last event; otherwise
        Rasa's read, taking only the events' JSON from the database."""
        return await self._through_outage(
            lambda: self._read(sender_id, fetch_events_from_all_sessions)
        )

    def _read(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        kept = None if fetch_events_from_all_sessions else self._trackers.pop(sender_id, None)
        query = self._queries.all_data if fetch_events_from_all_sessions else self._queries.data
        with self.session_scope() as session:
            if kept is not None and (tracker := self._caught_up(session, *kept)) is not None:
                return tracker
            rows = session.execute(query, {"sender_id": sender_id})
            events = [load_event(data) for (data,) in rows]
        if not (self.domain and events):
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        if not fetch_events_from_all_sessions:
            setattr(tracker, _STORED_EVENTS, len(events))
        return tracker

    def _caught_up(
        self, session: Session, tracker: DialogueStateTracker, last_event_id: int
    ) -> DialogueStateTracker | None:
        """The kept tracker with the events stored after its own, None where it is no longer
        what a read of the database would give.

        Where the conversation's messages go to several replicas in turn (REST behind nginx),
        the other replica stored the last message's events: reading those few and applying
        them is what a full read would replay last, without replaying the rest. The kept
        tracker's own last event must still be stored (an erased conversation is read
        again), and a new session started elsewhere is read again (a read starts there)."""
        rows = session.execute(
            self._queries.since, {"sender_id": tracker.sender_id, "last_id": last_event_id}
        ).all()
        if not rows or rows[0][0] != last_event_id:
            return None
        newer = rows[1:]
        if any(type_name == SessionStarted.type_name for _, type_name, _ in newer):
            return None
        for _, _, data in newer:
            event = Event.from_parameters(load_event(data))
            if event is None:
                return None
            tracker.update(event)
        stored = tracker.__dict__.get(_STORED_EVENTS)
        if stored is not None:
            setattr(tracker, _STORED_EVENTS, stored + len(newer))
        return tracker

    def _stored_last_event_id(self, session: Session, sender_id: str) -> int | None:
        return session.execute(self._queries.last_event_id, {"sender_id": sender_id}).scalar()

    # --- writing -----------------------------------------------------------------------------

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the new events as Rasa does; the session's summary follows shortly."""
        await self.stream_events(tracker)
        events = list(tracker.events)
        known = tracker.__dict__.pop(_STORED_EVENTS, None)
        last_event_id = await self._through_outage(lambda: self._write(tracker, events, known))
        setattr(tracker, _STORED_EVENTS, len(events))
        self._keep(tracker, last_event_id)
        if self.summarize:
            self._unsummarised[tracker.sender_id] = events
            self._summarize_soon()

    def _write(
        self, tracker: DialogueStateTracker, events: list[Event], known: int | None
    ) -> int | None:
        """Insert the events not stored yet in one transaction; the last stored event's id."""
        with self.session_scope() as session:
            stored = known
            if stored is None:  # Rasa's count: the events of the latest session in the database
                stored = session.execute(
                    self._queries.count, {"sender_id": tracker.sender_id}
                ).scalar()
            rows = [_event_row(tracker.sender_id, event) for event in events[int(stored) :]]
            if rows:  # one multi-row INSERT instead of an ORM object per event
                session.execute(self.SQLEvent.__table__.insert(), rows)
            last_event_id = self._stored_last_event_id(session, tracker.sender_id)
            session.commit()
        return last_event_id

    def _keep(self, tracker: DialogueStateTracker, last_event_id: int | None) -> None:
        """Keep the tracker for the next read, as that read would rebuild it.

        Rasa reads the events stamped at or after the latest session start (`_event_query`).
        A tracker that still holds earlier events (a session started in this message) is
        kept as a new tracker of the latest session's events, leaving the saved one as it is.
        """
        self._trackers.pop(tracker.sender_id, None)
        if last_event_id is None or self.cached_trackers <= 0:
            return
        events = list(tracker.events)
        starts = [event.timestamp for event in events if isinstance(event, SessionStarted)]
        session_start = max(starts, default=None)
        if session_start is not None and any(e.timestamp < session_start for e in events):
            if self.domain is None:
                return
            latest = [event for event in events if event.timestamp >= session_start]
            tracker = DialogueStateTracker.from_events(
                tracker.sender_id, latest, self.domain.slots, tracker._max_event_history
            )
            setattr(tracker, _STORED_EVENTS, len(latest))
        self._trackers[tracker.sender_id] = (tracker, last_event_id)
        while len(self._trackers) > self.cached_trackers:
            self._trackers.popitem(last=False)

    # --- summaries ---------------------------------------------------------------------------

    def services(self) -> Services:
        if self._services is None:
            self._services = bootstrap()
        return self._services

    def _summarize_soon(self) -> None:
        if self.summary_delay <= 0:
            self.summarize_waiting()
            return
        if self._summary_timer is None:
            loop = asyncio.get_running_loop()
            self._summary_timer = loop.call_later(self.summary_delay, self._summarize_off_loop)

    def _take_waiting(self) -> dict[str, list[Event]]:
        if self._summary_timer is not None:
            self._summary_timer.cancel()
            self._summary_timer = None
        waiting, self._unsummarised = self._unsummarised, {}
        return waiting

    def _summarize_off_loop(self) -> None:
        """The timer's work: the summaries are made and written on a thread, so that what a
        visitor wrote never holds up the other chats on the event loop."""
        waiting = self._take_waiting()
        if waiting:
            self.services()  # made here, on the loop, not by two threads at once
            self._pending_write = asyncio.get_running_loop().run_in_executor(
                None, self._write_summaries, waiting
            )

    def summarize_waiting(self) -> None:
        """Write the summaries of every conversation saved since the last time, together."""
        self._write_summaries(self._take_waiting())

    def _write_summaries(self, waiting: dict[str, list[Event]]) -> None:
        if not waiting:
            return
        try:
            key = self.services().signing_key()
        except Exception:  # noqa: BLE001 - the chat must go on; a backfill can redo this
            logger.exception("Could not summarise %d conversations", len(waiting))
            return
        summaries = []
        for sender_id, events in waiting.items():
            try:
                data = [event.as_dict() for event in events]
                summaries += summarize_signed_conversation(sender_id, data, key)
            except Exception:  # noqa: BLE001 - the chat must go on; a backfill can redo this
                logger.exception("Could not summarise conversation %s", sender_id)
        try:
            with session_scope(self.services().session_factory) as session:
                ConversationRepository(session).upsert_many(summaries)
        except Exception:  # noqa: BLE001 - as above
            logger.exception("Could not write the summaries of %d conversations", len(waiting))


class _Queries:
    """The statements of the store, built once: Rasa's `_event_query` (the latest session:
    the events stamped at or after its latest `session_started`, or all of them if none)
    the id of a conversation's last event, and its events from a given id on."""

    def __init__(self, events: sa.Table) -> None:
        sender = events.c.sender_id == sa.bindparam("sender_id")
        session_start = (
            sa.select(sa.func.max(events.c.timestamp))
            .where(sender, events.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        latest_session = sa.or_(events.c.timestamp >= session_start, session_start.is_(None))
        self.data = sa.select(events.c.data).where(sender, latest_session).order_by(events.c.id)
        self.all_data = sa.select(events.c.data).where(sender).order_by(events.c.id)
        self.count = sa.select(sa.func.count()).select_from(events).where(sender, latest_session)
        self.last_event_id = sa.select(sa.func.max(events.c.id)).where(sender)
        self.since = (
            sa.select(events.c.id, events.c.type_name, events.c.data)
            .where(sender, events.c.id >= sa.bindparam("last_id"))
            .order_by(events.c.id)
        )


def _summarize_waiting(store: weakref.ref[SummarizingTrackerStore]) -> None:
    """At exit: the summaries still waiting for their timer."""
    alive = store()
    if alive is not None:
        alive.summarize_waiting()


def _event_row(sender_id: str, event: Event) -> dict[str, Any]:
    """The `events` row Rasa's SQLTrackerStore writes for an event (same columns, same JSON)."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }
