"""Shared fixtures: settings pointing at a temporary, migrated SQLite database; the running
servers (`running_bot`, one per session for tests/integration and tests/security)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import sessionmaker

from bot.settings import Settings
from bot.storage.migrate import upgrade
from bot.storage.session import create_db_engine, make_session_factory
from tests.servers import running_bot  # noqa: F401 - the session's servers, shared


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose databases live in this test's temporary folder."""
    # No experiments unless a test declares some: a conversation's variant depends on its id.
    return Settings(
        var_dir=tmp_path, demo_today="2026-11-01", experiments_file=tmp_path / "experiments.yml"
    )


@pytest.fixture
def session_factory(settings: Settings) -> Iterator[sessionmaker]:
    """A session factory on a freshly migrated, empty app database."""
    upgrade(settings.database_url)
    engine = create_db_engine(settings.database_url)
    yield make_session_factory(engine)
    engine.dispose()
