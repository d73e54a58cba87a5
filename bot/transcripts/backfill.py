"""Rebuild the conversation summaries of the metrics from the tracker store.

The tracker store writes them as the chats go; this redoes it for conversations held
before that, or written while the app database was unreachable. Running it twice
changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot.storage.repositories import ConversationRepository
from bot.storage.session import session_scope
from bot.transcripts.summaries import summarize_signed_conversation
from bot.transcripts.tracker_store import iter_conversations


@dataclass(frozen=True)
class ConversationBackfill:
    conversations: int
    sessions: int


def backfill_conversations(
    tracker_engine: Engine, app_sessions: sessionmaker, signing_key: str
) -> ConversationBackfill:
    """Write (or rewrite) the summary of every session found in the tracker store."""
    conversations = sessions = 0
    for sender_id, events in iter_conversations(tracker_engine):
        conversations += 1
        summaries = summarize_signed_conversation(sender_id, events, signing_key)
        if not summaries:
            continue
        with session_scope(app_sessions) as session:
            ConversationRepository(session).upsert_many(summaries)
        sessions += len(summaries)
    return ConversationBackfill(conversations, sessions)
