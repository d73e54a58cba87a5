"""Website accounts of support staff and managers: argon2id password hashes, sign-in checks.

`supportbot user add` creates them; the website's login form checks them. A repository
in the house style: it takes a session and never commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import STAFF_ROLES, User

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # hashing a megabyte on every try is a denial of service
NAME_PATTERN = re.compile(r"^[\w.@-]{2,64}$")

# argon2-cffi's defaults are argon2id with RFC 9106's "low memory" profile (64 MiB, t=3).
_hasher = PasswordHasher()
# Checked when the name is unknown, so that a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("no such user: the time a real check takes")


class UserError(ValueError):
    """A name, role or password that cannot be accepted; the message says why."""


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    role: str
    created_at: datetime
    last_login_at: datetime | None


def _account(user: User) -> Account:
    return Account(user.id, user.name, user.role, user.created_at, user.last_login_at)


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"the password must have at most {MAX_PASSWORD_LENGTH} characters")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: int) -> Account | None:
        user = self.session.get(User, user_id)
        return _account(user) if user is not None else None

    def by_name(self, name: str) -> Account | None:
        user = self._by_name(name)
        return _account(user) if user is not None else None

    def _by_name(self, name: str) -> User | None:
        return self.session.execute(select(User).where(User.name == name)).scalar_one_or_none()

    def all(self) -> list[Account]:
        return [
            _account(u) for u in self.session.execute(select(User).order_by(User.name)).scalars()
        ]

    def add(self, name: str, role: str, password: str, now: datetime) -> Account:
        """A new account; `UserError` when the name is taken or anything is unacceptable."""
        if not NAME_PATTERN.match(name):
            raise UserError(
                "a name has 2 to 64 letters, digits or . _ @ - (no spaces), e.g. 'maria.k'"
            )
        if role not in STAFF_ROLES:
            raise UserError(f"the role must be one of {', '.join(STAFF_ROLES)}")
        check_new_password(password)
        if self._by_name(name) is not None:
            raise UserError(f"there is already a user called {name!r}")
        user = User(name=name, role=role, password_hash=hash_password(password), created_at=now)
        self.session.add(user)
        self.session.flush()
        return _account(user)

    def set_password(self, name: str, password: str) -> None:
        check_new_password(password)
        user = self._by_name(name)
        if user is None:
            raise UserError(f"there is no user called {name!r}")
        user.password_hash = hash_password(password)

    def authenticate(self, name: str, password: str, now: datetime) -> Account | None:
        """The account when `password` is right (its last login noted), else None.

        Slow on purpose (argon2id); call it off the event loop.
        """
        user = self._by_name(name) if len(password) <= MAX_PASSWORD_LENGTH else None
        stored = user.password_hash if user is not None else _DUMMY_HASH
        try:
            _hasher.verify(stored, password[:MAX_PASSWORD_LENGTH])
        except (VerificationError, InvalidHashError):
            return None
        if user is None:
            return None
        if _hasher.check_needs_rehash(user.password_hash):  # stronger parameters since
            user.password_hash = hash_password(password)
        user.last_login_at = now
        return _account(user)
