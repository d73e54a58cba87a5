"""Rasa's SQL tracker store, which also keeps each session's summary in the app database.

The transcript is stored exactly as Rasa stores it; after each save the current session's
summary (times, counts, hand-off, topic) is upserted into `conversations`, so that the
metrics are live without reading the tracker store. A failure there is logged and never
breaks the chat: `supportbot backfill-conversations` rebuilds the summaries.

Configured in the endpoints file as
`tracker_store: {type: bot.transcripts.summarizing_store.SummarizingTrackerStore, ...}`.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from bot.auth.tokens import identity_from_events
from bot.bootstrap import Services, bootstrap
from bot.storage.repositories import ConversationRepository
from bot.storage.session import session_scope
from bot.transcripts.summaries import summarize_conversation

logger = logging.getLogger(__name__)


class SummarizingTrackerStore(SQLTrackerStore):
    """SQLTrackerStore plus a `conversations` row per session in the app database."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._services: Services | None = None

    def services(self) -> Services:
        if self._services is None:
            self._services = bootstrap()
        return self._services

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the new events, then the summary of the conversation's current session."""
        await super().save(tracker)
        try:
            self.summarize(tracker.sender_id, [event.as_dict() for event in tracker.events])
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
