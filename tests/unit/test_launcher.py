"""The Rasa launcher (bot/rasa/launcher.py): which Rasa it patches, and which patches."""

from __future__ import annotations

import sys

import pytest
import rasa

from bot.rasa import launcher, performance, socketio_fixes


@pytest.mark.parametrize("version", ["3.6.21", "3.6.22", "3.6.30"])
def test_the_3_6_line_from_3_6_21_on_is_accepted(version: str):
    assert launcher.check_rasa_version(version) is None


@pytest.mark.parametrize(
    "version", ["3.6.20", "3.6.0", "3.5.17", "3.7.0", "4.0.0", "3.6.22rc1", "3.6", "rasa"]
)
def test_any_other_rasa_is_refused_naming_both_versions(version: str):
    refusal = launcher.check_rasa_version(version)
    assert refusal is not None
    assert f"Rasa {version} is installed" in refusal
    assert "3.6.21" in refusal


def test_the_installed_rasa_is_accepted():
    assert launcher.check_rasa_version(rasa.__version__) is None


def test_the_launcher_exits_before_patching_another_rasa(monkeypatch, capsys):
    installed: list[str] = []
    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    monkeypatch.setattr(launcher, "install_fixes", lambda speedups: installed.append("fixes"))
    monkeypatch.setattr(sys, "argv", ["launcher", "--version"])
    with pytest.raises(SystemExit) as exit_:
        launcher.main()
    assert exit_.value.code == launcher.WRONG_RASA_EXIT != 0
    assert "Rasa 3.7.0 is installed" in capsys.readouterr().err
    assert installed == []


@pytest.mark.parametrize(("value", "speedups"), [("", True), ("1", True), ("0", False)])
def test_the_speedups_setting_leaves_the_socketio_fixes(monkeypatch, value: str, speedups: bool):
    installed: list[str] = []
    monkeypatch.setenv("SUPPORTBOT_RASA_SPEEDUPS", value)
    monkeypatch.setattr(
        performance, "install_performance_fixes", lambda: installed.append("speedups")
    )
    monkeypatch.setattr(
        socketio_fixes, "install_socketio_fixes", lambda: installed.append("socketio")
    )
    from bot.settings import Settings

    launcher.install_fixes(speedups=Settings.from_env().rasa_speedups)
    assert installed == (["speedups", "socketio"] if speedups else ["socketio"])
