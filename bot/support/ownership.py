"""Who may see or change an order: the rule, as plain functions (no database, no Rasa).

An order is shown or changed only for its customer: a signed customer token for that
customer, or an anonymous visitor who proved in this conversation that the order is theirs
(the email address on the order, or its delivery postcode). A typed email address alone is a
hint for a person, never an identity. Staff and managers chatting are treated as visitors:
in the chat they see only what they can prove.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.auth.tokens import ANONYMOUS, Identity

_EMAIL_CHARS = re.compile(r"[^a-z0-9@._+\-]")
# UK postcodes (M14 5AB, SW1A 1AA) and 4-5 digit ones (10115, 1010), as written on the orders.
_POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|\d{4,5})\b")
_EVIDENCE_EMAIL = re.compile(r"[^\s<>()\[\]]{1,64}@[^\s<>()\[\]]{1,255}")


@dataclass(frozen=True)
class Requester:
    """Who is asking, for one message: its identity and what this conversation has proven."""

    identity: Identity = ANONYMOUS
    conversation_id: str = ""
    proven_orders: frozenset[str] = frozenset()
    client: str | None = None

    @property
    def customer_id(self) -> int | None:
        """The signed-in customer, or None for a visitor (and for staff chatting)."""
        return self.identity.customer_id if self.identity.role == "customer" else None

    @property
    def signed_in(self) -> bool:
        return self.customer_id is not None


def may_access(requester: Requester, order_number: str, order_customer_id: int) -> bool:
    """Whether `requester` may see or change the order `order_number` of `order_customer_id`."""
    if requester.signed_in:
        return requester.customer_id == order_customer_id
    return order_number in requester.proven_orders


def needs_proof(requester: Requester, order_number: str) -> bool:
    """Whether the visitor must prove the order is theirs before anything of it is shown."""
    return not requester.signed_in and order_number not in requester.proven_orders


def _normalise_postcode(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def postcodes_of(address: str) -> set[str]:
    """The postcodes written in an address, normalised (upper case, no spaces)."""
    return {_normalise_postcode(match) for match in _POSTCODE.findall(address.upper())}


def evidence_matches(evidence: str, email: str, shipping_address: str) -> bool:
    """Whether what the visitor typed is the order's email address or its delivery postcode.

    The email is compared whole and case-insensitively (never echoed); the postcode must be a
    whole postcode of the delivery address (at least 4 characters).
    """
    text = evidence.strip()
    if not text or len(text) > 320:
        return False
    typed_email = _EVIDENCE_EMAIL.search(text)
    if typed_email is not None:
        candidate = _EMAIL_CHARS.sub("", typed_email.group(0).lower().rstrip(".,;!?"))
        return candidate == email.strip().lower()
    postcode = _normalise_postcode(text)
    return len(postcode) >= 4 and postcode in postcodes_of(shipping_address)


def looks_like_evidence(text: str) -> bool:
    """Whether a message could be an email address or a postcode (not a question about something else)."""
    stripped = text.strip()
    if _EVIDENCE_EMAIL.search(stripped):
        return True
    words = stripped.split()
    return 0 < len(words) <= 3 and len(stripped) <= 12 and any(ch.isdigit() for ch in stripped)
