"""How many times in a row the assistant failed to understand the customer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

FALLBACK_ACTION = "action_handle_fallback"


def consecutive_misunderstandings(events: Iterable[Mapping[str, Any]]) -> int:
    """Count the customer's latest messages, newest first, that were not understood.

    The newest message always counts as one (the fallback runs because of it), whatever
    intent it was classified as: the dialogue did not know what to do with it. An earlier
    message counts when the assistant answered it with the fallback too. A message that a
    form took as its answer (a survey comment, say), or that any other action answered, ends
    the run, whatever its intent.
    """
    answered_by: list[str | None] = []  # per user message, the first action after it
    for event in events:
        kind = event.get("event")
        if kind == "user":
            answered_by.append(None)
        elif kind == "action" and answered_by and answered_by[-1] is None:
            answered_by[-1] = event.get("name")
    if not answered_by:
        return 0
    count = 1
    for action in reversed(answered_by[:-1]):
        if action != FALLBACK_ACTION:
            break
        count += 1
    return count


# The experiment on when to offer a person (data/experiments.yml): after the first
# misunderstanding, or (the control) after the second.
EARLY_HANDOFF = "early-handoff"
OFFER_AFTER = {"first-miss": 1, "second-miss": 2}
CONTROL_OFFER = "second-miss"


def offers_person(misses: int, variant: str = CONTROL_OFFER) -> bool:
    """Whether this many misunderstandings in a row get the offer of a person."""
    return misses >= OFFER_AFTER.get(variant, OFFER_AFTER[CONTROL_OFFER])


def variant_matters(misses: int) -> bool:
    """Whether the variants differ at this point of the conversation (the exposure point)."""
    return min(OFFER_AFTER.values()) <= misses < max(OFFER_AFTER.values())
