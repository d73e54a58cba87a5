"""While PostgreSQL restarts, the tracker store waits for it instead of losing the message.

Rasa wraps every tracker store in its FailSafeTrackerStore: a save that raises is made to an
in-memory store instead and never reaches the database, while the customer gets an answer.
So `SummarizingTrackerStore` waits up to `outage_wait` seconds for a database that is down
(SUPPORTBOT_DB_OUTAGE_WAIT), and the servers' own engines wait as long for a connection. On a
PostgreSQL cluster of the test's own, stopped and started again while a save waits.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url

from bot.rasa.tracker_store import SummarizingTrackerStore
from bot.settings import PROJECT_ROOT
from bot.storage.session import create_db_engine
from tests.integration.private_postgres import PrivateCluster, private_postgres
from tests.integration.test_scaled_profile import tracker_events

pytestmark = [pytest.mark.integration, pytest.mark.postgres]
SENDER = "customer-outage"


@pytest.fixture(scope="module")
def cluster():
    with private_postgres() as running:
        admin = sa.create_engine(running.url, future=True, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text("CREATE DATABASE tracker_outage"))
        admin.dispose()
        yield running


def _store(cluster: PrivateCluster, outage_wait: float) -> SummarizingTrackerStore:
    url = make_url(cluster.url)
    return SummarizingTrackerStore(
        Domain.load(str(PROJECT_ROOT / "domain.yml")),
        dialect="postgresql",
        host=url.host,
        port=url.port,
        db="tracker_outage",
        username=url.username,
        summarize=False,
        outage_wait=outage_wait,
    )


def _down_for(cluster: PrivateCluster, seconds: float) -> threading.Thread:
    """Stops the cluster now and starts it again after `seconds`, on a thread."""
    cluster.stop()
    starter = threading.Thread(target=lambda: (time.sleep(seconds), cluster.start()))
    starter.start()
    return starter


def _message(tracker: DialogueStateTracker, text: str) -> None:
    tracker.update(UserUttered(text, {"name": "order_status", "confidence": 0.9}))
    tracker.update(ActionExecuted("action_listen"))


def _stored_texts(cluster: PrivateCluster) -> list[str]:
    """The customer's messages the database holds, in stored order."""
    url = make_url(cluster.url).set(database="tracker_outage")
    events = tracker_events(url.render_as_string(hide_password=False), SENDER)
    return [data["text"] for kind, data in events if kind == "user"]


def test_a_save_waits_for_the_database_and_stores_every_event(cluster):
    store = _store(cluster, outage_wait=30)
    tracker = asyncio.run(store.get_or_create_tracker(SENDER))
    _message(tracker, "before the restart")
    asyncio.run(store.save(tracker))

    starter = _down_for(cluster, 3.0)
    _message(tracker, "while it was down")
    started = time.monotonic()
    asyncio.run(store.save(tracker))  # waits for the cluster instead of failing
    waited = time.monotonic() - started
    starter.join()

    assert waited > 2.0
    assert _stored_texts(cluster) == ["before the restart", "while it was down"]
    read = asyncio.run(_store(cluster, outage_wait=0).retrieve(SENDER))
    assert read is not None and read.latest_message.text == "while it was down"


def test_without_a_wait_the_error_reaches_rasa(cluster):
    store = _store(cluster, outage_wait=0)
    tracker = asyncio.run(store.get_or_create_tracker(SENDER + "-2"))
    starter = _down_for(cluster, 2.0)
    try:
        _message(tracker, "lost without a wait")
        with pytest.raises(sa.exc.OperationalError):
            asyncio.run(store.save(tracker))
    finally:
        starter.join()


def test_an_engine_waits_for_a_connection_as_long_as_it_is_told(cluster):
    waiting = create_db_engine(cluster.url, outage_wait=30)
    impatient = create_db_engine(cluster.url)
    try:
        starter = _down_for(cluster, 2.0)
        with pytest.raises(sa.exc.OperationalError), impatient.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        with waiting.connect() as connection:
            assert connection.execute(sa.text("SELECT 1")).scalar() == 1
        starter.join()
    finally:
        waiting.dispose()
        impatient.dispose()
