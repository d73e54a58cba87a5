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
    the messages over the replicas (nginx's X-Supportbot-Replica header), and the processor
    time per answered message of each kind of process (benchmarks/cpu_share.py: the
    replicas, action servers, event consumer, nginx, PostgreSQL, Redis, RabbitMQ and this
    load generator, all on the same cores).

    The customers and their two channels are benchmarks/scaled_chats.py's (REST: the time
    to the whole reply; socket.io: the widget's protocol, each socket naming its visit as the
    widget does, so nginx spreads the sockets over the replicas; the time to the last reply
    of a turn, which is over after `--quiet` s without another, a wait not counted).

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
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import aiohttp
import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks import cpu_share  # noqa: E402 - after the path
from benchmarks.chat_latency import (  # noqa: E402 - after the path
    BenchmarkError,
    Progress,
    process_group,
    wait_until_ready,
)
from benchmarks.scaled_chats import (  # noqa: E402 - after the path
    Outcome,
    Survival,
    run_chats,
    scripts,
    survival,
)
from bot.deploy.scaled import check_services, plan, profile_environment  # noqa: E402

BENCH_DIR = PROJECT_ROOT / "var" / "bench"
MODEL = PROJECT_ROOT / "models" / "supportbot.tar.gz"
DEMO_TODAY = "2026-11-01"


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
    cpu_ms_per_message: dict[str, float]  # processor time per answered message, by process


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
    pid_dir: Path  # the profile's pid files, one per process it runs


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
    topology = plan(profile_environment(env, PROJECT_ROOT / "deploy" / "scaled.env"))
    problems = check_services(topology)
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
        topology.pid_dir,
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


async def measure(args: argparse.Namespace, replicas: int, progress: Progress) -> list[Result]:
    """One result per channel, on one deployment with `replicas` replicas."""
    from bot.auth.keys import signing_key
    from bot.settings import Settings

    timeout = aiohttp.ClientTimeout(total=args.timeout)
    results = []
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        scaled_profile(args, replicas, session, progress) as deployment,
    ):
        key = signing_key(Settings(var_dir=deployment.var_dir))
        for channel in args.channels:
            chat = partial(
                run_chats,
                deployment.public_url,
                timeout=args.timeout,
                channel=channel,
                quiet=args.quiet,
                think=tuple(args.think),
            )
            run = f"load-{channel}-{uuid.uuid4().hex[:6]}"
            warm = scripts(deployment.database_url, key, args.warmup, f"{run}-warm")
            progress.phase(f"{replicas} replica(s), {channel}: warm-up, {len(warm)} conversations")
            warmed = await chat(warm, 2)
            if not any(o.thanked for o in warmed):
                raise BenchmarkError(
                    f"no warm-up conversation completed over {channel}: "
                    f"{sorted({e for o in warmed for e in o.errors})}"
                )
            todo = scripts(deployment.database_url, key, args.conversations, run)
            label = f"{replicas} replica(s), {channel}, {args.concurrency} at once"

            async def status(
                outcomes: Sequence[Outcome], label: str = label, total: int = len(todo)
            ) -> None:
                progress.status(
                    f"{label}: {sum(o.thanked for o in outcomes)}/{total} conversations, "
                    f"{sum(len(o.answered) for o in outcomes)} messages, "
                    f"{sum(len(o.errors) for o in outcomes)} errors"
                )

            cpu_before = cpu_share.take(deployment.pid_dir)
            started = time.perf_counter()
            outcomes = await chat(todo, args.concurrency, status=status)
            seconds = time.perf_counter() - started
            cpu = cpu_share.spent(cpu_before, cpu_share.take(deployment.pid_dir))
            progress.phase(f"{label}: checking the databases")
            await asyncio.sleep(2)  # the summaries and the broker go on beside the replies
            kept = survival(deployment.database_url, deployment.tracker_url, outcomes)
            results.append(_result(replicas, channel, args, outcomes, seconds, kept, cpu))
    return results


def _result(
    replicas: int,
    channel: str,
    args: argparse.Namespace,
    outcomes: Sequence[Outcome],
    seconds: float,
    kept: Survival,
    cpu: dict[str, float],
) -> Result:
    latencies = np.asarray([1000 * s for o in outcomes for _, s in o.latencies], dtype=float)
    p50, p95, p99 = (
        (round(float(v), 1) for v in np.percentile(latencies, [50, 95, 99]))
        if latencies.size
        else (None, None, None)
    )
    errors = [e for o in outcomes for e in o.errors] + [
        f"not thanked for the survey: {o.sender}"
        for o in outcomes
        if not o.thanked and not o.errors
    ]
    return Result(
        replicas=replicas,
        channel=channel,
        concurrency=args.concurrency,
        conversations=len(outcomes),
        messages=int(latencies.size),
        errors=len(errors),
        seconds=round(seconds, 2),
        messages_per_second=round(latencies.size / seconds, 2) if seconds else 0.0,
        p50_ms=p50,
        p95_ms=p95,
        p99_ms=p99,
        by_replica=dict(sorted(Counter(r for o in outcomes for r in o.replicas).items())),
        surveys_completed=kept.completed,
        surveys_stored=kept.surveys_stored,
        messages_stored=kept.answered_stored,
        lost=kept.lost,
        error_samples=sorted(set(errors))[:3],
        cpu_ms_per_message=cpu_share.per_message(cpu, int(latencies.size)),
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def format_table(results: Sequence[Result], load_before: str, think: Sequence[float]) -> str:
    header = (
        f"{'replicas':>8}{'channel':>9}{'conc':>6}{'convs':>7}{'msgs':>7}{'errors':>7}{'msgs/s':>8}"
        f"{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}  {'surveys stored':>15}  {'msgs stored':>12}"
        f"  {'lost':>4}  by replica"
    )
    lines = [
        "Whole conversations (6 messages, survey included) through nginx, "
        + (
            f"customers pausing {think[0]:g}-{think[1]:g} s before each next message "
            if think[1] > 0
            else "customers sending again as soon as answered "
        )
        + f"(load average before: {load_before})",
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
    lines += ["", "CPU ms per answered message, by process (the machine's cores shared by all):"]
    for r in results:
        spent = ", ".join(f"{kind} {ms:.1f}" for kind, ms in r.cpu_ms_per_message.items())
        total = sum(r.cpu_ms_per_message.values())
        lines.append(f"  {r.replicas} replica(s), {r.channel}: {total:.1f} in all: {spent}")
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
    add(
        "--think",
        type=float,
        nargs=2,
        default=[0.0, 0.0],
        metavar=("MIN", "MAX"),
        help="seconds a customer reads and types before each next message, drawn uniformly "
        "(default none: every customer sends again as soon as answered)",
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
    if not 0 <= args.think[0] <= args.think[1]:
        parser.error("--think needs 0 <= MIN <= MAX")
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
                    "think_seconds": args.think,
                    "results": [asdict(r) for r in results],
                },
                indent=2,
            )
        )
    else:
        print(format_table(results, load_before, args.think))
    return 0 if all(r.lost == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
