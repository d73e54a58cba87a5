"""`supportbot monitor [--json]` on a migrated temporary database, by the real clock."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from bot.cli import main
from bot.settings import Settings
from tests.monitoring.data import baseline, window


def monitor(settings: Settings, capsys, monkeypatch, *options: str) -> str:
    monkeypatch.setenv("SUPPORTBOT_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SUPPORTBOT_EXPERIMENTS", str(settings.experiments_file))
    assert main(["monitor", *options]) == 0
    return capsys.readouterr().out


def test_monitor_prints_raised_then_still_open_then_resolved(
    settings: Settings, session_factory, capsys, monkeypatch
):
    # A minute of slack (less than the rows' spacing): every row falls where it is planted
    # when the command checks a moment later.
    now = datetime.utcnow() + timedelta(minutes=1)
    baseline(session_factory, satisfied=0.84, now=now)
    window(session_factory, satisfied=0.71, now=now)

    first = monitor(settings, capsys, monkeypatch)
    assert (
        "Raised (1):\n  ! CSAT fell from 84% (n = 412) to 71% (n = 130) over the last 7 days"
        in first
    )
    assert "Still open: none" in first and "Resolved: none" in first
    assert "experiments (none running)" in first

    data = json.loads(monitor(settings, capsys, monkeypatch, "--json"))
    assert data["raised"] == [] and data["resolved"] == []
    [kept] = data["still_open"]
    assert (kept["kind"], kept["metric"], kept["open"]) == ("metric_drop", "csat", True)
    assert (kept["n_current"], kept["n_baseline"]) == (130, 412)
    assert kept["raised_at"].endswith("Z") and kept["resolved_at"] is None
    assert data["metrics"] == [
        "nps", "csat", "containment", "first_response_time", "survey_response_rate",
    ]  # fmt: skip

    window(session_factory, n=400, satisfied=0.95, prefix="happy", now=now)
    last = monitor(settings, capsys, monkeypatch)
    assert "Raised: none" in last and "Still open: none" in last
    assert "Resolved (1):\n  - CSAT fell from 84%" in last and ", resolved " in last
