"""`supportbot train-recommender --model ease als [--if-missing]`: one model file per kind."""

from __future__ import annotations

import argparse
import json

import pytest

from bot.bootstrap import bootstrap
from bot.cli import cmd_train_recommender
from bot.demo.seed import seed_demo
from bot.recommender import evaluation
from bot.recommender.shop import model_files, model_folder


@pytest.fixture
def seeded(settings, session_factory, monkeypatch):
    seed_demo(session_factory, settings)
    # One candidate per model: the search itself is tested with the evaluation.
    monkeypatch.setattr(
        evaluation,
        "SEARCH_SPACES",
        {name: space[:1] for name, space in evaluation.SEARCH_SPACES.items()},
    )
    return settings


def train(settings, capsys, models, if_missing=False):
    args = argparse.Namespace(model=models, if_missing=if_missing, json=True)
    assert cmd_train_recommender(settings, args) == 0
    out = capsys.readouterr().out
    return json.loads(out) if out.strip() else None


def test_trains_both_kinds_and_the_action_server_holds_both(seeded, capsys):
    rows = train(seeded, capsys, ["ease", "als"])
    assert [r["model"] for r in rows] == ["ease", "als"]
    folder = model_folder(seeded)
    [ease] = model_files(folder, "ease")
    [als] = model_files(folder, "als")
    assert {r["path"] for r in rows} == {str(ease), str(als)}
    services = bootstrap(seeded)
    try:
        assert services.recommender("ease").path == ease
        assert services.recommender("als").path == als
        assert services.recommender("als") is services.recommender("als")
    finally:
        services.close()


def test_if_missing_trains_only_the_missing_kind(seeded, capsys):
    single = train(seeded, capsys, ["ease"])
    assert single["model"] == "ease"  # one model asked for: one object, as before
    rows = train(seeded, capsys, ["ease", "als"], if_missing=True)
    assert [r["model"] for r in rows] == ["als"]
    folder = model_folder(seeded)
    assert len(model_files(folder, "ease")) == 1 and len(model_files(folder, "als")) == 1
    assert train(seeded, capsys, ["ease", "als"], if_missing=True) == []


def test_the_default_is_the_default_model(seeded, capsys):
    assert train(seeded, capsys, None)["model"] == "ease"
