"""What every action shares: access to the services, built once per action server."""

from __future__ import annotations

import abc
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet

from bot.auth.tokens import Identity, message_identity
from bot.bootstrap import Services, default_services
from bot.experiments.exposure import exposed_variant
from bot.support.choices import SLOT as OFFERED_CHOICES
from bot.support.choices import as_choices, offered_before, parse_payload, pick
from bot.support.ownership import Requester
from bot.survey.records import current_session, session_key
from bot.transcripts.masking import ContextMasks

YES_NO = [
    {"title": "Yes, please", "payload": "/affirm"},
    {"title": "No, thanks", "payload": "/deny"},
]


class ServicesMixin:
    """Gives an action the app's services; tests pass their own."""

    def __init__(self, services: Services | None = None) -> None:
        self._services = services

    @property
    def services(self) -> Services:
        if self._services is None:
            self._services = default_services()
        return self._services

    def identity(self, tracker: Tracker) -> Identity:
        """Who sent the message being answered (a role holds for that message only)."""
        return message_identity(
            self.services.signing_key(), tracker.sender_id, tracker.latest_message
        )

    def requester(self, tracker: Tracker) -> Requester:
        """Who is asking, with the orders this conversation has proven to be theirs."""
        return requester_of(self.services, tracker)

    def exposed(self, tracker: Tracker, experiment: str, fallback: str) -> str:
        """The conversation's variant of `experiment`, its exposure recorded for this session.

        Call it exactly where the variants make the customer see something different.
        """
        services = self.services
        session = current_session(tracker.events)
        return exposed_variant(
            services.experiments().get(experiment),
            self.requester(tracker).customer_id,
            tracker.sender_id,
            session_key(session[0]) if session else "0",
            services.session_factory,
            services.now(),
            fallback=fallback,
        )


def requester_of(services: Services, tracker: Tracker) -> Requester:
    """The message's identity, the conversation's proven orders and the client's address."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    client = metadata.get("client") if isinstance(metadata, dict) else None
    proven = tracker.get_slot("proven_orders") or []
    return Requester(
        identity=message_identity(
            services.signing_key(), tracker.sender_id, tracker.latest_message
        ),
        conversation_id=tracker.sender_id,
        proven_orders=frozenset(str(number) for number in proven if isinstance(number, str)),
        client=client if isinstance(client, str) else None,
    )


class SupportAction(ServicesMixin, Action, abc.ABC):
    """Base of the support actions. Abstract, so the action server never registers it."""

    @abc.abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""


def latest_intent(tracker: Tracker) -> str | None:
    intent: dict[str, Any] = tracker.latest_message.get("intent") or {}
    return intent.get("name")


def offer(buttons: list[dict[str, Any]]) -> dict[str, Any]:
    """The event remembering the buttons offered, so that a typed answer to them is understood."""
    return SlotSet(OFFERED_CHOICES, as_choices(buttons) or None)


def picked_choice(tracker: Tracker) -> tuple[str | None, dict[str, Any]] | None:
    """The intent and entities (or plain payload, as intent None) of the button that the
    latest message names among those offered just before it; None if it names none."""
    choice = pick(tracker.latest_message.get("text"), offered_before(tracker.events))
    if choice is None:
        return None
    payload = str(choice.get("payload") or "")
    intent, entities = parse_payload(payload)
    return (intent, entities) if intent else (None, {"payload": payload})


def recent_user_texts(tracker: Tracker, limit: int = 5) -> list[str]:
    """The customer's last messages, oldest first; typed addresses and proofs masked."""
    masks = ContextMasks(tracker.events)
    texts = [
        masks.text(event)
        for event in tracker.events
        if event.get("event") == "user" and (event.get("text") or "").strip()
    ]
    return texts[-limit:]
