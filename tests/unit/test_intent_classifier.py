"""The bot's intent classifier (bot/nlu/intent_classifier.py), trained on the real data/nlu."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.intent_classifier import MODEL_FILE, ShopIntentClassifier

NLU_DATA = Path(__file__).resolve().parents[2] / "data" / "nlu"
TRAIN_PER_INTENT = 40
TEST_PER_INTENT = 10

# Wordings that are in none of data/nlu's examples (checked by a test below).
HELD_OUT = {
    "where has my parcel got to? it's order 104871": "order_status",
    "please cancel the order i placed this morning": "cancel_order",
    "the kettle arrived broken and i'd like to send it back": "return_request",
    "when will the money for my return be back on my card": "refund_status",
    "how much is delivery to scotland": "shipping_info",
    "i moved house, can you send it to my new flat instead": "change_address",
    "can i speak to an actual person please": "request_human",
    "am i talking to a real human or a program": "bot_challenge",
    "hiya, hope you're doing well": "greet",
}


def _examples() -> list[Message]:
    return [
        e for e in load_data(str(NLU_DATA)).intent_examples if e.get("text") and e.get("intent")
    ]


def _split() -> tuple[list[Message], list[Message]]:
    """The first examples of each intent to train, the next few to test."""
    by_intent: dict[str, list[Message]] = defaultdict(list)
    for example in _examples():
        by_intent[example.get("intent")].append(example)
    train, test = [], []
    for examples in by_intent.values():
        train += examples[:TRAIN_PER_INTENT]
        test += examples[TRAIN_PER_INTENT : TRAIN_PER_INTENT + TEST_PER_INTENT]
    return train, test


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), node_name="intent_classifier")


def _train(
    storage_path: Path, examples: list[Message], **config: object
) -> tuple[ShopIntentClassifier, LocalModelStorage, Resource]:
    storage = LocalModelStorage(storage_path)
    resource = Resource("intent_classifier")
    component = ShopIntentClassifier.create(config, storage, resource, _context())
    component.train(TrainingData(examples))
    return component, storage, resource


def _parse(component: ShopIntentClassifier, text: str) -> Message:
    message = Message.build(text)
    component.process([message])
    return message


@pytest.fixture(scope="module")
def split() -> tuple[list[Message], list[Message]]:
    return _split()


@pytest.fixture(scope="module")
def trained(
    tmp_path_factory: pytest.TempPathFactory, split: tuple[list[Message], list[Message]]
) -> tuple[ShopIntentClassifier, LocalModelStorage, Resource]:
    return _train(tmp_path_factory.mktemp("model"), split[0])


def test_held_out_wordings_are_not_in_the_training_data() -> None:
    texts = {e.get("text").lower() for e in _examples()}
    assert not texts & set(HELD_OUT)


@pytest.mark.parametrize(("text", "intent"), sorted(HELD_OUT.items()))
def test_classifies_held_out_wordings(trained, text: str, intent: str) -> None:
    component, _, _ = trained
    assert _parse(component, text).get("intent")["name"] == intent


def test_accuracy_on_held_out_examples(trained, split) -> None:
    component, _, _ = trained
    test = split[1]
    right = sum(
        _parse(component, e.get("text")).get("intent")["name"] == e.get("intent") for e in test
    )
    assert len(test) >= 150
    assert right / len(test) >= 0.8


def test_ranking_is_sorted_top_10_and_sums_to_at_most_1(trained) -> None:
    component, _, _ = trained
    message = _parse(component, "is the alpine down jacket warm enough for skiing?")
    intent, ranking = message.get("intent"), message.get("intent_ranking")
    assert len(ranking) == 10
    confidences = [r["confidence"] for r in ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) <= 1.0 + 1e-9
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert intent == ranking[0]
    assert set(intent) == {"name", "confidence"}
    assert isinstance(intent["confidence"], float)
    assert message.as_dict_nlu().get("intent_ranking") == ranking


def test_full_ranking_is_a_probability_distribution(tmp_path: Path, split) -> None:
    component, _, _ = _train(tmp_path, split[0], ranking_length=0)
    ranking = _parse(component, "my card got declined at checkout").get("intent_ranking")
    assert len(ranking) == len({e.get("intent") for e in split[0]})
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)


def test_persists_and_loads_to_identical_predictions(trained, split) -> None:
    component, storage, resource = trained
    with storage.read_from(resource) as directory:
        assert [p.name for p in directory.iterdir()] == [MODEL_FILE]
    loaded = ShopIntentClassifier.load({}, storage, resource, _context())
    for text in [e.get("text") for e in split[1]] + list(HELD_OUT):
        assert _parse(loaded, text).get("intent_ranking") == _parse(component, text).get(
            "intent_ranking"
        )


def test_empty_or_unknown_text_gets_no_intent_and_falls_back(trained) -> None:
    component, _, _ = trained
    fallback = FallbackClassifier({"threshold": 0.3})
    for text in ["", "   ", "\U0001f937"]:
        message = _parse(component, text)
        assert message.get("intent") == {"name": None, "confidence": 0.0}
        assert message.get("intent_ranking") == []
        fallback.process([message])
        assert message.get("intent")["name"] == "nlu_fallback"


def test_load_without_a_trained_model_gives_an_untrained_component(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    component = ShopIntentClassifier.load({}, storage, Resource("missing"), _context())
    assert _parse(component, "hello").get("intent") == {"name": None, "confidence": 0.0}


def test_two_intents(tmp_path: Path, split) -> None:
    examples = [e for e in split[0] if e.get("intent") in ("greet", "goodbye")]
    component, _, _ = _train(tmp_path, examples)
    hello, bye = _parse(component, "hello there"), _parse(component, "bye for now")
    assert hello.get("intent")["name"] == "greet"
    assert bye.get("intent")["name"] == "goodbye"
    assert sum(r["confidence"] for r in bye.get("intent_ranking")) == pytest.approx(1.0)


def _shout(texts):
    return [text.upper() for text in texts]


def test_a_saved_model_with_code_of_its_own_is_refused(tmp_path: Path) -> None:
    import skops.io as sio
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    storage = LocalModelStorage(tmp_path)
    resource = Resource("intent_classifier")
    with storage.write_to(resource) as directory:
        sio.dump(Pipeline([("shout", FunctionTransformer(_shout))]), directory / MODEL_FILE)
    with pytest.raises(InvalidConfigException, match="unexpected types"):
        ShopIntentClassifier.load({}, storage, resource, _context())


def test_an_intent_with_one_example_is_a_clear_error(tmp_path: Path, split) -> None:
    examples = [e for e in split[0] if e.get("intent") in ("greet", "goodbye")]
    lonely = Message.build("where is my order", intent="order_status")
    with pytest.raises(ValueError, match="at least two examples.*order_status"):
        _train(tmp_path, [*examples, lonely])


def test_thanks_thats_all_is_goodbye_and_thanks_is_thank_you(tmp_path: Path) -> None:
    component, _, _ = _train(tmp_path, _examples())
    assert _parse(component, "thanks, that's all").get("intent")["name"] == "goodbye"
    assert _parse(component, "thanks").get("intent")["name"] == "thank_you"
    assert _parse(component, "thank you so much for your help").get("intent")["name"] == "thank_you"


def test_message_features_equal_scikit_learns_transform(trained, split) -> None:
    component, _, _ = trained
    union = component.pipeline.named_steps["features"]
    texts = [component._text(e.get("text")) for e in split[1]] + [
        component._text(t) for t in [*HELD_OUT, "", "x", "ok ok ok", "\U0001f937 thx!!"]
    ]
    for text in texts:
        ours = component.model.features.row(text)
        theirs = union.transform([text])
        assert ours.shape == theirs.shape
        assert abs(ours - theirs).max() < 1e-12
        assert sorted(ours.indices) == sorted(theirs.indices)


def test_calibrated_scores_equal_scikit_learns_predict_proba(trained, split) -> None:
    component, _, _ = trained
    classifier = component.pipeline.named_steps["classifier"]
    assert component.model.scores is not None  # the fast path is the one in use
    texts = [e.get("text") for e in split[1]] + [*HELD_OUT, "x", "ok ok ok", "\U0001f937 thx!!"]
    compared = 0
    for text in texts:
        row = component.model.features.row(component._text(text))
        if row.nnz == 0:
            continue
        ours = component.model.scores.probabilities(row)
        theirs = classifier.predict_proba(row)[0]
        assert np.abs(ours - theirs).max() < 1e-12
        assert ours.argmax() == theirs.argmax()
        compared += 1
    assert compared > 100


def test_two_intents_use_scikit_learns_own_probabilities(tmp_path: Path, split) -> None:
    examples = [e for e in split[0] if e.get("intent") in ("greet", "goodbye")]
    component, _, _ = _train(tmp_path, examples)
    assert component.model.scores is None
    assert component.predict("hello there")[0][0] == "greet"


@pytest.fixture(scope="module")
def trained_with_embeddings(
    tmp_path_factory: pytest.TempPathFactory, split: tuple[list[Message], list[Message]]
) -> tuple[ShopIntentClassifier, LocalModelStorage, Resource]:
    return _train(tmp_path_factory.mktemp("model"), split[0], embedding_weight=1.0)


def test_with_embeddings_the_classifier_reads_both_blocks(trained_with_embeddings) -> None:
    component, _, _ = trained_with_embeddings
    width = component.pipeline.named_steps["classifier"].n_features_in_
    assert width == component.model.features.size + 384
    for text, intent in HELD_OUT.items():
        assert _parse(component, text).get("intent")["name"] == intent


def test_with_embeddings_scores_equal_scikit_learns_predict_proba(
    trained_with_embeddings, split
) -> None:
    from bot.nlu.intent_classifier import _combine, shared_encoder

    component, _, _ = trained_with_embeddings
    classifier = component.pipeline.named_steps["classifier"]
    texts = [e.get("text") for e in split[1]][:60] + list(HELD_OUT)
    vectors = shared_encoder().encode(texts)
    for text, vector in zip(texts, vectors, strict=True):
        row = component.model.features.row(component._text(text))
        ours = component.model.scores.probabilities(row, vector.astype(np.float64))
        theirs = classifier.predict_proba(_combine(row, vector[None, :], 1.0, 1))[0]
        assert np.abs(ours - theirs).max() < 1e-12


def test_with_embeddings_persists_and_loads_to_identical_predictions(
    trained_with_embeddings, split
) -> None:
    component, storage, resource = trained_with_embeddings
    loaded = ShopIntentClassifier.load({"embedding_weight": 1.0}, storage, resource, _context())
    for text in [e.get("text") for e in split[1]][:40] + list(HELD_OUT):
        assert _parse(loaded, text).get("intent_ranking") == _parse(component, text).get(
            "intent_ranking"
        )


def test_a_model_loaded_with_another_embedding_setting_is_refused(trained) -> None:
    _, storage, resource = trained
    with pytest.raises(InvalidConfigException, match="train again"):
        ShopIntentClassifier.load({"embedding_weight": 1.0}, storage, resource, _context())


def test_with_embeddings_unknown_text_still_falls_back(trained_with_embeddings) -> None:
    component, _, _ = trained_with_embeddings
    for text in ["", "   ", "\U0001f937"]:
        assert _parse(component, text).get("intent") == {"name": None, "confidence": 0.0}
