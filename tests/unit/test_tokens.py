from datetime import datetime, timedelta, timezone

import jwt
import pytest

from bot.auth.tokens import (
    ANONYMOUS,
    Identity,
    identity_from_events,
    load_or_create_key,
    mint,
    verify,
)

KEY = "k" * 64


def test_a_minted_token_proves_its_role_and_customer():
    token = mint(KEY, "customer", customer_id=17, name="Anna")
    assert verify(KEY, token) == Identity("customer", 17, "Anna")
    assert verify(KEY, mint(KEY, "manager", name="Mia")) == Identity("manager", None, "Mia")


@pytest.mark.parametrize("token", [None, "", "not-a-token", 42])
def test_missing_or_malformed_tokens_are_anonymous(token):
    assert verify(KEY, token) == ANONYMOUS
    assert ANONYMOUS.is_anonymous


def test_forged_expired_and_foreign_tokens_are_anonymous():
    assert verify(KEY, mint("another-key" * 4, "manager")) == ANONYMOUS
    past = datetime.now(timezone.utc) - timedelta(days=60)
    assert verify(KEY, mint(KEY, "manager", now=past)) == ANONYMOUS
    foreign = jwt.encode({"role": "manager"}, KEY, algorithm="HS256")  # no issuer
    assert verify(KEY, foreign) == ANONYMOUS
    unknown_role = jwt.encode({"role": "admin", "iss": "supportbot"}, KEY, algorithm="HS256")
    assert verify(KEY, unknown_role) == ANONYMOUS
    with pytest.raises(ValueError):
        mint(KEY, "admin")


def test_the_newest_token_in_the_conversation_counts():
    manager = mint(KEY, "manager")
    events = [
        {"event": "user", "metadata": {"token": mint(KEY, "customer", customer_id=3)}},
        {"event": "bot"},
        {"event": "user", "metadata": {"token": manager}},
        {"event": "user", "metadata": {}},
    ]
    assert identity_from_events(KEY, events).role == "manager"
    assert identity_from_events(KEY, [{"event": "user"}]) == ANONYMOUS


def test_the_key_is_made_once_and_kept(tmp_path):
    path = tmp_path / "secret.key"
    first = load_or_create_key(path)
    assert len(first) == 64
    assert load_or_create_key(path) == first
    assert oct(path.stat().st_mode & 0o777) == "0o600"
