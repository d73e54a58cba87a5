"""The migrations build exactly the schema the models describe, and can be undone."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.settings import Settings
from bot.storage.migrate import alembic_config, current_revision, head_revision, upgrade
from bot.storage.models import Base


def test_the_migrated_schema_is_the_models_schema(settings: Settings):
    upgrade(settings.database_url)
    engine = sa.create_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_every_migration_can_be_undone_and_redone(settings: Settings):
    url = settings.database_url
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    assert current_revision(url) is None
    upgrade(url)
    assert current_revision(url) == head_revision()
