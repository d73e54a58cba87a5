"""`supportbot serve` refuses, with what to run, a database that is not set up."""

from __future__ import annotations

import argparse

from bot.cli import cmd_serve
from bot.settings import Settings
from bot.storage.migrate import upgrade


def test_serve_on_an_empty_database_says_what_to_run(tmp_path, capsys, monkeypatch):
    settings = Settings(var_dir=tmp_path)
    monkeypatch.setattr("bot.cli._rasa_model", lambda _settings: tmp_path / "model.tar.gz")
    (tmp_path / "model.tar.gz").write_bytes(b"")
    assert cmd_serve(settings, argparse.Namespace(timeout=1, profile="embedded")) == 1
    message = capsys.readouterr().err
    assert "is not set up" in message
    assert "supportbot migrate" in message and "supportbot seed-demo" in message
    assert not (tmp_path / "logs").exists()  # nothing was started


def test_a_migrated_database_is_ready(tmp_path):
    from bot.cli import _database_not_ready

    settings = Settings(var_dir=tmp_path)
    assert _database_not_ready(settings) is not None
    upgrade(settings.database_url)
    assert _database_not_ready(settings) is None
