from pathlib import Path

import yaml

from bot.runtime import TRACKER_STORE_CLASS, endpoints_config, write_endpoints
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
    assert config["lock_store"]["type"] == "redis" and config["lock_store"]["db"] == 2
    assert config["event_broker"]["type"] == "pika"
    assert config["event_broker"]["queues"] == ["supportbot_events"]


def test_written_file_is_what_rasa_reads(tmp_path: Path):
    settings = Settings(var_dir=tmp_path)
    path = write_endpoints(settings)
    assert yaml.safe_load(path.read_text()) == endpoints_config(settings)
