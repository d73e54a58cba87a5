"""The external yardstick: held out from training, scored the way the customer is answered."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.nlu.external_eval import Utterance, load_external, score, split

ROOT = Path(__file__).resolve().parents[2]


def _training_texts() -> set[str]:
    texts = set()
    for path in (ROOT / "data" / "nlu").glob("*.yml"):
        for item in yaml.safe_load(path.read_text()).get("nlu", []):
            for line in str(item.get("examples", "")).splitlines():
                text = line.strip().removeprefix("- ").strip().lower()
                if text:
                    texts.add(" ".join(text.split()))
    return texts


def test_the_external_set_is_never_training_data() -> None:
    utterances = load_external(ROOT / "data" / "eval" / "external" / "utterances.csv")
    assert {u.corpus for u in utterances} == {"bitext", "clinc150"}
    assert len(utterances) > 4000
    training = _training_texts()
    assert len(training) > 3000
    leaked = [u.text for u in utterances if " ".join(u.text.lower().split()) in training]
    assert leaked == []


def test_the_halves_are_fixed_and_about_equal_for_every_intent() -> None:
    utterances = load_external(ROOT / "data" / "eval" / "external" / "utterances.csv")
    halves = [split(u) for u in utterances]
    assert set(halves) == {"dev", "test"}
    assert split(Utterance("x", "y", "greet", "hello there")) == split(
        Utterance("z", "w", "goodbye", "hello there")
    )  # the text alone decides
    for intent in {u.intent for u in utterances}:
        mine = [h for u, h in zip(utterances, halves, strict=True) if u.intent == intent]
        assert 0.3 < mine.count("test") / len(mine) < 0.7, intent


def test_a_fallback_is_right_only_for_out_of_scope_messages() -> None:
    utterances = [
        Utterance("a", "oos", "out_of_scope", "what's the weather"),
        Utterance("a", "track_order", "order_status", "where is my parcel"),
        Utterance("b", "greeting", "greet", "hi there"),
    ]
    scores = score(utterances, ["nlu_fallback", "nlu_fallback", "greet"])
    assert scores["a"].correct == 1 and scores["a"].n == 2
    assert scores["a"].confusions == {("order_status", "nlu_fallback"): 1}
    assert scores["all"].accuracy == 2 / 3
    assert scores["b"].per_intent["greet"] == [1, 1]
