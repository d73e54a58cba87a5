"""Stopping and shipping: recorded with who and why, and then in force in the bot."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy import select

from bot.bootstrap import bootstrap
from bot.experiments import decisions
from bot.experiments.cli import cmd_decide, cmd_list, cmd_stop
from bot.experiments.exposure import exposed_variant
from bot.settings import PROJECT_ROOT
from bot.storage.models import AuditLog, ExperimentExposure
from bot.storage.session import session_scope

NOW = datetime(2026, 12, 20, 12, 0)


@pytest.fixture
def declared(settings, session_factory):
    configured = replace(settings, experiments_file=PROJECT_ROOT / "data" / "experiments.yml")
    services = bootstrap(configured, now=lambda: NOW)
    yield configured, services
    services.close()


def test_shipping_a_variant_makes_it_everyones_and_stops_assigning(declared, capsys):
    settings, services = declared
    args = argparse.Namespace(
        name="early-handoff",
        ship="first-miss",
        by="Maria",
        reason="CSAT up, containment held",
        json=False,
    )
    assert cmd_decide(settings, args) == 0
    assert "early-handoff shipped first-miss" in capsys.readouterr().out

    services._experiments_read = -1e9  # as if REFRESH_SECONDS had passed in the running bot
    experiment = services.experiments().get("early-handoff")
    assert experiment is not None and experiment.status == "decided"
    assert experiment.decision is not None and experiment.decision.by == "Maria"
    variant = exposed_variant(
        experiment, None, "any-chat", "1.0", services.session_factory, NOW, "second-miss"
    )
    assert variant == "first-miss"
    with session_scope(services.session_factory) as session:
        assert session.execute(select(ExperimentExposure)).scalars().all() == []
        [logged] = session.execute(select(AuditLog)).scalars().all()
        assert (logged.user_name, logged.action, logged.target) == (
            "Maria",
            "experiment_decide",
            "early-handoff",
        )

    assert cmd_list(settings, argparse.Namespace(json=True)) == 0
    listed = json.loads(capsys.readouterr().out)
    handoff = next(e for e in listed["experiments"] if e["name"] == "early-handoff")
    assert handoff["status"] == "decided" and handoff["decision"]["ship"] == "first-miss"


def test_stopping_gives_the_control_again(declared, capsys):
    settings, services = declared
    args = argparse.Namespace(
        name="early-handoff", by="Maria", reason="containment fell", json=True
    )
    assert cmd_stop(settings, args) == 0
    assert json.loads(capsys.readouterr().out)["action"] == "stop"
    services._experiments_read = -1e9
    experiment = services.experiments().get("early-handoff")
    assert experiment is not None and experiment.status == "stopped" and not experiment.assigning
    assert (
        exposed_variant(experiment, 17, "c", "1.0", services.session_factory, NOW, "x")
        == "second-miss"
    )


def test_a_running_bot_sees_a_decision_only_after_its_refresh(declared, monkeypatch):
    settings, services = declared
    assert services.experiments().get("early-handoff").status == "running"
    experiment = services.experiments().get("early-handoff")
    decisions.record_decision(experiment, "stop", "Maria", "why", services.session_factory, NOW)
    assert services.experiments().get("early-handoff").status == "running"  # cached
    services._experiments_read -= decisions.REFRESH_SECONDS + 1
    assert services.experiments().get("early-handoff").status == "stopped"


@pytest.mark.parametrize(
    "ship, by, reason, message",
    [
        ("third", "Maria", "why", "has no variant 'third'"),
        ("first-miss", "", "why", "say who decides"),
        ("first-miss", "Maria", " ", "say who decides"),
    ],
)
def test_a_decision_that_cannot_be_taken_records_nothing(
    declared, capsys, ship, by, reason, message
):
    settings, services = declared
    args = argparse.Namespace(name="early-handoff", ship=ship, by=by, reason=reason, json=False)
    assert cmd_decide(settings, args) == 2
    assert message in capsys.readouterr().out
    with session_scope(services.session_factory) as session:
        assert decisions.latest_decisions(session) == {}


def test_a_decided_experiment_cannot_be_decided_again(declared):
    _, services = declared
    experiment = services.experiments().get("early-handoff")
    decisions.record_decision(
        experiment, "decide", "Maria", "won", services.session_factory, NOW, "first-miss"
    )
    services._experiments_read = -1e9
    decided = services.experiments().get("early-handoff")
    with pytest.raises(decisions.DecisionError, match="decided already"):
        decisions.record_decision(
            decided, "stop", "Ben", "changed my mind", services.session_factory, NOW
        )
