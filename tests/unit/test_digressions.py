"""Which messages, sent while the bot waits for an answer, ask about something else."""

from __future__ import annotations

import pytest

from bot.support.digressions import (
    digresses_from_comment,
    is_digression,
    is_question,
    switches_order_task,
)


@pytest.mark.parametrize(
    "intent",
    [
        "shipping_info",
        "payment_issue",
        "account_help",
        "product_info",
        "ask_recommendation",
        "return_policy",
    ],
)
def test_questions_about_the_shop_are_digressions(intent):
    assert is_digression(intent)


@pytest.mark.parametrize("intent", ["out_of_scope", "nlu_fallback", "affirm", "deny", None])
def test_unclear_answers_are_not_digressions(intent):
    # These are (wrong) attempts at the answer, or "stop", which the form handles itself.
    assert not is_digression(intent)


def test_another_order_task_switches_the_task():
    assert switches_order_task("return_request")
    assert not switches_order_task("shipping_info")


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("is shipping free?", True),
        ("how long does delivery take", True),
        ("Do you take PayPal", True),
        ("shipping was far too slow", False),
        ("the payment page kept crashing.", False),
        ("", False),
    ],
)
def test_a_question_is_told_from_a_statement(text, question):
    assert is_question(text) is question


def test_a_comment_about_shipping_is_a_comment_but_a_question_is_answered():
    assert not digresses_from_comment("shipping_info", "shipping took two weeks")
    assert digresses_from_comment("shipping_info", "how much is express shipping?")
    assert not digresses_from_comment("complaint", "why was it so slow?")


def test_i_would_recommend_you_answers_the_survey_question():
    # "How likely are you to recommend us?" - "I'd recommend you" is an answer, not a request.
    assert is_digression("ask_recommendation")
    assert not is_digression("ask_recommendation", survey=True)
    assert is_digression("shipping_info", survey=True)
