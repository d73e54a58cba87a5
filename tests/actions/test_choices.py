"""Typed answers to the bot's buttons, with the real actions: what was offered is what counts."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.orders import ActionAskOrderId, ValidateOrderForm
from actions.products import ActionProductInfo
from actions.recommend import ActionRecommendProducts
from bot.demo.seed import seed_demo
from bot.recommender.shop import model_folder, train_shop
from tests.actions.conftest import make_tracker, texts


@pytest.fixture
def demo(services, settings, session_factory):
    seed_demo(session_factory, settings)
    train_shop(session_factory, model_folder(settings), search=False)
    return services


def after(turns: list[tuple[str, str, list[dict]]]) -> list[dict]:
    """The events of earlier turns: each customer message, the action and what it returned."""
    events: list[dict] = []
    for text, action, returned in turns:
        events += [
            {"event": "user", "text": text, "parse_data": {"intent": {"name": "x"}}},
            {"event": "action", "name": action},
            *returned,
        ]
    return events


async def offer_categories(demo, domain):
    dispatcher = CollectingDispatcher()
    events = await ActionRecommendProducts(demo).run(
        dispatcher, make_tracker("what do you recommend?", "ask_recommendation"), domain
    )
    assert texts(dispatcher) == ["Happy to help! What are you shopping for?"]
    return after([("what do you recommend?", "action_recommend_products", events)])


@pytest.mark.parametrize(
    ("typed", "intent", "category"),
    [
        ("sports", "out_of_scope", "Sports & Outdoors"),
        ("Kitchen", "product_info", "Home & Kitchen"),
        ("the second one", "complaint", "Books & Stationery"),  # Beauty comes first
    ],
)
async def test_a_typed_category_gets_its_best_sellers(demo, domain, typed, intent, category):
    history = await offer_categories(demo, domain)
    dispatcher = CollectingDispatcher()
    await ActionRecommendProducts(demo).run(
        dispatcher, make_tracker(typed, intent, history=history), domain
    )
    [message] = dispatcher.messages
    assert message["text"].startswith(f"Our best sellers in {category}:")


async def test_the_first_suggestion_typed_is_described(demo, domain):
    history = await offer_categories(demo, domain)
    dispatcher = CollectingDispatcher()
    events = await ActionRecommendProducts(demo).run(
        dispatcher, make_tracker("sports", "out_of_scope", history=history), domain
    )
    first = dispatcher.messages[0]["buttons"][0]["title"].removeprefix("Tell me about ")
    history += after([("sports", "action_recommend_products", events)])

    dispatcher = CollectingDispatcher()
    events = await ActionProductInfo(demo).run(
        dispatcher, make_tracker("the first one", "affirm", history=history), domain
    )
    assert texts(dispatcher)[0].startswith(first)
    assert {"event": "slot", "name": "product", "value": first, "timestamp": None} in events


async def test_buttons_offered_earlier_in_the_chat_are_no_offer(demo, domain):
    history = await offer_categories(demo, domain)
    history += after([("thanks", "utter_you_are_welcome", [])])
    dispatcher = CollectingDispatcher()
    await ActionRecommendProducts(demo).run(
        dispatcher, make_tracker("the second one", "complaint", history=history), domain
    )
    assert texts(dispatcher) == ["Happy to help! What are you shopping for?"]


async def test_an_order_picked_by_its_place_in_the_list(dispatcher, services, shop, domain, anna):
    asked = await ActionAskOrderId(services).run(
        dispatcher,
        make_tracker("where is my order?", "order_status", metadata=anna),
        domain,
    )
    second = dispatcher.messages[0]["buttons"][1]["payload"]
    tracker = make_tracker(
        "the second one",
        "complaint",
        slots={"requested_slot": "order_id", "order_topic": "status"},
        history=after([("where is my order?", "order_form", asked)]),
        active_loop="order_form",
        metadata=anna,
    )
    events = await ValidateOrderForm(services).run(CollectingDispatcher(), tracker, domain)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["order_id"] == second
