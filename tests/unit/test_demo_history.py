"""The demo chat history: enough rows, consistent rows, and the patterns managers should find."""

from __future__ import annotations

import calendar
import dataclasses
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import sessionmaker
from sqlalchemy.sql import ColumnElement

from bot.demo.history import META_KEY, HistorySummary, bad_month, seed_history
from bot.demo.seed import seed_demo
from bot.settings import Settings
from bot.storage.migrate import upgrade
from bot.storage.models import Conversation, Customer, Meta, SurveyResponse, Ticket
from bot.storage.session import create_db_engine, make_session_factory, session_scope

TODAY = "2026-11-23"
NOW = datetime(2026, 11, 23)


@dataclasses.dataclass
class History:
    factory: sessionmaker
    settings: Settings
    summary: HistorySummary
    seconds: float
    progress: list[tuple[str, int, int]]


def _fixed(settings: Settings) -> Settings:
    return dataclasses.replace(settings, demo_today=TODAY)


def _seed_all(factory: sessionmaker, settings: Settings) -> tuple[HistorySummary, float, list[Any]]:
    seed_demo(factory, settings)
    calls: list[tuple[str, int, int]] = []
    started = time.perf_counter()
    summary = seed_history(factory, settings, lambda *call: calls.append(call))
    return summary, time.perf_counter() - started, calls


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """The shop and its history, seeded once for the module."""
    settings = Settings(var_dir=Path(tmp_path_factory.mktemp("history")), demo_today=TODAY)
    upgrade(settings.database_url)
    engine = create_db_engine(settings.database_url)
    factory = make_session_factory(engine)
    summary, seconds, calls = _seed_all(factory, settings)
    yield History(factory, settings, summary, seconds, calls)
    engine.dispose()


def _scalar(factory: sessionmaker, query: Any) -> Any:
    with session_scope(factory) as session:
        return session.execute(query).scalar_one()


def _count(factory: sessionmaker, model: Any, *where: Any) -> int:
    return int(_scalar(factory, select(func.count()).select_from(model).where(*where)))


def _hits(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _nps(factory: sessionmaker, *where: Any) -> float:
    """NPS in points of the surveys matching `where`, computed in SQL."""
    s = SurveyResponse
    query = select(100.0 * (_hits(s.nps >= 9) - _hits(s.nps <= 6)) / func.count(s.nps)).where(
        s.nps.is_not(None), *where
    )
    return float(_scalar(factory, query))


def _csat(factory: sessionmaker, *where: Any) -> float:
    """CSAT: the percentage of 4s and 5s, computed in SQL."""
    s = SurveyResponse
    query = select(100.0 * _hits(s.csat >= 4) / func.count(s.csat)).where(
        s.csat.is_not(None), *where
    )
    return float(_scalar(factory, query))


def _aggregates(factory: sessionmaker) -> tuple[Any, ...]:
    c, s = Conversation, SurveyResponse
    with session_scope(factory) as session:
        conversations = session.execute(
            select(
                func.count(),
                func.sum(c.user_messages),
                func.sum(c.fallbacks),
                _hits(c.handed_off),
                func.round(func.sum(c.response_seconds_total), 3),
                func.min(c.started_at),
                func.max(c.last_event_at),
            )
        ).one()
        surveys = session.execute(
            select(func.count(), func.sum(s.nps), func.sum(s.csat), func.count(s.comment))
        ).one()
    return (*conversations, *surveys, _count(factory, Ticket))


def test_seeds_a_year_of_history(history: History) -> None:
    summary = history.summary
    assert not summary.already_seeded
    assert summary.conversations >= 20_000
    assert summary.conversations == _count(history.factory, Conversation)
    assert summary.surveys == _count(history.factory, SurveyResponse)
    assert summary.answered == _count(
        history.factory, SurveyResponse, SurveyResponse.status != "declined"
    )
    assert summary.tickets == _count(history.factory, Ticket)
    assert 0.80 * summary.conversations < summary.surveys < 0.90 * summary.conversations
    assert 0.55 < summary.answered / summary.surveys < 0.70
    assert history.seconds < 15, f"seeding the history took {history.seconds:.1f} s"
    stages = {stage: (done, total) for stage, done, total in history.progress}
    assert stages["conversations"] == (summary.conversations, summary.conversations)
    assert stages["surveys"] == (summary.surveys, summary.surveys)


def test_nothing_after_now_and_a_year_back(history: History) -> None:
    c, s, t = Conversation, SurveyResponse, Ticket
    factory = history.factory
    assert _scalar(factory, select(func.max(c.last_event_at))) < NOW
    assert _scalar(factory, select(func.max(s.created_at))) < NOW
    assert _scalar(factory, select(func.max(s.updated_at))) < NOW
    assert _scalar(factory, select(func.max(t.created_at))) < NOW
    assert _scalar(factory, select(func.max(t.resolved_at))) < NOW
    assert _scalar(factory, select(func.min(c.started_at))) >= datetime(2025, 11, 23)
    assert _count(factory, c, c.last_event_at <= c.started_at) == 0


def test_conversation_rows_are_plausible(history: History) -> None:
    c = Conversation
    with session_scope(history.factory) as session:
        rows = session.execute(select(c).order_by(c.id)).scalars().all()
        customers = set(session.execute(select(Customer.id)).scalars())
    assert rows[0].conversation_id == "history-000001"
    assert len({row.conversation_id for row in rows}) == len(rows)
    for row in rows[:2000]:
        seconds = calendar.timegm(row.started_at.utctimetuple()) + row.started_at.microsecond / 1e6
        assert row.session_key == f"{seconds:.6f}"
        assert 120 <= (row.last_event_at - row.started_at).total_seconds() <= 900
        assert 2 <= row.user_messages <= 12
        assert row.user_messages + 1 <= row.bot_messages <= row.user_messages + 3
        assert 0 <= row.fallbacks <= row.user_messages
        assert row.responses == row.user_messages
        assert 0 < row.first_response_seconds <= row.response_seconds_total
        assert row.channel in ("socketio", "rest")
        assert row.customer_id is None or row.customer_id in customers
        assert (row.handoff_seconds is not None) == row.handed_off
    known = sum(1 for row in rows if row.customer_id is not None) / len(rows)
    assert 0.65 < known < 0.75
    socketio = sum(1 for row in rows if row.channel == "socketio") / len(rows)
    assert 0.70 < socketio < 0.80
    order_status = sum(1 for row in rows if row.topic == "order_status") / len(rows)
    assert 0.24 < order_status < 0.34
    # Fewer chats at the weekend.
    weekday = [0] * 7
    for row in rows:
        weekday[row.started_at.weekday()] += 1
    assert max(weekday[5:]) < min(weekday[:5])


def test_variants_only_in_the_last_90_days(history: History) -> None:
    c = Conversation
    factory = history.factory
    window = datetime(2026, 8, 25)  # 90 days before 2026-11-23
    assert _count(factory, c, c.variant.is_not(None), c.started_at < window) == 0
    assert _count(factory, c, c.variant.is_(None), c.started_at >= window) == 0
    a = _count(factory, c, c.variant == "A")
    b = _count(factory, c, c.variant == "B")
    assert 0.45 < a / (a + b) < 0.55


def test_every_survey_belongs_to_a_conversation(history: History) -> None:
    c, s = Conversation, SurveyResponse
    joined = and_(c.conversation_id == s.conversation_id, c.session_key == s.session_key)
    with session_scope(history.factory) as session:
        orphans = session.execute(
            select(func.count())
            .select_from(s.__table__.outerjoin(c.__table__, joined))
            .where(c.id.is_(None))
        ).scalar_one()
        mismatched = session.execute(
            select(func.count())
            .select_from(s.__table__.join(c.__table__, joined))
            .where(
                (s.topic != c.topic)
                | (s.channel != c.channel)
                | (s.human_involved != c.handed_off)
                | (s.started_at != c.started_at)
                | (s.created_at != c.last_event_at)
                | (s.updated_at != s.created_at)
                | (func.coalesce(s.customer_id, -1) != func.coalesce(c.customer_id, -1))
                | (func.coalesce(s.variant, "") != func.coalesce(c.variant, ""))
                | c.survey_asked.is_(False)
            )
        ).scalar_one()
    assert orphans == 0
    assert mismatched == 0
    assert _count(history.factory, c, c.survey_asked.is_(True)) == history.summary.surveys


def test_survey_answers_are_valid(history: History) -> None:
    s = SurveyResponse
    factory = history.factory
    assert _count(factory, s, (s.nps < 0) | (s.nps > 10) | (s.csat < 1) | (s.csat > 5)) == 0
    assert _count(factory, s, s.status == "completed", s.nps.is_(None) | s.csat.is_(None)) == 0
    assert _count(factory, s, s.status == "partial", s.nps.is_(None)) == 0
    assert _count(factory, s, s.status == "partial", s.csat.is_not(None)) == 0
    assert _count(factory, s, s.status == "declined", s.nps.is_not(None)) == 0
    assert _count(factory, s, s.status == "declined", s.comment.is_not(None)) == 0
    answered = history.summary.answered
    comments = _count(factory, s, s.comment.is_not(None))
    assert 0.10 * answered < comments < 0.20 * answered
    with session_scope(factory) as session:
        texts = set(session.execute(select(s.comment).where(s.comment.is_not(None))).scalars())
    assert not any("@" in text for text in texts)
    # Comments fit the score.
    assert _count(factory, s, s.nps >= 9, s.comment.like("%too long%")) == 0
    assert _count(factory, s, s.nps <= 6, s.comment.like("%Quick and easy%")) == 0


def test_tickets_are_the_hand_offs(history: History) -> None:
    c, t = Conversation, Ticket
    factory = history.factory
    handed_off = _count(factory, c, c.handed_off.is_(True))
    assert history.summary.tickets == handed_off
    assert _count(factory, t, t.kind != "handoff") == 0
    with session_scope(factory) as session:
        tickets = session.execute(
            select(t, c).join(c, c.conversation_id == t.conversation_id)
        ).all()
    assert len(tickets) == handed_off
    recent = datetime(2026, 11, 20)
    for ticket, conversation in tickets:
        assert conversation.handed_off
        assert ticket.customer_id == conversation.customer_id
        assert conversation.started_at < ticket.created_at < conversation.last_event_at
        assert ticket.reason
        if ticket.created_at < recent:
            assert ticket.status == "resolved"
            assert ticket.assigned_to and ticket.resolution_note
            assert ticket.created_at < ticket.resolved_at < NOW
        else:
            assert ticket.status == "open"
            assert ticket.resolved_at is None and ticket.assigned_to is None
    payment = _count(factory, c, c.topic == "payment_issue", c.handed_off.is_(True)) / _count(
        factory, c, c.topic == "payment_issue"
    )
    assert 0.22 < payment < 0.38


def test_seeding_twice_inserts_nothing(history: History) -> None:
    before = _aggregates(history.factory)
    again = seed_history(history.factory, history.settings)
    assert again.already_seeded
    assert dataclasses.replace(again, already_seeded=False) == history.summary
    assert _aggregates(history.factory) == before
    assert _count(history.factory, Meta, Meta.key == META_KEY) == 1


def test_same_seed_same_history(
    history: History, settings: Settings, session_factory: sessionmaker
) -> None:
    summary, _, _ = _seed_all(session_factory, _fixed(settings))
    assert summary == history.summary
    assert _aggregates(session_factory) == _aggregates(history.factory)


def test_without_customers_nobody_is_known(
    settings: Settings, session_factory: sessionmaker
) -> None:
    summary = seed_history(session_factory, _fixed(settings), days=30, per_day=20)
    assert 400 < summary.conversations < 800
    c = Conversation
    assert _count(session_factory, c, c.customer_id.is_not(None)) == 0
    assert _count(session_factory, Ticket, Ticket.customer_id.is_not(None)) == 0
    assert _scalar(session_factory, select(func.max(c.last_event_at))) < NOW


def test_headline_numbers(history: History) -> None:
    overall_nps = _nps(history.factory)
    overall_csat = _csat(history.factory)
    assert 15 <= overall_nps <= 40
    assert 70 <= overall_csat <= 90


def test_returns_are_the_weak_topic(history: History) -> None:
    s = SurveyResponse
    overall = _nps(history.factory)
    returns = _nps(history.factory, s.topic == "return_request")
    assert returns <= overall - 15
    assert _nps(history.factory, s.topic == "refund_status") < overall


def test_the_bad_month_shows(history: History) -> None:
    s, c = SurveyResponse, Conversation
    start, end = bad_month(date.fromisoformat(TODAY))
    assert (start, end) == (date(2026, 7, 1), date(2026, 8, 1))
    in_month = (s.started_at >= start, s.started_at < end)
    carrier_topics = s.topic.in_(("shipping_info", "order_status"))
    overall = _nps(history.factory)
    assert _nps(history.factory, carrier_topics, *in_month) < overall - 20
    assert _nps(history.factory, carrier_topics, *in_month) < 0
    # The rest of that month was ordinary.
    assert _nps(history.factory, ~carrier_topics, *in_month) > overall - 15

    def rates(*where: Any) -> tuple[float, float]:
        query = select(
            1.0 * _hits(c.handed_off) / func.count(),
            func.sum(c.response_seconds_total) / func.sum(c.responses),
        ).where(c.topic.in_(("shipping_info", "order_status")), *where)
        with session_scope(history.factory) as session:
            handoff, response = session.execute(query).one()
        return float(handoff), float(response)

    bad_handoff, bad_response = rates(c.started_at >= start, c.started_at < end)
    usual_handoff, usual_response = rates((c.started_at < start) | (c.started_at >= end))
    assert bad_handoff > 1.5 * usual_handoff
    assert bad_response > 1.5 * usual_response


def test_satisfaction_improves_over_the_year(history: History) -> None:
    s = SurveyResponse
    first = _nps(history.factory, s.started_at < datetime(2026, 3, 1))
    last = _nps(history.factory, s.started_at >= datetime(2026, 8, 1))
    assert last > first


def test_variant_b_is_a_bit_better(history: History) -> None:
    s = SurveyResponse
    a = _csat(history.factory, s.variant == "A")
    b = _csat(history.factory, s.variant == "B")
    assert b >= a
    assert b - a < 15
