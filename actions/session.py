"""The start of a chat session: a manager hears of new monitoring alerts first."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import SupportAction
from bot.auth.tokens import Identity, message_identity
from bot.monitoring import alerts_to_tell, chat_notice

# Rasa puts the metadata of the message that starts a session in this slot.
SESSION_START_METADATA_SLOT = "session_started_metadata"


class ActionSessionStart(SupportAction):
    """Rasa's session start (a new session, carrying slots over as the domain says), and
    the monitoring alerts a manager has not been told of yet."""

    def name(self) -> str:
        return "action_session_start"

    def session_identity(self, tracker: Tracker) -> Identity:
        """Who sent the message that starts the session (its metadata, as the channel sealed
        it), never someone from the session before."""
        metadata = tracker.get_slot(SESSION_START_METADATA_SLOT)
        return message_identity(
            self.services.signing_key(), tracker.sender_id, {"metadata": metadata}
        )

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Start the session; tell a manager the open alerts they have not heard of."""
        services = self.services
        alerts = alerts_to_tell(
            self.session_identity(tracker),
            tracker.sender_id,
            services.session_factory,
            services.now(),
        )
        notice = chat_notice(alerts)
        if notice is not None:
            dispatcher.utter_message(text=notice)
        events: list[dict[str, Any]] = [SessionStarted()]
        if (domain.get("session_config") or {}).get("carry_over_slots_to_new_session"):
            events.extend(
                SlotSet(name, value)
                for name, value in tracker.current_slot_values().items()
                if name != SESSION_START_METADATA_SLOT and value is not None
            )
        events.append(ActionExecuted("action_listen"))
        return events
