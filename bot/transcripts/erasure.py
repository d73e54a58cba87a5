"""Erase a customer's personal data (GDPR art. 17), or one anonymous conversation.

What goes, and what stays
    Deleted: every conversation of the customer, whole: its transcript (all rows of the
    tracker store's `events` with that sender id), its `conversations` summaries, survey
    responses, tickets, product recommendations and the marks staff put on its messages
    (`nlu_marks`). "The customer's conversations" are the
    sender ids that any of those app rows ties to the customer (`customer_id`), so a
    conversation is caught even when only its ticket knew who wrote it; and the anonymous
    ones found through the customer's order numbers, return numbers and ticket ids
    (`references.conversations_by_reference`: an app row on one of their orders, or a message
    or slot that names one). A conversation tied to another customer is not taken that way.

    Kept, anonymised: the `customers` row (name "Erased customer", email
    `erased-<id>@erased.invalid`, city blank) and their orders, refunds and returns, which
    are accounting records a shop must keep (amounts, items, dates, statuses, payment
    method). Blanked on those records: the shipping address, the parcel tracking number
    (it leads to the address at the carrier), a return's free-text reason, the old and new
    address in "address_changed" order events, and the links from orders, returns and
    order events to the erased conversations. The customer id stays on the orders, so
    revenue and retention figures do not change.

    Also kept: the audit log (it names the customer id and the counts, never personal data)
    and the metrics of other customers.

Two databases, no two-phase commit: the transcript rows are deleted (and committed) first,
then the app rows in the caller's transaction. If the second part fails, running the
erasure again finishes it: the app rows that name the conversations are still there (for an
anonymous conversation, its summary's `search_text` names the reference).

Not covered here: copies outside these two databases (Rasa's logs under var/logs, an event
broker's consumers at scale, backups); their retention is the operator's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, inspect, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.storage.models import (
    Conversation,
    Customer,
    NluMark,
    Order,
    OrderEvent,
    OrderProofAttempt,
    Recommendation,
    ReturnRequest,
    SurveyResponse,
    Ticket,
)
from bot.transcripts.references import conversations_by_reference

ERASED_NAME = "Erased customer"
CHUNK = 500  # ids per IN (...) list; well under every database's bound-parameter limit


def erased_email(customer_id: int) -> str:
    return f"erased-{customer_id}@erased.invalid"


@dataclass
class ErasureResult:
    customer_id: int | None
    conversation_ids: list[str] = field(default_factory=list)
    found_by_reference: int = 0
    tracker_events: int = 0
    conversations: int = 0
    survey_responses: int = 0
    tickets: int = 0
    recommendations: int = 0
    nlu_marks: int = 0
    orders_anonymised: int = 0
    returns_anonymised: int = 0
    order_events_cleared: int = 0
    customer_anonymised: bool = False

    def counts(self) -> dict[str, Any]:
        """The numbers, for the audit log and the command's output (no personal data)."""
        return {
            "customer_id": self.customer_id,
            "conversations_erased": len(self.conversation_ids),
            "found_by_reference": self.found_by_reference,
            "tracker_events": self.tracker_events,
            "conversation_sessions": self.conversations,
            "survey_responses": self.survey_responses,
            "tickets": self.tickets,
            "recommendations": self.recommendations,
            "nlu_marks": self.nlu_marks,
            "orders_anonymised": self.orders_anonymised,
            "returns_anonymised": self.returns_anonymised,
            "order_events_cleared": self.order_events_cleared,
            "customer_anonymised": self.customer_anonymised,
        }


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def conversations_of_customer(session: Session, customer_id: int) -> list[str]:
    """Every sender id an app row ties to the customer."""
    found: set[str] = set()
    for model in (Conversation, SurveyResponse, Ticket, Recommendation):
        query = select(model.conversation_id).where(model.customer_id == customer_id).distinct()
        found.update(session.execute(query).scalars())
    return sorted(found)


def delete_tracker_events(tracker_engine: Engine, sender_ids: Sequence[str]) -> int:
    """Delete the conversations' events from Rasa's tracker store; how many went."""
    if not sender_ids:
        return 0
    with tracker_engine.begin() as connection:
        if not inspect(connection).has_table("events"):  # no chat was ever stored
            return 0
        deleted = 0
        for chunk in _chunks(sender_ids):
            params = {f"s{i}": sender for i, sender in enumerate(chunk)}
            names = ", ".join(f":{key}" for key in params)
            result = connection.execute(
                text(f"DELETE FROM events WHERE sender_id IN ({names})"), params
            )
            deleted += result.rowcount or 0
        return deleted


def _delete(session: Session, model: Any, ids: Sequence[str], customer_id: int | None) -> int:
    deleted = 0
    if customer_id is not None:
        where = [model.customer_id == customer_id]
        deleted += _execute(session, delete(model).where(*where))
    for chunk in _chunks(ids):
        deleted += _execute(session, delete(model).where(model.conversation_id.in_(chunk)))
    return deleted


def _execute(session: Session, statement: Any) -> int:
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(result.rowcount or 0)


def _unlink(session: Session, model: Any, ids: Sequence[str]) -> None:
    for chunk in _chunks(ids):
        statement = update(model).where(model.conversation_id.in_(chunk))
        _execute(session, statement.values(conversation_id=None))


def _anonymise_customer(session: Session, customer_id: int, result: ErasureResult) -> None:
    customer = session.get(Customer, customer_id)
    if customer is None:
        return
    customer.name = ERASED_NAME
    customer.email = erased_email(customer_id)
    customer.city = ""
    result.customer_anonymised = True
    orders = select(Order.id).where(Order.customer_id == customer_id).scalar_subquery()
    result.orders_anonymised = _execute(
        session,
        update(Order)
        .where(Order.customer_id == customer_id)
        .values(shipping_address="", tracking_number=None),
    )
    result.returns_anonymised = _execute(
        session, update(ReturnRequest).where(ReturnRequest.order_id.in_(orders)).values(reason="")
    )
    result.order_events_cleared = _execute(
        session,
        update(OrderEvent)
        .where(OrderEvent.order_id.in_(orders), OrderEvent.kind == "address_changed")
        .values(detail=""),
    )


def erase(
    session: Session,
    tracker_engine: Engine,
    customer_id: int | None = None,
    conversation_ids: Iterable[str] = (),
) -> ErasureResult:
    """Erase the customer's data (see the module's docstring) and/or these conversations.

    The caller's transaction (`session`) holds the app changes; the tracker store's
    deletion is committed here, first.
    """
    ids = set(conversation_ids)
    by_reference: set[str] = set()
    if customer_id is not None:
        ids.update(conversations_of_customer(session, customer_id))
        by_reference = conversations_by_reference(session, tracker_engine, customer_id, ids)
    result = ErasureResult(customer_id, sorted(ids | by_reference), len(by_reference))
    result.tracker_events = delete_tracker_events(tracker_engine, result.conversation_ids)
    # Tickets first: a follow-up ticket refers to its survey response.
    result.tickets = _delete(session, Ticket, result.conversation_ids, customer_id)
    result.survey_responses = _delete(session, SurveyResponse, result.conversation_ids, customer_id)
    result.recommendations = _delete(session, Recommendation, result.conversation_ids, customer_id)
    result.conversations = _delete(session, Conversation, result.conversation_ids, customer_id)
    for chunk in _chunks(result.conversation_ids):  # what staff marked of their messages
        marked = delete(NluMark).where(NluMark.conversation_id.in_(chunk))
        result.nlu_marks += _execute(session, marked)
    for chunk in _chunks(result.conversation_ids):  # the client addresses of proof attempts
        _execute(
            session, delete(OrderProofAttempt).where(OrderProofAttempt.conversation_id.in_(chunk))
        )
    _unlink(session, OrderEvent, result.conversation_ids)
    _unlink(session, ReturnRequest, result.conversation_ids)
    if customer_id is not None:
        _anonymise_customer(session, customer_id, result)
    session.flush()
    return result
