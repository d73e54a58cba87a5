"""Erasing a customer's data: from the library, the manager's button and `supportbot forget`."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import sessionmaker

from bot import cli
from bot.settings import Settings
from bot.storage.models import (
    AuditLog,
    Conversation,
    Customer,
    Order,
    OrderEvent,
    Product,
    Recommendation,
    ReturnRequest,
    SurveyResponse,
    Ticket,
)
from bot.storage.session import create_db_engine, session_scope
from bot.transcripts.erasure import ERASED_NAME, erase, erased_email
from tests.web.conftest import NOW
from tests.web.staff_support import (
    T0,
    chat_events,
    signed_in,
    store_chat,
    summarize_into_app_db,
)

ERASED = 7
KEPT = 8


def _count(session, model, **where) -> int:  # type: ignore[no-untyped-def]
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return int(session.execute(query).scalar_one())


def _tracker_senders(settings: Settings) -> dict[str, int]:
    engine = create_db_engine(settings.tracker_db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT sender_id, count(*) FROM events GROUP BY sender_id")
            ).all()
    finally:
        engine.dispose()
    return {sender: n for sender, n in rows}


@pytest.fixture
async def two_customers(settings: Settings, session_factory: sessionmaker) -> None:
    """Customer 7 (to erase) and customer 8 (to keep), each with chats, surveys and orders.

    Customer 7's third chat ("c7-ticket-only") is anonymous in its summary: only its
    ticket knows who wrote it.
    """
    with session_scope(session_factory) as session:
        session.add(Product(id=1, sku="P1", name="Kettle", category="home", price=30, stock=5))
        session.flush()
        for cid, name in ((ERASED, "Jane Doe"), (KEPT, "Max Mustermann")):
            session.add(
                Customer(
                    id=cid, email=f"{cid}@example.com", name=name, city="Berlin", created_at=NOW
                )
            )
            session.add(
                Order(
                    id=cid,
                    number=f"10{cid}000",
                    customer_id=cid,
                    status="shipped",
                    placed_at=NOW,
                    tracking_number=f"TRK{cid}",
                    carrier="DHL",
                    shipping_address=f"{name}, Hauptstr. 1, 10115 Berlin",
                    payment_method="card",
                    total=Decimal("59.90"),
                )
            )
            session.flush()  # no relationship tells the unit of work the order comes first
            session.add(
                OrderEvent(
                    order_id=cid,
                    kind="address_changed",
                    detail="from: Hauptstr. 1\nto: Nebenstr. 2",
                    conversation_id=f"c{cid}-a",
                    created_at=NOW,
                )
            )
            session.add(
                ReturnRequest(
                    number=f"R{cid}",
                    order_id=cid,
                    status="open",
                    reason="my neighbour Bob signed for it",
                    conversation_id=f"c{cid}-a",
                    created_at=NOW,
                )
            )
    chats = [
        ("c7-a", ERASED, ERASED),
        ("c7-b", ERASED, ERASED),
        ("c7-ticket-only", None, ERASED),
        ("c8-a", KEPT, KEPT),
    ]
    for n, (sender, summary_customer, _) in enumerate(chats):
        await store_chat(settings.tracker_db_url, sender, chat_events(T0 + 1000 * n))
        summarize_into_app_db(settings.tracker_db_url, session_factory, sender, summary_customer)
    with session_scope(session_factory) as session:
        for sender, _, owner in chats:
            key = session.execute(
                select(Conversation.session_key).where(Conversation.conversation_id == sender)
            ).scalar_one()
            survey = SurveyResponse(
                conversation_id=sender,
                session_key=key,
                customer_id=owner if sender != "c7-ticket-only" else None,
                nps=2,
                csat=1,
                status="completed",
                created_at=NOW,
                updated_at=NOW,
            )
            session.add(survey)
            session.flush()
            session.add(
                Ticket(
                    kind="followup",
                    status="open",
                    conversation_id=sender,
                    customer_id=owner,
                    reason="unhappy",
                    created_at=NOW,
                    survey_response_id=survey.id,
                )
            )
            session.add(
                Recommendation(
                    conversation_id=sender,
                    customer_id=owner if sender != "c7-ticket-only" else None,
                    product_id=1,
                    kind="popular",
                    model="test",
                    rank=1,
                    shown_at=NOW,
                )
            )


def _erase(settings: Settings, session_factory: sessionmaker, customer_id: int):  # type: ignore[no-untyped-def]
    engine = create_db_engine(settings.tracker_db_url)
    try:
        with session_scope(session_factory) as session:
            return erase(session, engine, customer_id=customer_id)
    finally:
        engine.dispose()


@pytest.mark.usefixtures("two_customers")
def test_erasure_deletes_the_conversations_and_anonymises_the_records(
    settings: Settings, session_factory: sessionmaker
):
    before = _tracker_senders(settings)
    assert set(before) == {"c7-a", "c7-b", "c7-ticket-only", "c8-a"}
    result = _erase(settings, session_factory, ERASED)

    assert result.conversation_ids == ["c7-a", "c7-b", "c7-ticket-only"]
    assert result.tracker_events == before["c7-a"] + before["c7-b"] + before["c7-ticket-only"]
    assert (result.conversations, result.survey_responses, result.tickets) == (3, 3, 3)
    assert result.recommendations == 3
    assert (result.orders_anonymised, result.returns_anonymised) == (1, 1)
    assert result.order_events_cleared == 1 and result.customer_anonymised

    # The transcripts are gone from the tracker store; the other customer's stays whole.
    assert _tracker_senders(settings) == {"c8-a": before["c8-a"]}
    with session_scope(session_factory) as session:
        for model in (Conversation, SurveyResponse, Ticket, Recommendation):
            for sender in result.conversation_ids:
                assert _count(session, model, conversation_id=sender) == 0, model
            assert _count(session, model, conversation_id="c8-a") == 1, model
        customer = session.get(Customer, ERASED)
        assert customer is not None
        assert (customer.name, customer.email, customer.city) == (
            ERASED_NAME,
            erased_email(ERASED),
            "",
        )
        order = session.get(Order, ERASED)
        assert order is not None
        # An accounting record: the money and the dates stay; the address does not.
        assert (order.number, order.total, order.status, order.placed_at) == (
            "107000",
            Decimal("59.90"),
            "shipped",
            NOW,
        )
        assert (order.shipping_address, order.tracking_number) == ("", None)
        event = session.execute(
            select(OrderEvent).where(OrderEvent.order_id == ERASED)
        ).scalar_one()
        assert (event.detail, event.conversation_id) == ("", None)
        returned = session.execute(
            select(ReturnRequest).where(ReturnRequest.order_id == ERASED)
        ).scalar_one()
        assert (returned.reason, returned.conversation_id, returned.status) == ("", None, "open")
        # Customer 8 is untouched.
        kept = session.get(Customer, KEPT)
        assert kept is not None and kept.name == "Max Mustermann"
        kept_order = session.get(Order, KEPT)
        assert kept_order is not None and kept_order.shipping_address.startswith("Max")


@pytest.mark.usefixtures("two_customers")
def test_erasing_twice_finds_nothing_more(settings: Settings, session_factory: sessionmaker):
    _erase(settings, session_factory, ERASED)
    again = _erase(settings, session_factory, ERASED)
    assert again.conversation_ids == []
    assert (again.tracker_events, again.conversations, again.tickets) == (0, 0, 0)


def test_erasure_before_any_chat_was_stored(settings: Settings, session_factory: sessionmaker):
    """No `events` table in the tracker store yet: nothing to delete there, no error."""
    with session_scope(session_factory) as session:
        session.add(Customer(id=1, email="a@example.com", name="A", city="", created_at=NOW))
    result = _erase(settings, session_factory, 1)
    assert result.tracker_events == 0 and result.customer_anonymised


@pytest.mark.usefixtures("two_customers")
async def test_a_manager_erases_from_the_transcript_view(
    client: TestClient, settings: Settings, session_factory: sessionmaker
):
    token = await signed_in(client, session_factory, "manager")
    page = await (await client.get("/staff/conversations/c7-a")).text()
    assert "Erase this customer&#39;s data" in page

    unconfirmed = await client.post(
        "/staff/conversations/c7-a/erase", data={"csrf_token": token}, allow_redirects=False
    )
    assert unconfirmed.status == 303
    assert "c7-a" in _tracker_senders(settings)

    response = await client.post(
        "/staff/conversations/c7-a/erase", data={"csrf_token": token, "confirm": "yes"}
    )
    assert response.status == 200
    assert "Customer #7's data is erased" in await response.text()
    assert set(_tracker_senders(settings)) == {"c8-a"}
    assert (await client.get("/staff/conversations/c7-a")).status == 404
    with session_scope(session_factory) as session:
        row = session.execute(
            select(AuditLog).where(AuditLog.action == "erased_customer_data")
        ).scalar_one()
    assert (row.user_name, row.target) == ("manager-user", "customer:7")
    detail = json.loads(row.detail)
    assert detail["conversations_erased"] == 3 and detail["customer_anonymised"] is True
    assert "Jane" not in row.detail and "example.com" not in row.detail


async def test_a_manager_erases_an_anonymous_conversation(
    client: TestClient, settings: Settings, session_factory: sessionmaker
):
    await store_chat(settings.tracker_db_url, "anon", chat_events())
    await store_chat(settings.tracker_db_url, "other", chat_events())
    summarize_into_app_db(settings.tracker_db_url, session_factory, "anon", None)
    token = await signed_in(client, session_factory, "manager")
    page = await (await client.get("/staff/conversations/anon")).text()
    assert "Erase this conversation" in page
    response = await client.post(
        "/staff/conversations/anon/erase", data={"csrf_token": token, "confirm": "yes"}
    )
    assert response.status == 200
    assert set(_tracker_senders(settings)) == {"other"}
    with session_scope(session_factory) as session:
        assert _count(session, Conversation) == 0


async def test_staff_do_not_see_the_erase_button(
    client: TestClient, settings: Settings, session_factory: sessionmaker
):
    await store_chat(settings.tracker_db_url, "anon", chat_events())
    await signed_in(client, session_factory, "staff")
    page = await (await client.get("/staff/conversations/anon")).text()
    assert "/erase" not in page


@pytest.mark.usefixtures("two_customers")
def test_supportbot_forget(
    settings: Settings,
    session_factory: sessionmaker,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    monkeypatch.setenv("SUPPORTBOT_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRACKER_DB_URL", settings.tracker_db_url)
    assert cli.main(["forget", "--customer", "7", "--yes", "--json"]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert counts["conversations_erased"] == 3 and counts["tickets"] == 3
    assert set(_tracker_senders(settings)) == {"c8-a"}
    with session_scope(session_factory) as session:
        row = session.execute(select(AuditLog)).scalar_one()
    assert row.action == "erased_customer_data" and row.user_name.startswith("cli:")
    assert cli.main(["forget", "--customer", "999", "--yes"]) == 1
    assert "no customer #999" in capsys.readouterr().err
