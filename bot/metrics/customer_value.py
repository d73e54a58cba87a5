"""Customer value from the order history, aggregated in the database.

Every query groups in SQL (per customer and period, per cohort and month, or one count), so
no order row is loaded into Python; the same code runs on SQLite and PostgreSQL.

What counts as a purchase
    An order placed before `as_of` (or inside the window asked for) whose status is not
    cancelled: pending, processing, shipped, delivered and returned orders all count, as the
    brief defines revenue ("non-cancelled orders"). Returned orders were refunded; pass
    `excluded_statuses=("cancelled", "returned")` for revenue net of returns.

Historical CLV (`historical_clv`)
    CLV = sum over t = 1..n of R_t / (1 + r)^t (`bot.metrics.core.clv`), per customer, with the
    periods counted forward from the customer's own first purchase: period t is
    [first + (t - 1) x period_days, first + t x period_days). Period 1 holds the first order
    itself and is discounted once, like every R_1 of the formula. n is the number of periods
    that had begun by `as_of`, so the last one is usually still in progress (its revenue so
    far); periods without an order count as R_t = 0. Customers without any purchase before
    `as_of` have no first period and are left out. Note that customers acquired long ago have
    more periods than new ones: compare like with like (same first-order year) when it matters.

Cohort retention (`cohort_retention`)
    A customer's cohort is the calendar month of their first purchase. For cohort c and month
    offset k (1, 2, ...), the rate is the percentage of the cohort's customers with at least one
    purchase in calendar month c + k (the classic cohort triangle; offset 0 would be 100% by
    definition). A cell is None when month c + k has not ended by `as_of`, so a month still in
    progress never shows as a dip.

Repeat-purchase retention (`repeat_purchase_retention`)
    The base is every customer with a purchase in [base_start, start), by default the period of
    the same length just before: base_start = start - (end - start). Retained are those of the
    base with a purchase in [start, end). Retention = retained / base x 100 with a Wilson
    interval (`core.retention_rate`); churn = 100 - retention, with the interval flipped.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from scipy.stats import t as student_t
from sqlalchemy import Float, Integer, case, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from bot.metrics.core import CONFIDENCE, MetricResult, clv, retention_rate
from bot.storage.models import Order

EXCLUDED_STATUSES: tuple[str, ...] = ("cancelled",)
DAY_SECONDS = 86_400


@dataclass(frozen=True)
class CustomerValue:
    """One customer's revenue per period since their first purchase, and its discounted sum."""

    customer_id: int
    first_order_at: datetime
    orders: int
    revenues: tuple[float, ...]  # R_1 .. R_n; R_1 is the period of the first order
    clv: float

    @property
    def total_revenue(self) -> float:
        return sum(self.revenues)


@dataclass(frozen=True)
class CohortTable:
    """The cohort triangle: `rates[i][k - 1]` is cohort i's retention in month offset k.

    `cohorts` are first-purchase months ("2026-01"), oldest first; `offsets` are 1 .. months-1;
    `retained` holds the customer counts behind `rates` (percentages). None: the month had not
    ended by `as_of`, or the cohort has no customer.
    """

    as_of: datetime
    cohorts: list[str]
    sizes: list[int]
    offsets: list[int]
    retained: list[list[int | None]]
    rates: list[list[float | None]]


# --- SQL building blocks --------------------------------------------------------------------


def _counted(as_of: datetime | None, excluded: Sequence[str]) -> list[ColumnElement[Any]]:
    """The conditions of a purchase: placed before `as_of`, status not excluded."""
    conditions: list[ColumnElement[Any]] = []
    if as_of is not None:
        conditions.append(Order.placed_at < as_of)
    if excluded:
        conditions.append(Order.status.notin_(list(excluded)))
    return conditions


def _dialect(session: Session) -> str:
    bind = session.get_bind()
    return str(bind.dialect.name)


def _period_index(
    later: Any, earlier: Any, period_seconds: int, dialect: str
) -> ColumnElement[Any]:
    """floor((later - earlier) / period), 0-based, in whole seconds; later >= earlier."""
    if dialect == "sqlite":
        # strftime('%s') gives whole seconds since the epoch; integer division truncates,
        # which is floor for the non-negative differences this is used for.
        seconds = cast(func.strftime("%s", later), Integer) - cast(
            func.strftime("%s", earlier), Integer
        )
        return cast(seconds / period_seconds, Integer)
    if dialect == "postgresql":
        seconds_pg = func.extract("epoch", later - earlier)
        return cast(func.floor(seconds_pg / period_seconds), Integer)
    raise NotImplementedError(
        f"customer-value queries support sqlite and postgresql, not {dialect}"
    )


def _month_start(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, 1)


def _add_months(month: datetime, k: int) -> datetime:
    index = month.year * 12 + month.month - 1 + k
    return datetime(index // 12, index % 12 + 1, 1)


def _month_index(column: Any, bounds: Sequence[datetime]) -> ColumnElement[Any]:
    """Which of the months [bounds[k], bounds[k + 1]) holds `column`: 0, 1, ...; else NULL.

    The month boundaries are parameters computed here, so this is the same SQL everywhere.
    """
    whens = [(column < bounds[k + 1], k) for k in range(len(bounds) - 1)]
    return case(*whens, else_=None)


# --- Historical CLV ---------------------------------------------------------------------------


def historical_clv(
    session: Session,
    as_of: datetime,
    discount_rate: float = 0.10,
    period_days: int = 365,
    customer_id: int | None = None,
    excluded_statuses: Sequence[str] = EXCLUDED_STATUSES,
) -> list[CustomerValue]:
    """Each customer's historical CLV at `as_of`, ordered by customer id (see module doc).

    One GROUP BY (customer, period) query; Python only fills the empty periods with zeros and
    discounts with `core.clv`.
    """
    if period_days <= 0:
        raise ValueError("period_days must be positive")
    period_seconds = period_days * DAY_SECONDS
    counted = _counted(as_of, excluded_statuses)
    first_query = (
        select(Order.customer_id.label("customer_id"), func.min(Order.placed_at).label("first_at"))
        .where(*counted)
        .group_by(Order.customer_id)
    )
    if customer_id is not None:
        first_query = first_query.where(Order.customer_id == customer_id)
    first = first_query.subquery("first_orders")
    per_order = (
        select(
            Order.customer_id.label("customer_id"),
            first.c.first_at.label("first_at"),
            _period_index(
                Order.placed_at, first.c.first_at, period_seconds, _dialect(session)
            ).label("period"),
            Order.total.label("total"),
        )
        .join(first, first.c.customer_id == Order.customer_id)
        .where(*counted)
        .subquery("per_order")
    )
    rows = session.execute(
        select(
            per_order.c.customer_id,
            per_order.c.first_at,
            per_order.c.period,
            func.count().label("orders"),
            cast(func.sum(per_order.c.total), Float).label("revenue"),
        )
        .group_by(per_order.c.customer_id, per_order.c.first_at, per_order.c.period)
        .order_by(per_order.c.customer_id, per_order.c.period)
    ).all()

    by_customer: dict[int, tuple[datetime, dict[int, float], list[int]]] = {}
    for row in rows:
        first_at, revenue_of, orders = by_customer.setdefault(
            row.customer_id, (row.first_at, {}, [0])
        )
        revenue_of[int(row.period)] = float(row.revenue or 0.0)
        orders[0] += int(row.orders)

    values = []
    for cid, (first_at, revenue_of, orders) in sorted(by_customer.items()):
        elapsed = (as_of - first_at).total_seconds()
        n_periods = max(int(elapsed // period_seconds) + 1, max(revenue_of) + 1)
        revenues = tuple(revenue_of.get(p, 0.0) for p in range(n_periods))
        values.append(
            CustomerValue(cid, first_at, orders[0], revenues, clv(revenues, discount_rate))
        )
    return values


def mean_with_ci(
    values: Iterable[float], name: str = "mean", confidence: float = CONFIDENCE
) -> MetricResult:
    """The mean of `values` with a Student-t interval (none for fewer than two values)."""
    data = [float(v) for v in values]
    n = len(data)
    if n == 0:
        return MetricResult(name, None, 0, None, None, {"n": 0})
    mean = math.fsum(data) / n
    if n == 1:
        return MetricResult(name, mean, 1, None, None, {"n": 1})
    variance = math.fsum((v - mean) ** 2 for v in data) / (n - 1)
    se = math.sqrt(variance / n)
    margin = float(student_t.ppf(0.5 + confidence / 2, n - 1)) * se
    return MetricResult(name, mean, n, mean - margin, mean + margin, {"n": n}, standard_error=se)


def average_historical_clv(
    session: Session,
    as_of: datetime,
    discount_rate: float = 0.10,
    period_days: int = 365,
    excluded_statuses: Sequence[str] = EXCLUDED_STATUSES,
    confidence: float = CONFIDENCE,
) -> MetricResult:
    """Mean historical CLV over customers with a purchase before `as_of`, with a t-interval."""
    values = historical_clv(
        session, as_of, discount_rate, period_days, excluded_statuses=excluded_statuses
    )
    return mean_with_ci((v.clv for v in values), "historical_clv", confidence)


# --- Cohorts ----------------------------------------------------------------------------------


def cohort_retention(
    session: Session,
    as_of: datetime,
    months: int = 12,
    excluded_statuses: Sequence[str] = EXCLUDED_STATUSES,
) -> CohortTable:
    """The last `months` first-purchase cohorts and their retention in months 1 .. months-1.

    The newest cohort is the month in which `as_of` falls (or the one before, when `as_of` is
    midnight on the first of a month). Two GROUP BY queries: cohort sizes, and distinct active
    customers per (cohort, month).
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    last = _month_start(as_of - timedelta(microseconds=1))
    first_month = _add_months(last, -(months - 1))
    bounds = [_add_months(first_month, k) for k in range(months + 1)]
    counted = _counted(as_of, excluded_statuses)

    first = (
        select(Order.customer_id.label("customer_id"), func.min(Order.placed_at).label("first_at"))
        .where(*counted)
        .group_by(Order.customer_id)
        .subquery("first_orders")
    )
    cohort_of = (
        select(
            first.c.customer_id.label("customer_id"),
            _month_index(first.c.first_at, bounds).label("cohort"),
        )
        .where(first.c.first_at >= bounds[0])
        .subquery("cohort_of")
    )
    sizes = [0] * months
    for cohort, size in session.execute(
        select(cohort_of.c.cohort, func.count()).group_by(cohort_of.c.cohort)
    ):
        sizes[int(cohort)] = int(size)

    active = (
        select(
            cohort_of.c.customer_id.label("customer_id"),
            cohort_of.c.cohort.label("cohort"),
            _month_index(Order.placed_at, bounds).label("month"),
        )
        .join(cohort_of, cohort_of.c.customer_id == Order.customer_id)
        .where(*counted, Order.placed_at >= bounds[0])
        .subquery("active")
    )
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for cohort, month, customers in session.execute(
        select(
            active.c.cohort, active.c.month, func.count(func.distinct(active.c.customer_id))
        ).group_by(active.c.cohort, active.c.month)
    ):
        counts[int(cohort), int(month)] = int(customers)

    offsets = list(range(1, months))
    retained: list[list[int | None]] = []
    rates: list[list[float | None]] = []
    for i in range(months):
        retained_row: list[int | None] = []
        rate_row: list[float | None] = []
        for k in offsets:
            month = i + k
            if month >= months or bounds[month + 1] > as_of:
                retained_row.append(None)
                rate_row.append(None)
                continue
            hits = counts.get((i, month), 0)
            retained_row.append(hits)
            rate_row.append(100 * hits / sizes[i] if sizes[i] else None)
        retained.append(retained_row)
        rates.append(rate_row)
    return CohortTable(
        as_of=as_of,
        cohorts=[f"{b.year:04d}-{b.month:02d}" for b in bounds[:-1]],
        sizes=sizes,
        offsets=offsets,
        retained=retained,
        rates=rates,
    )


# --- Repeat-purchase retention and churn ------------------------------------------------------


def repeat_purchase_retention(
    session: Session,
    start: datetime,
    end: datetime,
    base_start: datetime | None = None,
    excluded_statuses: Sequence[str] = EXCLUDED_STATUSES,
    confidence: float = CONFIDENCE,
) -> MetricResult:
    """Of the customers who bought in [base_start, start), the % who bought again in [start, end).

    `base_start` defaults to start - (end - start): the previous period of equal length. Pass
    `datetime.min` to take everyone who ever bought before `start` as the base.
    """
    if end <= start:
        raise ValueError("end must be after start")
    if base_start is None:
        base_start = start - (end - start)
    if base_start >= start:
        raise ValueError("base_start must be before start")
    not_excluded = _counted(None, excluded_statuses)
    base = (
        select(Order.customer_id.label("customer_id"))
        .where(*not_excluded, Order.placed_at >= base_start, Order.placed_at < start)
        .distinct()
        .subquery("base")
    )
    current = (
        select(Order.customer_id.label("customer_id"))
        .where(*not_excluded, Order.placed_at >= start, Order.placed_at < end)
        .distinct()
        .subquery("current")
    )
    total, repeat = session.execute(
        select(func.count(base.c.customer_id), func.count(current.c.customer_id)).select_from(
            base.outerjoin(current, current.c.customer_id == base.c.customer_id)
        )
    ).one()
    return retention_rate(int(repeat), int(total), confidence)


def churn(retention: MetricResult) -> MetricResult:
    """Churn = 100 - retention: same n, the interval flipped (100 - high, 100 - low)."""
    if retention.value is None:
        return MetricResult("churn", None, retention.n, None, None, {"churned": 0, "retained": 0})
    retained = round(retention.value * retention.n / 100)
    return MetricResult(
        "churn",
        100 - retention.value,
        retention.n,
        None if retention.ci_high is None else 100 - retention.ci_high,
        None if retention.ci_low is None else 100 - retention.ci_low,
        {"churned": retention.n - retained, "retained": retained},
        standard_error=retention.standard_error,
    )


def repeat_purchase_churn(
    session: Session,
    start: datetime,
    end: datetime,
    base_start: datetime | None = None,
    excluded_statuses: Sequence[str] = EXCLUDED_STATUSES,
    confidence: float = CONFIDENCE,
) -> MetricResult:
    """The base customers (see `repeat_purchase_retention`) who did not buy in [start, end), %."""
    return churn(
        repeat_purchase_retention(session, start, end, base_start, excluded_statuses, confidence)
    )
