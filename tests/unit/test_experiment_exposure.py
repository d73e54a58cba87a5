"""A conversation session keeps the variant it was first exposed to."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy import select

from bot.bootstrap import bootstrap
from bot.experiments.assignment import assign, unit_of
from bot.experiments.exposure import exposed_variant
from bot.settings import PROJECT_ROOT
from bot.storage.models import ExperimentExposure
from bot.storage.session import session_scope

NOW = datetime(2026, 12, 20, 12, 0)


@pytest.fixture
def services(settings, session_factory):
    configured = replace(settings, experiments_file=PROJECT_ROOT / "data" / "experiments.yml")
    built = bootstrap(configured, now=lambda: NOW)
    yield built
    built.close()


def test_a_customer_who_signs_out_mid_session_keeps_the_variant_they_saw(services):
    experiment = services.experiments().get("survey-wording")
    # A signed customer and a conversation id that the experiment splits apart.
    customer, chat = next(
        (c, "chat-7")
        for c in range(1, 500)
        if assign(experiment, unit_of(c, "chat-7")).variant
        != assign(experiment, unit_of(None, "chat-7")).variant
    )
    signed = exposed_variant(experiment, customer, chat, "1.0", services.session_factory, NOW, "x")
    assert signed == assign(experiment, unit_of(customer, chat)).variant
    # The next message lacks the sign-in: same session, same variant, one exposure.
    again = exposed_variant(experiment, None, chat, "1.0", services.session_factory, NOW, "x")
    assert again == signed
    # A new session of the same conversation is assigned afresh (by conversation now).
    later = exposed_variant(experiment, None, chat, "2.0", services.session_factory, NOW, "x")
    assert later == assign(experiment, unit_of(None, chat)).variant != signed
    with session_scope(services.session_factory) as session:
        rows = session.execute(
            select(ExperimentExposure.session_key, ExperimentExposure.variant).order_by(
                ExperimentExposure.session_key
            )
        ).all()
    assert [tuple(r) for r in rows] == [("1.0", signed), ("2.0", later)]
