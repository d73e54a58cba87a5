"""Marking customer messages as misunderstood, reviewing the marks, and the review queue.

Every use case takes the caller's identity: only support staff and managers mark, review or
read (`NotAllowed` for a customer, signed in or anonymous). The text stored with a mark is
the message as the console shows it — masked (`mask_events`: `redact()` plus what the
conversation's context hides) — and is read from the tracker store, never from the form.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import bindparam, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.auth.tokens import Identity
from bot.storage.models import NluMark
from bot.storage.session import session_scope
from bot.transcripts.masking import ContextMasks, mask_events
from bot.transcripts.tracker_store import conversation_events
from bot.transcripts.transcript import ranking_of

STAFF_ROLES = ("staff", "manager")
FALLBACK_INTENT = "nlu_fallback"
SURVEY_FORM = "survey_form"
# Intents a component sets and nobody types: not offered as the right one.
NOT_TYPED = frozenset({"message_too_long"})
# The bot's guesses offered first when choosing the right intent.
TOP_GUESSES = 3
ACCEPT, REJECT = "accept", "reject"
DECISIONS = {ACCEPT: "accepted", REJECT: "rejected"}
# The review queue reads the latest conversations of the tracker store, this many at most.
REVIEW_CONVERSATIONS = 500
# Low-confidence messages listed per intent (all are counted).
LISTED_PER_INTENT = 20
_CHUNK = 200


class NotAllowed(PermissionError):
    """The caller may not do this (marking and reviewing are for support staff and managers)."""


class InvalidMark(ValueError):
    """The mark cannot be made or changed; the message says why."""


def require_staff(identity: Identity) -> None:
    if identity.role not in STAFF_ROLES:
        raise NotAllowed("marking messages is for support staff and managers only")


def domain_intents(domain_file: Path) -> tuple[str, ...]:
    """The domain's intents that a customer can mean, in the domain's order."""
    data = yaml.safe_load(domain_file.read_text(encoding="utf-8")) or {}
    names = []
    for entry in data.get("intents") or []:
        name = next(iter(entry)) if isinstance(entry, Mapping) else entry
        if isinstance(name, str) and name not in NOT_TYPED:
            names.append(name)
    return tuple(names)


def intent_choices(ranking: Sequence[str], intents: Sequence[str]) -> tuple[list[str], list[str]]:
    """(the bot's top guesses, the other intents) to choose the right intent from."""
    guesses = [name for name in ranking if name in intents][:TOP_GUESSES]
    return guesses, [name for name in intents if name not in guesses]


# --- which messages can be marked -------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


@dataclass(frozen=True)
class Message:
    """A customer message that can be marked, as staff see it (masked)."""

    conversation_id: str
    stamp: float
    text: str
    intent: str | None
    confidence: float | None
    ranking: tuple[str, ...]

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.stamp, tz=timezone.utc).replace(tzinfo=None)


def customer_messages(conversation_id: str, events: Sequence[Mapping[str, Any]]) -> list[Message]:
    """The conversation's messages that say what the customer wants, masked.

    Left out: button payloads ("/affirm", not typed), answers to a form's questions (the
    survey's scores and comment, an address, the ownership proof): they are not requests.
    """
    masks = ContextMasks(events)
    masked = mask_events(events)
    found = []
    loop: str | None = None
    for original, shown in zip(events, masked, strict=True):
        kind = original.get("event")
        if kind in ("active_loop", "form"):
            loop = original.get("name") if isinstance(original.get("name"), str) else None
            continue
        if kind in ("restart", "session_started"):
            loop = None
            continue
        if kind != "user":
            continue
        raw = str(original.get("text") or "")
        stamp = _number(original.get("timestamp"))
        if (
            stamp is None
            or not raw.strip()
            or raw.startswith("/")
            or loop == SURVEY_FORM
            or masks.answer_mask(original) is not None
        ):
            continue
        parsed = original.get("parse_data") or {}
        intent = parsed.get("intent") or {}
        found.append(
            Message(
                conversation_id,
                stamp,
                " ".join(str(shown.get("text") or "").split()),
                str(intent["name"]) if intent.get("name") else None,
                _number(intent.get("confidence")),
                ranking_of(parsed),
            )
        )
    return found


def _events(tracker_engine: Engine, conversation_id: str) -> list[dict[str, Any]]:
    if not inspect(tracker_engine).has_table("events"):
        return []
    return conversation_events(tracker_engine, conversation_id)


# --- marks ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkView:
    id: int
    conversation_id: str
    message_ts: float
    text: str
    predicted_intent: str | None
    confidence: float | None
    chosen_intent: str
    marked_by: str
    marked_at: datetime
    status: str
    reviewed_by: str | None
    reviewed_at: datetime | None

    @property
    def message_at(self) -> datetime:
        return datetime.fromtimestamp(self.message_ts, tz=timezone.utc).replace(tzinfo=None)


def _view(mark: NluMark) -> MarkView:
    return MarkView(
        mark.id,
        mark.conversation_id,
        mark.message_ts,
        mark.text,
        mark.predicted_intent,
        mark.confidence,
        mark.chosen_intent,
        mark.marked_by,
        mark.marked_at,
        mark.status,
        mark.reviewed_by,
        mark.reviewed_at,
    )


def _who(identity: Identity) -> str:
    return (identity.name or identity.role)[:120]


def mark_message(
    identity: Identity,
    uow: sessionmaker,
    tracker_engine: Engine,
    conversation_id: str,
    message_ts: float,
    intent: str,
    intents: Sequence[str],
    now: datetime,
) -> MarkView:
    """Mark a customer message as misunderstood: it meant `intent`.

    Marking the same message again changes its mark (and sends it back to review).

    Raises:
        NotAllowed: For a customer, signed in or anonymous.
        InvalidMark: An intent that is not the domain's, or no such customer message.
    """
    require_staff(identity)
    if intent not in intents:
        raise InvalidMark(f"{intent!r} is not one of the domain's intents")
    message = next(
        (
            m
            for m in customer_messages(conversation_id, _events(tracker_engine, conversation_id))
            if m.stamp == message_ts
        ),
        None,
    )
    if message is None:
        raise InvalidMark("there is no customer message to mark at that time in the conversation")
    with session_scope(uow) as session:
        mark = session.execute(
            select(NluMark).where(
                NluMark.conversation_id == conversation_id, NluMark.message_ts == message.stamp
            )
        ).scalar_one_or_none()
        if mark is None:
            mark = NluMark(conversation_id=conversation_id, message_ts=message.stamp)
            session.add(mark)
        mark.text = message.text
        mark.predicted_intent = message.intent
        mark.confidence = message.confidence
        mark.chosen_intent = intent
        mark.marked_by = _who(identity)
        mark.marked_at = now
        mark.status = "pending"
        mark.reviewed_by = None
        mark.reviewed_at = None
        session.flush()
        return _view(mark)


def review_mark(
    identity: Identity, uow: sessionmaker, mark_id: int, decision: str, now: datetime
) -> MarkView:
    """Accept a mark (it becomes training data) or reject it.

    Raises:
        NotAllowed: For a customer, signed in or anonymous.
        InvalidMark: No such mark, or a decision other than accept or reject.
    """
    require_staff(identity)
    if decision not in DECISIONS:
        raise InvalidMark("the decision is accept or reject")
    with session_scope(uow) as session:
        mark = session.get(NluMark, mark_id)
        if mark is None:
            raise InvalidMark(f"there is no mark #{mark_id}")
        mark.status = DECISIONS[decision]
        mark.reviewed_by = _who(identity)
        mark.reviewed_at = now
        session.flush()
        return _view(mark)


def _marks(session: Session, *where: Any) -> list[MarkView]:
    query = select(NluMark).where(*where).order_by(NluMark.chosen_intent, NluMark.marked_at)
    return [_view(m) for m in session.execute(query).scalars()]


def marks(identity: Identity, uow: sessionmaker, status: str | None = None) -> list[MarkView]:
    """The marks (with `status`, or all), by chosen intent, oldest first."""
    require_staff(identity)
    with session_scope(uow) as session:
        return _marks(session, *([NluMark.status == status] if status else []))


@dataclass(frozen=True)
class ConversationMarks:
    """A transcript's marks by message timestamp, and which of its messages can be marked."""

    marks: dict[float, MarkView]
    markable: frozenset[float]


def conversation_marks(
    identity: Identity, uow: sessionmaker, tracker_engine: Engine, conversation_id: str
) -> ConversationMarks:
    require_staff(identity)
    events = _events(tracker_engine, conversation_id)
    markable = frozenset(m.stamp for m in customer_messages(conversation_id, events))
    with session_scope(uow) as session:
        found = _marks(session, NluMark.conversation_id == conversation_id)
    return ConversationMarks({m.message_ts: m for m in found}, markable)


# --- the review queue -------------------------------------------------------------------------


@dataclass
class MarkGroup:
    intent: str
    marks: list[MarkView] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for m in self.marks if m.status == status)


@dataclass
class UnsureGroup:
    """Messages the bot was unsure of, by the intent it predicted."""

    intent: str
    count: int = 0
    messages: list[Message] = field(default_factory=list)


@dataclass(frozen=True)
class Overview:
    marks: list[MarkGroup]
    unsure: list[UnsureGroup]
    threshold: float
    conversations_read: int

    @property
    def unsure_count(self) -> int:
        return sum(g.count for g in self.unsure)


def recent_conversations(
    tracker_engine: Engine, limit: int
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """The latest `limit` conversations of the tracker store (by their last event), newest first."""
    import json

    if not inspect(tracker_engine).has_table("events"):
        return
    latest = text("SELECT sender_id FROM events GROUP BY sender_id ORDER BY max(id) DESC LIMIT :n")
    events = text(
        "SELECT sender_id, data FROM events WHERE sender_id IN :ids ORDER BY id"
    ).bindparams(bindparam("ids", expanding=True))
    with tracker_engine.connect() as connection:
        ids = [row[0] for row in connection.execute(latest, {"n": limit})]
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            by_sender: dict[str, list[dict[str, Any]]] = {i: [] for i in chunk}
            for sender_id, data in connection.execute(events, {"ids": chunk}):
                by_sender[sender_id].append(json.loads(data))
            yield from by_sender.items()


def is_unsure(message: Message, threshold: float) -> bool:
    """Predicted as the fallback, or below `threshold`."""
    if message.intent == FALLBACK_INTENT:
        return True
    return message.confidence is not None and message.confidence < threshold


def overview(
    identity: Identity,
    uow: sessionmaker,
    tracker_engine: Engine,
    threshold: float,
    max_conversations: int = REVIEW_CONVERSATIONS,
) -> Overview:
    """The marks by chosen intent, and the unmarked messages the bot was unsure of by
    predicted intent (from the latest `max_conversations` conversations), with counts."""
    require_staff(identity)
    with session_scope(uow) as session:
        all_marks = _marks(session)
    groups: dict[str, MarkGroup] = {}
    for mark in all_marks:
        groups.setdefault(mark.chosen_intent, MarkGroup(mark.chosen_intent)).marks.append(mark)
    marked = {(m.conversation_id, m.message_ts) for m in all_marks}
    unsure: dict[str, UnsureGroup] = {}
    read = 0
    for conversation_id, events in recent_conversations(tracker_engine, max_conversations):
        read += 1
        for message in customer_messages(conversation_id, events):
            if (conversation_id, message.stamp) in marked or not is_unsure(message, threshold):
                continue
            name = message.intent or "(none)"
            group = unsure.setdefault(name, UnsureGroup(name))
            group.count += 1
            group.messages.append(message)
    for group in unsure.values():
        group.messages.sort(key=lambda m: (m.confidence or 0.0, -m.stamp))
        del group.messages[LISTED_PER_INTENT:]
    return Overview(
        sorted(groups.values(), key=lambda g: (-len(g.marks), g.intent)),
        sorted(unsure.values(), key=lambda g: (-g.count, g.intent)),
        threshold,
        read,
    )
