"""Order questions: the order form, its validation, and what happens when it is filled."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.base import (
    YES_NO,
    ServicesMixin,
    SupportAction,
    latest_intent,
    offer,
    picked_choice,
    requester_of,
)
from bot.nlu.cut_messages import INTENT_NAME as CUT_MESSAGE
from bot.support import order_service
from bot.support import orders as order_rules
from bot.support.digressions import is_digression, switch_message, switches_order_task
from bot.support.order_service import Proof, ProofLimits
from bot.support.ownership import looks_like_evidence, needs_proof
from bot.support.parsing import extract_order_number

TOPIC_BY_INTENT = {
    "order_status": "status",
    "cancel_order": "cancel",
    "return_request": "return",
    "refund_status": "refund",
    "change_address": "address",
}
# Messages that count as an attempt at the requested answer while the form waits for one
# (asking for the order task already under way, too: "the one with the shoes").
ATTEMPT_INTENTS = frozenset({*TOPIC_BY_INTENT, "affirm", "nlu_fallback", "out_of_scope"})
# Messages that leave a new address to the rules when they are not an address.
NOT_AN_ADDRESS_INTENTS = frozenset({"deny", "goodbye", "request_human", "complaint"})

# Messages that count as an attempt at proof while the form waits for an email or postcode.
PROOF_ATTEMPT_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})

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
            SlotSet("order_proof", None),
            SlotSet("pending_question", None),
        ]


PROOF_LOCKED = (
    "For your security I can't check any more details for this order right now. Please try "
    "again later, or sign in to your account on our website and ask me there."
)


def asks_something_else(tracker: Tracker) -> bool:
    """Whether the message asks a question or for another order task, not for this one.

    The form then takes nothing from it; the rules answer it and the form asks again.
    """
    intent = latest_intent(tracker)
    if is_digression(intent):
        return True
    return switches_order_task(intent) and TOPIC_BY_INTENT.get(intent or "") != (
        tracker.get_slot("order_topic") or "status"
    )


class ActionSwitchOrderTask(SupportAction):
    def name(self) -> str:
        return "action_switch_order_task"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Do another thing with the order the form asks about, keeping what was given."""
        topic = TOPIC_BY_INTENT.get(latest_intent(tracker) or "", "status")
        if topic == tracker.get_slot("order_topic"):
            return []
        dispatcher.utter_message(text=switch_message(topic))
        return [SlotSet("order_topic", topic)]


class ActionAskOrderId(SupportAction):
    def name(self) -> str:
        return "action_ask_order_id"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Ask which order: a signed-in customer picks from their recent orders."""
        orders = order_service.recent_orders(
            requester_of(self.services, tracker), self.services.session_factory
        )
        if not orders:
            dispatcher.utter_message(response="utter_ask_order_id")
            return []
        buttons = [
            {
                "title": f"{order.number} · {order_rules.describe_items(order)} · {order.status}",
                "payload": order.number,
            }
            for order in orders
        ]
        dispatcher.utter_message(
            text="Which order is it about? Here are your latest ones — or type another order "
            "number.",
            buttons=buttons,
        )
        return [offer(buttons)]


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
        """The order number; proof that a visitor's order is theirs; an allowed new address."""
        if tracker.slots.get("order_form_gave_up"):
            return []
        slots = ["order_id"]
        number = tracker.slots.get("order_id")
        if not number:
            return slots
        requester = requester_of(self.services, tracker)
        if needs_proof(requester, number):
            return [*slots, "order_proof"]
        if tracker.slots.get("order_topic") == "address" and order_service.may_change_address(
            requester, number, self.services.session_factory
        ):
            slots.append("new_address")
        return slots

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take any answer to "what's your order number?" so that a wrong one gets a re-ask."""
        if (
            tracker.get_slot("requested_slot") != "order_id"
            or latest_intent(tracker) == CUT_MESSAGE
        ):
            return {}
        text = tracker.latest_message.get("text") or ""
        if extract_order_number(text):
            return {"order_id": text}
        picked = picked_choice(tracker)  # "the second one" after the buttons of their orders
        if picked and picked[0] is None:
            return {"order_id": picked[1]["payload"]}
        if asks_something_else(tracker):
            return {}
        if latest_intent(tracker) in ATTEMPT_INTENTS:
            return {"order_id": text}
        return {}

    async def extract_order_proof(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take an email address or postcode given when the bot asked for one."""
        if (
            tracker.get_slot("requested_slot") != "order_proof"
            or latest_intent(tracker) == CUT_MESSAGE
        ):
            return {}
        text = tracker.latest_message.get("text") or ""
        if looks_like_evidence(text) or latest_intent(tracker) in PROOF_ATTEMPT_INTENTS:
            return {"order_proof": text}
        return {}

    async def extract_new_address(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take what was typed as the new address, unless it asks or says something else."""
        if (
            tracker.get_slot("requested_slot") != "new_address"
            or latest_intent(tracker) == CUT_MESSAGE
        ):
            return {}
        text = tracker.latest_message.get("text") or ""
        address, _ = clean_address(text)
        if address is None and (
            asks_something_else(tracker) or latest_intent(tracker) in NOT_AN_ADDRESS_INTENTS
        ):
            return {}
        return {"new_address": text}

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
        """Accept an order number: the customer's own, or any for a visitor (who proves it next)."""
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
        requester = requester_of(self.services, tracker)
        if not needs_proof(requester, number) and (
            order_service.view_order(requester, number, self.services.session_factory) is None
        ):
            return self._failed(
                dispatcher,
                tracker,
                f"{order_service.not_found_message(requester, number)} Could you check it and "
                "type it again?",
                "order_id",
            )
        # A visitor is asked for proof next (utter_ask_order_proof), in the same words whether
        # the order exists or not: nothing to learn from it.
        return {"order_id": number, "order_lookup_failures": 0.0}

    async def validate_order_proof(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Check the visitor's email address or postcode against the order, within the limits."""
        number = tracker.get_slot("order_id")
        if value is None or not number:
            return {}
        services = self.services
        requester = requester_of(services, tracker)
        result = order_service.prove_order(
            requester,
            number,
            str(value),
            services.session_factory,
            services.now(),
            ProofLimits.from_settings(services.settings),
        )
        if result.outcome is Proof.PROVEN:
            proven = sorted({*requester.proven_orders, number})
            return {
                "order_proof": "confirmed",
                "proven_orders": proven,
                "order_lookup_failures": 0.0,
            }
        if result.outcome is Proof.LOCKED:
            dispatcher.utter_message(text=PROOF_LOCKED)
            return {"order_proof": None, "order_id": None, "order_form_gave_up": True}
        if result.failures >= services.settings.max_order_proof_failures:
            dispatcher.utter_message(
                text=f"That doesn't match order {number} either, so I'll stop here for your "
                "security."
            )
            return {"order_proof": None, "order_id": None, "order_form_gave_up": True}
        dispatcher.utter_message(
            text=f"That doesn't match order {number} — or the order number may be wrong. "
            "Let's try again."
        )
        return {"order_proof": None, "order_id": None}

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
        """Answer the order question now that the order is known to be the customer's."""
        number = tracker.get_slot("order_id")
        topic = tracker.get_slot("order_topic") or "status"
        events: list[EventType] = [
            SlotSet("order_form_gave_up", False),
            SlotSet("new_address", None),
            SlotSet("order_proof", None),
        ]
        if not number:
            dispatcher.utter_message(
                text="I couldn't find that order, so I've stopped asking. Would you like me to "
                "connect you with a person from our team? They can find it by your email address.",
                buttons=YES_NO,
            )
            return [*events, SlotSet("pending_question", "handoff")]
        services = self.services
        requester = self.requester(tracker)
        now = services.now()
        uow = services.session_factory
        view = order_service.view_order(requester, number, uow)
        if view is None:  # not theirs (any more), or deleted since the form checked it
            dispatcher.utter_message(text=order_service.not_found_message(requester, number))
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
            outcome = order_service.open_return(requester, number, uow, now, services.policies)
            dispatcher.utter_message(text=outcome.message)
        elif topic == "address":
            address = tracker.get_slot("new_address")
            decision = order_rules.address_change(view)
            if not decision.allowed:
                dispatcher.utter_message(text=decision.reason)
            elif not address:
                dispatcher.utter_message(
                    text=f"I've left the delivery address of order {number} as it was."
                )
            else:
                outcome = order_service.change_address(requester, number, address, uow, now)
                dispatcher.utter_message(text=outcome.message)
        dispatcher.utter_message(response="utter_anything_else")
        return [*events, SlotSet("pending_question", "anything_else")]


class ActionCancelOrder(SupportAction):
    def name(self) -> str:
        return "action_cancel_order"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Cancel the order the customer just confirmed, if it is theirs and still hasn't shipped."""
        number = tracker.get_slot("order_id")
        if not number:
            dispatcher.utter_message(
                text="I've lost track of which order to cancel — sorry! "
                "Please tell me the order number again."
            )
            return [SlotSet("pending_question", None)]
        services = self.services
        outcome = order_service.cancel_order(
            self.requester(tracker), number, services.session_factory, services.now()
        )
        dispatcher.utter_message(text=outcome.message)
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("pending_question", "anything_else")]
