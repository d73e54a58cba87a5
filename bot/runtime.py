"""Rasa's endpoint configuration, written from the settings.

Rasa reads its tracker store, lock store and event broker from `endpoints.yml`. Supportbot
configures them with URLs (`TRACKER_DB_URL`, `LOCK_STORE_URL`, `EVENT_BROKER_URL`), so the
same code runs embedded (SQLite, in-memory locks, no broker) and at scale (PostgreSQL,
Redis, RabbitMQ): only the environment changes.

The file holds secrets (the action server's shared secret, database passwords), so it is
written readable by its owner only.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import make_url

from bot.auth.keys import ACTION_SECRET_HEADER, action_server_secret
from bot.settings import Settings

# Rasa's SQLTrackerStore, which also writes each session's summary for the metrics.
TRACKER_STORE_CLASS = "bot.rasa.tracker_store.SummarizingTrackerStore"
# Rasa's Redis lock store with atomic ticket changes, for several replicas (see the module).
LOCK_STORE_CLASS = "bot.rasa.lock_store.AtomicRedisLockStore"


def tracker_store_config(url: str) -> dict[str, Any]:
    """The tracker store's settings (those of Rasa's `SQLTrackerStore`) for an SQLAlchemy URL."""
    parsed = make_url(url)
    dialect = parsed.get_backend_name()
    if dialect == "sqlite":
        return {"type": TRACKER_STORE_CLASS, "dialect": "sqlite", "db": parsed.database}
    config: dict[str, Any] = {
        "type": TRACKER_STORE_CLASS,
        "dialect": parsed.drivername,
        "url": parsed.host or "localhost",
        "db": parsed.database,
    }
    if parsed.port:
        config["port"] = parsed.port
    if parsed.username:
        config["username"] = parsed.username
    if parsed.password:
        config["password"] = parsed.password
    return config


def lock_store_config(url: str) -> dict[str, Any]:
    """The Redis lock store's settings for `redis://[:password@]host[:port][/db]`."""
    parsed = make_url(url)
    config: dict[str, Any] = {
        "type": LOCK_STORE_CLASS,
        "url": parsed.host or "localhost",
        "port": parsed.port or 6379,
        "db": int(parsed.database or 0),
        "key_prefix": "supportbot",
    }
    if parsed.password:
        config["password"] = parsed.password
    return config


def event_broker_config(url: str, queue: str) -> dict[str, Any]:
    """Rasa's Pika (RabbitMQ) event broker settings for `amqp://user:password@host:port`."""
    parsed = make_url(url)
    return {
        "type": "pika",
        "url": parsed.host or "localhost",
        "port": parsed.port or 5672,
        "username": parsed.username or "guest",
        "password": parsed.password or "guest",
        "queues": [queue],
    }


def endpoints_config(settings: Settings, environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = dict(os.environ if environ is None else environ)
    config: dict[str, Any] = {
        "action_endpoint": {
            "url": settings.action_endpoint_url,
            "headers": {ACTION_SECRET_HEADER: action_server_secret(settings)},
        },
        "tracker_store": tracker_store_config(settings.tracker_db_url),
    }
    if settings.summaries_from == "broker":
        # `supportbot consume-events` writes the summaries from the broker's queue instead.
        if not environ.get("EVENT_BROKER_URL"):
            raise ValueError(
                "SUPPORTBOT_SUMMARIES_FROM=broker needs EVENT_BROKER_URL: without a broker "
                "no conversation summary would be written"
            )
        config["tracker_store"]["summarize"] = False
    if settings.db_outage_wait_seconds > 0:
        config["tracker_store"]["outage_wait"] = settings.db_outage_wait_seconds
    if environ.get("LOCK_STORE_URL"):
        config["lock_store"] = lock_store_config(environ["LOCK_STORE_URL"])
    if environ.get("EVENT_BROKER_URL"):
        config["event_broker"] = event_broker_config(
            environ["EVENT_BROKER_URL"], environ.get("EVENT_BROKER_QUEUE", "supportbot_events")
        )
    return config


def write_endpoints(settings: Settings, path: Path | None = None) -> Path:
    """Write the endpoints file Rasa should use (mode 0600) and return its path."""
    path = path or settings.var_dir / "endpoints.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(endpoints_config(settings), sort_keys=False)
    # mkstemp makes the file 0600; the rename replaces an older file (whatever its mode) whole
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
