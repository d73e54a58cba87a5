"""Whole conversations over the real REST channel, with the real Rasa and action servers."""

from __future__ import annotations

import sqlite3
import uuid

import pytest

from bot.experiments.assignment import assign, unit_of
from bot.experiments.declarations import load_experiments
from bot.settings import PROJECT_ROOT
from tests.integration.conftest import RunningBot

pytestmark = pytest.mark.integration


def sender() -> str:
    return f"it-{uuid.uuid4().hex[:10]}"


def app_db(bot: RunningBot) -> sqlite3.Connection:
    return sqlite3.connect(bot.var_dir / "supportbot.db")


@pytest.fixture(scope="module")
def orders(running_bot: RunningBot) -> dict[str, list[str]]:
    return running_bot.cli("demo-orders", "--per-status", "3")


def postcode_of(bot: RunningBot, number: str) -> str:
    with app_db(bot) as db:
        (address,) = db.execute(
            "SELECT shipping_address FROM orders WHERE number = ?", (number,)
        ).fetchone()
    return " ".join(address.split(",")[-2].split()[-2:])  # "... Leeds LS1 4AB, United Kingdom"


def test_order_status_asks_for_the_number_and_proof_then_answers(running_bot, orders):
    me = sender()
    assert "What's your order number?" in running_bot.texts(me, "where is my order?")
    number = orders["shipped"][0]
    assert "confirm it's yours" in running_bot.texts(me, number)
    answer = running_bot.texts(me, postcode_of(running_bot, number))
    assert f"Order {number}" in answer
    assert "shipped on" in answer and "tracking number" in answer
    assert "Expected delivery" in answer


def test_a_signed_in_customer_picks_an_order_and_sees_it(running_bot, orders):
    me = sender()
    number = orders["shipped"][0]
    owner = running_bot.as_owner_of(number)
    picker = running_bot.say(me, "where is my order?", owner)
    assert "Which order is it about?" in picker[0]["text"]
    assert f"Order {number}" in running_bot.texts(me, number, owner)


def test_unknown_order_gets_a_second_chance_then_a_person(running_bot, orders):
    me = sender()
    owner = running_bot.as_owner_of(orders["shipped"][0])
    running_bot.texts(me, "where's my parcel", owner)
    assert "can't find an order with the number 999999" in running_bot.texts(me, "999999", owner)
    offer = running_bot.say(me, "999998", owner)
    assert "couldn't find that order" in offer[0]["text"]
    assert [b["payload"] for b in offer[0]["buttons"]] == ["/affirm", "/deny"]
    assert "ticket #" in running_bot.texts(me, "/affirm", owner)
    with app_db(running_bot) as db:
        kind, status = db.execute(
            "SELECT kind, status FROM tickets WHERE conversation_id = ?", (me,)
        ).fetchone()
    assert (kind, status) == ("handoff", "open")


def test_cancel_is_confirmed_then_stored(running_bot, orders):
    me = sender()
    number = orders["pending"][0]
    owner = running_bot.as_owner_of(number)
    question = running_bot.texts(me, f"please cancel order {number}", owner)
    assert "Shall I cancel it?" in question
    assert f"order {number} is cancelled" in running_bot.texts(me, "yes", owner)
    with app_db(running_bot) as db:
        (status,) = db.execute("SELECT status FROM orders WHERE number = ?", (number,)).fetchone()
        events = db.execute(
            "SELECT kind, conversation_id FROM order_events JOIN orders "
            "ON orders.id = order_events.order_id WHERE number = ?",
            (number,),
        ).fetchall()
    assert status == "cancelled"
    assert events == [("cancelled", me)]


def test_cancel_refused_once_shipped(running_bot, orders):
    me = sender()
    number = orders["shipped"][1]
    answer = running_bot.texts(
        me, f"I want to cancel order {number}", running_bot.as_owner_of(number)
    )
    assert "can't be cancelled" in answer
    with app_db(running_bot) as db:
        (status,) = db.execute("SELECT status FROM orders WHERE number = ?", (number,)).fetchone()
    assert status == "shipped"


def sender_in(variant: str) -> str:
    """A new conversation that the early-handoff experiment puts in `variant`."""
    experiment = load_experiments(PROJECT_ROOT / "data" / "experiments.yml").get("early-handoff")
    assert experiment is not None
    while True:
        me = sender()
        if assign(experiment, unit_of(None, me)).variant == variant:
            return me


def test_fallback_rephrases_once_then_offers_a_person(running_bot):
    me = sender_in("second-miss")
    assert "other words" in running_bot.texts(me, "xqzzv blorf")
    assert "connect you with a person" in running_bot.texts(me, "qwop zzkr")


def test_in_the_early_handoff_variant_a_person_is_offered_at_the_first_miss(running_bot):
    me = sender_in("first-miss")
    assert "connect you with a person" in running_bot.texts(me, "xqzzv blorf")
    assert "ticket #" in running_bot.texts(me, "yes")
    with app_db(running_bot) as db:
        exposed = db.execute(
            "SELECT experiment, variant FROM experiment_exposures WHERE conversation_id = ?", (me,)
        ).fetchall()
    assert exposed == [("early-handoff", "first-miss")]


def test_product_question_with_a_typo(running_bot):
    answer = running_bot.texts(sender(), "tell me about the expresso machine")
    assert answer.startswith("Barista Espresso Machine")
    assert "EUR" in answer


def test_conversation_is_kept_in_the_tracker_store(running_bot):
    me = sender()
    running_bot.texts(me, "hello")
    running_bot.texts(me, "how long does shipping take?")
    with sqlite3.connect(running_bot.var_dir / "tracker.db") as db:
        texts = [
            row[0]
            for row in db.execute(
                "SELECT json_extract(data, '$.text') FROM events "
                "WHERE sender_id = ? AND type_name = 'user' ORDER BY id",
                (me,),
            )
        ]
    assert texts == ["hello", "how long does shipping take?"]
