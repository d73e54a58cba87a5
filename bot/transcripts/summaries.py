"""A conversation session's events summarised for the metrics: times, counts, hand-off.

Pure functions over Rasa's serialised events, so that the tracker store (live) and
`supportbot backfill-conversations` (after the fact) produce the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from bot.auth.tokens import identity_from_events
from bot.survey.records import SURVEY_START_ACTION, main_topic, session_key, split_sessions
from bot.transcripts.masking import ContextMasks
from bot.transcripts.redaction import redact

HANDOFF_ACTION = "action_handoff"
SURVEY_FORM = "survey_form"
FALLBACK_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})
# Bounds the staff search's copy of a session's messages (a chat is rarely a tenth of this).
MAX_SEARCH_TEXT = 8000


@dataclass(frozen=True)
class ConversationSummary:
    conversation_id: str
    session_key: str
    channel: str
    topic: str
    started_at: datetime
    last_event_at: datetime
    user_messages: int
    bot_messages: int
    fallbacks: int
    first_response_seconds: float | None
    response_seconds_total: float
    responses: int
    handed_off: bool
    handoff_seconds: float | None
    survey_asked: bool
    customer_id: int | None = None
    variant: str | None = None
    search_text: str = ""


def search_text(texts: Sequence[str]) -> str:
    """What the customer wrote, as the staff search reads it: redacted, lower-cased, bounded.

    Button payloads ("/affirm") are left out: the customer did not type them. The texts come
    with what their context hides already masked (`ContextMasks.text`).
    """
    typed = (" ".join(t.split()) for t in texts if t and not t.startswith("/"))
    return "\n".join(redact(t).lower() for t in typed if t)[:MAX_SEARCH_TEXT]


def _when(stamp: Any) -> datetime | None:
    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
        return datetime.fromtimestamp(stamp, tz=timezone.utc).replace(tzinfo=None)
    return None


def _intent(event: Mapping[str, Any]) -> str | None:
    name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
    return str(name) if name else None


def summarize_session(
    conversation_id: str,
    events: Sequence[Mapping[str, Any]],
    customer_id: int | None = None,
    masks: ContextMasks | None = None,
) -> ConversationSummary | None:
    """The summary of one session's events, or None when the customer never wrote.

    `masks` are those of the whole conversation when the session is part of one.
    """
    if not events:
        return None
    if masks is None:
        masks = ContextMasks(events)
    stamps = [s for s in (e.get("timestamp") for e in events) if isinstance(s, (int, float))]
    if not stamps:
        return None
    intents: list[str] = []
    texts: list[str] = []
    channel = ""
    user_messages = bot_messages = fallbacks = responses = 0
    response_total = 0.0
    first_user: float | None = None
    first_response: float | None = None
    waiting_since: float | None = None  # a customer message not yet answered
    handoff_at: float | None = None
    surveying = False  # the survey was started: what follows is not about the chat's topic
    answering = False  # the survey form is active: messages are answers, not requests
    for event in events:
        kind = event.get("event")
        stamp = event.get("timestamp")
        at = float(stamp) if isinstance(stamp, (int, float)) else None
        if kind == "user":
            user_messages += 1
            channel = event.get("input_channel") or channel
            if isinstance(event.get("text"), str):
                texts.append(masks.text(event))
            intent = _intent(event)
            # An answer to the survey ("9", "great service") is not a misunderstanding.
            if intent in FALLBACK_INTENTS and not answering:
                fallbacks += 1
            # Survey answers ("9", "great") say nothing about what the chat was about.
            if intent and not surveying:
                intents.append(intent)
            if at is not None:
                first_user = at if first_user is None else first_user
                waiting_since = at if waiting_since is None else waiting_since
        elif kind == "bot" and at is not None:
            bot_messages += 1
            if waiting_since is not None:
                reply = max(0.0, at - waiting_since)
                response_total += reply
                responses += 1
                if first_response is None:
                    first_response = reply
                waiting_since = None
        elif kind == "bot":
            bot_messages += 1
        elif kind == "action" and event.get("name") == HANDOFF_ACTION and handoff_at is None:
            handoff_at = at
        elif kind == "action" and event.get("name") == SURVEY_START_ACTION:
            surveying = True
        elif kind == "active_loop":
            answering = event.get("name") == SURVEY_FORM
    if user_messages == 0:
        return None
    start = _when(min(stamps))
    last = _when(max(stamps))
    assert start is not None and last is not None
    handoff_seconds = (
        max(0.0, handoff_at - first_user)
        if handoff_at is not None and first_user is not None
        else None
    )
    return ConversationSummary(
        conversation_id=conversation_id,
        session_key=session_key(events[0]),
        channel=channel or "unknown",
        topic=main_topic(intents),
        started_at=start,
        last_event_at=last,
        user_messages=user_messages,
        bot_messages=bot_messages,
        fallbacks=fallbacks,
        first_response_seconds=first_response,
        response_seconds_total=response_total,
        responses=responses,
        handed_off=handoff_at is not None,
        handoff_seconds=handoff_seconds,
        survey_asked=surveying,
        customer_id=customer_id,
        search_text=search_text(texts),
    )


def summarize_conversation(
    conversation_id: str,
    events: Sequence[Mapping[str, Any]],
    customer_id: int | None = None,
) -> list[ConversationSummary]:
    """One summary per session in which the customer wrote something."""
    found = []
    masks = ContextMasks(events)
    for session in split_sessions(events):
        summary = summarize_session(conversation_id, session, customer_id, masks)
        if summary is not None:
            found.append(summary)
    return found


def summarize_signed_conversation(
    conversation_id: str, events: Sequence[Mapping[str, Any]], signing_key: str
) -> list[ConversationSummary]:
    """`summarize_conversation` for the customer named by the newest identity the conversation's
    messages carried that `signing_key` verifies (anonymous without one)."""
    customer_id = identity_from_events(signing_key, conversation_id, events).customer_id
    return summarize_conversation(conversation_id, events, customer_id)
