"""`supportbot user add|list` and the website process that `supportbot serve` starts."""

from __future__ import annotations

import io
import json
import socket
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy.orm import sessionmaker

from bot import cli
from bot.auth.users import UserRepository
from bot.settings import Settings
from bot.storage.session import session_scope


@pytest.fixture
def env(settings: Settings, session_factory: sessionmaker, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPORTBOT_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRACKER_DB_URL", settings.tracker_db_url)


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


@pytest.mark.usefixtures("env")
def test_user_add_and_list(
    session_factory: sessionmaker,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    _stdin(monkeypatch, "a long enough password\n")
    assert cli.main(["user", "add", "maria", "--role", "manager", "--password-stdin"]) == 0
    assert "Added maria (manager)" in capsys.readouterr().out
    with session_scope(session_factory) as session:
        users = UserRepository(session)
        assert users.authenticate("maria", "a long enough password", users.all()[0].created_at)

    assert cli.main(["user", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(u["name"], u["role"], u["last_login_at"]) for u in listed] == [
        ("maria", "manager", listed[0]["last_login_at"])
    ]


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize(
    ("argv", "stdin", "problem"),
    [
        (["maria", "--role", "staff"], "short\n", "at least 10 characters"),
        (["has space", "--role", "staff"], "a long enough password\n", "a name has"),
    ],
)
def test_user_add_refuses_bad_input(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stdin: str,
    problem: str,
):
    _stdin(monkeypatch, stdin)
    assert cli.main(["user", "add", *argv, "--password-stdin"]) == 2
    assert problem in capsys.readouterr().err


@pytest.mark.usefixtures("env")
def test_user_add_refuses_a_taken_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    for _ in range(2):
        _stdin(monkeypatch, "a long enough password\n")
        code = cli.main(["user", "add", "maria", "--role", "staff", "--password-stdin"])
    assert code == 2
    assert "already a user called 'maria'" in capsys.readouterr().err


@pytest.mark.usefixtures("env")
def test_the_prompt_asks_twice(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    answers = iter(["a long enough password", "a different password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert cli.main(["user", "add", "maria", "--role", "staff"]) == 2
    assert "differ" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_website_process_answers_healthz(
    settings: Settings,
    session_factory: sessionmaker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    """What `supportbot serve` starts as its third process, and waits for."""
    port = _free_port()
    monkeypatch.setenv("SUPPORTBOT_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRACKER_DB_URL", settings.tracker_db_url)
    monkeypatch.setenv("WEB_PORT", str(port))
    web_settings = Settings.from_env()
    process = cli.start_web_server(web_settings, tmp_path)
    try:
        assert cli._wait_for(f"http://127.0.0.1:{port}/healthz", process, 60), (
            tmp_path / "web.log"
        ).read_text()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/staff/login") as page:
            assert page.status == 200
    finally:
        cli._stop([process])
    assert cli._web_url(web_settings) == f"http://localhost:{port}"
