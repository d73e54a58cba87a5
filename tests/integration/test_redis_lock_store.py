"""The atomic Redis lock store against a real Redis (skipped when none is reachable), beside
Rasa's own RedisLockStore losing a ticket in the same interleaving of two replicas."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from bot.rasa.lock_store import AtomicRedisLockStore

REDIS_URL = os.environ.get("SUPPORTBOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_options() -> dict:
    parsed = make_url(REDIS_URL)
    return {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 6379,
        "db": int(parsed.database or 0),
        "key_prefix": f"locktest{uuid.uuid4().hex[:8]}",
    }


@pytest.fixture
def options() -> Iterator[dict]:
    import redis

    opts = _redis_options()
    client = redis.Redis(host=opts["host"], port=opts["port"], db=opts["db"], socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {type(error).__name__}")
    yield opts
    for key in client.scan_iter(f"{opts['key_prefix']}:*"):
        client.delete(key)
    client.close()


def _other_replica_takes_a_ticket_while_the_first_reads(store_a, store_b, monkeypatch):
    """Make replica B issue a whole ticket right after replica A has read the lock."""
    from rasa.core.lock import TicketLock

    original = TicketLock.issue_ticket
    state = {"interleaved": False, "b_ticket": None}

    def issue(lock: TicketLock, lifetime: float) -> int:
        if not state["interleaved"]:
            state["interleaved"] = True  # B's own call below goes straight through
            state["b_ticket"] = store_b.issue_ticket(lock.conversation_id)
        return original(lock, lifetime)

    monkeypatch.setattr(TicketLock, "issue_ticket", issue)
    a_ticket = store_a.issue_ticket("conv")
    return a_ticket, state["b_ticket"]


def test_rasas_redis_lock_store_issues_one_ticket_twice(options, monkeypatch):
    from rasa.core.lock_store import RedisLockStore

    a, b = RedisLockStore(**options), RedisLockStore(**options)
    a_ticket, b_ticket = _other_replica_takes_a_ticket_while_the_first_reads(a, b, monkeypatch)
    # Both replicas hold ticket 0: both serve the conversation at once.
    assert a_ticket == b_ticket == 0
    assert [t.number for t in a.get_lock("conv").tickets] == [0]


def test_the_atomic_store_gives_each_replica_its_own_ticket(options, monkeypatch):
    a, b = AtomicRedisLockStore(**options), AtomicRedisLockStore(**options)
    a_ticket, b_ticket = _other_replica_takes_a_ticket_while_the_first_reads(a, b, monkeypatch)
    assert (b_ticket, a_ticket) == (0, 1)
    lock = a.get_lock("conv")
    assert [t.number for t in lock.tickets] == [0, 1]
    assert lock.now_serving == 0 and lock.is_locked(1)
    a.cleanup("conv", 0)
    assert not a.get_lock("conv").is_locked(1)
    b.cleanup("conv", 1)
    assert a.get_lock("conv") is None


def test_tickets_from_many_threads_are_all_different(options):
    stores = [AtomicRedisLockStore(**options) for _ in range(4)]
    issued: list[int] = []
    guard = threading.Lock()

    def take(store: AtomicRedisLockStore) -> None:
        for _ in range(25):
            ticket = store.issue_ticket("busy")
            with guard:
                issued.append(ticket)

    threads = [threading.Thread(target=take, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(issued) == list(range(100))
    assert len(stores[0].get_lock("busy").tickets) == 100
    # The key expires with its last ticket (60 s), so a dead replica's lock does not stay.
    assert 0 < stores[0].red.pttl(stores[0].key_prefix + "busy") <= 60_000


async def test_two_replicas_serve_one_conversation_in_turn(options):
    """Rasa's `lock()` as the agent uses it: 20 messages over two stores, never two at once."""
    stores = [AtomicRedisLockStore(**options), AtomicRedisLockStore(**options)]
    inside: list[str] = []
    log: list[tuple[str, str]] = []

    async def handle(n: int) -> None:
        async with stores[n % 2].lock("shared"):
            inside.append(str(n))
            log.append(("enter", str(n)))
            assert len(inside) == 1, f"{inside} inside the lock at once"
            await asyncio.sleep(0.01)
            inside.remove(str(n))
            log.append(("exit", str(n)))

    await asyncio.wait_for(asyncio.gather(*(handle(n) for n in range(20))), timeout=30)
    assert [kind for kind, _ in log] == ["enter", "exit"] * 20
    assert stores[0].get_lock("shared") is None
