"""The order use cases: each takes who is asking and a unit of work, checks ownership, acts.

`uow` is the session factory; every function opens its own `session_scope()`, so a use case
commits or rolls back as a whole. The actions only translate chat messages to these calls and
their results back to messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings
from bot.storage.models import Order, OrderProofAttempt
from bot.storage.repositories import OrderProofRepository, OrderRepository, ReturnRepository
from bot.storage.session import session_scope
from bot.support import orders as order_rules
from bot.support.orders import OrderView
from bot.support.ownership import Requester, evidence_matches, may_access
from bot.support.policies import Policies


@dataclass(frozen=True)
class ProofLimits:
    """Failed proofs allowed per conversation, and per order and per client in a window."""

    per_conversation: int = 3
    per_order: int = 5
    per_client: int = 10
    window: timedelta = timedelta(hours=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> ProofLimits:
        return cls(
            per_conversation=settings.max_order_proof_failures,
            per_order=settings.max_order_proof_failures_per_order,
            per_client=settings.max_order_proof_failures_per_client,
            window=timedelta(seconds=settings.order_proof_window_seconds),
        )


class Proof(Enum):
    PROVEN = "proven"
    MISMATCH = "mismatch"
    LOCKED = "locked"


@dataclass(frozen=True)
class ProofResult:
    outcome: Proof
    # Failed proofs in this conversation so far (this one included).
    failures: int = 0


@dataclass(frozen=True)
class Outcome:
    """What a change did: whether it happened, what to tell the customer, what it opened."""

    done: bool
    message: str
    reference: str | None = None


def _accessible(session: Session, requester: Requester, number: str) -> Order | None:
    order = OrderRepository(session).get(number)
    if order is None or not may_access(requester, order.number, order.customer_id):
        return None
    return order


def not_found_message(requester: Requester, number: str) -> str:
    """The same words whether the order does not exist or is someone else's."""
    if requester.signed_in:
        return f"I can't find an order with the number {number} on your account."
    return f"I can't show order {number} until you've confirmed it's yours."


def _locked(
    session: Session, requester: Requester, number: str, now: datetime, limits: ProofLimits
) -> bool:
    repository = OrderProofRepository(session)
    since = now - limits.window
    if (
        repository.failures_since(since, conversation_id=requester.conversation_id)
        >= limits.per_conversation
    ):
        return True
    if repository.failures_since(since, order_number=number) >= limits.per_order:
        return True
    return bool(
        requester.client
        and repository.failures_since(since, client=requester.client) >= limits.per_client
    )


def prove_order(
    requester: Requester,
    number: str,
    evidence: str,
    uow: sessionmaker,
    now: datetime,
    limits: ProofLimits,
) -> ProofResult:
    """Check the visitor's evidence (the order's email or postcode) that `number` is theirs.

    The attempt is reserved (stored as failed) before the comparison and committed, so parallel
    guesses from other conversations count against the limits at once; a match marks it.
    """
    with session_scope(uow) as session:
        if _locked(session, requester, number, now, limits):
            return ProofResult(Proof.LOCKED)
        attempt_id = (
            OrderProofRepository(session)
            .reserve(number, requester.client, requester.conversation_id, now)
            .id
        )
    with session_scope(uow) as session:
        order = OrderRepository(session).get(number)
        if order is not None and evidence_matches(
            evidence, order.customer.email, order.shipping_address
        ):
            attempt = session.get(OrderProofAttempt, attempt_id)
            if attempt is not None:
                attempt.succeeded = True
            return ProofResult(Proof.PROVEN)
        failures = OrderProofRepository(session).failures_since(
            now - limits.window, conversation_id=requester.conversation_id
        )
    return ProofResult(Proof.MISMATCH, failures)


def view_order(requester: Requester, number: str, uow: sessionmaker) -> OrderView | None:
    """The order as its customer sees it; None when it does not exist or is not theirs."""
    with session_scope(uow) as session:
        if _accessible(session, requester, number) is None:
            return None
        return OrderRepository(session).view(number)


def recent_orders(requester: Requester, uow: sessionmaker, limit: int = 5) -> list[OrderView]:
    """A signed-in customer's newest orders (nobody else has a list of orders)."""
    if requester.customer_id is None:
        return []
    with session_scope(uow) as session:
        return OrderRepository(session).recent_for_customer(requester.customer_id, limit)


def conversation_customer(requester: Requester, uow: sessionmaker) -> int | None:
    """The customer a ticket or survey of this conversation may be filed under.

    The signed-in customer; for a visitor, the one customer whose orders they proved; else None.
    """
    if requester.customer_id is not None:
        return requester.customer_id
    if not requester.proven_orders:
        return None
    with session_scope(uow) as session:
        owners = set(
            session.execute(
                select(Order.customer_id).where(Order.number.in_(sorted(requester.proven_orders)))
            ).scalars()
        )
    return owners.pop() if len(owners) == 1 else None


@dataclass(frozen=True)
class _Change:
    """An order the requester may change, loaded in the use case's session."""

    order: Order
    view: OrderView
    repository: OrderRepository


def _change(
    session: Session,
    requester: Requester,
    number: str,
    rule: Callable[[OrderView], order_rules.Decision],
) -> _Change | Outcome:
    """The order if it is the requester's and `rule` allows the change; else what to say."""
    order = _accessible(session, requester, number)
    if order is None:
        return Outcome(False, not_found_message(requester, number))
    repository = OrderRepository(session)
    view = repository.view(number)
    assert view is not None
    decision = rule(view)
    if not decision.allowed:
        return Outcome(False, decision.reason)
    return _Change(order, view, repository)


def cancel_order(requester: Requester, number: str, uow: sessionmaker, now: datetime) -> Outcome:
    """Cancel the requester's order if it has not shipped yet."""
    with session_scope(uow) as session:
        change = _change(session, requester, number, order_rules.cancellation)
        if isinstance(change, Outcome):
            return change
        change.repository.cancel(change.order, requester.conversation_id, now)
        return Outcome(True, order_rules.cancelled_message(change.view))


def may_change_address(requester: Requester, number: str, uow: sessionmaker) -> bool:
    """Whether the requester may change this order's delivery address now."""
    view = view_order(requester, number, uow)
    return view is not None and order_rules.address_change(view).allowed


def change_address(
    requester: Requester, number: str, address: str, uow: sessionmaker, now: datetime
) -> Outcome:
    """Send the requester's order to a new address if it has not shipped yet."""
    with session_scope(uow) as session:
        change = _change(session, requester, number, order_rules.address_change)
        if isinstance(change, Outcome):
            return change
        change.repository.change_address(change.order, address, requester.conversation_id, now)
        return Outcome(True, f"Done — order {number} will now be delivered to: {address}")


def open_return(
    requester: Requester, number: str, uow: sessionmaker, now: datetime, policies: Policies
) -> Outcome:
    """Open a return for the requester's delivered order, under the return policy."""

    def eligible(view: OrderView) -> order_rules.Decision:
        decision = order_rules.return_eligibility(view, now.date(), policies)
        if decision.allowed:
            return decision
        return order_rules.Decision(False, f"{decision.reason} {policies.returns_text()}")

    with session_scope(uow) as session:
        change = _change(session, requester, number, eligible)
        if isinstance(change, Outcome):
            return change
        request = ReturnRepository(session).open(
            change.order, "requested in chat", requester.conversation_id, now
        )
        policy = policies.raw["returns"]
        return Outcome(
            True,
            f"I've opened return {request.number} for order {number}. "
            f"{policy['how']} Please send the items {policy['condition']}. "
            f"{policies.refunds_text()}",
            reference=request.number,
        )
