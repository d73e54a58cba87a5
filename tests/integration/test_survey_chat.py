"""The end-of-chat survey over the real REST channel, and its backfill from the tracker store."""

from __future__ import annotations

import sqlite3
import time
import uuid

import pytest

from bot.experiments.assignment import assign, unit_of
from bot.experiments.declarations import load_experiments
from bot.settings import PROJECT_ROOT
from bot.survey.wording import nps_question
from tests.integration.conftest import RunningBot

pytestmark = pytest.mark.integration


def sender() -> str:
    return f"survey-{uuid.uuid4().hex[:10]}"


def sender_in(variant: str) -> str:
    """A new conversation that the survey-wording experiment puts in `variant`."""
    experiment = load_experiments(PROJECT_ROOT / "data" / "experiments.yml").get("survey-wording")
    assert experiment is not None
    while True:
        me = sender()
        if assign(experiment, unit_of(None, me)).variant == variant:
            return me


def survey_row(bot: RunningBot, conversation: str) -> tuple | None:
    with sqlite3.connect(bot.var_dir / "supportbot.db") as db:
        return db.execute(
            "SELECT nps, csat, comment, status, topic, channel FROM survey_responses "
            "WHERE conversation_id = ?",
            (conversation,),
        ).fetchone()


def summary_counts(bot: RunningBot, conversation: str) -> tuple | None:
    """(customer messages, not understood) of the conversation's summary, once written."""
    deadline = time.monotonic() + 10  # summaries are written beside the chat
    while True:
        with sqlite3.connect(bot.var_dir / "supportbot.db") as db:
            row = db.execute(
                "SELECT user_messages, fallbacks FROM conversations WHERE conversation_id = ?",
                (conversation,),
            ).fetchone()
        if row is not None and row[0] >= 6 or time.monotonic() > deadline:
            return row
        time.sleep(0.2)


def finish_chat_with_survey(bot: RunningBot, me: str, order: str) -> None:
    assert f"Order {order}" in bot.texts(me, f"where is my order {order}?", bot.as_owner_of(order))
    question = bot.say(me, "no, that's all")
    # Both wordings of the survey-wording experiment say "from 0 to 10", with these buttons.
    assert "from 0 to 10" in question[0]["text"]
    assert [b["title"] for b in question[0]["buttons"]] == [str(n) for n in range(11)]
    assert "from 1 (not at all) to 5" in bot.texts(me, "nine")
    assert "Anything we could do better?" in bot.texts(me, "4 out of 5")
    assert "Thank you for your feedback" in bot.texts(
        me, "faster replies please, I'm on +44 20 7946 0958"
    )


def test_survey_answers_are_stored(running_bot: RunningBot):
    me = sender()
    order = running_bot.cli("demo-orders")["shipped"][0]
    finish_chat_with_survey(running_bot, me, order)
    assert survey_row(running_bot, me) == (
        9,
        4,
        "faster replies please, I'm on [phone]",
        "completed",
        "order_status",
        "rest",
    )
    # Asked once per session: another goodbye just says goodbye.
    assert "Have a great day" in running_bot.texts(me, "bye")
    assert survey_row(running_bot, me)[3] == "completed"
    # The answers to the survey are not counted as messages the bot did not understand.
    assert summary_counts(running_bot, me) == (6, 0)


def test_bad_answers_are_reasked_and_never_stored(running_bot: RunningBot):
    me = sender()
    assert "from 0 to 10" in running_bot.texts(me, "bye")
    assert "11 is not between 0 and 10" in running_bot.texts(me, "11")
    assert survey_row(running_bot, me) is None
    assert "skip that one" in running_bot.texts(me, "<script>alert(1)</script>")
    assert "0 is not between 1 and 5" in running_bot.texts(me, "0")
    assert "Anything we could do better?" in running_bot.texts(me, "⭐⭐⭐⭐")
    running_bot.texts(me, "skip")
    assert survey_row(running_bot, me) == (None, 4, None, "partial", "other", "rest")


@pytest.mark.parametrize("variant", ["standard", "short"])
def test_the_first_question_is_worded_by_variant_and_exposed_once(
    running_bot: RunningBot, variant: str
):
    me = sender_in(variant)
    [question] = running_bot.say(me, "bye")
    assert question["text"] == nps_question(variant)
    assert [b["payload"] for b in question["buttons"]] == [str(n) for n in range(11)]
    # A bad answer is re-asked through the same action, in the same words.
    reply = running_bot.say(me, "11")
    assert "11 is not between 0 and 10" in reply[0]["text"]
    assert [m["text"] for m in reply[1:]] == [nps_question(variant)]
    running_bot.texts(me, "9")
    with sqlite3.connect(running_bot.var_dir / "supportbot.db") as db:
        exposed = db.execute(
            "SELECT experiment, variant FROM experiment_exposures WHERE conversation_id = ?", (me,)
        ).fetchall()
    assert exposed == [("survey-wording", variant)]


def test_declining_is_recorded(running_bot: RunningBot):
    me = sender()
    running_bot.texts(me, "thanks")
    assert "from 0 to 10" in running_bot.texts(me, "no")
    assert "won't ask again" in running_bot.texts(me, "no thanks")
    assert survey_row(running_bot, me)[3] == "declined"


def test_an_unhappy_customer_gets_a_follow_up_ticket(running_bot: RunningBot):
    me = sender()
    running_bot.texts(me, "bye")
    running_bot.texts(me, "2")
    running_bot.texts(me, "1")
    assert "follow up with you" in running_bot.texts(me, "skip")
    assert "ticket #" in running_bot.texts(me, "yes please")
    with sqlite3.connect(running_bot.var_dir / "supportbot.db") as db:
        kind, survey_id = db.execute(
            "SELECT kind, survey_response_id FROM tickets WHERE conversation_id = ?", (me,)
        ).fetchone()
        (row_id,) = db.execute(
            "SELECT id FROM survey_responses WHERE conversation_id = ?", (me,)
        ).fetchone()
    assert (kind, survey_id) == ("followup", row_id)


def test_nothing_is_lost_when_the_app_database_cannot_be_written(running_bot: RunningBot):
    """Lock the app database, finish a survey, unlock it, backfill: the row is there."""
    me = sender()
    order = running_bot.cli("demo-orders")["delivered"][0]
    blocker = sqlite3.connect(running_bot.var_dir / "supportbot.db", timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        finish_chat_with_survey(running_bot, me, order)
    finally:
        blocker.rollback()
        blocker.close()
    assert survey_row(running_bot, me) is None

    result = running_bot.cli("backfill-surveys")
    assert result["created"] >= 1
    assert survey_row(running_bot, me) == (
        9,
        4,
        "faster replies please, I'm on [phone]",
        "completed",
        "order_status",
        "rest",
    )
    again = running_bot.cli("backfill-surveys")
    assert again["created"] == 0
    assert again["surveys"] == result["surveys"]
