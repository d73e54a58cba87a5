"""How many times in a row the assistant failed to understand the customer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

MISUNDERSTOOD_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})


def consecutive_misunderstandings(events: Iterable[Mapping[str, Any]]) -> int:
    """Count the customer's latest messages, newest first, that were not understood.

    The newest message always counts as one (the fallback runs because of it), whatever
    intent it was classified as: the dialogue did not know what to do with it.
    """
    user_events = [e for e in events if e.get("event") == "user"]
    if not user_events:
        return 0
    count = 1
    for event in reversed(user_events[:-1]):
        intent = (event.get("parse_data") or {}).get("intent", {}).get("name")
        if intent not in MISUNDERSTOOD_INTENTS:
            break
        count += 1
    return count
