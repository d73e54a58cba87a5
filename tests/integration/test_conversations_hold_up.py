"""Conversations as real customers hold them, over the REST channel with the real servers:
a question in the middle of a form, a typed answer to the bot's buttons, going on after the
offer of a person."""

from __future__ import annotations

import pytest

from tests.integration.conftest import RunningBot
from tests.integration.test_rest_chat import orders, sender, sender_in  # noqa: F401, F811

pytestmark = pytest.mark.integration


def test_a_policy_question_while_asked_for_the_order_number(running_bot: RunningBot):
    me = sender()
    assert "What's your order number?" in running_bot.texts(me, "where is my order?")
    answer = running_bot.texts(me, "actually, what's your return policy?")
    assert "days of delivery" in answer  # the policy
    assert "doesn't look like an order number" not in answer
    assert answer.endswith(
        "What's your order number? It's the 6-digit number in your order confirmation "
        "email, for example 104233."
    )
    # Not counted as a wrong answer: after it, a first wrong answer is re-asked (the second
    # would end the form).
    assert "doesn't look like an order number" in running_bot.texts(me, "it was the red jacket")
    assert "confirm it's yours" in running_bot.texts(me, "109945")


def test_a_return_asked_for_while_checking_an_order_switches_to_it(running_bot: RunningBot):
    me = sender()
    running_bot.texts(me, "where is my order?")
    answer = running_bot.texts(me, "actually I'd rather return it")
    assert answer.startswith("Sure, let's start a return instead.")
    assert "What's your order number?" in answer


def test_never_mind_stops_the_order_form(running_bot: RunningBot):
    me = sender()
    running_bot.texts(me, "I want to cancel my order")
    assert "We ship to" in running_bot.texts(me, "how much does shipping cost?")
    assert running_bot.texts(me, "oh forget it then").startswith("No problem, I've stopped.")


def test_a_question_during_the_survey_then_the_survey_goes_on(running_bot: RunningBot):
    me = sender()
    assert "recommend" in running_bot.texts(me, "bye")  # the NPS question
    answer = running_bot.texts(me, "do you take apple pay at checkout?")
    assert "We accept" in answer and "recommend" in answer
    assert "How satisfied are you" in running_bot.texts(me, "9")


def test_a_category_typed_after_the_category_buttons(running_bot: RunningBot):
    me = sender()
    assert "What are you shopping for?" in running_bot.texts(me, "what would you recommend?")
    [suggestions, *_cards] = running_bot.say(me, "sports")
    assert suggestions["text"].startswith("Our best sellers in Sports & Outdoors:")
    first = suggestions["buttons"][0]["title"].removeprefix("Tell me about ")
    assert running_bot.texts(me, "I'll take the first one").startswith(first)


def test_an_order_typed_by_its_place_after_the_order_buttons(
    running_bot: RunningBot,
    orders,  # noqa: F811
):
    me = sender()
    owner = running_bot.as_owner_of(orders["shipped"][0])
    [picker] = running_bot.say(me, "where is my order?", owner)
    second = picker["buttons"][1]["payload"]
    assert f"Order {second}" in running_bot.texts(me, "the second one", owner)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("no", "No problem. You can ask me about orders"),
        ("bye", "recommend"),  # the survey starts
        ("how much does shipping cost?", "We ship to"),
    ],
)
def test_after_the_offer_of_a_person_the_customer_goes_on(running_bot: RunningBot, reply, expected):
    me = sender_in("second-miss")
    running_bot.texts(me, "blorp zint")
    assert "connect you with a person" in running_bot.texts(me, "can you sing me a song")
    assert expected in running_bot.texts(me, reply)
    if reply != "bye":
        # The misunderstandings count afresh: a rephrase, not a person again.
        assert "other words" in running_bot.texts(me, "qwop zzkr")
