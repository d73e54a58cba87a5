"""A conversation's events masked for staff: free text redacted, typed addresses hidden.

`redact()` finds what gives itself away in any text. A delivery address does not:
"Lindenallee 5, 50667 Köln" is only known to be one from where it stands in the
conversation. The address change (`order_form`) asks "What's the new delivery address?"; the
customer's answer is the user message sent while that form's `requested_slot` is
`new_address`, or right after the bot asked it (`utter_ask_new_address`). Masked as
`[address]`: that answer (text and entities), the `new_address` slot's values, the bot's
confirmation ("Done — order N will now be delivered to: ..."), and any other message of the
conversation that repeats an address given in it. The answer to the ownership question (the
order's email address or delivery postcode, `order_proof`) is masked the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.transcripts.redaction import redact

ADDRESS_MASK = "[address]"
PROOF_MASK = "[email or postcode]"
# (form, requested slot) -> the mask of the customer's answer.
ANSWER_MASKS: dict[tuple[str | None, str | None], str] = {
    ("order_form", "new_address"): ADDRESS_MASK,
    ("order_form", "order_proof"): PROOF_MASK,
}
# The bot's question -> the mask of the answer that follows it.
QUESTION_MASKS = {"utter_ask_new_address": ADDRESS_MASK}
SLOT_MASKS = {"new_address": ADDRESS_MASK}
ADDRESS_SLOTS = frozenset(slot for slot, mask in SLOT_MASKS.items() if mask == ADDRESS_MASK)
_CONFIRMATION = re.compile(r"(will now be delivered to:)[^\S\n]*\S.*", re.DOTALL)
# Repeats of the conversation's addresses looked for elsewhere: a bounded number of them, each
# long enough and with a number in it, so that an answer such as "talk to a person" given
# instead of an address is not hidden wherever else it is written.
MAX_KNOWN_ADDRESSES = 20
MIN_ADDRESS_LENGTH = 8
MAX_ADDRESS_LENGTH = 300
_RESETS = frozenset({"restart", "session_started"})


class ContextMasks:
    """What a conversation's context says to hide in its messages (before `redact()`)."""

    def __init__(self, events: Sequence[Mapping[str, Any]]) -> None:
        self._events = events  # keeps the events alive: answers are known by identity
        self._answers: dict[int, str] = {}
        addresses: list[str] = []
        loop: str | None = None
        requested: str | None = None
        asked: str | None = None
        before_user: tuple[str | None, str | None, str | None] = (None, None, None)
        for event in events:
            kind = event.get("event")
            if kind in _RESETS:
                loop = requested = asked = None
            elif kind in ("active_loop", "form"):
                loop = _name(event.get("name"))
            elif kind == "slot" and event.get("name") == "requested_slot":
                requested = _name(event.get("value"))
            elif kind == "slot" and event.get("name") in ADDRESS_SLOTS:
                addresses += _strings(event.get("value"))
            elif kind == "bot":
                metadata = event.get("metadata")
                asked = (
                    _name(metadata.get("utter_action")) if isinstance(metadata, Mapping) else None
                )
            elif kind == "rewind":  # the last message is taken back, with what it changed
                loop, requested, asked = before_user
            elif kind == "user":
                before_user = (loop, requested, asked)
                mask = ANSWER_MASKS.get((loop, requested)) or QUESTION_MASKS.get(asked or "")
                if mask is not None and not str(event.get("text") or "").startswith("/"):
                    self._answers[id(event)] = mask
                    if mask == ADDRESS_MASK:
                        addresses += _strings(event.get("text"))
                asked = None
        self._known = _address_pattern(addresses)

    def answer_mask(self, event: Mapping[str, Any]) -> str | None:
        """The mask that replaces this user message whole, if it answers such a question."""
        return self._answers.get(id(event))

    def text(self, event: Mapping[str, Any]) -> str:
        """The event's text with the answers, confirmations and known addresses masked."""
        mask = self.answer_mask(event)
        if mask is not None:
            return mask
        text = str(event.get("text") or "")
        if event.get("event") == "bot":
            text = _CONFIRMATION.sub(rf"\1 {ADDRESS_MASK}", text)
        return self.hide_addresses(text)

    def hide_addresses(self, text: str) -> str:
        """`text` with the addresses given in the conversation masked."""
        if self._known is None or not text:
            return text
        return self._known.sub(ADDRESS_MASK, text)


def _name(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


def _address_pattern(addresses: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern for the addresses, spaces matching any spacing, case ignored."""
    words = {
        tuple(a.split())
        for a in addresses
        if MIN_ADDRESS_LENGTH <= len(a.strip()) <= MAX_ADDRESS_LENGTH
        and any(char.isdigit() for char in a)
    }
    if not words:
        return None
    longest = sorted(words, key=lambda w: -len(" ".join(w)))[:MAX_KNOWN_ADDRESSES]
    alternatives = (r"\s+".join(re.escape(word) for word in w) for w in longest)
    return re.compile("|".join(alternatives), re.IGNORECASE)


def _masked_value(name: Any, value: Any, masks: ContextMasks) -> Any:
    slot_mask = SLOT_MASKS.get(str(name))
    if slot_mask is not None and value is not None:
        return slot_mask
    if isinstance(value, str):
        return redact(masks.hide_addresses(value))
    if isinstance(value, list):
        return [redact(masks.hide_addresses(v)) if isinstance(v, str) else v for v in value]
    return value


def _masked_user(event: Mapping[str, Any], masks: ContextMasks) -> dict[str, Any]:
    masked = dict(event)
    text = redact(masks.text(event))
    masked["text"] = text
    parsed = event.get("parse_data")
    if isinstance(parsed, Mapping):
        answer = masks.answer_mask(event)
        entities = [
            {**e, "value": answer or redact(masks.hide_addresses(str(e.get("value"))))}
            if isinstance(e, Mapping) and "value" in e
            else e
            for e in parsed.get("entities") or []
        ]
        masked["parse_data"] = {**parsed, "text": text, "entities": entities}
    return masked


def mask_events(events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Copies of the events with what staff must not see masked: messages, entities, slots."""
    masks = ContextMasks(events)
    masked: list[dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            masked.append(_masked_user(event, masks))
        elif kind == "bot":
            masked.append({**event, "text": redact(masks.text(event))})
        elif kind == "slot":
            value = _masked_value(event.get("name"), event.get("value"), masks)
            masked.append({**event, "value": value})
        else:
            masked.append(dict(event))
    return masked
