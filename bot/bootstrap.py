"""The composition root: the one place that wires settings, the database and services together."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from bot.auth.keys import signing_key
from bot.experiments.decisions import REFRESH_SECONDS, apply_decisions, latest_decisions
from bot.experiments.declarations import Declarations, load_experiments
from bot.settings import Settings
from bot.storage.repositories import ProductRepository
from bot.storage.session import create_db_engine, make_session_factory, session_scope
from bot.support.catalog_search import CatalogEntry, ProductMatcher
from bot.support.policies import Policies, load_policies
from bot.support.products import line_of

if TYPE_CHECKING:
    from bot.recommender.shop import ShopRecommender


logger = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.utcnow().replace(microsecond=0)


@dataclass
class Services:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker
    policies: Policies
    now: Callable[[], datetime] = _utcnow
    _matcher: ProductMatcher | None = field(default=None, repr=False)
    _signing_key: str | None = field(default=None, repr=False)
    _recommenders: dict[str | None, ShopRecommender] = field(default_factory=dict, repr=False)
    _declared: Declarations | None = field(default=None, repr=False)
    _experiments: Declarations | None = field(default=None, repr=False)
    _experiments_read: float = field(default=0.0, repr=False)

    def product_matcher(self) -> ProductMatcher:
        """The catalog index, built on first use (the catalog changes only when re-seeded)."""
        if self._matcher is None:
            with session_scope(self.session_factory) as session:
                entries = [
                    CatalogEntry(p.id, p.name, line_of(p.name))
                    for p in ProductRepository(session).all()
                ]
            self._matcher = ProductMatcher(entries)
        return self._matcher

    def recommender(self, kind: str | None = None) -> ShopRecommender:
        """The newest trained recommender of `kind` ("ease", "als"; of any kind when None),
        loaded once per process. Without a file of that kind, the newest of another kind (see
        its `model_name`; logged), else best sellers."""
        if kind not in self._recommenders:
            from bot.recommender.shop import load_or_fallback, model_folder

            loaded = load_or_fallback(model_folder(self.settings), self.session_factory, kind)
            # A file already in memory under another kind is shared, not loaded twice.
            same = next(
                (
                    r
                    for r in self._recommenders.values()
                    if loaded.path is not None and r.path == loaded.path
                ),
                None,
            )
            self._recommenders[kind] = same or loaded
        return self._recommenders[kind]

    def experiments(self) -> Declarations:
        """The declared experiments with the recorded decisions in force.

        The file is read once per process (bad entries are logged and left out); the decisions
        again every `REFRESH_SECONDS`, so stopping or shipping takes effect without a restart.
        """
        if self._declared is None:
            self._declared = load_experiments(self.settings.experiments_file)
            for problem in self._declared.problems:
                logger.warning("%s, %s: left out", self.settings.experiments_file, problem)
        clock = time.monotonic()
        if self._experiments is None or clock - self._experiments_read > REFRESH_SECONDS:
            try:
                with session_scope(self.session_factory) as session:
                    decisions = latest_decisions(session)
            except SQLAlchemyError:  # the file's word until the database answers again
                logger.exception("Could not read the experiments' decisions")
                decisions = {}
            self._experiments = apply_decisions(self._declared, decisions)
            self._experiments_read = clock
        return self._experiments

    def signing_key(self) -> str:
        """The key that signs role tokens: from the settings, or kept under var/."""
        if self._signing_key is None:
            self._signing_key = signing_key(self.settings)
        return self._signing_key

    def close(self) -> None:
        self.engine.dispose()


def bootstrap(settings: Settings | None = None, now: Callable[[], datetime] = _utcnow) -> Services:
    """Build the services for `settings` (from the environment when None)."""
    settings = settings or Settings.from_env()
    engine = create_db_engine(
        settings.database_url, settings.sqlite_busy_timeout_ms, settings.db_outage_wait_seconds
    )
    return Services(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        policies=load_policies(settings.policies_file),
        now=now,
    )


@functools.lru_cache(maxsize=1)
def default_services() -> Services:
    """The action server's services, created on first use rather than at import time."""
    return bootstrap()
