"""Chats through the real servers are assigned, exposed and surveyed, and `supportbot
experiments analyze` counts exactly them."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bot.survey.wording import SURVEY_WORDING, nps_question
from tests.integration.conftest import RunningBot
from tests.integration.test_survey_chat import sender_in

pytestmark = pytest.mark.integration
VARIANTS = ("standard", "short")


def counts(bot: RunningBot) -> dict[str, Any]:
    """Per variant: exposed sessions, sessions asked the survey and those answered, and CSAT
    answers, as `experiments analyze --json` reports them."""
    report = bot.cli("experiments", "analyze", SURVEY_WORDING)
    rate = report["primary"]["variants"]
    [csat] = [g for g in report["guardrails"] if g["metric"] == "csat"]
    return {
        v: (
            report["exposures"][v],
            rate[v]["n"],
            round((rate[v]["value"] or 0) * rate[v]["n"] / 100),
            csat["variants"][v]["n"],
        )
        for v in VARIANTS
    }


def answer_survey(bot: RunningBot, me: str, variant: str) -> None:
    [question] = bot.say(me, "bye")
    assert question["text"] == nps_question(variant)
    assert "from 1 (not at all) to 5" in bot.texts(me, "8")
    assert "Anything we could do better?" in bot.texts(me, "5")
    assert "Thank you for your feedback" in bot.texts(me, "skip")


def decline_survey(bot: RunningBot, me: str, variant: str) -> None:
    [question] = bot.say(me, "bye")
    assert question["text"] == nps_question(variant)
    assert "won't ask again" in bot.texts(me, "no thanks")


def test_surveyed_chats_appear_in_the_analysis_with_the_right_counts(running_bot: RunningBot):
    before = counts(running_bot)
    for variant in VARIANTS:
        for _ in range(2):
            answer_survey(running_bot, sender_in(variant), variant)
        decline_survey(running_bot, sender_in(variant), variant)
    # Per variant: 3 sessions exposed and asked, 2 answered, 2 CSAT answers.
    expected = {
        v: tuple(b + d for b, d in zip(before[v], (3, 3, 2, 2), strict=True)) for v in VARIANTS
    }
    deadline = time.monotonic() + 20  # conversation summaries are written beside the chat
    after = counts(running_bot)
    while after != expected and time.monotonic() < deadline:
        time.sleep(0.5)
        after = counts(running_bot)
    assert after == expected
