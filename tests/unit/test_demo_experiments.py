"""`supportbot seed-demo` and the demo's experiments: reply-tone decided on the history's A/B
chats, the running experiments with exposures from their start, every state on show, and a
second seeding that adds nothing."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.bootstrap import bootstrap
from bot.cli import cmd_seed_demo
from bot.demo.experiments import REPLY_TONE, RUNNING_DAYS
from bot.demo.history import CONVERSATION_PREFIX
from bot.experiments.analysis import analyze
from bot.experiments.assignment import assign
from bot.experiments.cli import cmd_list
from bot.experiments.decisions import latest_decisions
from bot.settings import PROJECT_ROOT, Settings
from bot.storage.models import (
    AuditLog,
    Conversation,
    ExperimentDecision,
    ExperimentExposure,
    Recommendation,
)
from bot.storage.session import session_scope
from bot.web.api import experiments_data

# Three weeks after the running experiments' start (2026-12-01), so that they have exposures.
TODAY = "2026-12-22"
NOW = datetime(2026, 12, 22)
RUNNING = ("recommender-model", "survey-wording", "early-handoff")


@dataclass
class Seeded:
    settings: Settings
    first: dict
    second: dict
    counts_after_first: dict[str, int]


def _counts(settings: Settings) -> dict[str, int]:
    services = bootstrap(settings)
    try:
        with session_scope(services.session_factory) as session:
            return {
                model.__tablename__: int(
                    session.execute(select(func.count()).select_from(model)).scalar_one()
                )
                for model in (ExperimentExposure, ExperimentDecision, Recommendation, AuditLog)
            }
    finally:
        services.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    settings = Settings(
        var_dir=Path(tmp_path_factory.mktemp("demo")),
        demo_today=TODAY,
        experiments_file=PROJECT_ROOT / "data" / "experiments.yml",
    )

    def run() -> dict:
        """`supportbot seed-demo --json`, its output read back."""
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            assert cmd_seed_demo(settings, argparse.Namespace(json=True)) == 0
        return json.loads(printed.getvalue())

    first = run()
    counts = _counts(settings)
    second = run()
    yield Seeded(settings, first, second, counts)


def test_reply_tones_exposures_are_the_histories_a_and_b_chats(seeded: Seeded):
    services = bootstrap(seeded.settings)
    try:
        with session_scope(services.session_factory) as session:
            chats = dict(
                session.execute(
                    select(Conversation.variant, func.count())
                    .where(
                        Conversation.conversation_id.like(f"{CONVERSATION_PREFIX}%"),
                        Conversation.variant.is_not(None),
                    )
                    .group_by(Conversation.variant)
                ).all()
            )
            units = set(
                session.execute(
                    select(ExperimentExposure.unit).where(
                        ExperimentExposure.experiment == REPLY_TONE
                    )
                ).scalars()
            )
            # Each exposure is its conversation's, in the conversation's own variant.
            mismatched = session.execute(
                select(func.count())
                .select_from(ExperimentExposure)
                .join(
                    Conversation,
                    (Conversation.conversation_id == ExperimentExposure.conversation_id)
                    & (Conversation.session_key == ExperimentExposure.session_key),
                )
                .where(
                    ExperimentExposure.experiment == REPLY_TONE,
                    Conversation.variant != ExperimentExposure.variant,
                )
            ).scalar_one()
        experiment = services.experiments().get(REPLY_TONE)
        analysis = analyze(experiment, services.session_factory, NOW)
    finally:
        services.close()
    assert set(chats) == {"A", "B"} and min(chats.values()) > 2000
    assert analysis.exposures == chats
    assert seeded.first["experiments"]["exposures"][REPLY_TONE] == sum(chats.values())
    assert mismatched == 0
    assert all(unit.startswith("conversation:history-") for unit in units)
    assert len(units) == sum(chats.values())


def test_reply_tone_is_decided_by_the_demo_manager_on_its_analysis(seeded: Seeded):
    services = bootstrap(seeded.settings)
    try:
        with session_scope(services.session_factory) as session:
            decision = latest_decisions(session)[REPLY_TONE]
            audited = session.execute(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.action == "experiment_decide", AuditLog.target == REPLY_TONE)
            ).scalar_one()
        experiment = services.experiments().get(REPLY_TONE)
        running = replace(experiment, status="running", decision=None)
        analysis = analyze(running, services.session_factory, NOW)
    finally:
        services.close()
    assert seeded.first["experiments"]["decision_recorded"] is True
    assert decision.action == "decide" and decision.decided_by == "Maria (manager)"
    assert decision.decided_at == NOW and audited == 1
    # The reason is the analysis of the seeded data: its verdict and its CSAT difference.
    [(variant, verdict)] = analysis.verdicts.items()
    assert verdict.text in decision.reason
    [compared] = analysis.primary.against_control
    c = compared.comparison
    assert (
        f"CSAT B - control {100 * c.difference:+.1f} points (95% CI {100 * c.ci_low:.1f} to "
        f"{100 * c.ci_high:.1f}"
    ) in decision.reason
    assert decision.ship == (variant if verdict.decision == "ship" else "A")
    assert experiment.status == "decided" and experiment.default_variant == decision.ship


def test_the_running_experiments_have_exposures_from_their_start_by_assignment(seeded: Seeded):
    services = bootstrap(seeded.settings)
    try:
        declared = services.experiments()
        with session_scope(services.session_factory) as session:
            rows = session.execute(
                select(
                    ExperimentExposure.experiment,
                    ExperimentExposure.variant,
                    ExperimentExposure.unit,
                    ExperimentExposure.exposed_at,
                ).where(ExperimentExposure.experiment.in_(RUNNING))
            ).all()
            suggested = session.execute(
                select(func.count()).select_from(Recommendation)
            ).scalar_one()
        analyses = {
            name: analyze(declared.get(name), services.session_factory, NOW) for name in RUNNING
        }
    finally:
        services.close()
    for name in RUNNING:
        experiment = declared.get(name)
        mine = [r for r in rows if r.experiment == name]
        assert len(mine) == seeded.first["experiments"]["exposures"][name] > 0
        assert all(assign(experiment, r.unit).variant == r.variant for r in mine)
        assert min(r.exposed_at for r in mine) >= datetime(2026, 12, 1)
        assert max(r.exposed_at for r in mine) < NOW
        assert set(analyses[name].exposures) == set(experiment.weights)
        assert all(n > 0 for n in analyses[name].exposures.values()), name
    assert RUNNING_DAYS >= 21
    assert sum(r.experiment == "survey-wording" for r in rows) > 300
    assert suggested == 3 * sum(r.experiment == "recommender-model" for r in rows)
    # The panels have numbers to show: the primary metric compared for every experiment.
    assert all(analyses[name].primary.against_control for name in RUNNING)


def test_every_state_shows_in_the_list_and_the_api(seeded: Seeded, capsys):
    assert cmd_list(seeded.settings, argparse.Namespace(json=True)) == 0
    listed = json.loads(capsys.readouterr().out)
    statuses = {row["name"]: row["status"] for row in listed["experiments"]}
    assert statuses == {**{name: "running" for name in RUNNING}, REPLY_TONE: "decided"}
    assert all(row["exposures"] > 0 for row in listed["experiments"])
    services = bootstrap(seeded.settings, now=lambda: NOW)
    try:
        data = experiments_data(services)
    finally:
        services.close()
    shown = {e["name"]: e for e in data["experiments"]}
    assert {e["status"] for e in shown.values()} == {"running", "decided"}
    tone = shown[REPLY_TONE]
    assert (
        tone["decision"]["by"] == "Maria (manager)"
        and "CSAT B - control" in tone["decision"]["reason"]
    )
    assert sum(tone["exposures"].values()) > 4000 and tone["primary"]["against_control"]
    assert tone["cuped"]["with_covariate"]["A"] > 0


def test_seeding_again_adds_nothing(seeded: Seeded):
    assert seeded.second["already_seeded"] is True
    assert seeded.second["experiments"]["exposures"] == {
        name: 0 for name in seeded.first["experiments"]["exposures"]
    }
    assert seeded.second["experiments"]["decision_recorded"] is False
    assert _counts(seeded.settings) == seeded.counts_after_first
