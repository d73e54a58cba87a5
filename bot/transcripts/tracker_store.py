"""Read conversations back from Rasa's SQL tracker store (its `events` table)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.engine import Engine


def load_event(data: str | bytes) -> Any:
    """One stored (or published) event's JSON, read with orjson, or with json where orjson
    refuses what Rasa may write (NaN, say)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def iter_conversations(
    engine: Engine, batch_size: int = 1000
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Every conversation as (sender id, its events in order), streamed one at a time."""
    query = text("SELECT sender_id, data FROM events ORDER BY sender_id, id")
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=batch_size).execute(
            query
        )
        current: str | None = None
        events: list[dict[str, Any]] = []
        for sender_id, data in result:
            if sender_id != current:
                if current is not None:
                    yield current, events
                current, events = sender_id, []
            events.append(load_event(data))
        if current is not None:
            yield current, events


def conversation_events(engine: Engine, sender_id: str) -> list[dict[str, Any]]:
    """The events of one conversation, in order."""
    query = text("SELECT data FROM events WHERE sender_id = :sender ORDER BY id")
    with engine.connect() as connection:
        return [load_event(row[0]) for row in connection.execute(query, {"sender": sender_id})]
