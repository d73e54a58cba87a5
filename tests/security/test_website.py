"""The website's defences, as a visitor or an attacker meets them.

Where a sign-in leads afterwards (`next`), how many guesses a burst of parallel sign-ins
gets, what the session cookie is marked with, when "log in as" exists, which tokens the
JSON API takes, and what `supportbot serve` and `supportbot token` say.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
from collections import Counter

import jwt
import pytest
from aiohttp.test_utils import TestClient, make_mocked_request

from bot import cli
from bot.auth.keys import signing_key
from bot.auth.tokens import decode
from bot.bootstrap import Services
from bot.demo.seed import META_KEY
from bot.settings import Settings
from bot.storage.models import Customer, Meta
from bot.storage.session import session_scope
from bot.web.app import SESSION_COOKIE, create_app
from bot.web.auth import HOME_PATH, safe_next
from bot.web.client import client_address
from tests.web.conftest import NOW
from tests.web.staff_support import PASSWORD, add_user, csrf_in, login

BURST = 50


@pytest.fixture
def website(settings: Settings, web_services: Services, aiohttp_client):
    """`await website(**changes)`: a client of the app with those settings changed."""

    async def make(**changes: object) -> TestClient:
        changed = dataclasses.replace(settings, **changes)
        web_services.settings = changed
        return await aiohttp_client(create_app(changed, web_services))

    return make


# --- where a sign-in leads ------------------------------------------------------------------

OFF_SITE = [
    "//evil.example/",
    "///evil.example",
    "/\t/evil.example",
    "/%09/evil.example",
    "/\n/evil.example",
    "/%0a/evil.example",
    "/%0d%0a/evil.example",
    "/\\evil.example",
    "/\\\\evil.example",
    "\\\\evil.example",
    "/%5cevil.example",
    "/%5Cevil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "%2F%2Fevil.example",
    "/%252F%252Fevil.example",  # encoded twice
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "http://evil.example/",
    "https://evil.example/staff",
    "evil.example",
    "staff",
    " /staff",
    "/staff queue",
    "/%20/evil.example",
    "/staff%00",
    "/\x00/evil.example",
    "/\u3000/evil.example",  # ideographic space
    "/\u200b/evil.example",  # zero-width space
    "/" + "a" * 3000,
]
ON_SITE = [
    "/staff",
    "/staff/queue",
    "/staff/conversations/web-7f3a",
    "/staff?q=refund+parcel&detractors=1",
    "/staff/conversations/a%2Fb",
    "/manager?period=last+quarter",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_safe_next_sends_anything_odd_home(target: str):
    assert safe_next(target) == HOME_PATH


@pytest.mark.parametrize("target", ON_SITE)
def test_safe_next_keeps_a_plain_path_on_this_site(target: str):
    assert safe_next(target) == target


@pytest.mark.parametrize("target", OFF_SITE)
async def test_signing_in_never_leads_off_the_site(website, session_factory, target: str):
    client = await website()
    add_user(session_factory, "maria", "staff")
    form = await client.get("/staff/login", params={"next": target})
    assert f'name="next" value="{HOME_PATH}"' in await form.text()
    response = await login(client, "maria", next_path=target)
    assert response.status == 303
    assert response.headers["Location"] == HOME_PATH


async def test_signing_in_leads_back_to_a_search(website, session_factory):
    client = await website()
    add_user(session_factory, "maria", "staff")
    asked = await client.get("/staff?q=refund+parcel", allow_redirects=False)
    assert asked.status == 401
    assert 'name="next" value="/staff?q=refund+parcel"' in await asked.text()
    response = await login(client, "maria", next_path="/staff?q=refund+parcel")
    assert response.headers["Location"] == "/staff?q=refund+parcel"


# --- the sign-in throttle -------------------------------------------------------------------


async def _sign_in(
    client: TestClient, token: str, name: str, password: str, address: str
) -> tuple[int, str | None, str]:
    response = await client.post(
        "/staff/login",
        data={"name": name, "password": password, "csrf_token": token, "next": "/staff"},
        headers={"X-Forwarded-For": address},
        allow_redirects=False,
    )
    return response.status, response.headers.get("Retry-After"), await response.text()


async def _burst(client: TestClient, name: str, addresses: list[str]) -> list[tuple]:
    """Wrong passwords for `name`, all sent at once, one from each address."""
    token = csrf_in(await (await client.get("/staff/login")).text())
    return await asyncio.gather(
        *(_sign_in(client, token, name, f"wrong guess {i}", a) for i, a in enumerate(addresses))
    )


def _refused_properly(results: list[tuple], message: str) -> None:
    for status, retry_after, page in results:
        if status == 429:
            assert retry_after is not None and int(retry_after) > 0
            assert message in page
            assert 'action="/staff/login"' in page  # the login page, with the reason on it


async def test_a_burst_of_guesses_from_one_address_gets_only_the_limit(
    website, session_factory, settings: Settings
):
    client = await website(trust_forwarded_for=True)
    add_user(session_factory, "maria", "staff")
    add_user(session_factory, "jonas", "staff")
    results = await _burst(client, "maria", ["203.0.113.9"] * BURST)
    statuses = Counter(status for status, _, _ in results)
    limit = settings.max_login_attempts
    assert statuses == {401: limit, 429: BURST - limit}
    _refused_properly(results, "Too many sign-in attempts from your address")
    # The right password from the same address waits too; another person elsewhere does not.
    token = csrf_in(await (await client.get("/staff/login")).text())
    assert (await _sign_in(client, token, "maria", PASSWORD, "203.0.113.9"))[0] == 429
    assert (await _sign_in(client, token, "jonas", PASSWORD, "198.51.100.4"))[0] == 303


async def test_a_burst_from_many_addresses_against_one_account_gets_only_its_limit(
    website, session_factory, settings: Settings
):
    client = await website(trust_forwarded_for=True)
    add_user(session_factory, "maria", "staff")
    add_user(session_factory, "jonas", "staff")
    results = await _burst(
        client, "maria", [f"10.0.{i // 250}.{i % 250 + 1}" for i in range(BURST)]
    )
    statuses = Counter(status for status, _, _ in results)
    limit = settings.max_login_attempts_per_account
    assert statuses == {401: limit, 429: BURST - limit}
    _refused_properly(results, "Too many sign-in attempts for this account")
    token = csrf_in(await (await client.get("/staff/login")).text())
    # The account waits out the window, whoever asks; another account signs in as usual.
    assert (await _sign_in(client, token, "maria", PASSWORD, "192.0.2.77"))[0] == 429
    assert (await _sign_in(client, token, "jonas", PASSWORD, "192.0.2.78"))[0] == 303


async def test_x_forwarded_for_is_ignored_unless_trusted(website, session_factory):
    client = await website()  # trust_forwarded_for is off
    add_user(session_factory, "maria", "staff")
    token = csrf_in(await (await client.get("/staff/login")).text())
    for i in range(5):  # "from" five addresses, really from one
        assert (await _sign_in(client, token, "maria", "wrong", f"10.9.9.{i}"))[0] == 401
    assert (await _sign_in(client, token, "maria", "wrong", "10.9.9.99"))[0] == 429


@pytest.mark.parametrize(
    ("trusted", "header", "expected"),
    [
        (False, "203.0.113.9", "127.0.0.1"),
        (True, "203.0.113.9", "203.0.113.9"),
        (True, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the last hop is the proxy's
        (True, "203.0.113.9, not-an-address", "127.0.0.1"),
        (True, "", "127.0.0.1"),
        (True, None, "127.0.0.1"),
    ],
)
def test_the_client_address(trusted: bool, header: str | None, expected: str):
    headers = {"X-Forwarded-For": header} if header is not None else {}
    request = make_mocked_request("POST", "/staff/login", headers=headers)
    request._transport_peername = ("127.0.0.1", 40000)  # type: ignore[attr-defined]
    settings = Settings(trust_forwarded_for=trusted)
    assert client_address(request, settings) == expected


# --- the session cookie ---------------------------------------------------------------------


def _session_cookie(response) -> tuple[str, set[str], str]:  # type: ignore[no-untyped-def]
    """The session cookie a response sets: its value, its attribute names, the whole header."""
    header = next(
        value
        for value in response.headers.getall("Set-Cookie")
        if value.startswith(SESSION_COOKIE + "=")
    )
    value = header.split(";")[0].split("=", 1)[1]
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    return value, attributes, header


@pytest.mark.parametrize("secure", [True, False])
async def test_the_session_cookie_is_secure_when_asked(website, session_factory, secure: bool):
    client = await website(secure_cookies=secure)
    add_user(session_factory, "maria", "staff")
    form = await client.get("/staff/login")
    # A browser sends a Secure cookie over HTTPS only; the test client speaks HTTP, so the
    # cookie goes back by hand, as the browser of an HTTPS site would send it.
    value, attributes, _ = _session_cookie(form)
    assert ("secure" in attributes) is secure
    response = await client.post(
        "/staff/login",
        data={"name": "maria", "password": PASSWORD, "csrf_token": csrf_in(await form.text())},
        headers={"Cookie": f"{SESSION_COOKIE}={value}"},
        allow_redirects=False,
    )
    assert response.status == 303
    _, attributes, header = _session_cookie(response)
    assert ("secure" in attributes) is secure
    assert "httponly" in attributes
    assert "SameSite=Lax" in header


# --- "log in as" ----------------------------------------------------------------------------


def test_the_demo_login_is_off_unless_asked_for(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SUPPORTBOT_DEMO_LOGIN", raising=False)
    assert not Settings().demo_login and not Settings.from_env().demo_login
    monkeypatch.setenv("SUPPORTBOT_DEMO_LOGIN", "1")
    assert Settings.from_env().demo_login


async def _shop_with_customers(web_services: Services, seeded: bool) -> int:
    with session_scope(web_services.session_factory) as session:
        customer = Customer(email="anna@example.org", name="Anna Berg", city="Graz", created_at=NOW)
        session.add(customer)
        if seeded:
            session.add(Meta(key=META_KEY, value="20261123|2026-11-01"))
        session.flush()
        return int(customer.id)


@pytest.mark.parametrize(
    ("seeded", "asked", "offered"),
    [(True, True, True), (True, False, False), (False, True, False), (False, False, False)],
)
async def test_log_in_as_only_in_a_seeded_demo_that_asks_for_it(
    website, web_services: Services, seeded: bool, asked: bool, offered: bool
):
    customer_id = await _shop_with_customers(web_services, seeded)
    client = await website(demo_login=asked)
    page = await (await client.get("/")).text()
    assert ("Log in as" in page) is offered
    assert ("Anna Berg" in page) is offered
    response = await client.post("/widget/login", json={"customer_id": customer_id})
    assert response.status == (200 if offered else 404)
    if offered:
        token = (await response.json())["token"]
        assert decode(web_services.signing_key(), token, "chat").customer_id == customer_id


def test_the_warning_is_loud_when_the_demo_login_is_on(capsys: pytest.CaptureFixture[str]):
    cli.warn_if_demo_login(Settings(demo_login=True))
    err = capsys.readouterr().err
    assert "WARNING" in err and "SUPPORTBOT_DEMO_LOGIN" in err and "any customer" in err
    cli.warn_if_demo_login(Settings(demo_login=False))
    assert capsys.readouterr().err == ""


class _Stop(Exception):
    pass


@pytest.mark.parametrize("on", [True, False])
def test_serve_prints_the_warning_before_starting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path, on: bool
):
    model = tmp_path / "supportbot.tar.gz"
    model.touch()
    monkeypatch.delenv("SANIC_WORKERS", raising=False)
    monkeypatch.setattr(cli, "_rasa_model", lambda settings: model)
    monkeypatch.setattr(cli, "_database_not_ready", lambda settings: None)

    def stop(settings: Settings) -> None:
        raise _Stop  # before any server is started

    monkeypatch.setattr("bot.runtime.write_endpoints", stop)
    with pytest.raises(_Stop):
        cli.cmd_serve(
            Settings(var_dir=tmp_path, demo_login=on),
            argparse.Namespace(timeout=1, profile="embedded"),
        )
    assert ("demo login is ON" in capsys.readouterr().err) is on


# --- tokens for the JSON API ----------------------------------------------------------------


def _cli_token(capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    assert cli.main(["token", "--role", "manager", "--name", "Maria", "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


async def test_supportbot_token_mints_for_the_chat_unless_asked_for_the_api(
    website, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys
):
    monkeypatch.setenv("SUPPORTBOT_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRACKER_DB_URL", settings.tracker_db_url)
    monkeypatch.delenv("SUPPORTBOT_SECRET_KEY", raising=False)
    client = await website()
    chat = _cli_token(capsys)
    api = _cli_token(capsys, "--audience", "api")
    assert (chat["audience"], api["audience"]) == ("chat", "api")
    for token, audience in ((chat["token"], "api"), (api["token"], "chat")):
        with pytest.raises(jwt.InvalidAudienceError):
            decode(signing_key(settings), token, audience)
    with_chat = await client.get(
        "/api/metrics", headers={"Authorization": f"Bearer {chat['token']}"}
    )
    assert with_chat.status == 401
    assert "--audience api" in (await with_chat.json())["message"]
    with_api = await client.get("/api/metrics", headers={"Authorization": f"Bearer {api['token']}"})
    assert with_api.status == 200
