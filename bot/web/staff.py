"""The staff console: conversations (list, search, transcript), the follow-up queue, export.

For support staff and managers; erasing a customer's data is for managers only. Every
view reads through `bot.transcripts` (listing, transcripts, erasure); this module only
turns requests into calls and results into pages.
"""

from __future__ import annotations

import asyncio
import csv
import functools
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import case, func, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.metrics.questions import TOPIC_LABELS
from bot.storage.models import Conversation, Customer, SurveyResponse, Ticket
from bot.transcripts import browse
from bot.transcripts.erasure import ErasureResult, erase
from bot.transcripts.redaction import redact
from bot.transcripts.tracker_store import conversation_events
from bot.transcripts.transcript import Line, build_transcript
from bot.web.auth import StaffUser, audit, check_csrf, current_user, flash, render, require_role
from bot.web.db import in_session
from bot.web.keys import services_key, tracker_engine_key
from bot.web.nlu import transcript_marks

STAFF = ("staff", "manager")
QUEUE_KINDS = ("handoff", "followup")
QUEUE_LIMIT = 200
MAX_NOTE_LENGTH = 2000
EXPORT_CHUNK = 1000
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def conversation_url(conversation_id: str) -> str:
    return f"/staff/conversations/{quote(conversation_id, safe='')}"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _when_seconds(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


async def _user(request: web.Request) -> StaffUser:
    user = await current_user(request)
    assert user is not None  # require_role let only a signed-in user through
    return user


# --- the conversation list --------------------------------------------------------------------


def _list_url(filters: browse.Filters, **extra: str) -> str:
    query = {**filters.as_query(), **extra}
    return "/staff" + (f"?{urlencode(query)}" if query else "")


@require_role(*STAFF)
async def conversation_list(request: web.Request) -> web.StreamResponse:
    error = None
    try:
        filters = browse.Filters.parse(request.query)
        after = browse.Cursor.decode(request.query.get("after"))
        before = browse.Cursor.decode(request.query.get("before"))
    except browse.FilterError as problem:
        filters, after, before, error = browse.Filters(), None, None, str(problem)

    def load(session: Session) -> tuple[browse.Page, list[str]]:
        found = browse.page(session, filters, after=after, before=before)
        return found, browse.topics(session)

    found, topics = await in_session(request, load)
    if error:
        found = browse.Page([], None, None)
    return await render(
        "staff_list.html.j2",
        request,
        {
            "filters": filters,
            "topics": topics,
            "rows": found.rows,
            "error": error,
            "newer_url": _list_url(filters, before=found.newer.encode()) if found.newer else None,
            "older_url": _list_url(filters, after=found.older.encode()) if found.older else None,
            "first_url": _list_url(filters) if (after or before) else None,
            "export_url": "/staff/export.csv"
            + (f"?{urlencode(filters.as_query())}" if filters.active else ""),
        },
        status=400 if error else 200,
    )


# --- one conversation -------------------------------------------------------------------------


@dataclass
class SessionView:
    key: str
    started_at: datetime | None
    summary: Conversation | None = None
    survey: SurveyResponse | None = None
    lines: list[Line] = field(default_factory=list)
    has_transcript: bool = False


@dataclass
class ConversationView:
    conversation_id: str
    customer_id: int | None
    customer: Customer | None
    sessions: list[SessionView]
    tickets: list[Ticket]
    has_transcript: bool
    revealed: bool

    @property
    def handed_off(self) -> bool:
        return any(
            (s.summary is not None and s.summary.handed_off)
            or any(line.kind == "handoff" for line in s.lines)
            for s in self.sessions
        ) or any(t.kind == "handoff" for t in self.tickets)


def _tracker_events(engine: Engine, conversation_id: str) -> list[dict[str, Any]]:
    if not inspect(engine).has_table("events"):  # no chat stored yet
        return []
    return conversation_events(engine, conversation_id)


def load_conversation(
    session: Session, tracker_engine: Engine, conversation_id: str, reveal: bool
) -> ConversationView | None:
    summaries = list(
        session.execute(
            select(Conversation)
            .where(Conversation.conversation_id == conversation_id)
            .order_by(Conversation.started_at, Conversation.id)
        ).scalars()
    )
    surveys = {
        s.session_key: s
        for s in session.execute(
            select(SurveyResponse).where(SurveyResponse.conversation_id == conversation_id)
        ).scalars()
    }
    tickets = list(
        session.execute(
            select(Ticket).where(Ticket.conversation_id == conversation_id).order_by(Ticket.id)
        ).scalars()
    )
    transcript = build_transcript(_tracker_events(tracker_engine, conversation_id), reveal)
    if not summaries and not surveys and not tickets and not transcript:
        return None
    parts: dict[str, SessionView] = {}
    for summary in summaries:
        parts[summary.session_key] = SessionView(summary.session_key, summary.started_at, summary)
    for part in transcript:
        view = parts.setdefault(part.key, SessionView(part.key, part.started_at))
        view.lines = part.lines
        view.has_transcript = True
    for key, survey in surveys.items():
        parts.setdefault(
            key, SessionView(key, survey.started_at or survey.created_at)
        ).survey = survey
    customer_id = next(
        (
            row.customer_id
            for row in [*summaries, *surveys.values(), *tickets]
            if row.customer_id is not None
        ),
        None,
    )
    customer = session.get(Customer, customer_id) if customer_id is not None and reveal else None
    for ticket in tickets:
        session.expunge(ticket)
        if not reveal:  # the reason quotes the customer's own words
            ticket.reason = redact(ticket.reason)
    return ConversationView(
        conversation_id=conversation_id,
        customer_id=customer_id,
        customer=customer,
        sessions=sorted(parts.values(), key=lambda p: (p.started_at or datetime.min, p.key)),
        tickets=tickets,
        has_transcript=bool(transcript),
        revealed=reveal,
    )


async def _conversation_page(
    request: web.Request, reveal: bool, status: int = 200
) -> web.StreamResponse:
    conversation_id = request.match_info["conversation_id"]
    tracker = request.app[tracker_engine_key]
    user = await _user(request)
    now = request.app[services_key].now()

    def load(session: Session) -> ConversationView | None:
        view = load_conversation(session, tracker, conversation_id, reveal)
        if view is not None and reveal:
            audit(session, user, "revealed_pii", f"conversation:{conversation_id}", at=now)
        return view

    view = await in_session(request, load)
    if view is None:
        raise web.HTTPNotFound(text=f"No conversation {conversation_id!r}.")
    return await render(
        "staff_conversation.html.j2",
        request,
        {
            "c": view,
            "page_url": conversation_url(conversation_id),
            "nlu": await transcript_marks(request, conversation_id),
        },
        status=status,
    )


@require_role(*STAFF)
async def conversation(request: web.Request) -> web.StreamResponse:
    return await _conversation_page(request, reveal=False)


@require_role(*STAFF)
async def reveal(request: web.Request) -> web.StreamResponse:
    """The same page with personal data shown; the audit log notes who looked."""
    await check_csrf(request, await request.post())
    return await _conversation_page(request, reveal=True)


@require_role("manager")
async def erase_customer(request: web.Request) -> web.StreamResponse:
    """Erase the customer of this conversation (or, for an anonymous one, the conversation)."""
    form = await request.post()
    await check_csrf(request, form)
    conversation_id = request.match_info["conversation_id"]
    if form.get("confirm") != "yes":
        await flash(request, "Nothing was erased: tick the box to confirm first.")
        raise web.HTTPSeeOther(conversation_url(conversation_id))
    tracker = request.app[tracker_engine_key]
    user = await _user(request)
    now = request.app[services_key].now()

    def run(session: Session) -> ErasureResult | None:
        view = load_conversation(session, tracker, conversation_id, reveal=False)
        if view is None:
            return None
        if view.customer_id is not None:
            result = erase(session, tracker, customer_id=view.customer_id)
            target = f"customer:{view.customer_id}"
        else:
            result = erase(session, tracker, conversation_ids=[conversation_id])
            target = f"conversation:{conversation_id}"
        audit(session, user, "erased_customer_data", target, result.counts(), at=now)
        return result

    result = await in_session(request, run)
    if result is None:
        raise web.HTTPNotFound(text=f"No conversation {conversation_id!r}.")
    return await render("staff_erased.html.j2", request, {"result": result})


# --- the follow-up queue ----------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    id: int
    kind: str
    status: str
    created_at: datetime
    conversation_id: str
    customer_id: int | None
    reason: str
    assigned_to: str | None


def load_queue(session: Session) -> tuple[list[QueueItem], int]:
    waiting = (Ticket.status.in_(("open", "assigned")), Ticket.kind.in_(QUEUE_KINDS))
    total = session.execute(select(func.count()).select_from(Ticket).where(*waiting)).scalar_one()
    rows = session.execute(
        select(Ticket)
        .where(*waiting)
        .order_by(case((Ticket.status == "open", 0), else_=1), Ticket.created_at, Ticket.id)
        .limit(QUEUE_LIMIT)
    ).scalars()
    items = [
        QueueItem(
            t.id,
            t.kind,
            t.status,
            t.created_at,
            t.conversation_id,
            t.customer_id,
            redact(t.reason),
            t.assigned_to,
        )
        for t in rows
    ]
    return items, total


async def _queue_page(
    request: web.Request, error: str | None = None, status: int = 200
) -> web.Response:
    items, total = await in_session(request, load_queue)
    return await render(
        "staff_queue.html.j2",
        request,
        {"items": items, "total": total, "error": error, "limit": QUEUE_LIMIT},
        status=status,
    )


@require_role(*STAFF)
async def queue(request: web.Request) -> web.StreamResponse:
    return await _queue_page(request)


def _ticket_id(request: web.Request) -> int:
    try:
        return int(request.match_info["ticket_id"])
    except ValueError as error:
        raise web.HTTPNotFound() from error


def _unresolved_ticket(session: Session, ticket_id: int) -> Ticket | None:
    """The ticket, or None when it is already resolved; 404 when there is no such ticket."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise web.HTTPNotFound(text=f"No ticket #{ticket_id}.")
    return None if ticket.status == "resolved" else ticket


@require_role(*STAFF)
async def assign(request: web.Request) -> web.StreamResponse:
    await check_csrf(request, await request.post())
    ticket_id = _ticket_id(request)
    user = await _user(request)
    now = request.app[services_key].now()

    def run(session: Session) -> str | None:
        ticket = _unresolved_ticket(session, ticket_id)
        if ticket is None:
            return f"Ticket #{ticket_id} is already resolved."
        previous = ticket.assigned_to
        ticket.status = "assigned"
        ticket.assigned_to = user.name
        audit(session, user, "ticket_assigned", f"ticket:{ticket_id}", {"from": previous}, now)
        return None

    problem = await in_session(request, run)
    if problem:
        return await _queue_page(request, problem, status=409)
    await flash(request, f"Ticket #{ticket_id} is yours.")
    raise web.HTTPSeeOther("/staff/queue")


@require_role(*STAFF)
async def resolve(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    await check_csrf(request, form)
    ticket_id = _ticket_id(request)
    note = " ".join(str(form.get("note", "")).split())
    if not note:
        return await _queue_page(request, "Say in a note how the ticket was resolved.", 400)
    if len(note) > MAX_NOTE_LENGTH:
        return await _queue_page(
            request, f"The note is limited to {MAX_NOTE_LENGTH} characters.", 400
        )
    user = await _user(request)
    now = request.app[services_key].now()

    def run(session: Session) -> str | None:
        ticket = _unresolved_ticket(session, ticket_id)
        if ticket is None:
            return f"Ticket #{ticket_id} is already resolved."
        ticket.status = "resolved"
        ticket.resolved_at = now
        ticket.resolution_note = note
        ticket.assigned_to = ticket.assigned_to or user.name
        audit(session, user, "ticket_resolved", f"ticket:{ticket_id}", at=now)
        return None

    problem = await in_session(request, run)
    if problem:
        return await _queue_page(request, problem, status=409)
    await flash(request, f"Ticket #{ticket_id} is resolved.")
    raise web.HTTPSeeOther("/staff/queue")


# --- CSV export -------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "started_at",
    "conversation_id",
    "session_key",
    "customer_id",
    "channel",
    "topic",
    "variant",
    "user_messages",
    "bot_messages",
    "fallbacks",
    "handed_off",
    "nps",
    "csat",
    "survey_status",
    "comment",
)


def csv_safe(value: Any) -> Any:
    """A cell a spreadsheet will not run: text starting like a formula gets a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(rows: Iterable[browse.Listed], header: bool = False) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if header:
        writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        values: Sequence[Any] = (
            row.started_at.isoformat(sep=" "),
            row.conversation_id,
            row.session_key,
            row.customer_id,
            row.channel,
            row.topic,
            row.variant,
            row.user_messages,
            row.bot_messages,
            row.fallbacks,
            int(bool(row.handed_off)),
            row.nps,
            row.csat,
            row.survey_status,
            row.comment,
        )
        writer.writerow([csv_safe(v) for v in values])
    return buffer.getvalue()


@require_role(*STAFF)
async def export_csv(request: web.Request) -> web.StreamResponse:
    """The filtered list as CSV, streamed in chunks (each one keyset seek)."""
    try:
        filters = browse.Filters.parse(request.query)
    except browse.FilterError as problem:
        raise web.HTTPBadRequest(text=str(problem)) from problem
    user = await _user(request)
    now = request.app[services_key].now()
    await in_session(
        request, lambda s: audit(s, user, "exported_csv", "conversations", filters.as_query(), now)
    )
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="conversations-{now:%Y%m%d-%H%M}.csv"',
        }
    )
    await response.prepare(request)
    await response.write(csv_lines([], header=True).encode())
    after: browse.Cursor | None = None
    while True:
        chunk = functools.partial(
            browse.next_chunk, filters=filters, after=after, chunk=EXPORT_CHUNK
        )
        rows = await in_session(request, chunk)
        if rows:
            await response.write(csv_lines(rows).encode())
        if len(rows) < EXPORT_CHUNK:
            break
        after = rows[-1].cursor
        await asyncio.sleep(0)
    await response.write_eof()
    return response


def topic_label(topic: str | None) -> str:
    """A topic (an intent name) in words: "return_request" is "returns"."""
    if not topic:
        return "other"
    return TOPIC_LABELS.get(topic, topic.replace("_", " "))


def setup(app: web.Application) -> None:
    env = aiohttp_jinja2.get_env(app)
    env.filters["when"] = _when
    env.filters["when_seconds"] = _when_seconds
    env.filters["conversation_url"] = conversation_url
    env.filters["topic"] = topic_label
    app.router.add_get("/staff", conversation_list, name="staff")
    app.router.add_get("/staff/export.csv", export_csv, name="staff.export")
    app.router.add_get("/staff/queue", queue, name="staff.queue")
    app.router.add_post("/staff/queue/{ticket_id}/assign", assign, name="staff.assign")
    app.router.add_post("/staff/queue/{ticket_id}/resolve", resolve, name="staff.resolve")
    app.router.add_get(
        "/staff/conversations/{conversation_id}", conversation, name="staff.conversation"
    )
    app.router.add_post("/staff/conversations/{conversation_id}/reveal", reveal)
    app.router.add_post("/staff/conversations/{conversation_id}/erase", erase_customer)
