"""Suggestions in the chat, on the seeded demo shop with a trained model."""

from __future__ import annotations

import json

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.products import ActionProductInfo
from actions.recommend import ActionRecommendProducts
from bot.auth.tokens import mint
from bot.demo.seed import seed_demo
from bot.recommender.shop import model_folder, purchased_product_ids, train_shop
from bot.storage.models import Product, Recommendation
from bot.storage.session import session_scope
from tests.actions.conftest import make_tracker, send_token


@pytest.fixture
def demo(services, settings, session_factory):
    seed_demo(session_factory, settings)
    train_shop(session_factory, model_folder(settings), search=False)
    return services


def with_token(services, tracker, token: str):
    return send_token(services, tracker, token)


def shown(session_factory, conversation: str = "test-conversation") -> list[Recommendation]:
    with session_scope(session_factory) as session:
        return list(
            session.execute(
                select(Recommendation)
                .where(Recommendation.conversation_id == conversation)
                .order_by(Recommendation.rank)
            ).scalars()
        )


async def test_an_anonymous_customer_is_asked_for_a_category(demo, domain, session_factory):
    dispatcher = CollectingDispatcher()
    await ActionRecommendProducts(demo).run(
        dispatcher, make_tracker("what do you recommend?", "ask_recommendation"), domain
    )
    [message] = dispatcher.messages
    assert message["text"] == "Happy to help! What are you shopping for?"
    payloads = [b["payload"] for b in message["buttons"]]
    assert '/ask_recommendation{"category": "Pet Supplies"}' in payloads
    assert len(payloads) == 10
    assert shown(session_factory) == []


async def test_best_sellers_of_a_category_as_cards(demo, domain, session_factory):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("any gift ideas for my dog?", "ask_recommendation")
    await ActionRecommendProducts(demo).run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    cards = message["custom"]["products"]
    assert message["text"].startswith("Our best sellers in Pet Supplies:")
    assert 1 <= len(cards) <= 4
    assert {c["category"] for c in cards} == {"Pet Supplies"}
    assert all(c["reason"] == "a best seller in Pet Supplies" for c in cards)
    lines = [c["name"].split(" - ")[0] for c in cards]
    assert len(set(lines)) == len(lines)  # one variant per product line
    rows = shown(session_factory)
    assert [r.product_id for r in rows] == [c["id"] for c in cards]
    assert {r.kind for r in rows} == {"popular"}


async def test_a_known_customer_gets_personal_suggestions_never_owned_or_out_of_stock(
    demo, domain, session_factory
):
    customer_id = 17
    token = mint(demo.signing_key(), "customer", customer_id=customer_id)
    tracker = with_token(
        demo, make_tracker("what would you recommend for me?", "ask_recommendation"), token
    )
    dispatcher = CollectingDispatcher()
    await ActionRecommendProducts(demo).run(dispatcher, tracker, domain)
    cards = dispatcher.messages[0]["custom"]["products"]
    assert len(cards) == 4
    assert all(c["reason"].startswith("because you bought ") for c in cards)
    with session_scope(session_factory) as session:
        owned = purchased_product_ids(session, customer_id)
        owned_lines = {
            p.name.split(" - ")[0]
            for p in session.execute(select(Product).where(Product.id.in_(owned))).scalars()
        }
        stock = dict(session.execute(select(Product.id, Product.stock)).all())
    assert all(c["name"].split(" - ")[0] not in owned_lines for c in cards)
    assert all(stock[c["id"]] > 0 for c in cards)
    assert all(
        r.customer_id == customer_id and r.kind == "personal" for r in shown(session_factory)
    )


async def test_asking_about_a_suggestion_counts_as_picking_it(demo, domain, session_factory):
    dispatcher = CollectingDispatcher()
    await ActionRecommendProducts(demo).run(
        dispatcher, make_tracker("something for the garden?", "ask_recommendation"), domain
    )
    first = dispatcher.messages[0]["custom"]["products"][0]
    line = json.loads(first["payload"].removeprefix("/product_info"))["product"]
    await ActionProductInfo(demo).run(
        CollectingDispatcher(),
        make_tracker(
            first["payload"], "product_info", entities=[{"entity": "product", "value": line}]
        ),
        domain,
    )
    picked = [r.product_id for r in shown(session_factory) if r.picked_at is not None]
    assert picked == [first["id"]]


async def test_more_like_a_product(demo, domain):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "anything like the Zen Yoga Mat?",
        "ask_recommendation",
        entities=[{"entity": "product", "value": "Zen Yoga Mat"}],
    )
    await ActionRecommendProducts(demo).run(dispatcher, tracker, domain)
    message = dispatcher.messages[0]
    assert message["text"].startswith("Customers who bought Zen Yoga Mat also liked:")
    assert all(not c["name"].startswith("Zen Yoga Mat") for c in message["custom"]["products"])
