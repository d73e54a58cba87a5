"""Simulated customers holding whole conversations through the scaled profile's nginx, and
what those conversations left in the databases.

The one chat driver of the load benchmark (benchmarks/scaled_load.py) and the scaled-profile
tests (tests/integration/test_scaled_profile.py, test_scaled_faults.py). Each customer is
signed in, asks where one of their shipped orders is, says that is all, answers the NPS and
CSAT questions and leaves a comment (6 messages), over one of two channels:

    rest      `POST /webhooks/rest/webhook`; a message's latency is the time to the whole
              reply. A message that fails (an HTTP error, a timeout, Rasa's empty 200 when
              handling failed) is sent once more a second later, as a customer would; then the
              customer gives up.
    socketio  the widget's own protocol over a WebSocket (engine.io 4, as the widget speaks it
              once upgraded): `session_request`, then `user_uttered` per message, the bot's
              messages arriving as `bot_uttered` events one by one. A message's latency is the
              time to the last of its replies, the turn being over when no other reply came
              for `quiet` s (that wait is not counted). A broken socket ends the conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import sqlalchemy as sa

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
    answered: list[str] = field(default_factory=list)  # messages that got their replies
    failures: Counter[str] = field(default_factory=Counter)  # message -> failed attempts
    failed_at: list[float] = field(default_factory=list)  # when each failed attempt was sent
    errors: list[str] = field(default_factory=list)
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (sent at, seconds)
    replicas: list[str] = field(default_factory=list)  # which replica answered, per message
    thanked: bool = False

    def failed(self, text: str, sent: float, error: str) -> None:
        self.errors.append(error)
        self.failures[text] += 1
        self.failed_at.append(sent)

    def replied(self, text: str, sent: float, finished: float, replica: str = "") -> None:
        self.answered.append(text)
        self.latencies.append((sent, finished - sent))
        if replica:
            self.replicas.append(replica)


def scripts(database_url: str, signing_key: str, count: int, run: str) -> list[Script]:
    """`count` customers of the shop in `database_url`, each asking about one of their shipped
    orders and then answering the survey; signed in with tokens signed by `signing_key`."""
    from bot.auth.tokens import mint

    engine = sa.create_engine(database_url, future=True)
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
    if not orders:
        raise LookupError("the shop has no shipped orders to ask about")
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
        token = mint(signing_key, "customer", customer_id=customer)
        found.append(Script(f"{run}-{i}", messages, {"token": token}))
    return found


def _thanked(replies: Sequence[Any]) -> bool:
    return any(THANKS in ((reply or {}).get("text") or "") for reply in replies)


async def converse_rest(
    session: aiohttp.ClientSession,
    url: str,
    script: Script,
    outcome: Outcome,
    pause: Callable[[], float] = lambda: 0.0,
) -> None:
    """One conversation over the REST channel, the customer taking `pause()` s to write
    each message."""
    last: list[Any] = []
    for text in script.messages:
        await asyncio.sleep(pause())
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
                        replica = response.headers.get(REPLICA_HEADER, "?")
                        outcome.replied(text, sent, time.monotonic(), replica)
                        break
                    error = f"HTTP {response.status}" if replies is None else "HTTP 200, no reply"
                    outcome.failed(text, sent, error)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                outcome.failed(text, sent, type(error).__name__)
            await asyncio.sleep(1)
        else:
            return  # the customer gives up
    outcome.thanked = _thanked(last)


class SocketIO:
    """The socket.io protocol (engine.io 4) over one WebSocket, as the widget speaks it once
    upgraded: what python-socketio's own client would do, which needs a newer aiohttp than
    Rasa 3.6 allows. Events are `42["name", data]` frames; the server's pings ("2") get pongs.
    `query` is added to the connection's URL, as the widget's `visitor` is."""

    def __init__(self, url: str, timeout: float, query: str = "") -> None:
        self.url = url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        if query:
            self.url += "&" + query
        self.origin = url
        self.timeout = timeout
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._socket: Any = None
        self.replica = ""  # which replica nginx sent the socket to
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> SocketIO:
        import websockets

        self._socket = await websockets.connect(  # type: ignore[attr-defined]
            self.url, origin=self.origin, open_timeout=self.timeout, max_size=2**22
        )
        self.replica = self._socket.response_headers.get(REPLICA_HEADER, "?")
        opened = await asyncio.wait_for(self._socket.recv(), self.timeout)
        if not str(opened).startswith("0"):
            raise ConnectionError(f"no engine.io handshake: {opened!r:.100}")
        await self._socket.send("40")
        connected = await asyncio.wait_for(self._socket.recv(), self.timeout)
        if not str(connected).startswith("40"):
            raise ConnectionError(f"socket.io refused the connection: {connected!r:.100}")
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
        with contextlib.suppress(Exception):
            await self._socket.close()

    async def _read(self) -> None:
        async for frame in self._socket:
            if frame == "2":
                await self._socket.send("3")
            elif isinstance(frame, str) and frame.startswith("42"):
                name, *data = json.loads(frame[2:])
                self.events.put_nowait((name, data[0] if data else None))

    async def emit(self, name: str, data: Any) -> None:
        await self._socket.send("42" + json.dumps([name, data]))

    async def next_event(self, timeout: float) -> tuple[str, Any]:
        return await asyncio.wait_for(self.events.get(), timeout)


async def converse_socketio(
    url: str,
    script: Script,
    outcome: Outcome,
    timeout: float,
    quiet: float,
    pause: Callable[[], float] = lambda: 0.0,
) -> None:
    """One conversation over socket.io, as the widget holds it (its visitor id included);
    the customer takes `pause()` s to write each message, the `quiet` wait after a turn
    included."""
    last: list[Any] = []
    text, sent = "", time.monotonic()
    try:
        async with SocketIO(url, timeout, f"visitor={uuid.uuid4().hex}") as socket:
            await socket.emit("session_request", {"session_id": script.sender})
            name, _ = await socket.next_event(timeout)
            if name != "session_confirm":
                raise ConnectionError(f"no session_confirm but {name}")
            for index, text in enumerate(script.messages):
                # the quiet wait after a turn is part of the pause before the next message
                await asyncio.sleep(max(0.0, pause() - (quiet if index else 0.0)))
                sent = time.monotonic()
                message = {"message": text, "session_id": script.sender}
                await socket.emit("user_uttered", {**message, "metadata": script.metadata})
                last = [(await socket.next_event(timeout))[1]]
                finished = time.monotonic()
                while True:  # the turn's other replies, until none comes for `quiet` s
                    try:
                        last.append((await socket.next_event(quiet))[1])
                    except asyncio.TimeoutError:
                        break
                    finished = time.monotonic()
                outcome.replied(text, sent, finished, socket.replica)
    except (OSError, ConnectionError, asyncio.TimeoutError, ValueError) as error:
        outcome.failed(text, sent, type(error).__name__)
        return
    outcome.thanked = _thanked(last)


Talk = Callable[[Script, Outcome], Awaitable[None]]


async def run_chats(
    url: str,
    todo: Sequence[Script],
    concurrency: int,
    timeout: float = 90,
    keep_going: Callable[[], bool] = lambda: True,
    channel: str = "rest",
    quiet: float = 0.5,
    status: Callable[[Sequence[Outcome]], Awaitable[None]] | None = None,
    think: tuple[float, float] = (0.0, 0.0),
    seed: int = 0,
) -> list[Outcome]:
    """The scripts over `channel`, `concurrency` customers at once, each starting the next one
    while `keep_going()`; one Outcome per script started, in order. A customer reads and
    types for a time drawn uniformly from `think` (seconds; from `seed`) before each message,
    so customers also arrive spread out: none by default, so the bot is never idle.
    `status`, if given, is awaited once a second with the outcomes so far."""
    chance = random.Random(seed)

    def pause() -> float:
        return chance.uniform(*think) if think[1] > 0 else 0.0

    outcomes = {script.sender: Outcome(script.sender) for script in todo}
    started: list[str] = []
    queue = iter(todo)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    connector = aiohttp.TCPConnector(limit=concurrency + 4)
    async with aiohttp.ClientSession(timeout=client_timeout, connector=connector) as session:
        talk: Talk
        if channel == "socketio":

            async def talk(script: Script, outcome: Outcome) -> None:
                await converse_socketio(url, script, outcome, timeout, quiet, pause)

        elif channel == "rest":

            async def talk(script: Script, outcome: Outcome) -> None:
                await converse_rest(session, url, script, outcome, pause)

        else:
            raise ValueError(f"no such channel: {channel}")

        async def customer() -> None:
            for script in queue:
                if not keep_going():
                    return
                started.append(script.sender)
                await talk(script, outcomes[script.sender])

        async def report() -> None:
            while status is not None:
                await status([outcomes[sender] for sender in started])
                await asyncio.sleep(1)

        reporter = asyncio.create_task(report())
        try:
            await asyncio.gather(*(customer() for _ in range(concurrency)))
        finally:
            reporter.cancel()
    return [outcomes[sender] for sender in started]  # started in the order of `todo`


@dataclass(frozen=True)
class Survival:
    completed: int  # conversations thanked for their survey
    surveys_stored: int  # of those, with a completed survey row
    answered: int  # messages answered
    answered_stored: int  # of those, stored as a user event
    duplicates: list[tuple[str, str, int]]  # (sender, text, times stored) beyond what was sent
    failed_messages: int

    @property
    def lost(self) -> int:
        """Completed surveys without their row, and answered messages without their event."""
        return (self.completed - self.surveys_stored) + (self.answered - self.answered_stored)


def survival(database_url: str, tracker_url: str, outcomes: Sequence[Outcome]) -> Survival:
    """What the databases hold of the chats: survey rows, user events, duplicates."""
    senders = [o.sender for o in outcomes]
    thanked = [o.sender for o in outcomes if o.thanked]
    app = sa.create_engine(database_url, future=True)
    tracker = sa.create_engine(tracker_url, future=True)
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
