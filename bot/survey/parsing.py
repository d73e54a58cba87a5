"""Understand a typed survey answer: "9", "nine", "8/10", "4 out of 5", "5 stars", "⭐⭐⭐⭐", "10!!".

Anything that is not exactly one score on the asked scale is refused with a short reason,
so that the bot can re-ask: out of range, ambiguous ("7 or 8"), words ("great"), empty,
very long, or markup. Declines ("no thanks", "skip") are recognised as such.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

MAX_ANSWER_LENGTH = 200

NUMBER_WORDS = {
    "zero": 0, "nil": 0, "none": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip

# Number words outside every scale we ask on: "one hundred" must not read as 1.
_LARGE_NUMBER_WORDS = frozenset(
    [
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "sixty",
        "seventy",
        "eighty",
        "ninety",
        "hundred",
        "thousand",
        "million",
        "billion",
        "dozen",
    ]
)
_STARS = "⭐★🌟"
_MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>|[<>]")
_DECLINE = re.compile(
    r"^(?:no(?:pe|t really|t now|\s+thanks?|\s+thank\s+you|\s+way)?|nah|skip(?:\s+(?:it|this|that|the survey))?"
    r"|stop|pass|later|not interested|no time|i'?d rather not|rather not|don'?t want to"
    r"|i don'?t want to(?: answer)?|never\s?mind|forget (?:it|about it)|leave me alone|no survey|no more questions|bye|goodbye|bye bye)"
    r"[\s.!]*$"
)
# "8/10", "8 / 10", "4 out of 5", "4 of 5": a score with the scale it was given on.
_FRACTION = re.compile(r"(?<![\d.])(-?\d+)\s*(?:/|out\s+of|of)\s*(\d+)(?!\d|[.,]\d)")
_STARS_PHRASE = re.compile(r"(?<![\d.])(\d+)\s*stars?\b")
_NUMBER_WORD = re.compile(r"\b(" + "|".join(NUMBER_WORDS) + r")\b")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:[.,]\d+)?(?![\w.]*\d)")
_WORD = re.compile(r"[a-z']+")
# Words that may surround a score typed in words: "I'd give you a nine", "a solid eight".
# Number words count only when nothing else is said: in "I'd recommend this one", "one"
# is not a score.
_FILLER_WORDS = frozenset(
    [
        "i",
        "i'd",
        "id",
        "i'll",
        "ill",
        "would",
        "will",
        "give",
        "you",
        "a",
        "an",
        "it",
        "that",
        "say",
        "rate",
        "solid",
        "maybe",
        "about",
        "around",
        "probably",
        "definitely",
        "score",
        "is",
        "my",
        "out",
        "of",
        "stars",
        "star",
        "points",
    ]
)
_JOINERS = frozenset({"or", "and", "to", "no", "hmm", "yes"})


class AnswerKind(Enum):
    SCORE = "score"
    DECLINED = "declined"
    INVALID = "invalid"


@dataclass(frozen=True)
class ScoreAnswer:
    kind: AnswerKind
    value: int | None = None
    problem: str | None = None

    @property
    def is_score(self) -> bool:
        return self.kind is AnswerKind.SCORE


def _invalid(problem: str) -> ScoreAnswer:
    return ScoreAnswer(AnswerKind.INVALID, problem=problem)


def is_decline(text: str) -> bool:
    """Whether `text` says "I don't want to answer" (and nothing else)."""
    return bool(_DECLINE.match(" ".join(text.lower().split())))


def _in_scale(value: int, low: int, high: int) -> ScoreAnswer:
    if low <= value <= high:
        return ScoreAnswer(AnswerKind.SCORE, value)
    return _invalid(f"{value} is not between {low} and {high}")


def parse_score(text: str | None, low: int, high: int) -> ScoreAnswer:
    """Read one score on the scale `low`..`high` from what the customer typed."""
    if text is None or not text.strip():
        return _invalid("the answer was empty")
    if len(text) > MAX_ANSWER_LENGTH:
        return _invalid("the answer was too long")
    if _MARKUP.search(text):
        return _invalid("the answer contained markup")
    lowered = " ".join(text.lower().split())
    if is_decline(lowered):
        return ScoreAnswer(AnswerKind.DECLINED)
    if any(w in _LARGE_NUMBER_WORDS for w in _WORD.findall(lowered)):
        return _invalid(f"that is not between {low} and {high}")
    words = _WORD.findall(lowered)
    number_words = [w for w in words if w in NUMBER_WORDS]
    if words and all(w in _FILLER_WORDS or w in NUMBER_WORDS or w in _JOINERS for w in words):
        # "nine out of ten" reads like "9 out of 10"; "three or four" stays ambiguous.
        lowered = _NUMBER_WORD.sub(lambda m: str(NUMBER_WORDS[m.group(1)]), lowered)
    elif number_words and _NUMBER.search(lowered):
        return _invalid("more than one score")

    stars = [ch for ch in lowered if ch in _STARS]
    if stars:
        rest = "".join(ch for ch in lowered if ch not in _STARS and ch not in "\ufe0f")
        if rest.strip(" !.") == "":
            return _in_scale(len(stars), low, high)
        return _invalid("stars mixed with other text")

    fractions = _FRACTION.findall(lowered)
    if fractions:
        if len({(a, b) for a, b in fractions}) > 1:
            return _invalid("more than one score")
        numerator, denominator = (int(x) for x in fractions[0])
        if denominator != high:
            return _invalid(f"the scale is {low} to {high}")
        remainder = _FRACTION.sub(" ", lowered)
        if _NUMBER.search(remainder):
            return _invalid("more than one score")
        return _in_scale(numerator, low, high)

    star_phrases = set(_STARS_PHRASE.findall(lowered))
    if star_phrases:
        if len(star_phrases) > 1 or _NUMBER.search(_STARS_PHRASE.sub(" ", lowered)):
            return _invalid("more than one score")
        return _in_scale(int(star_phrases.pop()), low, high)

    numbers = {n.replace(",", ".") for n in _NUMBER.findall(lowered)}
    if len(numbers) > 1:
        return _invalid("more than one score")
    if numbers:
        raw = numbers.pop()
        if "." in raw:
            return _invalid("the score must be a whole number")
        return _in_scale(int(raw), low, high)
    return _invalid("there was no score in the answer")


def parse_nps(text: str | None) -> ScoreAnswer:
    """The likelihood to recommend, 0 to 10."""
    return parse_score(text, 0, 10)


def parse_csat(text: str | None) -> ScoreAnswer:
    """Satisfaction with the conversation, 1 to 5."""
    return parse_score(text, 1, 5)
