"""The scaled profile for real: `supportbot serve --profile scaled` with two Rasa replicas,
their action servers, the website and nginx, on temporary PostgreSQL databases, Redis and
RabbitMQ (the tests skip, saying what is missing, where one of them is not here).

What a user of the deployment would see: one conversation whose messages arrive at both
replicas at once is stored in order, each message once, each followed by exactly the
replies its sender got; nginx spreads REST messages over both replicas, keeps Rasa's HTTP
API unreachable, and a whole chat through it ends with the survey row in PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from benchmarks.scaled_chats import REPLICA_HEADER, WEBHOOK, Outcome, Script, Survival, run_chats
from benchmarks.scaled_chats import scripts as customer_scripts
from benchmarks.scaled_chats import survival as stored_survival
from bot.auth.keys import rasa_api_token, signing_key
from bot.auth.tokens import mint
from bot.deploy.scaled import check_services, plan, profile_environment
from bot.settings import PROJECT_ROOT, Settings
from tests.integration.scaled_chats import summaries_behind, wait_for_summaries
from tests.servers import DEMO_TODAY, MODEL, free_port, http, wait_until_up

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

ADMIN_URL = os.environ.get(
    "SUPPORTBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("SUPPORTBOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("SUPPORTBOT_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672")


@dataclass
class ScaledBot:
    public_url: str
    replica_urls: list[str]
    env: dict[str, str]
    var_dir: Path
    database_url: str
    tracker_url: str
    queue: str

    @property
    def settings(self) -> Settings:
        return Settings(var_dir=self.var_dir)

    @property
    def token(self) -> str:
        return rasa_api_token(self.settings)

    def scripts(self, count: int, run: str) -> list[Script]:
        """`count` signed-in customers' whole conversations (benchmarks/scaled_chats.py)."""
        return customer_scripts(self.database_url, signing_key(self.settings), count, run)

    def survival(self, outcomes: list[Outcome]) -> Survival:
        """What the databases kept of those conversations."""
        return stored_survival(self.database_url, self.tracker_url, outcomes)

    def say(
        self, base: str, sender: str, text: str, metadata: dict | None = None
    ) -> tuple[list[dict[str, Any]], str]:
        """The replies to one REST message sent to `base`, and the replica nginx named."""
        payload: dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            payload["metadata"] = metadata
        status, body, headers = http(f"{base}{WEBHOOK}", "POST", payload, timeout=60)
        assert status == 200, (status, body)
        assert isinstance(body, list)
        return body, headers.get(REPLICA_HEADER, "")

    @property
    def action_urls(self) -> list[str]:
        ports = self.env["SUPPORTBOT_ACTION_PORTS"].split()
        return [f"http://127.0.0.1:{port}" for port in ports]

    def pid(self, process: str) -> int:
        """The pid of one of the profile's processes (`rasa-replica-1`, `event-consumer`...)."""
        return int((self.var_dir / "run" / "scaled" / f"{process}.pid").read_text().strip())

    def events(self, sender: str) -> list[tuple[str, dict[str, Any]]]:
        """The conversation's events as the tracker store holds them, in stored order."""
        return tracker_events(self.tracker_url, sender)


def tracker_events(tracker_url: str, sender: str) -> list[tuple[str, dict[str, Any]]]:
    """A conversation's events in the tracker database at `tracker_url`, in stored order."""
    engine = sa.create_engine(tracker_url, future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"),
                {"s": sender},
            ).all()
    finally:
        engine.dispose()
    return [(kind, json.loads(data)) for kind, data in rows]


def _skip_reason(env: dict[str, str]) -> str | None:
    if not MODEL.exists():
        return None  # a missing model fails below, as in tests/servers.py
    problems = check_services(plan(env))
    if problems:
        return "the scaled profile needs its services: " + " | ".join(problems)
    return None


def _queue_count(queue: str, delete: bool = False) -> int:
    import aio_pika

    async def count() -> int:
        connection = await aio_pika.connect(AMQP_URL, timeout=5)
        try:
            channel = await connection.channel()
            declared = await channel.declare_queue(queue, passive=True)
            n = int(declared.declaration_result.message_count or 0)
            if delete:
                await declared.delete(if_unused=False, if_empty=False)
            return n
        finally:
            await connection.close()

    return asyncio.run(asyncio.wait_for(count(), 15))


def _seed(database_url: str) -> None:
    from bot.demo.seed import seed_demo_into

    seed_demo_into(database_url, DEMO_TODAY)


@pytest.fixture(scope="module")
def scaled_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScaledBot]:
    yield from start_scaled_profile(tmp_path_factory)


def start_scaled_profile(
    tmp_path_factory: pytest.TempPathFactory, admin_url: str = ADMIN_URL
) -> Iterator[ScaledBot]:
    """The profile on temporary databases and its own queue, until the generator is closed.

    The databases are made on the PostgreSQL server of `admin_url` (a test's own cluster, for a
    test that restarts it)."""
    if not MODEL.exists():
        pytest.fail(f"No trained model at {MODEL}: run `make train` (make test does).")
    var_dir = tmp_path_factory.mktemp("scaled")
    name = f"supportbot_scaled_{uuid.uuid4().hex[:8]}"
    database_url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    tracker_url = (
        make_url(admin_url).set(database=f"{name}_tracker").render_as_string(hide_password=False)
    )
    rasa_ports, action_ports = [free_port(), free_port()], [free_port(), free_port()]
    public_port, web_port = free_port(), free_port()
    queue = f"{name}_events"
    env = {
        **os.environ,
        "SUPPORTBOT_VAR_DIR": str(var_dir),
        "SUPPORTBOT_DEMO_TODAY": DEMO_TODAY,
        "SUPPORTBOT_MONITOR_INTERVAL": "0",
        # explicit variables win over deploy/scaled.env, which the profile reads
        "DATABASE_URL": database_url,
        "TRACKER_DB_URL": tracker_url,
        "LOCK_STORE_URL": REDIS_URL,
        "EVENT_BROKER_URL": AMQP_URL,
        "EVENT_BROKER_QUEUE": queue,
        "SUPPORTBOT_RASA_PORTS": " ".join(map(str, rasa_ports)),
        "SUPPORTBOT_ACTION_PORTS": " ".join(map(str, action_ports)),
        "WEB_PORT": str(web_port),
        "SUPPORTBOT_PUBLIC_PORT": str(public_port),
    }
    for variable in (
        "RASA_AUTH_TOKEN",
        "ACTION_SERVER_SECRET",
        "SUPPORTBOT_SECRET_KEY",
        "SUPPORTBOT_CORS_ORIGINS",
        "SUPPORTBOT_PUBLIC_RASA_URL",
        "SANIC_WORKERS",
    ):
        env.pop(variable, None)
    reason = _skip_reason(profile_environment(env, PROJECT_ROOT / "deploy" / "scaled.env"))
    if reason:
        pytest.skip(reason)
    admin = sa.create_engine(admin_url, future=True, isolation_level="AUTOCOMMIT")
    log = var_dir / "serve.log"
    bot = ScaledBot(
        f"http://127.0.0.1:{public_port}",
        [f"http://127.0.0.1:{port}" for port in rasa_ports],
        env,
        var_dir,
        database_url,
        tracker_url,
        queue,
    )
    process = None
    try:
        with log.open("ab") as sink:
            # The profile creates both databases and migrates the app database itself.
            process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "serve", "--profile", "scaled"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until_up(f"{bot.public_url}/healthz", process, log, 120)
        for url in bot.replica_urls:
            wait_until_up(f"{url}/status?token={bot.token}", process, log, 300)
        _seed(database_url)  # the demo shop, for the chats about an order
        yield bot
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):  # the queue may never have been made
            _queue_count(queue, delete=True)
        with admin.connect() as connection:
            for db in (name, f"{name}_tracker"):
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


# Twelve different messages that start no form: each gets its own replies.
MESSAGES = [
    "hi",
    "how long does shipping take?",
    "what payment methods do you accept?",
    "are you a bot?",
    "do you ship to France?",
    "how do I reset my password?",
    "hello there",
    "can I pay with paypal?",
    "what does shipping cost?",
    "are you a human?",
    "I forgot my password",
    "good morning",
]


def _turns(events: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, list[str]]]:
    """Each user message with the bot texts stored after it, up to the next user message."""
    turns: list[tuple[str, list[str]]] = []
    for kind, data in events:
        if kind == "user":
            turns.append((data["text"], []))
        elif kind == "bot" and turns:
            turns[-1][1].append(data.get("text") or "")
    return turns


def test_one_conversation_sent_to_both_replicas_at_once_is_stored_in_turn(scaled_bot):
    me = f"scaled-{uuid.uuid4().hex[:10]}"
    targets = [scaled_bot.replica_urls[i % 2] for i in range(len(MESSAGES))]

    def send(i: int) -> tuple[str, list[str]]:
        replies, _ = scaled_bot.say(targets[i], me, MESSAGES[i])
        return MESSAGES[i], [r.get("text") or "" for r in replies]

    with ThreadPoolExecutor(max_workers=len(MESSAGES)) as pool:
        answered = dict(pool.map(send, range(len(MESSAGES))))
    assert all(answered.values()), answered  # every message got a reply
    turns = _turns(scaled_bot.events(me))
    # every message stored exactly once...
    assert sorted(text for text, _ in turns) == sorted(MESSAGES)
    # ...and followed by exactly the replies its sender got, before the next message
    for text, stored_replies in turns:
        assert stored_replies == answered[text], f"the replies to {text!r} are interleaved"
    # Both replicas did serve this conversation (half the messages each).
    assert {targets[MESSAGES.index(text)] for text, _ in turns} == set(scaled_bot.replica_urls)


def test_rest_through_nginx_goes_round_robin_to_both_replicas(scaled_bot):
    me = f"scaled-rr-{uuid.uuid4().hex[:8]}"
    replicas = [scaled_bot.say(scaled_bot.public_url, me, text)[1] for text in MESSAGES[:6]]
    assert sorted(set(replicas)) == ["1", "2"]
    assert all(a != b for a, b in zip(replicas, replicas[1:], strict=False)), replicas
    assert [text for text, _ in _turns(scaled_bot.events(me))] == MESSAGES[:6]


def test_nginx_exposes_neither_rasas_api_nor_the_action_servers(scaled_bot):
    token = scaled_bot.token
    me = f"scaled-api-{uuid.uuid4().hex[:8]}"
    scaled_bot.say(scaled_bot.public_url, me, "hi")
    # On loopback, with the token, Rasa's API answers...
    status, body, _ = http(f"{scaled_bot.replica_urls[0]}/conversations/{me}/tracker?token={token}")
    assert status == 200 and body["sender_id"] == me
    # ...through nginx, even with the token, it does not exist.
    for method, path in [
        ("GET", f"/conversations/{me}/tracker?token={token}"),
        ("POST", f"/conversations/{me}/messages?token={token}"),
        ("GET", f"/status?token={token}"),
        ("GET", f"/version?token={token}"),
        ("GET", f"/domain?token={token}"),
        ("PUT", f"/model?token={token}"),
        ("POST", f"/model/parse?token={token}"),
        ("POST", "/webhook"),  # the action server's route
        ("GET", "/health"),
    ]:
        status, _, headers = http(
            f"{scaled_bot.public_url}{path}", method, {} if method != "GET" else None
        )
        assert status == 404, (method, path, status)
        assert not headers.get(REPLICA_HEADER), (method, path)
    status, _, _ = http(f"{scaled_bot.public_url}{WEBHOOK}")  # only POST
    assert status == 403
    # The website and the widget's channel are public.
    assert http(f"{scaled_bot.public_url}/")[0] == 200
    status, body, _ = http(f"{scaled_bot.public_url}/widget/config")
    assert status == 200 and body["socket_url"] == scaled_bot.public_url
    status, body, _ = http(
        f"{scaled_bot.public_url}/socket.io/?EIO=4&transport=polling",
        headers={"Origin": scaled_bot.public_url},
    )
    assert status == 200 and '"sid"' in body


def _post_text(url: str, text: str, origin: str) -> tuple[int, str]:
    request = urllib.request.Request(
        url,
        data=text.encode(),
        method="POST",
        headers={"Content-Type": "text/plain;charset=UTF-8", "Origin": origin},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_socketio_visits_spread_over_the_replicas_and_each_stays_on_its_own(scaled_bot):
    """The widget names its visit (`visitor`); from one address, visits reach both replicas,
    and each visit's later long-polling requests reach the replica that holds its session
    (another replica would refuse the session id)."""
    url = scaled_bot.public_url
    seen = []
    for i in range(16):
        polling = f"{url}/socket.io/?EIO=4&transport=polling&visitor=visit{i:04d}{uuid.uuid4().hex}"
        status, body, headers = http(polling, headers={"Origin": url})
        assert status == 200 and str(body).startswith("0{"), body
        sid = json.loads(str(body)[1:])["sid"]
        seen.append(headers[REPLICA_HEADER])
        # socket.io's connect, then a poll for its answer: both on the session's own replica
        assert _post_text(f"{polling}&sid={sid}", "40", url) == (200, "OK"), i
        status, body, _ = http(f"{polling}&sid={sid}", headers={"Origin": url})
        assert status == 200 and str(body).startswith("40"), (i, status, body)
    assert set(seen) == {"1", "2"}, seen
    # A malformed visitor id falls back to the address: still a working session.
    status, body, _ = http(
        f"{url}/socket.io/?EIO=4&transport=polling&visitor=<x>", headers={"Origin": url}
    )
    assert status == 200 and str(body).startswith("0{")


def test_a_whole_chat_through_nginx_stores_its_survey_in_postgres(scaled_bot):
    engine = sa.create_engine(scaled_bot.database_url, future=True)
    try:
        with engine.connect() as connection:
            number, customer = connection.execute(
                sa.text("SELECT number, customer_id FROM orders WHERE status = 'shipped' LIMIT 1")
            ).one()
        owner = {"token": mint(signing_key(scaled_bot.settings), "customer", customer_id=customer)}
        me = f"scaled-survey-{uuid.uuid4().hex[:8]}"
        url = scaled_bot.public_url
        seen = []

        def texts(message: str, metadata: dict | None = None) -> str:
            replies, replica = scaled_bot.say(url, me, message, metadata)
            seen.append(replica)
            return "\n".join(r.get("text") or "" for r in replies)

        assert f"Order {number}" in texts(f"where is my order {number}?", owner)
        assert "from 0 to 10" in texts("no, that's all")
        assert "from 1 (not at all) to 5" in texts("nine")
        assert "Anything we could do better?" in texts("4 out of 5")
        assert "Thank you for your feedback" in texts("faster replies please")
        assert set(seen) == {"1", "2"}  # the chat moved between the replicas
        with engine.connect() as connection:
            row = connection.execute(
                sa.text(
                    "SELECT nps, csat, comment, status, topic, channel FROM survey_responses "
                    "WHERE conversation_id = :c"
                ),
                {"c": me},
            ).one()
    finally:
        engine.dispose()
    assert tuple(row) == (9, 4, "faster replies please", "completed", "order_status", "rest")


def _tap(queue: str, exchange: str = "rasa-exchange") -> None:
    """A queue of our own bound to Rasa's fanout exchange: a copy of every event published
    from now on, whatever the event consumer takes from the profile's queue."""
    import aio_pika

    async def bind() -> None:
        connection = await aio_pika.connect(AMQP_URL, timeout=5)
        try:
            channel = await connection.channel()
            tapped = await channel.declare_queue(queue, durable=False)
            await tapped.bind(exchange, "")
        finally:
            await connection.close()

    asyncio.run(asyncio.wait_for(bind(), 15))


def _drain(queue: str) -> list[dict[str, Any]]:
    """Every message waiting in `queue`, taken off it."""
    import aio_pika

    async def drain() -> list[dict[str, Any]]:
        connection = await aio_pika.connect(AMQP_URL, timeout=5)
        taken = []
        try:
            channel = await connection.channel()
            tapped = await channel.declare_queue(queue, passive=True)
            while (message := await tapped.get(no_ack=True, fail=False)) is not None:
                taken.append(json.loads(message.body))
        finally:
            await connection.close()
        return taken

    return asyncio.run(asyncio.wait_for(drain(), 30))


def test_the_replicas_publish_every_stored_event_to_rabbitmq(scaled_bot):
    me = f"scaled-events-{uuid.uuid4().hex[:8]}"
    tap = f"{scaled_bot.queue}_tap"
    _tap(tap)
    try:
        for text in MESSAGES[:4]:
            scaled_bot.say(scaled_bot.public_url, me, text)
        stored = len(scaled_bot.events(me))
        published: list[dict[str, Any]] = []
        deadline = time.monotonic() + 10  # the broker publishes beside the reply
        while len(published) < stored and time.monotonic() < deadline:
            published += [e for e in _drain(tap) if e.get("sender_id") == me]
            time.sleep(0.5)
    finally:
        with contextlib.suppress(Exception):
            _queue_count(tap, delete=True)
    assert len(published) == stored > 0
    assert [e["event"] for e in published] == [kind for kind, _ in scaled_bot.events(me)]


def test_chats_reach_the_conversations_table_through_the_event_consumer(scaled_bot):
    """The replicas write no summary (SUPPORTBOT_SUMMARIES_FROM=broker); the consumer does,
    and one killed (SIGKILL) holding unacknowledged events loses nothing and duplicates
    nothing once the profile has started it again."""
    todo = scaled_bot.scripts(12, f"consumer-{uuid.uuid4().hex[:6]}")
    senders = [script.sender for script in todo]
    consumer = scaled_bot.pid("event-consumer")
    first, second = todo[:6], todo[6:]
    outcomes = asyncio.run(run_chats(scaled_bot.public_url, first, concurrency=6))
    behind, _ = wait_for_summaries(scaled_bot, senders[:6], timeout=30)
    assert behind == []  # every whole chat summarised, from the broker
    # Stop the consumer (it keeps its unacknowledged messages), chat on, then kill it.
    os.kill(consumer, signal.SIGSTOP)
    try:
        outcomes += asyncio.run(run_chats(scaled_bot.public_url, second, concurrency=6))
        assert summaries_behind(scaled_bot, senders[6:]) == senders[6:]  # nothing written
    finally:
        os.kill(consumer, signal.SIGKILL)
        os.kill(consumer, signal.SIGCONT)
    waiting = _queue_count(scaled_bot.queue)  # handed back by RabbitMQ when it died
    behind, took = wait_for_summaries(scaled_bot, senders, timeout=60)
    assert behind == [], f"not summarised {took:.0f} s after the restart: {behind}"
    assert scaled_bot.pid("event-consumer") != consumer  # the profile started a new one
    assert waiting > 0
    kept = scaled_bot.survival(outcomes)
    assert kept.completed == kept.surveys_stored == 12
    assert kept.answered == kept.answered_stored == 72 and kept.duplicates == []
    engine = sa.create_engine(scaled_bot.database_url, future=True)
    try:
        with engine.connect() as connection:
            sessions = connection.execute(
                sa.text(
                    "SELECT conversation_id, count(*) FROM conversations "
                    "WHERE conversation_id = ANY(:ids) GROUP BY conversation_id"
                ),
                {"ids": senders},
            ).all()
    finally:
        engine.dispose()
    assert dict(sessions) == {sender: 1 for sender in senders}  # one row each, no duplicate


def test_missing_services_are_named_with_how_to_get_them(tmp_path):
    closed = free_port()  # nothing listens there
    env = {
        **os.environ,
        "SUPPORTBOT_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{closed}/supportbot",
        "TRACKER_DB_URL": f"postgresql://postgres@127.0.0.1:{closed}/supportbot_tracker",
        "LOCK_STORE_URL": f"redis://127.0.0.1:{closed}/0",
        "EVENT_BROKER_URL": f"amqp://guest:guest@127.0.0.1:{closed}",
        "SUPPORTBOT_NGINX": str(tmp_path / "no-nginx"),
    }
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--profile", "scaled"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert time.monotonic() - started < 60
    err = result.stderr
    assert "Cannot start the scaled profile" in err
    assert "PostgreSQL is not reachable for DATABASE_URL" in err
    assert "PostgreSQL is not reachable for TRACKER_DB_URL" in err
    assert f"Redis is not reachable at LOCK_STORE_URL=redis://127.0.0.1:{closed}/0" in err
    assert "apt-get install redis-server" in err
    assert (
        f"RabbitMQ is not reachable at EVENT_BROKER_URL=amqp://guest:***@127.0.0.1:{closed}" in err
    )
    assert f"SUPPORTBOT_NGINX={tmp_path / 'no-nginx'} is not a file" in err
    assert not (tmp_path / "logs").exists()  # nothing was started
