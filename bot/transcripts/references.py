"""A customer's anonymous conversations, found through the references that belong to them.

A visitor who is not signed in is anonymous, yet a chat about "order 104233" or "return
R900002" is about that order's customer, and holds what they typed (an address, an email
address). The references of a customer are the numbers of their orders, of the returns of
those orders, and the ids of their tickets (their own, or on their orders). A conversation is
theirs when an app row links it to one of their orders (a return opened, an address changed,
a ticket), or when a message or a slot value of it names a reference as a word of its own:
"104233" or "104 233" (as the bot reads an order number), "R900002", "ticket #12", the
`ticket_id` slot. "1042335", "1Z104233X" or "R9000021" do not name them, nor does a bare
"12": an erasure takes no chat on a guess. A ticket opened in one of the chats found is how
the visitor refers to it in the next chat, so those tickets are looked for once more.

The tracker store is searched in SQL, the same on SQLite and PostgreSQL: a LIKE prefilter on
the `events` rows of messages and slots (up to `TERMS_PER_QUERY` references per query,
streamed), then each candidate row's text is checked exactly. The summaries' `search_text` is
searched the same way, so that an erasure that stopped after the tracker store was cleared
still finds these conversations when it is run again.

A conversation that an app row ties to another customer is never taken this way: the other
customer mentioning this one's order number does not make the chat this customer's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, column, func, inspect, or_, select, table
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.storage.models import (
    Conversation,
    Order,
    OrderEvent,
    Recommendation,
    ReturnRequest,
    SurveyResponse,
    Ticket,
)

TERMS_PER_QUERY = 100
ID_CHUNK = 500  # ids per IN (...) list
STREAM_ROWS = 500
TICKET_SLOT = "ticket_id"
_EVENTS = table("events", column("sender_id"), column("type_name"), column("data"))
_SEARCHED_EVENTS = ("user", "bot", "slot")


@dataclass(frozen=True)
class References:
    """What names a customer's business: order numbers, return numbers, ticket ids."""

    orders: tuple[str, ...] = ()
    returns: tuple[str, ...] = ()
    tickets: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.orders or self.returns or self.tickets)

    def like_terms(self) -> list[tuple[str, ...]]:
        """Lower-case substrings, one tuple per reference, that a naming text contains all of."""
        terms: list[tuple[str, ...]] = []
        for number in self.orders:
            terms.append((number.lower(),))
            if len(number) == 6 and number.isdigit():  # "104 233", as the bot reads it too
                terms.append((f"{number[:3]} {number[3:]}",))
        terms += [(number.lower(),) for number in self.returns]
        terms += [("ticket", ticket) for ticket in self.tickets]
        return terms


class Matcher:
    """Whether a text or a slot value names one of the references (exactly, not inside a
    longer number or code)."""

    def __init__(self, references: References) -> None:
        self.tickets = frozenset(references.tickets)
        alternatives = [
            rf"(?<![0-9a-z]){re.escape(n[:3])} ?{re.escape(n[3:])}(?![0-9a-z])"
            if len(n) == 6 and n.isdigit()
            else rf"(?<![0-9a-z]){re.escape(n.lower())}(?![0-9a-z])"
            for n in references.orders
        ]
        alternatives += [
            rf"(?<![0-9a-z]){re.escape(n.lower())}(?![0-9a-z])" for n in references.returns
        ]
        if references.tickets:
            ids = "|".join(re.escape(t) for t in sorted(references.tickets, key=len, reverse=True))
            alternatives.append(
                rf"\bticket(?:\s{{0,3}}(?:no|nr|number|ref|id)\.?)?\s{{0,3}}[:#]?\s{{0,3}}"
                rf"#?(?:{ids})(?!\d)"
            )
        self._pattern = re.compile("|".join(alternatives)) if alternatives else None

    def text(self, text: Any) -> bool:
        """Whether the text names a reference."""
        return (
            self._pattern is not None
            and isinstance(text, str)
            and self._pattern.search(text.lower()) is not None
        )

    def event(self, event: Any) -> bool:
        """Whether a serialised message or slot event names a reference."""
        if not isinstance(event, dict):
            return False
        if event.get("event") in ("user", "bot"):
            return self.text(event.get("text"))
        if event.get("event") != "slot":
            return False
        value = event.get("value")
        values = value if isinstance(value, list) else [value]
        if event.get("name") == TICKET_SLOT and any(str(v) in self.tickets for v in values):
            return True
        return any(self.text(v) for v in values if isinstance(v, str))


def references_of_customer(
    session: Session, customer_id: int, conversation_ids: Iterable[str] = ()
) -> References:
    """The customer's order and return numbers and ticket ids (also the tickets of these
    conversations)."""
    orders = select(Order.id).where(Order.customer_id == customer_id).scalar_subquery()
    numbers = session.execute(
        select(Order.number).where(Order.customer_id == customer_id)
    ).scalars()
    returns = session.execute(
        select(ReturnRequest.number).where(ReturnRequest.order_id.in_(orders))
    ).scalars()
    tickets = set(
        session.execute(
            select(Ticket.id).where(
                or_(Ticket.customer_id == customer_id, Ticket.order_id.in_(orders))
            )
        ).scalars()
    )
    for chunk in _chunks(sorted(set(conversation_ids))):
        tickets.update(
            session.execute(select(Ticket.id).where(Ticket.conversation_id.in_(chunk))).scalars()
        )
    return References(
        tuple(sorted(set(numbers))),
        tuple(sorted(set(returns))),
        tuple(sorted(str(t) for t in tickets)),
    )


def conversations_of_orders(session: Session, customer_id: int) -> set[str]:
    """Conversations an app row links to one of the customer's orders."""
    orders = select(Order.id).where(Order.customer_id == customer_id).scalar_subquery()
    found: set[str] = set()
    for model in (ReturnRequest, OrderEvent, Ticket):
        query = select(model.conversation_id).where(
            model.order_id.in_(orders), model.conversation_id.is_not(None)
        )
        found.update(session.execute(query.distinct()).scalars())
    return found


def _like(expression: Any, term: str) -> ColumnElement[bool]:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(expression).like(f"%{escaped}%", escape="\\")


def _prefilter(expression: Any, terms: Sequence[tuple[str, ...]]) -> ColumnElement[bool]:
    return or_(*(and_(*(_like(expression, part) for part in term)) for term in terms))


def _chunks(values: Sequence[Any], size: int = ID_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def tracker_conversations_naming(tracker_engine: Engine, references: References) -> set[str]:
    """Sender ids of the tracker store's conversations with a message or slot naming one of
    the references."""
    if not references:
        return set()
    matcher = Matcher(references)
    found: set[str] = set()
    with tracker_engine.connect() as connection:
        if not inspect(connection).has_table("events"):
            return found
        for terms in _chunks(references.like_terms(), TERMS_PER_QUERY):
            query = select(_EVENTS.c.sender_id, _EVENTS.c.data).where(
                _EVENTS.c.type_name.in_(_SEARCHED_EVENTS), _prefilter(_EVENTS.c.data, terms)
            )
            rows = connection.execution_options(stream_results=True, yield_per=STREAM_ROWS)
            for sender_id, data in rows.execute(query):
                if sender_id not in found and matcher.event(_loads(data)):
                    found.add(sender_id)
    return found


def summaries_naming(session: Session, references: References) -> set[str]:
    """Conversations whose summaries' `search_text` (what the customer wrote) names one."""
    if not references:
        return set()
    matcher = Matcher(references)
    found: set[str] = set()
    for terms in _chunks(references.like_terms(), TERMS_PER_QUERY):
        query = select(Conversation.conversation_id, Conversation.search_text).where(
            _prefilter(Conversation.search_text, terms)
        )
        for conversation_id, text in session.execute(query):
            if matcher.text(text):
                found.add(conversation_id)
    return found


def claimed_by_others(
    session: Session, customer_id: int, conversation_ids: Iterable[str]
) -> set[str]:
    """The conversations an app row ties to a customer other than this one."""
    claimed: set[str] = set()
    for chunk in _chunks(sorted(set(conversation_ids))):
        for model in (Conversation, SurveyResponse, Ticket, Recommendation):
            query = select(model.conversation_id).where(
                model.conversation_id.in_(chunk),
                model.customer_id.is_not(None),
                model.customer_id != customer_id,
            )
            claimed.update(session.execute(query.distinct()).scalars())
    return claimed


def conversations_by_reference(
    session: Session, tracker_engine: Engine, customer_id: int, known: Iterable[str] = ()
) -> set[str]:
    """The customer's conversations found through their references, less those of others."""
    known = set(known)
    references = references_of_customer(session, customer_id, known)
    found = conversations_of_orders(session, customer_id)
    found |= _naming(session, tracker_engine, references)
    found -= known | claimed_by_others(session, customer_id, found - known)
    # A ticket opened in one of them is how the visitor refers to it in the next chat.
    tickets = set(references_of_customer(session, customer_id, found).tickets)
    more = References(tickets=tuple(sorted(tickets - set(references.tickets))))
    if more:
        again = _naming(session, tracker_engine, more) - known - found
        found |= again - claimed_by_others(session, customer_id, again)
    return found


def _naming(session: Session, tracker_engine: Engine, references: References) -> set[str]:
    return tracker_conversations_naming(tracker_engine, references) | summaries_naming(
        session, references
    )


def _loads(data: Any) -> Any:
    try:
        return json.loads(data)
    except (TypeError, ValueError):
        return None
