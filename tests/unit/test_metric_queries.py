"""Metrics aggregated in SQL agree with the definitions computed on the raw answers."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy.orm import sessionmaker

from bot.metrics import core, queries
from bot.metrics.queries import Cut
from bot.storage.session import session_scope
from tests.rows import conversation_row, survey_row

START = datetime(2026, 11, 1)
END = datetime(2026, 12, 1)

NPS_NOW = [10, 10, 9, 9, 9, 8, 7, 6, 3, 0, 10, 9]
CSAT_NOW = [5, 5, 4, 4, 4, 3, 3, 2, 1, 1, 5, 4]


@pytest.fixture
def filled(session_factory: sessionmaker) -> sessionmaker:
    with session_scope(session_factory) as session:
        for day, (n, c) in enumerate(zip(NPS_NOW, CSAT_NOW, strict=True)):
            session.add(survey_row(START + timedelta(days=day, hours=9), n, c))
        # Returns are worse; a declined survey; one answer outside the period on each side.
        for n, c in [(2, 1), (5, 2), (9, 4), (4, 2), (6, 3)] * 5:
            session.add(survey_row(START + timedelta(days=3), n, c, topic="return_request"))
        session.add(survey_row(START + timedelta(days=2), None, None))
        session.add(survey_row(START - timedelta(seconds=1), 0, 1))
        session.add(survey_row(END, 0, 1))
        # Conversations: 1 of 4 handed off; reply times 0.5, 1.5 / 2.0 / 1.0, 3.0.
        session.add(conversation_row(START, first_response=0.5, replies=(0.5, 1.5), fallbacks=1))
        session.add(conversation_row(START + timedelta(days=1), first_response=2.0, replies=(2.0,)))
        session.add(
            conversation_row(
                START + timedelta(days=8), "payment_issue", handed_off=True, replies=(1.0, 3.0)
            )
        )
        session.add(conversation_row(START + timedelta(days=9), first_response=None, replies=()))
        session.add(conversation_row(END + timedelta(days=1), handed_off=True))
    return session_factory


def test_nps_and_csat_in_sql_equal_the_definitions(filled: sessionmaker):
    returns_nps = [2, 5, 9, 4, 6] * 5
    returns_csat = [1, 2, 4, 2, 3] * 5
    with session_scope(filled) as session:
        nps = queries.metric_result(session, "nps", START, END)
        csat = queries.metric_result(session, "csat", START, END)
        rate = queries.metric_result(session, "survey_response_rate", START, END)
    assert nps == core.nps(NPS_NOW + returns_nps)
    assert csat == core.csat(CSAT_NOW + returns_csat)
    # 12 + 25 answered out of 38 asked (one declined).
    assert (rate.value, rate.n) == (pytest.approx(100 * 37 / 38), 38)


def test_a_topic_cut_and_a_breakdown_by_topic(filled: sessionmaker):
    with session_scope(filled) as session:
        orders = queries.metric_result(session, "nps", START, END, Cut(topic="order_status"))
        by_topic = queries.metric_by(session, "csat", START, END, "topic")
    assert orders == core.nps(NPS_NOW)
    assert list(by_topic) == ["return_request", "order_status"]  # biggest sample first
    assert by_topic["return_request"] == core.csat([1, 2, 4, 2, 3] * 5)


def test_conversation_rates_and_times(filled: sessionmaker):
    with session_scope(filled) as session:

        def get(metric: str) -> core.MetricResult:
            return queries.metric_result(session, metric, START, END)

        containment, handoff = get("containment"), get("handoff_rate")
        fallback, first, reply = (
            get("fallback_rate"),
            get("first_response_time"),
            get("response_time"),
        )
    assert (containment.value, containment.n) == (75.0, 4)
    assert handoff.value == 25.0
    assert (fallback.value, fallback.n) == (pytest.approx(100 / 12), 12)
    # Mean of 0.5, 2.0 and 1.0 (the fourth conversation had no reply).
    assert (first.value, first.n) == (pytest.approx(3.5 / 3), 3)
    assert first == core.mean_from_sums(
        "first_response_time", 3, 3.5, 0.25 + 4 + 1, lower_bound=0.0
    )
    # Per-conversation mean reply times 1.0, 2.0 and 2.0.
    assert (reply.value, reply.n) == (pytest.approx(5 / 3), 3)


def test_pain_points_rank_the_worst_topic_first(filled: sessionmaker):
    with session_scope(filled) as session:
        points = queries.pain_points(session, START, END, min_answers=10)
        too_strict = queries.pain_points(session, START, END, min_answers=26)
    assert [p.topic for p in points] == ["return_request", "order_status"]
    worst = points[0]
    assert worst.csat == core.csat([1, 2, 4, 2, 3] * 5)
    assert worst.detractor_share.value == pytest.approx(80.0)
    assert worst.detractor_share.n == 25
    assert too_strict == []


def test_trend_rolls_days_into_weeks(filled: sessionmaker):
    with session_scope(filled) as session:
        weekly = queries.trend(session, "nps", START, END, bucket="week")
        daily = queries.trend(session, "nps", START, END, bucket="day")
    # 1 November 2026 is a Sunday: its week started on 26 October.
    assert [when for when, _ in weekly][:2] == [date(2026, 10, 26), date(2026, 11, 2)]
    assert sum(r.n for _, r in weekly) == sum(r.n for _, r in daily) == 37
    first_week = dict(weekly)[date(2026, 10, 26)]
    assert first_week == core.nps([10])


def test_score_distribution_and_comparison_with_the_previous_period(filled: sessionmaker):
    with session_scope(filled) as session:
        distribution = queries.score_distribution(session, "csat", START, END)
        comparison = queries.with_previous(
            session, "nps", (START, END), (datetime(2026, 10, 1), START)
        )
    assert distribution == {1: 7, 2: 11, 3: 7, 4: 9, 5: 3}
    assert comparison.previous == core.nps([0])
    assert comparison.difference == pytest.approx(comparison.current.value + 100)


def test_an_unknown_breakdown_is_refused(filled: sessionmaker):
    with session_scope(filled) as session, pytest.raises(ValueError, match="cannot break down"):
        queries.metric_by(session, "nps", START, END, "customer_id")
