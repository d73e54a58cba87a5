"""Managers get metrics with n and intervals in the chat; nobody else gets a number."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy.orm import sessionmaker

from actions.metrics import REFUSAL, ActionAnswerMetric
from bot.auth.tokens import mint
from bot.metrics import core
from bot.storage.session import session_scope
from tests.actions.conftest import NOW, make_tracker, send_token, texts
from tests.rows import survey_row

# Last 30 days as of NOW (1 November 2026): order-status answers; returns are worse.
RECENT_NPS = [10, 9, 9, 8, 7, 6, 2, 10, 9, 10] * 3
RETURNS_NPS = [3, 5, 6, 9, 2] * 5
RETURNS_CSAT = [1, 2, 3, 4, 2] * 5
# The 30 days before: fewer promoters.
EARLIER_NPS = [6, 7, 8, 9, 3] * 6


@pytest.fixture
def answers(session_factory: sessionmaker) -> sessionmaker:
    with session_scope(session_factory) as session:
        for score in RECENT_NPS:
            session.add(survey_row(NOW - timedelta(days=3), score, 5 if score >= 9 else 3))
        for score, csat in zip(RETURNS_NPS, RETURNS_CSAT, strict=True):
            session.add(survey_row(NOW - timedelta(days=5), score, csat, topic="return_request"))
        for score in EARLIER_NPS:
            session.add(survey_row(NOW - timedelta(days=40), score, 4))
    return session_factory


async def ask(services, dispatcher, domain, text: str, token: str | None, entities=None):
    tracker = make_tracker(text, "ask_metric", entities=entities)
    send_token(services, tracker, token)
    return await ActionAnswerMetric(services).run(dispatcher, tracker, domain)


@pytest.mark.parametrize("role", [None, "customer", "staff"])
async def test_anyone_but_a_manager_is_refused_without_numbers(
    services, answers, dispatcher, domain, role
):
    token = (
        mint(services.signing_key(), role, customer_id=1 if role == "customer" else None)
        if role
        else None
    )
    await ask(services, dispatcher, domain, "what's our NPS last 30 days?", token)
    assert texts(dispatcher) == [REFUSAL]
    assert not re.search(r"\d", texts(dispatcher)[0])


async def test_a_forged_manager_token_is_refused(services, answers, dispatcher, domain):
    forged = mint("not-the-shop-key" * 4, "manager", name="Mallory")
    await ask(services, dispatcher, domain, "what's our NPS?", forged)
    assert texts(dispatcher) == [REFUSAL]


async def test_a_manager_gets_nps_with_interval_sample_and_the_previous_period(
    services, answers, dispatcher, domain
):
    token = mint(services.signing_key(), "manager", name="Maria")
    entities = [
        {"entity": "metric", "value": "nps"},
        {"entity": "period", "value": "last 30 days"},
    ]
    await ask(services, dispatcher, domain, "what's our NPS last 30 days?", token, entities)
    [reply] = texts(dispatcher)
    now = core.nps(RECENT_NPS + RETURNS_NPS)
    before = core.nps(EARLIER_NPS)
    assert reply.startswith(f"NPS, last 30 days: {now.value:.0f} (95% CI {now.ci_low:.0f} to ")
    assert f"n = {now.n}" in reply
    promoters = 100 * now.counts["promoters"] / now.n
    assert f"{promoters:.0f}% promoters" in reply
    assert f"Previous 30 days: {before.value:.0f}" in reply
    comparison = core.compare(now, before)
    assert ("not significant" in reply) is (not comparison.significant)


async def test_a_topic_cut_answers_for_that_topic_only(services, answers, dispatcher, domain):
    token = mint(services.signing_key(), "manager")
    await ask(services, dispatcher, domain, "CSAT for returns last 30 days", token)
    [reply] = texts(dispatcher)
    expected = core.csat(RETURNS_CSAT)
    assert reply.startswith(f"CSAT for returns, last 30 days: {expected.value:.0f}%")
    assert f"n = {expected.n}" in reply


async def test_where_are_we_worst_lists_the_pain_points(services, answers, dispatcher, domain):
    token = mint(services.signing_key(), "manager")
    await ask(services, dispatcher, domain, "where are we worst?", token)
    [reply] = texts(dispatcher)
    lines = reply.splitlines()
    assert lines[1].startswith("1. returns: CSAT ")
    assert lines[2].startswith("2. order status: CSAT ")
    assert "n = 25" in lines[1]


async def test_a_breakdown_by_topic(services, answers, dispatcher, domain):
    token = mint(services.signing_key(), "manager")
    await ask(services, dispatcher, domain, "nps by topic", token)
    [reply] = texts(dispatcher)
    assert reply.splitlines()[0] == "NPS by topic, last 30 days:"
    assert f"• order status: {core.nps(RECENT_NPS).value:.0f} (" in reply
    assert f"• returns: {core.nps(RETURNS_NPS).value:.0f} (" in reply


async def test_without_a_metric_the_bot_asks_which_one(services, answers, dispatcher, domain):
    token = mint(services.signing_key(), "manager")
    await ask(services, dispatcher, domain, "how many returns did we get last week", token)
    [message] = dispatcher.messages
    assert message["text"].startswith("Which metric would you like?")
    titles = [b["title"] for b in message["buttons"]]
    assert titles[:2] == ["NPS", "CSAT"]
    assert '"period": "last week"' in message["buttons"][0]["payload"]


async def test_asking_for_the_kpis_gives_the_headline_numbers(
    services, answers, dispatcher, domain
):
    token = mint(services.signing_key(), "manager")
    await ask(services, dispatcher, domain, "show me our kpis", token)
    [reply] = texts(dispatcher)
    assert reply.startswith("The headline numbers, last 30 days")
    assert f"• NPS: {core.nps(RECENT_NPS + RETURNS_NPS).value:.0f} (" in reply
    assert "• Containment: no data yet (n = 0)" in reply


async def test_too_few_answers_are_said_so_instead_of_a_number(
    services, session_factory, dispatcher, domain
):
    with session_scope(session_factory) as session:
        for score in [10, 9, 3, 8, 10, 0, 9]:
            session.add(survey_row(NOW - timedelta(days=3), score, 4))
        for score in [10, 9, 3, 8, 10, 0, 9, 7, 6, 10, 9, 9]:
            session.add(survey_row(NOW - timedelta(days=40), score, 4))
    token = mint(services.signing_key(), "manager")
    await ask(services, dispatcher, domain, "what's our NPS last 30 days?", token)
    [reply] = texts(dispatcher)
    assert reply == (
        "NPS, last 30 days: too few answers (n = 7). "
        f"Previous 30 days: {core.nps([10, 9, 3, 8, 10, 0, 9, 7, 6, 10, 9, 9]).value:.0f}"
        " — too few answers to tell whether it changed."
    )
