"""Fault runs on the scaled profile: a part fails while customers chat through nginx.

Each run starts chats in the background, breaks one part mid-load, puts it back (the profile
starts a dead process again itself; RabbitMQ and Redis are started again here, as they were),
and checks what survived: every survey a customer completed is a row, every message that got
an answer is in the tracker store, nothing is stored twice that was sent once, and the
conversation summaries end exactly those of the tracker store. Each prints what the customers
saw (failed messages, the slowest reply). Skipped, naming what is missing, without PostgreSQL,
Redis, RabbitMQ and nginx; the RabbitMQ and Redis runs also need root (`rabbitmqctl`, starting
redis-server as it ran). The PostgreSQL run puts both databases on a cluster of its own
(tests/integration/private_postgres.py), so that stopping it touches no other test.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from benchmarks.scaled_chats import Outcome, Survival, run_chats
from tests.integration.private_postgres import private_postgres
from tests.integration.scaled_chats import wait_for_summaries
from tests.integration.test_scaled_profile import REDIS_URL, ScaledBot, start_scaled_profile
from tests.servers import http

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@pytest.fixture(scope="module")
def scaled_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScaledBot]:
    yield from start_scaled_profile(tmp_path_factory)


MAX_CONVERSATIONS = 1500  # started only while the run lasts
CONCURRENCY = 6


def _chats_during(
    bot: ScaledBot, label: str, fault: Callable[[], None], after: float = 3.0, tail: float = 5.0
) -> tuple[list[Outcome], float]:
    """Chats in the background, new ones starting until `tail` s after `fault` (run `after`
    s into them) returned: (outcomes, the fault's moment)."""
    todo = bot.scripts(MAX_CONVERSATIONS, f"{label}-{uuid.uuid4().hex[:6]}")
    done = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        chats = pool.submit(
            asyncio.run,
            run_chats(bot.public_url, todo, CONCURRENCY, 90, lambda: not done.is_set()),
        )
        time.sleep(after)
        at = time.monotonic()
        try:
            fault()
            time.sleep(tail)
        finally:
            done.set()
        outcomes = chats.result(timeout=240)
    return outcomes, at


def _report(label: str, outcomes: list[Outcome], kept: Survival, at: float) -> None:
    # every reply that came after the fault began, including those it held up
    after = [seconds for o in outcomes for sent, seconds in o.latencies if sent + seconds >= at]
    print(
        f"\n[{label}] conversations {len(outcomes)}, completed {kept.completed}, surveys stored "
        f"{kept.surveys_stored}; messages answered {kept.answered}, stored "
        f"{kept.answered_stored}; failed attempts {kept.failed_messages} "
        f"({sorted({e for o in outcomes for e in o.errors})}); slowest reply since the fault "
        f"{max(after, default=0):.1f} s; duplicates {kept.duplicates}"
    )


def _assert_survived(bot: ScaledBot, label: str, outcomes: list[Outcome], at: float) -> Survival:
    senders = [o.sender for o in outcomes]
    behind, took = wait_for_summaries(bot, senders, timeout=90)
    kept = bot.survival(outcomes)
    _report(label, outcomes, kept, at)
    print(f"[{label}] summaries current {took:.1f} s after the chats ended")
    assert kept.surveys_stored == kept.completed  # every completed survey is a row
    assert kept.answered_stored == kept.answered  # every answered message is stored
    assert kept.duplicates == []
    assert behind == [], f"summaries behind the tracker store: {behind}"
    return kept


def _healthy(bot: ScaledBot, timeout: float) -> None:
    """Both replicas answer their status again (the profile restarted what died)."""
    deadline = time.monotonic() + timeout
    for url in bot.replica_urls:
        while _status(f"{url}/status?token={bot.token}") != 200:
            assert time.monotonic() < deadline, f"{url} did not come back"
            time.sleep(1)


def _status(url: str) -> int | None:
    """The status a URL answers, or None while nothing listens there (a replica restarting)."""
    try:
        return http(url, timeout=5)[0]
    except (OSError, urllib.error.URLError):
        return None


def _root_tool(name: str) -> str:
    tool = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if tool is None or os.geteuid() != 0:
        pytest.skip(f"{name} as root is needed to stop and start the service")
    return tool


def test_rabbitmq_stopped_during_chats(scaled_bot):
    rabbitmqctl = _root_tool("rabbitmqctl")
    stopped_for = 25.0

    def outage() -> None:
        subprocess.run([rabbitmqctl, "stop_app"], check=True, capture_output=True, timeout=60)
        try:
            time.sleep(stopped_for)
        finally:
            subprocess.run([rabbitmqctl, "start_app"], check=True, capture_output=True, timeout=120)

    try:
        outcomes, at = _chats_during(scaled_bot, "rabbitmq", outage)
    finally:  # whatever happened, RabbitMQ runs again
        subprocess.run([rabbitmqctl, "start_app"], capture_output=True, timeout=120)
    during = [s for o in outcomes for sent, s in o.latencies if at <= sent <= at + stopped_for]
    kept = _assert_survived(scaled_bot, "rabbitmq", outcomes, at)
    assert len(during) > 10, "Rasa answered while the broker was stopped"
    assert kept.failed_messages == 0 and kept.completed == len(outcomes)


def test_an_action_server_killed_and_started_again(scaled_bot):
    old = scaled_bot.pid("action-server-1")
    back: list[float] = []

    def kill_and_wait() -> None:
        os.kill(old, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if (
                    scaled_bot.pid("action-server-1") != old
                    and http(f"{scaled_bot.action_urls[0]}/health", timeout=2)[0] == 200
                ):
                    back.append(time.monotonic())
                    return
            time.sleep(0.2)

    outcomes, at = _chats_during(scaled_bot, "actions", kill_and_wait)
    assert back, "the profile did not start the action server again within 60 s"
    print(f"[actions] the action server answered again {back[0] - at:.1f} s after the kill")
    _assert_survived(scaled_bot, "actions", outcomes, at)
    # While it was down, replica 1 answered without its custom actions (no order, no survey
    # row): those chats did not complete. Every chat started once it was back did.
    later = [o for o in outcomes if o.latencies and o.latencies[0][0] > back[0] + 1]
    assert later and all(o.thanked for o in later)
    # Replica 1's messages failed (200 with no reply) only while its action server was down.
    assert all(at - 1 <= t <= back[0] + 1 for o in outcomes for t in o.failed_at)


def _redis_command_line() -> tuple[list[str], dict[str, str]]:
    """How to start Redis exactly as it runs now, and its settings to compare afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=3)
    try:
        config = client.config_get("*")
        info = client.info("server")
    finally:
        client.close()
    if info.get("config_file"):
        return ["redis-server", str(info["config_file"])], config
    names = ("bind", "port", "daemonize", "save", "appendonly", "logfile", "dir", "databases")
    argv = ["redis-server"]
    for name in names:
        argv += [f"--{name}", config[name]]
    return argv, config


def test_redis_restarted_during_chats(scaled_bot):
    _root_tool("redis-cli")
    server = shutil.which("redis-server")
    argv, before = _redis_command_line()
    if server is None or before.get("daemonize") != "yes":
        pytest.skip("Redis is not a daemonised redis-server this test can start again as it was")
    if before.get("save") or before.get("appendonly") != "no":
        pytest.skip("Redis keeps data on disk here: a restart is not this test's to make")

    def restart() -> None:
        subprocess.run(["redis-cli", "-u", REDIS_URL, "shutdown", "nosave"], timeout=10)
        subprocess.run(argv, check=True, cwd="/", timeout=30)

    try:
        outcomes, at = _chats_during(scaled_bot, "redis", restart)
    finally:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_timeout=3)
        try:
            client.ping()
        except redis.RedisError:  # not running: start it as it was
            subprocess.run(argv, cwd="/", timeout=30)
        finally:
            client.close()
    _, after = _redis_command_line()
    changed = {k: (before[k], after.get(k)) for k in before if before[k] != after.get(k)}
    assert not changed, f"Redis came back with other settings: {changed}"
    kept = _assert_survived(scaled_bot, "redis", outcomes, at)
    assert kept.completed >= len(outcomes) - CONCURRENCY


def test_a_replica_killed_mid_load(scaled_bot):
    old = scaled_bot.pid("rasa-replica-1")
    outcomes, at = _chats_during(scaled_bot, "replica", lambda: os.kill(old, signal.SIGKILL))
    kept = _assert_survived(scaled_bot, "replica", outcomes, at)
    # The conversations went on at the other replica, through nginx.
    later = [o for o in outcomes if o.latencies and o.latencies[0][0] > at + 2]
    assert later and all(o.thanked for o in later)
    assert kept.completed >= len(outcomes) - CONCURRENCY
    assert scaled_bot.pid("rasa-replica-1") != old
    _healthy(scaled_bot, timeout=180)  # and the profile brought replica 1 back


def test_postgresql_restarted_during_chats(tmp_path_factory):
    """Both databases on a cluster of the test's own, stopped for 10 s and started again."""
    down_for = 10.0
    with private_postgres() as cluster:
        profile = start_scaled_profile(tmp_path_factory, admin_url=cluster.url)
        bot = next(profile)
        try:
            outcomes, at = _chats_during(
                bot, "postgresql", lambda: cluster.restart(down_for), tail=10.0
            )
            _healthy(bot, timeout=120)
            kept = _assert_survived(bot, "postgresql", outcomes, at)
            # Messages waited for the databases (SUPPORTBOT_DB_OUTAGE_WAIT) instead of failing,
            held = [s for o in outcomes for sent, s in o.latencies if sent + s >= at]
            assert kept.failed_messages == 0 and max(held) > down_for / 2
            # and the conversations went on once the databases were back.
            later = [o for o in outcomes if o.latencies and o.latencies[0][0] > at + down_for + 2]
            assert later and all(o.thanked for o in later)
            assert kept.completed >= len(outcomes) - CONCURRENCY
        finally:
            profile.close()
