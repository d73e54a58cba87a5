"""Who may see and change an order, through the order actions, on a real temporary database.

Each attack (a visitor or another customer naming Anna's order) sits beside Anna's own path.
"""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.orders import ActionAskOrderId, ActionCancelOrder, ActionOrderSubmit, ValidateOrderForm
from bot.storage.models import Customer, Order, OrderEvent, ReturnRequest
from bot.storage.session import session_scope
from tests.actions.conftest import NOW, make_tracker, signed_in, texts, visitor

EMAIL = "anna.schmidt@example.com"


def slots_of(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def form_turn(text, slots, metadata, intent="order_status"):
    return make_tracker(
        text,
        intent,
        slots={"order_topic": "status", **slots},
        active_loop="order_form",
        metadata=metadata,
    )


def status_of(session_factory, number):
    with session_scope(session_factory) as session:
        return session.execute(select(Order.status).where(Order.number == number)).scalar_one()


def other_customer(session_factory) -> int:
    with session_scope(session_factory) as session:
        ben = Customer(email="ben@example.com", name="Ben", city="Köln", created_at=NOW)
        session.add(ben)
        session.flush()
        return int(ben.id)


async def test_a_visitor_is_asked_for_proof_the_same_way_whether_the_order_exists_or_not(
    services, shop, domain
):
    answers = []
    for number in (shop["shipped"], "999999"):
        dispatcher = CollectingDispatcher()
        events = await ValidateOrderForm(services).run(
            dispatcher, form_turn(number, {"requested_slot": "order_id"}, visitor()), domain
        )
        answers.append((slots_of(events)["requested_slot"], dispatcher.messages))
        assert slots_of(events)["order_id"] == number
    assert answers[0] == answers[1] == ("order_proof", [])


async def test_a_visitor_sees_nothing_of_an_order_before_proving_it(
    dispatcher, services, shop, domain
):
    tracker = make_tracker(
        "",
        "order_status",
        slots={"order_id": shop["shipped"], "order_topic": "status"},
        metadata=visitor(),
    )
    await ActionOrderSubmit(services).run(dispatcher, tracker, domain)
    answer = texts(dispatcher)[0]
    assert "until you've confirmed it's yours" in answer
    for secret in ("Trailrunner", "89.00", "JD0001", "DHL"):
        assert secret not in answer


async def test_the_orders_email_proves_it_and_then_the_status_is_shown(
    dispatcher, services, shop, domain
):
    slots = {"requested_slot": "order_proof", "order_id": shop["shipped"]}
    events = await ValidateOrderForm(services).run(
        dispatcher, form_turn(EMAIL.upper(), slots, visitor()), domain
    )
    proven = slots_of(events)
    assert proven["proven_orders"] == [shop["shipped"]]
    assert proven["order_proof"] == "confirmed"
    assert proven["requested_slot"] is None
    assert dispatcher.messages == []  # the email is compared, never echoed

    shown = CollectingDispatcher()
    submit = make_tracker(
        "",
        "order_status",
        slots={"order_id": shop["shipped"], "order_topic": "status", **proven},
        metadata=visitor(),
    )
    await ActionOrderSubmit(services).run(shown, submit, domain)
    assert "JD0001" in texts(shown)[0]


async def test_the_delivery_postcode_proves_it_too(dispatcher, services, shop, domain):
    slots = {"requested_slot": "order_proof", "order_id": shop["pending"]}
    events = await ValidateOrderForm(services).run(
        dispatcher, form_turn("10115", slots, visitor()), domain
    )
    assert slots_of(events)["proven_orders"] == [shop["pending"]]


async def test_wrong_details_start_again_and_the_third_ends_the_form(services, shop, domain):
    slots = {"requested_slot": "order_proof", "order_id": shop["pending"]}
    outcomes = []
    for guess in ("mallory@example.com", "12345", "eve@example.com"):
        dispatcher = CollectingDispatcher()
        events = await ValidateOrderForm(services).run(
            dispatcher, form_turn(guess, slots, visitor()), domain
        )
        outcomes.append((slots_of(events), texts(dispatcher)))
    first, _, third = outcomes
    assert first[0]["order_id"] is None and first[0]["requested_slot"] == "order_id"
    assert "doesn't match order" in first[1][0]
    assert "proven_orders" not in first[0]
    assert third[0]["order_form_gave_up"] is True
    assert "stop here for your security" in third[1][0]


async def test_guesses_from_many_conversations_lock_the_order(services, shop, domain):
    """A new conversation (a new REST sender) does not start the count afresh."""
    limit = services.settings.max_order_proof_failures_per_order
    for attempt in range(limit):
        tracker = form_turn(
            f"guess{attempt}@example.com",
            {"requested_slot": "order_proof", "order_id": shop["pending"]},
            visitor(client=f"198.51.100.{attempt}"),
        )
        tracker.sender_id = f"attacker-{attempt}"
        await ValidateOrderForm(services).run(CollectingDispatcher(), tracker, domain)
    dispatcher = CollectingDispatcher()
    tracker = form_turn(
        EMAIL, {"requested_slot": "order_proof", "order_id": shop["pending"]}, visitor()
    )
    tracker.sender_id = "attacker-with-the-right-email"
    events = await ValidateOrderForm(services).run(dispatcher, tracker, domain)
    assert "proven_orders" not in slots_of(events)
    assert "can't check any more details" in texts(dispatcher)[0]


async def test_a_visitor_cannot_cancel_an_order_they_have_not_proven(
    dispatcher, services, shop, domain, session_factory
):
    confirm = make_tracker("yes", "affirm", slots={"order_id": shop["pending"]}, metadata=visitor())
    await ActionCancelOrder(services).run(dispatcher, confirm, domain)
    assert "is cancelled" not in texts(dispatcher)[0]
    assert status_of(session_factory, shop["pending"]) == "pending"


async def test_another_customer_cannot_cancel_annas_order_but_anna_can(
    dispatcher, services, shop, domain, session_factory, anna
):
    ben = signed_in(services, other_customer(session_factory))
    attack = make_tracker("yes", "affirm", slots={"order_id": shop["pending"]}, metadata=ben)
    await ActionCancelOrder(services).run(dispatcher, attack, domain)
    assert "on your account" in texts(dispatcher)[0]
    assert status_of(session_factory, shop["pending"]) == "pending"

    own = CollectingDispatcher()
    mine = make_tracker("yes", "affirm", slots={"order_id": shop["pending"]}, metadata=anna)
    await ActionCancelOrder(services).run(own, mine, domain)
    assert "is cancelled" in texts(own)[0]
    assert status_of(session_factory, shop["pending"]) == "cancelled"


async def test_a_role_does_not_stick_to_the_conversation(
    dispatcher, services, shop, domain, session_factory, anna
):
    """Anna's token on an earlier message gives a later message without one nothing."""
    earlier = {"event": "user", "text": "cancel my order", "metadata": anna, "timestamp": 0}
    later = make_tracker(
        "yes", "affirm", slots={"order_id": shop["pending"]}, history=[earlier], metadata={}
    )
    await ActionCancelOrder(services).run(dispatcher, later, domain)
    assert status_of(session_factory, shop["pending"]) == "pending"


async def test_no_one_else_can_redirect_or_return_annas_order(
    services, shop, domain, session_factory, anna
):
    ben = signed_in(services, other_customer(session_factory))
    for metadata in (visitor(), ben):
        move = make_tracker(
            "",
            "change_address",
            slots={
                "order_id": shop["processing"],
                "order_topic": "address",
                "new_address": "Evil Lane 1, 99999 Nowhere",
            },
            metadata=metadata,
        )
        await ActionOrderSubmit(services).run(CollectingDispatcher(), move, domain)
        give_back = make_tracker(
            "",
            "return_request",
            slots={"order_id": shop["delivered"], "order_topic": "return"},
            metadata=metadata,
        )
        await ActionOrderSubmit(services).run(CollectingDispatcher(), give_back, domain)
    with session_scope(session_factory) as session:
        address = session.execute(
            select(Order.shipping_address).where(Order.number == shop["processing"])
        ).scalar_one()
        assert "Evil Lane" not in address
        assert session.execute(select(ReturnRequest)).scalars().all() == []
        assert session.execute(select(OrderEvent)).scalars().all() == []


async def test_a_signed_in_customer_naming_someone_elses_order_is_told_it_is_not_theirs(
    dispatcher, services, shop, domain, session_factory
):
    ben = signed_in(services, other_customer(session_factory))
    events = await ValidateOrderForm(services).run(
        dispatcher, form_turn(shop["shipped"], {"requested_slot": "order_id"}, ben), domain
    )
    assert slots_of(events)["order_id"] is None
    assert (
        f"can't find an order with the number {shop['shipped']} on your account"
        in (texts(dispatcher)[0])
    )


async def test_only_a_visitor_is_asked_for_proof(dispatcher, services, shop, domain, anna):
    form = ValidateOrderForm(services)
    slots = {"order_id": shop["processing"], "order_topic": "address"}
    as_visitor = make_tracker("", "change_address", slots=slots, metadata=visitor())
    assert await form.required_slots([], dispatcher, as_visitor, domain) == [
        "order_id",
        "order_proof",
    ]
    proven = make_tracker(
        "",
        "change_address",
        slots={**slots, "proven_orders": [shop["processing"]]},
        metadata=visitor(),
    )
    assert await form.required_slots([], dispatcher, proven, domain) == ["order_id", "new_address"]
    as_anna = make_tracker("", "change_address", slots=slots, metadata=anna)
    assert await form.required_slots([], dispatcher, as_anna, domain) == ["order_id", "new_address"]


async def test_a_signed_in_customer_picks_from_their_recent_orders(
    dispatcher, services, shop, domain, anna
):
    await ActionAskOrderId(services).run(
        dispatcher, make_tracker("where is my order?", "order_status", metadata=anna), domain
    )
    [message] = dispatcher.messages
    payloads = [button["payload"] for button in message["buttons"]]
    assert payloads[0] == shop["pending"]  # the newest first
    assert set(payloads) <= set(shop.values()) and len(payloads) == 5
    assert "Trailrunner Running Shoes" in message["buttons"][0]["title"]

    anonymous = CollectingDispatcher()
    await ActionAskOrderId(services).run(
        anonymous, make_tracker("where is my order?", "order_status", metadata=visitor()), domain
    )
    assert anonymous.messages[0]["response"] == "utter_ask_order_id"
    assert "buttons" not in anonymous.messages[0] or not anonymous.messages[0]["buttons"]
