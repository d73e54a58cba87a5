"""Survey snapshots read from Rasa's stored events, as the action and the backfill see them."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.survey.records import (
    MAX_COMMENT_LENGTH,
    clean_comment,
    current_session,
    main_topic,
    needs_follow_up,
    session_key,
    snapshot_of_session,
    snapshots_with_surveys,
    split_sessions,
    survey_status,
)

PROPERTY = settings(max_examples=100, deadline=None, database=None)

T0 = 1_700_000_000.0
Event = dict[str, Any]


class Chat:
    """The events of one conversation, in the shape Rasa's tracker store keeps them."""

    def __init__(self, start: float = T0) -> None:
        self.now = start
        self.events: list[Event] = []
        self.session_started_at: list[float] = []

    def _add(self, event: Event) -> Event:
        self.now = round(self.now + 0.25, 6)
        event["timestamp"] = self.now
        self.events.append(event)
        return event

    def action(self, name: str) -> None:
        self._add({"event": "action", "name": name, "policy": "RulePolicy", "confidence": 1.0})

    def slot(self, name: str, value: Any) -> None:
        self._add({"event": "slot", "name": name, "value": value})

    def user(self, text: str, intent: str | None, channel: str | None = "rest") -> None:
        self._add(
            {
                "event": "user",
                "text": text,
                "parse_data": {
                    "intent": {"name": intent, "confidence": 0.9},
                    "entities": [],
                    "text": text,
                },
                "input_channel": channel,
                "message_id": f"m{len(self.events)}",
            }
        )

    def bot(self, text: str) -> None:
        self._add({"event": "bot", "text": text, "data": {}})

    def new_session(self, gap: float = 0.0) -> None:
        """What `action_session_start` writes: the action first, then `session_started`."""
        self.now += gap
        self.action("action_session_start")
        started = self._add({"event": "session_started"})
        self.session_started_at.append(started["timestamp"])
        self.action("action_listen")

    def say(self, text: str, intent: str | None, channel: str | None = "rest") -> None:
        self.user(text, intent, channel)
        self.bot("...")
        self.action("action_listen")

    def start_survey(self) -> None:
        """What ActionStartSurvey returns, then the form taking over."""
        self.action("action_start_survey")
        self.slot("survey_asked", True)
        self.slot("survey_failures", 0.0)
        self.slot("survey_skipped", [])
        for name in ("nps_score", "csat_score", "survey_comment", "survey_status"):
            self.slot(name, None)
        self.action("survey_form")
        self._add({"event": "active_loop", "name": "survey_form"})
        self.slot("requested_slot", "nps_score")
        self.action("action_listen")

    def answer(self, text: str, intent: str, slot: str, value: Any, channel: str = "rest") -> None:
        self.user(text, intent, channel)
        self.action("survey_form")
        self.slot(slot, value)
        self.action("action_listen")

    def submit(self, status: str) -> None:
        self._add({"event": "active_loop", "name": None})
        self.action("action_survey_submit")
        self.slot("survey_status", status)


def key_of(timestamp: float) -> str:
    return session_key({"timestamp": timestamp})


def live_view(events: list[Event]) -> list[Event]:
    """The events the action server gets from Rasa's SQL tracker store: from the latest
    `session_started` on (`SQLTrackerStore.retrieve` filters on its timestamp)."""
    latest = max(e["timestamp"] for e in events if e["event"] == "session_started")
    return [e for e in events if e["timestamp"] >= latest]


def completed_chat() -> Chat:
    chat = Chat()
    chat.new_session()
    chat.say("hi", "greet", channel="telegram")
    chat.say("where is my order 104233", "order_status", channel="telegram")
    chat.say("when will it arrive", "delivery_time", channel="telegram")
    chat.say("and my other order?", "order_status", channel="telegram")
    chat.say("thanks, bye", "goodbye", channel="telegram")
    chat.start_survey()
    chat.answer("9", "inform", "nps_score", 9.0, channel="telegram")
    chat.answer("⭐⭐⭐⭐⭐", "inform", "csat_score", 5.0, channel="telegram")
    chat.answer(
        "Quick  help!  Mail me at jane.doe@example.com or call 0170 1234567",
        "inform",
        "survey_comment",
        "Quick  help!  Mail me at jane.doe@example.com or call 0170 1234567",
        channel="telegram",
    )
    chat.submit("completed")
    return chat


# --- Whole conversations -----------------------------------------------------------------------


def test_a_completed_survey() -> None:
    chat = completed_chat()
    [snapshot] = snapshots_with_surveys("conv-1", chat.events)
    assert snapshot.conversation_id == "conv-1"
    assert (snapshot.nps, snapshot.csat) == (9, 5)
    assert snapshot.status == "completed"
    assert not snapshot.declined
    assert snapshot.has_answers
    assert snapshot.topic == "order_status"
    assert snapshot.channel == "telegram"
    assert snapshot.comment == "Quick help! Mail me at [email] or call [phone]"
    assert not snapshot.human_involved
    assert snapshot.email is None
    # A session is identified by when it started.
    started = chat.session_started_at[0]
    assert snapshot.session_key == key_of(started)
    expected_start = datetime.fromtimestamp(started, tz=timezone.utc).replace(tzinfo=None)
    assert snapshot.started_at == expected_start
    assert not needs_follow_up(snapshot.nps, snapshot.csat)


def test_the_action_and_the_backfill_see_the_same_snapshot() -> None:
    chat = completed_chat()
    chat.new_session(gap=3600)
    chat.say("do you sell umbrellas", "product_search")
    chat.start_survey()
    chat.answer("3", "inform", "nps_score", 3.0)
    backfilled = snapshots_with_surveys("conv-1", chat.events)
    live = snapshot_of_session("conv-1", current_session(live_view(chat.events)))
    in_memory = snapshot_of_session("conv-1", current_session(chat.events))
    assert live == in_memory == backfilled[-1]


def test_a_declined_survey() -> None:
    chat = Chat()
    chat.new_session()
    chat.say("I want to return my shoes", "return_request")
    chat.start_survey()
    chat.user("no thanks", "deny")
    chat.action("survey_form")
    chat.slot("nps_score", None)
    chat.slot("survey_status", "declined")
    chat.submit("declined")
    [snapshot] = snapshots_with_surveys("conv-2", chat.events)
    assert snapshot.declined
    assert snapshot.status == "declined"
    assert (snapshot.nps, snapshot.csat, snapshot.comment) == (None, None, None)
    assert not snapshot.has_answers
    assert snapshot.topic == "return_request"


def test_a_partial_survey_with_the_nps_only() -> None:
    chat = Chat()
    chat.new_session()
    chat.say("my parcel is damaged", "complaint")
    chat.start_survey()
    chat.answer("four", "inform", "nps_score", 4.0)
    # The customer closes the chat: no CSAT, no comment, no submit.
    [snapshot] = snapshots_with_surveys("conv-3", chat.events)
    assert (snapshot.nps, snapshot.csat, snapshot.comment) == (4, None, None)
    assert snapshot.status == "partial"
    assert not snapshot.declined
    assert snapshot.topic == "complaint"
    assert needs_follow_up(snapshot.nps, snapshot.csat)


def test_declining_after_the_nps_keeps_the_nps() -> None:
    chat = Chat()
    chat.new_session()
    chat.say("where is my order", "order_status")
    chat.start_survey()
    chat.answer("8", "inform", "nps_score", 8.0)
    chat.user("skip", "deny")
    chat.slot("csat_score", None)
    chat.slot("survey_status", "declined")
    [snapshot] = snapshots_with_surveys("conv-4", chat.events)
    assert snapshot.nps == 8
    assert snapshot.csat is None
    assert snapshot.status == "partial"


def test_two_sessions_in_one_conversation_give_two_snapshots() -> None:
    chat = Chat()
    chat.new_session()
    chat.say("where is my order", "order_status")
    chat.start_survey()
    chat.answer("10", "inform", "nps_score", 10.0)
    chat.answer("5", "inform", "csat_score", 5.0)
    chat.submit("completed")
    chat.new_session(gap=7200)
    chat.say("I want to return a jacket", "return_request", channel="socketio")
    chat.say("how do I send it back", "return_request", channel="socketio")
    chat.start_survey()
    chat.answer("2", "inform", "nps_score", 2.0, channel="socketio")
    chat.answer("1", "inform", "csat_score", 1.0, channel="socketio")
    chat.submit("completed")

    first, second = snapshots_with_surveys("conv-5", chat.events)
    assert first.session_key != second.session_key
    assert [first.session_key, second.session_key] == [key_of(t) for t in chat.session_started_at]
    assert first.started_at is not None and second.started_at is not None
    assert first.started_at < second.started_at
    assert (first.nps, first.csat, first.topic, first.channel) == (10, 5, "order_status", "rest")
    assert (second.nps, second.csat, second.topic) == (2, 1, "return_request")
    assert second.channel == "socketio"
    assert needs_follow_up(second.nps, second.csat)
    assert not needs_follow_up(first.nps, first.csat)


def test_a_session_without_a_survey_has_no_snapshot() -> None:
    chat = Chat()
    chat.new_session()
    chat.say("hi", "greet")
    chat.say("where is my order", "order_status")
    chat.slot("order_number", "104233")
    assert snapshots_with_surveys("conv-6", chat.events) == []

    # Surveyed in the next session only: one snapshot, for that session.
    chat.new_session(gap=3600)
    chat.say("is the jacket in stock", "product_search")
    chat.start_survey()
    chat.answer("7", "inform", "nps_score", 7.0)
    [snapshot] = snapshots_with_surveys("conv-6", chat.events)
    assert snapshot.session_key == key_of(chat.session_started_at[1])
    assert snapshot.topic == "product_search"


def test_a_survey_asked_but_never_answered_counts_as_declined() -> None:
    chat = Chat()
    chat.new_session()
    chat.say("where is my order", "order_status")
    chat.start_survey()
    chat.submit("declined")
    [snapshot] = snapshots_with_surveys("conv-7", chat.events)
    assert snapshot.asked
    assert not snapshot.has_answers
    assert snapshot.status == "declined"
    assert snapshot.topic == "order_status"


def test_no_events_no_snapshots() -> None:
    assert snapshots_with_surveys("conv-0", []) == []
    assert split_sessions([]) == []
    assert current_session([]) == []


def test_survey_answers_do_not_count_for_the_topic() -> None:
    chat = Chat()
    chat.new_session()
    chat.say("where is my order", "order_status")
    chat.start_survey()
    # NLU reads the answers as something else entirely.
    chat.answer("9", "return_request", "nps_score", 9.0)
    chat.answer("5", "return_request", "csat_score", 5.0)
    chat.answer("returns were easy", "return_request", "survey_comment", "returns were easy")
    chat.say("bye", "return_request")
    [snapshot] = snapshots_with_surveys("conv-8", chat.events)
    assert snapshot.topic == "order_status"


def test_only_survey_answers_with_topic_intents_give_other() -> None:
    chat = Chat()
    chat.new_session()
    chat.say("hello", "greet")
    chat.say("thanks", "thank_you")
    chat.start_survey()
    chat.answer("10", "product_search", "nps_score", 10.0)
    [snapshot] = snapshots_with_surveys("conv-9", chat.events)
    assert snapshot.topic == "other"


def test_a_hand_off_marks_the_session_human_involved() -> None:
    chat = Chat()
    chat.new_session()
    chat.say("my parcel never arrived", "complaint")
    chat.say("I want to talk to a person", "request_human")
    chat.action("action_handoff")
    chat.slot("ticket_id", "17")
    chat.start_survey()
    chat.answer("3", "inform", "nps_score", 3.0)
    chat.new_session(gap=3600)
    chat.say("where is my order", "order_status")
    chat.start_survey()
    chat.answer("8", "inform", "nps_score", 8.0)
    with_person, without = snapshots_with_surveys("conv-10", chat.events)
    assert with_person.human_involved
    assert not without.human_involved
    assert with_person.topic == "complaint"


def test_the_channel_comes_from_the_user_events() -> None:
    chat = Chat()
    chat.new_session()
    chat.say("where is my order", "order_status", channel=None)
    chat.start_survey()
    chat.answer("8", "inform", "nps_score", 8.0)
    # Without any channel on the user events.
    for event in chat.events:
        event.pop("input_channel", None)
    [snapshot] = snapshots_with_surveys("conv-11", chat.events)
    assert snapshot.channel == "unknown"


def test_the_customer_email_slot_is_kept_for_linking() -> None:
    chat = Chat()
    chat.new_session()
    chat.say("where is my order", "order_status")
    chat.slot("email", "maria.lopez@example.com")
    chat.start_survey()
    chat.answer("8", "inform", "nps_score", 8.0)
    [snapshot] = snapshots_with_surveys("conv-12", chat.events)
    assert snapshot.email == "maria.lopez@example.com"


# --- Slot values that are not scores -----------------------------------------------------------


def session_with(nps: Any = None, csat: Any = None) -> list[Event]:
    chat = Chat()
    chat.new_session()
    chat.say("where is my order", "order_status")
    chat.start_survey()
    chat.slot("nps_score", nps)
    chat.slot("csat_score", csat)
    return current_session(chat.events)


NOT_SCORES = [
    "abc",
    "",
    "nine",
    "9/10",
    True,
    False,
    [9],
    {"value": 9},
    9.5,
    float("nan"),
    float("inf"),
    float("-inf"),
]


@pytest.mark.parametrize("value", [11, 11.0, "11", -1, -0.5, 100, *NOT_SCORES], ids=repr)
def test_invalid_nps_slot_values_never_become_scores(value: Any) -> None:
    assert snapshot_of_session("c", session_with(nps=value)).nps is None


@pytest.mark.parametrize("value", [0, 0.0, "0", 6, 6.0, -3, 10, *NOT_SCORES], ids=repr)
def test_invalid_csat_slot_values_never_become_scores(value: Any) -> None:
    assert snapshot_of_session("c", session_with(csat=value)).csat is None


@pytest.mark.parametrize(("value", "expected"), [(9.0, 9), (9, 9), ("9", 9), (0.0, 0), (10, 10)])
def test_valid_nps_slot_values(value: Any, expected: int) -> None:
    assert snapshot_of_session("c", session_with(nps=value)).nps == expected


@pytest.mark.parametrize(("value", "expected"), [(1.0, 1), (5, 5), ("3", 3), (4.0, 4)])
def test_valid_csat_slot_values(value: Any, expected: int) -> None:
    assert snapshot_of_session("c", session_with(csat=value)).csat == expected


def test_a_session_with_only_invalid_answers_has_no_scores() -> None:
    chat = Chat()
    chat.new_session()
    chat.say("where is my order", "order_status")
    chat.start_survey()
    chat.slot("nps_score", 11)
    chat.slot("csat_score", 0)
    chat.slot("survey_comment", "   ")
    [snapshot] = snapshots_with_surveys("c", chat.events)
    assert (snapshot.nps, snapshot.csat, snapshot.comment) == (None, None, None)
    # No usable answer counts as declined.
    assert snapshot.status == "declined"


SLOT_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    # Integers a float can hold; see test_a_huge_integer_slot_value_is_not_a_score.
    st.integers(min_value=-(10**300), max_value=10**300),
    st.floats(),
    st.text(max_size=10),
    st.from_regex(r"-?[0-9]{1,3}(\.[0-9]{1,2})?", fullmatch=True),
    st.lists(st.integers(0, 10), max_size=2),
)


@PROPERTY
@given(nps=SLOT_VALUES, csat=SLOT_VALUES)
def test_slot_values_become_scores_only_when_valid(nps: Any, csat: Any) -> None:
    snapshot = snapshot_of_session("c", session_with(nps=nps, csat=csat))
    for score, raw, low, high in ((snapshot.nps, nps, 0, 10), (snapshot.csat, csat, 1, 5)):
        if score is None:
            continue
        assert isinstance(score, int) and not isinstance(score, bool)
        assert low <= score <= high
        assert not isinstance(raw, bool)
        assert math.isclose(float(raw), score)


def test_a_huge_integer_slot_value_is_not_a_score() -> None:
    assert snapshot_of_session("c", session_with(nps=10**400)).nps is None


# --- The pieces --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nps", "csat", "comment", "expected"),
    [
        (9, 5, None, "completed"),
        (0, 1, "meh", "completed"),
        (9, None, None, "partial"),
        (None, 4, None, "partial"),
        (None, None, "a comment only", "partial"),
        (None, None, None, "declined"),  # asked, but no usable answer
    ],
)
def test_survey_status(nps, csat, comment, expected: str) -> None:
    assert survey_status(nps, csat, comment) == expected


@pytest.mark.parametrize(
    ("nps", "csat", "expected"),
    [
        (6, None, True),  # a detractor
        (0, 5, True),
        (7, None, False),  # a passive
        (10, 5, False),
        (None, 2, True),  # unhappy
        (9, 1, True),
        (None, 3, False),
        (None, None, False),
    ],
)
def test_needs_follow_up(nps, csat, expected: bool) -> None:
    assert needs_follow_up(nps, csat) is expected


def test_needs_follow_up_with_other_thresholds() -> None:
    assert needs_follow_up(7, None, nps_max=7)
    assert not needs_follow_up(6, None, nps_max=5)
    assert needs_follow_up(None, 3, csat_max=3)
    assert not needs_follow_up(None, 2, csat_max=1)


@pytest.mark.parametrize(
    ("intents", "expected"),
    [
        (["greet", "order_status", "order_status", "delivery_time", "goodbye"], "order_status"),
        (["delivery_time", "order_status"], "delivery_time"),  # a tie: the first one
        (["order_status", "delivery_time", "delivery_time", "order_status"], "order_status"),
        (["greet", "thank_you", "affirm", "deny", "goodbye", "nlu_fallback"], "other"),
        (["out_of_scope", "bot_challenge", "session_start", ""], "other"),
        ([], "other"),
    ],
)
def test_main_topic(intents: list[str], expected: str) -> None:
    assert main_topic(intents) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, None),
        ("", None),
        ("  \n\t ", None),
        ("  great \n\n help  ", "great help"),
        ("write to jane@example.com", "write to [email]"),
        ("call 0170 1234567, order 104233", "call [phone], order 104233"),
        (12345, "12345"),
    ],
)
def test_clean_comment(text: Any, expected: str | None) -> None:
    assert clean_comment(text) == expected


def test_clean_comment_is_bounded() -> None:
    cleaned = clean_comment("word " * 1000)
    assert cleaned is not None
    assert 0 < len(cleaned) <= MAX_COMMENT_LENGTH
    assert cleaned.startswith("word word")


@pytest.mark.parametrize(
    ("tail", "leaked"),
    [("jane.doe@example.com", "jane.doe"), ("4111 1111 1111 1111", "4111 111")],
)
def test_personal_data_cut_at_the_length_limit_is_still_masked(tail: str, leaked: str) -> None:
    # The limit falls 8 characters into the address or number.
    text = "x" * (MAX_COMMENT_LENGTH - 9) + " " + tail
    cleaned = clean_comment(text)
    assert cleaned is not None
    assert leaked not in cleaned


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"event": "session_started", "timestamp": 1700000000.2}, "1700000000.200000"),
        ({"timestamp": 1700000000}, "1700000000.000000"),
        ({"timestamp": 1700000000.1234567}, "1700000000.123457"),
        ({"timestamp": "1700000000"}, "0"),
        ({"event": "session_started"}, "0"),
    ],
)
def test_session_key(event: Event, expected: str) -> None:
    assert session_key(event) == expected


@PROPERTY
@given(
    kinds=st.lists(
        st.sampled_from(["session_started", "action", "user", "slot", "bot"]), max_size=30
    )
)
def test_split_sessions_keeps_every_event_once_and_in_order(kinds: list[str]) -> None:
    events = [{"event": kind, "timestamp": T0 + i} for i, kind in enumerate(kinds)]
    sessions = split_sessions(events)
    assert [e for s in sessions for e in s] == events
    assert all(sessions)
    for session in sessions[1:]:
        assert session[0]["event"] == "session_started"
    assert sum(e["event"] == "session_started" for s in sessions for e in s[1:]) == 0
