"""A session's events summarised for the metrics: reply times, hand-off, fallbacks, topic."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from bot.transcripts.summaries import summarize_conversation, summarize_session

T0 = 1_795_000_000.0  # 2026-11-17 ...


def user(at: float, intent: str, text: str = "hi", channel: str = "socketio") -> dict[str, Any]:
    return {
        "event": "user",
        "timestamp": at,
        "text": text,
        "input_channel": channel,
        "parse_data": {"intent": {"name": intent, "confidence": 0.9}},
    }


def bot(at: float, text: str = "ok") -> dict[str, Any]:
    return {"event": "bot", "timestamp": at, "text": text}


def action(at: float, name: str) -> dict[str, Any]:
    return {"event": "action", "timestamp": at, "name": name}


def session(at: float) -> list[dict[str, Any]]:
    return [action(at, "action_session_start"), {"event": "session_started", "timestamp": at}]


def test_reply_times_handoff_and_fallbacks_of_one_session():
    events = [
        *session(T0),
        user(T0 + 1, "order_status"),
        action(T0 + 1.2, "action_start_order_task"),
        bot(T0 + 1.5),  # first reply 0.5 s after the first message
        bot(T0 + 1.6),  # a second bubble of the same reply is not a new response
        user(T0 + 10, "nlu_fallback"),
        bot(T0 + 12),  # 2 s
        user(T0 + 20, "out_of_scope"),
        user(T0 + 21, "request_human"),  # two messages, one reply: timed from the first
        action(T0 + 24, "action_handoff"),
        bot(T0 + 24.5),  # 4.5 s
    ]
    summary = summarize_session("c1", events)
    assert summary is not None
    assert summary.user_messages == 4
    assert summary.bot_messages == 4
    assert summary.fallbacks == 2
    assert summary.first_response_seconds == pytest.approx(0.5)
    assert summary.responses == 3
    assert summary.response_seconds_total == pytest.approx(0.5 + 2 + 4.5)
    assert summary.handed_off is True
    assert summary.handoff_seconds == pytest.approx(23.0)
    assert summary.channel == "socketio"
    assert summary.topic == "order_status"  # first of the tied intents; fallbacks don't count
    assert summary.started_at == datetime.utcfromtimestamp(T0)
    assert summary.last_event_at == datetime.utcfromtimestamp(T0 + 24.5)
    assert summary.survey_asked is False


def test_survey_answers_do_not_change_the_topic_and_mark_the_survey_asked():
    events = [
        *session(T0),
        user(T0 + 1, "return_request"),
        bot(T0 + 2),
        user(T0 + 5, "goodbye"),
        action(T0 + 5.1, "action_start_survey"),
        bot(T0 + 5.3),
        user(T0 + 8, "product_info", text="9"),
        user(T0 + 9, "product_info", text="5"),
    ]
    summary = summarize_session("c2", events)
    assert summary is not None
    assert summary.topic == "return_request"
    assert summary.survey_asked is True
    assert summary.handed_off is False and summary.handoff_seconds is None
    # The last two messages were never answered: they are not counted as responses.
    assert summary.responses == 2


def test_a_session_where_the_customer_never_wrote_is_not_a_conversation():
    assert summarize_session("c3", session(T0) + [bot(T0 + 1, "Hi!")]) is None
    assert summarize_session("c3", []) is None


def test_each_session_of_a_conversation_is_summarised_on_its_own():
    events = [
        *session(T0),
        user(T0 + 1, "shipping_info"),
        bot(T0 + 2),
        *session(T0 + 7200),
        user(T0 + 7201, "payment_issue"),
        bot(T0 + 7201.25),
    ]
    first, second = summarize_conversation("c4", events, customer_id=7)
    assert (first.topic, second.topic) == ("shipping_info", "payment_issue")
    assert first.session_key != second.session_key
    assert second.first_response_seconds == pytest.approx(0.25)
    assert first.customer_id == second.customer_id == 7


def active_loop(at: float, name: str | None) -> dict[str, Any]:
    return {"event": "active_loop", "timestamp": at, "name": name}


def test_survey_answers_are_not_counted_as_misunderstood_but_later_misses_are():
    events = [
        *session(T0),
        user(T0 + 1, "order_status"),
        bot(T0 + 2),
        user(T0 + 10, "nlu_fallback", "asdfgh"),  # a real miss before the survey
        bot(T0 + 11),
        user(T0 + 20, "goodbye"),
        action(T0 + 20.5, "action_start_survey"),
        action(T0 + 20.6, "survey_form"),
        active_loop(T0 + 20.6, "survey_form"),
        bot(T0 + 21, "how likely are you to recommend us, from 0 to 10?"),
        user(T0 + 30, "nlu_fallback", "9"),
        bot(T0 + 31),
        user(T0 + 40, "nlu_fallback", "5"),
        bot(T0 + 41),
        user(T0 + 50, "out_of_scope", "the delivery man was lovely"),
        active_loop(T0 + 51, None),
        bot(T0 + 51, "Thank you for your feedback"),
        user(T0 + 60, "nlu_fallback", "qwerty"),  # after the survey: a miss again
        bot(T0 + 61),
    ]
    summary = summarize_session("c1", events)
    assert summary is not None
    assert summary.fallbacks == 2
    assert summary.survey_asked is True
    assert summary.topic == "order_status"
