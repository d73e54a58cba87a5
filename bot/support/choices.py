"""Typed answers to the bot's own buttons: "sports", "the second one", "the yoga mat".

When the bot offers buttons (categories, suggested products, a customer's orders), a
customer may type instead of pressing one. `pick` finds the one button the text means, by
its place in the list or by the words of its title, and only when the text is mostly about
that button: "where is my order with the shoes?" after category buttons is a question about
an order, not a pick of Footwear.

The buttons offered are remembered in the `offered_choices` slot, set by the action that
offers them; `offered_before` reads which were offered just before the latest message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.support.categories import CATEGORY_WORDS

SLOT = "offered_choices"

_WORD = re.compile(r"[a-z0-9]+")
_ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "fifth": 5, "5th": 5, "sixth": 6, "6th": 6,
}  # fmt: skip
_NUMBERED = re.compile(r"\b(?:number|option|no|nr|#)\s*(\d{1,2})\b")
# Words that say nothing about which button: they neither pick one nor speak against a pick.
_FILLER_WORDS = """a an the one ones that this it me i i'd id i'll ill want would like please pls take
    show tell about more info information on of for in with and or to is are s some
    something stuff things thing can could you get have let see ok okay yes yeah maybe
    then just how what which do does go looking look need my mine number option nr"""
_FILLER = frozenset(_FILLER_WORDS.split())
# A pick is a short answer, not a sentence that happens to contain "second".
MAX_PICK_WORDS = 8


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("'", ""))


def parse_payload(payload: str) -> tuple[str | None, dict[str, Any]]:
    """The intent and entities of a button payload: '/ask_recommendation{"category": "Garden"}'.

    A payload that is not an intent (an order number, say) has no intent and no entities.
    """
    if not payload.startswith("/"):
        return None, {}
    name, brace, rest = payload[1:].partition("{")
    entities: dict[str, Any] = {}
    if brace:
        try:
            parsed = json.loads(brace + rest)
        except ValueError:
            parsed = {}
        entities = parsed if isinstance(parsed, dict) else {}
    return name.strip() or None, entities


def _title_words(choice: Mapping[str, Any]) -> set[str]:
    """The words that name a button: its title's, and for a category the words for it."""
    title = str(choice.get("title") or "")
    words = {_stem(w) for w in _words(title)} - {_stem(w) for w in _FILLER}
    _, entities = parse_payload(str(choice.get("payload") or ""))
    category = entities.get("category")
    if isinstance(category, str):
        words |= {_stem(w) for w in CATEGORY_WORDS.get(category, ())}
    return words


def _by_place(words: list[str], count: int) -> int | None:
    places = {_ORDINALS[w] for w in words if w in _ORDINALS}
    if "last" in words:
        places.add(count)
    text = " ".join(words)
    places |= {int(n) for n in _NUMBERED.findall(text)}
    if len(places) != 1:
        return None
    place = places.pop()
    return place if 1 <= place <= count else None


def pick(text: str | None, choices: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The one offered button `text` picks, or None when it picks none, or is ambiguous."""
    if not text or not choices or text.lstrip().startswith("/"):
        return None
    words = _words(text)
    if not words or len(words) > MAX_PICK_WORDS:
        return None
    content = [
        _stem(w) for w in words if w not in _FILLER and w not in _ORDINALS and w != "last"
    ]
    place = _by_place(words, len(choices))
    # "the second one", "number 2 please"; not "what did I order last week".
    if place is not None and len(content) <= 1:
        return choices[place - 1]
    if not content:
        return None
    scores = [len(set(content) & _title_words(choice)) for choice in choices]
    best = max(scores)
    # Most of what was said must name the button, and only one button.
    if best == 0 or scores.count(best) > 1 or 2 * best < len(set(content)):
        return None
    return choices[scores.index(best)]


def offered_before(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The buttons offered after the customer's previous message, before their latest one.

    Events are Rasa's, as dictionaries, oldest first. Buttons offered earlier in the chat
    are not an offer any more.
    """
    offered: list[dict[str, Any]] = []
    latest: list[dict[str, Any]] | None = None
    for event in events:
        kind = event.get("event")
        if kind == "user":
            latest, offered = offered, []
        elif kind == "slot" and event.get("name") == SLOT:
            value = event.get("value")
            offered = [dict(c) for c in value if isinstance(c, Mapping)] if value else []
    return latest or []


def as_choices(buttons: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """What to remember of the buttons offered (their titles and payloads)."""
    return [
        {"title": str(b.get("title") or ""), "payload": str(b.get("payload") or "")}
        for b in buttons
    ]
