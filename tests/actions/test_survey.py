"""Survey actions against a real temporary database."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.survey import ActionOpenFollowup, ActionSurveySubmit, ValidateSurveyForm
from bot.bootstrap import bootstrap
from bot.storage.models import SurveyResponse, Ticket
from bot.storage.session import session_scope
from tests.actions.conftest import NOW, make_tracker, send_token, texts

SESSION_START = [
    {"event": "action", "name": "action_session_start", "timestamp": 1700000000.0},
    {"event": "session_started", "timestamp": 1700000000.5},
    {
        "event": "user",
        "text": "where is my order 100003",
        "timestamp": 1700000001.0,
        "input_channel": "socketio",
        "parse_data": {"intent": {"name": "order_status"}, "entities": []},
    },
    {"event": "action", "name": "action_order_submit", "timestamp": 1700000002.0},
    {"event": "action", "name": "action_start_survey", "timestamp": 1700000003.0},
]


def slot(name: str, value) -> dict:
    return {"event": "slot", "name": name, "value": value, "timestamp": 1700000004.0}


def answer(
    text: str, intent: str, requested: str, slots: dict | None = None, history: list | None = None
):
    return make_tracker(
        text,
        intent,
        slots={"requested_slot": requested, **(slots or {})},
        history=[*SESSION_START, *(history or [])],
        active_loop="survey_form",
    )


def finished_survey(nps: float, csat: float):
    """The tracker of a session whose survey was answered, at its last answer ("skip")."""
    history = [slot("nps_score", nps), slot("csat_score", csat)]
    return make_tracker(
        "skip",
        "deny",
        slots={"nps_score": nps, "csat_score": csat},
        history=[*SESSION_START, *history],
    )


def slots_of(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def rows(session_factory) -> list[SurveyResponse]:
    with session_scope(session_factory) as session:
        return list(session.execute(select(SurveyResponse)).scalars())


async def test_a_typed_nps_is_kept_and_stored_at_once(services, domain, session_factory):
    dispatcher = CollectingDispatcher()
    events = await ValidateSurveyForm(services).run(
        dispatcher, answer("I'd say 9 out of 10", "out_of_scope", "nps_score"), domain
    )
    assert slots_of(events)["nps_score"] == 9.0
    assert dispatcher.messages == []
    [row] = rows(session_factory)
    assert (row.nps, row.csat, row.status) == (9, None, "partial")
    assert (row.topic, row.channel) == ("order_status", "socketio")


@pytest.mark.parametrize(
    "typed, problem",
    [
        ("11", "11 is not between 0 and 10"),
        ("7 or 8", "more than one score"),
        ("great", "there was no score"),
        ("<b>9</b>", "markup"),
        ("9" * 300, "too long"),
    ],
)
async def test_bad_nps_gets_a_clear_reask_and_nothing_is_stored(
    services, domain, session_factory, typed, problem
):
    dispatcher = CollectingDispatcher()
    events = await ValidateSurveyForm(services).run(
        dispatcher, answer(typed, "out_of_scope", "nps_score"), domain
    )
    slots = slots_of(events)
    assert slots["nps_score"] is None
    assert slots["survey_failures"] == 1
    assert problem in texts(dispatcher)[0]
    assert rows(session_factory) == []


async def test_after_two_bad_answers_the_bot_moves_on(services, domain):
    dispatcher = CollectingDispatcher()
    tracker = answer(
        "0", "out_of_scope", "csat_score", slots={"survey_failures": 1.0, "nps_score": 8.0}
    )
    events = await ValidateSurveyForm(services).run(dispatcher, tracker, domain)
    slots = slots_of(events)
    assert slots["survey_skipped"] == ["csat_score"]
    assert slots["requested_slot"] == "survey_comment"
    assert "skip that one" in texts(dispatcher)[0]


async def test_declining_stops_the_survey(services, domain):
    dispatcher = CollectingDispatcher()
    events = await ValidateSurveyForm(services).run(
        dispatcher, answer("no thanks", "deny", "nps_score"), domain
    )
    slots = slots_of(events)
    assert slots["survey_status"] == "declined"
    assert slots["requested_slot"] is None


async def test_asking_for_a_person_leaves_the_form_to_the_rules(services, domain):
    dispatcher = CollectingDispatcher()
    events = await ValidateSurveyForm(services).run(
        dispatcher, answer("let me talk to a human", "request_human", "nps_score"), domain
    )
    assert "nps_score" not in slots_of(events)


async def test_comment_is_stored_with_personal_data_masked(services, domain, session_factory):
    dispatcher = CollectingDispatcher()
    history = [slot("nps_score", 10.0), slot("csat_score", 5.0)]
    tracker = answer(
        "great help, write me at anna@example.com",
        "thank_you",
        "survey_comment",
        slots={"nps_score": 10.0, "csat_score": 5.0},
        history=history,
    )
    events = await ValidateSurveyForm(services).run(dispatcher, tracker, domain)
    assert slots_of(events)["survey_comment"] == "great help, write me at anna@example.com"
    [row] = rows(session_factory)
    assert row.comment == "great help, write me at [email]"
    assert row.status == "completed"


async def test_submit_is_idempotent_per_session(services, domain, session_factory):
    tracker = finished_survey(9.0, 4.0)
    for _ in range(2):
        dispatcher = CollectingDispatcher()
        events = await ActionSurveySubmit(services).run(dispatcher, tracker, domain)
        assert texts(dispatcher) == ["Thank you for your feedback! Have a great day."]
        assert slots_of(events)["survey_status"] == "completed"
    [row] = rows(session_factory)
    assert (row.nps, row.csat, row.status, row.conversation_id) == (
        9,
        4,
        "completed",
        "test-conversation",
    )


async def test_a_refusal_is_recorded(services, domain, session_factory):
    tracker = make_tracker(
        "no thanks",
        "deny",
        slots={"survey_status": "declined"},
        history=[*SESSION_START, slot("survey_status", "declined")],
    )
    dispatcher = CollectingDispatcher()
    await ActionSurveySubmit(services).run(dispatcher, tracker, domain)
    assert "won't ask again" in texts(dispatcher)[0]
    [row] = rows(session_factory)
    assert (row.status, row.nps, row.csat) == ("declined", None, None)


async def test_a_detractor_is_offered_a_follow_up_linked_to_the_survey(
    services, domain, session_factory
):
    tracker = finished_survey(3.0, 4.0)
    dispatcher = CollectingDispatcher()
    events = await ActionSurveySubmit(services).run(dispatcher, tracker, domain)
    assert slots_of(events)["pending_question"] == "followup"
    assert "follow up" in texts(dispatcher)[0]

    followup = CollectingDispatcher()
    await ActionOpenFollowup(services).run(followup, tracker, domain)
    with session_scope(session_factory) as session:
        ticket = session.execute(select(Ticket)).scalar_one()
        survey = session.execute(select(SurveyResponse)).scalar_one()
        assert (ticket.kind, ticket.survey_response_id) == ("followup", survey.id)
        assert "NPS 3, CSAT 4" in ticket.reason
    assert f"ticket #{ticket.id}" in texts(followup)[0]


async def test_a_database_failure_loses_nothing_the_customer_sees(
    domain, session_factory, settings
):
    """The write fails (the database is locked); the customer is still thanked."""
    services = bootstrap(replace(settings, sqlite_busy_timeout_ms=50), now=lambda: NOW)
    blocker = sqlite3.connect(settings.var_dir / "supportbot.db", timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        tracker = finished_survey(9.0, 5.0)
        dispatcher = CollectingDispatcher()
        events = await ActionSurveySubmit(services).run(dispatcher, tracker, domain)
        assert texts(dispatcher) == ["Thank you for your feedback! Have a great day."]
        assert slots_of(events)["survey_status"] == "completed"
    finally:
        blocker.rollback()
        blocker.close()
        services.close()
    assert rows(session_factory) == []


async def test_a_signed_in_customer_is_linked_to_their_survey(
    services, domain, session_factory, shop
):
    from bot.auth.tokens import mint
    from bot.storage.models import Customer

    with session_scope(session_factory) as session:
        customer_id = session.execute(select(Customer.id)).scalar_one()
    token = mint(services.signing_key(), "customer", customer_id=customer_id)
    tracker = finished_survey(9.0, 4.0)
    send_token(services, tracker, token)
    await ActionSurveySubmit(services).run(CollectingDispatcher(), tracker, domain)
    [row] = rows(session_factory)
    assert row.customer_id == customer_id


@pytest.mark.parametrize("column, value", [("nps", 11), ("nps", -1), ("csat", 0), ("csat", 6)])
def test_the_database_refuses_out_of_range_scores(session_factory, column, value):
    from datetime import datetime

    from sqlalchemy.exc import IntegrityError

    row = SurveyResponse(
        conversation_id="c",
        session_key="1",
        status="partial",
        created_at=datetime(2026, 11, 1),
        updated_at=datetime(2026, 11, 1),
        **{column: value},
    )
    with pytest.raises(IntegrityError), session_scope(session_factory) as session:
        session.add(row)
