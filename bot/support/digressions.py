"""Questions about something else while the bot waits for an answer (a digression).

While a form waits (the order number, the proof, a new address, a survey answer), a
customer may ask about shipping or payments, or ask to do something else with the order.
Those messages are not wrong answers: the rules answer them and the form asks again.
"""

from __future__ import annotations

import re

# Questions answered in the middle of a form, which then asks its question again.
DIGRESSION_INTENTS = frozenset(
    {
        "shipping_info",
        "payment_issue",
        "account_help",
        "product_info",
        "ask_recommendation",
        "return_policy",
        "bot_challenge",
    }
)
# The survey's "how likely are you to recommend us?" is answered with "I'd recommend you",
# which reads as asking for suggestions: there it is an answer (to re-ask if not a score).
SURVEY_DIGRESSION_INTENTS = DIGRESSION_INTENTS - {"ask_recommendation"}
# A different order task ("actually I want to return it") while the order form waits.
ORDER_TOPIC_INTENTS = frozenset(
    {"order_status", "cancel_order", "return_request", "refund_status", "change_address"}
)

_QUESTION_START = re.compile(
    r"^\s*(?:how|what|what's|whats|when|where|which|who|why|can|could|do|does|did|is|are|"
    r"will|would|should)\b",
    re.IGNORECASE,
)


def is_digression(intent: str | None, survey: bool = False) -> bool:
    """Whether a message of this intent asks about something the form is not asking for."""
    return intent in (SURVEY_DIGRESSION_INTENTS if survey else DIGRESSION_INTENTS)


def switches_order_task(intent: str | None) -> bool:
    """Whether a message of this intent asks for another order task."""
    return intent in ORDER_TOPIC_INTENTS


def is_question(text: str | None) -> bool:
    """Whether the text asks something ("is shipping free?"), rather than states it."""
    if not text or not text.strip():
        return False
    return "?" in text or bool(_QUESTION_START.match(text))


def digresses_from_comment(intent: str | None, text: str | None) -> bool:
    """Whether a reply to "anything we could do better?" is a question, not a comment.

    Any text is a comment ("shipping was slow" is feedback about shipping); only a
    question about something else is answered instead.
    """
    return is_digression(intent, survey=True) and is_question(text)


_SWITCH_MESSAGES = {
    "status": "Sure, let's check where your order is instead.",
    "cancel": "Sure, let's look at cancelling it instead.",
    "return": "Sure, let's start a return instead.",
    "refund": "Sure, let's look at the refund instead.",
    "address": "Sure, let's change the delivery address instead.",
}


def switch_message(topic: str) -> str:
    """What the bot says when the customer turns to another order task mid-way."""
    return _SWITCH_MESSAGES.get(topic, "Sure.")
