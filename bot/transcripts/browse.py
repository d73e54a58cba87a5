"""The staff console's conversation list: filters, search and keyset paging, in SQL.

One row per conversation session (`conversations`), with its survey answers (LEFT JOIN
`survey_responses` on conversation and session), newest first.

Paging is by keyset on (started_at, id), never OFFSET: a page is "the 50 rows before this
(started_at, id)", which the index `ix_conversations_started (started_at, id)` answers by
seeking, so page 1000 costs what page 1 costs.

Search (`q`) reads what customers wrote: `conversations.search_text` (each session's
messages, redacted and lower-cased, written with the summary by the tracker store) and the
survey comment. Every word must appear (a substring match, LIKE). The scan walks the same
index newest first and stops at the 51st match, so common words are instant; a word found
nowhere reads every row once (see benchmarks/staff_paging.py for the cost at 100k).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, text, true
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from bot.storage.models import Conversation, SurveyResponse

PAGE_SIZE = 50
MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 5
# The brief's definitions: an NPS detractor answers 0-6; an unhappy CSAT is 1 or 2.
DETRACTOR_MAX = 6
UNHAPPY_CSAT_MAX = 2


class FilterError(ValueError):
    """A query parameter that cannot be read; the message says which and why."""


def _flag(value: str | None) -> bool:
    return value not in (None, "", "0", "false", "off", "no")


def _date(name: str, value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise FilterError(f"{name} must be a date like 2026-11-01") from error


@dataclass(frozen=True)
class Filters:
    detractors: bool = False
    unhappy: bool = False
    handoffs: bool = False
    date_from: date | None = None
    date_to: date | None = None
    topic: str | None = None
    q: str = ""

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> Filters:
        """Filters from query parameters (`from`, `to`, `topic`, `q` and three flags)."""
        q = " ".join(str(query.get("q", "")).split())
        if len(q) > MAX_QUERY_LENGTH:
            raise FilterError(f"the search is limited to {MAX_QUERY_LENGTH} characters")
        filters = cls(
            detractors=_flag(query.get("detractors")),
            unhappy=_flag(query.get("unhappy")),
            handoffs=_flag(query.get("handoffs")),
            date_from=_date("from", query.get("from")),
            date_to=_date("to", query.get("to")),
            topic=(query.get("topic") or "").strip() or None,
            q=q,
        )
        if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
            raise FilterError("from must not be after to")
        return filters

    def as_query(self) -> dict[str, str]:
        """The query parameters that give these filters back (for links and the export)."""
        query: dict[str, str] = {}
        for name in ("detractors", "unhappy", "handoffs"):
            if getattr(self, name):
                query[name] = "1"
        if self.date_from:
            query["from"] = self.date_from.isoformat()
        if self.date_to:
            query["to"] = self.date_to.isoformat()
        if self.topic:
            query["topic"] = self.topic
        if self.q:
            query["q"] = self.q
        return query

    @property
    def words(self) -> list[str]:
        return self.q.lower().split()[:MAX_QUERY_WORDS]

    @property
    def active(self) -> bool:
        return bool(self.as_query())


@dataclass(frozen=True)
class Cursor:
    """A position in the list: the (started_at, id) of a row."""

    started_at: datetime
    id: int

    def encode(self) -> str:
        return f"{self.started_at.isoformat()}_{self.id}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        if not text:
            return None
        try:
            stamp, _, ident = text.rpartition("_")
            return cls(datetime.fromisoformat(stamp), int(ident))
        except ValueError as error:
            raise FilterError("the page link is damaged; start from the first page") from error


@dataclass(frozen=True)
class Listed:
    id: int
    conversation_id: str
    session_key: str
    started_at: datetime
    customer_id: int | None
    channel: str
    topic: str
    variant: str | None
    user_messages: int
    bot_messages: int
    fallbacks: int
    handed_off: bool
    nps: int | None
    csat: int | None
    survey_status: str | None
    comment: str | None

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.started_at, self.id)


@dataclass(frozen=True)
class Page:
    rows: list[Listed]
    newer: Cursor | None  # `before=` this for the previous (newer) page
    older: Cursor | None  # `after=` this for the next (older) page


_COLUMNS = (
    Conversation.id,
    Conversation.conversation_id,
    Conversation.session_key,
    Conversation.started_at,
    Conversation.customer_id,
    Conversation.channel,
    Conversation.topic,
    Conversation.variant,
    Conversation.user_messages,
    Conversation.bot_messages,
    Conversation.fallbacks,
    Conversation.handed_off,
    SurveyResponse.nps,
    SurveyResponse.csat,
    SurveyResponse.status,
    SurveyResponse.comment,
)


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _answer_at_most(column: Any, highest: int) -> ColumnElement[Any]:
    """The joined survey's `column` <= `highest` (false without a survey).

    Spelt with COALESCE on purpose: a plain `column <= n` on the LEFT JOIN's nullable side
    lets PostgreSQL turn it into an inner join, whose size it estimates from the two key
    columns as ~1 row; it then hash-joins both whole tables and sorts them (~100 ms at
    100k) instead of walking the started_at index (a few ms). COALESCE keeps the outer join.
    """
    return func.coalesce(column, highest + 1) <= highest


def conditions(filters: Filters) -> list[ColumnElement[Any]]:
    """The WHERE clauses of `filters` over conversations LEFT JOIN survey_responses."""
    where: list[ColumnElement[Any]] = []
    if filters.detractors:
        where.append(_answer_at_most(SurveyResponse.nps, DETRACTOR_MAX))
    if filters.unhappy:
        where.append(_answer_at_most(SurveyResponse.csat, UNHAPPY_CSAT_MAX))
    if filters.handoffs:
        where.append(Conversation.handed_off.is_(True))
    if filters.date_from:
        where.append(Conversation.started_at >= datetime.combine(filters.date_from, time.min))
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min)
        where.append(Conversation.started_at < end)
    if filters.topic:
        where.append(Conversation.topic == filters.topic)
    for word in filters.words:
        pattern = f"%{_escape_like(word)}%"
        where.append(
            or_(
                Conversation.search_text.like(pattern, escape="\\"),
                SurveyResponse.comment.ilike(pattern, escape="\\"),
            )
        )
    return where


def _base(filters: Filters) -> Select:
    survey = and_(
        SurveyResponse.conversation_id == Conversation.conversation_id,
        SurveyResponse.session_key == Conversation.session_key,
    )
    return (
        select(*_COLUMNS)
        .select_from(Conversation)
        .outerjoin(SurveyResponse, survey)
        .where(true(), *conditions(filters))
    )


def _older_than(cursor: Cursor) -> ColumnElement[Any]:
    # Spelt out rather than a row-value comparison: the first term is an index range on
    # every database; the second only breaks ties.
    return and_(
        Conversation.started_at <= cursor.started_at,
        or_(Conversation.started_at < cursor.started_at, Conversation.id < cursor.id),
    )


def _newer_than(cursor: Cursor) -> ColumnElement[Any]:
    return and_(
        Conversation.started_at >= cursor.started_at,
        or_(Conversation.started_at > cursor.started_at, Conversation.id > cursor.id),
    )


def _newest_first(query: Select) -> Select:
    return query.order_by(Conversation.started_at.desc(), Conversation.id.desc())


def _rows(session: Session, query: Select) -> list[Listed]:
    return [Listed(*row) for row in session.execute(query)]


def _exists(session: Session, filters: Filters, where: ColumnElement[Any], newer: bool) -> bool:
    """Is there a matching row beyond this page? Ordered, so that it is one index seek."""
    query = _base(filters).with_only_columns(Conversation.id).where(where)
    if newer:
        query = query.order_by(Conversation.started_at.asc(), Conversation.id.asc())
    else:
        query = _newest_first(query)
    return session.execute(query.limit(1)).first() is not None


def page(
    session: Session,
    filters: Filters,
    after: Cursor | None = None,
    before: Cursor | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """One page, newest first: the rows older than `after`, or those newer than `before`."""
    if before is not None:
        query = (
            _base(filters)
            .where(_newer_than(before))
            .order_by(Conversation.started_at.asc(), Conversation.id.asc())
            .limit(limit)
        )
        rows = list(reversed(_rows(session, query)))
        if len(rows) < limit:  # near the top: show a full first page instead
            return page(session, filters, limit=limit)
        has_older = _exists(session, filters, _older_than(rows[-1].cursor), newer=False)
    else:
        rows = next_chunk(session, filters, after, limit + 1)
        has_older = len(rows) > limit
        rows = rows[:limit]
    if not rows:
        return Page([], None, None)
    has_newer = after is not None and _exists(
        session, filters, _newer_than(rows[0].cursor), newer=True
    )
    if before is not None:
        has_newer = _exists(session, filters, _newer_than(rows[0].cursor), newer=True)
    return Page(
        rows,
        newer=rows[0].cursor if has_newer else None,
        older=rows[-1].cursor if has_older else None,
    )


def next_chunk(
    session: Session, filters: Filters, after: Cursor | None, chunk: int = 1000
) -> list[Listed]:
    """The `chunk` rows older than `after` (from the newest when None): one index seek."""
    query = _newest_first(_base(filters))
    if after is not None:
        query = query.where(_older_than(after))
    return _rows(session, query.limit(chunk))


def iter_all(session: Session, filters: Filters, chunk: int = 1000) -> Iterator[list[Listed]]:
    """Every matching row, newest first, in chunks."""
    after: Cursor | None = None
    while rows := next_chunk(session, filters, after, chunk):
        yield rows
        if len(rows) < chunk:
            return
        after = rows[-1].cursor


# A loose index scan: one seek in ix_conversations_topic_started per distinct topic, where
# SELECT DISTINCT reads all 100k entries (PostgreSQL: ~50 ms; this: under 1 ms).
_TOPICS = text(
    """
    WITH RECURSIVE found(topic) AS (
        SELECT min(topic) FROM conversations
        UNION ALL
        SELECT (SELECT min(c.topic) FROM conversations c WHERE c.topic > found.topic)
        FROM found WHERE found.topic IS NOT NULL
    )
    SELECT topic FROM found WHERE topic IS NOT NULL
    """
)


def topics(session: Session) -> list[str]:
    """The topics conversations have, for the filter's choices."""
    return sorted(session.execute(_TOPICS).scalars())
