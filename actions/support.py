"""Policies, hand-offs to a person and messages the assistant did not understand."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import YES_NO, SupportAction, recent_user_texts
from bot.storage.repositories import CustomerRepository, TicketRepository
from bot.storage.session import session_scope
from bot.support import order_service
from bot.support.fallback import (
    CONTROL_OFFER,
    EARLY_HANDOFF,
    consecutive_misunderstandings,
    offers_person,
    variant_matters,
)


class ActionShippingInfo(SupportAction):
    def name(self) -> str:
        return "action_shipping_info"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Tell the customer where we ship, how fast and at what cost."""
        dispatcher.utter_message(text=self.services.policies.shipping_text())
        return []


class ActionReturnPolicy(SupportAction):
    def name(self) -> str:
        return "action_return_policy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Tell the customer how returns and refunds work."""
        policies = self.services.policies
        dispatcher.utter_message(
            text=f"{policies.returns_text()} {policies.refunds_text()} To return an order, "
            'say "I want to return my order".'
        )
        return []


class ActionPaymentHelp(SupportAction):
    def name(self) -> str:
        return "action_payment_help"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Explain failed and double payments, and how to reach a person."""
        dispatcher.utter_message(
            text=f"{self.services.policies.payments_text()} If that doesn't solve it, say "
            '"talk to a person" and someone from our team will check your payment.'
        )
        return []


class ActionAccountHelp(SupportAction):
    def name(self) -> str:
        return "action_account_help"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Explain password resets, email changes and account deletion."""
        dispatcher.utter_message(text=self.services.policies.account_text())
        return []


class ActionHandoff(SupportAction):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Open a hand-off ticket and tell the customer what happens next."""
        services = self.services
        settings = services.settings
        reason = " | ".join(t for t in recent_user_texts(tracker) if not t.startswith("/"))
        requester = self.requester(tracker)
        customer = order_service.conversation_customer(requester, services.session_factory)
        number = tracker.get_slot("order_id")
        # A visitor's unproven order number stays in the reason for the person to check.
        if number and order_service.view_order(requester, number, services.session_factory) is None:
            number = None
        with session_scope(services.session_factory) as session:
            ticket = TicketRepository(session).open(
                "handoff",
                tracker.sender_id,
                reason,
                services.now(),
                customer_id=CustomerRepository(session).resolve(customer),
                order_number=number,
            )
            ticket_id = str(ticket.id)
        dispatcher.utter_message(
            text=f"I've passed our conversation to a person on our support team (ticket "
            f"#{ticket_id}). They can see everything we've talked about, so you won't have to "
            f"repeat yourself, and they'll reply within {settings.handoff_reply_hours} hours "
            f"during opening hours ({settings.support_hours})."
        )
        return [SlotSet("ticket_id", ticket_id), SlotSet("pending_question", None)]


class ActionHandleFallback(SupportAction):
    def name(self) -> str:
        return "action_handle_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Ask the customer to rephrase once; after that, offer a person."""
        misses = consecutive_misunderstandings(tracker.events)
        variant = CONTROL_OFFER
        if variant_matters(misses):
            variant = self.exposed(tracker, EARLY_HANDOFF, CONTROL_OFFER)
        if offers_person(misses, variant):
            first = misses == 1
            dispatcher.utter_message(
                text="Sorry, I didn't quite get that. Would you like me to connect you with a "
                "person from our support team? Or say it in other words, and I'll try again."
                if first
                else "I'm sorry, I still can't help with that. Would you like me to connect you "
                "with a person from our support team?",
                buttons=YES_NO,
            )
            return [SlotSet("pending_question", "handoff")]
        dispatcher.utter_message(
            text="Sorry, I didn't quite get that. Could you say it in other words? I can help "
            "with orders, returns, refunds, shipping, payments, your account and our products."
        )
        return [SlotSet("pending_question", None)]


class ActionAnythingElse(SupportAction):
    def name(self) -> str:
        return "action_anything_else"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Ask whether there is anything else; a "no" then ends the chat with the survey."""
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("pending_question", "anything_else")]
