"""The demo seed: what a user of the demo shop sees, and what a recommender can learn from it."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import sessionmaker

from bot.demo.seed import (
    HISTORY_DAYS,
    META_KEY,
    SeedSummary,
    build_demo_data,
    sample_orders,
    seed_demo,
)
from bot.settings import Settings
from bot.storage.migrate import upgrade
from bot.storage.models import (
    ORDER_STATUSES,
    Customer,
    Meta,
    Order,
    OrderItem,
    Product,
    Refund,
    ReturnRequest,
)
from bot.storage.session import create_db_engine, make_session_factory, session_scope

TODAY = date(2026, 11, 1)
NOW = datetime(2026, 11, 1)


class Seeded:
    """A seeded database and the rows the tests look at, loaded once."""

    def __init__(self, settings: Settings, factory: sessionmaker, summary: SeedSummary) -> None:
        self.settings = settings
        self.factory = factory
        self.summary = summary
        self.products = _all(factory, select(Product).order_by(Product.id))
        self.customers = _all(factory, select(Customer).order_by(Customer.id))
        self.orders = _all(factory, select(Order).order_by(Order.id))
        self.items = _all(factory, select(OrderItem).order_by(OrderItem.id))
        self.returns = _all(factory, select(ReturnRequest).order_by(ReturnRequest.id))
        self.refunds = _all(factory, select(Refund).order_by(Refund.id))


def _all(factory: sessionmaker, query: Any) -> list[Any]:
    with session_scope(factory) as session:
        return list(session.execute(query).scalars())


def _migrated(var_dir: Path) -> tuple[Settings, sessionmaker, Any]:
    settings = Settings(var_dir=var_dir, demo_today=TODAY.isoformat())
    upgrade(settings.database_url)
    engine = create_db_engine(settings.database_url)
    return settings, make_session_factory(engine), engine


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    settings, factory, engine = _migrated(tmp_path_factory.mktemp("seed"))
    yield Seeded(settings, factory, seed_demo(factory, settings))
    engine.dispose()


def _items_by_order(seeded: Seeded) -> dict[int, list[OrderItem]]:
    items: dict[int, list[OrderItem]] = defaultdict(list)
    for item in seeded.items:
        items[item.order_id].append(item)
    return items


def test_seeds_the_whole_shop(seeded: Seeded) -> None:
    summary = seeded.summary
    assert not summary.already_seeded
    assert summary.products == len(seeded.products) >= 200
    assert len({p.category for p in seeded.products}) >= 8
    assert summary.customers == len(seeded.customers) == 1000
    assert summary.orders == len(seeded.orders) == 10_000
    assert summary.order_items == len(seeded.items)
    assert summary.returns == len(seeded.returns)
    assert summary.refunds == len(seeded.refunds)
    items = _items_by_order(seeded)
    assert all(1 <= len(items[order.id]) <= 4 for order in seeded.orders)
    quantities = Counter(item.quantity for item in seeded.items)
    assert quantities[1] > 0.75 * len(seeded.items)


def test_products_look_like_a_catalog(seeded: Seeded) -> None:
    skus = [p.sku for p in seeded.products]
    assert len(set(skus)) == len(skus)
    assert all(re.fullmatch(r"[A-Z]{2}-\d{3}-[A-Z0-9]{3}", sku) for sku in skus)
    assert "FW-001-BLK" in skus
    assert all(" - " in p.name and p.description for p in seeded.products)
    cent = Decimal("0.01")
    assert all(p.price > 0 and p.price == p.price.quantize(cent) for p in seeded.products)
    # Variants of one line cost about the same, not wildly different amounts.
    by_line: dict[str, list[Decimal]] = defaultdict(list)
    for product in seeded.products:
        by_line[product.name.rsplit(" - ", 1)[0]].append(product.price)
    assert all(max(prices) <= 3 * min(prices) for prices in by_line.values())


def test_some_products_are_out_of_stock(seeded: Seeded) -> None:
    stock = [p.stock for p in seeded.products]
    assert all(0 <= units <= 120 for units in stock)
    assert 0.04 <= stock.count(0) / len(stock) <= 0.12
    assert len(set(stock)) > 50


def test_customers_are_varied_and_reachable_only_at_example_com(seeded: Seeded) -> None:
    emails = [c.email for c in seeded.customers]
    assert len(set(emails)) == len(emails)
    assert all(re.fullmatch(r"[a-z0-9.]+@example\.com", email) for email in emails)
    assert len({c.name.split()[0] for c in seeded.customers}) >= 40
    assert len({c.name.split()[-1] for c in seeded.customers}) >= 40
    assert len({c.city for c in seeded.customers}) >= 10
    created = sorted(c.created_at for c in seeded.customers)
    assert created[0] >= NOW - timedelta(days=HISTORY_DAYS)
    assert created[-1] - created[0] > timedelta(days=365)


def test_customer_activity_is_skewed(seeded: Seeded) -> None:
    per_customer = Counter(order.customer_id for order in seeded.orders)
    assert len(per_customer) == len(seeded.customers)
    counts = np.array(list(per_customer.values()))
    assert 0.3 <= np.mean(counts == 1) <= 0.4
    assert np.sum(counts >= 30) >= 20  # a few regulars


def test_every_customer_signed_up_before_their_first_order(seeded: Seeded) -> None:
    first_order: dict[int, datetime] = {}
    for order in seeded.orders:
        first_order.setdefault(order.customer_id, order.placed_at)
    assert all(c.created_at <= first_order[c.id] for c in seeded.customers)


def test_orders_span_two_years_and_are_numbered_in_time_order(seeded: Seeded) -> None:
    placed = [order.placed_at for order in seeded.orders]
    numbers = [order.number for order in seeded.orders]
    assert numbers == [str(n) for n in range(100_000, 110_000)]
    assert placed == sorted(placed)
    assert placed[0] >= NOW - timedelta(days=HISTORY_DAYS)
    assert placed[-1] < NOW
    assert placed[-1] - placed[0] > timedelta(days=700)


def test_totals_match_items(seeded: Seeded) -> None:
    items = _items_by_order(seeded)
    prices = {p.id: p.price for p in seeded.products}
    for order in seeded.orders:
        expected = sum((i.quantity * i.unit_price for i in items[order.id]), Decimal(0))
        assert order.total == expected, order.number
        assert all(i.unit_price == prices[i.product_id] for i in items[order.id])


def test_order_fields_are_plausible(seeded: Seeded) -> None:
    cities = {c.id: c.city for c in seeded.customers}
    for order in seeded.orders:
        assert order.payment_method in {"card", "paypal", "klarna", "apple_pay"}
        assert re.fullmatch(
            r"\d+ [A-Za-z' ]+, [A-Za-z ]+ [A-Z]{1,2}\d+ \d[A-Z]{2}, United Kingdom",
            order.shipping_address,
        )
        assert f", {cities[order.customer_id]} " in order.shipping_address


def test_statuses_are_consistent_with_dates(seeded: Seeded) -> None:
    for order in seeded.orders:
        age = NOW - order.placed_at
        shipped = order.status in {"shipped", "delivered", "returned"}
        assert (order.shipped_at is not None) == shipped, order.number
        assert (order.carrier is not None and order.tracking_number is not None) == shipped
        assert (order.delivered_at is not None) == (order.status in {"delivered", "returned"})
        assert (order.cancelled_at is not None) == (order.status == "cancelled")
        if shipped:
            assert order.carrier in {"DHL", "UPS", "DPD", "Royal Mail"}
            assert order.placed_at < order.shipped_at < NOW
            assert order.expected_delivery is not None
        if order.delivered_at is not None:
            assert order.shipped_at < order.delivered_at < NOW
        if order.status == "cancelled":
            assert order.placed_at < order.cancelled_at < NOW
        if order.status == "pending":
            assert age < timedelta(days=1)
        elif order.status == "processing":
            assert timedelta(days=1) <= age < timedelta(days=2)
        elif order.status == "shipped":
            assert timedelta(days=2) <= age < timedelta(days=6)
            assert order.expected_delivery >= TODAY
        elif order.status in {"delivered", "returned"}:
            assert age >= timedelta(days=6)
    statuses = Counter(order.status for order in seeded.orders)
    assert set(statuses) == set(ORDER_STATUSES)
    assert 0.02 <= statuses["cancelled"] / len(seeded.orders) <= 0.06
    returned_share = statuses["returned"] / (statuses["returned"] + statuses["delivered"])
    assert 0.03 <= returned_share <= 0.07


def test_the_last_week_has_orders_in_every_state(seeded: Seeded) -> None:
    week = Counter(o.status for o in seeded.orders if o.placed_at >= NOW - timedelta(days=7))
    assert week["pending"] > 0 and week["processing"] > 0
    assert week["pending"] + week["processing"] >= 40
    assert week["shipped"] >= 60
    assert week["delivered"] > 0


def test_returned_orders_have_returns_and_refunds(seeded: Seeded) -> None:
    orders = {order.id: order for order in seeded.orders}
    returns_by_order = {r.order_id: r for r in seeded.returns}
    refunds_by_return = {r.return_id: r for r in seeded.refunds}
    assert len(returns_by_order) == len(seeded.returns)
    assert all(re.fullmatch(r"R\d{6}", r.number) for r in seeded.returns)
    for order in orders.values():
        if order.status == "returned":
            assert returns_by_order[order.id].status in {"received", "refunded"}
    for request in seeded.returns:
        order = orders[request.order_id]
        assert order.delivered_at < request.created_at < NOW
        assert request.reason
        refund = refunds_by_return.get(request.id)
        if request.status == "open":
            assert order.status == "delivered" and refund is None
            continue
        assert order.status == "returned" and refund is not None
        assert refund.order_id == order.id and refund.amount == order.total
        assert request.created_at <= refund.created_at < NOW
        if request.status == "refunded":
            assert refund.status == "issued" and refund.created_at < refund.issued_at < NOW
        else:
            assert refund.status == "pending" and refund.issued_at is None
    delivered = sum(o.status in {"delivered", "returned"} for o in orders.values())
    open_returns = sum(r.status == "open" for r in seeded.returns)
    assert 0.005 * delivered <= open_returns <= 0.02 * delivered


def _category_shares(seeded: Seeded) -> tuple[np.ndarray, np.ndarray]:
    """Category shares of each regular customer's earlier and later half of their orders."""
    categories = sorted({p.category for p in seeded.products})
    category_of = {p.id: categories.index(p.category) for p in seeded.products}
    items = _items_by_order(seeded)
    orders_of: dict[int, list[int]] = defaultdict(list)
    for order in seeded.orders:  # chronological
        orders_of[order.customer_id].append(order.id)
    earlier, later = [], []
    for order_ids in orders_of.values():
        if len(order_ids) < 6:
            continue
        half = len(order_ids) // 2
        for part, shares in ((order_ids[:half], earlier), (order_ids[half:], later)):
            picks = [category_of[i.product_id] for o in part for i in items[o]]
            counts = np.bincount(picks, minlength=len(categories))
            shares.append(counts / counts.sum())
    return np.array(earlier), np.array(later)


def test_customer_taste_is_learnable(seeded: Seeded) -> None:
    earlier, later = _category_shares(seeded)
    assert len(earlier) >= 200

    def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)

    own = cosine(earlier, later).mean()
    # Chance level: compare each customer's past with somebody else's future.
    shifts = (1, 7, 31)
    others = np.mean([cosine(earlier, np.roll(later, k, axis=0)).mean() for k in shifts])
    assert own > others + 0.3
    same_top = np.mean(earlier.argmax(axis=1) == later.argmax(axis=1))
    chance_top = np.mean(earlier.argmax(axis=1)[:, None] == later.argmax(axis=1)[None, :])
    assert same_top > 3 * chance_top


def test_consumables_are_bought_again(seeded: Seeded) -> None:
    category = {p.id: p.category for p in seeded.products}
    customer_of = {o.id: o.customer_id for o in seeded.orders}
    orders_per_pair: dict[tuple[int, int], set[int]] = defaultdict(set)
    for item in seeded.items:
        orders_per_pair[customer_of[item.order_id], item.product_id].add(item.order_id)
    repeats = Counter(category[p] for (_, p), orders in orders_per_pair.items() if len(orders) > 1)
    pairs = Counter(category[p] for _, p in orders_per_pair)
    assert repeats["Beauty"] / pairs["Beauty"] > 3 * repeats["Electronics"] / pairs["Electronics"]


def test_sample_orders_lists_newest_orders_per_status(seeded: Seeded) -> None:
    with session_scope(seeded.factory) as session:
        samples = sample_orders(session, per_status=3)
        assert set(samples) == set(ORDER_STATUSES)
        for status, numbers in samples.items():
            assert len(numbers) == 3
            rows = session.execute(
                select(Order.status, Order.placed_at).where(Order.number.in_(numbers))
            ).all()
            assert {row.status for row in rows} == {status}
            newest = session.execute(
                select(Order.number)
                .where(Order.status == status)
                .order_by(Order.placed_at.desc())
                .limit(1)
            ).scalar_one()
            assert numbers[0] == newest
            placed = {
                n: p
                for n, p in session.execute(
                    select(Order.number, Order.placed_at).where(Order.number.in_(numbers))
                )
            }
            assert [placed[n] for n in numbers] == sorted(placed.values(), reverse=True)


def test_seeding_twice_inserts_nothing(seeded: Seeded) -> None:
    again = seed_demo(seeded.factory, seeded.settings)
    first = seeded.summary
    assert again.already_seeded
    assert (again.products, again.customers, again.orders) == (
        first.products,
        first.customers,
        first.orders,
    )
    assert (again.order_items, again.returns, again.refunds) == (
        first.order_items,
        first.returns,
        first.refunds,
    )
    with session_scope(seeded.factory) as session:
        marker = session.execute(select(Meta.value).where(Meta.key == META_KEY)).scalar_one()
    assert marker == f"{seeded.settings.demo_seed}|2026-11-01"


def _snapshot(factory: sessionmaker) -> dict[str, list[Row]]:
    with session_scope(factory) as session:
        return {
            "customers": session.execute(
                select(
                    Customer.id, Customer.email, Customer.name, Customer.city, Customer.created_at
                ).order_by(Customer.id)
            ).all(),
            "orders": session.execute(
                select(
                    Order.number,
                    Customer.email,
                    Order.placed_at,
                    Order.status,
                    Order.total,
                    Order.tracking_number,
                )
                .join(Customer, Order.customer_id == Customer.id)
                .order_by(Order.number)
            ).all(),
            "items": session.execute(
                select(Order.number, Product.sku, OrderItem.quantity, OrderItem.unit_price)
                .join(Order, OrderItem.order_id == Order.id)
                .join(Product, OrderItem.product_id == Product.id)
                .order_by(OrderItem.id)
            ).all(),
            "returns": session.execute(
                select(
                    ReturnRequest.number, ReturnRequest.status, ReturnRequest.created_at
                ).order_by(ReturnRequest.number)
            ).all(),
        }


def test_same_seed_and_day_give_the_same_shop(seeded: Seeded, tmp_path: Path) -> None:
    settings, factory, engine = _migrated(tmp_path / "second")
    stages: list[tuple[str, int, int]] = []
    try:
        summary = seed_demo(factory, settings, progress=lambda *call: stages.append(call))
        assert summary == seeded.summary
        assert _snapshot(factory) == _snapshot(seeded.factory)
    finally:
        engine.dispose()
    assert ("orders", 10_000, 10_000) in stages
    assert {stage for stage, _, _ in stages} >= {"products", "customers", "orders", "order_items"}
    assert all(0 < done <= total for _, done, total in stages)


def test_another_seed_gives_another_shop(seeded: Seeded) -> None:
    other = build_demo_data(seeded.settings.demo_seed + 1, TODAY)
    assert len(other.orders) == 10_000
    assert [c["email"] for c in other.customers] != [c.email for c in seeded.customers]
    assert [o["total"] for o in other.orders] != [o.total for o in seeded.orders]
    # The catalog stays the same; only stock and history change.
    assert [p["sku"] for p in other.products] == [p.sku for p in seeded.products]


def test_a_marked_database_is_left_alone(settings: Settings, session_factory: sessionmaker) -> None:
    with session_scope(session_factory) as session:
        session.execute(insert(Meta.__table__), [{"key": META_KEY, "value": "1|2026-01-01"}])
    summary = seed_demo(session_factory, settings)
    assert summary == SeedSummary(0, 0, 0, 0, 0, 0, already_seeded=True)


def test_refuses_to_mix_into_foreign_shop_data(
    settings: Settings, session_factory: sessionmaker
) -> None:
    with session_scope(session_factory) as session:
        session.execute(
            insert(Customer.__table__),
            [{"email": "someone@example.com", "name": "Some One", "city": "", "created_at": NOW}],
        )
    with pytest.raises(RuntimeError, match="already holds shop data"):
        seed_demo(session_factory, settings)
    with session_scope(session_factory) as session:
        assert session.execute(select(Meta.key)).first() is None
