"""Managers ask for metrics over the real REST channel; the tracker store feeds the metrics."""

from __future__ import annotations

import re
import time
import uuid

import sqlalchemy as sa

from tests.integration.conftest import RunningBot


def _conversation_rows(bot: RunningBot, sender: str) -> list[sa.Row]:
    engine = sa.create_engine(f"sqlite:///{bot.var_dir / 'supportbot.db'}")
    try:
        with engine.connect() as connection:
            return list(
                connection.execute(
                    sa.text(
                        "SELECT topic, user_messages, bot_messages, first_response_seconds,"
                        " handed_off, channel FROM conversations WHERE conversation_id = :c"
                    ),
                    {"c": sender},
                )
            )
    finally:
        engine.dispose()


def test_a_customer_gets_no_numbers(running_bot: RunningBot):
    token = running_bot.cli("token", "--role", "customer", "--customer", "5")["token"]
    for metadata in (None, {"token": token}):
        reply = running_bot.say(
            f"metrics-customer-{uuid.uuid4().hex[:6]}", "what's our NPS this month?", metadata
        )
        text = " ".join(m.get("text", "") for m in reply)
        assert text.startswith("Sorry, I can only share business metrics with the shop's managers")
        assert not re.search(r"\d", text)


def test_a_manager_gets_the_same_nps_as_the_command_line(running_bot: RunningBot):
    # A month inside the demo's history (which ends at DEMO_TODAY), so that the answer does
    # not depend on the day the tests run.
    token = running_bot.cli("token", "--role", "manager", "--name", "Maria")["token"]
    cli = running_bot.cli("metrics", "--period", "October 2026")
    expected = cli["metrics"]["nps"]
    assert cli["period"]["label"] == "October 2026"
    assert expected["n"] > 100  # the demo's year of history
    reply = running_bot.say(
        f"metrics-manager-{uuid.uuid4().hex[:6]}",
        "what was our NPS in October 2026?",
        {"token": token},
    )
    [message] = reply
    assert message["text"].startswith(
        f"NPS, October 2026: {expected['value']:.0f} (95% CI {expected['ci_low']:.0f} to "
        f"{expected['ci_high']:.0f}, n = {expected['n']:,};"
    )
    assert f"{cli['previous_period']['label']}:" in message["text"]
    assert cli["previous_period"]["label"] == "September 2026"


def test_every_chat_is_summarised_for_the_metrics_as_it_goes(running_bot: RunningBot):
    """The tracker store writes the summary within about a second of the message."""
    sender = f"summary-{uuid.uuid4().hex[:8]}"
    running_bot.say(sender, "how much is shipping to France?")
    running_bot.say(sender, "I want to talk to a person")
    rows = []
    for _ in range(50):  # bounded: 10 s at most
        rows = _conversation_rows(running_bot, sender)
        if rows and rows[0][1] == 2:
            break
        time.sleep(0.2)
    [row] = rows
    topic, user_messages, bot_messages, first_response, handed_off, channel = row
    assert user_messages == 2
    assert bot_messages >= 2
    assert topic in {"shipping_info", "request_human"}
    assert 0 <= first_response < 10
    assert handed_off
    assert channel == "rest"


def test_a_manager_hears_the_experiments_as_the_command_line_lists_them(running_bot: RunningBot):
    token = running_bot.cli("token", "--role", "manager", "--name", "Maria")["token"]
    listed = running_bot.cli("experiments", "list")["experiments"]
    running = [e for e in listed if e["status"] == "running"]
    assert running  # data/experiments.yml runs experiments
    me = f"experiments-manager-{uuid.uuid4().hex[:6]}"
    [message] = running_bot.say(me, "which experiments are running?", {"token": token})
    assert message["text"].startswith(f"{len(running)} running:")
    for experiment in running:
        assert f"• {experiment['name']} ({experiment['focus']}, running;" in message["text"]
        assert f"{experiment['exposures']:,} exposed sessions" in message["text"]
    # The same question from a customer of the shop gets nothing.
    customer = running_bot.cli("token", "--role", "customer", "--customer", "5")["token"]
    [refused] = running_bot.say(me + "-c", "which experiments are running?", {"token": customer})
    assert refused["text"].startswith("Sorry, I can only share business metrics")
    assert not any(e["name"] in refused["text"] for e in listed)
