"""Understand a manager's metric question: which metrics, over which period, for which topic.

`parse_metric_question` combines what Rasa's NLU extracted (metric entities, a period entity)
with keyword matching over the raw text, for whatever the NLU missed. Pure: no I/O, no Rasa.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from bot.metrics.periods import Period, default_period, parse_period

METRICS: Final = (
    "nps",
    "csat",
    "retention",
    "churn",
    "clv",
    "response_time",
    "first_response_time",
    "containment",
    "handoff_rate",
    "fallback_rate",
    "survey_response_rate",
)
METRIC_LABELS: Final[dict[str, str]] = {
    "nps": "NPS",
    "csat": "CSAT",
    "retention": "Retention",
    "churn": "Churn",
    "clv": "Customer lifetime value",
    "response_time": "Response time",
    "first_response_time": "First response time",
    "containment": "Containment",
    "handoff_rate": "Hand-off rate",
    "fallback_rate": "Fallback rate",
    "survey_response_rate": "Survey response rate",
}

# Canonical topics are the Rasa intent names.
TOPICS: Final = (
    "order_status",
    "cancel_order",
    "return_request",
    "refund_status",
    "shipping_info",
    "change_address",
    "payment_issue",
    "account_help",
    "product_info",
    "ask_recommendation",
    "request_human",
    "complaint",
)
TOPIC_LABELS: Final[dict[str, str]] = {
    "order_status": "order status",
    "cancel_order": "cancellations",
    "return_request": "returns",
    "refund_status": "refunds",
    "shipping_info": "shipping",
    "change_address": "address changes",
    "payment_issue": "payments",
    "account_help": "accounts",
    "product_info": "product questions",
    "ask_recommendation": "recommendations",
    "request_human": "hand-off requests",
    "complaint": "complaints",
}

BREAKDOWNS: Final = ("topic", "channel", "variant")


@dataclass(frozen=True)
class MetricQuestion:
    """What a metric question asks.

    Attributes:
        metrics: Canonical metric names (see `METRICS`), in the order asked; empty when the
            question names none (the bot should ask which one).
        period: The period asked about, or the default last 30 days.
        period_given: Whether the question named the period.
        topic: A canonical topic (see `TOPICS`) to restrict to, or None.
        by: "topic", "channel" or "variant" for a breakdown, or None.
        pain_points: Whether the question asks where we do worst.
    """

    metrics: tuple[str, ...]
    period: Period
    period_given: bool
    topic: str | None
    by: str | None
    pain_points: bool


def parse_metric_question(
    text: str,
    today: date,
    metric_entities: Sequence[str] = (),
    period_entity: str | None = None,
) -> MetricQuestion:
    """Understand a metric question from its text and the NLU's entities.

    Args:
        text: The manager's message, e.g. "CSAT for returns last month".
        today: The current date (UTC).
        metric_entities: Metric entity values from the NLU; canonical names are kept, other
            values are read like text ("net promoter score" is nps), the rest are dropped.
        period_entity: The period entity's text from the NLU, if any. Used when it parses;
            otherwise the period is looked for in `text`.

    Returns:
        The question. Metrics from the entities come first, then any others named in the
        text; each appears once.
    """
    normalised = _normalise(text)
    from_entities = [m for value in metric_entities for m in _entity_metrics(value)]
    metrics = tuple(dict.fromkeys([*from_entities, *_find_metrics(normalised)]))

    period = parse_period(period_entity, today) if period_entity else None
    if period is None:
        period = parse_period(text, today)
    period_given = period is not None
    if period is None:
        period = default_period(today)

    return MetricQuestion(
        metrics=metrics,
        period=period,
        period_given=period_given,
        topic=_find_topic(normalised),
        by=_find_breakdown(normalised),
        pain_points=any(p.search(normalised) for p in _PAIN_POINTS),
    )


def _normalise(text: str) -> str:
    """Lower case; apostrophes dropped ("didn't" -> "didnt"), other punctuation to spaces."""
    text = re.sub(r"['\u2019]", "", text.lower())
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _words(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(patterns) + r")\b")


def _alternation(phrases: Iterable[str]) -> str:
    """Plain phrases as a regex alternation, longest first."""
    return "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))


# --- metrics ----------------------------------------------------------------------------------

# In priority order: a phrase claimed by one metric is masked before the next looks, so that
# "first response time" is not also response_time and "survey response rate" is not either.
_METRIC_PATTERNS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    (
        "survey_response_rate",
        _words(
            r"surveys?\s+(?:response|answer|completion|participation)\s+rates?",
            r"(?:response|answer|completion)\s+rates?(?:\s+(?:on|for|of|to|in)\s+(?:the\s+|our\s+)?surveys?)?",
            r"(?:answer|answers|answered|answering|complete|completes|completed|fill\s+in|fill\s+out"
            r"|filled\s+in|filled\s+out|respond\s+to|responded\s+to)\s+(?:the\s+|our\s+|a\s+)?surveys?",
            r"surveys?\s+(?:(?:were|was|got|get|gets|are|is|have\s+been|has\s+been)\s+)?"
            r"(?:answered|completed|filled\s+(?:in|out)|returned)",
        ),
    ),
    ("first_response_time", _words(r"first\s+(?:response|reply|answer)(?:\s+times?)?", r"frt")),
    (
        "response_time",
        _words(r"(?:response|reply|wait|waiting)\s+times?", r"how\s+(?:fast|quick|quickly)"),
    ),
    (
        "handoff_rate",
        _words(
            r"hand\s?(?:off|over)s?(?!\s+requests?\b)",
            r"hand(?:ed|s|ing)\s+(?:off|over)",
            r"escalat(?:e|es|ed|ion|ions)",
            r"(?:transfers?|transferred|passed|went|gone|sent|routed)\s+(?:on\s+)?to\s+"
            r"(?:a\s+|an\s+|the\s+)?(?:human|agent|person|people|staff|team)s?",
        ),
    ),
    (
        "fallback_rate",
        _words(
            r"fall\s?backs?",
            r"(?:not|never|cannot|didnt|doesnt|dont|cant|couldnt|wasnt|isnt|fail|fails|failed)"
            r"\s+(?:to\s+)?understand(?:s|ing)?",
            r"misunderst(?:and|ands|ood|anding)",
        ),
    ),
    (
        "containment",
        _words(
            r"containment",
            r"contained",
            r"handle[sd]?\s+(?:\w+\s+){0,3}?(?:alone|on\s+its\s+own|by\s+itself)",
            r"without\s+(?:a\s+|an\s+)?(?:human|agent|person|hand\s?off)s?",
        ),
    ),
    ("nps", _words(r"nps", r"net\s+promoter", r"promoter\s+score")),
    ("csat", _words(r"csat", r"(?:dis|un)?satisf(?:action|ied)")),
    ("retention", _words(r"retention", r"retain(?:s|ed|ing)?", r"repeat\s+(?:customers?|buyers?)")),
    ("churn", _words(r"churn(?:s|ed|ing|\s+rate)?")),
    ("clv", _words(r"clv", r"cltv", r"ltv", r"life\s?time\s+values?")),
)


def _find_metrics(normalised: str) -> list[str]:
    """Metrics named in normalised text, in the order they appear."""
    found: list[tuple[int, str]] = []
    for metric, pattern in _METRIC_PATTERNS:
        for match in pattern.finditer(normalised):
            found.append((match.start(), metric))
            span = match.end() - match.start()
            normalised = normalised[: match.start()] + " " * span + normalised[match.end() :]
    return [metric for _, metric in sorted(found)]


def _entity_metrics(value: str) -> list[str]:
    canonical = re.sub(r"[\s-]+", "_", value.strip().lower())
    if canonical in METRICS:
        return [canonical]
    return _find_metrics(_normalise(value))


# --- topics -----------------------------------------------------------------------------------

_TOPIC_SYNONYMS: Final[dict[str, tuple[str, ...]]] = {
    "order_status": ("order status", "order statuses", "order tracking", "tracking", "order updates"),
    "cancel_order": (
        "cancel", "cancels", "cancellation", "cancellations", "cancelling", "canceling",
        "cancelled orders", "canceled orders", "order cancellation", "order cancellations",
    ),
    "return_request": ("return", "returns", "return request", "return requests"),
    "refund_status": ("refund", "refunds", "refund status", "refund requests"),
    "shipping_info": ("shipping", "delivery", "deliveries", "shipment", "shipments"),
    "change_address": (
        "address", "addresses", "address change", "address changes", "change of address",
        "changing address", "address updates",
    ),
    "payment_issue": ("payment", "payments", "payment issues", "card", "cards", "billing"),
    "account_help": (
        "account", "accounts", "login", "logins", "log in", "sign in", "password", "passwords",
        "password resets",
    ),
    "product_info": ("product", "products", "product questions", "product info", "product information"),
    "ask_recommendation": ("recommendation", "recommendations", "product recommendations"),
    "complaint": ("complaint", "complaints"),
    "request_human": (
        "hand off requests", "handoff requests", "hand over requests", "handover requests",
        "human requests", "agent requests", "requests for a human", "requests for an agent",
    ),
}  # fmt: skip
_TOPIC_OF_PHRASE: Final = {
    phrase: topic for topic, phrases in _TOPIC_SYNONYMS.items() for phrase in phrases
}
_TOPIC_PHRASE: Final = rf"({_alternation(_TOPIC_OF_PHRASE)})"
_NOT_A_METRIC: Final = r"(?!\s+rates?\b)"  # "hand-off rate", "return rate" are not topics
_TOPIC_PATTERNS: Final = (
    # A topic position: "for returns", "on the refunds", "about shipping", "in payments".
    re.compile(
        r"\b(?:for|on|about|in|with|regarding|around|concerning|among|re)\s+"
        r"(?:(?:the|our|all|customer|customers|those|these|their)\s+)*"
        rf"{_TOPIC_PHRASE}\b{_NOT_A_METRIC}"
    ),
    # A topic describing conversations: "return requests", "shipping questions".
    re.compile(
        rf"\b{_TOPIC_PHRASE}\s+(?:conversations?|chats?|tickets?|requests?|questions?|issues?"
        r"|topics?|contacts?|cases?|queries|enquiries|inquiries|problems?|intents?)\b"
    ),
)
_ANYWHERE_TOPICS: Final = (
    (re.compile(r"\bwhere(?:\s+is|s)\s+my\s+(?:order|package|parcel)\b|\bwismo\b"), "order_status"),
    (re.compile(r"\b(?:hand\s?(?:off|over)|human|agent)\s+requests?\b"), "request_human"),
)


def _find_topic(normalised: str) -> str | None:
    """The first topic named in a topic position, or None."""
    found = [
        (m.start(), _TOPIC_OF_PHRASE[m[1]]) for p in _TOPIC_PATTERNS for m in p.finditer(normalised)
    ]
    found += [(m.start(), topic) for p, topic in _ANYWHERE_TOPICS for m in p.finditer(normalised)]
    return min(found)[1] if found else None


# --- breakdowns and pain points ---------------------------------------------------------------

_BREAKDOWN_OF_WORD: Final = {
    "topic": "topic", "topics": "topic", "intent": "topic", "intents": "topic",
    "channel": "channel", "channels": "channel",
    "variant": "variant", "variants": "variant", "experiment": "variant",
    "experiments": "variant", "arm": "variant", "arms": "variant",
}  # fmt: skip
_BREAKDOWN: Final = re.compile(
    r"\b(?:by|per|for\s+each|for\s+every|across|split\s+by|broken\s+down\s+by|break\s?down\s+by"
    r"|grouped\s+by|group\s+by)\s+(?:(?:the|all|our|each|every|experiment)\s+)*"
    rf"({_alternation(_BREAKDOWN_OF_WORD)})\b"
    r"|\b(topic|channel|variant)\s+by\s+\2\b"
)

_PAIN_POINTS: Final = (
    _words(r"where\s+(?:\w+\s+){0,4}?(?:worst|weakest|badly|poorly|struggling|weak|bad)"),
    _words(r"pain\s?points?"),
    _words(
        r"(?:what|where|how)\s+(?:should|can|could|must|do|shall)\s+we\s+(?:\w+\s+)?improve",
        r"(?:what|where)\s+to\s+improve",
        r"needs?\s+improv(?:ing|ement)",
        r"areas?\s+(?:of|for|to)\s+improvement",
    ),
    _words(
        r"(?:worst|weakest|poorest|lowest)\s+(?:\w+\s+)?(?:topics?|areas?|intents?|categories|spots?)"
    ),
    _words(r"(?:biggest|main|top|largest)\s+(?:problems?|issues?|weakness(?:es)?|pain)"),
    _words(r"problem\s+areas?"),
)


def _find_breakdown(normalised: str) -> str | None:
    match = _BREAKDOWN.search(normalised)
    if match is None:
        return None
    return _BREAKDOWN_OF_WORD[match[1] or match[2]]
