"""Training on the demo shop's database, model files, and answers in product ids."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.demo.seed import seed_demo
from bot.recommender import DEFAULT_MODEL, create
from bot.recommender.evaluation import evaluate, holdout_split
from bot.recommender.shop import (
    FORMAT_VERSION,
    ShopRecommender,
    in_stock_product_ids,
    load_latest,
    load_or_fallback,
    model_files,
    model_folder,
    purchased_product_ids,
    read_shop,
    train_shop,
)
from bot.settings import Settings
from bot.storage.migrate import upgrade
from bot.storage.models import Customer, Product
from bot.storage.session import create_db_engine, make_session_factory, session_scope

TRAINED_AT = datetime(2026, 11, 1, 6, 30, tzinfo=timezone.utc)


@dataclass
class Shop:
    settings: Settings
    factory: sessionmaker
    recommender: ShopRecommender


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """The demo shop in a temporary database, with one trained model file (module-wide)."""
    settings = Settings(var_dir=tmp_path_factory.mktemp("shop"), demo_today="2026-11-01")
    upgrade(settings.database_url)
    engine = create_db_engine(settings.database_url)
    factory = make_session_factory(engine)
    seed_demo(factory, settings)
    stages: set[str] = set()
    recommender = train_shop(
        factory,
        model_folder(settings),
        progress=lambda stage, done, total: stages.add(stage),
        now=TRAINED_AT,
    )
    assert {"read orders", "save"} <= stages
    yield Shop(settings, factory, recommender)
    engine.dispose()


def _customer_with_purchases(shop: Shop, minimum: int = 8) -> int:
    data = shop.recommender.data
    counts = np.diff(data.interactions.indptr)
    return int(data.customer_ids[int(np.argmax(counts >= minimum))])


def test_training_saves_a_versioned_file(shop: Shop) -> None:
    recommender = shop.recommender
    assert recommender.path is not None
    assert recommender.path.name == f"recommender-20261101T063000Z-{DEFAULT_MODEL}.pkl"
    assert model_files(model_folder(shop.settings)) == [recommender.path]
    assert recommender.model_name == DEFAULT_MODEL and not recommender.is_fallback
    assert recommender.summary["products"] == 240 and recommender.summary["customers"] == 1000
    assert recommender.summary["validation_ndcg@10"] > 0
    with recommender.path.open("rb") as file:
        payload = pickle.load(file)
    assert payload["format_version"] == FORMAT_VERSION
    assert {"model", "customer_ids", "product_ids", "names", "categories", "stock"} <= set(payload)


def test_mappings_follow_the_database_ids(shop: Shop) -> None:
    data = shop.recommender.data
    with session_scope(shop.factory) as session:
        product_ids = session.execute(select(Product.id).order_by(Product.id)).scalars().all()
        customer_ids = session.execute(select(Customer.id).order_by(Customer.id)).scalars().all()
        customer = _customer_with_purchases(shop)
        bought = purchased_product_ids(session, customer)
        again = read_shop(session)
    assert data.product_ids.tolist() == product_ids
    assert data.customer_ids.tolist() == customer_ids
    row = int(np.searchsorted(data.customer_ids, customer))
    columns = data.interactions[row].indices
    assert {int(data.product_ids[c]) for c in columns} == bought
    assert (again.interactions != data.interactions).nnz == 0  # stable


def test_save_and_load_round_trip(shop: Shop) -> None:
    loaded = load_latest(model_folder(shop.settings))
    assert loaded is not None
    assert loaded.path == shop.recommender.path
    assert loaded.trained_at == TRAINED_AT
    customer = _customer_with_purchases(shop)
    product = int(shop.recommender.data.product_ids[0])
    assert loaded.for_customer(customer, k=5) == shop.recommender.for_customer(customer, k=5)
    assert loaded.similar_to(product, k=5) == shop.recommender.similar_to(product, k=5)
    assert loaded.best_sellers(k=5) == shop.recommender.best_sellers(k=5)


def test_suggestions_follow_the_rules(shop: Shop) -> None:
    recommender = shop.recommender
    names = dict(zip(recommender.data.product_ids.tolist(), recommender.data.names, strict=True))
    with session_scope(shop.factory) as session:
        in_stock = in_stock_product_ids(session)
        customers = recommender.data.customer_ids[:60].tolist()
        bought = {c: purchased_product_ids(session, c) for c in customers}
    assert 0 < len(in_stock) < 240
    personal = 0
    for customer in customers:
        suggestions = recommender.for_customer(customer, k=6, in_stock=in_stock)
        assert len(suggestions) == 6
        ids = [s.product_id for s in suggestions]
        assert len(set(ids)) == 6
        assert not set(ids) & bought[customer], "never what the customer already bought"
        assert set(ids) <= in_stock, "never what is out of stock"
        categories = [s.category for s in suggestions]
        assert max(categories.count(c) for c in categories) <= 2
        for suggestion in suggestions:
            if suggestion.kind == "personal":
                personal += 1
                assert suggestion.because_of in bought[customer]
                assert suggestion.reason == f"because you bought {names[suggestion.because_of]}"
            else:
                assert suggestion.reason == f"a best seller in {suggestion.category}"
    assert personal > 0.9 * 6 * len(customers)


def test_stock_snapshot_and_recent_purchases(shop: Shop) -> None:
    recommender = shop.recommender
    sold_out = {
        int(p)
        for p, s in zip(recommender.data.product_ids, recommender.data.stock, strict=True)
        if s == 0
    }
    customer = _customer_with_purchases(shop)
    first = recommender.for_customer(customer, k=5)
    assert not {s.product_id for s in first} & sold_out  # in_stock=None: stock at training
    later = recommender.for_customer(customer, k=5, bought=[first[0].product_id])
    assert first[0].product_id not in {s.product_id for s in later}


def test_suggestions_within_one_category(shop: Shop) -> None:
    recommender = shop.recommender
    customer = _customer_with_purchases(shop)
    with session_scope(shop.factory) as session:
        bought = purchased_product_ids(session, customer)
    for category in ("electronics", "Garden"):
        suggestions = recommender.for_customer(customer, k=4, category=category, bought=bought)
        assert len(suggestions) == 4
        assert {s.category.casefold() for s in suggestions} == {category.casefold()}
        assert not {s.product_id for s in suggestions} & bought
    assert recommender.for_customer(customer, category="Spaceships") == []
    cold = recommender.for_customer(10**9, k=3, category="garden")
    assert cold == recommender.best_sellers("garden", k=3)


def test_new_customers_get_best_sellers(shop: Shop) -> None:
    recommender = shop.recommender
    assert not recommender.knows_customer(10**9)
    cold = recommender.for_customer(10**9, k=4)
    assert cold == recommender.best_sellers(k=4)
    assert all(s.kind == "popular" and s.reason.startswith("a best seller in ") for s in cold)
    # A new customer with a first purchase already gets personal picks (fold-in).
    product = cold[0].product_id
    warm = recommender.for_customer(10**9, k=4, bought=[product])
    assert product not in {s.product_id for s in warm}
    assert any(s.kind == "personal" and s.because_of == product for s in warm)


def test_best_sellers_and_similar_products(shop: Shop) -> None:
    recommender = shop.recommender
    garden = recommender.best_sellers("garden", k=3)
    assert len(garden) == 3 and {s.category for s in garden} == {"Garden"}
    assert [s.score for s in garden] == sorted((s.score for s in garden), reverse=True)
    assert recommender.best_sellers("No such thing") == []
    product = int(recommender.data.product_ids[0])
    similar = recommender.similar_to(product, k=5)
    assert len(similar) == 5 and product not in {s.product_id for s in similar}
    assert all(s.kind == "similar" and s.because_of == product for s in similar)
    assert recommender.similar_to(10**9) == []


def test_load_latest_takes_the_newest_readable_file(shop: Shop, tmp_path: Path) -> None:
    assert load_latest(tmp_path / "missing") is None
    older = shop.recommender
    older_path = older.save(tmp_path)
    newer = ShopRecommender(older.model, older.data, datetime(2027, 1, 1, tzinfo=timezone.utc))
    newer_path = newer.save(tmp_path)
    same_second = ShopRecommender(older.model, older.data, newer.trained_at).save(tmp_path)
    assert same_second.name.endswith(f"-{DEFAULT_MODEL}.2.pkl")
    assert model_files(tmp_path) == [same_second, newer_path, older_path]
    # A file of another format version, newest of all, is skipped.
    payload = newer.to_payload() | {"format_version": FORMAT_VERSION + 1}
    future = tmp_path / f"recommender-20300101T000000Z-{DEFAULT_MODEL}.pkl"
    future.write_bytes(pickle.dumps(payload))
    (tmp_path / "recommender-20310101T000000Z-ease.pkl").write_bytes(b"not a pickle")
    loaded = load_latest(tmp_path)
    assert loaded is not None and loaded.path == same_second


def test_fallback_without_a_model_file(shop: Shop, tmp_path: Path) -> None:
    fallback = load_or_fallback(tmp_path, shop.factory)
    assert fallback.is_fallback and fallback.path is None
    assert fallback.best_sellers(k=5) == shop.recommender.best_sellers(k=5)
    customer = _customer_with_purchases(shop)
    suggestions = fallback.for_customer(customer, k=5)
    with session_scope(shop.factory) as session:
        bought = purchased_product_ids(session, customer)
    assert suggestions and all(s.kind == "popular" for s in suggestions)
    assert not {s.product_id for s in suggestions} & bought
    assert len(fallback.similar_to(int(fallback.data.product_ids[0]), k=3)) == 3
    loaded = load_or_fallback(model_folder(shop.settings), shop.factory)
    assert not loaded.is_fallback


def test_default_model_beats_popularity_on_the_demo_holdout(shop: Shop) -> None:
    train, test = holdout_split(shop.recommender.data.interactions)
    rows = evaluate({"popularity": create("popularity"), "default": create()}, train, test)
    popularity, default = rows
    assert default["ndcg@10"] > 1.5 * popularity["ndcg@10"]
    assert default["recall@10"] > popularity["recall@10"]
    assert default["coverage@10"] > popularity["coverage@10"]


def test_model_files_and_loading_by_model(shop: Shop, tmp_path: Path, caplog) -> None:
    ease_path = shop.recommender.save(tmp_path)
    assert model_files(tmp_path, "ease") == [ease_path]
    assert model_files(tmp_path, "als") == []
    loaded = load_latest(tmp_path, "ease")
    assert loaded is not None and loaded.path == ease_path
    assert load_latest(tmp_path, "als") is None
    # No ALS file: the newest other model answers, and the log says so.
    with caplog.at_level("WARNING"):
        instead = load_or_fallback(tmp_path, shop.factory, "als")
    assert instead.model_name == "ease" and instead.path == ease_path
    assert "No als recommender model" in caplog.text


def test_personalises_only_with_a_model_and_a_known_history(shop: Shop, tmp_path: Path) -> None:
    customer = _customer_with_purchases(shop)
    recommender = shop.recommender
    assert recommender.personalises(customer)
    assert not recommender.personalises(10**9)
    assert recommender.personalises(10**9, bought=[int(recommender.data.product_ids[0])])
    assert not recommender.personalises(10**9, bought=[10**9])  # a product it never saw
    assert not load_or_fallback(tmp_path, shop.factory).personalises(customer)
    assert all(s.kind == "personal" for s in recommender.for_customer(customer, k=3))
