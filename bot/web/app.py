"""The aiohttp application: `create_app(settings)`; `main()` runs it."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp_session import setup as setup_sessions
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from bot.bootstrap import Services, bootstrap
from bot.settings import Settings
from bot.storage.session import create_db_engine
from bot.web import monitor
from bot.web.keys import services_key, settings_key, tracker_engine_key
from bot.web.routes import setup_routes

SESSION_COOKIE = "supportbot_session"
SESSION_MAX_AGE = 8 * 3600


def _cookie_key(signing_key: str) -> str:
    """A Fernet key for the session cookies, derived from the app's signing key.

    Text, not bytes: EncryptedCookieStorage base64-encodes a bytes key once more.
    """
    digest = hashlib.sha256(f"web-session:{signing_key}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


def create_app(settings: Settings, services: Services | None = None) -> web.Application:
    """The whole website for `settings`; tests pass their own services (and clock)."""
    app = web.Application(client_max_size=64 * 1024)
    app[settings_key] = settings
    built = services or bootstrap(settings)
    app[services_key] = built

    async def resources(app: web.Application) -> AsyncIterator[None]:
        app[tracker_engine_key] = create_db_engine(settings.tracker_db_url)
        yield
        app[tracker_engine_key].dispose()
        if services is None:  # ours to close; a caller's stays open
            built.close()

    app.cleanup_ctx.append(resources)
    # After `resources`, so it stops before the database it reads is closed.
    monitor.setup(app)
    setup_sessions(
        app,
        EncryptedCookieStorage(
            _cookie_key(built.signing_key()),
            cookie_name=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE,
            httponly=True,
            # Lax: a link to the console from mail or a chat keeps the session; a cross-site
            # form POST does not carry it (and every form checks its CSRF token as well).
            samesite="Lax",
            secure=settings.secure_cookies,
        ),
    )
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("bot.web", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    )
    setup_routes(app)
    return app


def main() -> None:
    settings = Settings.from_env()
    web.run_app(create_app(settings), host=settings.web_host, port=settings.web_port)


if __name__ == "__main__":
    main()
