"""Accepted marks as Rasa training data: redacted, deduplicated, conflicts left out.

Pure: `build_export(marks, known)` takes the accepted marks and the project's own training
examples (`training_examples(paths)`) and returns the YAML with what was left out and why.
Texts are compared case- and space-insensitively. Left out: a text marked with different
intents (a conflict), a text the project's data already has under another intent (a
conflict with the training data), and one it already has under the same intent (known).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.nlu_review.marks import MarkView
from bot.transcripts.redaction import redact

TRAINING_DATA_VERSION = "3.1"
# An entity annotation in Rasa's examples: [text](entity), [text]{...} or [text][...].
_ANNOTATION = re.compile(r"\[([^\]]+?)\](?:\([^)]*\)|\{[^}]*\}|\[[^\]]*\])")
# A redaction mask such as "[email]" followed by "(", "{" or "[" would read as an annotation.
_LOOKS_ANNOTATED = re.compile(r"\](?=[({\[])")


def normalized(text: str) -> str:
    """How texts are compared: case and spaces do not count."""
    return " ".join(text.split()).casefold()


def example_text(text: str) -> str:
    """A mark's text as one training example: redacted, on one line, nothing Rasa would parse."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in redact(text))
    return _LOOKS_ANNOTATED.sub("] ", " ".join(cleaned.split())).strip()


def training_examples(paths: Iterable[Path]) -> dict[str, set[str]]:
    """The intents of each example text (normalized, annotations read as their text) in the
    Rasa YAML files under `paths` (files or folders)."""
    found: dict[str, set[str]] = {}
    for path in paths:
        files = sorted(path.rglob("*.yml")) if path.is_dir() else [path]
        for file in files:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
            blocks = data.get("nlu") if isinstance(data, Mapping) else None
            for block in blocks or []:
                if not isinstance(block, Mapping) or "intent" not in block:
                    continue
                for line in str(block.get("examples") or "").splitlines():
                    line = line.strip()
                    if line.startswith("- "):
                        plain = _ANNOTATION.sub(r"\1", line[2:])
                        found.setdefault(normalized(plain), set()).add(str(block["intent"]))
    return found


@dataclass(frozen=True)
class Conflict:
    text: str
    intents: tuple[str, ...]  # the marks' intents
    training_intents: tuple[str, ...] = ()  # the project's data's, where it has the text


@dataclass
class Export:
    examples: dict[str, list[str]] = field(default_factory=dict)  # intent -> texts
    conflicts: list[Conflict] = field(default_factory=list)
    duplicates: int = 0  # accepted marks whose text another one already gave
    known: int = 0  # texts the training data already has under the same intent
    empty: int = 0  # marks with nothing left once redacted

    @property
    def count(self) -> int:
        return sum(len(texts) for texts in self.examples.values())

    def yaml(self) -> str:
        lines = [f'version: "{TRAINING_DATA_VERSION}"', "nlu:"]
        if not self.examples:
            lines[-1] = "nlu: []"
        for intent in sorted(self.examples):
            lines.append(f"- intent: {intent}")
            lines.append("  examples: |")
            lines.extend(f"    - {text}" for text in self.examples[intent])
        return "\n".join(lines) + "\n"


def build_export(marks: Sequence[MarkView], known: Mapping[str, set[str]] | None = None) -> Export:
    """The accepted marks among `marks` as training data, oldest mark first per text."""
    known = known or {}
    by_text: dict[str, list[tuple[str, str]]] = {}
    result = Export()
    for mark in sorted(marks, key=lambda m: (m.marked_at, m.id)):
        if mark.status != "accepted":
            continue
        text = example_text(mark.text)
        if not text:
            result.empty += 1
            continue
        by_text.setdefault(normalized(text), []).append((text, mark.chosen_intent))
    for key, entries in by_text.items():
        intents = tuple(sorted({intent for _, intent in entries}))
        text = entries[0][0]
        theirs = known.get(key, set())
        if len(intents) > 1 or (theirs and set(intents) != theirs):
            result.conflicts.append(Conflict(text, intents, tuple(sorted(theirs))))
            continue
        if theirs:
            result.known += 1
            continue
        result.duplicates += len(entries) - 1
        result.examples.setdefault(intents[0], []).append(text)
    result.conflicts.sort(key=lambda c: normalized(c.text))
    return result
