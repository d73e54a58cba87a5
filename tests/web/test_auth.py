"""Staff sign-in: accounts, the login form, sessions, CSRF, role checks, the rate limit."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import sessionmaker

from bot.auth.throttle import Attempt, LoginThrottle, Refusal
from bot.auth.users import UserError, UserRepository
from bot.storage.models import AuditLog, User
from bot.storage.session import session_scope
from tests.web.conftest import NOW
from tests.web.staff_support import PASSWORD, add_user, csrf_in, login, signed_in

PROTECTED_GETS = [
    "/staff",
    "/staff/queue",
    "/staff/export.csv",
    "/staff/conversations/some-conversation",
]
PROTECTED_POSTS = [
    "/staff/queue/1/assign",
    "/staff/queue/1/resolve",
    "/staff/conversations/some-conversation/reveal",
    "/staff/conversations/some-conversation/erase",
]


# --- accounts ---------------------------------------------------------------------------------


def test_passwords_are_stored_as_argon2id_hashes(session_factory: sessionmaker):
    add_user(session_factory, "maria", "staff")
    with session_scope(session_factory) as session:
        stored = session.execute(select(User.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


@pytest.mark.parametrize(
    ("name", "role", "password", "problem"),
    [
        ("maria", "staff", "too short", "at least 10"),
        ("maria", "admin", PASSWORD, "role"),
        ("has space", "staff", PASSWORD, "name"),
        ("x", "staff", PASSWORD, "name"),
    ],
)
def test_unacceptable_accounts_are_refused(
    session_factory: sessionmaker, name: str, role: str, password: str, problem: str
):
    with session_scope(session_factory) as session, pytest.raises(UserError, match=problem):
        UserRepository(session).add(name, role, password, NOW)


def test_a_name_is_taken_once(session_factory: sessionmaker):
    add_user(session_factory, "maria", "staff")
    with session_scope(session_factory) as session, pytest.raises(UserError, match="already"):
        UserRepository(session).add("maria", "manager", PASSWORD, NOW)


def test_authenticate_checks_the_password_and_notes_the_login(session_factory: sessionmaker):
    add_user(session_factory, "maria", "manager")
    with session_scope(session_factory) as session:
        users = UserRepository(session)
        assert users.authenticate("maria", "wrong password!", NOW) is None
        assert users.authenticate("nobody", PASSWORD, NOW) is None
        account = users.authenticate("maria", PASSWORD, NOW)
    assert account is not None and account.role == "manager"
    assert account.last_login_at == NOW


def test_the_throttle_counts_attempts_per_key_in_a_sliding_window():
    clock = [1000.0]
    throttle = LoginThrottle({"client": 3, "account": 5}, window_seconds=60, clock=lambda: clock[0])
    here, maria = ("client", "10.0.0.1"), ("account", "maria")
    for _ in range(3):
        assert isinstance(throttle.reserve(here, maria), Attempt)
        clock[0] += 10
    refused = throttle.reserve(here, maria)
    assert isinstance(refused, Refusal) and refused.key == here
    assert refused.retry_after == pytest.approx(30)  # the first (t=1000) leaves at 1060
    assert throttle.retry_after(maria) is None  # refused attempts are not counted
    assert isinstance(throttle.reserve(("client", "10.0.0.2"), maria), Attempt)
    clock[0] += 31
    assert isinstance(throttle.reserve(here, maria), Attempt)


def test_a_released_attempt_no_longer_counts():
    throttle = LoginThrottle({"client": 2}, window_seconds=60, clock=lambda: 0.0)
    key = ("client", "10.0.0.1")
    first = throttle.reserve(key)
    assert isinstance(first, Attempt)
    assert isinstance(throttle.reserve(key), Attempt)
    assert isinstance(throttle.reserve(key), Refusal)
    throttle.release(first)  # the sign-in succeeded
    assert isinstance(throttle.reserve(key), Attempt)
    assert isinstance(throttle.reserve(key), Refusal)


# --- the login form ---------------------------------------------------------------------------


async def test_the_login_page_has_a_csrf_token(client: TestClient):
    response = await client.get("/staff/login")
    assert response.status == 200
    page = await response.text()
    assert csrf_in(page)
    assert 'name="password"' in page and 'autocomplete="current-password"' in page


@pytest.mark.parametrize("path", PROTECTED_GETS)
async def test_protected_pages_answer_401_with_the_login_form(client: TestClient, path: str):
    response = await client.get(path)
    assert response.status == 401
    page = await response.text()
    assert 'action="/staff/login"' in page
    assert f'name="next" value="{path}"' in page


@pytest.mark.parametrize("path", PROTECTED_POSTS)
async def test_protected_actions_answer_401_without_a_session(client: TestClient, path: str):
    response = await client.post(path, data={"csrf_token": "x"})
    assert response.status == 401


async def test_signing_in_leads_back_to_the_page_asked_for(
    client: TestClient, session_factory: sessionmaker
):
    add_user(session_factory, "maria", "staff")
    response = await login(client, "maria", next_path="/staff/queue")
    assert response.status == 303
    assert response.headers["Location"] == "/staff/queue"
    page = await client.get("/staff/queue")
    assert page.status == 200
    assert "maria" in await page.text()
    with session_scope(session_factory) as session:
        actions = session.execute(select(AuditLog.action, AuditLog.user_name)).all()
    assert ("login", "maria") in actions


async def test_the_session_cookie_is_http_only_and_same_site(
    client: TestClient, session_factory: sessionmaker
):
    add_user(session_factory, "maria", "staff")
    response = await login(client, "maria")
    cookie = response.cookies["supportbot_session"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"]  # settings.secure_cookies is off: the site is served over HTTP
    assert "maria" not in cookie.value  # encrypted


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil"])
async def test_next_never_leads_off_the_site(
    client: TestClient, session_factory: sessionmaker, target: str
):
    add_user(session_factory, "maria", "staff")
    response = await login(client, "maria", next_path=target)
    assert response.headers["Location"] == "/staff"


@pytest.mark.parametrize(("name", "password"), [("maria", "wrong password"), ("nobody", PASSWORD)])
async def test_a_wrong_name_or_password_is_refused_alike(
    client: TestClient, session_factory: sessionmaker, name: str, password: str
):
    add_user(session_factory, "maria", "staff")
    response = await login(client, name, password)
    assert response.status == 401
    assert "do not match an account" in await response.text()
    assert (await client.get("/staff")).status == 401


async def test_too_many_failures_answer_429_even_with_the_right_password(
    client: TestClient, session_factory: sessionmaker
):
    add_user(session_factory, "maria", "staff")
    add_user(session_factory, "jonas", "staff")
    for _ in range(5):  # settings.max_login_attempts, from this client's address
        assert (await login(client, "maria", "wrong password")).status == 401
    blocked = await login(client, "maria")
    assert blocked.status == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "Too many sign-in attempts from your address" in await blocked.text()
    assert (await client.get("/staff")).status == 401
    # The limit is per address: another account from the same address waits too.
    assert (await login(client, "jonas")).status == 429


async def test_a_successful_sign_in_does_not_count_against_the_limit(
    client: TestClient, session_factory: sessionmaker
):
    add_user(session_factory, "maria", "staff")
    for _ in range(4):
        assert (await login(client, "maria", "wrong password")).status == 401
    assert (await login(client, "maria")).status == 303
    assert (await login(client, "maria", "wrong password")).status == 401  # the 5th attempt
    assert (await login(client, "maria", "wrong password")).status == 429


async def test_a_post_without_the_csrf_token_is_forbidden(
    client: TestClient, session_factory: sessionmaker
):
    add_user(session_factory, "maria", "staff")
    no_token = await client.post(
        "/staff/login", data={"name": "maria", "password": PASSWORD}, allow_redirects=False
    )
    assert no_token.status == 403
    token = await signed_in(client, session_factory, "staff")
    for path in ("/staff/queue/1/assign", "/staff/logout", "/staff/conversations/x/reveal"):
        assert (await client.post(path, data={})).status == 403
        assert (await client.post(path, data={"csrf_token": token + "x"})).status == 403


async def test_signing_out_ends_the_session(client: TestClient, session_factory: sessionmaker):
    token = await signed_in(client, session_factory, "staff")
    response = await client.post("/staff/logout", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/staff/login"
    assert (await client.get("/staff")).status == 401


async def test_a_deleted_account_is_signed_out_at_once(
    client: TestClient, session_factory: sessionmaker
):
    await signed_in(client, session_factory, "staff")
    with session_scope(session_factory) as session:
        session.execute(delete(User))
    assert (await client.get("/staff")).status == 401


async def test_a_manager_only_action_is_forbidden_to_staff(
    client: TestClient, session_factory: sessionmaker
):
    token = await signed_in(client, session_factory, "staff")
    response = await client.post(
        "/staff/conversations/some-conversation/erase",
        data={"csrf_token": token, "confirm": "yes"},
    )
    assert response.status == 403
    assert "manager" in await response.text()


async def test_staff_pages_are_not_cached_or_framed(
    client: TestClient, session_factory: sessionmaker
):
    await signed_in(client, session_factory, "staff")
    response = await client.get("/staff")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


async def test_healthz(client: TestClient):
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}
