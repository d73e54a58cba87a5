"""What the channels let through of a customer's message.

The server, never the client, decides a message's metadata: the identity its token proved,
sealed to the conversation (`bot.auth.tokens.seal`), the client's address, and how long the
text was when it had to be cut. Whatever else the client sent (the raw token, an
"identity" or "client" of its own) is dropped, so it never reaches the conversation store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.auth.keys import signing_key
from bot.auth.tokens import IDENTITY_KEY, seal, verify
from bot.settings import Settings

# Longest conversation id a client may name (Rasa's own ids are 32 hex digits).
MAX_SENDER_LENGTH = 128
CLIENT_KEY = "client"
# The original length of a text that was cut to `max_message_length` characters.
CUT_FROM_KEY = "cut_from"


def valid_sender(sender: Any) -> bool:
    """Whether a client-chosen conversation id can be used: a non-empty, short string."""
    return isinstance(sender, str) and 0 < len(sender) <= MAX_SENDER_LENGTH


def bounded_text(text: Any, limit: int) -> tuple[str, int | None]:
    """The text the bot reads (at most `limit` characters) and its length when it was cut."""
    if not isinstance(text, str):
        return "", None
    if len(text) > limit:
        return text[:limit], len(text)
    return text, None


def client_address(peer: str, forwarded_for: str | None, trust_forwarded_for: bool) -> str:
    """The client's address: the connection's peer, or behind a trusted reverse proxy the
    last hop of X-Forwarded-For (the address that proxy saw; earlier hops are the client's
    say)."""
    if trust_forwarded_for and forwarded_for:
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return peer


@dataclass(frozen=True)
class MessageGuard:
    """The rules one channel applies to every incoming message."""

    signing_key: str
    max_length: int
    trust_forwarded_for: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> MessageGuard:
        return cls(
            signing_key(settings), settings.max_message_length, settings.trust_forwarded_for
        )

    def client(self, peer: str, forwarded_for: str | None) -> str:
        return client_address(peer, forwarded_for, self.trust_forwarded_for)

    def metadata(
        self, sender_id: str, client_metadata: Any, client: str, cut_from: int | None = None
    ) -> dict[str, Any]:
        """The metadata stored with the message, made from the client's only by its token."""
        token = client_metadata.get("token") if isinstance(client_metadata, Mapping) else None
        metadata: dict[str, Any] = {}
        sealed = seal(self.signing_key, sender_id, verify(self.signing_key, token, "chat"))
        if sealed is not None:
            metadata[IDENTITY_KEY] = sealed
        metadata[CLIENT_KEY] = client
        if cut_from is not None:
            metadata[CUT_FROM_KEY] = cut_from
        return metadata

    def message(
        self, sender_id: str, text: Any, client_metadata: Any, client: str
    ) -> tuple[str, dict[str, Any]]:
        """The text and metadata the bot gets for one message."""
        bounded, cut_from = bounded_text(text, self.max_length)
        return bounded, self.metadata(sender_id, client_metadata, client, cut_from)
