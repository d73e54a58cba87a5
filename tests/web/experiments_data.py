"""A declared experiment with planted exposures, conversations and survey answers.

The web tests' clock is 2026-11-01 12:00: the experiment starts on 1 October, and the
planted sessions are spread over the days from 20 October.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy.orm import sessionmaker

from bot.storage.models import Conversation, ExperimentExposure, SurveyResponse
from bot.storage.session import session_scope

NAME = "early-handoff"
CONTROL, VARIANT = "second-miss", "first-miss"
FIRST_DAY = datetime(2026, 10, 20, 9)
DECLARED = f"""\
experiments:
  - name: {NAME}
    focus: support
    hypothesis: Offering a person after the first misunderstanding makes customers happier.
    variants: [{{name: {CONTROL}, weight: 50}}, {{name: {VARIANT}, weight: 50}}]
    primary_metric: csat
    guardrails: [{{metric: containment, max_drop: 5}}]
    minimum_detectable_effect: 5
    start: 2026-10-01
    planned_end: 2026-12-31
    status: running
  - name: broken
    focus: happiness
"""


def declare(path: Path, text: str = DECLARED) -> None:
    path.write_text(text, encoding="utf-8")


def plant(
    factory: sessionmaker,
    variant: str,
    n: int,
    satisfied: float,
    handed_off: float,
    seed: int,
    days: int = 10,
    experiment: str = NAME,
) -> None:
    """`n` exposed sessions of `variant`, spread evenly over `days` days from FIRST_DAY."""
    rng = np.random.default_rng(seed)
    with session_scope(factory) as session:
        for i in range(n):
            chat = f"{variant}-{seed}-{i}"
            at = FIRST_DAY + timedelta(days=i * days // n)
            session.add(
                ExperimentExposure(
                    experiment=experiment,
                    variant=variant,
                    unit=f"conversation:{chat}",
                    conversation_id=chat,
                    session_key="1.0",
                    exposed_at=at,
                )
            )
            session.add(
                Conversation(
                    conversation_id=chat,
                    session_key="1.0",
                    started_at=at,
                    last_event_at=at,
                    handed_off=bool(rng.random() < handed_off),
                    survey_asked=True,
                )
            )
            session.add(
                SurveyResponse(
                    conversation_id=chat,
                    session_key="1.0",
                    nps=9,
                    csat=5 if rng.random() < satisfied else 2,
                    status="completed",
                    created_at=at,
                    updated_at=at,
                )
            )
