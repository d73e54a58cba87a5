"""Predicted CLV: BG/NBD + Gamma-Gamma on CDNOW's holdout and on the demo shop."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from bot.demo.seed import seed_demo
from bot.metrics.clv_model import (
    PREDICTION_COLUMNS,
    CdnowEvaluation,
    ClvModel,
    evaluate_cdnow,
    expected_purchase_value,
    expected_purchases,
    fit_clv_model,
    load_cdnow,
    predict_clv,
    predict_shop_clv,
    rfm_summary,
    shop_transactions,
)
from bot.metrics.core import clv
from bot.settings import Settings
from bot.storage.models import Order
from bot.storage.session import session_scope

AS_OF = datetime(2026, 11, 1)  # the demo's "now" (conftest: demo_today 2026-11-01)


@pytest.fixture(scope="module")
def cdnow() -> CdnowEvaluation:
    return evaluate_cdnow()


@pytest.fixture(scope="module")
def cdnow_model() -> tuple[ClvModel, pd.DataFrame]:
    data = load_cdnow()
    calibration = data[data["date"] <= datetime(1997, 9, 30)]
    summary = rfm_summary(calibration, datetime(1997, 9, 30))
    return fit_clv_model(summary), summary


def test_rfm_summary_by_hand() -> None:
    day = pd.Timestamp("2026-01-01")
    transactions = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2],
            "date": [day, day + pd.Timedelta(hours=5), day + pd.Timedelta(days=10),
                     day + pd.Timedelta(days=30), day + pd.Timedelta(days=35)],
            "amount": [10.0, 5.0, 20.0, 40.0, 99.0],
        }
    )  # fmt: skip
    summary = rfm_summary(transactions, datetime(2026, 2, 10))  # day 40
    # Customer 1: purchase days 0 (two orders), 10, 30: two repeats worth 20 and 40.
    assert summary.loc[1].to_dict() == {
        "frequency": 2.0,
        "recency": 30.0,
        "T": 40.0,
        "monetary_value": 30.0,
    }
    assert summary.loc[2].to_dict() == {
        "frequency": 0.0,
        "recency": 0.0,
        "T": 5.0,
        "monetary_value": 0.0,
    }
    assert rfm_summary(transactions.iloc[:0], datetime(2026, 2, 10)).empty


def test_cdnow_holdout_model_beats_the_naive_forecast(cdnow: CdnowEvaluation) -> None:
    assert cdnow.customers == 23_570
    assert (cdnow.calibration_days, cdnow.holdout_days) == (273, 273)
    assert cdnow.actual_purchases == 19_684  # purchase days, 1997-10-01 .. 1998-06-30
    assert cdnow.actual_revenue == pytest.approx(776_961.13)
    model, naive = cdnow.model, cdnow.naive
    # Per customer, the model's purchase counts are clearly closer than the naive rate's.
    assert model.mae_purchases < 0.9 * naive.mae_purchases
    assert model.mae_revenue < naive.mae_revenue
    # RMSE: better than every baseline, including "nobody comes back".
    for baseline in cdnow.baselines:
        assert model.rmse_purchases < baseline.rmse_purchases, baseline.name
        assert model.rmse_revenue < baseline.rmse_revenue, baseline.name
    assert model.mae_purchases < min(b.mae_purchases for b in cdnow.baselines)
    # In total the naive rate overshoots (it ignores drop-out); the model is nearer.
    assert abs(model.total_purchases - cdnow.actual_purchases) < abs(
        naive.total_purchases - cdnow.actual_purchases
    )
    assert naive.total_purchases > cdnow.actual_purchases
    assert [b.name for b in cdnow.baselines] == ["naive", "naive_all", "zero"]
    # Fitted in days; CDNOW's well-known shape: few, slow buyers who drop out.
    assert 0.2 < cdnow.params["r"] < 0.3 and 0.5 < cdnow.params["a"] < 1.0
    assert abs(cdnow.frequency_value_correlation) < 0.2
    assert cdnow.fit_seconds < 15


def test_predicted_clv_is_the_discounted_sum_of_steps(
    cdnow_model: tuple[ClvModel, pd.DataFrame],
) -> None:
    model, summary = cdnow_model
    sample = summary.iloc[:200]
    predictions = predict_clv(model, sample, horizon_days=360, discount_rate=0.10, step_days=90)
    assert list(predictions.columns) == list(PREDICTION_COLUMNS)
    value = expected_purchase_value(model, sample)
    cumulative = [expected_purchases(model, sample, d) for d in (0, 90, 180, 270, 360)]
    step_rate = 1.1 ** (90 / 365) - 1
    for customer in sample.index[:20]:
        revenues = [
            (cumulative[i + 1][customer] - cumulative[i][customer]) * value[customer]
            for i in range(4)
        ]
        assert predictions.loc[customer, "clv"] == pytest.approx(clv(revenues, step_rate))
        assert predictions.loc[customer, "expected_revenue"] == pytest.approx(sum(revenues))
    undiscounted = predict_clv(model, sample, horizon_days=365, discount_rate=0.0)
    assert np.allclose(undiscounted["clv"], undiscounted["expected_revenue"])
    assert (predictions["clv"] < predictions["expected_revenue"]).all()
    assert predictions["probability_alive"].between(0, 1).all()


def test_predict_shop_clv_on_the_demo_shop(
    settings: Settings, session_factory: sessionmaker
) -> None:
    seed_demo(session_factory, settings)
    with session_scope(session_factory) as session:
        predictions = predict_shop_clv(session, AS_OF, horizon_days=365)
        buyers = session.execute(
            select(func.count(func.distinct(Order.customer_id))).where(
                Order.status != "cancelled", Order.placed_at < AS_OF
            )
        ).scalar_one()
        last_year = shop_transactions(session, AS_OF)
    assert len(predictions) == buyers > 900
    assert list(predictions.columns) == list(PREDICTION_COLUMNS)
    assert np.isfinite(predictions.to_numpy()).all()
    assert (predictions["clv"] >= 0).all() and predictions["probability_alive"].between(0, 1).all()
    # Next year's purchases are of the order of last year's purchase days.
    recent = last_year[last_year["date"] >= pd.Timestamp("2025-11-01")]
    purchase_days = recent.groupby("customer_id")["date"].apply(
        lambda d: d.dt.normalize().nunique()
    )
    ratio = predictions["expected_purchases"].sum() / purchase_days.sum()
    assert 0.6 < ratio < 1.4
    # Frequent recent buyers are worth more than one-time buyers.
    one_timers = predictions[predictions["frequency"] == 0]["clv"].mean()
    regulars = predictions[predictions["frequency"] >= 10]["clv"].mean()
    assert regulars > 3 * one_timers
