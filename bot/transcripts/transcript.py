"""A conversation's transcript for people to read, built from Rasa's serialised events.

Pure: the staff console reads the events (`tracker_store.conversation_events`) and renders
what this returns. Free text (what the customer and the bot wrote, entity values) is masked
with `mask_events()` (`redact()` plus the addresses typed in the address change) unless
`reveal` is set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from bot.survey.records import session_key, split_sessions
from bot.transcripts.masking import mask_events
from bot.transcripts.summaries import HANDOFF_ACTION

LISTEN_ACTION = "action_listen"
SESSION_START_ACTION = "action_session_start"


@dataclass(frozen=True)
class Line:
    """One thing that happened: a message from either side, an action, or the hand-off."""

    kind: str  # "user", "bot", "action" or "handoff"
    at: datetime | None
    text: str = ""
    intent: str | None = None
    confidence: float | None = None
    entities: tuple[tuple[str, str], ...] = ()
    action: str | None = None  # the action's name, or the utterance behind a bot message
    policy: str | None = None
    # A user message's own event timestamp (what marks it as misunderstood refer to) and the
    # intents the classifier ranked for it, best first.
    stamp: float | None = None
    ranking: tuple[str, ...] = ()


@dataclass
class Session:
    key: str
    started_at: datetime | None
    lines: list[Line] = field(default_factory=list)

    @property
    def handed_off(self) -> bool:
        return any(line.kind == "handoff" for line in self.lines)


def _when(stamp: Any) -> datetime | None:
    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
        return datetime.fromtimestamp(stamp, tz=timezone.utc).replace(tzinfo=None)
    return None


def _confidence(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _stamp(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def ranking_of(parsed: Mapping[str, Any]) -> tuple[str, ...]:
    """The intent names of a message's `intent_ranking`, best first (its intent alone without)."""
    names = [
        str(entry.get("name"))
        for entry in parsed.get("intent_ranking") or []
        if isinstance(entry, Mapping) and entry.get("name")
    ]
    top = (parsed.get("intent") or {}).get("name")
    if not names and top:
        names = [str(top)]
    return tuple(dict.fromkeys(names))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _line(event: Mapping[str, Any]) -> Line | None:
    kind = event.get("event")
    at = _when(event.get("timestamp"))
    if kind == "user":
        parsed = event.get("parse_data") or {}
        intent = parsed.get("intent") or {}
        entities = tuple(
            (str(e.get("entity")), _text(e.get("value")))
            for e in parsed.get("entities") or []
            if isinstance(e, Mapping)
        )
        return Line(
            "user",
            at,
            text=_text(event.get("text")),
            intent=intent.get("name"),
            confidence=_confidence(intent.get("confidence")),
            entities=entities,
            stamp=_stamp(event.get("timestamp")),
            ranking=ranking_of(parsed),
        )
    if kind == "bot":
        meta = event.get("metadata") or {}
        return Line("bot", at, text=_text(event.get("text")), action=meta.get("utter_action"))
    if kind == "action":
        name = str(event.get("name") or "")
        # Listening and starting a session are not steps; an utterance shows as its bot
        # message (named there).
        if not name or name in (LISTEN_ACTION, SESSION_START_ACTION) or name.startswith("utter_"):
            return None
        return Line(
            "handoff" if name == HANDOFF_ACTION else "action",
            at,
            action=name,
            confidence=_confidence(event.get("confidence")),
            policy=event.get("policy"),
        )
    return None


def build_transcript(events: Sequence[Mapping[str, Any]], reveal: bool = False) -> list[Session]:
    """The conversation's sessions that have something to show, each with its lines in order.

    Sessions are split as the summaries split them (`split_sessions`), so a session's `key`
    is the `session_key` of its `conversations` and `survey_responses` rows.
    """
    if not reveal:
        events = mask_events(events)
    sessions = []
    for events_of_session in split_sessions(events):
        first = events_of_session[0]
        session = Session(session_key(first), _when(first.get("timestamp")))
        for event in events_of_session:
            line = _line(event)
            if line is not None:
                session.lines.append(line)
        if session.lines:
            sessions.append(session)
    return sessions
