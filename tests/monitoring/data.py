"""Planted support history for the monitoring tests: conversations with survey answers,
spread evenly over a stretch of days before the tests' clock (2026-11-01 12:00)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.orm import sessionmaker

from bot.storage.models import Conversation, SurveyResponse
from bot.storage.session import session_scope

NOW = datetime(2026, 11, 1, 12, 0, 0)


def _every(share: float, i: int) -> bool:
    """Spread evenly: of rows 0..n-1, exactly floor(n * share) are True."""
    return int((i + 1) * share + 1e-9) > int(i * share + 1e-9)


def plant(
    factory: sessionmaker,
    start: datetime,
    days: float,
    n: int,
    satisfied: float = 0.85,
    handed_off: float = 0.10,
    first_response: float = 2.0,
    prefix: str = "chat",
    seed: int | None = None,
) -> None:
    """`n` conversations from `start` over `days` days, each with a survey answer.

    Without `seed` the shares are exact (`satisfied` of the CSAT answers are 5, the rest 2;
    `handed_off` of the conversations were handed off) and every first response takes
    `first_response` seconds, give or take 0.5 s in turn. With `seed`, each conversation is
    drawn at random with those chances (first responses exponential around the mean): noise.
    """
    rng = np.random.default_rng(seed)
    with session_scope(factory) as session:
        for i in range(n):
            at = start + timedelta(days=days) * i / n
            chat = f"{prefix}-{i}"
            if seed is None:
                happy, handed = _every(satisfied, i), _every(handed_off, i)
                seconds = first_response + (0.5 if i % 2 else -0.5)
            else:
                happy, handed = rng.random() < satisfied, rng.random() < handed_off
                seconds = float(rng.exponential(first_response))
            session.add(
                Conversation(
                    conversation_id=chat,
                    session_key="1.0",
                    started_at=at,
                    last_event_at=at,
                    first_response_seconds=seconds,
                    handed_off=handed,
                    survey_asked=True,
                )
            )
            session.add(
                SurveyResponse(
                    conversation_id=chat,
                    session_key="1.0",
                    nps=8,
                    csat=5 if happy else 2,
                    status="completed",
                    created_at=at,
                    updated_at=at,
                )
            )


def baseline(
    factory: sessionmaker,
    n: int = 412,
    prefix: str = "before",
    now: datetime = NOW,
    **shares: object,
) -> None:
    """The 28 days before the recent window of a check at `now`."""
    start = now - timedelta(days=7 + 28)
    plant(factory, start, 28, n, prefix=prefix, **shares)  # type: ignore[arg-type]


def window(
    factory: sessionmaker,
    n: int = 130,
    prefix: str = "recent",
    now: datetime = NOW,
    **shares: object,
) -> None:
    """The recent window of a check at `now`: the last 7 days."""
    plant(factory, now - timedelta(days=7), 7, n, prefix=prefix, **shares)  # type: ignore[arg-type]
