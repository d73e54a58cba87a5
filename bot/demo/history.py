"""Deterministic demo support-chat history: a year of conversations, surveys and hand-offs.

`seed_history` fills `conversations`, `survey_responses` and `tickets` (kind "handoff") with
one year of chats ending at the demo's "now" (midnight at the start of `demo_today`), so that
the metrics pages and the assistant's metric answers have something to find. Everything is
drawn from `numpy.random.default_rng([settings.demo_seed, 2])`, a stream of its own, so the
shop (`bot.demo.seed`) stays the same whether or not the history is seeded. It runs after the
shop seed: conversations of signed-in customers point at existing customers (none when the
shop is empty). A `Meta` row "demo_history" makes it run once.

What happens in a conversation
    About 55 chats a day (Poisson around a weekly pattern: busy Mondays, quiet weekends; the
    volume grows ~20% across the year), mostly in the daytime. The topic is the intent the
    chat was about (order_status 28%, return_request 12%, shipping_info 10%, refund_status 9%,
    ...); 75% come from the website widget ("socketio"), 25% over "rest"; 70% are by a known
    customer. Replies take ~0.9 s (median); 7% of customer messages are not understood (12%
    in product_info and "other"); a chat is handed to a person by topic (payment_issue 30%,
    complaint 60%, refund_status 18%, return_request 15%, otherwise 6%), which also opens a
    hand-off ticket (resolved unless it is from the last three days). 85% are asked the survey;
    55% complete it, 7% answer only the NPS question, the rest decline.

    Satisfaction follows a latent score z = base(topic) + bad month + trend + variant
    - 0.6 * handed off - 0.15 * fallbacks + noise; NPS (0-10) and CSAT (1-5) grow with z.
    Overall NPS comes out near +27 and CSAT near 79%.

Patterns for managers to discover
    1. A bad month: the calendar month that began four months before the demo's current month
       (today 2026-11-23: July 2026) had a carrier problem. Shipping_info and order_status
       chats got more frequent, their satisfaction dropped sharply (NPS well below zero),
       their hand-off rate doubled and the assistant's replies were ~1.8x slower (the
       carrier's tracking lookups were slow).
    2. A weak topic all year: return_request (NPS around -8) and, less so, refund_status are
       far less satisfying than the rest; their comments are about return postage and refunds.
    3. A gentle improvement: satisfaction rises steadily over the year (+0.3 on the latent
       scale from the first day to the last).
    4. An experiment: over the last 90 days chats were split 50/50 between variants "A" and
       "B"; B is a bit better (+0.15 latent, a few points of CSAT and NPS). Before, no variant.
    Also: hand-offs and misunderstood messages go with lower scores.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from bot.demo.seed import Progress, Row, demo_today, insert_rows
from bot.settings import Settings
from bot.storage.models import Conversation, Customer, Meta, SurveyResponse, Ticket
from bot.storage.session import session_scope
from bot.survey.records import survey_status

META_KEY = "demo_history"
STREAM = 2  # the history's rng is default_rng([seed, STREAM]), apart from the shop's
CONVERSATION_PREFIX = "history-"
CHUNK_SIZE = 5_000
DAY = 86_400  # seconds
HISTORY_DAYS = 365
PER_DAY = 55

# Busy Mondays, quiet weekends (Monday first); normalised to a mean of 1.
WEEKDAY_FACTORS = (1.12, 1.08, 1.05, 1.02, 0.98, 0.78, 0.72)
VOLUME_START, VOLUME_END = 0.95, 1.15  # volume grows linearly across the history
# Chats by hour of day (UTC): quiet nights, a daytime peak, a smaller evening one.
HOUR_WEIGHTS = (
    0.3, 0.2, 0.15, 0.1, 0.1, 0.15, 0.4, 0.9, 1.6, 2.3, 2.7, 2.8,
    2.7, 2.6, 2.6, 2.5, 2.4, 2.3, 2.2, 2.2, 2.0, 1.6, 1.0, 0.6,
)  # fmt: skip

# topic: (share of chats, base satisfaction, hand-off probability, fallback rate per message)
TOPICS: dict[str, tuple[float, float, float, float]] = {
    "order_status": (0.28, 0.15, 0.06, 0.07),
    "return_request": (0.12, -0.75, 0.15, 0.07),
    "shipping_info": (0.10, 0.15, 0.06, 0.07),
    "refund_status": (0.09, -0.45, 0.18, 0.07),
    "payment_issue": (0.08, -0.15, 0.30, 0.07),
    "product_info": (0.08, 0.25, 0.06, 0.12),
    "cancel_order": (0.07, 0.05, 0.06, 0.07),
    "account_help": (0.06, 0.20, 0.06, 0.07),
    "change_address": (0.05, 0.20, 0.06, 0.07),
    "ask_recommendation": (0.04, 0.35, 0.06, 0.07),
    "complaint": (0.02, -0.70, 0.60, 0.07),
    "other": (0.01, -0.10, 0.06, 0.12),
}
CHANNELS = (("socketio", "rest"), (0.75, 0.25))
KNOWN_CUSTOMER_SHARE = 0.70

# Pattern 1: the carrier problem.
BAD_MONTH_MONTHS_BACK = 4
BAD_MONTH_TOPICS = ("shipping_info", "order_status")
BAD_MONTH_SATISFACTION = -1.5
BAD_MONTH_HANDOFF_FACTOR = 2.0
BAD_MONTH_SLOWDOWN = 1.8
BAD_MONTH_VOLUME_FACTOR = 1.5  # those topics are asked about this much more often
# Pattern 3: the trend, from -TREND/2 on the first day to +TREND/2 on the last.
TREND = 0.3
# Pattern 4: the experiment.
EXPERIMENT_DAYS = 90
VARIANT_EFFECT = {"A": 0.0, "B": 0.15}
HANDOFF_EFFECT = -0.6
FALLBACK_EFFECT = -0.15
NOISE = 1.0

# Messages and timings.
MIN_USER_MESSAGES, MAX_USER_MESSAGES = 2, 12
FIRST_RESPONSE_MEDIAN, FIRST_RESPONSE_SIGMA = 0.8, 0.35
RESPONSE_MEDIAN, RESPONSE_SIGMA = 0.9, 0.45
HANDOFF_MEDIAN, HANDOFF_SIGMA = 90.0, 0.55
MIN_DURATION, MAX_DURATION = 120, 900  # seconds

# Surveys.
SURVEY_ASKED = 0.85
COMPLETED_SHARE = 0.55
PARTIAL_SHARE = 0.07  # NPS only
COMMENT_SHARE = 0.15  # of answered surveys
# Scores from z: nps = round(NPS_CENTER + NPS_SCALE * (z + noise)), clipped; likewise CSAT.
NPS_CENTER, NPS_SCALE, NPS_NOISE = 8.55, 1.5, 0.45
CSAT_CENTER, CSAT_SCALE, CSAT_NOISE = 4.5, 0.85, 0.45

# Hand-off tickets.
TICKET_RESOLVED_AFTER_DAYS = 3
RESOLUTION_MEDIAN_HOURS, RESOLUTION_SIGMA, RESOLUTION_MAX_HOURS = 6.0, 0.8, 60.0
AGENTS = ("Alex (support)", "Sam (support)", "Jordan (support)", "Robin (support)",
          "Morgan (support)", "Charlie (support)")  # fmt: skip
RESOLUTION_NOTES: dict[str, tuple[str, ...]] = {
    "default": (
        "Answered the customer's question by email.",
        "Explained the next steps; customer happy.",
        "Solved on the phone.",
    ),
    "order_status": (
        "Checked the tracking with the carrier and sent the customer an update.",
        "Parcel located at the depot; redelivery booked.",
    ),
    "shipping_info": (
        "Confirmed delivery options and costs.",
        "Carrier delay; apologised and refunded the shipping fee.",
    ),
    "return_request": (
        "Sent a prepaid return label.",
        "Return approved as an exception outside the return window.",
    ),
    "refund_status": (
        "Refund was issued; shared the payment reference.",
        "Chased the payment provider; refund released.",
    ),
    "payment_issue": (
        "Payment was authorised twice; the duplicate hold was released.",
        "Card declined by the bank; customer paid with another method.",
    ),
    "complaint": (
        "Apologised and offered a voucher.",
        "Passed the feedback to the warehouse team and offered a voucher.",
    ),
}
# What customers typed before asking for a person (the ticket's reason, as the action writes it).
HANDOFF_REASONS: dict[str, tuple[str, ...]] = {
    "order_status": (
        "where is my order | I want to talk to a person",
        "my parcel hasn't arrived | can I speak to someone",
        "tracking says delivered but nothing came | human please",
    ),
    "shipping_info": (
        "how long does delivery take | that's too slow, can I talk to someone",
        "my delivery is late again | agent please",
    ),
    "return_request": (
        "I want to return my shoes | the return form doesn't work",
        "can I return an item after 30 days | let me talk to a person",
        "the item arrived damaged | I want to speak to someone",
    ),
    "refund_status": (
        "where is my refund | it's been two weeks",
        "I sent the parcel back ages ago and have no refund | real person please",
    ),
    "payment_issue": (
        "I was charged twice | please connect me to someone",
        "my payment failed but money left my account | human",
        "klarna payment not showing | talk to agent",
    ),
    "complaint": (
        "this is the worst service | I want to complain to a manager",
        "I'm really unhappy with my order | speak to a human",
    ),
    "default": (
        "I need help | can I talk to a person",
        "you don't understand me | agent please",
        "human please",
    ),
}
# Survey comments by sentiment; topic-specific ones are used for unhappy customers.
COMMENTS: dict[str, tuple[str, ...]] = {
    "positive": (
        "Quick and easy, thanks!",
        "Got my answer in seconds.",
        "Very helpful, much faster than email.",
        "Sorted in a minute, great service.",
        "Easy to use and friendly.",
    ),
    "neutral": (
        "Fine, but I had to rephrase my question.",
        "Got there in the end.",
        "OK, would be nice to see the delivery date straight away.",
        "Helpful, a bit slow to get to the point.",
    ),
    "negative": (
        "Took too long to get a real answer.",
        "The bot did not understand my question.",
        "I had to repeat myself several times.",
        "Not helpful, I still don't know what happens next.",
    ),
    "returns": (
        "The return process is far too complicated.",
        "Still waiting for my refund after two weeks.",
        "Why do I have to pay for return postage?",
        "Couldn't print the return label, very frustrating.",
    ),
    "carrier": (
        "My parcel has been stuck with the courier for over a week.",
        "Tracking hasn't updated in days.",
        "Delivery was late again, and nobody could tell me why.",
        "The courier says delivered but I never got it.",
    ),
}
RETURN_TOPICS = ("return_request", "refund_status")


@dataclass(frozen=True)
class HistorySummary:
    """How many history rows the database holds."""

    conversations: int
    surveys: int
    answered: int  # surveys with at least one answer (completed or partial)
    tickets: int
    already_seeded: bool = False


@dataclass(frozen=True)
class HistoryData:
    """The generated rows, ready for bulk inserts (customer ids are database ids)."""

    conversations: list[Row]
    surveys: list[Row]
    tickets: list[Row]


def bad_month(today: date) -> tuple[date, date]:
    """First day of the carrier-problem month and the first day of the month after it."""
    index = today.year * 12 + today.month - 1 - BAD_MONTH_MONTHS_BACK
    start = date(index // 12, index % 12 + 1, 1)
    index += 1
    return start, date(index // 12, index % 12 + 1, 1)


def seed_history(
    factory: sessionmaker,
    settings: Settings,
    progress: Progress | None = None,
    days: int = HISTORY_DAYS,
    per_day: int = PER_DAY,
) -> HistorySummary:
    """Fill the database with a year of demo chats, surveys and hand-off tickets, once.

    Args:
        factory: Session factory of the app database (migrated; the shop seeded first).
        settings: Supplies `demo_seed` and `demo_today`.
        progress: Called as `progress(stage, done, total)` after each inserted chunk.
        days: How many days of history, ending at midnight at the start of `demo_today`.
        per_day: Average chats a day (before the weekly pattern and the growth).

    Returns:
        Row counts; `already_seeded` is True when the history was there and nothing was
        inserted.
    """
    today = demo_today(settings)
    with session_scope(factory) as session:
        if session.execute(select(Meta.key).where(Meta.key == META_KEY)).first() is not None:
            return _count_rows(session)
        customer_ids = list(session.execute(select(Customer.id).order_by(Customer.id)).scalars())
        data = build_history(settings.demo_seed, today, customer_ids, days, per_day)
        insert_rows(
            session,
            Conversation.__table__,
            data.conversations,
            "conversations",
            progress,
            CHUNK_SIZE,
        )
        insert_rows(
            session, SurveyResponse.__table__, data.surveys, "surveys", progress, CHUNK_SIZE
        )
        insert_rows(session, Ticket.__table__, data.tickets, "tickets", progress, CHUNK_SIZE)
        session.execute(
            insert(Meta.__table__),
            [{"key": META_KEY, "value": f"{settings.demo_seed}|{today}|{days}|{per_day}"}],
        )
    return HistorySummary(
        conversations=len(data.conversations),
        surveys=len(data.surveys),
        answered=sum(1 for row in data.surveys if row["status"] != "declined"),
        tickets=len(data.tickets),
    )


def build_history(
    seed: int,
    today: date,
    customer_ids: list[int],
    days: int = HISTORY_DAYS,
    per_day: int = PER_DAY,
) -> HistoryData:
    """Generate every history row from `seed`, ending at midnight at the start of `today`."""
    rng = np.random.default_rng([seed, STREAM])
    now = datetime.combine(today, time.min)
    start = now - timedelta(days=days)
    bad_start, bad_end = bad_month(today)
    names = list(TOPICS)
    topic_shares = np.array([TOPICS[t][0] for t in names])
    topic_shares /= topic_shares.sum()
    boosted = topic_shares * np.where(np.isin(names, BAD_MONTH_TOPICS), BAD_MONTH_VOLUME_FACTOR, 1)

    # How many chats each day, and what about.
    weekday = np.asarray(WEEKDAY_FACTORS) / np.mean(WEEKDAY_FACTORS)
    day_dates = [start.date() + timedelta(days=d) for d in range(days)]
    in_bad = np.array([bad_start <= d < bad_end for d in day_dates], dtype=bool)
    growth = VOLUME_START + (VOLUME_END - VOLUME_START) * np.arange(days) / max(days - 1, 1)
    expected = per_day * growth * weekday[[d.weekday() for d in day_dates]]
    expected = np.where(in_bad, expected * boosted.sum(), expected)
    counts = rng.poisson(expected)
    day = np.repeat(np.arange(days), counts)
    n = len(day)
    bad_day = in_bad[day]
    topic = np.where(
        bad_day,
        rng.choice(len(names), size=n, p=boosted / boosted.sum()),
        rng.choice(len(names), size=n, p=topic_shares),
    )
    hours = np.asarray(HOUR_WEIGHTS)
    hour = rng.choice(24, size=n, p=hours / hours.sum())
    offset_us = (day * DAY + hour * 3600) * 1_000_000 + rng.integers(0, 3_600_000_000, size=n)
    order = np.argsort(offset_us, kind="stable")
    day, topic, bad_day, offset_us = day[order], topic[order], bad_day[order], offset_us[order]

    # What happened in each chat.
    base = np.array([TOPICS[t][1] for t in names])[topic]
    handoff_p = np.array([TOPICS[t][2] for t in names])[topic]
    fallback_p = np.array([TOPICS[t][3] for t in names])[topic]
    carrier_hit = bad_day & np.isin(topic, [names.index(t) for t in BAD_MONTH_TOPICS])
    handoff_p = np.where(carrier_hit, handoff_p * BAD_MONTH_HANDOFF_FACTOR, handoff_p)
    slowdown = np.where(carrier_hit, BAD_MONTH_SLOWDOWN, 1.0)

    channel = rng.choice(len(CHANNELS[0]), size=n, p=CHANNELS[1])
    known = rng.random(n) < KNOWN_CUSTOMER_SHARE
    customer = rng.integers(0, max(len(customer_ids), 1), size=n)
    handed_off = rng.random(n) < handoff_p
    user_messages = MIN_USER_MESSAGES + rng.binomial(MAX_USER_MESSAGES - MIN_USER_MESSAGES, 0.3, n)
    user_messages = np.minimum(user_messages + handed_off, MAX_USER_MESSAGES)
    bot_messages = user_messages + rng.integers(1, 4, size=n)
    fallbacks = rng.binomial(user_messages, fallback_p)
    first_response = slowdown * rng.lognormal(
        np.log(FIRST_RESPONSE_MEDIAN), FIRST_RESPONSE_SIGMA, n
    )
    later = rng.lognormal(np.log(RESPONSE_MEDIAN), RESPONSE_SIGMA, int((user_messages - 1).sum()))
    later_sums = np.add.reduceat(later, np.concatenate([[0], np.cumsum(user_messages - 1)[:-1]]))
    response_total = first_response + slowdown * later_sums
    spread = (user_messages - MIN_USER_MESSAGES) / (MAX_USER_MESSAGES - MIN_USER_MESSAGES)
    duration = MIN_DURATION + (MAX_DURATION - MIN_DURATION) * (0.6 * spread + 0.4 * rng.random(n))
    duration = np.clip(duration * slowdown**0.5, MIN_DURATION, MAX_DURATION).round()
    handoff_seconds = np.minimum(
        rng.lognormal(np.log(HANDOFF_MEDIAN), HANDOFF_SIGMA, n), duration - 30
    ).round(1)
    survey_asked = rng.random(n) < SURVEY_ASKED

    in_experiment = day >= days - EXPERIMENT_DAYS
    variant_b = rng.random(n) < 0.5
    variants = np.where(in_experiment, np.where(variant_b, "B", "A"), "")

    # Satisfaction and survey answers.
    z = (
        base
        + np.where(carrier_hit, BAD_MONTH_SATISFACTION, 0.0)
        + TREND * ((offset_us / (days * DAY * 1e6)) - 0.5)
        + np.where(in_experiment & variant_b, VARIANT_EFFECT["B"], VARIANT_EFFECT["A"])
        + HANDOFF_EFFECT * handed_off
        + FALLBACK_EFFECT * fallbacks
        + rng.normal(0.0, NOISE, n)
    )
    nps = np.clip(np.rint(NPS_CENTER + NPS_SCALE * (z + rng.normal(0, NPS_NOISE, n))), 0, 10)
    csat = np.clip(np.rint(CSAT_CENTER + CSAT_SCALE * (z + rng.normal(0, CSAT_NOISE, n))), 1, 5)
    answer = rng.random(n)
    completed = answer < COMPLETED_SHARE
    partial = (answer >= COMPLETED_SHARE) & (answer < COMPLETED_SHARE + PARTIAL_SHARE)
    commented = (completed | partial) & (rng.random(n) < COMMENT_SHARE)
    comment_pick = rng.random((n, 2))
    ticket_pick = rng.random((n, 4))
    resolution_hours = np.minimum(
        rng.lognormal(np.log(RESOLUTION_MEDIAN_HOURS), RESOLUTION_SIGMA, n), RESOLUTION_MAX_HOURS
    )

    conversations: list[Row] = []
    surveys: list[Row] = []
    tickets: list[Row] = []
    resolved_before = now - timedelta(days=TICKET_RESOLVED_AFTER_DAYS)
    columns = zip(
        offset_us.tolist(),
        topic.tolist(),
        channel.tolist(),
        known.tolist(),
        customer.tolist(),
        variants.tolist(),
        duration.tolist(),
        strict=True,
    )
    for i, (offset, t, ch, is_known, cust, variant, secs) in enumerate(columns):
        topic_name = names[t]
        started_at = start + timedelta(microseconds=offset)
        last_event_at = started_at + timedelta(seconds=secs)
        if last_event_at >= now:  # the last evening's late chats end before midnight
            started_at = now - timedelta(seconds=secs + 1)
            last_event_at = started_at + timedelta(seconds=secs)
        conversation_id = f"{CONVERSATION_PREFIX}{i + 1:06d}"
        key = _session_key(started_at)
        customer_id = customer_ids[cust] if is_known and customer_ids else None
        handed = bool(handed_off[i])
        conversations.append(
            {
                "conversation_id": conversation_id,
                "session_key": key,
                "customer_id": customer_id,
                "channel": CHANNELS[0][ch],
                "topic": topic_name,
                "variant": variant or None,
                "started_at": started_at,
                "last_event_at": last_event_at,
                "user_messages": int(user_messages[i]),
                "bot_messages": int(bot_messages[i]),
                "fallbacks": int(fallbacks[i]),
                "first_response_seconds": round(float(first_response[i]), 3),
                "response_seconds_total": round(float(response_total[i]), 3),
                "responses": int(user_messages[i]),
                "handed_off": handed,
                "handoff_seconds": float(handoff_seconds[i]) if handed else None,
                "survey_asked": bool(survey_asked[i]),
            }
        )
        if handed:
            created_at = started_at + timedelta(seconds=float(handoff_seconds[i]))
            ticket: Row = {
                "kind": "handoff",
                "status": "open",
                "conversation_id": conversation_id,
                "customer_id": customer_id,
                "reason": _choose(
                    HANDOFF_REASONS.get(topic_name, HANDOFF_REASONS["default"]), ticket_pick[i, 0]
                ),
                "created_at": created_at,
                "assigned_to": None,
                "resolved_at": None,
                "resolution_note": None,
            }
            if created_at < resolved_before:
                notes = RESOLUTION_NOTES.get(topic_name, RESOLUTION_NOTES["default"])
                ticket.update(
                    status="resolved",
                    assigned_to=_choose(AGENTS, ticket_pick[i, 1]),
                    resolved_at=created_at + timedelta(hours=float(resolution_hours[i])),
                    resolution_note=_choose(notes, ticket_pick[i, 2]),
                )
            tickets.append(ticket)
        if not survey_asked[i]:
            continue
        nps_value = int(nps[i]) if completed[i] or partial[i] else None
        csat_value = int(csat[i]) if completed[i] else None
        comment = None
        if commented[i]:
            comment = _comment(nps_value, topic_name, bool(carrier_hit[i]), comment_pick[i])
        surveys.append(
            {
                "conversation_id": conversation_id,
                "session_key": key,
                "customer_id": customer_id,
                "nps": nps_value,
                "csat": csat_value,
                "comment": comment,
                "status": survey_status(nps_value, csat_value, comment),
                "channel": CHANNELS[0][ch],
                "topic": topic_name,
                "human_involved": handed,
                "variant": variant or None,
                "started_at": started_at,
                "created_at": last_event_at,
                "updated_at": last_event_at,
            }
        )
    return HistoryData(conversations, surveys, tickets)


def _session_key(started_at: datetime) -> str:
    """Rasa's session key: the session's first timestamp (naive times are UTC), 6 decimals."""
    return f"{calendar.timegm(started_at.utctimetuple())}.{started_at.microsecond:06d}"


def _choose(values: tuple[str, ...], draw: float) -> str:
    return values[min(int(draw * len(values)), len(values) - 1)]


def _comment(nps: int | None, topic: str, carrier_hit: bool, draws: np.ndarray) -> str:
    """A comment that fits the score: praise, a mild remark or a complaint (often topical)."""
    score = 7 if nps is None else nps
    if score >= 9:
        return _choose(COMMENTS["positive"], draws[0])
    if score >= 7:
        return _choose(COMMENTS["neutral"], draws[0])
    if carrier_hit and draws[1] < 0.7:
        return _choose(COMMENTS["carrier"], draws[0])
    if topic in RETURN_TOPICS and draws[1] < 0.6:
        return _choose(COMMENTS["returns"], draws[0])
    return _choose(COMMENTS["negative"], draws[0])


def _count(session: Session, query: Any) -> int:
    return int(session.execute(query).scalar_one())


def _count_rows(session: Session) -> HistorySummary:
    def history(model: Any) -> Any:
        return (
            select(func.count())
            .select_from(model)
            .where(model.conversation_id.like(f"{CONVERSATION_PREFIX}%"))
        )

    return HistorySummary(
        conversations=_count(session, history(Conversation)),
        surveys=_count(session, history(SurveyResponse)),
        answered=_count(
            session, history(SurveyResponse).where(SurveyResponse.status != "declined")
        ),
        tickets=_count(session, history(Ticket)),
        already_seeded=True,
    )
