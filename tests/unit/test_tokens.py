from datetime import datetime, timedelta, timezone

import jwt
import pytest

from bot.auth.keys import load_or_create_key
from bot.auth.tokens import (
    ANONYMOUS,
    Identity,
    identity_from_events,
    message_identity,
    mint,
    seal,
    unseal,
    verify,
)

KEY = "k" * 64


def test_a_minted_token_proves_its_role_and_customer():
    token = mint(KEY, "customer", customer_id=17, name="Anna")
    assert verify(KEY, token) == Identity("customer", 17, "Anna")
    assert verify(KEY, mint(KEY, "manager", name="Mia")) == Identity("manager", None, "Mia")


@pytest.mark.parametrize("token", [None, "", "not-a-token", 42, "\ud800abc", "a.\udfff.c"])
def test_missing_or_malformed_tokens_are_anonymous(token):
    assert verify(KEY, token) == ANONYMOUS
    assert ANONYMOUS.is_anonymous


def test_forged_expired_and_foreign_tokens_are_anonymous():
    assert verify(KEY, mint("another-key" * 4, "manager")) == ANONYMOUS
    past = datetime.now(timezone.utc) - timedelta(days=60)
    assert verify(KEY, mint(KEY, "manager", now=past)) == ANONYMOUS
    foreign = jwt.encode({"role": "manager"}, KEY, algorithm="HS256")  # no issuer
    assert verify(KEY, foreign) == ANONYMOUS
    unknown_role = jwt.encode(
        {"role": "admin", "iss": "supportbot", "aud": "chat", "exp": 2**40}, KEY, algorithm="HS256"
    )
    assert verify(KEY, unknown_role) == ANONYMOUS
    with pytest.raises(ValueError):
        mint(KEY, "admin")


def test_a_token_proves_nothing_outside_its_audience():
    api = mint(KEY, "manager", audience="api")
    assert verify(KEY, api, "api").role == "manager"
    assert verify(KEY, api, "chat") == ANONYMOUS
    assert verify(KEY, mint(KEY, "manager"), "api") == ANONYMOUS
    no_audience = jwt.encode(
        {"role": "manager", "iss": "supportbot", "exp": 2**40}, KEY, algorithm="HS256"
    )
    assert verify(KEY, no_audience) == ANONYMOUS
    with pytest.raises(ValueError):
        mint(KEY, "manager", audience="everything")


def test_a_sealed_identity_holds_only_in_its_conversation_and_unaltered():
    anna = Identity("customer", 17, "Anna")
    sealed = seal(KEY, "chat-1", anna)
    assert sealed is not None and "token" not in sealed
    assert unseal(KEY, "chat-1", sealed) == anna
    assert unseal(KEY, "chat-2", sealed) == ANONYMOUS  # copied into another conversation
    assert unseal(KEY, "chat-1", {**sealed, "customer_id": 18}) == ANONYMOUS
    assert unseal(KEY, "chat-1", {**sealed, "role": "manager"}) == ANONYMOUS
    assert unseal("other" * 13, "chat-1", sealed) == ANONYMOUS
    assert unseal(KEY, "chat-1", {"role": "manager", "customer_id": None}) == ANONYMOUS
    assert unseal(KEY, "chat-1", "manager") == ANONYMOUS
    assert seal(KEY, "chat-1", ANONYMOUS) is None


def test_a_role_holds_for_the_message_that_carried_it():
    manager = seal(KEY, "c", Identity("manager"))
    with_role = {"event": "user", "metadata": {"identity": manager}}
    without = {"event": "user", "metadata": {}}
    assert message_identity(KEY, "c", with_role).role == "manager"
    assert message_identity(KEY, "c", without) == ANONYMOUS
    assert message_identity(KEY, "c", {"metadata": {"token": mint(KEY, "manager")}}) == ANONYMOUS


def test_a_conversation_is_attributed_to_the_newest_proven_identity():
    events = [
        {"event": "user", "metadata": {"identity": seal(KEY, "c", Identity("customer", 3))}},
        {"event": "bot"},
        {"event": "user", "metadata": {"identity": seal(KEY, "c", Identity("customer", 4))}},
        {"event": "user", "metadata": {}},
    ]
    assert identity_from_events(KEY, "c", events).customer_id == 4
    assert identity_from_events(KEY, "other", events) == ANONYMOUS
    assert identity_from_events(KEY, "c", [{"event": "user"}]) == ANONYMOUS


def test_the_key_is_made_once_and_kept(tmp_path):
    path = tmp_path / "secret.key"
    first = load_or_create_key(path)
    assert len(first) == 64
    assert load_or_create_key(path) == first
    assert oct(path.stat().st_mode & 0o777) == "0o600"
