"""Historical CLV, cohort retention and repeat-purchase retention on a hand-built shop.

Every expected value below is worked out by hand from the orders written in the test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import sessionmaker

from bot.metrics.core import clv
from bot.metrics.customer_value import (
    average_historical_clv,
    churn,
    cohort_retention,
    historical_clv,
    mean_with_ci,
    repeat_purchase_churn,
    repeat_purchase_retention,
)
from bot.storage.models import Customer, Order
from bot.storage.session import session_scope

AS_OF = datetime(2026, 11, 1)
T_975_3 = 3.182446305284263  # Student t, 97.5% quantile, 3 degrees of freedom

# (placed_at, total, status) per customer id.
Orders = dict[int, Sequence[tuple[datetime, float, str]]]

CLV_SHOP: Orders = {
    # The brief's worked example: R = 1000, 800, 600 in the customer's years 1, 2 and 3.
    # Year 1 starts 2024-01-10 10:00; 2024 is a leap year, so 365-day periods start on
    # 2025-01-09 10:00 and 2026-01-09 10:00, and period 4 (2027-01-09) has not begun by AS_OF.
    1: [
        (datetime(2024, 1, 10, 10), 600.0, "delivered"),
        (datetime(2024, 6, 15, 9), 400.0, "delivered"),
        (datetime(2025, 3, 1, 12), 800.0, "delivered"),
        (datetime(2025, 5, 5, 8), 999.0, "cancelled"),  # not revenue
        (datetime(2026, 2, 1, 14), 350.0, "delivered"),
        (datetime(2026, 9, 30, 18), 250.0, "shipped"),
    ],
    # Two orders in the first (and only) period; one after AS_OF that does not count yet.
    2: [
        (datetime(2026, 3, 15, 11), 200.0, "delivered"),
        (datetime(2026, 4, 10, 11), 100.0, "delivered"),
        (datetime(2026, 11, 5, 11), 70.0, "pending"),
    ],
    # One returned order in 2025: period 2 began on 2026-02-20 and is empty (R_2 = 0).
    3: [(datetime(2025, 2, 20, 16), 150.0, "returned")],
    # Only cancelled orders: never a customer.
    4: [(datetime(2025, 8, 1, 9), 80.0, "cancelled")],
    # 5 has no order at all.
    5: [],
    # Exactly 365 days apart: the second order opens period 2.
    6: [
        (datetime(2025, 6, 1), 100.0, "delivered"),
        (datetime(2026, 6, 1), 50.0, "delivered"),
    ],
}

CLV_1 = 1000 / 1.1 + 800 / 1.21 + 600 / 1.331
CLV_2 = 300 / 1.1
CLV_3 = 150 / 1.1
CLV_6 = 100 / 1.1 + 50 / 1.21

COHORT_SHOP: Orders = {
    # July 2026 cohort: customers 10 and 11.
    10: [
        (datetime(2026, 7, 3, 10), 30.0, "delivered"),
        (datetime(2026, 8, 20, 10), 30.0, "delivered"),
        (datetime(2026, 10, 10, 10), 30.0, "delivered"),
    ],
    11: [
        (datetime(2026, 7, 25, 10), 30.0, "delivered"),
        (datetime(2026, 7, 28, 10), 30.0, "delivered"),  # same month: offset 0
        (datetime(2026, 8, 10, 10), 30.0, "cancelled"),  # does not count as coming back
        (datetime(2026, 9, 2, 10), 30.0, "delivered"),
    ],
    # August cohort: back an hour into September.
    12: [
        (datetime(2026, 8, 31, 23), 30.0, "delivered"),
        (datetime(2026, 9, 1, 1), 30.0, "delivered"),
    ],
    # September cohort: the cancelled August order does not make it an August customer.
    13: [
        (datetime(2026, 8, 15, 10), 30.0, "cancelled"),
        (datetime(2026, 9, 10, 10), 30.0, "delivered"),
        (datetime(2026, 10, 31, 23, 59), 30.0, "delivered"),
    ],
    # October cohort.
    14: [(datetime(2026, 10, 5, 10), 30.0, "delivered")],
    # An older customer (May cohort), active in August: in no cohort of a 4-month table.
    15: [
        (datetime(2026, 5, 10, 10), 30.0, "delivered"),
        (datetime(2026, 8, 5, 10), 30.0, "delivered"),
    ],
}


def _write(factory: sessionmaker, shop: Orders) -> None:
    with session_scope(factory) as session:
        session.execute(
            insert(Customer.__table__),
            [
                {
                    "id": cid,
                    "email": f"c{cid}@example.com",
                    "name": f"Customer {cid}",
                    "city": "",
                    "created_at": datetime(2023, 1, 1),
                }
                for cid in shop
            ],
        )
        rows = [
            {
                "number": f"T{cid:03d}{i:03d}",
                "customer_id": cid,
                "status": status,
                "placed_at": placed_at,
                "shipping_address": "1 High Street",
                "payment_method": "card",
                "total": total,
            }
            for cid, orders in shop.items()
            for i, (placed_at, total, status) in enumerate(orders)
        ]
        session.execute(insert(Order.__table__), rows)


@pytest.fixture
def clv_shop(session_factory: sessionmaker) -> sessionmaker:
    _write(session_factory, CLV_SHOP)
    return session_factory


@pytest.fixture
def cohort_shop(session_factory: sessionmaker) -> sessionmaker:
    _write(session_factory, COHORT_SHOP)
    return session_factory


def test_the_worked_example_by_hand() -> None:
    # 1000 / 1.1 = 909.0909, 800 / 1.21 = 661.1570, 600 / 1.331 = 450.7889: 2021.0368.
    assert clv([1000, 800, 600], 0.10) == pytest.approx(2021.0368, abs=1e-4)
    assert pytest.approx(909.0909 + 661.1570 + 450.7889, abs=1e-3) == CLV_1


def test_historical_clv_per_customer(clv_shop: sessionmaker) -> None:
    with session_scope(clv_shop) as session:
        values = historical_clv(session, AS_OF, discount_rate=0.10)
    by_id = {v.customer_id: v for v in values}
    assert sorted(by_id) == [1, 2, 3, 6]  # 4 only cancelled, 5 never ordered

    assert by_id[1].revenues == pytest.approx((1000.0, 800.0, 600.0))
    assert by_id[1].clv == pytest.approx(2021.0368, abs=1e-4)
    assert by_id[1].orders == 5
    assert by_id[1].first_order_at == datetime(2024, 1, 10, 10)
    assert by_id[1].total_revenue == pytest.approx(2400.0)

    assert by_id[2].revenues == pytest.approx((300.0,))
    assert by_id[2].clv == pytest.approx(CLV_2)  # 272.73
    assert by_id[2].orders == 2

    assert by_id[3].revenues == pytest.approx((150.0, 0.0))
    assert by_id[3].clv == pytest.approx(CLV_3)  # 136.36

    assert by_id[6].revenues == pytest.approx((100.0, 50.0))
    assert by_id[6].clv == pytest.approx(CLV_6)  # 132.23


def test_historical_clv_options(clv_shop: sessionmaker) -> None:
    with session_scope(clv_shop) as session:
        (one,) = historical_clv(session, AS_OF, customer_id=1)
        undiscounted = historical_clv(session, AS_OF, discount_rate=0.0)
        net = historical_clv(session, AS_OF, excluded_statuses=("cancelled", "returned"))
        earlier = historical_clv(session, datetime(2025, 1, 1), customer_id=1)
        half_years = historical_clv(session, AS_OF, period_days=182, customer_id=6)
    assert one.clv == pytest.approx(CLV_1)
    assert {v.customer_id: v.clv for v in undiscounted} == pytest.approx(
        {1: 2400.0, 2: 300.0, 3: 150.0, 6: 150.0}
    )
    assert [v.customer_id for v in net] == [1, 2, 6]
    # As of 2025-01-01 customer 1 had only the two first orders, in period 1.
    assert earlier[0].revenues == pytest.approx((1000.0,))
    # 182-day periods from 2025-06-01 start on 2025-11-30, 2026-05-31 and 2026-11-29 (after
    # AS_OF): the order of 2026-06-01 is in period 3, and period 2 is empty.
    assert half_years[0].revenues == pytest.approx((100.0, 0.0, 50.0))


def test_average_historical_clv_has_a_t_interval(clv_shop: sessionmaker) -> None:
    values = [CLV_1, CLV_2, CLV_3, CLV_6]
    mean = sum(values) / 4
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / 3)
    with session_scope(clv_shop) as session:
        result = average_historical_clv(session, AS_OF)
    assert result.name == "historical_clv"
    assert result.n == 4
    assert result.value == pytest.approx(640.5898, abs=1e-3)
    assert result.standard_error == pytest.approx(sd / 2)
    assert result.ci_low == pytest.approx(mean - T_975_3 * sd / 2)
    assert result.ci_high == pytest.approx(mean + T_975_3 * sd / 2)


def test_mean_with_ci_small_samples() -> None:
    assert mean_with_ci([]).value is None
    single = mean_with_ci([5.0])
    assert (single.value, single.n, single.ci_low, single.ci_high) == (5.0, 1, None, None)
    pair = mean_with_ci([1.0, 3.0], name="x")
    # mean 2, sd sqrt(2), se 1, t(0.975, 1) = 12.7062
    assert pair.name == "x" and pair.value == 2.0 and pair.standard_error == pytest.approx(1.0)
    assert pair.ci_low == pytest.approx(2 - 12.7062, abs=1e-4)
    assert pair.ci_high == pytest.approx(2 + 12.7062, abs=1e-4)


def test_cohort_triangle(cohort_shop: sessionmaker) -> None:
    with session_scope(cohort_shop) as session:
        table = cohort_retention(session, AS_OF, months=4)
    assert table.cohorts == ["2026-07", "2026-08", "2026-09", "2026-10"]
    assert table.sizes == [2, 1, 1, 1]
    assert table.offsets == [1, 2, 3]
    # July: 10 in August, 11 in September (its August order was cancelled), 10 in October.
    # August: 12 in September, nobody in October; November has not ended.
    # September: 13 on 31 October. October: nothing has ended yet.
    assert table.retained == [
        [1, 1, 1],
        [1, 0, None],
        [1, None, None],
        [None, None, None],
    ]
    assert table.rates == [
        [50.0, 50.0, 50.0],
        [100.0, 0.0, None],
        [100.0, None, None],
        [None, None, None],
    ]


def test_cohort_months_in_progress_are_none(cohort_shop: sessionmaker) -> None:
    as_of = datetime(2026, 10, 15)
    with session_scope(cohort_shop) as session:
        table = cohort_retention(session, as_of, months=4)
    # October is the newest cohort and still running: its cells, and October columns, are None.
    assert table.cohorts == ["2026-07", "2026-08", "2026-09", "2026-10"]
    assert table.sizes == [2, 1, 1, 1]
    assert table.rates == [
        [50.0, 50.0, None],
        [100.0, None, None],
        [None, None, None],
        [None, None, None],
    ]
    with session_scope(cohort_shop) as session:
        one = cohort_retention(session, AS_OF, months=1)
    assert (one.cohorts, one.sizes, one.offsets, one.rates) == (["2026-10"], [1], [], [[]])


def test_repeat_purchase_retention_and_churn(cohort_shop: sessionmaker) -> None:
    august, september = datetime(2026, 8, 1), datetime(2026, 9, 1)
    with session_scope(cohort_shop) as session:
        # Base: bought in July (the 31 days before August): 10 and 11. Back in August: only
        # 10 (11's August order was cancelled; 12 and 15 bought in August but not in July).
        previous = repeat_purchase_retention(session, august, september)
        # Base: everyone who bought before August: 10, 11, 15; back: 10 and 15.
        ever = repeat_purchase_retention(session, august, september, base_start=datetime.min)
        ever_churn = repeat_purchase_churn(session, august, september, base_start=datetime.min)
        nobody = repeat_purchase_retention(session, datetime(2026, 1, 1), datetime(2026, 2, 1))
    assert (previous.value, previous.n) == (50.0, 2)
    # Wilson interval of 1 in 2: 9.45% to 90.55%.
    assert previous.ci_low == pytest.approx(9.4531, abs=1e-3)
    assert previous.ci_high == pytest.approx(90.5469, abs=1e-3)

    assert ever.n == 3 and ever.value == pytest.approx(200 / 3)
    assert ever.ci_low == pytest.approx(20.7660, abs=1e-3)
    assert ever.ci_high == pytest.approx(93.8508, abs=1e-3)

    assert ever_churn.name == "churn" and ever_churn.n == 3
    assert ever_churn.value == pytest.approx(100 / 3)
    assert ever_churn.ci_low == pytest.approx(100 - 93.8508, abs=1e-3)
    assert ever_churn.ci_high == pytest.approx(100 - 20.7660, abs=1e-3)
    assert ever_churn.counts == {"churned": 1, "retained": 2}
    assert churn(ever) == ever_churn

    assert nobody.value is None and nobody.n == 0
    assert churn(nobody).value is None


def test_windows_must_make_sense(cohort_shop: sessionmaker) -> None:
    with session_scope(cohort_shop) as session:
        with pytest.raises(ValueError):
            repeat_purchase_retention(session, AS_OF, AS_OF)
        with pytest.raises(ValueError):
            repeat_purchase_retention(session, AS_OF, datetime(2026, 12, 1), base_start=AS_OF)
        with pytest.raises(ValueError):
            cohort_retention(session, AS_OF, months=0)
        with pytest.raises(ValueError):
            historical_clv(session, AS_OF, period_days=0)
