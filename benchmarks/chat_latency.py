"""Chat latency and throughput of Supportbot, side by side with the stock `rasa init` assistant.

What it measures
    Simulated customers hold short whole conversations (4-5 messages each) over Rasa's REST
    channel, `POST {url}/webhooks/rest/webhook`, one unique `sender` per conversation. For each
    bot and each concurrency level (default 1 and 16 customers at once) it reports the number
    of messages answered, errors (HTTP errors, timeouts, broken replies), empty replies,
    messages per second (answered messages / wall time of the level, including the messages
    still under way at its end), and the p50/p95/p99 latency of one message (request sent to
    reply read), in milliseconds. Each level runs for `--seconds` (default 30) or until
    `--max-conversations` have started, after a warm-up of a few unmeasured conversations.

    The yardstick is the assistant `rasa init` creates (Rasa's default pipeline, DIET + TED,
    no custom actions, in-memory tracker store), loaded the same way in the same run, so the
    ratios Supportbot / stock say what our pipeline, custom actions and SQL tracker store cost
    on this machine, whatever else the machine is doing.

    Supportbot's conversations use real demo orders (`supportbot demo-orders`): order status,
    a cancellation that is declined (nothing is cancelled), a product question and shipping,
    a return (on the benchmark's own copy of the database), a refund question.

How it runs
    1. The stock assistant is created and trained once in `var/bench/stock/` with
       `rasa init --no-prompt` (a few minutes; later runs reuse its model).
    2. Supportbot: `supportbot serve` on ports 5105 (Rasa) and 5155 (actions), so it does not
       clash with `make run`, with `SUPPORTBOT_VAR_DIR=var/bench/supportbot`: a fresh copy of
       the app database and an empty tracker database. Warm-up, the levels, then it is stopped.
       With `--workers 1 2` this is done once per worker count; several Rasa workers
       (`SANIC_WORKERS`) share Redis as Rasa's lock store (`--lock-store-url`), as in a
       deployment, and are reported as `supportbot-w2`.
    3. The stock assistant: `rasa run --enable-api` on port 5205 (its API behind a token of
       the run, as ours is); warm-up, levels, stopped.
    The two bots are never loaded at the same time. Servers run in their own process groups
    and are stopped (the whole group) at the end, on errors, on Ctrl+C and on SIGTERM. Their
    logs are in `var/bench/logs/` (and Supportbot's own in `var/bench/supportbot/logs/`).
    A default run takes about 4-5 minutes on 2 cores (most of it loading the two models),
    plus 3-5 minutes of training the first time.

    `--url` / `--stock-url` measure bots that are already running instead (nothing is started
    or stopped). The order numbers then come from the app database of the current environment
    (`DATABASE_URL` / `SUPPORTBOT_VAR_DIR`), and the chats land in that bot's databases: the
    return conversation opens returns there.

Usage
    make bench                                   # .venv/bin/python benchmarks/chat_latency.py
    .venv/bin/python benchmarks/chat_latency.py --seconds 5          # a quick smoke run
    .venv/bin/python benchmarks/chat_latency.py --url http://127.0.0.1:5005   # a running bot
                                  # (its API token: --token, else RASA_AUTH_TOKEN or var/rasa-api.token)
    .venv/bin/python benchmarks/chat_latency.py --concurrency 1 4 16 --json > bench.json
    .venv/bin/python benchmarks/chat_latency.py --workers 1 2   # also with 2 Rasa workers

Progress goes to stderr; the table (or, with `--json`, the JSON result) to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = PROJECT_ROOT / "var" / "bench"
OUR_VAR_DIR = BENCH_DIR / "supportbot"
STOCK_DIR = BENCH_DIR / "stock"
LOG_DIR = BENCH_DIR / "logs"
OUR_MODEL = PROJECT_ROOT / "models" / "supportbot.tar.gz"
WEBHOOK = "/webhooks/rest/webhook"
OURS, STOCK = "supportbot", "stock"
WARMUP_SECONDS = 120  # an upper bound; the warm-up is `--warmup` conversations


@dataclass(frozen=True)
class Script:
    """One customer's messages, and the metadata sent with each (a signed-in customer's token)."""

    messages: tuple[str, ...]
    metadata: dict[str, Any] | None = None


# The assistant `rasa init` creates (the "moodbot"): greet, mood, yes/no, bot challenge, bye.
STOCK_SCRIPTS: list[Script] = [
    Script(("hi", "I'm sad", "yes", "great", "bye")),
    Script(("hello", "I am feeling very good", "are you a bot?", "great", "bye")),
    Script(("hey", "I am unhappy", "no", "bye")),
    Script(("good morning", "are you a bot?", "I am great", "goodbye")),
    Script(("hi there", "not good", "yes", "bye")),
]


class BenchmarkError(Exception):
    """A problem that stops the benchmark, with a message for the user."""


@dataclass(frozen=True)
class Target:
    """A bot under load: where it answers, what customers say, its server if started here."""

    name: str
    url: str
    scripts: Sequence[Script]
    process: subprocess.Popen[bytes] | None = None
    logs: str = "its logs"

    def running(self) -> bool:
        return self.process is None or self.process.poll() is None

    def check_running(self, tally: Tally) -> None:
        """Stop the benchmark if the server stopped, rather than count errors against it."""
        if self.process is not None and self.process.poll() is not None:
            raise BenchmarkError(
                f"{self.name} stopped during the benchmark (exit code {self.process.returncode}, "
                f"stopped from outside?); see {self.logs}"
            )
        if tally.refused:
            raise BenchmarkError(
                f"{self.name} stopped answering during the benchmark ({tally.error_samples[-1]}); "
                f"see {self.logs}"
            )


# --- progress -------------------------------------------------------------------------------


class Progress:
    """Phase lines and a live status line on stderr (one line every few seconds if not a tty)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self._open_line = False
        self._last_plain = 0.0

    def phase(self, message: str) -> None:
        self._end_line()
        print(f"[bench] {message}", file=sys.stderr, flush=True)

    def status(self, message: str) -> None:
        if self.tty:
            print(f"\r\033[K[bench] {message}", end="", file=sys.stderr, flush=True)
            self._open_line = True
        elif time.monotonic() - self._last_plain >= 5:
            self._last_plain = time.monotonic()
            print(f"[bench] {message}", file=sys.stderr, flush=True)

    def _end_line(self) -> None:
        if self._open_line:
            print(file=sys.stderr, flush=True)
            self._open_line = False
        self._last_plain = 0.0


# --- processes ------------------------------------------------------------------------------


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def stop_process_group(process: subprocess.Popen[bytes], grace: float = 20.0) -> None:
    """SIGTERM the process's whole group, then SIGKILL whatever is left after `grace` s."""
    pgid = process.pid  # the leader of its own session, see `process_group`
    _signal_group(pgid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    deadline = time.monotonic() + 5
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _group_alive(pgid):
        _signal_group(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


@contextlib.contextmanager
def process_group(
    argv: Sequence[str], *, cwd: Path, env: dict[str, str], log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `argv` in a new session (its own process group); stop the whole group on exit."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        stop_process_group(process)


def ensure_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise BenchmarkError(
                f"port {port} is already in use (another benchmark still running?); "
                "choose other ports with --port / --action-port / --stock-port"
            )


def server_env(**overrides: str) -> dict[str, str]:
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", **overrides}
    return env


async def wait_for_exit(
    process: subprocess.Popen[bytes], timeout: float, label: str, progress: Progress
) -> int:
    started = time.monotonic()
    while process.poll() is None:
        waited = time.monotonic() - started
        if waited > timeout:
            raise BenchmarkError(f"{label} did not finish within {timeout:.0f} s")
        progress.status(f"{label}… {waited:.0f} s")
        await asyncio.sleep(1)
    return process.returncode


async def wait_until_ready(
    session: aiohttp.ClientSession,
    url: str,
    process: subprocess.Popen[bytes] | None,
    timeout: float,
    label: str,
    progress: Progress,
    logs: str = "its logs",
    token: str | None = None,
) -> None:
    """Poll `GET {url}/status` (Rasa's HTTP API, `?token=`) until it answers 200; fail early if
    the server process exits."""
    params = {"token": token} if token else None
    started = time.monotonic()
    while True:
        waited = time.monotonic() - started
        if process is not None and process.poll() is not None:
            raise BenchmarkError(f"{label} exited with code {process.returncode}; see {logs}")
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
            async with session.get(
                f"{url}/status", params=params, timeout=aiohttp.ClientTimeout(total=2)
            ) as r:
                if r.status in (401, 403):
                    raise BenchmarkError(f"{label} refused the API token (--token?)")
                if r.status == 200:
                    progress.phase(f"{label} is ready ({waited:.0f} s)")
                    return
        if waited > timeout:
            raise BenchmarkError(f"{label} did not answer {url}/status within {timeout:.0f} s")
        progress.status(f"waiting for {label} at {url}… {waited:.0f} s")
        await asyncio.sleep(1)


# --- our bot --------------------------------------------------------------------------------


def our_api_token(env: dict[str, str]) -> str:
    """The token of Supportbot's HTTP API in `env`: RASA_AUTH_TOKEN, or the one kept in its
    var directory (made here if there is none yet, before the bot starts, so both agree)."""
    from bot.auth.keys import rasa_api_token
    from bot.settings import PROJECT_ROOT as ROOT
    from bot.settings import Settings

    var_dir = Path(env.get("SUPPORTBOT_VAR_DIR") or ROOT / "var")
    return env.get("RASA_AUTH_TOKEN") or rasa_api_token(Settings(var_dir=var_dir))


def _sqlite_path(url: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(url[len(prefix) :]) if url.startswith(prefix) else None


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def _run_cli(args: Sequence[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise BenchmarkError(f"supportbot {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return result.stdout


def prepare_our_database(env: dict[str, str], progress: Progress) -> None:
    """A fresh copy of the app database in OUR_VAR_DIR and no tracker database."""
    from bot.settings import Settings  # the project's own settings, read from the caller's env

    target = OUR_VAR_DIR / "supportbot.db"
    _remove_sqlite(target)
    _remove_sqlite(OUR_VAR_DIR / "tracker.db")
    source = _sqlite_path(Settings.from_env().database_url)
    if source is not None and source.exists():
        progress.phase(f"copying the app database {source} to {target}")
        with (
            contextlib.closing(sqlite3.connect(source)) as src,
            contextlib.closing(sqlite3.connect(target)) as dst,
        ):
            src.backup(dst)  # consistent even while `make run` writes to the source
    else:
        progress.phase(f"creating the demo shop in {target} (migrate + seed-demo)")
        _run_cli(["migrate"], env)
        _run_cli(["seed-demo", "--json"], env)


def demo_orders(env: dict[str, str]) -> dict[str, list[str]]:
    orders: dict[str, list[str]] = json.loads(
        _run_cli(["demo-orders", "--json", "--per-status", "3"], env)
    )
    missing = [s for s in ("pending", "shipped", "delivered", "returned") if not orders.get(s)]
    if missing:
        raise BenchmarkError(f"the app database has no {', '.join(missing)} orders to chat about")
    return orders


def owner_tokens(env: dict[str, str], numbers: Sequence[str]) -> dict[str, str]:
    """A chat token for the customer of each order, as the shop's login would give the widget."""
    from sqlalchemy import select

    from bot.auth.keys import signing_key
    from bot.auth.tokens import mint
    from bot.bootstrap import bootstrap
    from bot.settings import PROJECT_ROOT as ROOT
    from bot.settings import Settings
    from bot.storage.models import Order
    from bot.storage.session import session_scope

    settings = Settings(
        var_dir=Path(env.get("SUPPORTBOT_VAR_DIR") or ROOT / "var"),
        database_url=env.get("DATABASE_URL", ""),
    )
    services = bootstrap(settings)
    try:
        with session_scope(services.session_factory) as session:
            rows = session.execute(
                select(Order.number, Order.customer_id).where(Order.number.in_(numbers))
            ).all()
        owners = {number: customer for number, customer in rows}
    finally:
        services.close()
    key = signing_key(settings)
    return {number: mint(key, "customer", customer_id=owner) for number, owner in owners.items()}


def our_scripts(
    orders: dict[str, list[str]], tokens: dict[str, str] | None = None, variants: int = 3
) -> list[Script]:
    """Realistic conversations; none changes the data in a way that breaks a later one.

    The order conversations are signed-in customers' (their token with every message, as the
    widget sends it), since an order is shown only to its customer. The cancellation is
    declined. The first return of a delivered order opens it (on the benchmark's copy of the
    database); later ones are told it is already open.
    """
    tokens = tokens or {}

    def signed(number: str, *messages: str) -> Script:
        token = tokens.get(number)
        return Script(messages, {"token": token} if token else None)

    scripts: list[Script] = []
    for i in range(variants):
        shipped, pending, delivered, returned = (
            orders[status][i % len(orders[status])]
            for status in ("shipped", "pending", "delivered", "returned")
        )
        scripts += [
            signed(shipped, "hi", "where is my order?", shipped, "thanks", "bye"),
            signed(pending, "hello", f"I want to cancel order {pending}", "no", "thank you", "bye"),
            Script(
                ("tell me about the zen yoga mat", "how long does shipping take?", "thanks", "bye")
            ),
            signed(delivered, "hi", f"I want to return order {delivered}", "thanks", "bye"),
            signed(
                returned, "hey", f"where is my refund for order {returned}?", "ok thank you", "bye"
            ),
        ]
    return scripts


def our_conversations(env: dict[str, str]) -> list[Script]:
    orders = demo_orders(env)
    return our_scripts(orders, owner_tokens(env, [n for ns in orders.values() for n in ns]))


def our_env(args: argparse.Namespace, workers: int = 1) -> dict[str, str]:
    """Supportbot's environment; several Rasa workers share a Redis lock store."""
    workers_env = {"SANIC_WORKERS": str(workers)}
    if workers > 1:
        workers_env["LOCK_STORE_URL"] = args.lock_store_url
    return server_env(
        SUPPORTBOT_VAR_DIR=str(OUR_VAR_DIR),
        DATABASE_URL=f"sqlite:///{OUR_VAR_DIR / 'supportbot.db'}",
        TRACKER_DB_URL=f"sqlite:///{OUR_VAR_DIR / 'tracker.db'}",
        RASA_HOST="127.0.0.1",
        RASA_PORT=str(args.port),
        ACTION_PORT=str(args.action_port),
        **workers_env,
    )


def our_name(workers: int) -> str:
    return OURS if workers == 1 else f"{OURS}-w{workers}"


def ensure_redis(url: str) -> None:
    """Several Rasa workers need the Redis lock store: fail early and clearly without it."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    host, port = parsed.host or "127.0.0.1", parsed.port or 6379
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(2)
        if probe.connect_ex((host, port)) != 0:
            raise BenchmarkError(
                f"--workers above 1 needs Redis for Rasa's lock store; nothing answers at "
                f"{host}:{port} (--lock-store-url)"
            )


@contextlib.asynccontextmanager
async def our_bot(
    args: argparse.Namespace, session: aiohttp.ClientSession, progress: Progress, workers: int = 1
) -> AsyncIterator[Target]:
    """Yield Supportbot (started here unless `--url`) with its conversations."""
    if args.url:
        url = args.url.rstrip("/")
        token = args.token or our_api_token(server_env())
        await wait_until_ready(session, url, None, args.start_timeout, OURS, progress, token=token)
        yield Target(OURS, url, our_conversations(server_env()))
        return
    if not OUR_MODEL.exists():
        raise BenchmarkError(f"no trained model at {OUR_MODEL}: run `make train` first")
    ensure_port_free(args.port)
    ensure_port_free(args.action_port)
    if workers > 1:
        ensure_redis(args.lock_store_url)
    name = our_name(workers)
    OUR_VAR_DIR.mkdir(parents=True, exist_ok=True)
    env = our_env(args, workers)
    prepare_our_database(env, progress)
    token = our_api_token(env)
    scripts = our_conversations(env)
    url = f"http://127.0.0.1:{args.port}"
    progress.phase(
        f"starting `supportbot serve` (Rasa :{args.port} with {workers} worker(s), "
        f"actions :{args.action_port}); loading the model takes a while"
    )
    argv = [sys.executable, "-m", "bot.cli", "serve", "--timeout", str(args.start_timeout)]
    logs = f"{LOG_DIR / 'supportbot.log'} and {OUR_VAR_DIR / 'logs'}"
    with process_group(argv, cwd=PROJECT_ROOT, env=env, log_path=LOG_DIR / "supportbot.log") as p:
        try:
            await wait_until_ready(
                session, url, p, args.start_timeout, name, progress, logs, token=token
            )
            yield Target(name, url, scripts, p, logs)
        finally:
            progress.phase(f"stopping {name}")


# --- the stock assistant ----------------------------------------------------------------------


def stock_model_exists() -> bool:
    return any((STOCK_DIR / "models").glob("*.tar.gz"))


async def ensure_stock_model(args: argparse.Namespace, progress: Progress) -> None:
    """`rasa init` the stock assistant once; later runs reuse its trained model."""
    if args.stock_url:
        return
    if stock_model_exists():
        progress.phase(f"stock assistant: reusing the model in {STOCK_DIR / 'models'}")
        return
    STOCK_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / "stock-init.log"
    progress.phase(f"training the stock assistant (first run only, a few minutes; log {log_path})")
    argv = [sys.executable, "-m", "rasa", "init", "--no-prompt", "--init-dir", str(STOCK_DIR)]
    with process_group(argv, cwd=STOCK_DIR, env=server_env(), log_path=log_path) as process:
        code = await wait_for_exit(process, 3600, "training the stock assistant", progress)
    if code != 0 or not stock_model_exists():
        raise BenchmarkError(f"`rasa init` failed (exit {code}); see {log_path}")
    progress.phase("stock assistant trained")


@contextlib.asynccontextmanager
async def stock_bot(
    args: argparse.Namespace, session: aiohttp.ClientSession, progress: Progress
) -> AsyncIterator[Target]:
    """Yield the stock assistant (started here unless `--stock-url`) with its conversations."""
    if args.stock_url:
        url = args.stock_url.rstrip("/")
        await wait_until_ready(
            session, url, None, args.start_timeout, STOCK, progress, token=args.stock_token
        )
        yield Target(STOCK, url, STOCK_SCRIPTS)
        return
    ensure_port_free(args.stock_port)
    url = f"http://127.0.0.1:{args.stock_port}"
    token = secrets.token_hex(16)  # its HTTP API is closed too, as ours is
    argv = [
        *(sys.executable, "-m", "rasa", "run", "--enable-api", "--auth-token", token),
        *("--interface", "127.0.0.1", "--port", str(args.stock_port)),
        *("--model", str(STOCK_DIR / "models")),
    ]
    progress.phase(f"starting the stock assistant (`rasa run` :{args.stock_port})")
    log_path = LOG_DIR / "stock.log"
    with process_group(argv, cwd=STOCK_DIR, env=server_env(), log_path=log_path) as process:
        try:
            await wait_until_ready(
                session, url, process, args.start_timeout, STOCK, progress, str(log_path), token
            )
            yield Target(STOCK, url, STOCK_SCRIPTS, process, str(log_path))
        finally:
            progress.phase(f"stopping the {STOCK} assistant")


# --- load -----------------------------------------------------------------------------------


@dataclass
class Tally:
    """What one load level observed."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    empty_replies: int = 0
    conversations: int = 0
    error_samples: list[str] = field(default_factory=list)
    transcript: list[str] | None = None  # filled only when asked for (`--show-conversations`)
    refused: bool = False  # a connection was refused: the server is not running

    def error(self, message: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 3 and message not in self.error_samples:
            self.error_samples.append(message)


@dataclass(frozen=True)
class LevelResult:
    bot: str
    concurrency: int
    seconds: float
    conversations: int
    messages: int
    errors: int
    empty_replies: int
    messages_per_second: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    error_samples: list[str]


async def send(
    session: aiohttp.ClientSession,
    url: str,
    sender: str,
    text: str,
    tally: Tally,
    metadata: dict[str, Any] | None = None,
) -> bool:
    """One message; records its latency, or an error. False when the conversation must stop."""
    payload: dict[str, Any] = {"sender": sender, "message": text}
    if metadata:
        payload["metadata"] = metadata
    started = time.perf_counter()
    try:
        async with session.post(url, json=payload) as response:
            body = await response.read()
            elapsed_ms = (time.perf_counter() - started) * 1000
            if response.status != 200:
                tally.error(f"HTTP {response.status}: {body[:200]!r}")
                return False
            replies = json.loads(body)
    except asyncio.TimeoutError:
        tally.error("timeout")
        return False
    except aiohttp.ClientConnectorError as error:
        tally.refused = True
        tally.error(f"{type(error).__name__}: {error}")
        return False
    except (aiohttp.ClientError, ValueError) as error:
        tally.error(f"{type(error).__name__}: {error}")
        return False
    if not isinstance(replies, list):
        tally.error(f"not a list of replies: {body[:200]!r}")
        return False
    tally.latencies_ms.append(elapsed_ms)
    if not replies:
        tally.empty_replies += 1
    if tally.transcript is not None:
        tally.transcript += [f"  {sender}: {text}", *(_reply_line(reply) for reply in replies)]
    return True


def _reply_line(reply: Any) -> str:
    if not isinstance(reply, dict):
        return f"    bot: {reply!r}"
    buttons = [str(b.get("title")) for b in reply.get("buttons") or [] if isinstance(b, dict)]
    text = reply.get("text") or ("[image]" if reply.get("image") else repr(reply))
    return f"    bot: {text}" + (f"  [{' | '.join(buttons)}]" if buttons else "")


async def converse(
    session: aiohttp.ClientSession,
    url: str,
    sender: str,
    script: Script,
    tally: Tally,
    deadline: float,
) -> None:
    tally.conversations += 1
    for text in script.messages:
        if time.perf_counter() >= deadline:
            return
        if not await send(session, url + WEBHOOK, sender, text, tally, script.metadata):
            return


async def report(progress: Progress, label: str, tally: Tally, seconds: float) -> None:
    started = time.perf_counter()
    while True:
        elapsed = time.perf_counter() - started
        progress.status(
            f"{label}: {elapsed:.0f} s / {seconds:.0f} s, "
            f"{len(tally.latencies_ms)} messages, {tally.errors} errors"
        )
        await asyncio.sleep(1)


async def run_load(
    session: aiohttp.ClientSession,
    target: Target,
    tally: Tally,
    *,
    concurrency: int,
    seconds: float,
    max_conversations: int,
    sender_prefix: str,
) -> float:
    """`concurrency` customers, each holding one conversation after another until time is up.

    Returns the seconds it took: `seconds` plus the messages under way at the deadline.
    """
    next_number = iter(range(max_conversations))
    started = time.perf_counter()
    deadline = started + seconds

    async def customer() -> None:
        while time.perf_counter() < deadline and target.running() and not tally.refused:
            number = next(next_number, None)
            if number is None:
                return
            script = target.scripts[number % len(target.scripts)]
            sender = f"{sender_prefix}-{number}"
            await converse(session, target.url, sender, script, tally, deadline)

    await asyncio.gather(*(customer() for _ in range(concurrency)))
    return time.perf_counter() - started


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def summarize(bot: str, concurrency: int, tally: Tally, seconds: float) -> LevelResult:
    latencies = np.asarray(tally.latencies_ms, dtype=float)
    p50, p95, p99 = (
        (float(v) for v in np.percentile(latencies, [50, 95, 99]))
        if latencies.size
        else (None, None, None)
    )
    return LevelResult(
        bot=bot,
        concurrency=concurrency,
        seconds=round(seconds, 2),
        conversations=tally.conversations,
        messages=int(latencies.size),
        errors=tally.errors,
        empty_replies=tally.empty_replies,
        messages_per_second=round(latencies.size / seconds, 3) if seconds > 0 else 0.0,
        p50_ms=_round(p50),
        p95_ms=_round(p95),
        p99_ms=_round(p99),
        error_samples=tally.error_samples,
    )


async def measure(
    target: Target,
    args: argparse.Namespace,
    session: aiohttp.ClientSession,
    progress: Progress,
    run_id: str,
) -> list[LevelResult]:
    """Warm up (not measured), then every concurrency level in turn."""
    bot = target.name
    progress.phase(f"{bot}: warm-up, {args.warmup} conversations (not measured)")
    warm = Tally(transcript=[] if args.show_conversations else None)
    await run_load(
        session,
        target,
        warm,
        concurrency=1,
        seconds=WARMUP_SECONDS,
        max_conversations=args.warmup,
        sender_prefix=f"bench-{run_id}-{bot}-warmup",
    )
    target.check_running(warm)
    if args.warmup and not warm.latencies_ms:
        raise BenchmarkError(f"{bot} answered nothing during the warm-up: {warm.error_samples}")
    if warm.errors:
        progress.phase(f"{bot}: {warm.errors} errors during the warm-up: {warm.error_samples}")
    if warm.transcript is not None:
        progress.phase(f"{bot}: the warm-up conversations\n" + "\n".join(warm.transcript))
    results = []
    for concurrency in args.concurrency:
        label = f"{bot}, {concurrency} concurrent"
        tally = Tally()
        load = run_load(
            session,
            target,
            tally,
            concurrency=concurrency,
            seconds=args.seconds,
            max_conversations=args.max_conversations,
            sender_prefix=f"bench-{run_id}-{bot}-c{concurrency}",
        )
        reporter = asyncio.create_task(report(progress, label, tally, args.seconds))
        try:
            elapsed = await load
        finally:
            reporter.cancel()
        target.check_running(tally)
        result = summarize(bot, concurrency, tally, elapsed)
        progress.phase(
            f"{label}: {result.messages} messages, {result.errors} errors, "
            f"{result.messages_per_second:.1f} msgs/s, p95 {_ms(result.p95_ms)} ms"
        )
        results.append(result)
    return results


# --- the run ----------------------------------------------------------------------------------


async def run_benchmark(args: argparse.Namespace, progress: Progress) -> list[LevelResult]:
    """All phases in order, one bot loaded at a time; Ctrl+C / SIGTERM cancel it cleanly."""
    loop = asyncio.get_running_loop()
    main_task = asyncio.current_task()
    assert main_task is not None
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, main_task.cancel)
    run_id = uuid.uuid4().hex[:8]
    results: list[LevelResult] = []
    if STOCK in args.bots:
        await ensure_stock_model(args, progress)  # before anything is loaded: it is CPU-heavy
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    connector = aiohttp.TCPConnector(limit=max(args.concurrency) + 4)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        if OURS in args.bots:
            for workers in [1] if args.url else args.workers:
                async with our_bot(args, session, progress, workers) as target:
                    results += await measure(target, args, session, progress, run_id)
        if STOCK in args.bots:
            async with stock_bot(args, session, progress) as target:
                results += await measure(target, args, session, progress, run_id)
    return results


def ratios(results: Sequence[LevelResult]) -> list[dict[str, Any]]:
    """Supportbot (each worker count) / stock, for msgs/s and p95, at each concurrency both ran."""
    by_key = {(r.bot, r.concurrency): r for r in results}
    rows = []
    for (bot, concurrency), ours in by_key.items():
        stock = by_key.get((STOCK, concurrency))
        if not bot.startswith(OURS) or stock is None:
            continue
        rows.append(
            {
                "bot": bot,
                "concurrency": concurrency,
                "messages_per_second": _ratio(ours.messages_per_second, stock.messages_per_second),
                "p95": _ratio(ours.p95_ms, stock.p95_ms),
            }
        )
    return rows


def _ratio(ours: float | None, stock: float | None) -> float | None:
    return round(ours / stock, 3) if ours is not None and stock else None


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def format_table(results: Sequence[LevelResult], args: argparse.Namespace) -> str:
    header = (
        f"{'bot':<14}{'conc':>5}{'convs':>7}{'msgs':>7}{'errors':>7}{'empty':>6}"
        f"{'msgs/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
    )
    lines = [
        f"Chat latency per message over REST, {args.seconds:.0f} s per level "
        f"(load average before the run: {args.load_before})",
        "",
        header,
        "-" * len(header),
    ]
    for r in results:
        lines.append(
            f"{r.bot:<14}{r.concurrency:>5}{r.conversations:>7}{r.messages:>7}{r.errors:>7}"
            f"{r.empty_replies:>6}{r.messages_per_second:>8.1f}{_ms(r.p50_ms):>8}"
            f"{_ms(r.p95_ms):>8}{_ms(r.p99_ms):>8}"
        )
    rows = ratios(results)
    if rows:
        lines += [
            "",
            f"ours / {STOCK}, same run:",
            f"{'bot':<14}{'conc':>5}{'msgs/s':>9}{'p95':>9}",
        ]
        for row in rows:
            lines.append(
                f"{row['bot']:<14}{row['concurrency']:>5}{_times(row['messages_per_second']):>9}"
                f"{_times(row['p95']):>9}"
            )
    for r in results:
        for sample in r.error_samples:
            lines.append(f"error ({r.bot}, {r.concurrency} concurrent): {sample}")
    return "\n".join(lines)


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def as_json(results: Sequence[LevelResult], args: argparse.Namespace) -> str:
    return json.dumps(
        {
            "settings": {
                "seconds": args.seconds,
                "max_conversations": args.max_conversations,
                "concurrency": args.concurrency,
                "workers": args.workers,
                "warmup_conversations": args.warmup,
                "request_timeout": args.timeout,
                "url": args.url or f"http://127.0.0.1:{args.port}",
                "stock_url": args.stock_url or f"http://127.0.0.1:{args.stock_port}",
                "cpus": os.cpu_count(),
                "load_average_before": args.load_before,
            },
            "results": [asdict(r) for r in results],
            "ratios": ratios(results),
        },
        indent=2,
    )


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The docstring as written, and every option's default."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=_HelpFormatter)
    add = parser.add_argument
    add("--url", help="benchmark an already running Supportbot instead of starting one")
    add("--port", type=int, default=5105, help="Rasa port of the Supportbot started here")
    add("--action-port", type=int, default=5155, help="its action server port")
    add("--token", help="the API token of the bot at --url (default: RASA_AUTH_TOKEN or var/)")
    add("--stock-url", help="benchmark an already running stock assistant instead")
    add("--stock-token", help="the API token of the stock assistant at --stock-url, if any")
    add("--stock-port", type=int, default=5205, help="port of the stock assistant started here")
    add("--bots", nargs="+", choices=[OURS, STOCK], default=[OURS, STOCK], help="which to run")
    add("--concurrency", type=int, nargs="+", default=[1, 16], help="customers at once")
    add(
        "--workers",
        type=int,
        nargs="+",
        default=[1],
        help="Rasa worker processes of Supportbot, one run each (above 1: Redis lock store)",
    )
    add("--lock-store-url", default="redis://127.0.0.1:6379/0", help="Redis, for --workers > 1")
    add("--seconds", type=float, default=30, help="duration of each level")
    add("--max-conversations", type=int, default=1000, help="per level")
    add("--warmup", type=int, default=5, help="unmeasured conversations per bot")
    add("--timeout", type=float, default=30, help="seconds per request")
    add("--start-timeout", type=float, default=300, help="seconds to wait for a server")
    add("--json", action="store_true", help="print the result as JSON")
    add(
        "--show-conversations",
        action="store_true",
        help="print the warm-up conversations with the bot's replies (to check the scripts)",
    )
    args = parser.parse_args(argv)
    if min(args.concurrency) < 1 or args.seconds <= 0 or args.max_conversations < 1:
        parser.error("--concurrency, --seconds and --max-conversations must be positive")
    if min(args.workers) < 1:
        parser.error("--workers must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    progress = Progress()
    try:
        results = asyncio.run(run_benchmark(args, progress))
    except BenchmarkError as error:
        progress.phase(f"failed: {error}")
        return 1
    except (asyncio.CancelledError, KeyboardInterrupt):
        progress.phase("interrupted; everything it started is stopped")
        return 130
    progress.phase("done")
    print(as_json(results, args) if args.json else format_table(results, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
