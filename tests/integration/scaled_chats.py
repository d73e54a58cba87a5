"""Chats driven through the scaled profile's nginx, and what they left in the databases.

Shared by tests/integration/test_scaled_profile.py and test_scaled_faults.py. Each simulated
customer (signed in) asks about one of their shipped orders, says that is all, answers NPS and
CSAT and leaves a comment; a message that fails (an HTTP error, a timeout) is sent once more,
as a customer would, then the customer gives up.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import sqlalchemy as sa

from bot.auth.keys import signing_key
from bot.auth.tokens import mint
from bot.transcripts.summaries import summarize_signed_conversation

WEBHOOK = "/webhooks/rest/webhook"
REPLICA_HEADER = "X-Supportbot-Replica"
THANKS = "Thank you for your feedback"


@dataclass(frozen=True)
class Script:
    sender: str
    messages: tuple[str, ...]
    metadata: dict[str, Any]


@dataclass
class Outcome:
    sender: str
    answered: list[str] = field(default_factory=list)  # messages that got a 200 with replies
    failures: Counter[str] = field(default_factory=Counter)  # message -> failed attempts
    failed_at: list[float] = field(default_factory=list)  # when each failed attempt was sent
    errors: list[str] = field(default_factory=list)
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (sent at, seconds)
    replicas: list[str] = field(default_factory=list)
    thanked: bool = False


def scripts(bot: Any, count: int, run: str) -> list[Script]:
    engine = sa.create_engine(bot.database_url, future=True)
    try:
        with engine.connect() as connection:
            orders = connection.execute(
                sa.text(
                    "SELECT number, customer_id FROM orders WHERE status = 'shipped' "
                    "ORDER BY number LIMIT 50"
                )
            ).all()
    finally:
        engine.dispose()
    key = signing_key(bot.settings)
    found = []
    for i in range(count):
        number, customer = orders[i % len(orders)]
        messages = (
            "hi",
            f"where is my order {number}?",
            "no, that's all",
            str(7 + i % 4),  # no follow-up by a person is offered for these scores
            f"{3 + i % 3} out of 5",
            "quicker answers would be nice",
        )
        token = mint(key, "customer", customer_id=customer)
        found.append(Script(f"{run}-{i}", messages, {"token": token}))
    return found


async def _converse(
    session: aiohttp.ClientSession, url: str, script: Script, outcome: Outcome
) -> None:
    last: list[Any] = []
    for text in script.messages:
        for _attempt in range(2):  # the message, and once more if it failed
            sent = time.monotonic()
            payload = {"sender": script.sender, "message": text, "metadata": script.metadata}
            try:
                async with session.post(url + WEBHOOK, json=payload) as response:
                    body = await response.read()
                    replies = json.loads(body) if response.status == 200 else None
                    # Rasa answers 200 with no reply when handling the message failed.
                    if replies:
                        last = replies
                        outcome.answered.append(text)
                        outcome.latencies.append((sent, time.monotonic() - sent))
                        outcome.replicas.append(response.headers.get(REPLICA_HEADER, "?"))
                        break
                    outcome.errors.append(
                        f"HTTP {response.status}" if replies is None else "HTTP 200, no reply"
                    )
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                outcome.errors.append(type(error).__name__)
            outcome.failures[text] += 1
            outcome.failed_at.append(sent)
            await asyncio.sleep(1)
        else:
            return  # the customer gives up
    outcome.thanked = any(THANKS in (reply.get("text") or "") for reply in last)


async def run_chats(
    url: str,
    todo: list[Script],
    concurrency: int,
    timeout: float = 90,
    keep_going: Callable[[], bool] = lambda: True,
) -> list[Outcome]:
    """The scripts, `concurrency` customers at once, each starting the next one while
    `keep_going()`; one Outcome per script started, in order."""
    outcomes = {script.sender: Outcome(script.sender) for script in todo}
    started: list[str] = []
    queue = iter(todo)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(timeout=client_timeout) as session:

        async def customer() -> None:
            for script in queue:
                if not keep_going():
                    return
                started.append(script.sender)
                await _converse(session, url, script, outcomes[script.sender])

        await asyncio.gather(*(customer() for _ in range(concurrency)))
    return [outcomes[script.sender] for script in todo if script.sender in started]


@dataclass(frozen=True)
class Survival:
    completed: int  # conversations thanked for their survey
    surveys_stored: int  # of those, with a completed survey row
    answered: int  # messages answered
    answered_stored: int  # of those, stored as a user event
    duplicates: list[tuple[str, str, int]]  # (sender, text, times stored) beyond what was sent
    failed_messages: int


def survival(bot: Any, outcomes: list[Outcome]) -> Survival:
    """What the databases hold of the chats: survey rows, user events, duplicates."""
    senders = [o.sender for o in outcomes]
    thanked = [o.sender for o in outcomes if o.thanked]
    app = sa.create_engine(bot.database_url, future=True)
    tracker = sa.create_engine(bot.tracker_url, future=True)
    try:
        with app.connect() as connection:
            surveys = connection.execute(
                sa.text(
                    "SELECT count(DISTINCT conversation_id) FROM survey_responses "
                    "WHERE conversation_id = ANY(:ids) AND status = 'completed'"
                ),
                {"ids": thanked},
            ).scalar_one()
        with tracker.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT sender_id, data FROM events WHERE type_name = 'user' "
                    "AND sender_id = ANY(:ids)"
                ),
                {"ids": senders},
            ).all()
    finally:
        app.dispose()
        tracker.dispose()
    stored: Counter[tuple[str, str]] = Counter(
        (sender, json.loads(data).get("text") or "") for sender, data in rows
    )
    answered = stored_answered = 0
    duplicates = []
    for outcome in outcomes:
        for text in outcome.answered:
            answered += 1
            stored_answered += stored[(outcome.sender, text)] >= 1
        for text in set(outcome.answered) | set(outcome.failures):
            sent = outcome.answered.count(text) + outcome.failures[text]
            if stored[(outcome.sender, text)] > sent:
                duplicates.append((outcome.sender, text, stored[(outcome.sender, text)]))
    return Survival(
        completed=len(thanked),
        surveys_stored=int(surveys),
        answered=answered,
        answered_stored=stored_answered,
        duplicates=duplicates,
        failed_messages=sum(sum(o.failures.values()) for o in outcomes),
    )


def summaries_behind(bot: Any, senders: list[str]) -> list[str]:
    """The conversations whose rows in `conversations` are not exactly the summaries of
    what the tracker store holds (missing, stale, or a session too many)."""
    key = signing_key(bot.settings)
    app = sa.create_engine(bot.database_url, future=True)
    tracker = sa.create_engine(bot.tracker_url, future=True)
    try:
        with tracker.connect() as connection:
            events: dict[str, list[dict[str, Any]]] = {s: [] for s in senders}
            for sender, data in connection.execute(
                sa.text(
                    "SELECT sender_id, data FROM events WHERE sender_id = ANY(:ids) ORDER BY id"
                ),
                {"ids": senders},
            ):
                events[sender].append(json.loads(data))
        with app.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT conversation_id, session_key, user_messages, bot_messages, "
                    "responses, survey_asked FROM conversations WHERE conversation_id = ANY(:ids)"
                ),
                {"ids": senders},
            ).all()
    finally:
        app.dispose()
        tracker.dispose()
    have: dict[str, set[tuple]] = {s: set() for s in senders}
    for row in rows:
        have[row[0]].add(tuple(row))
    behind = []
    for sender in senders:
        want = {
            (
                s.conversation_id,
                s.session_key,
                s.user_messages,
                s.bot_messages,
                s.responses,
                s.survey_asked,
            )
            for s in summarize_signed_conversation(sender, events[sender], key)
        }
        if have[sender] != want:
            behind.append(sender)
    return behind


def wait_for_summaries(bot: Any, senders: list[str], timeout: float) -> tuple[list[str], float]:
    """Wait (at most `timeout` s) until every conversation's summary is current: the ones
    still behind, and how long it took."""
    started = time.monotonic()
    while True:
        behind = summaries_behind(bot, senders)
        if not behind or time.monotonic() - started > timeout:
            return behind, time.monotonic() - started
        time.sleep(0.5)
