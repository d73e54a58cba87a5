"""The monitoring check on a real, migrated SQLite database with planted history: a real drop
raises one alert and keeps it, noise raises none, a cleared condition is resolved, an
experiment's harmed guardrail and its sample ratio mismatch raise theirs."""

from __future__ import annotations

import functools
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from bot.experiments.declarations import load_experiments
from bot.metrics.answers import HEADLINE_METRICS
from bot.metrics.core import compare, proportion
from bot.monitoring import run_check
from bot.monitoring.checks import family_confidence, metric_drop
from bot.settings import Settings
from bot.storage.models import Alert
from bot.storage.session import session_scope
from tests.monitoring.data import NOW, baseline, window
from tests.web.experiments_data import CONTROL, DECLARED, NAME, VARIANT, declare, plant

MIN_N = Settings().min_sample_size


def check(factory: sessionmaker, experiments=(), now=NOW, min_n=MIN_N):
    return run_check(factory, experiments, now, min_n)


def alert_rows(factory: sessionmaker) -> list[Alert]:
    with session_scope(factory) as session:
        return list(session.execute(select(Alert).order_by(Alert.id)).scalars())


def test_a_real_csat_drop_raises_one_alert_with_its_numbers(session_factory: sessionmaker):
    baseline(session_factory, satisfied=0.84)
    window(session_factory, satisfied=0.71)
    result = check(session_factory)

    [alert] = result.raised
    assert (alert.kind, alert.key, alert.metric) == ("metric_drop", "metric:csat", "csat")
    assert result.still_open == [] and result.resolved == []
    # 346 of 412 satisfied before (84%), 92 of 130 (71%) in the last 7 days; Newcombe's
    # interval of the change, as bot.metrics.core.compare gives it.
    expected = compare(proportion("csat", 92, 130), proportion("csat", 346, 412))
    assert alert.numbers["n_current"] == 130 and alert.numbers["n_baseline"] == 412
    assert alert.numbers["difference"] == pytest.approx(expected.difference)
    assert alert.numbers["ci_high"] == pytest.approx(expected.ci_high)
    assert expected.ci_high < 0
    low, high = -expected.ci_high, -expected.ci_low
    assert alert.message == (
        "CSAT fell from 84% (n = 412) to 71% (n = 130) over the last 7 days, against the 28 "
        f"days before: down 13 points, 95% CI {low:.0f} to {high:.0f}."
    )
    assert alert.raised_at == NOW and alert.resolved_at is None


def test_running_the_check_again_keeps_the_one_open_alert(session_factory: sessionmaker):
    baseline(session_factory, satisfied=0.84)
    window(session_factory, satisfied=0.71)
    first = check(session_factory)
    later = NOW + timedelta(minutes=15)
    second = check(session_factory, now=later)

    assert second.raised == [] and second.resolved == []
    [kept] = second.still_open
    assert kept.id == first.raised[0].id and kept.raised_at == NOW and kept.checked_at == later
    assert len(alert_rows(session_factory)) == 1


def test_noise_without_a_real_drop_raises_nothing(session_factory: sessionmaker):
    # Both periods drawn from the same chances: 84% satisfied, 10% handed off, 2 s replies.
    baseline(session_factory, satisfied=0.84, seed=11)
    window(session_factory, satisfied=0.84, seed=12)
    result = check(session_factory)
    assert result.raised == [] and alert_rows(session_factory) == []


def test_the_same_rates_in_both_periods_raise_nothing(session_factory: sessionmaker):
    baseline(session_factory, satisfied=0.84)
    window(session_factory, satisfied=0.84)
    assert check(session_factory).raised == []


def test_noise_rarely_looks_like_a_drop():
    """4,000 simulated checks of a CSAT that did not change (84% satisfied, 412 answers before
    and 130 in the window). The 95% interval alone would call a drop in about 2.5% of them
    (one side of it); the check decides on the Bonferroni interval for five metrics (99%)
    and calls one in about 0.5%, so five unchanged metrics raise an alert in under 5%."""
    rng = np.random.default_rng(7)
    confidence = family_confidence(len(HEADLINE_METRICS))
    assert confidence == pytest.approx(0.99)
    rate = functools.cache(lambda hits, n, level: proportion("csat", hits, n, level))
    naive = alarms = 0
    runs = 4000
    for _ in range(runs):
        hits_before, hits_now = int(rng.binomial(412, 0.84)), int(rng.binomial(130, 0.84))
        shown = compare(rate(hits_now, 130, 0.95), rate(hits_before, 412, 0.95))
        tested = compare(
            rate(hits_now, 130, confidence), rate(hits_before, 412, confidence), confidence
        )
        naive += metric_drop("csat", shown, 7, 28, MIN_N) is not None
        alarms += metric_drop("csat", shown, 7, 28, MIN_N, tested=tested) is not None
    assert 0.015 < naive / runs < 0.035
    assert alarms / runs < 0.01
    assert len(HEADLINE_METRICS) * alarms / runs < 0.05


def test_an_improvement_raises_nothing(session_factory: sessionmaker):
    baseline(session_factory, satisfied=0.71, first_response=4.0)
    window(session_factory, satisfied=0.90, first_response=1.0)
    assert check(session_factory).raised == []


def test_too_few_recent_answers_raise_nothing(session_factory: sessionmaker):
    baseline(session_factory, satisfied=0.84)
    window(session_factory, n=MIN_N - 1, satisfied=0.0)  # 0 of 9 satisfied
    assert check(session_factory).raised == []
    # With the minimum met, the same collapse is an alert.
    window(session_factory, n=1, satisfied=0.0, prefix="one-more")
    assert [a.metric for a in check(session_factory).raised] == ["csat"]


def test_slower_first_responses_raise_an_alert(session_factory: sessionmaker):
    baseline(session_factory, first_response=2.0)
    window(session_factory, first_response=3.5)
    [alert] = check(session_factory).raised
    assert alert.metric == "first_response_time"
    assert alert.message.startswith(
        "First response time rose from 2.0 s (n = 412) to 3.5 s (n = 130) over the last 7 "
        "days, against the 28 days before: up 1.5 s, 95% CI "
    )


def test_the_condition_clearing_resolves_the_alert(session_factory: sessionmaker):
    baseline(session_factory, satisfied=0.84)
    window(session_factory, satisfied=0.71)
    [raised] = check(session_factory).raised
    # Many happy customers since: the last 7 days are no worse than before.
    window(session_factory, n=400, satisfied=0.95, prefix="happy")
    later = NOW + timedelta(hours=1)
    result = check(session_factory, now=later)

    assert result.raised == [] and result.still_open == []
    [resolved] = result.resolved
    assert resolved.id == raised.id and resolved.resolved_at == later
    [row] = alert_rows(session_factory)
    assert row.resolved_at == later
    # A later drop is a new alert, the old one stays resolved.
    window(session_factory, n=2000, satisfied=0.30, prefix="unhappy")
    [again] = check(session_factory, now=later + timedelta(hours=1)).raised
    assert again.id != raised.id and len(alert_rows(session_factory)) == 2


def _declared(settings: Settings, text: str = DECLARED):
    declare(settings.experiments_file, text)
    return load_experiments(settings.experiments_file).experiments


def test_a_harmed_guardrail_raises_one_alert(settings: Settings, session_factory: sessionmaker):
    experiments = _declared(settings)
    # The variant hands off 40% of conversations against the control's 10%: containment,
    # the guardrail, falls by about 30 points.
    plant(session_factory, CONTROL, 600, 0.70, 0.10, 1)
    plant(session_factory, VARIANT, 600, 0.70, 0.40, 2)
    result = check(session_factory, experiments)

    assert result.experiments == (NAME,)
    experiment_alerts = [a for a in result.raised if a.experiment is not None]
    [alert] = experiment_alerts
    assert alert.kind == "guardrail_harmed"
    assert alert.key == f"guardrail:{NAME}:containment:{VARIANT}"
    assert alert.message.startswith(
        f"Experiment {NAME}: the guardrail containment is harmed in variant {VARIANT}: "
    )
    assert (
        "(n = 600) against" in alert.message
        and f"control {CONTROL} (n = 600): down" in alert.message
    )
    assert "95% CI" in alert.message
    assert alert.numbers["ci_high"] < 0

    again = check(session_factory, experiments, now=NOW + timedelta(minutes=15))
    assert [a.key for a in again.still_open if a.experiment] == [alert.key]
    assert [a for a in again.raised if a.experiment] == []


def test_a_guardrail_that_holds_raises_nothing(settings: Settings, session_factory: sessionmaker):
    experiments = _declared(settings)
    plant(session_factory, CONTROL, 600, 0.60, 0.10, 1)
    plant(session_factory, VARIANT, 600, 0.80, 0.10, 2)
    result = check(session_factory, experiments)
    assert [a for a in result.raised if a.experiment] == []


def test_a_sample_ratio_mismatch_raises_an_alert(settings: Settings, session_factory: sessionmaker):
    experiments = _declared(settings)
    plant(session_factory, CONTROL, 900, 0.60, 0.10, 5)  # a 45/55 split of a 50/50 design
    plant(session_factory, VARIANT, 1100, 0.60, 0.10, 6)
    [alert] = [a for a in check(session_factory, experiments).raised if a.kind == "srm"]
    assert alert.key == f"srm:{NAME}"
    assert alert.message.startswith(
        f"Experiment {NAME}: sample ratio mismatch: 45.0%/55.0% exposed against 50.0%/50.0% "
        "designed"
    )
    assert f"(n = 2,000 exposed sessions: {CONTROL} 900, {VARIANT} 1,100)." in alert.message


def test_an_experiment_that_is_not_running_is_not_checked(
    settings: Settings, session_factory: sessionmaker
):
    experiments = _declared(settings, DECLARED.replace("status: running", "status: stopped"))
    plant(session_factory, CONTROL, 600, 0.70, 0.10, 1)
    plant(session_factory, VARIANT, 600, 0.70, 0.40, 2)
    result = check(session_factory, experiments)
    assert result.experiments == ()
    assert [a for a in result.raised if a.experiment] == []


def test_a_stopped_experiments_alert_is_resolved(settings: Settings, session_factory: sessionmaker):
    plant(session_factory, CONTROL, 600, 0.70, 0.10, 1)
    plant(session_factory, VARIANT, 600, 0.70, 0.40, 2)
    check(session_factory, _declared(settings))
    stopped = _declared(settings, DECLARED.replace("status: running", "status: stopped"))
    result = check(session_factory, stopped, now=NOW + timedelta(hours=1))
    assert [a.kind for a in result.resolved if a.experiment] == ["guardrail_harmed"]
    with session_scope(session_factory) as session:
        assert session.scalar(
            select(func.count()).select_from(Alert).where(Alert.resolved_at.is_(None))
        ) == len(result.still_open)
