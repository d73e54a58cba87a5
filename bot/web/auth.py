"""Staff sign-in: the login and logout pages, the session, CSRF tokens and role checks.

For the other views:
    `await current_user(request)` -> `StaffUser | None`;
    `@require_role("staff", "manager")` on a handler: 401 with the login page when nobody is
    signed in, 403 when the user's role is not listed;
    `await csrf_token(request)` for a form's hidden `csrf_token` field, and
    `await check_csrf(request, form)` first thing in every POST handler (403 otherwise; an
    `X-CSRF-Token` header stands in for the field when `form` is None);
    `await page_context(request)` -> the `user`, `csrf_token` and `flash` that
    `base.html.j2` shows; `render(...)` renders a template with them;
    `audit(session, user, action, target, detail)` writes an audit-log row.

The session lives in the encrypted cookie (aiohttp_session, set up in `app.py`): user id,
name and role plus the CSRF token. The user is looked up again on every request, so a
deleted account or a changed role takes effect at once.
"""

from __future__ import annotations

import functools
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session, new_session
from sqlalchemy.orm import Session

from bot.auth import audit as audit_log
from bot.auth.throttle import LoginThrottle, Refusal
from bot.auth.users import Account, UserRepository
from bot.web.client import client_address
from bot.web.db import in_session
from bot.web.keys import login_throttle_key, services_key, settings_key

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LOGIN_PATH = "/staff/login"
HOME_PATH = "/staff"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_USER_ID, _USER_NAME, _USER_ROLE, _CSRF, _FLASH = "uid", "name", "role", "csrf", "flash"
_REQUEST_USER = "staff_user"
# The sign-in throttle's kinds of key: per client address and per account name.
CLIENT, ACCOUNT = "client", "account"
_UNKNOWN = object()
MAX_NEXT_LENGTH = 2000
_DECODE_ROUNDS = 3


@dataclass(frozen=True)
class StaffUser:
    name: str
    role: str
    id: int = 0

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"


# --- the session ------------------------------------------------------------------------------


async def current_user(request: web.Request) -> StaffUser | None:
    """The signed-in user, or None. Checked against the database once per request."""
    cached = request.get(_REQUEST_USER, _UNKNOWN)
    if cached is not _UNKNOWN:
        return cached  # type: ignore[no-any-return]
    user: StaffUser | None = None
    session = await get_session(request)
    user_id = session.get(_USER_ID)
    if isinstance(user_id, int):
        account = await in_session(request, lambda s: UserRepository(s).get(user_id))
        if account is not None and account.name == session.get(_USER_NAME):
            user = StaffUser(account.name, account.role, account.id)
        else:  # the account is gone (or is another one now): sign out
            session.invalidate()
    request[_REQUEST_USER] = user
    return user


async def csrf_token(request: web.Request) -> str:
    """This session's CSRF token (made on first use)."""
    session = await get_session(request)
    token = session.get(_CSRF)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[_CSRF] = token
    return token


async def check_csrf(request: web.Request, form: Mapping[str, Any] | None = None) -> None:
    """Raise 403 unless the form (or the `X-CSRF-Token` header) carries this session's token."""
    session = await get_session(request)
    expected = session.get(_CSRF)
    supplied = form.get(CSRF_FIELD) if form is not None else request.headers.get(CSRF_HEADER)
    if (
        isinstance(expected, str)
        and expected
        and isinstance(supplied, str)
        and hmac.compare_digest(expected.encode(), supplied.encode())
    ):
        return
    raise await _error_page(
        request,
        web.HTTPForbidden,
        "This form has expired or did not come from this site. Go back, reload the page "
        "and try again.",
    )


async def flash(request: web.Request, message: str) -> None:
    """A message for the next page this session sees (after a redirect)."""
    session = await get_session(request)
    session[_FLASH] = message[:500]


async def page_context(request: web.Request) -> dict[str, Any]:
    """What `base.html.j2` shows in every page: the user, the CSRF token, a flash message."""
    session = await get_session(request)
    message = session.pop(_FLASH, None)
    return {
        "user": await current_user(request),
        "csrf_token": await csrf_token(request),
        "flash": message,
    }


async def render(
    template: str,
    request: web.Request,
    context: Mapping[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    """`aiohttp_jinja2.render_template` with the page context added."""
    full = await page_context(request)
    full.update(context or {})
    return aiohttp_jinja2.render_template(template, request, full, status=status)


async def _error_page(
    request: web.Request, error: type[web.HTTPError], message: str
) -> web.HTTPError:
    context = await page_context(request)
    context.update(status=error.status_code, reason=error().reason, message=message)
    html = aiohttp_jinja2.render_string("staff_error.html.j2", request, context)
    return error(text=html, content_type="text/html")


def _plain(text: str) -> bool:
    """No control, format or whitespace characters, and no backslash (browsers read it as /)."""
    return all(char.isprintable() and not char.isspace() and char != "\\" for char in text)


def _decoded(text: str) -> str | None:
    """`text` percent-decoded until nothing changes; None if it is still encoded after that."""
    for _ in range(_DECODE_ROUNDS):
        once = unquote(text)
        if once == text:
            return text
        text = once
    return None


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site, else the console's home.

    Only a plain path that starts with a single `/`, percent-decoded before it is checked:
    no `//` (another host), no backslash, scheme, control character or whitespace, however
    encoded; browsers drop tabs and newlines and read `\\` as `/`, so `/\t/evil.example` and
    `/\\evil.example` would lead to another site.
    """
    if not value or len(value) > MAX_NEXT_LENGTH or not _plain(value):
        return HOME_PATH
    decoded = _decoded(value)
    if decoded is None or not _plain(decoded):
        return HOME_PATH
    if not decoded.startswith("/") or decoded.startswith("//"):
        return HOME_PATH
    return value


def require_role(*roles: str) -> Callable[[Handler], Handler]:
    """Let the handler run only for a signed-in user with one of `roles`.

    Nobody signed in: 401 with the login page (it comes back here afterwards).
    Someone else: 403.
    """

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            user = await current_user(request)
            if user is None:
                back = (
                    request.rel_url.raw_path_qs if request.method in ("GET", "HEAD") else HOME_PATH
                )
                return await _login_page(request, status=401, next_path=back)
            if user.role not in roles:
                raise await _error_page(
                    request,
                    web.HTTPForbidden,
                    f"This page is for {' or '.join(roles)} accounts; you are signed in as "
                    f"{user.name} ({user.role}).",
                )
            return await handler(request)

        return guarded

    return decorate


def audit(
    session: Session,
    user: StaffUser | str | None,
    action: str,
    target: str,
    detail: str | dict[str, Any] = "",
    at: datetime | None = None,
) -> None:
    """An audit-log row in `session`'s transaction (no personal data in `detail`)."""
    name = user.name if isinstance(user, StaffUser) else (user or "anonymous")
    audit_log.record(session, name, action, target, detail, at)


# --- the pages --------------------------------------------------------------------------------


async def _login_page(
    request: web.Request,
    status: int = 200,
    next_path: str = HOME_PATH,
    error: str | None = None,
    name: str = "",
) -> web.Response:
    response = await render(
        "staff_login.html.j2",
        request,
        {"next": safe_next(next_path), "error": error, "name": name},
        status=status,
    )
    if status == 401:
        response.headers["WWW-Authenticate"] = 'FormBased realm="supportbot staff"'
    return response


async def login_form(request: web.Request) -> web.StreamResponse:
    next_path = safe_next(request.query.get("next"))
    if await current_user(request) is not None:
        raise web.HTTPSeeOther(next_path)
    return await _login_page(request, next_path=next_path)


def _too_many(refusal: Refusal) -> str:
    minutes = max(1, round(refusal.retry_after / 60))
    whose = "from your address" if refusal.key[0] == CLIENT else "for this account"
    return (
        f"Too many sign-in attempts {whose}. Please wait {minutes} "
        f"minute{'s' if minutes != 1 else ''} and try again."
    )


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    await check_csrf(request, form)
    name = str(form.get("name", "")).strip()[:120]
    password = str(form.get("password", ""))
    next_path = safe_next(str(form.get("next", "")))
    address = client_address(request, request.app[settings_key])
    # Reserved before the slow password check and without awaiting in between, so parallel
    # guesses are counted as they arrive, not when their checks end.
    attempt = request.app[login_throttle_key].reserve((CLIENT, address), (ACCOUNT, name.casefold()))
    if isinstance(attempt, Refusal):
        logger.warning("Sign-in for %r from %s refused: too many attempts", name, address)
        response = await _login_page(
            request, status=429, next_path=next_path, name=name, error=_too_many(attempt)
        )
        response.headers["Retry-After"] = str(int(attempt.retry_after) + 1)
        return response
    now = request.app[services_key].now()
    account: Account | None = None
    if name and password:
        account = await in_session(
            request, lambda s: UserRepository(s).authenticate(name, password, now)
        )
    if account is None:
        logger.warning("Failed staff sign-in for %r from %s", name, address)
        return await _login_page(
            request,
            status=401,
            next_path=next_path,
            name=name,
            error="That name and password do not match an account.",
        )
    request.app[login_throttle_key].release(attempt)
    session = await new_session(request)  # a fresh session: no fixation
    session[_USER_ID] = account.id
    session[_USER_NAME] = account.name
    session[_USER_ROLE] = account.role
    session[_CSRF] = secrets.token_urlsafe(32)
    request[_REQUEST_USER] = StaffUser(account.name, account.role, account.id)
    await in_session(
        request, lambda s: audit(s, account.name, "login", f"user:{account.id}", at=now)
    )
    raise web.HTTPSeeOther(next_path)


async def logout(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    await check_csrf(request, form)
    session = await get_session(request)
    session.invalidate()
    raise web.HTTPSeeOther(LOGIN_PATH)


async def healthz(request: web.Request) -> web.Response:
    """For `supportbot serve` and load balancers: the process answers."""
    return web.json_response({"status": "ok"})


# --- headers ----------------------------------------------------------------------------------

_STAFF_HEADERS = {
    # Nothing on these pages is for caches, frames, other origins or inline scripts.
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'",
}


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.path == HOME_PATH or request.path.startswith(HOME_PATH + "/"):
        for name, value in _STAFF_HEADERS.items():
            response.headers.setdefault(name, value)


def setup(app: web.Application) -> None:
    settings = app[settings_key]
    app[login_throttle_key] = LoginThrottle(
        {CLIENT: settings.max_login_attempts, ACCOUNT: settings.max_login_attempts_per_account},
        settings.login_window_seconds,
    )
    app.on_response_prepare.append(_security_headers)  # type: ignore[arg-type]
    app.router.add_get(LOGIN_PATH, login_form, name="staff.login")
    app.router.add_post(LOGIN_PATH, login)
    app.router.add_post("/staff/logout", logout, name="staff.logout")
    app.router.add_get("/healthz", healthz, name="healthz")
