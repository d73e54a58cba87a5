"""`supportbot consume-events`: the conversation summaries, kept current from the event broker.

Where several Rasa replicas share the databases (the scaled profile), the replicas do not
summarise the chats as they save them (SUPPORTBOT_SUMMARIES_FROM=broker); this process does,
from the events Rasa's Pika broker publishes to RabbitMQ (queue EVENT_BROKER_QUEUE).

How it stays right:

- **Idempotent by construction.** A message names a conversation; the consumer summarises that
  conversation from the tracker store, not from the messages themselves. A summary is a pure
  function of the stored events (`summarize_signed_conversation`) upserted on (conversation,
  session), never replacing a summary of a later moment (`ConversationRepository.upsert_many`),
  so an event delivered twice, late or out of order writes the same rows again. No table of
  processed event ids is needed: redelivery costs a re-read, never a duplicate.
- **Publish comes before store.** Rasa publishes a message's events just before it commits
  them to the tracker store. An event not found there yet (by type and timestamp) is held,
  unacknowledged, and looked for again with the next batch; after `consumer_settle_seconds`
  (the replica died before storing it) it is acknowledged without.
- **Acknowledged only after the commit.** A batch's messages are acked once their summaries
  are committed to the app database. If the consumer dies first, RabbitMQ hands them out
  again (to its restart, or to another consumer of the queue); if the database is down the
  batch is retried, still unacked, until it answers.
- **Bounded batches.** At most `consumer_batch_size` messages (200), gathered for at most
  `consumer_batch_wait_seconds` (0.5 s); one read of each conversation and one transaction per
  batch, however many events the conversation got in it. RabbitMQ hands out at most two
  batches ahead (prefetch), so a backlog waits in the broker, not in memory.
- **Reconnects** after the broker goes away (1 s, doubling up to 10 s, between attempts);
  unacked messages are redelivered on the new connection.
- **A sweep of the tracker store** every `consumer_sweep_seconds` (30 s), with or without the
  broker: the conversations with events stored since the last sweep (by the events table's
  id) are summarised again. Rasa's Pika broker keeps what it could not publish during an
  outage to publish on reconnecting, but what fails again then stays unpublished; the sweep
  makes the summaries catch up whatever the broker lost. Idempotent like the rest.
- **SIGTERM / SIGINT**: the batch under way is finished and acked, then the connection closes;
  the messages it had not started return to the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from bot.settings import Settings
from bot.storage.repositories import ConversationRepository
from bot.storage.session import session_scope
from bot.transcripts.summaries import summarize_signed_conversation
from bot.transcripts.tracker_store import load_event

logger = logging.getLogger(__name__)

# Rasa's Pika broker publishes to this fanout exchange (rasa.core.brokers.pika.RABBITMQ_EXCHANGE)
# bound to its queues; the consumer declares the same, so either may start first.
EXCHANGE = "rasa-exchange"
CONNECT_TIMEOUT = 10.0
ACK_TIMEOUT = 5.0
MAX_RECONNECT_DELAY = 10.0
STATS_EVERY = 10.0  # seconds between the progress lines in the log

_LAST_EVENT_ID = sa.text("SELECT MAX(id) FROM events")
# The conversations with events stored after an id, those whose newest came first.
_CHANGED_SINCE = sa.text(
    "SELECT sender_id, MAX(id) AS newest FROM events WHERE id > :after "
    "GROUP BY sender_id ORDER BY newest LIMIT :most"
)
SWEEP_CONVERSATIONS = 500  # at most this many a sweep; the rest in the next

_EVENTS_OF = sa.text(
    "SELECT sender_id, data FROM events WHERE sender_id IN :senders ORDER BY sender_id, id"
).bindparams(sa.bindparam("senders", expanding=True))


@dataclass(frozen=True)
class Delivery:
    """What the consumer needs of one broker message: whose event, which one, when received."""

    sender_id: str | None
    kind: str | None
    timestamp: float | None
    received_at: float

    @classmethod
    def parse(cls, body: bytes, received_at: float) -> Delivery:
        try:
            event = load_event(body)
        except ValueError:
            event = None
        if not isinstance(event, dict):
            return cls(None, None, None, received_at)
        sender = event.get("sender_id")
        stamp = event.get("timestamp")
        return cls(
            sender if isinstance(sender, str) and sender else None,
            event.get("event") if isinstance(event.get("event"), str) else None,
            float(stamp) if isinstance(stamp, (int, float)) else None,
            received_at,
        )


@dataclass
class BatchResult:
    """Which deliveries of a batch to acknowledge (`done`) and which to hold (`waiting`)."""

    done: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)
    conversations: int = 0
    sessions: int = 0


class SummaryWriter:
    """Summarises the conversations a batch of deliveries names, from the tracker store."""

    def __init__(
        self,
        tracker_engine: Engine,
        app_sessions: sessionmaker,
        signing_key: str,
        settle_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tracker_engine = tracker_engine
        self.app_sessions = app_sessions
        self.signing_key = signing_key
        self.settle_seconds = settle_seconds
        self.clock = clock

    def stored_events(self, senders: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if not senders:
            return found
        with self.tracker_engine.connect() as connection:
            for sender_id, data in connection.execute(_EVENTS_OF, {"senders": list(senders)}):
                found[sender_id].append(load_event(data))
        return found

    def last_event_id(self) -> int:
        """The newest stored event's id (0 without events): where the first sweep starts."""
        with self.tracker_engine.connect() as connection:
            return int(connection.execute(_LAST_EVENT_ID).scalar() or 0)

    def sweep(self, after: int, most: int = SWEEP_CONVERSATIONS) -> tuple[int, int]:
        """Summarise again the conversations with events stored after the id `after`.

        Returns (conversations summarised, the id the next sweep starts after).
        """
        with self.tracker_engine.connect() as connection:
            changed = connection.execute(_CHANGED_SINCE, {"after": after, "most": most}).all()
        if not changed:
            return 0, after
        senders = [sender for sender, _ in changed]
        stored = self.stored_events(senders)
        summaries = []
        for sender_id in senders:
            try:
                summaries += summarize_signed_conversation(
                    sender_id, stored.get(sender_id, []), self.signing_key
                )
            except Exception:  # noqa: BLE001 - one bad conversation must not stop the sweep
                logger.exception("Could not summarise conversation %s", sender_id)
        if summaries:
            with session_scope(self.app_sessions) as session:
                ConversationRepository(session).upsert_many(summaries)
        return len(senders), max(int(newest) for _, newest in changed)

    def process(self, deliveries: Sequence[Delivery]) -> BatchResult:
        """Write the summaries of the conversations whose delivered events are stored.

        Raises what the databases raise: then nothing is to be acknowledged.
        """
        result = BatchResult()
        by_sender: dict[str, list[int]] = defaultdict(list)
        for i, delivery in enumerate(deliveries):
            if delivery.sender_id is None:
                logger.warning("Acknowledged a message that is not a conversation event")
                result.done.append(i)
            else:
                by_sender[delivery.sender_id].append(i)
        stored = self.stored_events(sorted(by_sender))
        now = self.clock()
        to_summarise: list[str] = []
        for sender_id, indices in by_sender.items():
            events = stored.get(sender_id, [])
            present = {(e.get("event"), e.get("timestamp")) for e in events}
            ready = False
            for i in indices:
                delivery = deliveries[i]
                if (delivery.kind, delivery.timestamp) in present:
                    result.done.append(i)
                    ready = True
                elif now - delivery.received_at >= self.settle_seconds:
                    logger.warning(
                        "A %s event of conversation %s is not in the tracker store after %.0f s; "
                        "acknowledged without it",
                        delivery.kind,
                        sender_id,
                        self.settle_seconds,
                    )
                    result.done.append(i)
                    ready = True
                else:
                    result.waiting.append(i)
            if ready:
                to_summarise.append(sender_id)
        summaries = []
        for sender_id in to_summarise:
            events = stored.get(sender_id, [])
            try:
                summaries += summarize_signed_conversation(sender_id, events, self.signing_key)
            except Exception:  # noqa: BLE001 - one bad conversation must not stop the stream
                logger.exception("Could not summarise conversation %s", sender_id)
        if summaries:
            with session_scope(self.app_sessions) as session:
                ConversationRepository(session).upsert_many(summaries)
        result.conversations = len(to_summarise)
        result.sessions = len(summaries)
        result.done.sort()
        return result


@dataclass
class _Stats:
    events: int = 0
    conversations: int = 0
    held: int = 0
    since: float = field(default_factory=time.monotonic)


class EventConsumer:
    """The broker side: batches from the queue, `SummaryWriter.process`, acks after commit."""

    def __init__(
        self,
        settings: Settings,
        writer: SummaryWriter,
        stop: asyncio.Event,
        ready_file: Path | None = None,
    ) -> None:
        if not settings.event_broker_url:
            raise ValueError("EVENT_BROKER_URL is not set: there is no queue to consume")
        self.url = settings.event_broker_url
        self.queue_name = settings.event_broker_queue
        self.batch_size = max(1, settings.consumer_batch_size)
        self.batch_wait = max(0.0, settings.consumer_batch_wait_seconds)
        self.writer = writer
        self.stop = stop
        self.ready_file = ready_file
        self.stats = _Stats()
        self.sweep_seconds = settings.consumer_sweep_seconds

    async def run(self) -> None:
        """Consume until stopped, reconnecting whenever the broker goes away; sweep the
        tracker store meanwhile."""
        sweeper = asyncio.create_task(self._sweep_every()) if self.sweep_seconds > 0 else None
        try:
            await self._consume_until_stopped()
        finally:
            if sweeper is not None:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper

    async def _sweep_every(self) -> None:
        """Every `sweep_seconds`, the conversations stored since the last sweep, again."""
        after: int | None = None
        while not await self._stopped_within(self.sweep_seconds if after is not None else 0):
            try:
                if after is None:
                    after = await asyncio.to_thread(self.writer.last_event_id)
                    continue
                swept, after = await asyncio.to_thread(self.writer.sweep, after)
                if swept:
                    logger.info("Swept %d conversations from the tracker store", swept)
            except (SQLAlchemyError, OSError) as error:
                logger.warning("Could not sweep the tracker store (%s); next time", error)

    async def _consume_until_stopped(self) -> None:
        delay = 1.0
        try:
            while not self.stop.is_set():
                try:
                    await self._consume()
                    delay = 1.0
                except Exception as error:  # noqa: BLE001 - refused, reset, closed, timed out...
                    logger.warning(
                        "Event broker connection lost or refused (%s: %s); retrying in %.0f s",
                        type(error).__name__,
                        error,
                        delay,
                    )
                if await self._stopped_within(delay):
                    break
                delay = min(delay * 2, MAX_RECONNECT_DELAY)
        finally:
            if self.ready_file is not None:
                self.ready_file.unlink(missing_ok=True)

    async def _stopped_within(self, seconds: float) -> bool:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.stop.wait(), seconds)
        return self.stop.is_set()

    async def _consume(self) -> None:
        import aio_pika

        connection = await aio_pika.connect(self.url, timeout=CONNECT_TIMEOUT)
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=2 * self.batch_size)
            exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.FANOUT)
            queue = await channel.declare_queue(self.queue_name, durable=True)
            await queue.bind(exchange, "")
            inbox: asyncio.Queue[Any] = asyncio.Queue()
            await queue.consume(inbox.put)
            logger.info("Consuming %s from the event broker", self.queue_name)
            if self.ready_file is not None:
                self.ready_file.parent.mkdir(parents=True, exist_ok=True)
                self.ready_file.write_text(str(time.time()), encoding="utf-8")
            held: list[tuple[Any, Delivery]] = []
            while not self.stop.is_set():
                # aio-pika clears `connected` when the broker closes the connection (its
                # `is_closed` only tells whether close() was called here).
                if not connection.connected.is_set() or channel.is_closed:
                    raise ConnectionError("the broker closed the connection")
                items = held + await self._gather(inbox, self.batch_size - len(held), bool(held))
                if not items:
                    continue
                try:
                    result = await asyncio.to_thread(self.writer.process, [d for _, d in items])
                except (SQLAlchemyError, OSError) as error:
                    logger.warning("Could not write summaries (%s); the batch waits", error)
                    held = items
                    if await self._stopped_within(1.0):
                        break
                    continue
                # An ack waits for its frame to be written; on a connection the broker has
                # dropped it would wait for ever (aiormq), hence the bound.
                acks = [m.ack(multiple=many) for m, many in _acknowledgements(items, result)]
                try:
                    await asyncio.wait_for(asyncio.gather(*acks), ACK_TIMEOUT)
                except asyncio.TimeoutError:
                    raise ConnectionError("acknowledgements not written in time") from None
                held = [items[i] for i in result.waiting]
                self._count(result, len(held))
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 5)

    async def _gather(self, inbox: asyncio.Queue[Any], room: int, holding: bool) -> list:
        """Up to `room` messages: wait for a first one (at most 1 s, or the batch wait when
        messages are held), then take what arrives within the batch wait."""
        first_wait = self.batch_wait if holding else 1.0
        try:
            message = await asyncio.wait_for(inbox.get(), max(first_wait, 0.05))
        except asyncio.TimeoutError:
            return []
        taken = [(message, Delivery.parse(message.body, time.monotonic()))]
        deadline = time.monotonic() + self.batch_wait
        while len(taken) < max(room, 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0 and inbox.empty():
                break
            try:
                message = await asyncio.wait_for(inbox.get(), max(remaining, 0.001))
            except asyncio.TimeoutError:
                break
            taken.append((message, Delivery.parse(message.body, time.monotonic())))
        return taken

    def _count(self, result: BatchResult, held: int) -> None:
        stats = self.stats
        stats.events += len(result.done)
        stats.conversations += result.conversations
        stats.held = held
        if time.monotonic() - stats.since >= STATS_EVERY:
            logger.info(
                "Summarised %d conversation updates from %d events in %.0f s (%d events held)",
                stats.conversations,
                stats.events,
                time.monotonic() - stats.since,
                stats.held,
            )
            self.stats = _Stats()


def _acknowledgements(
    items: Sequence[tuple[Any, Delivery]], result: BatchResult
) -> list[tuple[Any, bool]]:
    """(message, multiple) for each acknowledgement of a batch: one `multiple` (the message
    and every earlier unacknowledged one of the channel) for the whole batch when it holds
    nothing back, else one per done message (a held one must stay unacknowledged).

    A channel delivers in the order of its delivery tags, and a batch takes its messages in
    that order after those it held: when nothing is held, every message up to the batch's
    newest is in this batch or acknowledged before."""
    done = [items[i][0] for i in result.done]
    if done and not result.waiting:
        return [(max(done, key=lambda message: message.delivery_tag), True)]
    return [(message, False) for message in done]


def consume_events(settings: Settings, ready_file: Path | None = None) -> int:
    """Run the consumer until SIGTERM or SIGINT; the process's exit status."""
    from bot.bootstrap import bootstrap
    from bot.storage.session import create_db_engine

    if not settings.event_broker_url:
        logger.error("EVENT_BROKER_URL is not set: there is no queue to consume")
        return 2
    services = bootstrap(settings)
    tracker_engine = create_db_engine(
        settings.tracker_db_url, settings.sqlite_busy_timeout_ms, settings.db_outage_wait_seconds
    )
    writer = SummaryWriter(
        tracker_engine,
        services.session_factory,
        services.signing_key(),
        settle_seconds=settings.consumer_settle_seconds,
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await EventConsumer(settings, writer, stop, ready_file).run()

    try:
        asyncio.run(main())
    finally:
        tracker_engine.dispose()
        services.close()
    logger.info("Event consumer stopped")
    return 0
