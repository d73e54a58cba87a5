"""Hand-offs, fallbacks, policies and product questions against a real temporary database."""

from __future__ import annotations

from sqlalchemy import select

from actions.products import ActionProductInfo
from actions.support import (
    ActionAccountHelp,
    ActionHandleFallback,
    ActionHandoff,
    ActionPaymentHelp,
    ActionShippingInfo,
)
from bot.storage.models import Ticket
from bot.storage.session import session_scope
from tests.actions.conftest import make_tracker, texts, visitor


def user_event(text: str, intent: str) -> dict:
    return {
        "event": "user",
        "text": text,
        "parse_data": {"intent": {"name": intent}, "entities": []},
    }


def action_event(name: str) -> dict:
    return {"event": "action", "name": name}


async def test_a_typed_email_files_no_ticket_under_that_customer(
    dispatcher, services, shop, domain, session_factory
):
    tracker = make_tracker(
        "I want a real person",
        "request_human",
        slots={"order_id": shop["shipped"], "email": "anna.schmidt@example.com"},
        metadata=visitor(),
    )
    await ActionHandoff(services).run(dispatcher, tracker, domain)
    with session_scope(session_factory) as session:
        [ticket] = session.execute(select(Ticket)).scalars().all()
        # The person still reads what was typed, but nothing is linked to Anna's account.
        assert ticket.customer_id is None and ticket.order_id is None
    assert "ticket #" in texts(dispatcher)[0]


async def test_a_visitor_who_proved_the_order_gets_a_ticket_linked_to_it(
    dispatcher, services, shop, domain, session_factory
):
    tracker = make_tracker(
        "I want a real person",
        "request_human",
        slots={"order_id": shop["shipped"], "proven_orders": [shop["shipped"]]},
        metadata=visitor(),
    )
    await ActionHandoff(services).run(dispatcher, tracker, domain)
    with session_scope(session_factory) as session:
        [ticket] = session.execute(select(Ticket)).scalars().all()
        assert ticket.customer_id is not None and ticket.order_id is not None


async def test_handoff_opens_one_ticket_per_conversation(
    dispatcher, services, shop, domain, session_factory, anna
):
    history = [user_event(f"where is order {shop['shipped']}", "order_status")]
    tracker = make_tracker(
        "I want a real person",
        "request_human",
        slots={"order_id": shop["shipped"]},
        history=history,
        metadata=anna,
    )
    events = await ActionHandoff(services).run(dispatcher, tracker, domain)
    await ActionHandoff(services).run(dispatcher, tracker, domain)
    with session_scope(session_factory) as session:
        tickets = session.execute(select(Ticket)).scalars().all()
        assert len(tickets) == 1
        ticket = tickets[0]
        assert ticket.kind == "handoff" and ticket.status == "open"
        assert ticket.customer_id is not None and ticket.order_id is not None
        assert "I want a real person" in ticket.reason
        assert f"where is order {shop['shipped']}" in ticket.reason
    assert f"ticket #{ticket.id}" in texts(dispatcher)[0]
    assert "within 4 hours" in texts(dispatcher)[0]
    assert {
        "event": "slot",
        "name": "ticket_id",
        "value": str(ticket.id),
        "timestamp": None,
    } in events


async def test_fallback_rephrases_once_then_offers_a_person(dispatcher, services, domain):
    first = make_tracker("blorp", "nlu_fallback")
    events = await ActionHandleFallback(services).run(dispatcher, first, domain)
    assert "say it in other words" in texts(dispatcher)[0]
    assert events[0]["value"] is None

    answered = [user_event("blorp", "nlu_fallback"), action_event("action_handle_fallback")]
    second = make_tracker("zzz qqq", "nlu_fallback", history=answered)
    events = await ActionHandleFallback(services).run(dispatcher, second, domain)
    assert "connect you with a person" in texts(dispatcher)[1]
    assert events[0]["value"] == "handoff"
    assert [b["payload"] for b in dispatcher.messages[1]["buttons"]] == ["/affirm", "/deny"]


async def test_fallback_count_restarts_after_an_understood_message(dispatcher, services, domain):
    history = [
        user_event("blorp", "nlu_fallback"),
        action_event("action_handle_fallback"),
        user_event("hi", "greet"),
        action_event("utter_greet"),
    ]
    tracker = make_tracker("zzz", "out_of_scope", history=history)
    await ActionHandleFallback(services).run(dispatcher, tracker, domain)
    assert "say it in other words" in texts(dispatcher)[0]


async def test_a_survey_comment_is_not_counted_as_a_misunderstanding(dispatcher, services, domain):
    # "5" typed as the survey's comment is classified out_of_scope, but the form took it
    history = [
        user_event("5", "out_of_scope"),
        action_event("survey_form"),
        action_event("action_survey_submit"),
        action_event("action_listen"),
    ]
    tracker = make_tracker("great service", "nlu_fallback", history=history)
    await ActionHandleFallback(services).run(dispatcher, tracker, domain)
    assert "say it in other words" in texts(dispatcher)[0]


async def test_policy_answers_come_from_the_policy_file(dispatcher, services, domain):
    tracker = make_tracker("how long is shipping", "shipping_info")
    await ActionShippingInfo(services).run(dispatcher, tracker, domain)
    await ActionPaymentHelp(services).run(dispatcher, tracker, domain)
    await ActionAccountHelp(services).run(dispatcher, tracker, domain)
    shipping, payment, account = texts(dispatcher)
    assert "Express: 9.95 EUR, 1-2 business days" in shipping
    assert "PayPal" in payment and "talk to a person" in payment
    assert "Forgot password?" in account


async def test_product_info_tolerates_typos(dispatcher, services, shop, domain):
    tracker = make_tracker("do you have trail runing shoes?", "product_info")
    events = await ActionProductInfo(services).run(dispatcher, tracker, domain)
    answer = texts(dispatcher)[0]
    assert answer.startswith("Trailrunner Running Shoes")
    assert "89.00 EUR" in answer and "Blue: in stock" in answer
    assert events[0]["value"] == "Trailrunner Running Shoes"


async def test_product_info_shows_stock_per_variant(dispatcher, services, shop, domain):
    tracker = make_tracker(
        "is the zen yoga mat in green available",
        "product_info",
        entities=[{"entity": "product", "value": "zen yoga mat in green"}],
    )
    await ActionProductInfo(services).run(dispatcher, tracker, domain)
    answer = texts(dispatcher)[0]
    assert answer.startswith("Zen Yoga Mat")
    assert answer.index("Green: out of stock") < answer.index("Blue: only 3 left")


async def test_product_info_for_an_unknown_product(dispatcher, services, shop, domain):
    tracker = make_tracker("do you sell lawnmowers", "product_info")
    await ActionProductInfo(services).run(dispatcher, tracker, domain)
    assert "couldn't find that product" in texts(dispatcher)[0]


async def test_a_handoff_ticket_keeps_no_typed_address_or_proof(
    dispatcher, services, shop, domain, session_factory
):
    history = [
        {"event": "active_loop", "name": "order_form"},
        {"event": "slot", "name": "requested_slot", "value": "order_proof"},
        user_event("anna.schmidt@example.com", "account_help"),
        {"event": "slot", "name": "requested_slot", "value": "new_address"},
        user_event("Lindenallee 5, 50667 Köln", "out_of_scope"),
        {"event": "active_loop", "name": None},
        {"event": "slot", "name": "requested_slot", "value": None},
    ]
    tracker = make_tracker("a person please", "request_human", history=history, metadata=visitor())
    await ActionHandoff(services).run(dispatcher, tracker, domain)
    with session_scope(session_factory) as session:
        [ticket] = session.execute(select(Ticket)).scalars().all()
    assert "Lindenallee" not in ticket.reason and "anna.schmidt" not in ticket.reason
    assert "a person please" in ticket.reason
