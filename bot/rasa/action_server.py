"""The action server: rasa-sdk's app with the code in `actions/`, for the Rasa server alone.

It listens on `settings.action_host` (loopback unless the Rasa server runs elsewhere) and
answers only requests that carry the shared secret in `ACTION_SECRET_HEADER`, which the
Rasa server sends (`bot.runtime.endpoints_config`); `GET /health` stays open for probes.
No browser calls it, so it sends no CORS headers.

Usage: python -m bot.rasa.action_server [--actions PACKAGE]   (`supportbot serve` does this)
"""

from __future__ import annotations

import argparse
import hmac
import logging
from collections.abc import Sequence

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.auth.keys import ACTION_SECRET_HEADER, action_server_secret
from bot.settings import Settings

OPEN_ROUTES = frozenset({("GET", "/health"), ("HEAD", "/health")})


def secret_matches(provided: str | None, secret: str) -> bool:
    """Whether a request's secret is the shared one (compared in constant time)."""
    if not provided:
        return False
    return hmac.compare_digest(provided.encode(), secret.encode())


def create_app(settings: Settings, actions: str = "actions") -> Sanic:
    """rasa-sdk's app (`rasa_sdk.endpoint.create_app`) behind the shared secret."""
    from rasa_sdk.endpoint import create_app as create_sdk_app

    app = create_sdk_app(actions, cors_origins="")
    secret = action_server_secret(settings)

    @app.middleware("request")
    async def require_secret(request: Request) -> HTTPResponse | None:
        if (request.method, request.path) in OPEN_ROUTES:
            return None
        if secret_matches(request.headers.get(ACTION_SECRET_HEADER), secret):
            return None
        return response.json({"error": f"missing or wrong {ACTION_SECRET_HEADER}"}, status=401)

    return app


def main(argv: Sequence[str] | None = None) -> None:
    from rasa_sdk import utils
    from rasa_sdk.plugin import plugin_manager

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", default="actions", help="the package of the actions")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    utils.configure_colored_logging(logging.INFO)
    utils.update_sanic_log_level()
    app = create_app(settings, args.actions)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    logging.getLogger(__name__).info(
        "Action server on http://%s:%s", settings.action_host, settings.action_port
    )
    app.run(settings.action_host, settings.action_port, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main()
