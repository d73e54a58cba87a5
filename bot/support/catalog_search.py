"""Find the product a customer means, from a partial name with typos.

Names are compared word by word: each word the customer typed is matched to the closest
catalog word (difflib, so "runing" finds "running"), and products are ranked by how much of
their name those words cover, rarer words counting more (inverse document frequency).
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_WORD = re.compile(r"[a-z0-9]+")
# Words in questions about products that never identify one.
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "do",
        "does",
        "you",
        "your",
        "have",
        "has",
        "any",
        "some",
        "about",
        "tell",
        "me",
        "info",
        "information",
        "on",
        "of",
        "for",
        "in",
        "it",
        "its",
        "this",
        "that",
        "what",
        "whats",
        "which",
        "how",
        "much",
        "price",
        "cost",
        "costs",
        "there",
        "stock",
        "available",
        "i",
        "im",
        "i'm",
        "want",
        "to",
        "buy",
        "get",
        "need",
        "looking",
        "please",
        "can",
        "could",
        "would",
        "like",
        "with",
        "and",
        "or",
        "more",
        "details",
        "show",
        "know",
        "more",
        "sell",
    ]
)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("-", " "))


@dataclass(frozen=True)
class CatalogEntry:
    key: int
    name: str
    group: str
    """Products with the same group are variants of one line ("Zen Yoga Mat")."""


@dataclass(frozen=True)
class Match:
    group: str
    score: float
    keys: tuple[int, ...]
    """The entries of that group, the best-matching variant first."""


class ProductMatcher:
    """Ranks catalog entries against free text. Build once, query many times."""

    def __init__(self, entries: Iterable[CatalogEntry]) -> None:
        self._entries = list(entries)
        self._groups: dict[str, list[CatalogEntry]] = {}
        for entry in self._entries:
            self._groups.setdefault(entry.group, []).append(entry)
        self._group_words = {g: set(words(g)) for g in self._groups}
        frequency: Counter[str] = Counter()
        for group_words in self._group_words.values():
            frequency.update(group_words)
        count = len(self._groups)
        self._idf = {w: math.log(1 + count / f) for w, f in frequency.items()}
        variant_words: set[str] = set()
        for entry in self._entries:
            variant_words.update(set(words(entry.name)) - self._group_words[entry.group])
        self._vocabulary = sorted(set(self._idf) | variant_words)
        # "smartwatch" for "Smart Watch", "powerbank" for "Power Bank".
        self._compounds: dict[str, tuple[str, ...]] = {}
        for group in self._groups:
            parts = words(group)
            for first, second in zip(parts, parts[1:], strict=False):
                self._compounds[first + second] = (first, second)

    def _closest_words(self, word: str) -> tuple[str, ...]:
        if word in self._idf or word in self._vocabulary:
            return (word,)
        if len(word) < 4:
            return ()
        compound = difflib.get_close_matches(word, self._compounds, n=1, cutoff=0.85)
        if compound:
            return self._compounds[compound[0]]
        # A typo rarely changes the first letter; requiring it keeps "weather" from "sweater".
        same_start = [v for v in self._vocabulary if v[0] == word[0]]
        close = difflib.get_close_matches(word, same_start, n=1, cutoff=0.85)
        return (close[0],) if close else ()

    def search(self, text: str, limit: int = 3) -> list[Match]:
        """The best groups for `text`, best first; empty when nothing matches."""
        typed = [w for w in words(text) if w not in _STOPWORDS]
        known = {c for w in typed for c in self._closest_words(w)}
        if not known:
            return []
        matches = []
        for group, group_words in self._group_words.items():
            hit = known & group_words
            if not hit:
                continue
            # Half for how much of the product's name was typed, half for how much of what
            # was typed belongs to this product.
            name_share = sum(self._idf[w] for w in hit) / sum(self._idf[w] for w in group_words)
            typed_share = len(hit) / len(known)
            covered = (name_share + typed_share) / 2
            variants = sorted(
                self._groups[group],
                key=lambda e: -len(known & (set(words(e.name)) - group_words)),
            )
            matches.append(Match(group, covered, tuple(e.key for e in variants)))
        matches.sort(key=lambda m: (-m.score, m.group))
        return matches[:limit]

    def best(
        self, text: str, threshold: float, margin: float = 0.15
    ) -> tuple[Match | None, Sequence[Match]]:
        """The one clear match above `threshold`, or None and the candidates to ask about."""
        found = self.search(text)
        if not found:
            return None, []
        top = found[0]
        runners_up = [m for m in found[1:] if top.score - m.score < margin]
        if top.score >= threshold and not runners_up:
            return top, []
        return None, [top, *runners_up] if top.score >= threshold / 2 else []
