"""What a conversation session says about its survey, read from Rasa's events.

The same function serves the action (from the live tracker) and the backfill (from the
tracker store), so a row rebuilt later is the row the action would have written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from bot.transcripts.redaction import redact

SURVEY_START_ACTION = "action_start_survey"
# Intents that say nothing about what the conversation was about.
NON_TOPIC_INTENTS = frozenset({
    "greet", "goodbye", "thank_you", "affirm", "deny", "bot_challenge", "nlu_fallback",
    "out_of_scope", "session_start",
})  # fmt: skip
MAX_COMMENT_LENGTH = 2000


@dataclass(frozen=True)
class SurveySnapshot:
    conversation_id: str
    session_key: str
    nps: int | None
    csat: int | None
    comment: str | None
    declined: bool
    channel: str
    topic: str
    human_involved: bool
    started_at: datetime | None
    email: str | None = None
    asked: bool = True
    # From the chat's signed token, when it carried one.
    customer_id: int | None = None

    @property
    def status(self) -> str:
        return survey_status(self.nps, self.csat, self.comment)

    @property
    def has_answers(self) -> bool:
        return self.nps is not None or self.csat is not None or self.comment is not None


def survey_status(nps: int | None, csat: int | None, comment: str | None) -> str:
    """completed: both scores; partial: some answer; declined: asked, but no answer at all.

    A customer who said "no thanks" and one whose every answer was unusable both gave no
    answer: both count against the response rate.
    """
    if nps is not None and csat is not None:
        return "completed"
    if nps is not None or csat is not None or comment is not None:
        return "partial"
    return "declined"


def needs_follow_up(nps: int | None, csat: int | None, nps_max: int = 6, csat_max: int = 2) -> bool:
    """A detractor (NPS ≤ 6) or an unhappy customer (CSAT ≤ 2) is offered a person."""
    return (nps is not None and nps <= nps_max) or (csat is not None and csat <= csat_max)


def main_topic(intents: Iterable[str]) -> str:
    """The intent the conversation was most about (the first one on a tie), or "other"."""
    counted = Counter(i for i in intents if i and i not in NON_TOPIC_INTENTS)
    if not counted:
        return "other"
    best = max(counted.values())
    return next(i for i in counted if counted[i] == best)


def clean_comment(text: str | None) -> str | None:
    """The comment as stored: whitespace tidied, personal data masked, bounded in length."""
    if text is None:
        return None
    tidy = " ".join(str(text).split())
    if not tidy:
        return None
    # Redact before cutting, so that an address at the cut is not kept half.
    return redact(tidy)[:MAX_COMMENT_LENGTH]


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc).replace(tzinfo=None)
    return None


def _as_score(value: Any, low: int, high: int) -> int | None:
    """A slot value as a score, or None when it is not a valid one (never store invalid)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    if not number.is_integer() or not low <= number <= high:
        return None
    return int(number)


def split_sessions(events: Iterable[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
    """Events grouped by conversation session (a new one starts at each `session_started`)."""
    sessions: list[list[Mapping[str, Any]]] = [[]]
    for event in events:
        if event.get("event") == "session_started" and sessions[-1]:
            sessions.append([])
        sessions[-1].append(event)
    return [s for s in sessions if s]


def snapshot_of_session(conversation_id: str, events: list[Mapping[str, Any]]) -> SurveySnapshot:
    """The survey answers, topic, channel and hand-off of one session's events."""
    slots: dict[str, Any] = {}
    intents: list[str] = []
    channel = ""
    human = False
    surveying = False
    for event in events:
        kind = event.get("event")
        if kind == "slot":
            slots[str(event.get("name"))] = event.get("value")
        elif kind == "user":
            intent = (event.get("parse_data") or {}).get("intent", {}).get("name")
            # Survey answers ("9", "great") say nothing about what the chat was about.
            if intent and not surveying:
                intents.append(intent)
            channel = event.get("input_channel") or channel
        elif kind == "action" and event.get("name") == "action_handoff":
            human = True
        elif kind == "action" and event.get("name") == SURVEY_START_ACTION:
            surveying = True
    first = events[0]
    started = _timestamp(first.get("timestamp"))
    return SurveySnapshot(
        conversation_id=conversation_id,
        session_key=session_key(first),
        nps=_as_score(slots.get("nps_score"), 0, 10),
        csat=_as_score(slots.get("csat_score"), 1, 5),
        comment=clean_comment(slots.get("survey_comment")),
        declined=slots.get("survey_status") == "declined",
        channel=channel or "unknown",
        topic=main_topic(intents),
        human_involved=human,
        started_at=started,
        email=slots.get("email"),
        asked=surveying,
    )


def session_key(first_event: Mapping[str, Any]) -> str:
    """A session's identity within its conversation: the time its first event happened."""
    stamp = first_event.get("timestamp")
    return f"{float(stamp):.6f}" if isinstance(stamp, (int, float)) else "0"


def snapshots_with_surveys(
    conversation_id: str, events: Iterable[Mapping[str, Any]]
) -> list[SurveySnapshot]:
    """One snapshot per session in which the survey was asked."""
    found = []
    for session in split_sessions(events):
        snapshot = snapshot_of_session(conversation_id, session)
        if snapshot.asked or snapshot.has_answers:
            found.append(snapshot)
    return found


def current_session(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    sessions = split_sessions(events)
    return sessions[-1] if sessions else []
