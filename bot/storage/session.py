"""Engines and transactions. A `session_scope()` owns the transaction; repositories never commit."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SAWarning
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool


def _sqlite_pragmas(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def enable(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # First, so that the pragmas below wait for another connection's write instead of
        # failing at once ("database is locked") when connections open at the same time.
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        # WAL lets the action server write while the CLI or web app reads.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return enable


def _connect_waiting(seconds: float) -> Callable[..., Any]:
    """A `do_connect` hook: while the server refuses connections (restarting), try again for
    up to `seconds`, waiting 0.2 s and doubling to 2 s, before the error reaches the caller."""

    def do_connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        deadline = time.monotonic() + seconds
        delay = 0.2
        while True:
            try:
                return dialect.connect(*cargs, **cparams)
            except dialect.dbapi.OperationalError:
                if time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

    return do_connect


def create_db_engine(
    url: str, sqlite_busy_timeout_ms: int = 5000, outage_wait: float = 0.0, **kwargs: Any
) -> Engine:
    """An engine for `url`; SQLite files get their folder created and sensible pragmas.

    A server database's engine checks a pooled connection before using it (so one closed by a
    restart of the server is replaced) and, with `outage_wait` > 0, waits that long for a
    server that refuses connections."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # Amounts are Numeric(10, 2): SQLite keeps them as floats, and SQLAlchemy reads them
        # back as Decimals rounded to the column's 2 decimals, exact for 10 digits. Its
        # warning about floats would otherwise be written to the servers' logs on every start.
        warnings.filterwarnings(
            "ignore",
            message=r"Dialect sqlite\+pysqlite does \*not\* support Decimal objects natively",
            category=SAWarning,
        )
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Python's sqlite3 waits 5 s by default on its own; the pragma is the one that counts.
        connect_args: dict[str, Any] = {"timeout": 0}
        if parsed.database and parsed.database != ":memory:" and "poolclass" not in kwargs:
            # A file database keeps its connections (SQLAlchemy 1.4 would open one per
            # session); the pool hands each to one thread at a time.
            kwargs["poolclass"] = QueuePool
            connect_args["check_same_thread"] = False
        engine = create_engine(url, future=True, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas(sqlite_busy_timeout_ms))
        return engine
    engine = create_engine(url, future=True, pool_pre_ping=True, **kwargs)
    if outage_wait > 0:
        event.listen(engine, "do_connect", _connect_waiting(outage_wait))
    return engine


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker) -> Iterator[Session]:
    """One unit of work: commit when the block succeeds, roll back when it raises."""
    session: Session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
