"""A manager's metric question: metrics, period, topic cut, breakdown and pain points."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.metrics.periods import default_period, parse_period
from bot.metrics.questions import (
    METRIC_LABELS,
    METRICS,
    TOPIC_LABELS,
    TOPICS,
    MetricQuestion,
    parse_metric_question,
)

TODAY = date(2026, 11, 23)


def ask(text: str, metrics: tuple[str, ...] = (), period: str | None = None) -> MetricQuestion:
    return parse_metric_question(text, TODAY, metrics, period)


def test_labels_cover_every_metric_and_topic() -> None:
    assert set(METRIC_LABELS) == set(METRICS)
    assert set(TOPIC_LABELS) == set(TOPICS)
    assert METRIC_LABELS["clv"] == "Customer lifetime value"
    assert TOPIC_LABELS["return_request"] == "returns"


# --- the brief's examples -----------------------------------------------------------------


def test_nps_last_30_days() -> None:
    q = ask("NPS last 30 days")
    assert q.metrics == ("nps",)
    assert q.period_given
    assert q.period.label == "last 30 days"
    assert (q.topic, q.by, q.pain_points) == (None, None, False)


def test_nps_this_month() -> None:
    q = ask("what's our NPS this month?")
    assert q.metrics == ("nps",)
    assert (q.period.start, q.period.end) == (datetime(2026, 11, 1), datetime(2026, 11, 24))


def test_csat_for_returns_last_month() -> None:
    q = ask("CSAT for returns last month")
    assert q.metrics == ("csat",)
    assert q.topic == "return_request"
    assert q.period.start == datetime(2026, 10, 1)


def test_nps_by_topic() -> None:
    q = ask("nps by topic")
    assert (q.metrics, q.by, q.topic) == (("nps",), "topic", None)
    assert not q.period_given
    assert q.period == default_period(TODAY)


def test_where_are_we_worst() -> None:
    q = ask("where are we worst?")
    assert q.pain_points
    assert q.metrics == ()


def test_how_are_we_doing() -> None:
    q = ask("how are we doing?")
    assert (q.metrics, q.topic, q.by, q.pain_points, q.period_given) == (
        (),
        None,
        None,
        False,
        False,
    )


def test_first_response_time_yesterday() -> None:
    q = ask("first response time yesterday")
    assert q.metrics == ("first_response_time",)
    assert q.period.label == "yesterday"


def test_survey_response_rate_this_quarter() -> None:
    q = ask("survey response rate this quarter")
    assert q.metrics == ("survey_response_rate",)
    assert q.period.start == datetime(2026, 10, 1)


def test_hand_off_rate_for_q3() -> None:
    q = ask("hand-off rate for Q3")
    assert q.metrics == ("handoff_rate",)
    assert q.topic is None
    assert q.period.label == "Q3 2026"


# --- metrics ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "metrics"),
    [
        ("what's our net promoter score", ("nps",)),
        ("promoter score please", ("nps",)),
        ("customer satisfaction", ("csat",)),
        ("how satisfied are customers", ("csat",)),
        ("retention rate", ("retention",)),
        ("churn", ("churn",)),
        ("CLV", ("clv",)),
        ("LTV of our customers", ("clv",)),
        ("customer lifetime value", ("clv",)),
        ("first response time", ("first_response_time",)),
        ("FRT this week", ("first_response_time",)),
        ("response time", ("response_time",)),
        ("how fast do we answer?", ("response_time",)),
        ("containment", ("containment",)),
        ("how many chats are handled alone by the bot", ("containment",)),
        ("handoff rate", ("handoff_rate",)),
        ("hand-off rate", ("handoff_rate",)),
        ("how many handovers", ("handoff_rate",)),
        ("escalation rate", ("handoff_rate",)),
        ("fallback rate", ("fallback_rate",)),
        ("how often did the bot not understand", ("fallback_rate",)),
        ("how often the bot didn't understand", ("fallback_rate",)),
        ("survey response rate", ("survey_response_rate",)),
        ("response rate on surveys", ("survey_response_rate",)),
        ("how many customers answer the survey", ("survey_response_rate",)),
        ("how many chats were handed off last week?", ("handoff_rate",)),
        ("how many conversations went to a human yesterday", ("handoff_rate",)),
        ("how many chats were passed to an agent", ("handoff_rate",)),
        ("customers transferred to the team in March", ("handoff_rate",)),
        ("what share of chats did the bot handle on its own", ("containment",)),
        ("how many surveys were answered this week", ("survey_response_rate",)),
        ("NPS and CSAT", ("nps", "csat")),
        ("churn vs retention", ("churn", "retention")),
        ("response time and first response time", ("response_time", "first_response_time")),
    ],
)
def test_metric_keywords(text: str, metrics: tuple[str, ...]) -> None:
    assert ask(text).metrics == metrics


@pytest.mark.parametrize(
    "text", ["how are we doing?", "show me the numbers", "I want to understand returns"]
)
def test_no_metric(text: str) -> None:
    assert ask(text).metrics == ()


def test_entities_come_first_deduplicated_in_order() -> None:
    q = ask("csat and nps and churn", metrics=("churn", "nps", "churn"))
    assert q.metrics == ("churn", "nps", "csat")


def test_entity_values_are_canonicalised_or_dropped() -> None:
    q = ask(
        "how are we doing", metrics=("NPS", "net promoter score", "first response time", "bogus")
    )
    assert q.metrics == ("nps", "first_response_time")


def test_every_metric_is_canonical() -> None:
    q = ask("nps csat retention churn clv response time first response containment "
            "handoff rate fallback survey response rate")  # fmt: skip
    assert set(q.metrics) == set(METRICS) and len(q.metrics) == len(METRICS)


# --- period -------------------------------------------------------------------------------


def test_period_entity_wins_when_it_parses() -> None:
    q = ask("nps last month", period="last week")
    assert q.period_given
    assert q.period.label == "last week"


def test_unparseable_period_entity_falls_back_to_the_text() -> None:
    q = ask("nps last month", period="the other day")
    assert q.period == parse_period("last month", TODAY)


def test_no_period_gives_the_default() -> None:
    q = ask("nps please", period="whenever")
    assert not q.period_given
    assert q.period == default_period(TODAY)


def test_nonsense_period_gives_the_default() -> None:
    q = ask("nps last 0 days")
    assert not q.period_given
    assert q.period == default_period(TODAY)


# --- topic --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("CSAT for returns", "return_request"),
        ("nps for return requests", "return_request"),
        ("nps on refunds", "refund_status"),
        ("csat about shipping", "shipping_info"),
        ("csat for deliveries", "shipping_info"),
        ("nps for cancellations", "cancel_order"),
        ("nps for order cancellations", "cancel_order"),
        ("csat in payments", "payment_issue"),
        ("csat with card problems", "payment_issue"),
        ("nps for address changes", "change_address"),
        ("csat for account questions", "account_help"),
        ("csat on login", "account_help"),
        ("csat for password resets", "account_help"),
        ("nps for products", "product_info"),
        ("nps for product recommendations", "ask_recommendation"),
        ("csat for complaints", "complaint"),
        ("csat for order status", "order_status"),
        ("csat for order tracking", "order_status"),
        ("csat for where is my order chats", "order_status"),
        ("CSAT for hand-off requests", "request_human"),
        ("shipping questions nps", "shipping_info"),
        ("how's csat on the returns this month", "return_request"),
    ],
)
def test_topic(text: str, topic: str) -> None:
    assert ask(text).topic == topic


@pytest.mark.parametrize(
    "text",
    [
        "NPS for last month",
        "hand-off rate",
        "hand-off rate for Q3",
        "what is the trend for hand-off rate",
        "nps for each topic",
        "what should we do in order to improve NPS",
        "csat for customers",
        "survey response rate",
        "return rate",
    ],
)
def test_no_topic(text: str) -> None:
    assert ask(text).topic is None


def test_hand_off_requests_are_a_topic_not_a_metric() -> None:
    q = ask("CSAT for hand-off requests")
    assert q.metrics == ("csat",)
    assert q.topic == "request_human"


# --- breakdown and pain points ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "by"),
    [
        ("nps by topic", "topic"),
        ("csat per topic", "topic"),
        ("nps broken down by topic", "topic"),
        ("nps for each topic", "topic"),
        ("csat topic by topic", "topic"),
        ("nps by channel", "channel"),
        ("csat per channel", "channel"),
        ("nps by variant", "variant"),
        ("nps by experiment", "variant"),
        ("csat per variant", "variant"),
        ("nps last month", None),
        ("nps by the way", None),
    ],
)
def test_breakdown(text: str, by: str | None) -> None:
    assert ask(text).by == by


@pytest.mark.parametrize(
    "text",
    [
        "where are we worst?",
        "where are we weakest",
        "what are our pain points",
        "what should we improve?",
        "worst topics",
        "where do we do badly",
        "what are our biggest problems",
    ],
)
def test_pain_points(text: str) -> None:
    assert ask(text).pain_points


@pytest.mark.parametrize("text", ["how are we doing?", "nps by topic", "what was the best month"])
def test_not_pain_points(text: str) -> None:
    assert not ask(text).pain_points
