"""`supportbot experiments list|show`, on a migrated temporary database."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from datetime import datetime

from bot.experiments.cli import cmd_list, cmd_show
from bot.settings import PROJECT_ROOT
from bot.storage.repositories import ExposureRepository
from bot.storage.session import session_scope


def run(command, settings, capsys, **options) -> str:
    assert command(settings, argparse.Namespace(**options)) in (0, 1)
    return capsys.readouterr().out


def test_list_and_show_the_declared_experiments_with_their_exposures(
    settings, session_factory, capsys
):
    settings = replace(settings, experiments_file=PROJECT_ROOT / "data" / "experiments.yml")
    with session_scope(session_factory) as session:
        exposures = ExposureRepository(session)
        now = datetime(2026, 12, 2, 9, 0)
        for i, variant in enumerate(["first-miss", "second-miss", "first-miss"]):
            assert exposures.record(
                "early-handoff", variant, f"conversation:c{i}", f"c{i}", "1.0", now
            )
        # the same session again: not a second exposure
        assert not exposures.record(
            "early-handoff", "first-miss", "conversation:c0", "c0", "1.0", now
        )

    listed = json.loads(run(cmd_list, settings, capsys, json=True))
    handoff = next(e for e in listed["experiments"] if e["name"] == "early-handoff")
    assert handoff["status"] == "running" and handoff["exposures"] == 3
    assert [(v["name"], v["exposures"]) for v in handoff["variants"]] == [
        ("second-miss", 1),
        ("first-miss", 2),
    ]
    assert listed["problems"] == []

    text = run(cmd_show, settings, capsys, json=False, name="early-handoff")
    assert "guardrail: containment must not fall by 5 points" in text
    assert "first-miss       weight 50, 2 exposed" in text
    missing = run(cmd_show, settings, capsys, json=False, name="nope")
    assert "No experiment named 'nope'" in missing and "early-handoff" in missing


def test_a_bad_file_is_reported_and_the_rest_listed(settings, session_factory, capsys, tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text(
        "experiments:\n"
        "  - name: fine\n    focus: support\n    hypothesis: h\n"
        "    variants: [{name: a, weight: 1}, {name: b, weight: 1}]\n    primary_metric: nps\n"
        "  - name: broken\n    focus: support\n    hypothesis: h\n"
        "    variants: [{name: a, weight: 1}]\n    primary_metric: nps\n",
        encoding="utf-8",
    )
    text = run(cmd_list, replace(settings, experiments_file=path), capsys, json=False)
    assert text.startswith("fine")
    assert "left out:" in text and "line 10: an experiment needs at least two variants" in text
