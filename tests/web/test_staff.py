"""The staff console: list (filters, search, keyset paging), transcripts, queue, CSV export."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import unquote

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import insert, select
from sqlalchemy.orm import sessionmaker

from bot.metrics.questions import TOPIC_LABELS
from bot.settings import Settings
from bot.storage.models import AuditLog, Conversation, Customer, SurveyResponse, Ticket
from bot.storage.session import session_scope
from bot.transcripts import browse
from bot.web import staff
from tests.web.conftest import NOW
from tests.web.staff_support import (
    chat_events,
    signed_in,
    store_chat,
    summarize_into_app_db,
)

TOPICS = ("order_status", "return_request", "shipping_info", "payment_issue")
BASE = datetime(2026, 6, 1, 8, 0, 0)
ROWS = 300


@dataclass(frozen=True)
class Seeded:
    id: int
    conversation_id: str
    started_at: datetime
    topic: str
    handed_off: bool
    nps: int | None
    csat: int | None
    text: str
    comment: str | None


def _seeded(i: int) -> Seeded:
    """Row i of the list fixture; pairs of rows share a start time (ties for the keyset)."""
    answered = i % 3 != 0
    words = ["where is my parcel"]
    if i % 10 == 0:
        words.append("i want a refund")
    if i % 25 == 0:
        words.append("100% wrong_size")
    comment = None
    if answered and i % 13 == 0:
        comment = "Return POSTAGE is too expensive"
    if answered and i % 50 == 1:
        comment = '=HYPERLINK("http://evil")'
    return Seeded(
        id=i + 1,
        conversation_id=f"conv-{i:04d}",
        started_at=BASE + timedelta(hours=3 * (i // 2)),
        topic=TOPICS[i % len(TOPICS)],
        handed_off=i % 7 == 0,
        nps=(i * 7) % 11 if answered else None,
        csat=1 + (i % 5) if answered else None,
        text="\n".join(words),
        comment=comment,
    )


SEEDED = [_seeded(i) for i in range(ROWS)]


@pytest.fixture
def many(session_factory: sessionmaker) -> list[Seeded]:
    """300 conversation sessions with surveys, inserted in bulk."""
    with session_scope(session_factory) as session:
        session.execute(
            insert(Conversation),
            [
                {
                    "id": s.id,
                    "conversation_id": s.conversation_id,
                    "session_key": "1.000000",
                    "channel": "socketio",
                    "topic": s.topic,
                    "started_at": s.started_at,
                    "last_event_at": s.started_at + timedelta(minutes=4),
                    "user_messages": 1 + s.id % 6,
                    "bot_messages": 1 + s.id % 6,
                    "fallbacks": 0,
                    "response_seconds_total": 1.0,
                    "responses": 1,
                    "handed_off": s.handed_off,
                    "survey_asked": True,
                    "search_text": s.text,
                }
                for s in SEEDED
            ],
        )
        session.execute(
            insert(SurveyResponse),
            [
                {
                    "conversation_id": s.conversation_id,
                    "session_key": "1.000000",
                    "nps": s.nps,
                    "csat": s.csat,
                    "comment": s.comment,
                    "status": "completed",
                    "channel": "socketio",
                    "topic": s.topic,
                    "created_at": s.started_at,
                    "updated_at": s.started_at,
                }
                for s in SEEDED
                if s.nps is not None
            ],
        )
    return SEEDED


def _newest_first(rows: list[Seeded]) -> list[str]:
    return [
        s.conversation_id for s in sorted(rows, key=lambda s: (s.started_at, s.id), reverse=True)
    ]


_ROW_LINK = re.compile(r'<td><a href="/staff/conversations/([^"]+)">')
_OLDER = re.compile(r'<a href="([^"]+)" rel="next">')
_NEWER = re.compile(r'<a href="([^"]+)" rel="prev">')


def _ids(page: str) -> list[str]:
    return [unquote(i) for i in _ROW_LINK.findall(page)]


def _link(pattern: re.Pattern[str], page: str) -> str | None:
    found = pattern.search(page)
    return found.group(1).replace("&amp;", "&") if found else None


async def _walk(client: TestClient, start: str) -> tuple[list[str], list[str]]:
    """Every row following "Older" links from `start`, then every row back along "Newer"."""
    forward: list[str] = []
    pages: list[str] = []
    url: str | None = start
    while url:
        response = await client.get(url)
        assert response.status == 200
        page = await response.text()
        pages.append(page)
        forward.extend(_ids(page))
        url = _link(_OLDER, page)
    backward: list[str] = []
    url = _link(_NEWER, pages[-1])
    backward = list(reversed(_ids(pages[-1])))
    while url:
        page = await (await client.get(url)).text()
        backward.extend(reversed(_ids(page)))
        url = _link(_NEWER, page)
    return forward, list(reversed(backward))


# --- the list ---------------------------------------------------------------------------------


async def test_paging_walks_every_row_once_in_order_both_ways(
    client: TestClient, session_factory: sessionmaker, many: list[Seeded]
):
    await signed_in(client, session_factory, "staff")
    forward, backward = await _walk(client, "/staff")
    assert forward == _newest_first(many)  # 6 pages of 50; ties broken by id
    assert backward == forward


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        ("detractors=1", lambda s: s.nps is not None and s.nps <= 6),
        ("unhappy=1", lambda s: s.csat is not None and s.csat <= 2),
        ("handoffs=1", lambda s: s.handed_off),
        ("topic=return_request", lambda s: s.topic == "return_request"),
        (
            "from=2026-06-10&to=2026-06-20",
            lambda s: datetime(2026, 6, 10) <= s.started_at < datetime(2026, 6, 21),
        ),
        ("q=REFUND", lambda s: "refund" in s.text),
        ("q=postage", lambda s: s.comment is not None and "postage" in s.comment.lower()),
        ("q=refund+parcel", lambda s: "refund" in s.text),
        ("q=100%25", lambda s: "100%" in s.text),  # % is a character, not a wildcard
        ("q=wrong_size", lambda s: "wrong_size" in s.text),
        ("q=10_", lambda s: False),  # _ is a character too
        (
            "detractors=1&handoffs=1&topic=order_status",
            lambda s: (
                s.nps is not None and s.nps <= 6 and s.handed_off and s.topic == "order_status"
            ),
        ),
    ],
)
async def test_filters_and_search_select_the_right_rows(
    client: TestClient, session_factory: sessionmaker, many: list[Seeded], query: str, keep
):
    await signed_in(client, session_factory, "staff")
    forward, backward = await _walk(client, f"/staff?{query}")
    expected = _newest_first([s for s in many if keep(s)])
    assert forward == expected
    assert backward == expected


async def test_a_bad_filter_is_explained(client: TestClient, session_factory: sessionmaker):
    await signed_in(client, session_factory, "staff")
    response = await client.get("/staff?from=yesterday")
    assert response.status == 400
    assert "from must be a date" in await response.text()
    response = await client.get("/staff?after=garbage")
    assert response.status == 400


def test_the_list_query_pages_by_keyset(session_factory: sessionmaker, many: list[Seeded]):
    """Each page is one seek on (started_at, id): no OFFSET anywhere in the SQL."""
    with session_scope(session_factory) as session:
        first = browse.page(session, browse.Filters())
        assert first.newer is None and first.older is not None
        second = browse.page(session, browse.Filters(), after=first.older)
        assert second.rows[0].started_at <= first.rows[-1].started_at
        back = browse.page(session, browse.Filters(), before=second.newer)
        assert [r.id for r in back.rows] == [r.id for r in first.rows]
        sql = str(
            browse._newest_first(browse._base(browse.Filters())).where(
                browse._older_than(first.older)
            )
        )
    assert "OFFSET" not in sql.upper()


def test_the_list_reads_the_started_index(session_factory: sessionmaker, many: list[Seeded]):
    from sqlalchemy import text

    with session_scope(session_factory) as session:
        query = browse._newest_first(browse._base(browse.Filters())).limit(50)
        compiled = query.compile(session.bind, compile_kwargs={"literal_binds": True})
        plan = " ".join(
            str(row[-1]) for row in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
        )
    assert "ix_conversations_started" in plan
    assert "TEMP B-TREE" not in plan  # no sort: the index gives the order


# --- a conversation ---------------------------------------------------------------------------


@pytest.fixture
async def chat(settings: Settings, session_factory: sessionmaker) -> str:
    """A real chat in the tracker store by customer 7, summarised, surveyed and handed off."""
    with session_scope(session_factory) as session:
        session.add(
            Customer(
                id=7,
                email="jane.doe@example.com",
                name="Jane Doe",
                city="Berlin",
                created_at=NOW,
            )
        )
    await store_chat(settings.tracker_db_url, "chat-1", chat_events())
    summarize_into_app_db(settings.tracker_db_url, session_factory, "chat-1", customer_id=7)
    with session_scope(session_factory) as session:
        row = session.execute(select(Conversation)).scalar_one()
        session.add(
            SurveyResponse(
                conversation_id="chat-1",
                session_key=row.session_key,
                customer_id=7,
                nps=3,
                csat=2,
                comment="too slow",
                status="completed",
                topic=row.topic,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        session.add(
            Ticket(
                kind="handoff",
                status="open",
                conversation_id="chat-1",
                customer_id=7,
                reason="call me on 0170 1234567",
                created_at=NOW,
            )
        )
    return "chat-1"


async def test_the_transcript_shows_messages_intents_actions_survey_and_handoff(
    client: TestClient, session_factory: sessionmaker, chat: str
):
    await signed_in(client, session_factory, "staff")
    response = await client.get(f"/staff/conversations/{chat}")
    assert response.status == 200
    page = await response.text()
    assert "Your order 104233 was shipped." in page
    assert "<code>order_status</code> (93%)" in page
    assert "<code>request_human</code> (71%)" in page
    assert "action_check_order_status" in page
    assert "action_listen" not in page
    assert "Handed off to a person" in page
    assert "<dt>NPS</dt><dd>3</dd>" in page and "<dt>CSAT</dt><dd>2</dd>" in page
    assert "too slow" in page
    assert "No transcript stored" not in page


async def test_search_reads_what_the_customer_wrote_in_a_real_chat(
    client: TestClient, session_factory: sessionmaker, chat: str
):
    """The summary written from the tracker store carries the redacted, lower-cased text."""
    with session_scope(session_factory) as session:
        stored = session.execute(select(Conversation.search_text)).scalar_one()
    assert stored.startswith("where is my order 104233? my email is [email]")
    assert "your order" not in stored  # the bot's words are not the customer's
    await signed_in(client, session_factory, "staff")
    for query, found in [("ORDER 104233", True), ("call me", True), ("jane.doe", False)]:
        page = await (await client.get(f"/staff?q={query}")).text()
        assert (_ids(page) == ["chat-1"]) is found, query


async def test_what_customers_wrote_is_escaped(
    client: TestClient, session_factory: sessionmaker, chat: str
):
    await signed_in(client, session_factory, "staff")
    page = await (await client.get(f"/staff/conversations/{chat}")).text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page


async def test_personal_data_is_masked_until_revealed_and_the_reveal_is_audited(
    client: TestClient, session_factory: sessionmaker, chat: str
):
    token = await signed_in(client, session_factory, "staff")
    masked = await (await client.get(f"/staff/conversations/{chat}")).text()
    for secret in ("jane.doe@example.com", "0170 1234567", "Jane Doe"):
        assert secret not in masked
    assert "[email]" in masked and "[phone]" in masked
    assert "104233" in masked  # an order number is not personal data
    with session_scope(session_factory) as session:
        assert (
            session.execute(select(AuditLog).where(AuditLog.action == "revealed_pii")).first()
            is None
        )

    revealed = await client.post(f"/staff/conversations/{chat}/reveal", data={"csrf_token": token})
    assert revealed.status == 200
    page = await revealed.text()
    for secret in ("jane.doe@example.com", "0170 1234567", "Jane Doe"):
        assert secret in page
    with session_scope(session_factory) as session:
        rows = session.execute(
            select(AuditLog.user_name, AuditLog.target).where(AuditLog.action == "revealed_pii")
        ).all()
    assert rows == [("staff-user", "conversation:chat-1")]
    # Only that view: the next one is masked again.
    again = await (await client.get(f"/staff/conversations/{chat}")).text()
    assert "jane.doe@example.com" not in again


async def test_a_history_conversation_without_transcript_still_shows_its_summary(
    client: TestClient, session_factory: sessionmaker, many: list[Seeded]
):
    await signed_in(client, session_factory, "staff")
    seeded = next(s for s in many if s.comment and "POSTAGE" in s.comment)
    page = await (await client.get(f"/staff/conversations/{seeded.conversation_id}")).text()
    assert "No transcript stored for this conversation" in page
    assert f"Topic <strong>{TOPIC_LABELS[seeded.topic]}</strong>" in page
    assert "Return POSTAGE is too expensive" in page


async def test_an_unknown_conversation_is_404(client: TestClient, session_factory: sessionmaker):
    await signed_in(client, session_factory, "staff")
    assert (await client.get("/staff/conversations/nope")).status == 404


async def test_conversation_ids_with_slashes_and_markup_are_linked_and_escaped(
    client: TestClient, session_factory: sessionmaker, settings: Settings
):
    odd = 'a/b"<i>'
    await store_chat(settings.tracker_db_url, odd, chat_events())
    summarize_into_app_db(settings.tracker_db_url, session_factory, odd, customer_id=None)
    await signed_in(client, session_factory, "staff")
    listing = await (await client.get("/staff")).text()
    assert "/staff/conversations/a%2Fb%22%3Ci%3E" in listing
    page = await client.get("/staff/conversations/a%2Fb%22%3Ci%3E")
    assert page.status == 200
    assert "a/b&#34;&lt;i&gt;" in await page.text()


# --- the queue --------------------------------------------------------------------------------


@pytest.fixture
def tickets(session_factory: sessionmaker) -> dict[str, int]:
    made = {}
    with session_scope(session_factory) as session:
        for name, kind, status, hours in [
            ("handoff", "handoff", "open", 5),
            ("followup", "followup", "open", 3),
            ("assigned", "handoff", "assigned", 9),
            ("complaint", "complaint", "open", 2),
            ("resolved", "handoff", "resolved", 1),
        ]:
            ticket = Ticket(
                kind=kind,
                status=status,
                conversation_id=f"conv-{name}",
                reason=f"reason {name}: mail me at x.y@example.com",
                created_at=NOW - timedelta(hours=hours),
                assigned_to="someone" if status == "assigned" else None,
            )
            session.add(ticket)
            session.flush()
            made[name] = ticket.id
    return made


async def test_the_queue_lists_waiting_handoffs_and_followups(
    client: TestClient, session_factory: sessionmaker, tickets: dict[str, int]
):
    await signed_in(client, session_factory, "staff")
    page = await (await client.get("/staff/queue")).text()
    shown = [int(i) for i in re.findall(r'<h2 class="ticket-title">#(\d+)', page)]
    # Open ones first, oldest first; then the assigned; no complaint, nothing resolved.
    assert shown == [tickets["handoff"], tickets["followup"], tickets["assigned"]]
    assert "x.y@example.com" not in page and "[email]" in page


async def test_assign_and_resolve_are_audited(
    client: TestClient, session_factory: sessionmaker, tickets: dict[str, int]
):
    token = await signed_in(client, session_factory, "staff")
    ticket = tickets["handoff"]
    response = await client.post(
        f"/staff/queue/{ticket}/assign", data={"csrf_token": token}, allow_redirects=False
    )
    assert response.status == 303
    followed = await client.get("/staff/queue")
    assert f"Ticket #{ticket} is yours." in await followed.text()

    no_note = await client.post(f"/staff/queue/{ticket}/resolve", data={"csrf_token": token})
    assert no_note.status == 400
    response = await client.post(
        f"/staff/queue/{ticket}/resolve",
        data={"csrf_token": token, "note": "Called back, parcel re-sent."},
        allow_redirects=False,
    )
    assert response.status == 303
    with session_scope(session_factory) as session:
        row = session.get(Ticket, ticket)
        assert row is not None
        assert (row.status, row.assigned_to, row.resolution_note, row.resolved_at) == (
            "resolved",
            "staff-user",
            "Called back, parcel re-sent.",
            NOW,
        )
        audit = session.execute(
            select(AuditLog.action, AuditLog.target, AuditLog.user_name).where(
                AuditLog.action.like("ticket_%")
            )
        ).all()
    assert audit == [
        ("ticket_assigned", f"ticket:{ticket}", "staff-user"),
        ("ticket_resolved", f"ticket:{ticket}", "staff-user"),
    ]
    page = await (await client.get("/staff/queue")).text()
    assert f"#{ticket} ·" not in page
    again = await client.post(f"/staff/queue/{ticket}/assign", data={"csrf_token": token})
    assert again.status == 409
    assert (
        await client.post("/staff/queue/99999/assign", data={"csrf_token": token})
    ).status == 404


# --- CSV --------------------------------------------------------------------------------------


async def test_the_export_streams_the_filtered_list_as_safe_csv(
    client: TestClient,
    session_factory: sessionmaker,
    many: list[Seeded],
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(staff, "EXPORT_CHUNK", 40)  # several chunks, boundaries inside ties
    await signed_in(client, session_factory, "staff")
    response = await client.get("/staff/export.csv")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [r["conversation_id"] for r in rows] == _newest_first(many)
    injected = [r["comment"] for r in rows if "HYPERLINK" in r["comment"]]
    assert injected and all(c.startswith("'=") for c in injected)

    filtered = await client.get("/staff/export.csv?detractors=1&q=refund")
    rows = list(csv.DictReader(io.StringIO(await filtered.text())))
    expected = [s for s in many if s.nps is not None and s.nps <= 6 and "refund" in s.text]
    assert [r["conversation_id"] for r in rows] == _newest_first(expected)
    with session_scope(session_factory) as session:
        exports = (
            session.execute(select(AuditLog.detail).where(AuditLog.action == "exported_csv"))
            .scalars()
            .all()
        )
    assert exports == ["{}", '{"detractors": "1", "q": "refund"}']


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+2", "'=1+2"),
        ("+49 30", "'+49 30"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("fine = ok", "fine = ok"),
        (-2, -2),
        (None, None),
    ],
)
def test_csv_cells_that_look_like_formulas_are_defused(value, written):
    assert staff.csv_safe(value) == written
