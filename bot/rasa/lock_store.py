"""Rasa's Redis lock store, with every change of a conversation's lock made atomically.

Why: Rasa 3.6's `RedisLockStore` (`rasa/core/lock_store.py`, checked against 3.6.21) changes a
lock by reading its JSON from Redis, changing it in Python and writing it back (`GET` then
`SET`). When two Rasa replicas take a ticket for the same conversation at the same moment both
read the same lock, both issue the same ticket number and one `SET` overwrites the other:
both messages are then served at once (their events interleave in the tracker store), or
the overwritten one finds no ticket of its own and fails with a `LockError`. `cleanup` has
the same gap: it removes its ticket, then deletes the whole lock "if no one is waiting",
deleting a ticket another replica added in between. Rasa added a `ConcurrentRedisLockStore`
for this (RasaHQ/rasa#11256) and reverted it from Rasa Open Source before 3.3
(RasaHQ/rasa#11428), so 3.6 still has the race (RasaHQ/rasa#9213).

Here each read-change-write of a lock runs in a Redis transaction that watches the lock's
key (`WATCH`/`MULTI`/`EXEC`): when another replica changed the key in between, the change
is redone on the new value. Rasa's data format, key names and ticket algorithm stay as they
are; only the writes become atomic. The key expires with its last ticket, so the lock of a
replica that died does not outlive its tickets. Waiting replicas look again every
`poll_interval` seconds (Rasa's default is one second).

Use it from `endpoints.yml` (`bot.runtime.lock_store_config` writes this):

    lock_store:
      type: bot.rasa.lock_store.AtomicRedisLockStore
      url: 127.0.0.1
      port: 6379
      db: 0
      key_prefix: supportbot
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore

logger = logging.getLogger(__name__)

T = TypeVar("T")

# How long one atomic change may keep retrying against other replicas' changes of the
# same lock before it gives up with Rasa's LockError.
MAX_RETRY_SECONDS = 5.0
DEFAULT_POLL_INTERVAL = 0.05


class AtomicRedisLockStore(RedisLockStore):
    """`RedisLockStore` whose ticket issue, update and clean-up are Redis transactions."""

    def __init__(self, endpoint_config: Any = None, **kwargs: Any) -> None:
        """Built by Rasa from `endpoints.yml` (`endpoint_config`) or directly with kwargs."""
        options: dict[str, Any] = {}
        if endpoint_config is not None:
            options.update(endpoint_config.kwargs)
            if endpoint_config.url:
                options["host"] = endpoint_config.url
        options.update(kwargs)
        self.poll_interval = float(options.pop("poll_interval", DEFAULT_POLL_INTERVAL))
        options.pop("type", None)
        super().__init__(**options)

    def _key(self, conversation_id: str) -> str:
        return self.key_prefix + conversation_id

    def _change(
        self,
        conversation_id: str,
        change: Callable[[TicketLock], T],
        create: bool = True,
    ) -> T | None:
        """Apply `change` to the conversation's lock in one transaction; save or delete it.

        Without `create`, a missing lock stays missing and `change` is not called (None).
        An empty lock (no tickets left) is deleted.
        """
        import redis

        key = self._key(conversation_id)
        deadline = time.monotonic() + MAX_RETRY_SECONDS
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    if raw:
                        lock = TicketLock.from_dict(json.loads(raw))
                    elif create:
                        lock = TicketLock(conversation_id)
                    else:
                        pipe.unwatch()
                        return None
                    result = change(lock)
                    lock.remove_expired_tickets()
                    pipe.multi()
                    if lock.tickets:
                        expires = max(ticket.expires for ticket in lock.tickets)
                        ttl_ms = max(1, math.ceil((expires - time.time()) * 1000))
                        pipe.set(key, lock.dumps(), px=ttl_ms)
                    else:
                        pipe.delete(key)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    if time.monotonic() > deadline:
                        raise LockError(
                            f"The lock of conversation '{conversation_id}' changed under every "
                            f"attempt for {MAX_RETRY_SECONDS:.0f} s."
                        ) from None
                    continue

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """A new ticket for the conversation, numbered after the last one, atomically."""
        try:
            ticket = self._change(conversation_id, lambda lock: lock.issue_ticket(lock_lifetime))
        except LockError:
            raise
        except Exception as error:  # as Rasa's: any failure to get a ticket is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error
        assert ticket is not None
        return ticket

    def update_lock(self, conversation_id: str) -> None:
        """Drop the expired tickets (an existing lock only)."""
        self._change(conversation_id, lambda lock: None, create=False)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Remove the ticket; the lock goes when it was the last one."""
        self._change(
            conversation_id, lambda lock: lock.remove_ticket_for(ticket_number), create=False
        )

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Remove the ticket, and the lock with it when no other ticket waits: one step."""
        self.finish_serving(conversation_id, ticket_number)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float | None = None,
    ) -> AsyncGenerator[TicketLock, None]:
        """Rasa's ticket lock (`LockStore.lock`), with two differences: waiting replicas look
        again every `poll_interval` s instead of 1 s, and each Redis round trip runs on a
        thread, so the replica's other chats go on while Redis answers (Rasa's client is
        synchronous and would hold the event loop for each)."""
        wait = self.poll_interval if wait_time_in_seconds is None else wait_time_in_seconds
        ticket = await asyncio.to_thread(self.issue_ticket, conversation_id, lock_lifetime)
        try:
            yield await self._acquire(conversation_id, ticket, wait)
        finally:
            await asyncio.to_thread(self.cleanup, conversation_id, ticket)

    async def _acquire(self, conversation_id: str, ticket: int, wait: float) -> TicketLock:
        """Rasa's `_acquire_lock`: the lock once `ticket` is being served."""
        while True:
            lock = await asyncio.to_thread(self.get_lock, conversation_id)
            if not lock:  # expired
                break
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(wait)
            await asyncio.to_thread(self.update_lock, conversation_id)
        raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
