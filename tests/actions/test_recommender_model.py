"""The recommender-model experiment in the suggestions action: each variant suggests from its
own model, and only personal suggestions (the only ones the model changes) are exposures."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.recommend import ActionRecommendProducts
from bot.auth.tokens import mint
from bot.bootstrap import bootstrap
from bot.demo.seed import seed_demo
from bot.experiments.assignment import assign, unit_of
from bot.recommender.experiment import RECOMMENDER_MODEL
from bot.recommender.shop import model_folder, purchased_product_ids, train_shop
from bot.settings import PROJECT_ROOT
from bot.storage.models import Customer, ExperimentExposure, Recommendation
from bot.storage.session import session_scope
from tests.actions.conftest import CONVERSATION, NOW, make_tracker, send_token

SESSION_START = {"event": "session_started", "timestamp": 1000.0}


def experimenting(settings):
    return bootstrap(
        replace(settings, experiments_file=PROJECT_ROOT / "data" / "experiments.yml"),
        now=lambda: NOW,
    )


@pytest.fixture
def seeded(settings, session_factory):
    seed_demo(session_factory, settings)
    return settings


@pytest.fixture
def both(seeded, session_factory):
    """Services on the demo shop with an EASE and an ALS model trained."""
    for kind in ("ease", "als"):
        train_shop(session_factory, model_folder(seeded), model_name=kind, search=False)
    built = experimenting(seeded)
    yield built
    built.close()


@pytest.fixture
def ease_only(seeded, session_factory):
    train_shop(session_factory, model_folder(seeded), model_name="ease", search=False)
    built = experimenting(seeded)
    yield built
    built.close()


def customer_in(services, variant: str) -> int:
    """A demo customer with purchases whom the experiment puts in `variant`."""
    experiment = services.experiments().get(RECOMMENDER_MODEL)
    assert experiment is not None and experiment.assigning
    with session_scope(services.session_factory) as session:
        ids = session.execute(select(Customer.id).order_by(Customer.id)).scalars().all()
        return next(
            i
            for i in ids
            if assign(experiment, unit_of(i, CONVERSATION)).variant == variant
            and purchased_product_ids(session, i)
        )


def ask(services, customer_id: int | None, text="what would you recommend for me?", **extra):
    tracker = make_tracker(text, "ask_recommendation", history=[SESSION_START], **extra)
    if customer_id is not None:
        send_token(services, tracker, mint(services.signing_key(), "customer", customer_id))
    return tracker


def exposures(services):
    with session_scope(services.session_factory) as session:
        rows = session.execute(select(ExperimentExposure)).scalars().all()
        return [(r.experiment, r.variant, r.unit, r.conversation_id, r.session_key) for r in rows]


def shown(services):
    with session_scope(services.session_factory) as session:
        rows = session.execute(select(Recommendation).order_by(Recommendation.id)).scalars()
        return [(r.kind, r.model) for r in rows]


@pytest.mark.parametrize("variant", ["ease", "als"])
async def test_each_variant_suggests_from_its_own_model(both, domain, variant):
    customer = customer_in(both, variant)
    dispatcher = CollectingDispatcher()
    await ActionRecommendProducts(both).run(dispatcher, ask(both, customer), domain)
    assert dispatcher.messages[0]["text"].startswith("Here are a few things I think you'll like:")
    rows = shown(both)
    assert rows and {model for _, model in rows} == {variant}
    assert "personal" in {kind for kind, _ in rows}
    assert exposures(both) == [
        (RECOMMENDER_MODEL, variant, f"customer:{customer}", CONVERSATION, "1000.000000")
    ]


def test_the_models_suggest_differently(both):
    """The two models do not happen to agree, or the experiment would compare nothing."""
    customer = customer_in(both, "als")
    ease = both.recommender("ease").for_customer(customer, 8)
    als = both.recommender("als").for_customer(customer, 8)
    assert both.recommender("ease").model_name == "ease"
    assert both.recommender("als").model_name == "als"
    assert [s.product_id for s in ease] != [s.product_id for s in als]


async def test_one_exposure_per_session(both, domain):
    customer = customer_in(both, "als")
    for _ in range(3):
        await ActionRecommendProducts(both).run(CollectingDispatcher(), ask(both, customer), domain)
    assert len(exposures(both)) == 1
    assert {model for _, model in shown(both)} == {"als"}


async def test_an_anonymous_visitors_best_sellers_are_no_exposure(both, domain):
    dispatcher = CollectingDispatcher()
    await ActionRecommendProducts(both).run(
        dispatcher, ask(both, None, "any gift ideas for my dog?"), domain
    )
    assert dispatcher.messages[0]["text"].startswith("Our best sellers in Pet Supplies:")
    assert {kind for kind, _ in shown(both)} == {"popular"}
    assert exposures(both) == []


async def test_more_like_a_product_is_no_exposure(both, domain):
    customer = customer_in(both, "als")
    tracker = ask(
        both,
        customer,
        "anything like the Zen Yoga Mat?",
        entities=[{"entity": "product", "value": "Zen Yoga Mat"}],
    )
    dispatcher = CollectingDispatcher()
    await ActionRecommendProducts(both).run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["text"].startswith("Customers who bought Zen Yoga Mat")
    # The same for everyone: the control's model, whatever the customer's variant.
    assert set(shown(both)) == {("similar", "ease")}
    assert exposures(both) == []


async def test_a_customer_without_purchases_gets_best_sellers_and_no_exposure(both, domain):
    with session_scope(both.session_factory) as session:
        customer = Customer(email="new@example.com", name="New Customer", created_at=NOW)
        session.add(customer)
        session.flush()
        customer_id = customer.id
    dispatcher = CollectingDispatcher()
    await ActionRecommendProducts(both).run(dispatcher, ask(both, customer_id), domain)
    assert dispatcher.messages[0]["custom"]["products"]
    assert {kind for kind, _ in shown(both)} == {"popular"}
    assert exposures(both) == []


async def test_a_missing_model_falls_back_to_the_other_without_exposure(ease_only, domain, caplog):
    customer = customer_in(ease_only, "als")
    dispatcher = CollectingDispatcher()
    with caplog.at_level(logging.WARNING):
        await ActionRecommendProducts(ease_only).run(dispatcher, ask(ease_only, customer), domain)
    assert dispatcher.messages[0]["custom"]["products"]
    assert {model for _, model in shown(ease_only)} == {"ease"}
    assert exposures(ease_only) == []
    assert any(
        "No als recommender model" in r.getMessage() and "ease" in r.getMessage()
        for r in caplog.records
    )
    # The variant whose model is there is still exposed.
    control = customer_in(ease_only, "ease")
    await ActionRecommendProducts(ease_only).run(
        CollectingDispatcher(), ask(ease_only, control), domain
    )
    assert [e[1] for e in exposures(ease_only)] == ["ease"]
