"""After the offer of a person, the customer goes on: the misunderstandings count afresh."""

from __future__ import annotations

import pytest

from actions.support import ActionHandleFallback
from tests.actions.conftest import make_tracker, texts


def user_event(text: str, intent: str) -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def action_event(name: str) -> dict:
    return {"event": "action", "name": name}


OFFERED = [
    user_event("blorp zint", "out_of_scope"),
    action_event("action_handle_fallback"),
    user_event("can you sing me a song", "out_of_scope"),
    action_event("action_handle_fallback"),
]


@pytest.mark.parametrize(
    ("reply", "intent", "answered_by"),
    [
        ("no thanks", "deny", "utter_handoff_declined"),
        ("how much does shipping cost?", "shipping_info", "action_shipping_info"),
        ("where is my order?", "order_status", "action_start_order_task"),
    ],
)
async def test_after_the_offer_a_new_miss_is_the_first_again(
    dispatcher, services, domain, reply, intent, answered_by
):
    history = [*OFFERED, user_event(reply, intent), action_event(answered_by)]
    tracker = make_tracker("qwop zzkr", "out_of_scope", history=history)
    events = await ActionHandleFallback(services).run(dispatcher, tracker, domain)
    # Asked to rephrase, not offered a person a second time in a row.
    assert "say it in other words" in texts(dispatcher)[0]
    assert "connect you with a person" not in texts(dispatcher)[0]
    assert events == [{"event": "slot", "name": "pending_question", "value": None,
                       "timestamp": None}]  # fmt: skip


async def test_without_a_new_start_the_third_miss_offers_a_person_again(
    dispatcher, services, domain
):
    tracker = make_tracker("qwop zzkr", "out_of_scope", history=OFFERED)
    await ActionHandleFallback(services).run(dispatcher, tracker, domain)
    assert "still can't help" in texts(dispatcher)[0]
