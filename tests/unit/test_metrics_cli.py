"""`supportbot metrics`: an NPS or CSAT of too few answers is said so, not given as a number."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy.orm import sessionmaker

from bot import cli
from bot.settings import Settings
from bot.storage.session import session_scope
from tests.rows import survey_row


@pytest.fixture
def seven_answers(
    settings: Settings, session_factory: sessionmaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPPORTBOT_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRACKER_DB_URL", settings.tracker_db_url)
    with session_scope(session_factory) as session:
        for day, score in enumerate([10, 9, 3, 8, 10, 0, 9]):
            session.add(survey_row(datetime(2026, 10, 5 + day, 9), score, 5))


@pytest.mark.usefixtures("seven_answers")
def test_the_table_says_too_few_answers(capsys: pytest.CaptureFixture[str]):
    assert cli.main(["metrics", "--period", "October 2026"]) == 0
    out = capsys.readouterr().out
    nps_line = next(line for line in out.splitlines() if line.startswith("NPS "))
    assert "too few" in nps_line and "95%" not in nps_line and "(95% CI" not in out
    assert "NPS: too few answers (n = 7); a number needs at least 10" in out
    assert "CSAT: too few answers (n = 7)" in out


@pytest.mark.usefixtures("seven_answers")
def test_the_minimum_is_a_setting(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SUPPORTBOT_MIN_SAMPLE_SIZE", "5")
    assert cli.main(["metrics", "--period", "October 2026", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["metrics"]["nps"]["n"], data["metrics"]["nps"]["too_few"]) == (7, False)
    monkeypatch.setenv("SUPPORTBOT_MIN_SAMPLE_SIZE", "8")
    assert cli.main(["metrics", "--period", "October 2026", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"]["nps"]["too_few"] is True
