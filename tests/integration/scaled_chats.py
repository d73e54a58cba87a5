"""Whether the conversation summaries caught up with the tracker store, for the scaled-profile
tests (test_scaled_profile.py, test_scaled_faults.py). The chats themselves are driven by
benchmarks/scaled_chats.py, the load benchmark's driver."""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy as sa

from bot.auth.keys import signing_key
from bot.transcripts.summaries import summarize_signed_conversation


def summaries_behind(bot: Any, senders: list[str]) -> list[str]:
    """The conversations whose rows in `conversations` are not exactly the summaries of
    what the tracker store holds (missing, stale, or a session too many)."""
    key = signing_key(bot.settings)
    app = sa.create_engine(bot.database_url, future=True)
    tracker = sa.create_engine(bot.tracker_url, future=True)
    try:
        with tracker.connect() as connection:
            events: dict[str, list[dict[str, Any]]] = {s: [] for s in senders}
            for sender, data in connection.execute(
                sa.text(
                    "SELECT sender_id, data FROM events WHERE sender_id = ANY(:ids) ORDER BY id"
                ),
                {"ids": senders},
            ):
                events[sender].append(json.loads(data))
        with app.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT conversation_id, session_key, user_messages, bot_messages, "
                    "responses, survey_asked FROM conversations WHERE conversation_id = ANY(:ids)"
                ),
                {"ids": senders},
            ).all()
    finally:
        app.dispose()
        tracker.dispose()
    have: dict[str, set[tuple]] = {s: set() for s in senders}
    for row in rows:
        have[row[0]].add(tuple(row))
    behind = []
    for sender in senders:
        want = {
            (
                s.conversation_id,
                s.session_key,
                s.user_messages,
                s.bot_messages,
                s.responses,
                s.survey_asked,
            )
            for s in summarize_signed_conversation(sender, events[sender], key)
        }
        if have[sender] != want:
            behind.append(sender)
    return behind


def wait_for_summaries(bot: Any, senders: list[str], timeout: float) -> tuple[list[str], float]:
    """Wait (at most `timeout` s) until every conversation's summary is current: the ones
    still behind, and how long it took."""
    started = time.monotonic()
    while True:
        behind = summaries_behind(bot, senders)
        if not behind or time.monotonic() - started > timeout:
            return behind, time.monotonic() - started
        time.sleep(0.5)
