"""How many accepted marks the current model classifies right, per intent.

`score(marks, predictions)` is pure; `model_predictions(model, texts)` loads the trained
model (Rasa's `Agent`) and parses each text with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.nlu_review.export import example_text
from bot.nlu_review.marks import MarkView


@dataclass(frozen=True)
class IntentScore:
    intent: str
    marks: int
    right: int
    # What the model says instead, for the ones it still gets wrong: intent -> how often.
    instead: tuple[tuple[str, int], ...] = ()


def score(marks: Sequence[MarkView], predictions: Mapping[str, str | None]) -> list[IntentScore]:
    """Per chosen intent of the accepted marks: how many the model's `predictions` (text ->
    intent) get right, worst first."""
    totals: dict[str, list[int]] = {}
    wrong: dict[str, dict[str, int]] = {}
    for mark in marks:
        if mark.status != "accepted":
            continue
        predicted = predictions.get(example_text(mark.text))
        counts = totals.setdefault(mark.chosen_intent, [0, 0])
        counts[0] += 1
        if predicted == mark.chosen_intent:
            counts[1] += 1
        else:
            instead = wrong.setdefault(mark.chosen_intent, {})
            instead[predicted or "(none)"] = instead.get(predicted or "(none)", 0) + 1
    scores = [
        IntentScore(
            intent,
            n,
            right,
            tuple(sorted(wrong.get(intent, {}).items(), key=lambda item: (-item[1], item[0]))),
        )
        for intent, (n, right) in totals.items()
    ]
    return sorted(scores, key=lambda s: (s.right / s.marks, s.intent))


def model_predictions(model: Path, texts: Sequence[str]) -> dict[str, str | None]:
    """The intent the model at `model` (a trained .tar.gz) gives each text.

    Rasa's log goes to standard error, warnings only: standard output is the command's.
    """
    with contextlib.redirect_stdout(sys.stderr):
        from rasa.utils.log_utils import configure_structlog

        configure_structlog(logging.WARNING)
        return _predictions(model, texts)


def _predictions(model: Path, texts: Sequence[str]) -> dict[str, str | None]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def parse_all() -> dict[str, str | None]:
        found: dict[str, str | None] = {}
        for text in dict.fromkeys(texts):
            parsed = await agent.parse_message(text)
            found[text] = (parsed.get("intent") or {}).get("name")
        return found

    return asyncio.run(parse_all())
