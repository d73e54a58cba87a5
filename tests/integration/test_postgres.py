"""The same schema, demo data and repositories on PostgreSQL (skipped when it is not reachable)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot.demo.seed import sample_orders, seed_demo
from bot.settings import Settings
from bot.storage.migrate import current_revision, head_revision, upgrade
from bot.storage.repositories import OrderRepository, TicketRepository
from bot.storage.session import create_db_engine, make_session_factory, session_scope

pytestmark = pytest.mark.postgres

ADMIN_URL = os.environ.get(
    "SUPPORTBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def _reachable(url: str) -> str | None:
    try:
        engine = sa.create_engine(url, future=True, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return None
    except Exception as error:  # any failure to connect means: not here
        return f"PostgreSQL is not reachable at {url}: {type(error).__name__}"


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh, empty database for this module, dropped afterwards."""
    reason = _reachable(ADMIN_URL)
    if reason:
        pytest.skip(reason)
    name = f"supportbot_test_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migrate_seed_and_use_on_postgres(postgres_url: str, tmp_path):
    upgrade(postgres_url)
    assert current_revision(postgres_url) == head_revision() == "0010"
    settings = Settings(var_dir=tmp_path, database_url=postgres_url, demo_today="2026-11-01")
    engine = create_db_engine(postgres_url)
    factory = make_session_factory(engine)
    try:
        summary = seed_demo(factory, settings)
        assert (summary.products, summary.customers, summary.orders) == (240, 1000, 10000)
        assert seed_demo(factory, settings).already_seeded

        with session_scope(factory) as session:
            number = sample_orders(session, per_status=1)["pending"][0]
            order = OrderRepository(session).get(number)
            assert order is not None
            OrderRepository(session).cancel(order, "pg-conversation", datetime(2026, 11, 1, 12))
            ticket = TicketRepository(session).open(
                "handoff", "pg-conversation", "help", datetime(2026, 11, 1, 12), order_number=number
            )
            assert ticket.id is not None
        with session_scope(factory) as session:
            view = OrderRepository(session).view(number)
            assert view is not None and view.status == "cancelled"

        # The database itself refuses what the models forbid.
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE orders SET status = 'lost' WHERE number = :n"), {"n": number}
            )
    finally:
        engine.dispose()


async def test_rasa_tracker_store_from_a_postgres_url(postgres_url: str):
    """`TRACKER_DB_URL` on PostgreSQL gives Rasa a working SQL tracker store."""
    from rasa.core.tracker_store import TrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    from bot.runtime import tracker_store_config

    domain = Domain.load("domain.yml")
    store = TrackerStore.create(
        EndpointConfig.from_dict(tracker_store_config(postgres_url)), domain
    )
    tracker = DialogueStateTracker.from_events("pg-sender", [UserUttered("hello from postgres")])
    await store.save(tracker)
    restored = await store.retrieve("pg-sender")
    assert restored is not None
    assert restored.latest_message.text == "hello from postgres"


def test_the_staff_list_on_postgres(postgres_url: str):
    """Keyset pages, survey filters (COALESCE on the outer join), search and topics."""
    from datetime import timedelta

    from bot.storage.models import Conversation, SurveyResponse
    from bot.transcripts import browse

    upgrade(postgres_url)
    engine = create_db_engine(postgres_url)
    factory = make_session_factory(engine)
    start = datetime(2026, 3, 1)
    rows = [
        {
            "conversation_id": f"pgstaff-{i:04d}",
            "session_key": "1.000000",
            "channel": "rest",
            "topic": f"pgstaff_{i % 3}",
            "started_at": start + timedelta(minutes=10 * (i // 2)),  # pairs tie
            "last_event_at": start,
            "user_messages": 1,
            "bot_messages": 1,
            "fallbacks": 0,
            "response_seconds_total": 0.0,
            "responses": 1,
            "handed_off": i % 4 == 0,
            "survey_asked": True,
            "search_text": "where is my parcel" + (" kaputt" if i % 10 == 0 else ""),
        }
        for i in range(400)
    ]
    try:
        with session_scope(factory) as session:
            session.execute(sa.insert(Conversation), rows)
            session.execute(
                sa.insert(SurveyResponse),
                [
                    {
                        "conversation_id": r["conversation_id"],
                        "session_key": "1.000000",
                        "nps": i % 11,
                        "csat": 1 + i % 5,
                        "status": "completed",
                        "channel": "rest",
                        "topic": r["topic"],
                        "created_at": start,
                        "updated_at": start,
                    }
                    for i, r in enumerate(rows)
                    if i % 2
                ],
            )
        for filters, keep in [
            (browse.Filters(topic="pgstaff_1"), lambda i: i % 3 == 1),
            (
                browse.Filters(topic="pgstaff_2", detractors=True),
                lambda i: i % 3 == 2 and i % 2 == 1 and i % 11 <= 6,
            ),
            (
                browse.Filters(topic="pgstaff_0", q="KAPUTT", unhappy=True),
                lambda i: i % 3 == 0 and i % 10 == 0 and i % 2 == 1 and 1 + i % 5 <= 2,
            ),
        ]:
            expected = [
                f"pgstaff-{i:04d}"
                for i in sorted(range(400), key=lambda i: (i // 2, i), reverse=True)
                if keep(i)
            ]
            seen: list[str] = []
            after = None
            while True:
                with session_scope(factory) as session:
                    page = browse.page(session, filters, after=after, limit=20)
                seen.extend(r.conversation_id for r in page.rows)
                if page.older is None:
                    break
                after = page.older
            assert seen == expected, filters
        with session_scope(factory) as session:
            assert {"pgstaff_0", "pgstaff_1", "pgstaff_2"} <= set(browse.topics(session))
    finally:
        with engine.begin() as connection:
            connection.execute(
                sa.text("DELETE FROM survey_responses WHERE conversation_id LIKE 'pgstaff-%'")
            )
            connection.execute(
                sa.text("DELETE FROM conversations WHERE conversation_id LIKE 'pgstaff-%'")
            )
        engine.dispose()


def test_conversation_summaries_upsert_on_postgres(postgres_url: str):
    from tests.unit.test_conversation_rows import check_summary_upserts

    upgrade(postgres_url)
    engine = create_db_engine(postgres_url)
    try:
        with engine.begin() as connection:  # the module's database is shared: start clean
            connection.execute(sa.text("DELETE FROM conversations"))
            connection.execute(sa.text("DELETE FROM customers WHERE email = 'ada@example.com'"))
        check_summary_upserts(make_session_factory(engine))
    finally:
        engine.dispose()
