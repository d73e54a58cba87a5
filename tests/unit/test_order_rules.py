from datetime import date, datetime
from decimal import Decimal

from bot.settings import PROJECT_ROOT
from bot.support import orders
from bot.support.orders import OrderLine, OrderView, RefundView, ReturnView
from bot.support.policies import load_policies

POLICIES = load_policies(PROJECT_ROOT / "data" / "policies.yml")
TODAY = date(2026, 11, 1)


def order(status: str, **extra) -> OrderView:
    base = dict(
        number="100001",
        status=status,
        placed_at=datetime(2026, 10, 20, 9),
        total=Decimal("128.00"),
        lines=(
            OrderLine("Zen Yoga Mat - Green", 1, "Sports & Outdoors"),
            OrderLine("Plush Bear - Classic", 2, "Toys & Games"),
        ),
    )
    base.update(extra)
    return OrderView(**base)


def test_only_unshipped_orders_can_be_cancelled_or_readdressed():
    for status in ("pending", "processing"):
        assert orders.cancellation(order(status)).allowed
        assert orders.address_change(order(status)).allowed
    shipped = order(
        "shipped", shipped_at=datetime(2026, 10, 21, 8), carrier="DHL", tracking_number="JD1"
    )
    assert not orders.cancellation(shipped).allowed
    assert "already shipped on Wednesday, 21 October 2026" in orders.cancellation(shipped).reason
    assert not orders.address_change(shipped).allowed
    assert "JD1" in orders.address_change(shipped).reason
    assert not orders.cancellation(order("cancelled")).allowed


def test_status_message_names_items_total_and_delivery():
    shipped = order(
        "shipped",
        shipped_at=datetime(2026, 10, 30, 8),
        carrier="UPS",
        tracking_number="1Z9",
        expected_delivery=TODAY,
    )
    message = orders.status_message(shipped, TODAY)
    assert message.startswith(
        "Order 100001 (Zen Yoga Mat - Green and 2 × Plush Bear - Classic, 128.00 EUR)"
    )
    assert "with UPS, tracking number 1Z9. Expected delivery: today." in message


def test_return_window_and_exclusions():
    recent = order("delivered", delivered_at=datetime(2026, 10, 25, 12))
    assert orders.return_eligibility(recent, TODAY, POLICIES).allowed
    late = order("delivered", delivered_at=datetime(2026, 9, 1, 12))
    decision = orders.return_eligibility(late, TODAY, POLICIES)
    assert not decision.allowed and "61 days ago" in decision.reason
    beauty = order(
        "delivered",
        delivered_at=datetime(2026, 10, 25, 12),
        lines=(OrderLine("Glow Vitamin C Serum - 30 ml", 1, "Beauty"),),
    )
    assert not orders.return_eligibility(beauty, TODAY, POLICIES).allowed
    already = order(
        "delivered",
        delivered_at=datetime(2026, 10, 25, 12),
        returns=(ReturnView("R900001", "open", datetime(2026, 10, 28)),),
    )
    assert (
        "already a return (R900001)" in orders.return_eligibility(already, TODAY, POLICIES).reason
    )
    assert not orders.return_eligibility(order("shipped"), TODAY, POLICIES).allowed


def test_refund_messages():
    issued = order(
        "returned",
        refunds=(
            RefundView(Decimal("128.00"), "issued", datetime(2026, 10, 1), datetime(2026, 10, 3)),
        ),
    )
    assert (
        "refund of 128.00 EUR for order 100001 was issued on Saturday, 3 October 2026"
        in orders.refund_message(issued)
    )
    pending = order(
        "returned",
        refunds=(RefundView(Decimal("128.00"), "pending", datetime(2026, 10, 30), None),),
    )
    assert "within 5 business days" in orders.refund_message(pending, POLICIES)
    assert "hasn't been returned" in orders.refund_message(order("delivered"))
