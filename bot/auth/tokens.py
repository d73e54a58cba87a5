"""Signed role tokens: `supportbot token` mints them, the actions check them.

A chat carries a role only through a token in the channel metadata (`{"token": "..."}`),
signed with the key from the settings (HS256 JSON Web Tokens, PyJWT). A chat without a
valid token is an anonymous customer's.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jwt

ROLES = ("customer", "staff", "manager")
ALGORITHM = "HS256"
ISSUER = "supportbot"


@dataclass(frozen=True)
class Identity:
    role: str = "customer"
    customer_id: int | None = None
    name: str | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.role == "customer" and self.customer_id is None


ANONYMOUS = Identity()


def load_or_create_key(path: Path) -> str:
    """The signing key kept in `path`, created (random, 256 bits) on first use."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key, encoding="utf-8")
    path.chmod(0o600)
    return key


def mint(
    key: str,
    role: str,
    customer_id: int | None = None,
    name: str | None = None,
    valid_for: timedelta = timedelta(days=30),
    now: datetime | None = None,
) -> str:
    """A signed token for `role` (and the customer it speaks for)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    issued = now or datetime.now(timezone.utc)
    claims: dict[str, Any] = {"role": role, "iss": ISSUER, "iat": issued, "exp": issued + valid_for}
    if customer_id is not None:
        claims["customer_id"] = int(customer_id)
    if name:
        claims["name"] = name
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def verify(key: str, token: str | None) -> Identity:
    """The identity a token proves; anonymous when it is missing, forged, expired or odd."""
    if not token or not isinstance(token, str):
        return ANONYMOUS
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], issuer=ISSUER)
    except jwt.PyJWTError:
        return ANONYMOUS
    role = claims.get("role")
    if role not in ROLES:
        return ANONYMOUS
    customer_id = claims.get("customer_id")
    return Identity(
        role=role,
        customer_id=int(customer_id) if isinstance(customer_id, int) else None,
        name=claims.get("name") if isinstance(claims.get("name"), str) else None,
    )


def identity_from_events(key: str, events: Sequence[Mapping[str, Any]]) -> Identity:
    """The identity of the newest user message in `events` that carried a token."""
    for event in reversed(events):
        if event.get("event") != "user":
            continue
        metadata = event.get("metadata") or {}
        token = metadata.get("token") if isinstance(metadata, Mapping) else None
        if token:
            return verify(key, token)
    return ANONYMOUS
