import stat
from pathlib import Path

import yaml

from bot.auth.keys import ACTION_SECRET_HEADER, action_server_secret
from bot.runtime import LOCK_STORE_CLASS, TRACKER_STORE_CLASS, endpoints_config, write_endpoints
from bot.settings import Settings


def test_embedded_default_uses_sqlite_and_nothing_else(tmp_path: Path):
    settings = Settings(var_dir=tmp_path)
    config = endpoints_config(settings, environ={})
    assert config["tracker_store"] == {
        "type": TRACKER_STORE_CLASS,
        "dialect": "sqlite",
        "db": str(tmp_path / "tracker.db"),
    }
    assert config["action_endpoint"]["url"] == "http://127.0.0.1:5055/webhook"
    assert "lock_store" not in config and "event_broker" not in config


def test_at_scale_only_the_environment_changes(tmp_path: Path):
    settings = Settings(
        var_dir=tmp_path, tracker_db_url="postgresql://bot:s3cret@db.internal:5433/tracker"
    )
    config = endpoints_config(
        settings,
        environ={
            "LOCK_STORE_URL": "redis://127.0.0.1:6379/2",
            "EVENT_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672",
        },
    )
    assert config["tracker_store"] == {
        "type": TRACKER_STORE_CLASS,
        "dialect": "postgresql",
        "url": "db.internal",
        "db": "tracker",
        "port": 5433,
        "username": "bot",
        "password": "s3cret",
    }
    assert config["lock_store"]["type"] == LOCK_STORE_CLASS and config["lock_store"]["db"] == 2
    assert config["event_broker"]["type"] == "pika"
    assert config["event_broker"]["queues"] == ["supportbot_events"]


def test_written_file_is_what_rasa_reads(tmp_path: Path):
    settings = Settings(var_dir=tmp_path)
    path = write_endpoints(settings)
    assert yaml.safe_load(path.read_text()) == endpoints_config(settings)


def test_rasa_sends_the_action_servers_secret(tmp_path: Path):
    settings = Settings(var_dir=tmp_path)
    headers = endpoints_config(settings, environ={})["action_endpoint"]["headers"]
    assert headers == {ACTION_SECRET_HEADER: action_server_secret(settings)}
    given = Settings(var_dir=tmp_path, action_server_secret="from-the-environment")
    assert endpoints_config(given, environ={})["action_endpoint"]["headers"] == {
        ACTION_SECRET_HEADER: "from-the-environment"
    }


def test_the_written_file_is_for_its_owner_only(tmp_path: Path):
    path = tmp_path / "endpoints.yml"
    path.write_text("old")
    path.chmod(0o644)
    write_endpoints(Settings(var_dir=tmp_path), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".endpoints")] == []


def test_the_api_token_is_added_by_the_launcher_not_on_the_command_line(tmp_path, monkeypatch):
    from bot.cli import start_rasa_server
    from bot.rasa.launcher import API_TOKEN_FROM_SETTINGS, _with_api_token
    from bot.settings import Settings

    monkeypatch.setenv("SUPPORTBOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("RASA_AUTH_TOKEN", "the-api-token")
    captured = {}

    def popen(argv, stdout, **_):
        stdout.close()
        captured["argv"] = argv

    monkeypatch.setattr("subprocess.Popen", popen)
    start_rasa_server(Settings(var_dir=tmp_path), tmp_path / "endpoints.yml", tmp_path)
    assert "the-api-token" not in captured["argv"] and API_TOKEN_FROM_SETTINGS in captured["argv"]
    assert _with_api_token(["run", API_TOKEN_FROM_SETTINGS, "--port", "1"]) == [
        "run",
        "--auth-token",
        "the-api-token",
        "--port",
        "1",
    ]
