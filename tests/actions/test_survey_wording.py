"""The survey-wording experiment in the NPS question: both variants ask as declared, with the
same buttons, and an exposure is recorded once per conversation session, when it is asked."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.survey import ActionAskNpsScore, ActionStartSurvey, ValidateSurveyForm
from bot.experiments.assignment import assign
from bot.storage.models import ExperimentExposure
from bot.storage.session import session_scope
from bot.survey.wording import NPS_QUESTIONS, nps_buttons, nps_question
from tests.actions.conftest import (
    CONVERSATION,
    conversation_in,
    make_tracker,
    signed_in,
    texts,
)

SESSION_START = {"event": "session_started", "timestamp": 1000.0}
STANDARD = "Before you go: how likely are you to recommend us to a friend, from 0 to 10?"
BUTTONS = [{"title": str(n), "payload": str(n)} for n in range(11)]


def at_goodbye(conversation: str, history: list | None = None, text: str = "bye"):
    """The tracker as the survey form asks its first question."""
    tracker = make_tracker(
        text,
        "goodbye",
        slots={"requested_slot": "nps_score"},
        history=[SESSION_START, *(history or [])],
        active_loop="survey_form",
    )
    tracker.sender_id = conversation
    return tracker


def exposures(session_factory):
    with session_scope(session_factory) as session:
        rows = session.execute(select(ExperimentExposure)).scalars().all()
        return [(r.experiment, r.variant, r.unit, r.conversation_id, r.session_key) for r in rows]


async def ask(services, tracker, domain) -> CollectingDispatcher:
    dispatcher = CollectingDispatcher()
    assert await ActionAskNpsScore(services).run(dispatcher, tracker, domain) == []
    return dispatcher


def test_the_wordings_differ_but_both_ask_from_0_to_10():
    assert nps_question("standard") == STANDARD
    assert nps_question("short") != STANDARD
    assert len(nps_question("short")) < len(STANDARD)
    for question in NPS_QUESTIONS.values():
        assert "recommend us" in question and "from 0 to 10" in question
    assert nps_question("no-such-variant") == STANDARD
    assert nps_buttons() == BUTTONS


def test_the_domain_has_the_ask_action_and_no_competing_response(domain):
    """Rasa asks through `action_ask_nps_score` once the domain lists it."""
    assert "action_ask_nps_score" in domain["actions"]
    assert "utter_ask_nps_score" not in domain["responses"]


async def test_the_control_asks_in_the_standard_words(experimenting, domain, session_factory):
    chat = conversation_in(experimenting, "survey-wording", "standard")
    dispatcher = await ask(experimenting, at_goodbye(chat), domain)
    [message] = dispatcher.messages
    assert message["text"] == STANDARD
    assert message["buttons"] == BUTTONS
    assert exposures(session_factory) == [
        ("survey-wording", "standard", f"conversation:{chat}", chat, "1000.000000")
    ]


async def test_the_short_variant_asks_in_fewer_words(experimenting, domain, session_factory):
    chat = conversation_in(experimenting, "survey-wording", "short")
    dispatcher = await ask(experimenting, at_goodbye(chat), domain)
    [message] = dispatcher.messages
    assert message["text"] == nps_question("short")
    assert message["buttons"] == BUTTONS
    assert exposures(session_factory) == [
        ("survey-wording", "short", f"conversation:{chat}", chat, "1000.000000")
    ]


async def test_a_signed_in_customer_is_the_unit(experimenting, domain, session_factory):
    tracker = at_goodbye(CONVERSATION)  # the conversation `signed_in` seals the token for
    metadata = signed_in(experimenting, 7)
    tracker.latest_message["metadata"] = metadata
    tracker.events[-1]["metadata"] = metadata
    dispatcher = await ask(experimenting, tracker, domain)
    variant = assign(experimenting.experiments().get("survey-wording"), "customer:7").variant
    assert texts(dispatcher) == [nps_question(variant)]
    assert [row[:3] for row in exposures(session_factory)] == [
        ("survey-wording", variant, "customer:7")
    ]


async def test_a_reask_after_a_bad_answer_keeps_the_words_and_one_exposure(
    experimenting, domain, session_factory
):
    """The form re-asks through the same action: same variant, still one exposure."""
    chat = conversation_in(experimenting, "survey-wording", "short")
    first = await ask(experimenting, at_goodbye(chat), domain)
    bad = at_goodbye(
        chat,
        history=[
            {"event": "user", "text": "bye", "parse_data": {"intent": {"name": "goodbye"}}},
            {"event": "action", "name": "action_ask_nps_score"},
        ],
        text="11",
    )
    validation = CollectingDispatcher()
    await ValidateSurveyForm(experimenting).run(validation, bad, domain)
    assert "11 is not between 0 and 10" in texts(validation)[0]
    again = await ask(experimenting, bad, domain)
    assert texts(again) == texts(first) == [nps_question("short")]
    assert again.messages[0]["buttons"] == BUTTONS
    assert len(exposures(session_factory)) == 1


async def test_a_new_session_is_a_new_exposure(experimenting, domain, session_factory):
    chat = conversation_in(experimenting, "survey-wording", "standard")
    await ask(experimenting, at_goodbye(chat), domain)
    later = at_goodbye(chat, history=[{"event": "session_started", "timestamp": 9000.0}])
    await ask(experimenting, later, domain)
    assert [row[4] for row in exposures(session_factory)] == ["1000.000000", "9000.000000"]


async def test_no_exposure_until_the_question_is_asked(experimenting, domain, session_factory):
    """Starting the survey, or answering another of its questions, exposes nothing."""
    chat = conversation_in(experimenting, "survey-wording", "short")
    tracker = at_goodbye(chat)
    await ActionStartSurvey(experimenting).run(CollectingDispatcher(), tracker, domain)
    csat = make_tracker(
        "4",
        "out_of_scope",
        slots={"requested_slot": "csat_score", "nps_score": 9.0},
        history=[SESSION_START],
        active_loop="survey_form",
    )
    csat.sender_id = chat
    await ValidateSurveyForm(experimenting).run(CollectingDispatcher(), csat, domain)
    assert exposures(session_factory) == []


async def test_without_the_experiment_the_standard_words_and_no_exposure(
    services, domain, session_factory
):
    dispatcher = await ask(services, at_goodbye("chat-1"), domain)
    assert texts(dispatcher) == [STANDARD]
    assert dispatcher.messages[0]["buttons"] == BUTTONS
    assert exposures(session_factory) == []
