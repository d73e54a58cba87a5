"""Order questions: the order form, its validation, and what happens when it is filled."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.base import YES_NO, ServicesMixin, SupportAction, latest_intent
from bot.storage.repositories import OrderRepository, ReturnRepository
from bot.storage.session import session_scope
from bot.support import orders as order_rules
from bot.support.parsing import extract_order_number

TOPIC_BY_INTENT = {
    "order_status": "status",
    "cancel_order": "cancel",
    "return_request": "return",
    "refund_status": "refund",
    "change_address": "address",
}
# Messages that count as an attempt at the requested answer while the form waits for one.
ATTEMPT_INTENTS = frozenset({*TOPIC_BY_INTENT, "affirm", "nlu_fallback", "out_of_scope"})

_MARKUP = re.compile(r"<[^>]*>|[<>]")
_SPACES = re.compile(r"\s+")
MAX_ADDRESS_LENGTH = 200


def clean_address(text: str | None) -> tuple[str | None, str | None]:
    """The address as it should be stored, or None and what is wrong with it."""
    if text is None or not text.strip():
        return None, "I didn't get an address."
    if _MARKUP.search(text):
        return None, "Please write the address as plain text, without < or >."
    address = _SPACES.sub(" ", text).strip()
    if len(address) > MAX_ADDRESS_LENGTH:
        return None, f"That's too long for an address (at most {MAX_ADDRESS_LENGTH} characters)."
    letters = sum(ch.isalpha() for ch in address)
    if len(address) < 10 or letters < 4 or not any(ch.isdigit() for ch in address):
        return (
            None,
            "That doesn't look like a full address: I need street and number, postcode and city.",
        )
    return address, None


class ActionStartOrderTask(SupportAction):
    def name(self) -> str:
        return "action_start_order_task"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Remember what the customer wants done with their order, and start afresh."""
        topic = TOPIC_BY_INTENT.get(latest_intent(tracker) or "", "status")
        return [
            SlotSet("order_topic", topic),
            SlotSet("order_lookup_failures", 0.0),
            SlotSet("order_form_gave_up", False),
            SlotSet("new_address", None),
            SlotSet("pending_question", None),
        ]


class ValidateOrderForm(ServicesMixin, FormValidationAction):
    def name(self) -> str:
        return "validate_order_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """The order number always; the new address only for an address change that is allowed."""
        if tracker.slots.get("order_form_gave_up"):
            return []
        slots = ["order_id"]
        number = tracker.slots.get("order_id")
        if tracker.slots.get("order_topic") == "address" and number:
            with session_scope(self.services.session_factory) as session:
                order = OrderRepository(session).view(number)
            if order is not None and order_rules.address_change(order).allowed:
                slots.append("new_address")
        return slots

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take any answer to "what's your order number?" so that a wrong one gets a re-ask."""
        if tracker.get_slot("requested_slot") != "order_id":
            return {}
        text = tracker.latest_message.get("text") or ""
        if extract_order_number(text) or latest_intent(tracker) in ATTEMPT_INTENTS:
            return {"order_id": text}
        return {}

    def _failed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, message: str, slot: str
    ) -> dict[str, Any]:
        failures = int(tracker.get_slot("order_lookup_failures") or 0) + 1
        limit = self.services.settings.max_order_lookup_failures
        if failures >= limit:
            return {
                slot: None,
                "order_lookup_failures": float(failures),
                "order_form_gave_up": True,
            }
        dispatcher.utter_message(text=message)
        return {slot: None, "order_lookup_failures": float(failures)}

    async def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept an order number only when that order exists."""
        if value is None and tracker.get_slot("requested_slot") != "order_id":
            return {}
        number = extract_order_number(str(value)) if value is not None else None
        if number is None:
            return self._failed(
                dispatcher,
                tracker,
                "That doesn't look like an order number. It's the 6-digit number in your "
                "confirmation email, for example 104233.",
                "order_id",
            )
        with session_scope(self.services.session_factory) as session:
            found = OrderRepository(session).get(number) is not None
        if not found:
            return self._failed(
                dispatcher,
                tracker,
                f"I can't find an order with the number {number}. Could you check it and "
                "type it again?",
                "order_id",
            )
        return {"order_id": number, "order_lookup_failures": 0.0}

    async def validate_new_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept a plausible plain-text postal address."""
        if value is None:  # cleared when the order question started, not answered
            return {}
        address, problem = clean_address(value)
        if address is None:
            return self._failed(dispatcher, tracker, f"{problem} Please try again.", "new_address")
        return {"new_address": address, "order_lookup_failures": 0.0}


class ActionOrderSubmit(SupportAction):
    def name(self) -> str:
        return "action_order_submit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Answer the order question now that the order number is known."""
        number = tracker.get_slot("order_id")
        topic = tracker.get_slot("order_topic") or "status"
        events: list[EventType] = [
            SlotSet("order_form_gave_up", False),
            SlotSet("new_address", None),
        ]
        if not number:
            dispatcher.utter_message(
                text="I couldn't find that order, so I've stopped asking. Would you like me to "
                "connect you with a person from our team? They can find it by your email address.",
                buttons=YES_NO,
            )
            return [*events, SlotSet("pending_question", "handoff")]
        services = self.services
        now = services.now()
        with session_scope(services.session_factory) as session:
            repository = OrderRepository(session)
            view = repository.view(number)
            if view is None:  # deleted since the form checked it
                dispatcher.utter_message(text=f"I can't find order {number} any more.")
            elif topic == "status":
                dispatcher.utter_message(text=order_rules.status_message(view, now.date()))
            elif topic == "refund":
                dispatcher.utter_message(text=order_rules.refund_message(view, services.policies))
            elif topic == "cancel":
                decision = order_rules.cancellation(view)
                if decision.allowed:
                    dispatcher.utter_message(
                        text=f"Order {number} ({order_rules.describe_items(view)}, "
                        f"{view.total:.2f} EUR) hasn't shipped yet. Shall I cancel it?",
                        buttons=[
                            {"title": "Yes, cancel it", "payload": "/affirm"},
                            {"title": "No, keep it", "payload": "/deny"},
                        ],
                    )
                    return [*events, SlotSet("pending_question", "cancel")]
                dispatcher.utter_message(text=decision.reason)
            elif topic == "return":
                self._open_return(dispatcher, tracker, repository, view, number, now)
            elif topic == "address":
                self._change_address(dispatcher, tracker, repository, view, number, now)
        dispatcher.utter_message(response="utter_anything_else")
        return [*events, SlotSet("pending_question", "anything_else")]

    def _open_return(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        repository: OrderRepository,
        view: order_rules.OrderView,
        number: str,
        now: Any,
    ) -> None:
        policies = self.services.policies
        decision = order_rules.return_eligibility(view, now.date(), policies)
        if not decision.allowed:
            dispatcher.utter_message(text=f"{decision.reason} {policies.returns_text()}")
            return
        order = repository.get(number)
        assert order is not None
        request = ReturnRepository(repository.session).open(
            order, "requested in chat", tracker.sender_id, now
        )
        policy = policies.raw["returns"]
        dispatcher.utter_message(
            text=f"I've opened return {request.number} for order {number}. "
            f"{policy['how']} Please send the items {policy['condition']}. "
            f"{policies.refunds_text()}"
        )

    @staticmethod
    def _change_address(
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        repository: OrderRepository,
        view: order_rules.OrderView,
        number: str,
        now: Any,
    ) -> None:
        decision = order_rules.address_change(view)
        address = tracker.get_slot("new_address")
        if not decision.allowed:
            dispatcher.utter_message(text=decision.reason)
        elif not address:
            dispatcher.utter_message(
                text=f"I've left the delivery address of order {number} as it was."
            )
        else:
            order = repository.get(number)
            assert order is not None
            repository.change_address(order, address, tracker.sender_id, now)
            dispatcher.utter_message(
                text=f"Done — order {number} will now be delivered to: {address}"
            )


class ActionCancelOrder(SupportAction):
    def name(self) -> str:
        return "action_cancel_order"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Cancel the order the customer just confirmed, if it still hasn't shipped."""
        number = tracker.get_slot("order_id")
        services = self.services
        with session_scope(services.session_factory) as session:
            repository = OrderRepository(session)
            view = repository.view(number) if number else None
            if view is None:
                dispatcher.utter_message(
                    text="I've lost track of which order to cancel — sorry! "
                    "Please tell me the order number again."
                )
                return [SlotSet("pending_question", None)]
            decision = order_rules.cancellation(view)
            if decision.allowed:
                order = repository.get(number)
                assert order is not None
                repository.cancel(order, tracker.sender_id, services.now())
                dispatcher.utter_message(text=order_rules.cancelled_message(view))
            else:
                dispatcher.utter_message(text=decision.reason)
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("pending_question", "anything_else")]
