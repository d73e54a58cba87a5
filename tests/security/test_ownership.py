"""Orders, tickets and suggestions as an outsider would try them: over the REST channel, against
the running servers. Each attack fails while the owner's own path still works."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from bot.auth.keys import signing_key
from bot.auth.tokens import mint
from tests.servers import RunningBot

pytestmark = pytest.mark.integration

REFUSED_METRICS = "only share business metrics with the shop's managers"


def sender() -> str:
    return f"sec-{uuid.uuid4().hex[:12]}"


def app_db(bot: RunningBot) -> sqlite3.Connection:
    return sqlite3.connect(bot.var_dir / "supportbot.db")


def orders_in(bot: RunningBot, status: str, count: int) -> list[tuple[str, int, str, str]]:
    """(number, customer id, customer email, delivery address) of orders in `status`."""
    with app_db(bot) as db:
        return db.execute(
            "SELECT o.number, o.customer_id, c.email, o.shipping_address FROM orders o "
            "JOIN customers c ON c.id = o.customer_id WHERE o.status = ? "
            "ORDER BY o.number DESC LIMIT ?",
            (status, count),
        ).fetchall()


def status_of(bot: RunningBot, number: str) -> str:
    with app_db(bot) as db:
        return db.execute("SELECT status FROM orders WHERE number = ?", (number,)).fetchone()[0]


def token(bot: RunningBot, role: str = "customer", customer: int | None = None, **extra) -> str:
    return mint(signing_key(bot.settings), role, customer_id=customer, **extra)


def chat(bot: RunningBot, me: str, text: str, token_: str | None = None) -> str:
    metadata = {"token": token_} if token_ else None
    return "\n".join(r.get("text", "") for r in bot.say(me, text, metadata))


@pytest.fixture(scope="module")
def pending(running_bot: RunningBot) -> list[tuple[str, int, str, str]]:
    return orders_in(running_bot, "pending", 6)


def test_a_visitor_cannot_cancel_someone_elses_order_but_its_owner_can(running_bot, pending):
    number, customer, email, _ = pending[0]
    attacker = sender()
    asked = chat(running_bot, attacker, f"please cancel order {number}")
    assert "confirm it's yours" in asked and "Shall I cancel it?" not in asked
    chat(running_bot, attacker, "yes")
    wrong = chat(running_bot, attacker, "mallory@example.com")
    assert "doesn't match" in wrong
    assert status_of(running_bot, number) == "pending"

    owner = sender()
    chat(running_bot, owner, f"please cancel order {number}")
    confirm = chat(running_bot, owner, f"it's {email}")
    assert "Shall I cancel it?" in confirm
    assert email not in confirm  # compared, never echoed
    assert "is cancelled" in chat(running_bot, owner, "yes")
    assert status_of(running_bot, number) == "cancelled"


def test_a_signed_in_customer_reaches_their_order_and_no_other(running_bot, pending):
    (mine, me_id, _, _), (theirs, _, _, _) = pending[1], pending[2]
    anna = token(running_bot, customer=me_id)
    attack = sender()
    chat(running_bot, attack, "where is my order?", anna)
    refused = chat(running_bot, attack, theirs, anna)
    assert f"can't find an order with the number {theirs} on your account" in refused

    own = sender()
    picker = running_bot.say(own, "where is my order?", {"token": anna})
    payloads = [b["payload"] for r in picker for b in r.get("buttons") or []]
    assert mine in payloads  # her recent orders to pick from
    assert f"Order {mine}" in chat(running_bot, own, mine, anna)


def test_nothing_of_an_order_is_read_out_before_proof(running_bot):
    number, _, _, address = orders_in(running_bot, "shipped", 1)[0]
    with app_db(running_bot) as db:
        (tracking,) = db.execute(
            "SELECT tracking_number FROM orders WHERE number = ?", (number,)
        ).fetchone()
    me = sender()
    replies = chat(running_bot, me, f"where is order {number}?")
    assert tracking not in replies and "EUR" not in replies
    postcode = address.split(",")[-2].split()[-2:]  # "Manchester M14 5AB" -> M14 5AB
    shown = chat(running_bot, me, " ".join(postcode))
    assert tracking in shown


def test_an_address_cannot_be_redirected_by_a_visitor(running_bot, pending):
    number, _, _, address = pending[3]
    me = sender()
    chat(running_bot, me, f"I need to change the delivery address of order {number}")
    chat(running_bot, me, "1 Evil Lane, London E1 6AN")
    with app_db(running_bot) as db:
        (now,) = db.execute(
            "SELECT shipping_address FROM orders WHERE number = ?", (number,)
        ).fetchone()
    assert now == address


def test_guesses_from_new_conversations_do_not_start_the_count_afresh(running_bot, pending):
    number, _, email, _ = pending[4]
    for guess in range(running_bot.settings.max_order_proof_failures_per_order):
        me = sender()
        chat(running_bot, me, f"cancel order {number}")
        chat(running_bot, me, f"guess{guess}@example.com")
    late = sender()
    chat(running_bot, late, f"cancel order {number}")
    locked = chat(running_bot, late, email)
    assert "can't check any more details" in locked
    assert "Shall I cancel it?" not in locked
    assert status_of(running_bot, number) == "pending"


def test_a_typed_email_is_a_hint_not_an_identity(running_bot, pending):
    _, customer, email, _ = pending[5]
    me = sender()
    chat(running_bot, me, f"my email is {email}")
    suggestions = running_bot.say(me, "what would you recommend for me?")
    reasons = [
        card.get("reason", "")
        for reply in suggestions
        for card in (reply.get("custom") or {}).get("products", [])
    ]
    assert not any(reason.startswith("because you bought") for reason in reasons)
    assert "ticket #" in chat(running_bot, me, "talk to a person")
    with app_db(running_bot) as db:
        (filed_under,) = db.execute(
            "SELECT customer_id FROM tickets WHERE conversation_id = ?", (me,)
        ).fetchone()
    assert filed_under is None

    with app_db(running_bot) as db:
        linked = db.execute(
            "SELECT customer_id FROM recommendations WHERE conversation_id = ?", (me,)
        ).fetchall()
    assert (customer,) not in linked  # a visitor is asked for a category instead

    # The same customer, signed in: the suggestions are theirs (personal ones where a
    # recommender model has been trained; the test servers have none, so best sellers).
    own = sender()
    running_bot.say(
        own, "what would you recommend for me?", {"token": token(running_bot, customer=customer)}
    )
    with app_db(running_bot) as db:
        linked = db.execute(
            "SELECT customer_id FROM recommendations WHERE conversation_id = ?", (own,)
        ).fetchall()
    assert linked and all(row == (customer,) for row in linked)


def test_a_role_holds_for_the_message_that_carries_it(running_bot):
    manager = token(running_bot, "manager", name="Maria")
    me = sender()
    assert "NPS, October 2026" in chat(
        running_bot, me, "what was our NPS in October 2026?", manager
    )
    later = chat(running_bot, me, "what was our NPS in October 2026?")
    assert REFUSED_METRICS in later and "95% CI" not in later


@pytest.mark.parametrize(
    "kind",
    ["forged", "expired", "api audience", "customer", "missing"],
)
def test_a_bad_or_missing_token_gets_no_metrics(running_bot, kind):
    key = signing_key(running_bot.settings)
    past = datetime.now(timezone.utc) - timedelta(days=60)
    sent = {
        "forged": mint("not-the-shop-key" * 4, "manager"),
        "expired": mint(key, "manager", now=past),
        "api audience": mint(key, "manager", audience="api"),
        "customer": mint(key, "customer", customer_id=1),
        "missing": None,
    }[kind]
    answer = chat(running_bot, sender(), "what was our NPS in October 2026?", sent)
    assert REFUSED_METRICS in answer and "95% CI" not in answer
