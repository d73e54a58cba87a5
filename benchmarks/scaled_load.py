"""Load on the scaled profile: whole conversations through nginx, one replica against two.

What it measures
    For each replica count (default 1 and 2, in the same run) it starts
    `supportbot serve --profile scaled --replicas N` on fresh PostgreSQL databases (app and
    tracker, created here and dropped afterwards), Redis and RabbitMQ, with free ports, and
    seeds the demo shop. Then `--concurrency` simulated customers (default 16 at once) hold
    `--conversations` whole conversations in total (default 300) through nginx, on each
    channel of `--channels`: a signed-in customer asks where their order is, says that is
    all, answers the NPS and CSAT questions and leaves a comment (6 messages). It reports per
    replica count and channel: conversations, messages, errors (HTTP errors, timeouts, a
    conversation that did not end with the survey's thanks), messages per second (answered
    messages / wall time), the p50/p95/p99 latency of one message in ms, and how nginx spread
    the messages over the replicas (its X-Supportbot-Replica header; REST only).

    rest      `POST /webhooks/rest/webhook`; a message's latency is the time to the whole reply.
    socketio  the widget's own protocol over a WebSocket (engine.io 4, as the widget speaks it
              once upgraded): `session_request`, then `user_uttered` per message, the
              bot's messages arriving as `bot_uttered` events one by one. A message's latency
              is the time to the last of its replies, the turn being over when no other reply
              came for `--quiet` s (0.5; that wait is not counted). nginx routes socket.io by
              the client's address (sticky), so from one machine every socket goes to one
              replica: the figures for several replicas say what one replica does beside the
              REST load's replicas, not what the spread would be with many visitors.

    Then it checks that nothing was lost: every completed survey is a row of
    survey_responses (PostgreSQL, app database), and every answered message is a user
    event of its conversation in the tracker store (PostgreSQL, Rasa's events table).

    The load generator runs on the same machine as everything else (2 cores here): the
    figures say what one machine does, not what a second machine adds.

Usage
    .venv/bin/python benchmarks/scaled_load.py                      # 1 and 2 replicas
    .venv/bin/python benchmarks/scaled_load.py --replicas 2 --conversations 100
    .venv/bin/python benchmarks/scaled_load.py --json > scaled.json

Needs what the profile needs (PostgreSQL, Redis, RabbitMQ, nginx; it says which is missing)
and a trained model. Progress goes to stderr; the table (or JSON) to stdout. Logs of the
servers: var/bench/scaled-<N>/logs/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks.chat_latency import (  # noqa: E402 - after the path
    BenchmarkError,
    Progress,
    process_group,
    wait_until_ready,
)
from bot.deploy.scaled import check_services, plan, profile_environment  # noqa: E402

BENCH_DIR = PROJECT_ROOT / "var" / "bench"
MODEL = PROJECT_ROOT / "models" / "supportbot.tar.gz"
WEBHOOK = "/webhooks/rest/webhook"
REPLICA_HEADER = "X-Supportbot-Replica"
DEMO_TODAY = "2026-11-01"
THANKS = "Thank you for your feedback"


@dataclass(frozen=True)
class Conversation:
    sender: str
    messages: tuple[str, ...]
    metadata: dict[str, Any]


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)  # senders thanked for their survey
    answered: Counter[str] = field(default_factory=Counter)  # sender -> messages answered
    replicas: Counter[str] = field(default_factory=Counter)

    def error(self, message: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 3 and message not in self.error_samples:
            self.error_samples.append(message)


@dataclass(frozen=True)
class Result:
    replicas: int
    channel: str
    concurrency: int
    conversations: int
    messages: int
    errors: int
    seconds: float
    messages_per_second: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    by_replica: dict[str, int]
    surveys_completed: int
    surveys_stored: int
    messages_stored: int
    lost: int
    error_samples: list[str]


# --- the profile ------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _admin(url: str) -> sa.engine.Engine:
    return sa.create_engine(url, future=True, isolation_level="AUTOCOMMIT")


@dataclass
class Deployment:
    public_url: str
    replica_urls: list[str]
    database_url: str
    tracker_url: str
    var_dir: Path


@contextlib.asynccontextmanager
async def scaled_profile(
    args: argparse.Namespace, replicas: int, session: aiohttp.ClientSession, progress: Progress
) -> AsyncIterator[Deployment]:
    """The profile with `replicas` replicas on fresh databases, stopped and dropped after."""
    name = f"supportbot_bench_{uuid.uuid4().hex[:8]}"
    admin_url = make_url(args.postgres_url)
    database_url = admin_url.set(database=name).render_as_string(hide_password=False)
    tracker_url = admin_url.set(database=f"{name}_tracker").render_as_string(hide_password=False)
    var_dir = BENCH_DIR / f"scaled-{replicas}"
    shutil.rmtree(var_dir, ignore_errors=True)
    var_dir.mkdir(parents=True)
    rasa_ports = [free_port() for _ in range(replicas)]
    env = {
        **os.environ,
        "SUPPORTBOT_VAR_DIR": str(var_dir),
        "SUPPORTBOT_DEMO_TODAY": DEMO_TODAY,
        "SUPPORTBOT_MONITOR_INTERVAL": "0",
        "DATABASE_URL": database_url,
        "TRACKER_DB_URL": tracker_url,
        "LOCK_STORE_URL": args.redis_url,
        "EVENT_BROKER_URL": args.amqp_url,
        "EVENT_BROKER_QUEUE": f"{name}_events",
        "SUPPORTBOT_REPLICAS": str(replicas),
        "SUPPORTBOT_RASA_PORTS": " ".join(map(str, rasa_ports)),
        "SUPPORTBOT_ACTION_PORTS": " ".join(str(free_port()) for _ in range(replicas)),
        "WEB_PORT": str(free_port()),
        "SUPPORTBOT_PUBLIC_PORT": str(free_port()),
        "RASA_TELEMETRY_ENABLED": "false",
    }
    for variable in ("RASA_AUTH_TOKEN", "SUPPORTBOT_CORS_ORIGINS", "SUPPORTBOT_PUBLIC_RASA_URL"):
        env.pop(variable, None)
    problems = check_services(
        plan(profile_environment(env, PROJECT_ROOT / "deploy" / "scaled.env"))
    )
    if problems:
        raise BenchmarkError("the scaled profile cannot start: " + " | ".join(problems))
    from bot.auth.keys import rasa_api_token
    from bot.settings import Settings

    token = rasa_api_token(Settings(var_dir=var_dir))  # before the profile starts: both agree
    public_url = f"http://127.0.0.1:{env['SUPPORTBOT_PUBLIC_PORT']}"
    deployment = Deployment(
        public_url,
        [f"http://127.0.0.1:{p}" for p in rasa_ports],
        database_url,
        tracker_url,
        var_dir,
    )
    argv = [sys.executable, "-m", "bot.cli", "serve", "--profile", "scaled"]
    argv += ["--timeout", str(args.start_timeout)]
    log = var_dir / "serve.log"
    progress.phase(f"starting the scaled profile with {replicas} replica(s); log {log}")
    try:
        with process_group(argv, cwd=PROJECT_ROOT, env=env, log_path=log) as process:
            for i, url in enumerate(deployment.replica_urls):
                await wait_until_ready(
                    session,
                    url,
                    process,
                    args.start_timeout,
                    f"replica {i + 1}",
                    progress,
                    str(log),
                    token=token,
                )
            progress.phase("seeding the demo shop in PostgreSQL")
            await asyncio.to_thread(_seed, database_url)
            yield deployment
            progress.phase(f"stopping the profile with {replicas} replica(s)")
    finally:
        engine = _admin(args.postgres_url)
        with engine.connect() as connection:
            for db in (name, f"{name}_tracker"):
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        engine.dispose()
        with contextlib.suppress(Exception):
            await _delete_queue(args.amqp_url, f"{name}_events")


def _seed(database_url: str) -> None:
    from bot.demo.seed import seed_demo_into

    seed_demo_into(database_url, DEMO_TODAY)


async def _delete_queue(amqp_url: str, queue: str) -> None:
    import aio_pika

    connection = await aio_pika.connect(amqp_url, timeout=5)
    try:
        channel = await connection.channel()
        await channel.queue_delete(queue)
    finally:
        await connection.close()


# --- the customers ---------------------------------------------------------------------------


def conversations(deployment: Deployment, count: int, run: str) -> list[Conversation]:
    """`count` customers, each asking about one of their shipped orders, then the survey."""
    from bot.auth.keys import signing_key
    from bot.auth.tokens import mint
    from bot.settings import Settings

    engine = sa.create_engine(deployment.database_url, future=True)
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
        raise BenchmarkError("the demo shop has no shipped orders")
    key = signing_key(Settings(var_dir=deployment.var_dir))
    result = []
    for i in range(count):
        number, customer = orders[i % len(orders)]
        messages = (
            "hi",
            f"where is my order {number}?",
            "no, that's all",
            # scores that ask for no follow-up by a person (detractors are offered one)
            str(7 + i % 4),
            f"{3 + i % 3} out of 5",
            "quicker answers would be nice",
        )
        token = mint(key, "customer", customer_id=customer)
        result.append(Conversation(f"load-{run}-{i}", messages, {"token": token}))
    return result


async def converse(
    session: aiohttp.ClientSession, url: str, conversation: Conversation, tally: Tally
) -> None:
    last: list[Any] = []
    for text in conversation.messages:
        payload = {
            "sender": conversation.sender,
            "message": text,
            "metadata": conversation.metadata,
        }
        started = time.perf_counter()
        try:
            async with session.post(url + WEBHOOK, json=payload) as response:
                body = await response.read()
                elapsed = (time.perf_counter() - started) * 1000
                if response.status != 200:
                    tally.error(f"HTTP {response.status}: {body[:200]!r}")
                    return
                last = json.loads(body)
                tally.replicas[response.headers.get(REPLICA_HEADER, "?")] += 1
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            tally.error(f"{type(error).__name__}: {error}")
            return
        tally.latencies_ms.append(elapsed)
        tally.answered[conversation.sender] += 1
    if any(THANKS in (reply.get("text") or "") for reply in last):
        tally.completed.append(conversation.sender)
    else:
        tally.error(f"not thanked for the survey: {last!r:.200}")


class SocketIO:
    """The socket.io protocol (engine.io 4) over one WebSocket, as the widget speaks it once
    upgraded: what python-socketio's own client would do, which needs a newer aiohttp than
    Rasa 3.6 allows. Events are `42["name", data]` frames; the server's pings ("2") get pongs."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        self.origin = url
        self.timeout = timeout
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._socket: Any = None
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> SocketIO:
        import websockets

        self._socket = await websockets.connect(  # type: ignore[attr-defined]
            self.url, origin=self.origin, open_timeout=self.timeout, max_size=2**22
        )
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
    url: str, conversation: Conversation, tally: Tally, timeout: float, quiet: float
) -> None:
    """One conversation over socket.io, as the widget holds it."""
    last: list[dict[str, Any]] = []
    try:
        async with SocketIO(url, timeout) as socket:
            await socket.emit("session_request", {"session_id": conversation.sender})
            name, _ = await socket.next_event(timeout)
            if name != "session_confirm":
                raise ConnectionError(f"no session_confirm but {name}")
            for text in conversation.messages:
                started = time.perf_counter()
                await socket.emit(
                    "user_uttered",
                    {
                        "message": text,
                        "session_id": conversation.sender,
                        "metadata": conversation.metadata,
                    },
                )
                last = [(await socket.next_event(timeout))[1]]
                finished = time.perf_counter()
                while True:  # the turn's other replies, until none comes for `quiet` s
                    try:
                        last.append((await socket.next_event(quiet))[1])
                    except asyncio.TimeoutError:
                        break
                    finished = time.perf_counter()
                tally.latencies_ms.append((finished - started) * 1000)
                tally.answered[conversation.sender] += 1
    except (OSError, ConnectionError, asyncio.TimeoutError, ValueError) as error:
        tally.error(f"{type(error).__name__}: {error}")
        return
    if any(THANKS in ((reply or {}).get("text") or "") for reply in last):
        tally.completed.append(conversation.sender)
    else:
        tally.error(f"not thanked for the survey: {last!r:.200}")


async def run_load(
    talk: Callable[[Conversation, Tally], Awaitable[None]],
    todo: Sequence[Conversation],
    concurrency: int,
    progress: Progress,
    label: str,
) -> tuple[Tally, float]:
    """`todo`'s conversations, `concurrency` at once, each held by `talk` (one channel's)."""
    tally = Tally()
    queue = iter(todo)

    async def customer() -> None:
        for conversation in queue:
            await talk(conversation, tally)

    async def report() -> None:
        while True:
            progress.status(
                f"{label}: {len(tally.completed)}/{len(todo)} conversations, "
                f"{len(tally.latencies_ms)} messages, {tally.errors} errors"
            )
            await asyncio.sleep(1)

    reporter = asyncio.create_task(report())
    started = time.perf_counter()
    try:
        await asyncio.gather(*(customer() for _ in range(concurrency)))
    finally:
        reporter.cancel()
    return tally, time.perf_counter() - started


def stored(
    deployment: Deployment, senders: Sequence[str], completed: Sequence[str]
) -> tuple[int, int]:
    """(survey rows of the completed conversations, user events of the senders) in PostgreSQL."""
    app = sa.create_engine(deployment.database_url, future=True)
    tracker = sa.create_engine(deployment.tracker_url, future=True)
    try:
        with app.connect() as connection:
            surveys = connection.execute(
                sa.text(
                    "SELECT count(DISTINCT conversation_id) FROM survey_responses "
                    "WHERE conversation_id = ANY(:ids) AND status = 'completed'"
                ),
                {"ids": list(completed)},
            ).scalar_one()
        with tracker.connect() as connection:
            messages = connection.execute(
                sa.text(
                    "SELECT count(*) FROM events WHERE type_name = 'user' AND sender_id = ANY(:ids)"
                ),
                {"ids": list(senders)},
            ).scalar_one()
    finally:
        app.dispose()
        tracker.dispose()
    return int(surveys), int(messages)


async def measure(args: argparse.Namespace, replicas: int, progress: Progress) -> list[Result]:
    """One result per channel, on one deployment with `replicas` replicas."""
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    connector = aiohttp.TCPConnector(limit=args.concurrency + 4)
    results = []
    async with (
        aiohttp.ClientSession(timeout=timeout, connector=connector) as session,
        scaled_profile(args, replicas, session, progress) as deployment,
    ):
        for channel in args.channels:
            talk: Callable[[Conversation, Tally], Awaitable[None]] = (
                partial(
                    converse_socketio, deployment.public_url, timeout=args.timeout, quiet=args.quiet
                )
                if channel == "socketio"
                else partial(converse, session, deployment.public_url)
            )
            run = f"{channel}-{uuid.uuid4().hex[:6]}"
            warm = conversations(deployment, args.warmup, f"{run}-warm")
            progress.phase(f"{replicas} replica(s), {channel}: warm-up, {len(warm)} conversations")
            warm_tally, _ = await run_load(talk, warm, 2, progress, "warm-up")
            if not warm_tally.completed:
                raise BenchmarkError(
                    f"no warm-up conversation completed over {channel}: {warm_tally.error_samples}"
                )
            todo = conversations(deployment, args.conversations, run)
            label = f"{replicas} replica(s), {channel}, {args.concurrency} at once"
            tally, seconds = await run_load(talk, todo, args.concurrency, progress, label)
            progress.phase(f"{label}: checking the databases")
            await asyncio.sleep(2)  # the summaries and the broker go on beside the replies
            surveys, messages = stored(deployment, [c.sender for c in todo], tally.completed)
            results.append(
                _result(replicas, channel, args, todo, tally, seconds, surveys, messages)
            )
    return results


def _result(
    replicas: int,
    channel: str,
    args: argparse.Namespace,
    todo: Sequence[Conversation],
    tally: Tally,
    seconds: float,
    surveys: int,
    messages: int,
) -> Result:
    latencies = np.asarray(tally.latencies_ms, dtype=float)
    p50, p95, p99 = (
        (round(float(v), 1) for v in np.percentile(latencies, [50, 95, 99]))
        if latencies.size
        else (None, None, None)
    )
    sent = sum(tally.answered.values())
    return Result(
        replicas=replicas,
        channel=channel,
        concurrency=args.concurrency,
        conversations=len(todo),
        messages=int(latencies.size),
        errors=tally.errors,
        seconds=round(seconds, 2),
        messages_per_second=round(latencies.size / seconds, 2) if seconds else 0.0,
        p50_ms=p50,
        p95_ms=p95,
        p99_ms=p99,
        by_replica=dict(sorted(tally.replicas.items())),
        surveys_completed=len(tally.completed),
        surveys_stored=surveys,
        messages_stored=messages,
        lost=(len(tally.completed) - surveys) + (sent - messages),
        error_samples=tally.error_samples,
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def format_table(results: Sequence[Result], load_before: str) -> str:
    header = (
        f"{'replicas':>8}{'channel':>9}{'conc':>6}{'convs':>7}{'msgs':>7}{'errors':>7}{'msgs/s':>8}"
        f"{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}  {'surveys stored':>15}  {'msgs stored':>12}"
        f"  {'lost':>4}  by replica"
    )
    lines = [
        f"Whole conversations (6 messages, survey included) through nginx "
        f"(load average before: {load_before})",
        "",
        header,
        "-" * len(header),
    ]
    for r in results:
        split = " ".join(f"{k}:{v}" for k, v in r.by_replica.items())
        lines.append(
            f"{r.replicas:>8}{r.channel:>9}{r.concurrency:>6}{r.conversations:>7}{r.messages:>7}{r.errors:>7}"
            f"{r.messages_per_second:>8.1f}{_ms(r.p50_ms):>8}{_ms(r.p95_ms):>8}{_ms(r.p99_ms):>8}"
            f"  {f'{r.surveys_stored}/{r.surveys_completed}':>15}"
            f"  {f'{r.messages_stored}/{r.messages}':>12}  {r.lost:>4}  {split}"
        )
    for r in results:
        for sample in r.error_samples:
            lines.append(f"error ({r.replicas} replica(s), {r.channel}): {sample}")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--replicas", type=int, nargs="+", default=[1, 2], help="replica counts, one run each")
    add("--concurrency", type=int, default=16, help="customers at once")
    add("--conversations", type=int, default=300, help="conversations per replica count")
    add("--warmup", type=int, default=4, help="unmeasured conversations first")
    add("--timeout", type=float, default=60, help="seconds per request")
    add(
        "--channels",
        nargs="+",
        choices=["rest", "socketio"],
        default=["rest", "socketio"],
        help="the channels to load, one after the other on the same deployment",
    )
    add(
        "--quiet",
        type=float,
        default=0.5,
        help="socket.io: seconds without a reply that end a turn",
    )
    add("--start-timeout", type=float, default=300, help="seconds to wait for the profile")
    add(
        "--postgres-url",
        default=os.environ.get(
            "SUPPORTBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
        help="a database of the PostgreSQL server, to create and drop the benchmark's own",
    )
    add("--redis-url", default="redis://127.0.0.1:6379/0")
    add("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672")
    add("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    if args.concurrency < 1 or args.conversations < 1 or min(args.replicas) < 1:
        parser.error("--concurrency, --conversations and --replicas must be positive")
    return args


async def run_all(args: argparse.Namespace, progress: Progress) -> list[Result]:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    results = []
    for replicas in args.replicas:
        for result in await measure(args, replicas, progress):
            progress.phase(
                f"{replicas} replica(s), {result.channel}: {result.messages} messages, "
                f"{result.errors} errors, {result.messages_per_second:.1f} msgs/s, "
                f"p95 {_ms(result.p95_ms)} ms, lost {result.lost}"
            )
            results.append(result)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not MODEL.exists():
        print(f"No trained model at {MODEL}: run `make train` first.", file=sys.stderr)
        return 1
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    progress = Progress()
    try:
        results = asyncio.run(run_all(args, progress))
    except BenchmarkError as error:
        progress.phase(f"failed: {error}")
        return 1
    except (asyncio.CancelledError, KeyboardInterrupt):
        progress.phase("interrupted; everything it started is stopped")
        return 130
    if args.json:
        print(
            json.dumps(
                {
                    "load_average_before": load_before,
                    "cpus": os.cpu_count(),
                    "results": [asdict(r) for r in results],
                },
                indent=2,
            )
        )
    else:
        print(format_table(results, load_before))
    return 0 if all(r.lost == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
