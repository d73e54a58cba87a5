"""Understand a manager's question about the experiments, from its words alone.

"which experiments are running?" lists them; "how is the survey timing test doing?" asks
about one (found by the words of its name or a variant's name); "did variant B win?" asks
whether a variant beat the control. Pure: no I/O, no Rasa.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from bot.experiments.declarations import Experiment

# Words that make a question about experiments rather than about a metric.
_ABOUT: Final = re.compile(
    r"\b(?:experiments?|a ?b tests?|split tests?|tests?|trials?|variants?|versions?)\b"
)
_LIST: Final = re.compile(
    r"\b(?:which|what|list|any|all|show(?: me)?|how many)\b(?:\s+\w+){0,3}?\s+"
    r"(?:experiments|a ?b tests|split tests|tests|trials)\b"
    r"|\b(?:experiments|tests) (?:are|do we|have we|did we)\b"
)
_WINNER: Final = re.compile(
    r"\b(?:win|wins|won|winning|winner|beat|beats|beating|outperform\w*|better|worse|best|ship|shipped|lose|lost)\b"
)
_RUNNING: Final = re.compile(r"\b(?:running|live|active|ongoing|current|currently|now)\b")
_FINISHED: Final = re.compile(
    r"\b(?:finished|decided|done|ended|stopped|past|completed|concluded|old)\b"
)
_BY_VARIANT: Final = re.compile(r"\b(?:by|per|for each|across) (?:variants?|versions?)\b")
_VARIANT: Final = re.compile(r"\b(?:variant|version|arm|group)\s+([a-z0-9][a-z0-9-]*)\b")
# Words that follow "variant" without naming one ("which variant won").
_NOT_NAMES: Final = frozenset(
    [
        "won",
        "win",
        "wins",
        "winning",
        "beat",
        "beats",
        "is",
        "was",
        "did",
        "does",
        "do",
        "has",
        "had",
        "of",
        "that",
        "which",
        "performed",
        "performs",
        "should",
        "would",
        "will",
        "are",
        "better",
        "worse",
        "best",
    ]
)
# Other ways managers name the words experiments are named with.
_SYNONYMS: Final = {
    "hand off": "handoff",
    "hand over": "handoff",
    "handover": "handoff",
    "escalation": "handoff",
    "recommendations": "recommender",
    "recommendation": "recommender",
    "suggestions": "recommender",
    "surveys": "survey",
    "questionnaire": "survey",
    "feedback question": "survey",
    "tone of voice": "tone",
    "replies": "reply",
}
# Name words too common to pick an experiment by themselves.
_WEAK: Final = frozenset({"model", "test", "early", "short", "standard"})


@dataclass(frozen=True)
class ExperimentQuestion:
    """What a question about experiments asks.

    Attributes:
        kind: "list" (which experiments there are), "one" (how one is doing) or "winner"
            (whether a variant beat the control).
        experiment: The experiment asked about, when the words name one.
        variant: The variant asked about ("did variant B win?"), when named.
        status: For a list: "running", "finished" or None for all.
        candidates: For a question that fits several experiments equally, their names.
    """

    kind: str
    experiment: str | None = None
    variant: str | None = None
    status: str | None = None
    candidates: tuple[str, ...] = ()


def normalise(text: str) -> str:
    """Lower case, "a/b" -> "a b", other punctuation to spaces, synonyms to name words."""
    lowered = re.sub(r"['\u2019]", "", text.lower())
    lowered = " ".join(re.sub(r"[^a-z0-9]+", " ", lowered).split())
    for phrase, word in _SYNONYMS.items():
        lowered = re.sub(rf"\b{phrase}\b", word, lowered)
    return lowered


def _name_words(experiment: Experiment) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", experiment.name.lower()) if w}


def _variant_named(text: str, experiment: Experiment) -> str | None:
    """The variant of `experiment` the text names first ("variant B", "is ALS beating
    EASE?" is about ALS), or None."""
    found = _variants_named(text, experiment)
    return found[0] if found else None


def _variants_named(text: str, experiment: Experiment) -> list[str]:
    """The variants of `experiment` the text names, in the order it names them."""
    found: list[tuple[int, str]] = []
    for match in _VARIANT.finditer(text):
        for variant in experiment.variants:
            if variant.name.lower() == match.group(1):
                found.append((match.start(1), variant.name))
    padded = f" {text} "
    for variant in experiment.variants:
        spaced = variant.name.lower().replace("-", " ")
        if len(spaced) > 1 and f" {spaced} " in padded:
            found.append((padded.index(f" {spaced} "), variant.name))
    return list(dict.fromkeys(name for _, name in sorted(found)))


def _asked_variant(text: str) -> str | None:
    """The word after "variant" ("did variant Q win?" -> "q"), whatever the experiments."""
    return next((m.group(1) for m in _VARIANT.finditer(text) if m.group(1) not in _NOT_NAMES), None)


def _scores(text: str, experiments: list[Experiment]) -> dict[str, float]:
    """How strongly the text names each experiment: its name's words, then its variants'."""
    words = set(text.split())
    scores: dict[str, float] = {}
    for experiment in experiments:
        named = _name_words(experiment) & words
        score = sum(0.5 if w in _WEAK else 1.0 for w in named)
        if experiment.name.replace("-", " ") in text:
            score += 1.0
        variants = _variants_named(text, experiment)
        score += 0.75 * min(len(variants), 2)  # "is ALS beating EASE?" names both
        if score:
            scores[experiment.name] = score
    return scores


def parse_experiment_question(
    text: str, experiments: list[Experiment]
) -> ExperimentQuestion | None:
    """The question about experiments in `text`, or None when it is not about experiments.

    A question is about experiments when it says so ("experiment", "A/B test", "variant")
    or names a declared experiment by its name's words ("the early hand-off one").
    """
    normalised = normalise(text)
    scores = _scores(normalised, experiments)
    strong = {name: s for name, s in scores.items() if s >= 1.0}
    if not strong and _BY_VARIANT.search(normalised):
        return None  # "CSAT by variant" is a metric's breakdown
    if not _ABOUT.search(normalised) and not strong:
        return None
    best = max(scores.values(), default=0.0)
    top = tuple(name for name, score in scores.items() if score == best)
    winner = bool(_WINNER.search(normalised))
    asked_variant = _asked_variant(normalised)
    if len(top) == 1 and (best >= 1.0 or (best > 0 and not _LIST.search(normalised))):
        experiment = next(e for e in experiments if e.name == top[0])
        variant = _variant_named(normalised, experiment) or asked_variant
        return ExperimentQuestion("winner" if winner else "one", experiment.name, variant)
    if len(top) > 1 and best >= 0.75:
        return ExperimentQuestion(
            "winner" if winner else "one", None, asked_variant, candidates=top
        )
    if winner and asked_variant:
        return ExperimentQuestion("winner", None, asked_variant)
    status = (
        "finished"
        if _FINISHED.search(normalised)
        else "running"
        if _RUNNING.search(normalised)
        else None
    )
    return ExperimentQuestion("list", status=status)
