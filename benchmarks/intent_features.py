"""Intent features side by side: TF-IDF n-grams, MiniLM sentence embeddings, and both.

    .venv/bin/python benchmarks/intent_features.py [--folds 5] [--candidates NAME ...]

For each candidate, in one run on the same data and the same folds:
  in-house   5-fold cross-validation on data/nlu (macro-F1 and accuracy);
  external   trained on all of data/nlu, scored on data/eval/external (never trained on), by
             corpus and by half: "dev" is the half whose misses may be read when writing
             training data, "test" the half nobody reads (bot.nlu.external_eval.split);
  speed      the median time to featurise and classify one message, one at a time.
The scores apply the FallbackClassifier as config.yml sets it (threshold, ambiguity) and the
closing-intent resolver, so they are what the bot would answer; `make eval-nlu` measures the
trained Rasa model itself. Sentence embeddings of every text are computed once per run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.nlu.closing_intents import resolve  # noqa: E402
from bot.nlu.external_eval import FALLBACK, load_external, score, split  # noqa: E402
from bot.nlu.intent_classifier import IntentModel, normalise, shared_encoder  # noqa: E402


@dataclass(frozen=True)
class Candidate:
    name: str
    description: str
    embedding_weight: float  # 0: TF-IDF only
    tfidf: bool = True


CANDIDATES = [
    Candidate(
        "tfidf", "TF-IDF words 1-2 + chars 2-5, calibrated linear SVM (production before)", 0.0
    ),
    Candidate(
        "minilm", "MiniLM-L6 sentence embedding alone, calibrated linear SVM", 1.0, tfidf=False
    ),
    Candidate("tfidf+minilm", "both, the embedding weighted 1", 1.0),
    Candidate("tfidf+minilm x0.5", "both, the embedding weighted 0.5", 0.5),
    Candidate("tfidf+minilm x2", "both, the embedding weighted 2", 2.0),
]


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fallback_settings() -> tuple[float, float]:
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    for component in config["pipeline"]:
        if component["name"] == "FallbackClassifier":
            return float(component.get("threshold", 0.3)), float(
                component.get("ambiguity_threshold", 0.1)
            )
    return 0.3, 0.1


def answered(ranked: list[tuple[str, float]], threshold: float, ambiguity: float) -> str:
    """The intent the bot acts on: the FallbackClassifier, then the closing-intent resolver."""
    if not ranked:
        return FALLBACK
    top = ranked[0][1]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    if top >= threshold and top - second >= ambiguity:
        return ranked[0][0]
    chosen = resolve([{"name": n, "confidence": c} for n, c in ranked])
    return chosen or FALLBACK


def training_examples() -> tuple[list[str], np.ndarray]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(ROOT / "data" / "nlu"))
    examples = [e for e in data.intent_examples if e.get("intent") and e.get("text")]
    return [e.get("text") for e in examples], np.asarray([e.get("intent") for e in examples])


def cross_validate(
    candidate: Candidate,
    texts: list[str],
    vectors: np.ndarray,
    labels: np.ndarray,
    folds: int,
    settings: tuple[float, float],
) -> tuple[float, float]:
    predicted = np.empty(len(texts), dtype=object)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=42).split(texts, labels):
        model = fit(candidate, [texts[i] for i in train], vectors[train], labels[train])
        for i in test:
            predicted[i] = answered(
                model.predict(_text(candidate, texts[i]), vectors[i]), *settings
            )
    return (
        float(f1_score(labels, predicted.astype(str), average="macro")),
        float(accuracy_score(labels, predicted.astype(str))),
    )


def _text(candidate: Candidate, text: str) -> str:
    """What the model reads of a message: normalised, as the bot's classifier does."""
    return normalise(text) if candidate.tfidf else text


def fit(
    candidate: Candidate, texts: list[str], vectors: np.ndarray, labels: np.ndarray
) -> IntentModel:
    return IntentModel.fit(
        [normalise(t) for t in texts] if candidate.tfidf else None,
        vectors if candidate.embedding_weight else None,
        labels,
        embedding_weight=candidate.embedding_weight or 1.0,
    )


def median_ms(call: Callable[[str], object], texts: list[str]) -> float:
    """The median time of `call(text)` over the texts, one at a time, in ms."""
    times = []
    for text in texts:
        started = time.perf_counter()
        call(text)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--candidates", nargs="*", default=[c.name for c in CANDIDATES])
    parser.add_argument("--speed-messages", type=int, default=200)
    args = parser.parse_args()
    chosen = [c for c in CANDIDATES if c.name in args.candidates]
    settings = fallback_settings()
    texts, labels = training_examples()
    external = load_external(ROOT / "data" / "eval" / "external" / "utterances.csv")
    progress(f"{len(texts)} training examples, {len(external)} external messages")
    encoder = shared_encoder()  # the one the bot uses (ONNX Runtime, int8 weights)
    started = time.perf_counter()
    vectors = encoder.encode(texts)
    external_vectors = encoder.encode([u.text for u in external])
    progress(f"embedded every text in {time.perf_counter() - started:.0f} s")
    sample = [u.text for u in external[:: max(1, len(external) // args.speed_messages)]]
    encode_ms = median_ms(lambda text: encoder.encode([text]), sample)
    rows = []
    for candidate in chosen:
        progress(f"{candidate.name}: cross-validating")
        macro_f1, accuracy = cross_validate(candidate, texts, vectors, labels, args.folds, settings)
        progress(f"{candidate.name}: external set")
        model = fit(candidate, texts, vectors, labels)
        predictions = [
            answered(model.predict(_text(candidate, u.text), external_vectors[i]), *settings)
            for i, u in enumerate(external)
        ]
        by_half = {
            half: score(
                [u for u in external if split(u) == half],
                [p for u, p in zip(external, predictions, strict=True) if split(u) == half],
            )
            for half in ("dev", "test")
        }
        overall = score(external, predictions)
        classify_ms = median_ms(
            lambda text, m=model, c=candidate: m.predict(_text(c, text), external_vectors[0]),
            sample,
        )
        parse_ms = classify_ms + (encode_ms if candidate.embedding_weight else 0.0)
        rows.append((candidate, macro_f1, accuracy, overall, by_half, parse_ms))
        weakest = sorted(overall["all"].per_intent.items(), key=lambda kv: kv[1][0] / kv[1][1])[:6]
        progress(
            f"  in-house macro-F1 {macro_f1:.3f}; external {overall['all'].accuracy:.3f}; weakest "
            + ", ".join(f"{i} {r / n:.2f}" for i, (r, n) in weakest)
        )
    print(f"\n{len(texts)} training examples, {args.folds}-fold CV; external n={len(external)}")
    print(
        "| candidate | in-house macro-F1 | in-house acc. | external all | Bitext | CLINC150 | dev half | test half | ms / message |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for candidate, macro_f1, accuracy, overall, by_half, parse_ms in rows:
        print(
            f"| {candidate.name} | {macro_f1:.3f} | {accuracy:.3f} | {overall['all'].accuracy:.3f} "
            f"| {overall['bitext'].accuracy:.3f} | {overall['clinc150'].accuracy:.3f} "
            f"| {by_half['dev']['all'].accuracy:.3f} | {by_half['test']['all'].accuracy:.3f} "
            f"| {parse_ms:.1f} |"
        )
    for candidate, *_rest, overall, _halves, _ms in rows:
        print(f"\n{candidate.name}: {candidate.description}; recall per intent (external)")
        for intent, (right, n) in sorted(overall["all"].per_intent.items()):
            print(f"  {intent:<16} {right / n:.3f} ({right}/{n})")


if __name__ == "__main__":
    main()
