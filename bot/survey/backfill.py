"""Rebuild survey rows from the tracker store, where the answers also live (in slots).

If the app database could not be written during a chat, the answers are still in the
conversation's slot events; this puts them where they belong. Running it twice changes
nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot.auth.tokens import identity_from_events
from bot.storage.repositories import CustomerRepository, SurveyRepository
from bot.storage.session import session_scope
from bot.survey.records import snapshots_with_surveys
from bot.transcripts.tracker_store import iter_conversations


@dataclass(frozen=True)
class BackfillResult:
    conversations: int
    surveys: int
    created: int
    already_stored: int


def backfill_surveys(
    tracker_engine: Engine,
    app_sessions: sessionmaker,
    now: Callable[[], datetime],
    signing_key: str,
    progress: Callable[[int], None] | None = None,
) -> BackfillResult:
    """Write every survey found in the tracker store that the app database is missing."""
    conversations = surveys = created = 0
    for sender_id, events in iter_conversations(tracker_engine):
        conversations += 1
        snapshots = snapshots_with_surveys(sender_id, events)
        if not snapshots:
            continue
        token_customer = identity_from_events(signing_key, sender_id, events).customer_id
        with session_scope(app_sessions) as session:
            repository = SurveyRepository(session)
            for snapshot in snapshots:
                surveys += 1
                customer_id = CustomerRepository(session).resolve(token_customer)
                _, was_created = repository.upsert(snapshot, now(), customer_id)
                created += int(was_created)
        if progress:
            progress(conversations)
    return BackfillResult(conversations, surveys, created, surveys - created)
