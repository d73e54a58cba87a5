"""Predicted CLV: BG/NBD for how often a customer buys, Gamma-Gamma for how much they spend.

The models are those of the `lifetimes` package (Fader, Hardie & Lee 2005; Fader, Hardie &
Lee 2005b), fitted by maximum likelihood on each customer's RFM summary:

    frequency       repeat purchases (purchase days after the first one)
    recency         days from the first to the last purchase
    T               days from the first purchase to the end of the observation
    monetary_value  mean revenue of the repeat purchase days (0 without repeats)

Time is counted in days, and a "purchase" is a day with at least one order (several orders on
one day are one purchase of their summed value), as lifetimes does with `freq="D"`.

Predicted CLV over a horizon of H days: the horizon is cut into steps of `step_days` (the last
one shorter if needed); step i's revenue is the BG/NBD expected purchases in it times the
Gamma-Gamma expected value per purchase, discounted to the observation end with the annual
`discount_rate` at the step's end: revenue_i / (1 + r)^(t_i / 365). With equal steps that is
`core.clv` with the per-step rate (1 + r)^(step_days / 365) - 1, i.e. the brief's formula.

`evaluate_cdnow()` checks the model on real data: the CDNOW transactions shipped inside
lifetimes (`lifetimes/datasets/CDNOW_master.txt`: 23,570 customers who first bought in
Q1 1997, 69,659 transactions to 30 June 1998), calibration 1997-01-01..1997-09-30 (273 days),
holdout 1997-10-01..1998-06-30 (273 days), against naive forecasts (see `evaluate_cdnow`).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import summary_data_from_transaction_data
from sqlalchemy import Float, cast, select
from sqlalchemy.orm import Session

from bot.metrics.customer_value import EXCLUDED_STATUSES
from bot.storage.models import Order

DAYS_PER_YEAR = 365.0
CDNOW_START = datetime(1997, 1, 1)
CDNOW_CALIBRATION_END = datetime(1997, 9, 30)
CDNOW_HOLDOUT_END = datetime(1998, 6, 30)

PREDICTION_COLUMNS = (
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "probability_alive",
    "expected_purchases",
    "expected_purchase_value",
    "expected_revenue",
    "clv",
)


@dataclass
class ClvModel:
    """A fitted BG/NBD (purchases) and Gamma-Gamma (value per purchase) pair."""

    purchases: Any  # lifetimes.BetaGeoFitter
    value: Any  # lifetimes.GammaGammaFitter
    customers: int  # customers the BG/NBD was fitted on
    repeat_customers: int  # those with a repeat purchase: the Gamma-Gamma's sample
    fit_seconds: float

    @property
    def params(self) -> dict[str, float]:
        """BG/NBD r, alpha (days), a, b and Gamma-Gamma p, q, v."""
        params = {str(k): float(v) for k, v in self.purchases.params_.items()}
        params.update({str(k): float(v) for k, v in self.value.params_.items()})
        return params


def rfm_summary(
    transactions: pd.DataFrame,
    observation_end: datetime,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
) -> pd.DataFrame:
    """frequency, recency, T (days) and monetary_value per customer, indexed by customer id.

    Transactions after `observation_end` are ignored; T is counted to `observation_end`.
    """
    if transactions.empty:
        return pd.DataFrame(
            columns=["frequency", "recency", "T", "monetary_value"],
            index=pd.Index([], name=customer_col),
            dtype=float,
        )
    data = transactions[[customer_col, date_col, amount_col]].copy()
    data[amount_col] = data[amount_col].astype(float)
    summary = summary_data_from_transaction_data(
        data,
        customer_col,
        date_col,
        monetary_value_col=amount_col,
        observation_period_end=pd.Timestamp(observation_end),
        freq="D",
    )
    return summary[["frequency", "recency", "T", "monetary_value"]].astype(float)


def fit_clv_model(summary: pd.DataFrame, penalizer_coef: float = 0.0) -> ClvModel:
    """Fit BG/NBD on every customer and Gamma-Gamma on those with repeat purchases.

    Raises:
        ValueError: Fewer than two customers with a repeat purchase (nothing to fit on).
    """
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    if len(repeat) < 2:
        raise ValueError("the CLV model needs at least two customers with a repeat purchase")
    started = time.perf_counter()
    purchases = _fit_purchases(summary, penalizer_coef)
    value = GammaGammaFitter(penalizer_coef=penalizer_coef)
    value.fit(repeat["frequency"], repeat["monetary_value"])
    return ClvModel(purchases, value, len(summary), len(repeat), time.perf_counter() - started)


def _fit_purchases(summary: pd.DataFrame, penalizer_coef: float) -> BetaGeoFitter:
    """BG/NBD, tolerating an optimum on the boundary of the parameter space.

    Where customers show almost no drop-out, the dropout shape `a` goes to 0 (seen on the demo
    shop: a = 6e-8); the Hessian there is singular, so lifetimes' standard errors come out as
    square roots of negative numbers (NaN) although the fitted parameters and the predictions are
    finite. Nothing here reads those standard errors, so that one warning is not passed on.
    """
    purchases = BetaGeoFitter(penalizer_coef=penalizer_coef)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "invalid value encountered in sqrt", RuntimeWarning)
        purchases.fit(summary["frequency"], summary["recency"], summary["T"])
    return purchases


def expected_purchases(model: ClvModel, summary: pd.DataFrame, days: float) -> pd.Series:
    """Expected purchases of each customer in the next `days` days (BG/NBD, conditional)."""
    if days <= 0:
        return pd.Series(0.0, index=summary.index)
    return pd.Series(
        np.asarray(
            model.purchases.conditional_expected_number_of_purchases_up_to_time(
                days, summary["frequency"], summary["recency"], summary["T"]
            ),
            dtype=float,
        ),
        index=summary.index,
    )


def expected_purchase_value(model: ClvModel, summary: pd.DataFrame) -> pd.Series:
    """Expected revenue of one future purchase (Gamma-Gamma; the mean for one-time buyers)."""
    return pd.Series(
        np.asarray(
            model.value.conditional_expected_average_profit(
                summary["frequency"], summary["monetary_value"]
            ),
            dtype=float,
        ),
        index=summary.index,
    )


def predict_clv(
    model: ClvModel,
    summary: pd.DataFrame,
    horizon_days: int = 365,
    discount_rate: float = 0.10,
    step_days: int = 30,
) -> pd.DataFrame:
    """Per-customer predictions over `horizon_days` (columns: `PREDICTION_COLUMNS`).

    `expected_revenue` is undiscounted; `clv` is discounted at the annual `discount_rate`
    (see the module doc).
    """
    if horizon_days <= 0 or step_days <= 0:
        raise ValueError("horizon_days and step_days must be positive")
    if discount_rate <= -1:
        raise ValueError("the discount rate must be greater than -100%")
    value = expected_purchase_value(model, summary)
    ends = list(range(step_days, horizon_days, step_days)) + [horizon_days]
    previous = pd.Series(0.0, index=summary.index)
    discounted = pd.Series(0.0, index=summary.index)
    for end in ends:
        cumulative = expected_purchases(model, summary, end)
        discounted += (cumulative - previous) * value / (1 + discount_rate) ** (end / DAYS_PER_YEAR)
        previous = cumulative
    result = summary[["frequency", "recency", "T", "monetary_value"]].copy()
    result["probability_alive"] = np.asarray(
        model.purchases.conditional_probability_alive(
            summary["frequency"], summary["recency"], summary["T"]
        ),
        dtype=float,
    )
    result["expected_purchases"] = previous
    result["expected_purchase_value"] = value
    result["expected_revenue"] = previous * value
    result["clv"] = discounted
    return result


def shop_transactions(
    session: Session,
    as_of: datetime,
    excluded_statuses: Sequence[str] = EXCLUDED_STATUSES,
) -> pd.DataFrame:
    """One row per counted order placed before `as_of`: customer_id, date, amount."""
    query = select(Order.customer_id, Order.placed_at, cast(Order.total, Float)).where(
        Order.placed_at < as_of
    )
    if excluded_statuses:
        query = query.where(Order.status.notin_(list(excluded_statuses)))
    rows = session.execute(query.order_by(Order.customer_id, Order.placed_at)).all()
    return pd.DataFrame(
        {
            "customer_id": [int(r[0]) for r in rows],
            "date": pd.to_datetime([r[1] for r in rows]),
            "amount": [float(r[2]) for r in rows],
        }
    )


def predict_shop_clv(
    session: Session,
    as_of: datetime,
    horizon_days: int = 365,
    discount_rate: float = 0.10,
    penalizer_coef: float = 0.0,
    excluded_statuses: Sequence[str] = EXCLUDED_STATUSES,
) -> pd.DataFrame:
    """Fit on the shop's orders before `as_of` and predict each customer's CLV from there.

    Returns a frame indexed by customer id with `PREDICTION_COLUMNS` (money in the shop's
    currency, `clv` discounted to `as_of`); customers without a counted order are not in it.
    """
    transactions = shop_transactions(session, as_of, excluded_statuses)
    summary = rfm_summary(transactions, as_of)
    model = fit_clv_model(summary, penalizer_coef)
    return predict_clv(model, summary, horizon_days, discount_rate)


# --- Evaluation on CDNOW ----------------------------------------------------------------------


@dataclass(frozen=True)
class ForecastError:
    """How one forecast of the holdout period did, per customer and in total."""

    name: str
    mae_purchases: float
    rmse_purchases: float
    mae_revenue: float
    rmse_revenue: float
    total_purchases: float
    total_revenue: float


@dataclass(frozen=True)
class CdnowEvaluation:
    """BG/NBD + Gamma-Gamma against naive forecasts on CDNOW's holdout period."""

    customers: int
    repeat_customers: int  # with a repeat purchase in calibration (the Gamma-Gamma sample)
    calibration_days: int
    holdout_days: int
    actual_purchases: float  # total purchase days in the holdout
    actual_revenue: float  # total dollars in the holdout
    model: ForecastError
    naive: ForecastError  # each customer's calibration repeat rate, kept up (the yardstick)
    baselines: tuple[ForecastError, ...]  # naive, the other naive forecasts, and zero
    params: dict[str, float]
    fit_seconds: float
    frequency_value_correlation: float  # Gamma-Gamma assumes it is near 0


def cdnow_path() -> Path:
    """The full CDNOW transaction log shipped inside the lifetimes package."""
    return Path(str(resources.files("lifetimes") / "datasets" / "CDNOW_master.txt"))


def load_cdnow() -> pd.DataFrame:
    """CDNOW's transactions: customer_id, date, amount (dollars); one row per transaction."""
    data = pd.read_csv(
        cdnow_path(),
        sep=r"\s+",
        header=0,
        names=["customer_id", "date", "cds", "amount"],
        dtype={"customer_id": int, "date": str, "cds": int, "amount": float},
    )
    data["date"] = pd.to_datetime(data["date"], format="%Y%m%d")
    return data[["customer_id", "date", "amount"]]


def _errors(
    name: str,
    purchases: pd.Series,
    revenue: pd.Series,
    actual_purchases: pd.Series,
    actual_revenue: pd.Series,
) -> ForecastError:
    e_p = (purchases - actual_purchases).to_numpy(dtype=float)
    e_r = (revenue - actual_revenue).to_numpy(dtype=float)
    return ForecastError(
        name=name,
        mae_purchases=float(np.abs(e_p).mean()),
        rmse_purchases=float(np.sqrt((e_p**2).mean())),
        mae_revenue=float(np.abs(e_r).mean()),
        rmse_revenue=float(np.sqrt((e_r**2).mean())),
        total_purchases=float(purchases.sum()),
        total_revenue=float(revenue.sum()),
    )


def evaluate_cdnow(
    calibration_end: datetime = CDNOW_CALIBRATION_END,
    holdout_end: datetime = CDNOW_HOLDOUT_END,
    penalizer_coef: float = 0.0,
    transactions: pd.DataFrame | None = None,
) -> CdnowEvaluation:
    """Fit on calibration (start .. `calibration_end`), score the holdout (.. `holdout_end`).

    Both ends are inclusive days. Per customer (all 23,570, also those who never came back)
    and per forecast: MAE and RMSE of the number of purchase days in the holdout, and of the
    holdout revenue (sum of the dollar values); and the totals.

    Forecasts:
        model       BG/NBD expected purchases in the holdout x Gamma-Gamma expected value.
        naive       each customer's calibration repeat-purchase rate, kept up: frequency / T
                    (repeat purchase days per day since the first purchase) x holdout days;
                    revenue likewise, frequency x monetary_value / T x holdout days.
        naive_all   the calibration period repeated: as many purchase days (the first one
                    included) and dollars as in calibration, x holdout days / calibration days.
        zero        nobody buys again (the best constant under MAE when most never return).
    """
    data = load_cdnow() if transactions is None else transactions
    calibration = data[data["date"] <= calibration_end]
    holdout = data[(data["date"] > calibration_end) & (data["date"] <= holdout_end)]
    start = calibration["date"].min()
    calibration_days = int((calibration_end - start).days) + 1
    holdout_days = int((holdout_end - calibration_end).days)

    summary = rfm_summary(calibration, calibration_end)
    model = fit_clv_model(summary, penalizer_coef)
    index = summary.index

    actual_purchases = (
        holdout.groupby("customer_id")["date"].nunique().reindex(index, fill_value=0).astype(float)
    )
    actual_revenue = holdout.groupby("customer_id")["amount"].sum().reindex(index, fill_value=0.0)

    predicted = expected_purchases(model, summary, holdout_days)
    forecasts = [
        _errors(
            "model",
            predicted,
            predicted * expected_purchase_value(model, summary),
            actual_purchases,
            actual_revenue,
        )
    ]
    exposure = summary["T"].clip(lower=1.0)
    naive_rate = summary["frequency"] / exposure * holdout_days
    forecasts.append(
        _errors(
            "naive",
            naive_rate,
            naive_rate * summary["monetary_value"],
            actual_purchases,
            actual_revenue,
        )
    )
    scale = holdout_days / calibration_days
    all_days = calibration.groupby("customer_id")["date"].nunique().reindex(index).astype(float)
    all_revenue = calibration.groupby("customer_id")["amount"].sum().reindex(index)
    forecasts.append(
        _errors(
            "naive_all", all_days * scale, all_revenue * scale, actual_purchases, actual_revenue
        )
    )
    zero = pd.Series(0.0, index=index)
    forecasts.append(_errors("zero", zero, zero, actual_purchases, actual_revenue))

    repeat = summary[summary["frequency"] > 0]
    correlation = float(np.corrcoef(repeat["frequency"], repeat["monetary_value"])[0, 1])
    return CdnowEvaluation(
        customers=len(summary),
        repeat_customers=model.repeat_customers,
        calibration_days=calibration_days,
        holdout_days=holdout_days,
        actual_purchases=float(actual_purchases.sum()),
        actual_revenue=float(actual_revenue.sum()),
        model=forecasts[0],
        naive=forecasts[1],
        baselines=tuple(forecasts[1:]),
        params=model.params,
        fit_seconds=model.fit_seconds,
        frequency_value_correlation=correlation,
    )
