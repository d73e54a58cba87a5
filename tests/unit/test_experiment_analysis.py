"""`analyze`: planted results in a real database, read back as the verdict a manager sees."""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime

from bot.bootstrap import bootstrap
from bot.experiments.analysis import analyze
from bot.experiments.cli import cmd_analyze
from bot.experiments.declarations import Experiment, Guardrail, Variant
from tests.web.experiments_data import plant

NOW = datetime(2026, 12, 20, 12, 0)
EXPERIMENT = Experiment(
    name="early-handoff",
    focus="support",
    hypothesis="h",
    salt="s",
    variants=(Variant("second-miss", 50), Variant("first-miss", 50)),
    primary_metric="csat",
    guardrails=(Guardrail("containment", 5),),
    minimum_detectable_effect=5,
    start=date(2026, 12, 1),
    status="running",
)


def test_a_clear_winner_with_guardrails_holding_is_shipped(session_factory):
    plant(session_factory, "second-miss", 1500, 0.60, 0.10, 1)
    plant(session_factory, "first-miss", 1500, 0.80, 0.10, 2)
    result = analyze(EXPERIMENT, session_factory, NOW)
    control, variant = (result.primary.estimates[v] for v in ("second-miss", "first-miss"))
    assert (control.n, variant.n) == (1500, 1500)
    assert 55 < control.value < 65 and 75 < variant.value < 85
    [compared] = result.primary.against_control
    assert compared.comparison.ci_low > 0 and compared.bayes.chance_to_beat > 0.99
    assert compared.sequential.ci_low < compared.comparison.ci_low  # wider: valid at any look
    assert not result.srm.mismatch
    decision = result.verdicts["first-miss"]
    assert decision.decision == "ship"
    assert decision.text.startswith("first-miss improves CSAT by")
    assert "always-valid" in decision.text and "guardrails hold" in decision.text


def test_a_guardrail_not_yet_shown_to_hold_keeps_the_test_going(session_factory):
    """At 600 a variant the always-valid interval of containment still allows a 5-point drop."""
    plant(session_factory, "second-miss", 600, 0.60, 0.10, 1)
    plant(session_factory, "first-miss", 600, 0.80, 0.10, 2)
    decision = analyze(EXPERIMENT, session_factory, NOW).verdicts["first-miss"]
    assert decision.decision == "continue"
    assert "guardrails not yet shown to hold: containment could still drop by" in decision.text


def test_a_broken_split_withholds_the_verdict(session_factory):
    plant(session_factory, "second-miss", 900, 0.60, 0.10, 3)
    plant(session_factory, "first-miss", 1100, 0.80, 0.10, 4)
    result = analyze(EXPERIMENT, session_factory, NOW)
    assert result.srm.mismatch
    assert result.verdicts["first-miss"].decision == "withheld"
    assert "sample ratio mismatch" in result.verdicts["first-miss"].text


def test_a_harmed_guardrail_stops_the_experiment(session_factory):
    plant(session_factory, "second-miss", 600, 0.60, 0.10, 5)
    plant(session_factory, "first-miss", 600, 0.80, 0.40, 6)
    decision = analyze(EXPERIMENT, session_factory, NOW).verdicts["first-miss"]
    assert decision.decision == "stop"
    assert decision.text.startswith("stopped: guardrail containment fell by")


def test_too_little_data_says_how_much_more_is_needed(session_factory):
    plant(session_factory, "second-miss", 40, 0.70, 0.10, 7)
    plant(session_factory, "first-miss", 40, 0.72, 0.10, 8)
    result = analyze(EXPERIMENT, session_factory, NOW)
    decision = result.verdicts["first-miss"]
    assert decision.decision == "continue"
    assert decision.text.startswith("no difference detectable yet: about ")
    assert "days)" in decision.text  # 80 exposures over 19 days: the rate says how long


def test_analyze_prints_the_counts_and_the_verdict(session_factory, settings, capsys, tmp_path):
    from dataclasses import replace

    path = tmp_path / "experiments.yml"
    path.write_text(
        "experiments:\n  - name: early-handoff\n    focus: support\n    hypothesis: h\n"
        "    variants: [{name: second-miss, weight: 50}, {name: first-miss, weight: 50}]\n"
        "    primary_metric: csat\n    guardrails: [{metric: containment, max_drop: 5}]\n"
        "    start: 2026-12-01\n    status: running\n",
        encoding="utf-8",
    )
    plant(session_factory, "second-miss", 300, 0.60, 0.10, 9)
    plant(session_factory, "first-miss", 300, 0.80, 0.10, 10)  # containment not yet shown to hold
    configured = replace(settings, experiments_file=path)
    args = argparse.Namespace(name="early-handoff", json=True)
    assert cmd_analyze(configured, args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["exposures"] == {"second-miss": 300, "first-miss": 300}
    assert printed["primary"]["variants"]["first-miss"]["n"] == 300
    assert printed["verdicts"]["first-miss"]["decision"] == "continue"
    assert printed["primary"]["against_control"][0]["ci"][0] > 0
    assert cmd_analyze(configured, argparse.Namespace(name="early-handoff", json=False)) == 0
    text = capsys.readouterr().out
    assert "early-handoff (running): 600 exposed sessions" in text
    assert "verdict for first-miss: first-miss improves CSAT by" in text
    bootstrap(configured).close()
