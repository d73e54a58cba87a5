"""Order actions against a real temporary database."""

from __future__ import annotations

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.orders import (
    ActionCancelOrder,
    ActionOrderSubmit,
    ActionStartOrderTask,
    ValidateOrderForm,
    clean_address,
)
from bot.storage.models import Order, OrderEvent, ReturnRequest
from bot.storage.session import session_scope
from tests.actions.conftest import make_tracker, texts


def slots_of(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def test_start_sets_the_topic_from_the_intent(dispatcher, services, domain):
    events = await ActionStartOrderTask(services).run(
        dispatcher, make_tracker("cancel my order", "cancel_order"), domain
    )
    assert slots_of(events)["order_topic"] == "cancel"
    assert slots_of(events)["order_lookup_failures"] == 0


async def test_form_accepts_an_existing_order(dispatcher, services, shop, domain, anna):
    tracker = make_tracker(
        "it's #100003",
        "order_status",
        slots={"requested_slot": "order_id", "order_topic": "status"},
        active_loop="order_form",
        metadata=anna,
    )
    events = await ValidateOrderForm(services).run(dispatcher, tracker, domain)
    slots = slots_of(events)
    assert slots["order_id"] == "100003"
    assert dispatcher.messages == []


async def test_form_reasks_for_an_unknown_order_then_gives_up(
    dispatcher, services, shop, domain, anna
):
    tracker = make_tracker(
        "999999",
        "order_status",
        slots={"requested_slot": "order_id", "order_topic": "status", "order_lookup_failures": 0.0},
        active_loop="order_form",
        metadata=anna,
    )
    events = await ValidateOrderForm(services).run(dispatcher, tracker, domain)
    slots = slots_of(events)
    assert slots["order_id"] is None
    assert slots["order_lookup_failures"] == 1
    assert slots["requested_slot"] == "order_id"
    assert "can't find an order with the number 999999" in texts(dispatcher)[0]

    second = make_tracker(
        "888888",
        "order_status",
        slots={"requested_slot": "order_id", "order_topic": "status", "order_lookup_failures": 1.0},
        active_loop="order_form",
        metadata=anna,
    )
    events = await ValidateOrderForm(services).run(dispatcher, second, domain)
    slots = slots_of(events)
    assert slots["order_form_gave_up"] is True
    assert slots["requested_slot"] is None


async def test_form_reasks_when_the_answer_is_not_a_number(
    dispatcher, services, shop, domain, anna
):
    tracker = make_tracker(
        "no idea, the blue one",
        "order_status",
        slots={"requested_slot": "order_id", "order_topic": "status"},
        active_loop="order_form",
        metadata=anna,
    )
    events = await ValidateOrderForm(services).run(dispatcher, tracker, domain)
    assert slots_of(events)["order_id"] is None
    assert "doesn't look like an order number" in texts(dispatcher)[0]


async def test_form_lets_a_request_for_a_person_through(dispatcher, services, shop, domain, anna):
    tracker = make_tracker(
        "let me talk to a human",
        "request_human",
        slots={"requested_slot": "order_id", "order_topic": "status"},
        active_loop="order_form",
        metadata=anna,
    )
    events = await ValidateOrderForm(services).run(dispatcher, tracker, domain)
    # Nothing extracted: the form is rejected and the hand-off rule takes over.
    assert "order_id" not in slots_of(events)


async def test_status_of_a_shipped_order(dispatcher, services, shop, domain, anna):
    tracker = make_tracker(
        "",
        "order_status",
        slots={"order_id": shop["shipped"], "order_topic": "status"},
        metadata=anna,
    )
    await ActionOrderSubmit(services).run(dispatcher, tracker, domain)
    answer = texts(dispatcher)[0]
    assert f"Order {shop['shipped']}" in answer
    assert "shipped on" in answer and "DHL" in answer and "JD0001" in answer
    assert "Expected delivery: Monday, 2 November 2026" in answer


async def test_cancel_asks_for_confirmation_then_cancels(
    dispatcher, services, shop, domain, session_factory, anna
):
    tracker = make_tracker(
        "",
        "cancel_order",
        slots={"order_id": shop["pending"], "order_topic": "cancel"},
        metadata=anna,
    )
    events = await ActionOrderSubmit(services).run(dispatcher, tracker, domain)
    assert slots_of(events)["pending_question"] == "cancel"
    assert "Shall I cancel it?" in texts(dispatcher)[0]

    confirm = make_tracker("yes", "affirm", slots={"order_id": shop["pending"]}, metadata=anna)
    events = await ActionCancelOrder(services).run(dispatcher, confirm, domain)
    assert "is cancelled" in texts(dispatcher)[1]
    assert SlotSet("pending_question", "anything_else") in events
    with session_scope(session_factory) as session:
        order = session.execute(select(Order).where(Order.number == shop["pending"])).scalar_one()
        assert order.status == "cancelled"
        kinds = session.execute(select(OrderEvent.kind).where(OrderEvent.order_id == order.id))
        assert list(kinds.scalars()) == ["cancelled"]


async def test_cancel_refused_for_a_shipped_order(
    dispatcher, services, shop, domain, session_factory, anna
):
    tracker = make_tracker(
        "",
        "cancel_order",
        slots={"order_id": shop["shipped"], "order_topic": "cancel"},
        metadata=anna,
    )
    events = await ActionOrderSubmit(services).run(dispatcher, tracker, domain)
    # Nothing to confirm: the bot explains and asks whether there is anything else.
    assert slots_of(events)["pending_question"] == "anything_else"
    assert "already shipped" in texts(dispatcher)[0]
    assert texts(dispatcher)[1] == "utter_anything_else"
    assert "can't be cancelled" in texts(dispatcher)[0]
    with session_scope(session_factory) as session:
        status = session.execute(
            select(Order.status).where(Order.number == shop["shipped"])
        ).scalar_one()
        assert status == "shipped"


async def test_return_opens_a_record_for_a_recent_delivery(
    dispatcher, services, shop, domain, session_factory, anna
):
    tracker = make_tracker(
        "",
        "return_request",
        slots={"order_id": shop["delivered"], "order_topic": "return"},
        metadata=anna,
    )
    await ActionOrderSubmit(services).run(dispatcher, tracker, domain)
    assert "I've opened return R" in texts(dispatcher)[0]
    with session_scope(session_factory) as session:
        returns = session.execute(select(ReturnRequest)).scalars().all()
        assert len(returns) == 1 and returns[0].status == "open"
        assert returns[0].conversation_id == "test-conversation"

    # Asking again does not open a second return.
    again = CollectingDispatcher()
    await ActionOrderSubmit(services).run(again, tracker, domain)
    assert "already a return" in texts(again)[0]


async def test_return_refused_after_the_window(dispatcher, services, shop, domain, anna):
    tracker = make_tracker(
        "",
        "return_request",
        slots={"order_id": shop["old_delivered"], "order_topic": "return"},
        metadata=anna,
    )
    await ActionOrderSubmit(services).run(dispatcher, tracker, domain)
    assert "returns are possible within 30 days" in texts(dispatcher)[0]


async def test_address_change_needs_an_address_only_before_shipping(
    dispatcher, services, shop, domain, anna
):
    form = ValidateOrderForm(services)
    open_order = make_tracker(
        "",
        "change_address",
        slots={"order_id": shop["processing"], "order_topic": "address"},
        metadata=anna,
    )
    assert await form.required_slots([], dispatcher, open_order, domain) == [
        "order_id",
        "new_address",
    ]
    shipped = make_tracker(
        "",
        "change_address",
        slots={"order_id": shop["shipped"], "order_topic": "address"},
        metadata=anna,
    )
    assert await form.required_slots([], dispatcher, shipped, domain) == ["order_id"]


async def test_address_change_is_stored(dispatcher, services, shop, domain, session_factory, anna):
    tracker = make_tracker(
        "",
        "change_address",
        slots={
            "order_id": shop["processing"],
            "order_topic": "address",
            "new_address": "Lindenallee 5, 50667 Köln",
        },
        metadata=anna,
    )
    await ActionOrderSubmit(services).run(dispatcher, tracker, domain)
    assert "will now be delivered to: Lindenallee 5, 50667 Köln" in texts(dispatcher)[0]
    with session_scope(session_factory) as session:
        address = session.execute(
            select(Order.shipping_address).where(Order.number == shop["processing"])
        ).scalar_one()
        assert address == "Lindenallee 5, 50667 Köln"


def test_clean_address_rejects_markup_and_nonsense():
    assert clean_address("<script>alert(1)</script> 12345 Town")[0] is None
    assert clean_address("hello")[0] is None
    assert clean_address("x" * 500 + " 1")[0] is None
    assert clean_address("  Lindenallee   5,\n50667 Köln ")[0] == "Lindenallee 5, 50667 Köln"


async def test_refund_status_when_there_is_none(dispatcher, services, shop, domain, anna):
    tracker = make_tracker(
        "",
        "refund_status",
        slots={"order_id": shop["cancelled"], "order_topic": "refund"},
        metadata=anna,
    )
    await ActionOrderSubmit(services).run(dispatcher, tracker, domain)
    assert "nothing to refund" in texts(dispatcher)[0]


async def test_gave_up_offers_a_person(dispatcher, services, shop, domain, anna):
    tracker = make_tracker(
        "",
        "order_status",
        slots={"order_id": None, "order_topic": "status", "order_form_gave_up": True},
        metadata=anna,
    )
    events = await ActionOrderSubmit(services).run(dispatcher, tracker, domain)
    assert slots_of(events)["pending_question"] == "handoff"
    assert "connect you with a person" in texts(dispatcher)[0]
