"""The held-out yardstick: externally written support messages, mapped to our intents.

`data/eval/external/utterances.csv` (sources, licences and the mapping in its README) is never
training data; `score` compares what the classifier answered with the mapped intents. A fallback
(`nlu_fallback`) counts as right only where the message is out of scope, because that is what the
customer is then told.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

EXTERNAL_SET = Path("data/eval/external/utterances.csv")
FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class Utterance:
    corpus: str
    source_intent: str
    intent: str
    text: str


@dataclass
class Score:
    """Accuracy of one corpus, recall per expected intent and the commonest confusions."""

    corpus: str
    n: int = 0
    correct: int = 0
    per_intent: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0


def load_external(path: Path = EXTERNAL_SET) -> list[Utterance]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [Utterance(**row) for row in csv.DictReader(handle)]


def split(utterance: Utterance) -> str:
    """The half of the set a message is in, "dev" or "test", by a hash of its text.

    Misses on the "dev" half may be read when writing training data; the "test" half is only
    ever scored, so its accuracy stays a measure of wording nobody here has seen.
    """
    digest = hashlib.sha256(utterance.text.encode("utf-8")).digest()
    return "dev" if digest[0] % 2 == 0 else "test"


def is_right(expected: str, predicted: str) -> bool:
    return predicted == expected or (predicted == FALLBACK and expected == OUT_OF_SCOPE)


def score(utterances: list[Utterance], predictions: list[str]) -> dict[str, Score]:
    """Scores by corpus (and "all"), from each utterance's predicted intent in the same order."""
    if len(utterances) != len(predictions):
        raise ValueError("one prediction per utterance")
    scores: dict[str, Score] = {}
    for utterance, predicted in zip(utterances, predictions, strict=True):
        for corpus in (utterance.corpus, "all"):
            result = scores.setdefault(corpus, Score(corpus))
            right = is_right(utterance.intent, predicted)
            result.n += 1
            result.correct += right
            result.per_intent[utterance.intent][0] += right
            result.per_intent[utterance.intent][1] += 1
            if not right:
                result.confusions[(utterance.intent, predicted)] += 1
    return scores
