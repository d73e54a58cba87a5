"""Questions about something else while a form waits: nothing taken, nothing counted, nothing lost."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.orders import ActionSwitchOrderTask, ValidateOrderForm
from actions.support import ActionReturnPolicy
from actions.survey import ValidateSurveyForm
from tests.actions.conftest import make_tracker, texts
from tests.actions.test_survey import SESSION_START


def slots_of(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def waiting_for(slot: str, text: str, intent: str, **slots):
    return make_tracker(
        text,
        intent,
        slots={"requested_slot": slot, "order_topic": "status", **slots},
        active_loop="order_form",
    )


async def test_a_return_policy_question_is_no_answer_to_the_order_number(
    dispatcher, services, shop, domain
):
    tracker = waiting_for(
        "order_id",
        "actually, what's your return policy?",
        "return_policy",
        order_lookup_failures=1.0,
    )
    events = await ValidateOrderForm(services).run(dispatcher, tracker, domain)
    # Nothing taken, so the form is rejected and the rules answer the question; the one
    # wrong answer before stays one.
    assert "order_id" not in slots_of(events)
    assert "order_lookup_failures" not in slots_of(events)
    assert dispatcher.messages == []


async def test_the_return_policy_is_answered(dispatcher, services, domain):
    await ActionReturnPolicy(services).run(
        dispatcher, make_tracker("what's your return policy?", "return_policy"), domain
    )
    [answer] = texts(dispatcher)
    assert "days of delivery" in answer and "Refunds are issued" in answer


async def test_a_wrong_answer_is_still_counted(dispatcher, services, shop, domain):
    tracker = waiting_for("order_id", "the blue one I think", "out_of_scope")
    events = await ValidateOrderForm(services).run(dispatcher, tracker, domain)
    assert slots_of(events)["order_lookup_failures"] == 1
    assert "doesn't look like an order number" in texts(dispatcher)[0]


async def test_asking_again_for_the_same_task_is_still_an_attempt(
    dispatcher, services, shop, domain
):
    tracker = waiting_for("order_id", "the one with the shoes", "order_status")
    events = await ValidateOrderForm(services).run(dispatcher, tracker, domain)
    assert slots_of(events)["order_lookup_failures"] == 1


async def test_a_return_asked_for_while_checking_an_order_switches_the_task(
    dispatcher, services, shop, domain
):
    tracker = waiting_for(
        "order_id", "I want to return my order", "return_request", order_lookup_failures=1.0
    )
    events = await ValidateOrderForm(services).run(dispatcher, tracker, domain)
    assert "order_id" not in slots_of(events)

    switched = await ActionSwitchOrderTask(services).run(dispatcher, tracker, domain)
    assert slots_of(switched) == {"order_topic": "return"}  # failures, number, proof kept
    assert texts(dispatcher) == ["Sure, let's start a return instead."]


async def test_switching_to_the_task_under_way_says_nothing(dispatcher, services, domain):
    tracker = waiting_for("order_id", "where is my order", "order_status")
    assert await ActionSwitchOrderTask(services).run(dispatcher, tracker, domain) == []
    assert dispatcher.messages == []


async def test_a_question_while_asked_for_the_new_address_is_not_an_address(
    dispatcher, services, shop, domain
):
    tracker = waiting_for(
        "new_address",
        "how much is express shipping?",
        "shipping_info",
        order_id=shop["processing"],
        order_topic="address",
    )
    events = await ValidateOrderForm(services).run(dispatcher, tracker, domain)
    assert "new_address" not in slots_of(events)
    assert dispatcher.messages == []


async def test_an_address_that_mentions_shipping_is_still_the_address(
    dispatcher, services, shop, domain, anna
):
    tracker = make_tracker(
        "please ship it to Gartenweg 5, 10115 Berlin",
        "shipping_info",
        slots={
            "requested_slot": "new_address",
            "order_id": shop["processing"],
            "order_topic": "address",
        },
        active_loop="order_form",
        metadata=anna,
    )
    events = await ValidateOrderForm(services).run(dispatcher, tracker, domain)
    assert slots_of(events)["new_address"] == "please ship it to Gartenweg 5, 10115 Berlin"


async def test_never_mind_while_asked_for_the_new_address_leaves_it_to_the_rules(
    dispatcher, services, shop, domain
):
    tracker = waiting_for(
        "new_address", "never mind", "deny", order_id=shop["processing"], order_topic="address"
    )
    events = await ValidateOrderForm(services).run(dispatcher, tracker, domain)
    assert "new_address" not in slots_of(events)
    assert "order_lookup_failures" not in slots_of(events)


def survey_answer(text: str, intent: str, requested: str, **slots):
    return make_tracker(
        text,
        intent,
        slots={"requested_slot": requested, **slots},
        history=SESSION_START,
        active_loop="survey_form",
    )


async def test_a_question_during_the_survey_keeps_the_answers_and_counts_nothing(services, domain):
    dispatcher = CollectingDispatcher()
    tracker = survey_answer(
        "do you accept apple pay?",
        "payment_issue",
        "csat_score",
        nps_score=9.0,
        survey_failures=1.0,
    )
    events = await ValidateSurveyForm(services).run(dispatcher, tracker, domain)
    slots = slots_of(events)
    assert "csat_score" not in slots and "survey_failures" not in slots
    assert "nps_score" not in slots  # the score given stays as it was
    assert dispatcher.messages == []


async def test_a_question_at_the_comment_is_answered_not_stored(services, domain):
    dispatcher = CollectingDispatcher()
    tracker = survey_answer(
        "how do i change my password?",
        "account_help",
        "survey_comment",
        nps_score=9.0,
        csat_score=5.0,
    )
    events = await ValidateSurveyForm(services).run(dispatcher, tracker, domain)
    assert "survey_comment" not in slots_of(events)


async def test_a_comment_about_shipping_is_a_comment(services, domain):
    dispatcher = CollectingDispatcher()
    tracker = survey_answer(
        "shipping took far too long",
        "shipping_info",
        "survey_comment",
        nps_score=6.0,
        csat_score=3.0,
    )
    events = await ValidateSurveyForm(services).run(dispatcher, tracker, domain)
    assert slots_of(events)["survey_comment"] == "shipping took far too long"


async def test_forget_it_stops_the_survey(services, domain):
    dispatcher = CollectingDispatcher()
    events = await ValidateSurveyForm(services).run(
        dispatcher, survey_answer("forget it", "deny", "nps_score"), domain
    )
    assert slots_of(events)["survey_status"] == "declined"
    assert slots_of(events)["requested_slot"] is None


async def test_i_would_recommend_you_is_an_answer_to_the_nps_question(services, domain):
    dispatcher = CollectingDispatcher()
    tracker = survey_answer("I'd definitely recommend you", "ask_recommendation", "nps_score")
    events = await ValidateSurveyForm(services).run(dispatcher, tracker, domain)
    # Taken as the answer: not a score, so re-asked with what is wrong (not suggestions).
    assert slots_of(events)["survey_failures"] == 1
    assert "whole number from 0 to 10" in texts(dispatcher)[0]
