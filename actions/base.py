"""What every action shares: access to the services, built once per action server."""

from __future__ import annotations

import abc
from typing import Any

from rasa_sdk import Action, Tracker

from bot.auth.tokens import Identity, identity_from_events
from bot.bootstrap import Services, default_services

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
        """Who is chatting, from the newest signed token in the conversation."""
        return identity_from_events(self.services.signing_key(), tracker.events)


class SupportAction(ServicesMixin, Action, abc.ABC):
    """Base of the support actions. Abstract, so the action server never registers it."""

    @abc.abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""


def latest_intent(tracker: Tracker) -> str | None:
    intent: dict[str, Any] = tracker.latest_message.get("intent") or {}
    return intent.get("name")


def recent_user_texts(tracker: Tracker, limit: int = 5) -> list[str]:
    """The customer's last messages, oldest first."""
    texts = [
        event.get("text") or ""
        for event in tracker.events
        if event.get("event") == "user" and (event.get("text") or "").strip()
    ]
    return texts[-limit:]
