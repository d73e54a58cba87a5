"""Closing words split between two intents that end the chat alike are not a fallback."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.closing_intents import ClosingIntentResolver, resolve


def ranking(*pairs: tuple[str, float]) -> list[dict]:
    return [{"name": name, "confidence": confidence} for name, confidence in pairs]


@pytest.mark.parametrize(
    ("ranked", "chosen"),
    [
        (ranking(("nlu_fallback", 0.3), ("goodbye", 0.53), ("deny", 0.47)), "goodbye"),
        (ranking(("nlu_fallback", 0.3), ("deny", 0.5), ("goodbye", 0.5)), "goodbye"),
        (ranking(("nlu_fallback", 0.3), ("thank_you", 0.46), ("goodbye", 0.44)), "goodbye"),
        (ranking(("nlu_fallback", 0.3), ("deny", 0.48), ("thank_you", 0.45)), "deny"),
    ],
)
def test_a_split_between_closing_intents_takes_the_one_they_agree_on(ranked, chosen):
    assert resolve(ranked) == chosen


@pytest.mark.parametrize(
    "ranked",
    [
        # Two intents with different answers: still ambiguous.
        ranking(("nlu_fallback", 0.3), ("goodbye", 0.45), ("cancel_order", 0.44)),
        ranking(("nlu_fallback", 0.3), ("deny", 0.45), ("affirm", 0.44)),
        # Closing intents, but together not clearly the reading.
        ranking(("nlu_fallback", 0.3), ("goodbye", 0.25), ("deny", 0.2), ("complaint", 0.2)),
        ranking(("nlu_fallback", 0.3), ("goodbye", 0.9)),
    ],
)
def test_anything_else_stays_a_fallback(ranked):
    assert resolve(ranked) is None


def test_the_component_rewrites_only_such_fallbacks():
    resolver = ClosingIntentResolver(ClosingIntentResolver.get_default_config())
    split = Message(data={"text": "no thanks bye"})
    split.set(INTENT, {"name": "nlu_fallback", "confidence": 0.3})
    split.set(INTENT_RANKING_KEY, ranking(("nlu_fallback", 0.3), ("goodbye", 0.53), ("deny", 0.47)))
    unsure = Message(data={"text": "hmm"})
    unsure.set(INTENT, {"name": "nlu_fallback", "confidence": 0.3})
    unsure.set(INTENT_RANKING_KEY, ranking(("nlu_fallback", 0.3), ("greet", 0.2)))
    understood = Message(data={"text": "bye"})
    understood.set(INTENT, {"name": "goodbye", "confidence": 0.97})

    resolver.process([split, unsure, understood])

    assert split.get(INTENT) == {"name": "goodbye", "confidence": pytest.approx(1.0)}
    assert [r["name"] for r in split.get(INTENT_RANKING_KEY)] == ["goodbye", "deny"]
    assert unsure.get(INTENT)["name"] == "nlu_fallback"
    assert understood.get(INTENT) == {"name": "goodbye", "confidence": 0.97}
