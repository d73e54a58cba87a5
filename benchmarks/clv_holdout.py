"""Predicted CLV on real data: BG/NBD + Gamma-Gamma against naive forecasts on CDNOW's holdout.

What it measures
    `bot.metrics.clv_model.evaluate_cdnow()`: the CDNOW transactions shipped inside lifetimes
    (23,570 customers of the Q1 1997 cohort, 69,659 transactions to 30 June 1998). The models
    are fitted on the calibration period 1997-01-01..1997-09-30 (273 days) and predict each
    customer's purchases (purchase days) and revenue in the holdout 1997-10-01..1998-06-30
    (273 days). Per customer, MAE and RMSE of both against what happened, and the totals:

        model      BG/NBD expected purchases x Gamma-Gamma expected value per purchase
        naive      the customer's calibration repeat rate kept up: frequency / T x 273 days
        naive_all  the calibration period repeated (first purchase included), x 273/273
        zero       nobody buys again (under MAE the best constant: most never come back)

    "fit s" is the time of fitting both models on the 23,570 calibration summaries.

    Then the demo shop: a freshly seeded temporary SQLite database (1,000 customers, 10,000
    orders over two years to 2026-11-01), or the database of `DATABASE_URL` when that is set,
    with as-of the demo's "now" (or the newest order's next midnight for another database):
    the number of customers fitted, the mean predicted CLV over the next 365 days (discounted
    at 10% a year) with its 95% t-interval, and the top five customers ("buy days": the days
    with an order so far, i.e. frequency + 1).

Usage
    .venv/bin/python benchmarks/clv_holdout.py

Takes a few seconds; the shop part seeds its database in about two.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from bot.demo.seed import seed_demo
from bot.metrics.clv_model import CdnowEvaluation, evaluate_cdnow, predict_shop_clv
from bot.metrics.customer_value import mean_with_ci
from bot.settings import Settings
from bot.storage.migrate import upgrade
from bot.storage.models import Order
from bot.storage.session import create_db_engine, make_session_factory, session_scope

DEMO_TODAY = "2026-11-01"
HORIZON_DAYS = 365
DISCOUNT_RATE = 0.10


def cdnow_table(result: CdnowEvaluation) -> str:
    header = (
        f"{'forecast':<10} {'MAE purch':>10} {'RMSE purch':>10} {'MAE $':>8} {'RMSE $':>8} "
        f"{'total purch':>12} {'total $':>11}"
    )
    lines = [header, "-" * len(header)]
    for f in (result.model, *result.baselines):
        lines.append(
            f"{f.name:<10} {f.mae_purchases:>10.3f} {f.rmse_purchases:>10.3f} "
            f"{f.mae_revenue:>8.2f} {f.rmse_revenue:>8.2f} {f.total_purchases:>12,.0f} "
            f"{f.total_revenue:>11,.0f}"
        )
    lines.append(
        f"{'actual':<10} {'':>10} {'':>10} {'':>8} {'':>8} {result.actual_purchases:>12,.0f} "
        f"{result.actual_revenue:>11,.0f}"
    )
    return "\n".join(lines)


def print_cdnow() -> None:
    started = time.perf_counter()
    result = evaluate_cdnow()
    total_seconds = time.perf_counter() - started
    print(
        f"CDNOW: {result.customers:,} customers ({result.repeat_customers:,} with a repeat "
        f"purchase in calibration), calibration {result.calibration_days} days, "
        f"holdout {result.holdout_days} days"
    )
    print(cdnow_table(result))
    gain = 1 - result.model.mae_purchases / result.naive.mae_purchases
    print(f"model vs naive: MAE of holdout purchases {100 * gain:.1f}% lower")
    params = ", ".join(f"{k} {v:.3f}" for k, v in result.params.items())
    print(f"parameters (days): {params}")
    print(
        f"frequency-value correlation of repeat buyers: {result.frequency_value_correlation:.3f}"
        " (Gamma-Gamma assumes ~0)"
    )
    print(f"fit s: {result.fit_seconds:.2f} (load + fit + score: {total_seconds:.2f})")


@contextmanager
def shop_database() -> Iterator[tuple[sessionmaker, datetime, str]]:
    """A session factory, the as-of moment and a description of the database.

    With `DATABASE_URL`: that database, as of midnight at the start of `SUPPORTBOT_DEMO_TODAY`
    if set, else of the day after the newest order. Otherwise a demo shop seeded into a
    temporary SQLite database (removed afterwards), as of the demo's "now".
    """
    if os.environ.get("DATABASE_URL"):
        settings = Settings.from_env()
        engine = create_db_engine(settings.database_url)
        try:
            factory = make_session_factory(engine)
            if settings.demo_today:
                as_of = datetime.fromisoformat(settings.demo_today)
            else:
                with session_scope(factory) as session:
                    newest = session.execute(select(func.max(Order.placed_at))).scalar_one()
                if newest is None:
                    sys.exit("The database of DATABASE_URL has no orders.")
                as_of = datetime.combine(newest.date() + timedelta(days=1), clock.min)
            yield factory, as_of, f"DATABASE_URL ({engine.url.get_backend_name()})"
        finally:
            engine.dispose()
        return

    with tempfile.TemporaryDirectory(prefix="clv-bench-") as folder:
        settings = Settings(var_dir=Path(folder), demo_today=DEMO_TODAY)
        upgrade(settings.database_url)
        engine = create_db_engine(settings.database_url)
        try:
            factory = make_session_factory(engine)
            started = time.perf_counter()
            seed_demo(factory, settings)
            print(f"(seeded a temporary demo shop in {time.perf_counter() - started:.1f} s)")
            yield factory, datetime.fromisoformat(DEMO_TODAY), "fresh demo shop (SQLite)"
        finally:
            engine.dispose()


def print_shop() -> None:
    with shop_database() as (factory, as_of, where):
        started = time.perf_counter()
        with session_scope(factory) as session:
            predictions = predict_shop_clv(session, as_of, HORIZON_DAYS, DISCOUNT_RATE)
        seconds = time.perf_counter() - started
    mean = mean_with_ci(predictions["clv"], "predicted_clv")
    print(f"\nShop: {where}, as of {as_of:%Y-%m-%d}, horizon {HORIZON_DAYS} days, r = 10%/year")
    print(f"customers: {len(predictions):,}; query + fit + predict: {seconds:.2f} s")
    print(f"mean predicted 1-year CLV: {mean.describe(2)}")
    print(
        f"expected purchases next year: {predictions['expected_purchases'].sum():,.0f} "
        f"(revenue {predictions['expected_revenue'].sum():,.2f} undiscounted)"
    )
    top = predictions.sort_values("clv", ascending=False).head(5)
    print(
        f"{'customer':>8} {'buy days':>8} {'P(alive)':>8} {'exp. purch':>10} {'per purch':>9} {'CLV':>9}"
    )
    for customer_id, row in top.iterrows():
        print(
            f"{customer_id:>8} {int(row['frequency']) + 1:>8} {row['probability_alive']:>8.2f} "
            f"{row['expected_purchases']:>10.2f} {row['expected_purchase_value']:>9.2f} "
            f"{row['clv']:>9.2f}"
        )


def main() -> None:
    print_cdnow()
    print_shop()


if __name__ == "__main__":
    main()
