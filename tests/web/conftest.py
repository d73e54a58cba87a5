"""The website on a temporary, migrated SQLite database, through pytest-aiohttp's client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from aiohttp.test_utils import TestClient

from bot.bootstrap import Services, bootstrap
from bot.settings import Settings
from bot.web.app import create_app

NOW = datetime(2026, 11, 1, 12, 0, 0)


@pytest.fixture
def web_services(settings: Settings, session_factory) -> Iterator[Services]:
    """The app's services on the test database, with a fixed clock."""
    built = bootstrap(settings, now=lambda: NOW)
    yield built
    built.close()


@pytest.fixture
async def client(aiohttp_client, settings: Settings, web_services: Services) -> TestClient:
    return await aiohttp_client(create_app(settings, web_services))
