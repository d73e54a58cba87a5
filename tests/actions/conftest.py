"""Fixtures for action tests: real services on a temporary database with a tiny shop."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.auth.tokens import IDENTITY_KEY, Identity, channel_metadata, seal
from bot.bootstrap import Services, bootstrap
from bot.experiments.assignment import assign, unit_of
from bot.settings import PROJECT_ROOT, Settings
from bot.storage.models import Customer, Order, OrderItem, Product
from bot.storage.session import session_scope

NOW = datetime(2026, 11, 1, 12, 0, 0)


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The real domain.yml."""
    with (PROJECT_ROOT / "domain.yml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _order(number: str, status: str, days_ago: int, customer: Customer, **extra: Any) -> Order:
    placed = NOW - timedelta(days=days_ago)
    return Order(
        number=number,
        customer=customer,
        status=status,
        placed_at=placed,
        shipping_address="Hauptstrasse 1, 10115 Berlin",
        payment_method="card",
        total=Decimal("89.00"),
        **extra,
    )


@pytest.fixture
def shop(session_factory: sessionmaker) -> dict[str, str]:
    """One customer with an order in every state; returns order numbers by state."""
    with session_scope(session_factory) as session:
        customer = Customer(
            email="anna.schmidt@example.com",
            name="Anna Schmidt",
            city="Berlin",
            created_at=NOW - timedelta(days=400),
        )
        shoes = Product(
            sku="FW-001-BLU",
            name="Trailrunner Running Shoes - Blue",
            category="Footwear",
            price=Decimal("89.00"),
            description="Light trail shoes with a grippy outsole.",
            stock=12,
        )
        mat = Product(
            sku="SO-001-GRN",
            name="Zen Yoga Mat - Green",
            category="Sports & Outdoors",
            price=Decimal("39.00"),
            description="6 mm non-slip yoga mat.",
            stock=0,
        )
        mat_blue = Product(
            sku="SO-001-BLU",
            name="Zen Yoga Mat - Blue",
            category="Sports & Outdoors",
            price=Decimal("39.00"),
            description="6 mm non-slip yoga mat.",
            stock=3,
        )
        session.add_all([customer, shoes, mat, mat_blue])
        orders = {
            "pending": _order("100001", "pending", 0, customer),
            "processing": _order(
                "100002", "processing", 1, customer, expected_delivery=date(2026, 11, 5)
            ),
            "shipped": _order(
                "100003",
                "shipped",
                3,
                customer,
                shipped_at=NOW - timedelta(days=2),
                carrier="DHL",
                tracking_number="JD0001",
                expected_delivery=date(2026, 11, 2),
            ),
            "delivered": _order(
                "100004",
                "delivered",
                12,
                customer,
                shipped_at=NOW - timedelta(days=11),
                delivered_at=NOW - timedelta(days=9),
                carrier="UPS",
                tracking_number="1Z001",
                expected_delivery=date(2026, 10, 23),
            ),
            "old_delivered": _order(
                "100005",
                "delivered",
                90,
                customer,
                shipped_at=NOW - timedelta(days=89),
                delivered_at=NOW - timedelta(days=87),
                carrier="DPD",
                tracking_number="DPD01",
                expected_delivery=date(2026, 8, 6),
            ),
            "cancelled": _order(
                "100006", "cancelled", 20, customer, cancelled_at=NOW - timedelta(days=20)
            ),
        }
        for order in orders.values():
            session.add(order)
            session.add(
                OrderItem(order=order, product=shoes, quantity=1, unit_price=Decimal("89.00"))
            )
        return {state: order.number for state, order in orders.items()}


@pytest.fixture
def services(settings: Settings, session_factory: sessionmaker) -> Iterator[Services]:
    built = bootstrap(settings, now=lambda: NOW)
    yield built
    built.close()


def make_tracker(
    text: str,
    intent: str,
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    history: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Tracker:
    """A tracker whose latest message is `text`, classified as `intent`, sent with `metadata`."""
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
        "metadata": dict(metadata or {}),
    }
    events = [
        *(history or []),
        {
            "event": "user",
            "text": text,
            "parse_data": message,
            "metadata": dict(metadata or {}),
            "timestamp": 0,
        },
    ]
    return Tracker(
        sender_id=CONVERSATION,
        slots=dict(slots or {}),
        latest_message=message,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


CONVERSATION = "test-conversation"


def signed_in(
    services: Services, customer_id: int | None, role: str = "customer"
) -> dict[str, Any]:
    """The metadata a channel gives a message whose token proved this identity."""
    sealed = seal(services.signing_key(), CONVERSATION, Identity(role, customer_id))
    return {IDENTITY_KEY: sealed, "client": "203.0.113.7"}


def visitor(client: str = "203.0.113.9") -> dict[str, Any]:
    """The metadata of an anonymous visitor's message."""
    return {"client": client}


def send_token(services: Services, tracker: Tracker, token: str | None) -> Tracker:
    """The tracker as if its latest message came through a channel with this token."""
    metadata = channel_metadata(services.signing_key(), tracker.sender_id, token)
    tracker.events[-1]["metadata"] = metadata
    tracker.latest_message["metadata"] = metadata
    return tracker


@pytest.fixture
def anna(services: Services, shop: dict[str, str]) -> dict[str, Any]:
    """Metadata of a message from the shop's customer, signed in."""
    with session_scope(services.session_factory) as session:
        customer = session.execute(
            select(Customer).where(Customer.email == "anna.schmidt@example.com")
        ).scalar_one()
        return signed_in(services, customer.id)


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def texts(dispatcher: CollectingDispatcher) -> list[str]:
    return [m.get("text") or m.get("response") or "" for m in dispatcher.messages]


def project_path(*parts: str) -> Path:
    return PROJECT_ROOT.joinpath(*parts)


@pytest.fixture
def experimenting(settings: Settings, session_factory: sessionmaker) -> Iterator[Services]:
    """Services with the declared experiments of data/experiments.yml in force."""
    built = bootstrap(
        replace(settings, experiments_file=PROJECT_ROOT / "data" / "experiments.yml"),
        now=lambda: NOW,
    )
    yield built
    built.close()


def conversation_in(services: Services, experiment: str, variant: str) -> str:
    """A conversation id (of an anonymous visitor) that `experiment` puts in `variant`."""
    declared = services.experiments().get(experiment)
    assert declared is not None
    return next(
        f"chat-{i}"
        for i in range(1_000)
        if assign(declared, unit_of(None, f"chat-{i}")).variant == variant
    )
