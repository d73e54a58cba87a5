"""Signed role tokens, and the identity a channel seals into each message.

`supportbot token` mints tokens (HS256 JSON Web Tokens, PyJWT, signed with the key from the
settings). A token names its audience: `chat` (the channels' metadata, `{"token": "..."}`) or
`api` (the website's JSON API, `Authorization: Bearer ...`); one made for the other audience,
forged, expired or without an audience proves nothing.

The channels (`bot.rasa.channels`) check a message's token and replace it with a *sealed
identity* (`seal`): the role, customer and name it proved, with an HMAC that binds them to
the conversation. The raw token is never stored with the conversation, and a role holds for
the message whose token carried it: the actions read the identity of the message they answer
(`message_identity`), never one from earlier in the conversation.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt

ROLES = ("customer", "staff", "manager")
AUDIENCES = ("chat", "api")
ALGORITHM = "HS256"
ISSUER = "supportbot"
# Where a channel puts the sealed identity in a message's metadata.
IDENTITY_KEY = "identity"


@dataclass(frozen=True)
class Identity:
    role: str = "customer"
    customer_id: int | None = None
    name: str | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.role == "customer" and self.customer_id is None


ANONYMOUS = Identity()


def mint(
    key: str,
    role: str,
    customer_id: int | None = None,
    name: str | None = None,
    valid_for: timedelta = timedelta(days=30),
    now: datetime | None = None,
    audience: str = "chat",
) -> str:
    """A signed token for `role` (and the customer it speaks for), for one audience."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {', '.join(AUDIENCES)}")
    issued = now or datetime.now(timezone.utc)
    claims: dict[str, Any] = {
        "role": role,
        "iss": ISSUER,
        "aud": audience,
        "iat": issued,
        "exp": issued + valid_for,
    }
    if customer_id is not None:
        claims["customer_id"] = int(customer_id)
    if name:
        claims["name"] = name
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def decode(key: str, token: str, audience: str) -> Identity:
    """The identity a token proves for `audience`; raises `jwt.PyJWTError` when it proves none."""
    claims = jwt.decode(
        token,
        key,
        algorithms=[ALGORITHM],
        issuer=ISSUER,
        audience=audience,
        options={"require": ["exp", "iss", "aud"]},
    )
    role = claims.get("role")
    if role not in ROLES:
        raise jwt.InvalidTokenError("unknown role")
    customer_id = claims.get("customer_id")
    name = claims.get("name")
    return Identity(
        role=role,
        customer_id=customer_id if isinstance(customer_id, int) else None,
        name=name if isinstance(name, str) else None,
    )


def verify(key: str, token: Any, audience: str = "chat") -> Identity:
    """The identity a token proves; anonymous when it is missing, forged, expired or odd."""
    if not token or not isinstance(token, str):
        return ANONYMOUS
    try:
        return decode(key, token, audience)
    except (jwt.PyJWTError, UnicodeError):  # UnicodeError: lone surrogates sent as JSON
        return ANONYMOUS


# --- sealed identities: what a channel keeps of a token in the message ---------------------------


def _seal_mac(key: str, conversation_id: str, identity: Identity) -> str:
    body = json.dumps(
        [conversation_id, identity.role, identity.customer_id, identity.name],
        separators=(",", ":"),
    )
    return hmac.new(key.encode(), b"identity:" + body.encode(), hashlib.sha256).hexdigest()


def seal(key: str, conversation_id: str, identity: Identity) -> dict[str, Any] | None:
    """The identity as a channel stores it in the message's metadata (None for anonymous)."""
    if identity == ANONYMOUS:
        return None
    return {
        "role": identity.role,
        "customer_id": identity.customer_id,
        "name": identity.name,
        "mac": _seal_mac(key, conversation_id, identity),
    }


def unseal(key: str, conversation_id: str, sealed: Any) -> Identity:
    """The identity a sealed value proves for this conversation; anonymous when it proves none."""
    if not isinstance(sealed, Mapping):
        return ANONYMOUS
    role, customer_id, name = sealed.get("role"), sealed.get("customer_id"), sealed.get("name")
    if role not in ROLES or not isinstance(sealed.get("mac"), str):
        return ANONYMOUS
    if customer_id is not None and (
        not isinstance(customer_id, int) or isinstance(customer_id, bool)
    ):
        return ANONYMOUS
    if name is not None and not isinstance(name, str):
        return ANONYMOUS
    identity = Identity(role=role, customer_id=customer_id, name=name)
    if not hmac.compare_digest(sealed["mac"], _seal_mac(key, conversation_id, identity)):
        return ANONYMOUS
    return identity


def channel_metadata(key: str, conversation_id: str, token: Any) -> dict[str, Any]:
    """What a channel keeps of a message's token: the sealed identity it proves, never the token."""
    sealed = seal(key, conversation_id, verify(key, token, "chat"))
    return {IDENTITY_KEY: sealed} if sealed else {}


def message_identity(key: str, conversation_id: str, event: Mapping[str, Any] | None) -> Identity:
    """Who sent this one user message (a `user` event or Rasa's `latest_message`)."""
    if not event:
        return ANONYMOUS
    metadata = event.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        return ANONYMOUS
    return unseal(key, conversation_id, metadata.get(IDENTITY_KEY))


def identity_from_events(
    key: str, conversation_id: str, events: Sequence[Mapping[str, Any]]
) -> Identity:
    """The identity of the newest user message in `events` that proved one.

    For attributing a conversation (its summary, a rebuilt survey row) to a signed-in
    customer, never for deciding what a message may do: that is `message_identity`.
    """
    for event in reversed(events):
        if event.get("event") != "user":
            continue
        identity = message_identity(key, conversation_id, event)
        if identity != ANONYMOUS:
            return identity
    return ANONYMOUS
