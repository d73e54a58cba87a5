"""The JSON API fuzzed from its own OpenAPI document (Schemathesis), on a real server.

Every operation of /api/openapi.json, with query values Schemathesis draws from the
document: no answer may be a 5xx, and every status code, content type and body must be one
the document describes. A manager's API token gets the numbers; no token, a chat token and
a staff member's token get the 401s and 403s the document promises.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import schemathesis
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, Phase, assume, given
from hypothesis import settings as hypothesis_settings
from schemathesis import DataGenerationMethod
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bot.bootstrap import Services
from bot.settings import Settings
from bot.web.app import create_app
from tests.web.metrics_data import bearer, fill

CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
)
OPERATIONS = 8  # /api/openapi.json, the five metric endpoints, /api/experiments, /api/alerts

# Hypothesis warns when it describes Schemathesis's (large) strategies; nothing of ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning"
)


def _examples(max_examples: int):  # type: ignore[no-untyped-def]
    return hypothesis_settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,  # the same requests on every run
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


def _header_safe(value: str) -> bool:
    """Whether the HTTP parser takes this header value (no control characters)."""
    return all(char >= " " and char != "\x7f" for char in value)


def fuzz(
    base_url: str, headers: dict[str, str], max_examples: int, generated_auth: bool = False
) -> tuple[int, list[str]]:
    """Run every operation's examples; returns the number of operations and the failures.

    `headers` go with every request. With `generated_auth`, the `Authorization` header is
    whatever Schemathesis draws for the bearer scheme (forged tokens, odd bytes), except
    control characters, which the HTTP parser refuses before the API sees them.
    """
    schema = schemathesis.from_uri(
        f"{base_url}/api/openapi.json",
        base_url=base_url,
        data_generation_methods=[DataGenerationMethod.positive, DataGenerationMethod.negative],
    )
    operations, failures = 0, []
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @_examples(max_examples)
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            # The session cookie's garbage (raw bytes) is refused by the HTTP parser before
            # the API sees it; the callers here prove who they are with a bearer token.
            case.cookies = None
            drawn = dict(case.headers or {})
            if generated_auth:
                assume(_header_safe(drawn.get("Authorization", "")))
            else:
                drawn.pop("Authorization", None)
            case.headers = drawn
            response = case.call(headers=headers, timeout=30)
            case.validate_response(response, checks=CHECKS)

        try:
            check()
        except Exception as error:  # noqa: BLE001 - every operation's failure is reported
            failures.append(f"{operation.verbose_name}: {error}")
    return operations, failures


@pytest.fixture
async def api_url(settings: Settings, session_factory) -> AsyncIterator[str]:
    """The website on 127.0.0.1 (a free port), its database filled with a month of chats and
    a declared experiment with exposures (and an entry the file leaves out)."""
    from bot.bootstrap import bootstrap
    from tests.web.conftest import NOW
    from tests.web.experiments_data import CONTROL, VARIANT, declare, plant

    declare(settings.experiments_file)
    services = bootstrap(settings, now=lambda: NOW)
    fill(services.session_factory)
    plant(services.session_factory, CONTROL, 200, 0.6, 0.1, 1)
    plant(services.session_factory, VARIANT, 200, 0.7, 0.1, 2)
    server = TestServer(create_app(settings, services), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()
        services.close()


def _token(settings: Settings, role: str, audience: str = "api") -> dict[str, str]:
    from bot.bootstrap import bootstrap

    services: Services = bootstrap(settings)
    try:
        return bearer(services, role, audience=audience, name="Fuzz")
    finally:
        services.close()


CALLERS = {
    "manager": (40, lambda settings: _token(settings, "manager")),
    "nobody": (5, lambda settings: {}),
    "forged-token": (10, lambda settings: {}),
    "manager-chat-token": (5, lambda settings: _token(settings, "manager", audience="chat")),
    "staff": (5, lambda settings: _token(settings, "staff")),
}


@pytest.mark.parametrize("caller", list(CALLERS))
async def test_every_answer_is_one_the_document_describes(
    api_url: str, settings: Settings, caller: str
):
    max_examples, headers = CALLERS[caller]
    # Schemathesis speaks blocking HTTP: off the loop, which keeps serving the requests.
    operations, failures = await asyncio.to_thread(
        fuzz, api_url, headers(settings), max_examples, caller == "forged-token"
    )
    assert operations == OPERATIONS
    assert not failures, "\n\n".join(failures)
