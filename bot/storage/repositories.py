"""Repositories: each takes a session and never commits; `session_scope()` owns the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from bot.storage.models import (
    Customer,
    Order,
    OrderEvent,
    OrderItem,
    Product,
    Refund,
    ReturnRequest,
    Ticket,
)
from bot.support.orders import OrderLine, OrderView, RefundView, ReturnView


def order_view(order: Order, returns: list[ReturnRequest], refunds: list[Refund]) -> OrderView:
    return OrderView(
        number=order.number,
        status=order.status,
        placed_at=order.placed_at,
        total=order.total,
        lines=tuple(
            OrderLine(item.product.name, item.quantity, item.product.category)
            for item in order.items
        ),
        shipped_at=order.shipped_at,
        delivered_at=order.delivered_at,
        cancelled_at=order.cancelled_at,
        expected_delivery=order.expected_delivery,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        returns=tuple(ReturnView(r.number, r.status, r.created_at) for r in returns),
        refunds=tuple(RefundView(r.amount, r.status, r.created_at, r.issued_at) for r in refunds),
    )


class OrderRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, number: str) -> Order | None:
        statement = (
            select(Order)
            .where(Order.number == number)
            .options(selectinload(Order.items).selectinload(OrderItem.product))
        )
        return self.session.execute(statement).scalar_one_or_none()

    def view(self, number: str) -> OrderView | None:
        """The order with its items, returns and refunds, or None when there is no such order."""
        order = self.get(number)
        if order is None:
            return None
        returns = list(
            self.session.execute(
                select(ReturnRequest).where(ReturnRequest.order_id == order.id)
            ).scalars()
        )
        refunds = list(
            self.session.execute(select(Refund).where(Refund.order_id == order.id)).scalars()
        )
        return order_view(order, returns, refunds)

    def record(
        self, order: Order, kind: str, detail: str, conversation_id: str | None, now: datetime
    ) -> None:
        self.session.add(
            OrderEvent(
                order_id=order.id,
                kind=kind,
                detail=detail,
                conversation_id=conversation_id,
                created_at=now,
            )
        )

    def cancel(self, order: Order, conversation_id: str | None, now: datetime) -> None:
        order.status = "cancelled"
        order.cancelled_at = now
        self.record(order, "cancelled", "cancelled by the customer in chat", conversation_id, now)

    def change_address(
        self, order: Order, address: str, conversation_id: str | None, now: datetime
    ) -> None:
        old = order.shipping_address
        order.shipping_address = address
        self.record(order, "address_changed", f"from: {old}\nto: {address}", conversation_id, now)


class ReturnRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def open(
        self, order: Order, reason: str, conversation_id: str | None, now: datetime
    ) -> ReturnRequest:
        """Open a return for `order` with the next free return number."""
        highest = self.session.execute(select(func.max(ReturnRequest.id))).scalar() or 0
        request = ReturnRequest(
            number=f"R{900000 + highest + 1}",
            order_id=order.id,
            status="open",
            reason=reason,
            conversation_id=conversation_id,
            created_at=now,
        )
        self.session.add(request)
        self.session.flush()
        return request


class TicketRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def open(
        self,
        kind: str,
        conversation_id: str,
        reason: str,
        now: datetime,
        customer_id: int | None = None,
        order_number: str | None = None,
    ) -> Ticket:
        """Open a ticket, or return the conversation's open ticket of that kind (no duplicates)."""
        existing = (
            self.session.execute(
                select(Ticket).where(
                    Ticket.conversation_id == conversation_id,
                    Ticket.kind == kind,
                    Ticket.status != "resolved",
                )
            )
            .scalars()
            .first()
        )
        if existing is not None:
            return existing
        order_id = None
        if order_number:
            order_id = self.session.execute(
                select(Order.id).where(Order.number == order_number)
            ).scalar_one_or_none()
        ticket = Ticket(
            kind=kind,
            status="open",
            conversation_id=conversation_id,
            customer_id=customer_id,
            order_id=order_id,
            reason=reason,
            created_at=now,
        )
        self.session.add(ticket)
        self.session.flush()
        return ticket

    def open_count(self) -> int:
        return self.session.execute(
            select(func.count()).select_from(Ticket).where(Ticket.status != "resolved")
        ).scalar_one()


class ProductRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def all(self) -> list[Product]:
        return list(self.session.execute(select(Product).order_by(Product.id)).scalars())


class CustomerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_email(self, email: str) -> Customer | None:
        return self.session.execute(
            select(Customer).where(func.lower(Customer.email) == email.lower())
        ).scalar_one_or_none()
