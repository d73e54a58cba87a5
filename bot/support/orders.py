"""What the assistant may do with an order, and how it describes one, as plain functions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from bot.support.policies import Policies

OPEN_STATUSES = ("pending", "processing")


@dataclass(frozen=True)
class OrderLine:
    name: str
    quantity: int
    category: str


@dataclass(frozen=True)
class ReturnView:
    number: str
    status: str
    created_at: datetime


@dataclass(frozen=True)
class RefundView:
    amount: Decimal
    status: str
    created_at: datetime
    issued_at: datetime | None


@dataclass(frozen=True)
class OrderView:
    """An order as the assistant talks about it."""

    number: str
    status: str
    placed_at: datetime
    total: Decimal
    lines: tuple[OrderLine, ...] = ()
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    cancelled_at: datetime | None = None
    expected_delivery: date | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    returns: tuple[ReturnView, ...] = field(default_factory=tuple)
    refunds: tuple[RefundView, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str


def _day(value: date | datetime | None) -> str:
    if value is None:
        return "an unknown date"
    return f"{value:%A, %d %B %Y}".replace(" 0", " ")


def describe_items(order: OrderView) -> str:
    parts = [
        f"{line.quantity} × {line.name}" if line.quantity > 1 else line.name for line in order.lines
    ]
    if not parts:
        return "no items"
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def status_message(order: OrderView, today: date) -> str:
    """One message telling the customer where their order is."""
    head = f"Order {order.number} ({describe_items(order)}, {order.total:.2f} EUR)"
    if order.status == "pending":
        return f"{head} was placed on {_day(order.placed_at)} and is waiting to be packed."
    if order.status == "processing":
        return (
            f"{head} is being packed in our warehouse and will ship within 1 business day. "
            f"Expected delivery: {_day(order.expected_delivery)}."
        )
    if order.status == "shipped":
        due = order.expected_delivery
        when = "today" if due == today else _day(due)
        tracking = f", tracking number {order.tracking_number}" if order.tracking_number else ""
        return (
            f"{head} shipped on {_day(order.shipped_at)} with {order.carrier}{tracking}. "
            f"Expected delivery: {when}."
        )
    if order.status == "delivered":
        return f"{head} was delivered on {_day(order.delivered_at)}."
    if order.status == "cancelled":
        return f"{head} was cancelled on {_day(order.cancelled_at)}."
    if order.status == "returned":
        return f"{head} was returned to us. {refund_message(order)}"
    return f"{head} has the status {order.status}."


def cancellation(order: OrderView) -> Decision:
    """Whether the order can still be cancelled, and why not."""
    if order.status in OPEN_STATUSES:
        return Decision(True, "It hasn't shipped yet, so I can cancel it.")
    if order.status == "shipped":
        return Decision(
            False,
            f"Order {order.number} already shipped on {_day(order.shipped_at)}, so it can't be "
            "cancelled any more. Once it arrives you can return it for free.",
        )
    if order.status == "delivered":
        return Decision(
            False,
            f"Order {order.number} was delivered on {_day(order.delivered_at)}, so it can't be "
            "cancelled — but you can return it.",
        )
    if order.status == "cancelled":
        return Decision(False, f"Order {order.number} is already cancelled.")
    return Decision(False, f"Order {order.number} has been returned, so there's nothing to cancel.")


def address_change(order: OrderView) -> Decision:
    """Whether the delivery address can still be changed."""
    if order.status in OPEN_STATUSES:
        return Decision(True, "It hasn't shipped yet, so the address can still be changed.")
    if order.status == "shipped":
        return Decision(
            False,
            f"Order {order.number} already shipped on {_day(order.shipped_at)} with "
            f"{order.carrier}, so I can't change its address any more. The carrier may let you "
            f"redirect the parcel with tracking number {order.tracking_number}.",
        )
    if order.status == "delivered":
        return Decision(False, f"Order {order.number} was already delivered.")
    return Decision(
        False, f"Order {order.number} is {order.status}, so there's nothing to deliver."
    )


def return_eligibility(order: OrderView, today: date, policies: Policies) -> Decision:
    """Whether a return can be opened for this order under the return policy."""
    if any(r.status in ("open", "received") for r in order.returns):
        current = next(r for r in order.returns if r.status in ("open", "received"))
        return Decision(
            False,
            f"There's already a return ({current.number}) open for order {order.number}, "
            f"started on {_day(current.created_at)}.",
        )
    if order.status in OPEN_STATUSES:
        return Decision(
            False,
            f"Order {order.number} hasn't shipped yet — I can cancel it instead, if you like.",
        )
    if order.status == "shipped":
        return Decision(
            False,
            f"Order {order.number} is still on its way. Once it's delivered you'll have "
            f"{policies.return_window_days} days to return it.",
        )
    if order.status in ("cancelled", "returned"):
        return Decision(False, f"Order {order.number} is {order.status}, so it can't be returned.")
    delivered = (order.delivered_at or order.placed_at).date()
    days = (today - delivered).days
    if days > policies.return_window_days:
        return Decision(
            False,
            f"Order {order.number} was delivered {days} days ago, on {_day(delivered)}; returns "
            f"are possible within {policies.return_window_days} days of delivery.",
        )
    excluded = set(policies.return_excluded_categories)
    if order.lines and all(line.category in excluded for line in order.lines):
        return Decision(
            False, f"Order {order.number} only has beauty products, which can't be returned."
        )
    return Decision(
        True, f"Delivered {days} days ago, within the {policies.return_window_days}-day window."
    )


def refund_message(order: OrderView, policies: Policies | None = None) -> str:
    """Where the customer's money is."""
    if order.refunds:
        latest = max(order.refunds, key=lambda r: r.created_at)
        if latest.status == "issued":
            return (
                f"Your refund of {latest.amount:.2f} EUR for order {order.number} was issued on "
                f"{_day(latest.issued_at)}. Depending on your bank it shows up within "
                "3-5 business days."
            )
        if latest.status == "pending":
            days = policies.refund_days if policies else 5
            return (
                f"Your refund of {latest.amount:.2f} EUR for order {order.number} is being "
                f"processed since {_day(latest.created_at)}; it's issued within {days} business days."
            )
        return (
            f"The refund for order {order.number} could not be paid out. A person from our team "
            'will contact you — or say "talk to a person".'
        )
    if order.returns:
        current = max(order.returns, key=lambda r: r.created_at)
        return (
            f"Your return {current.number} for order {order.number} is {current.status}. "
            "The refund starts as soon as the parcel reaches our warehouse."
        )
    if order.status == "cancelled":
        return (
            f"Order {order.number} was cancelled before it was charged for, so there is nothing "
            "to refund: any pending authorisation disappears within 3-5 business days."
        )
    return f"There's no refund for order {order.number}: it hasn't been returned or cancelled."


def cancelled_message(order: OrderView) -> str:
    return (
        f"Done — order {order.number} is cancelled. You won't be charged; any pending "
        "authorisation disappears within 3-5 business days."
    )
