"""CUPED in the analysis: the pre-exposure covariate read in SQL, the adjusted comparison
against an ordinary least squares fit done here with numpy, and what it gains on planted
customers whose history predicts (or does not predict) their answers."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from datetime import date, datetime, timedelta

import numpy as np
import pytest
from scipy import stats

from bot.experiments.analysis import NO_COVARIATE, analyze
from bot.experiments.cli import cmd_analyze
from bot.experiments.covariate import CupedSums, cuped_sums
from bot.experiments.declarations import Experiment, Guardrail, Variant
from bot.experiments.output import analysis_json
from bot.experiments.stats import CovariateSummary, mean_imputed
from bot.storage.models import Customer, Order, SurveyResponse
from bot.storage.repositories import ExposureRepository
from bot.storage.session import session_scope
from tests.web.cuped_data import Observation, plant_customers
from tests.web.experiments_data import CONTROL, DECLARED, NAME, VARIANT, declare, plant

NOW = datetime(2026, 11, 1, 12, 0)
EXPERIMENT = Experiment(
    name=NAME,
    focus="support",
    hypothesis="h",
    salt="s",
    variants=(Variant(CONTROL, 50), Variant(VARIANT, 50)),
    primary_metric="csat",
    guardrails=(Guardrail("containment", 5),),
    minimum_detectable_effect=5,
    start=date(2026, 10, 1),
    status="running",
)


def _arrays(observations: list[Observation]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Treatment, y and x with a missing x given the known ones' mean."""
    treated = np.array([v == VARIANT for v, _, _ in observations], dtype=float)
    y = np.array([y for _, y, _ in observations])
    x = np.array([np.nan if x is None else x for _, _, x in observations])
    return treated, y, np.where(np.isnan(x), np.nanmean(x), x)


def _ols(treated: np.ndarray, y: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """y on 1, treatment and the centred covariate: the treatment's coefficient and its
    heteroskedasticity-robust (HC2) standard error."""
    design = np.column_stack([np.ones_like(y), treated, x - x.mean()])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    residuals = y - design @ beta
    bread = np.linalg.inv(design.T @ design)
    leverage = np.einsum("ij,jk,ik->i", design, bread, design)
    meat = design.T @ (design * (residuals**2 / (1 - leverage))[:, None])
    return float(beta[1]), float(np.sqrt((bread @ meat @ bread)[1, 1]))


def test_the_covariate_is_the_earlier_score_else_the_earlier_orders(session_factory):
    """Only what happened before the customer's first exposure counts."""
    first = datetime(2026, 10, 20, 9)
    with session_scope(session_factory) as session:
        surveyed, ordered = (
            Customer(email=f"{n}@example.com", name=n, created_at=datetime(2025, 1, 1))
            for n in ("surveyed", "ordered")
        )
        session.add_all([surveyed, ordered])
        session.flush()

        def survey(chat: str, customer: int, csat: int, at: datetime) -> SurveyResponse:
            return SurveyResponse(
                conversation_id=chat, session_key="1.0", customer_id=customer, csat=csat,
                status="partial", created_at=at, updated_at=at,
            )  # fmt: skip

        exposures = ExposureRepository(session)
        for customer, variant in ((surveyed, CONTROL), (ordered, VARIANT)):
            exposures.record(
                NAME, variant, f"customer:{customer.id}", f"c{customer.id}", "1.0", first
            )
            session.add(survey(f"c{customer.id}", customer.id, 5, first + timedelta(minutes=5)))
        # Earlier answers 2 and 3 (mean 2.5); a later 1 and the orders do not count for them.
        session.add(survey("old-1", surveyed.id, 2, first - timedelta(days=30)))
        session.add(survey("old-2", surveyed.id, 3, first - timedelta(days=3)))
        session.add(survey("new-1", surveyed.id, 1, first + timedelta(days=1)))
        # Three orders before, two after; no earlier answers.
        for k, days in enumerate((-40, -10, -1, 1, 5)):
            session.add(
                Order(
                    number=f"N{k}", customer_id=ordered.id, status="delivered",
                    placed_at=first + timedelta(days=days), shipping_address="x",
                    payment_method="card", total=1,
                )
            )  # fmt: skip
        # An anonymous conversation: no covariate.
        exposures.record(NAME, VARIANT, "conversation:anon", "anon", "1.0", first)
        session.add(
            SurveyResponse(
                conversation_id="anon", session_key="1.0", csat=2, status="partial",
                created_at=first, updated_at=first,
            )
        )  # fmt: skip
    with session_scope(session_factory) as session:
        sums = cuped_sums(session, NAME, "csat")
        assert sums is not None
        assert sums.present == {
            CONTROL: CovariateSummary(1, 1.0, 1.0, 2.5, 6.25, 2.5),
            VARIANT: CovariateSummary(1, 1.0, 1.0, 3.0, 9.0, 3.0),
        }
        assert sums.missing == {VARIANT: CovariateSummary(1, 0.0, 0.0, 0.0, 0.0, 0.0)}
        # These sessions have no conversation summary: no containment to adjust.
        assert cuped_sums(session, NAME, "containment") == CupedSums()
        assert cuped_sums(session, NAME, "recommendation_acceptance") is None


def test_mean_imputation_fills_the_known_units_mean():
    rng = np.random.default_rng(5)
    y = {v: rng.normal(size=50) for v in "ab"}
    x = {v: np.where(rng.random(50) < 0.3, np.nan, rng.normal(size=50)) for v in "ab"}
    fill = np.nanmean(np.concatenate(list(x.values())))

    def summary(ys: np.ndarray, xs: np.ndarray) -> CovariateSummary:
        return CovariateSummary(
            len(ys), ys.sum(), (ys**2).sum(), xs.sum(), (xs**2).sum(), float((xs * ys).sum())
        )

    present = {v: summary(y[v][~np.isnan(x[v])], x[v][~np.isnan(x[v])]) for v in "ab"}
    missing = {v: summary(y[v][np.isnan(x[v])], np.zeros(np.isnan(x[v]).sum())) for v in "ab"}
    filled = mean_imputed(present, missing)
    for v in "ab":
        expected = summary(y[v], np.where(np.isnan(x[v]), fill, x[v]))
        got = filled[v]
        assert got.n == expected.n
        assert (got.metric_sum, got.covariate_sum, got.covariate_sum_squares) == pytest.approx(
            (expected.metric_sum, expected.covariate_sum, expected.covariate_sum_squares)
        )
        assert got.sum_of_products == pytest.approx(expected.sum_of_products)


def test_the_adjusted_difference_is_the_least_squares_fit(session_factory):
    observations = plant_customers(session_factory, 400, seed=1, anonymous=120)
    cuped = analyze(EXPERIMENT, session_factory, NOW).cuped
    assert cuped is not None and cuped.note is None
    treated, y, x = _arrays(observations)
    assert sum(cuped.sessions.values()) == len(y)
    assert sum(cuped.with_covariate.values()) == len(y) - 240
    result = cuped.comparisons[VARIANT]
    # The plain difference is exactly the planted one.
    assert result.unadjusted.difference == pytest.approx(
        y[treated == 1].mean() - y[treated == 0].mean(), abs=1e-12
    )
    # CUPED's θ is pooled over both variants, OLS's within them: with randomised variants the
    # two agree to a small fraction of a standard error.
    estimate, std_error = _ols(treated, y, x)
    adjusted = result.adjusted
    assert adjusted.difference == pytest.approx(estimate, abs=0.02 * std_error)
    assert adjusted.std_error == pytest.approx(std_error, rel=0.02)
    critical = stats.t.ppf(0.975, len(y) - 3)
    assert (adjusted.ci_low, adjusted.ci_high) == pytest.approx(
        (estimate - critical * std_error, estimate + critical * std_error), abs=0.03 * std_error
    )


def test_a_predictive_history_narrows_the_interval_by_the_variance_it_explains(session_factory):
    observations = plant_customers(session_factory, 600, seed=2)
    analysis = analyze(EXPERIMENT, session_factory, NOW)
    assert analysis.cuped is not None
    result = analysis.cuped.comparisons[VARIANT]
    adjusted, plain = result.adjusted, result.unadjusted
    assert adjusted.ci_high - adjusted.ci_low < 0.93 * (plain.ci_high - plain.ci_low)
    # The reported reduction, against one computed here on the planted values.
    treated, y, x = _arrays(observations)
    theta = np.cov(y, x)[0, 1] / x.var(ddof=1)
    adjusted_y = y - theta * (x - x.mean())

    def var_of_difference(values: np.ndarray) -> float:
        a, b = values[treated == 0], values[treated == 1]
        return a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)

    expected = 1 - var_of_difference(adjusted_y) / var_of_difference(y)
    assert expected > 0.12
    assert result.variance_reduction == pytest.approx(expected, abs=1e-9)
    assert result.variance_reduction == pytest.approx(np.corrcoef(y, x)[0, 1] ** 2, abs=0.03)
    # The plain comparison of the analysis is unchanged beside it.
    [compared] = analysis.primary.against_control
    assert compared.comparison.difference == pytest.approx(plain.difference)


def test_an_unrelated_history_reduces_nothing(session_factory):
    plant_customers(session_factory, 600, seed=3, correlated=False)
    result = analyze(EXPERIMENT, session_factory, NOW).cuped.comparisons[VARIANT]
    assert abs(result.variance_reduction) < 0.01
    width = result.adjusted.ci_high - result.adjusted.ci_low
    assert width == pytest.approx(result.unadjusted.ci_high - result.unadjusted.ci_low, rel=0.01)


def test_anonymous_conversations_only_say_no_pre_exposure_data(
    session_factory, settings, capsys, tmp_path
):
    plant(session_factory, CONTROL, 200, 0.60, 0.10, 1)
    plant(session_factory, VARIANT, 200, 0.70, 0.10, 2)
    analysis = analyze(EXPERIMENT, session_factory, NOW)
    assert analysis.cuped is not None
    assert analysis.cuped.note == NO_COVARIATE and analysis.cuped.comparisons == {}
    assert analysis.cuped.with_covariate == {CONTROL: 0, VARIANT: 0}
    printed = analysis_json(analysis)["cuped"]
    assert printed["note"] == "no pre-exposure data" and printed["against_control"] == []

    path = tmp_path / "declared.yml"
    declare(path, DECLARED)
    configured = replace(settings, experiments_file=path)
    assert cmd_analyze(configured, argparse.Namespace(name=NAME, json=False)) == 0
    text = capsys.readouterr().out
    assert "0 of 400 sessions have it):\n    no pre-exposure data" in text


def test_the_command_prints_the_adjusted_interval_and_the_variance_removed(
    session_factory, settings, capsys, tmp_path
):
    plant_customers(session_factory, 300, seed=4)
    path = tmp_path / "declared.yml"
    declare(path, DECLARED)
    configured = replace(settings, experiments_file=path)
    assert cmd_analyze(configured, argparse.Namespace(name=NAME, json=True)) == 0
    printed = json.loads(capsys.readouterr().out)["cuped"]
    [row] = printed["against_control"]
    analysis = analyze(EXPERIMENT, session_factory, NOW)
    expected = analysis.cuped.comparisons[VARIANT]
    assert row["variant"] == VARIANT
    assert row["ci"] == pytest.approx(
        [100 * expected.adjusted.ci_low, 100 * expected.adjusted.ci_high]
    )
    assert row["unadjusted_ci"] == pytest.approx(
        [100 * expected.unadjusted.ci_low, 100 * expected.unadjusted.ci_high]
    )
    assert row["variance_reduction"] == pytest.approx(expected.variance_reduction)
    assert printed["note"] is None and printed["covariate"].startswith(
        "the customer's mean earlier CSAT"
    )
    assert cmd_analyze(configured, argparse.Namespace(name=NAME, json=False)) == 0
    text = capsys.readouterr().out
    a = expected.adjusted
    assert (
        f"    {VARIANT} - control: {100 * a.difference:+.1f} (95% CI {100 * a.ci_low:.1f} to "
        f"{100 * a.ci_high:.1f})"
    ) in text
    assert f"variance {-100 * expected.variance_reduction:+.1f}%" in text
