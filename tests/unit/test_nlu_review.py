"""The improvement loop's library: marking misunderstood messages, who may, the review queue,
and the export as training data (real SQLite databases, Rasa's own tracker store)."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from bot.auth.tokens import ANONYMOUS, Identity
from bot.nlu_review import marks as nlu
from bot.nlu_review.export import build_export, example_text, training_examples
from bot.nlu_review.report import score
from bot.settings import PROJECT_ROOT, Settings
from bot.storage.session import create_db_engine, session_scope
from bot.transcripts.erasure import erase
from tests.nlu_review_data import BUTTON, FALLBACK, SURVEY_ANSWER, UNSURE, WELL, review_chat_events
from tests.web.staff_support import store_chat

STAFF = Identity(role="staff", name="alice")
MANAGER = Identity(role="manager", name="maria")
CUSTOMER = Identity(role="customer", customer_id=7, name="Jane")
NOW = datetime(2026, 11, 1, 12, 0)
LATER = datetime(2026, 11, 1, 13, 0)
INTENTS = nlu.domain_intents(PROJECT_ROOT / "domain.yml")
CHAT = "chat-review-1"


@pytest.fixture
async def tracker(settings: Settings, session_factory):  # type: ignore[no-untyped-def]
    await store_chat(settings.tracker_db_url, CHAT, review_chat_events())
    engine = create_db_engine(settings.tracker_db_url)
    yield engine
    engine.dispose()


def test_the_choices_are_the_domains_intents_with_the_bots_guesses_first():
    assert "order_status" in INTENTS and "message_too_long" not in INTENTS
    guesses, others = nlu.intent_choices(
        ("nlu_fallback", "complaint", "shipping_info", "order_status", "greet"), INTENTS
    )
    assert guesses == ["complaint", "shipping_info", "order_status"]
    assert set(guesses) | set(others) == set(INTENTS) and not set(guesses) & set(others)


async def test_staff_mark_a_message_and_marking_it_again_changes_the_mark(session_factory, tracker):
    made = nlu.mark_message(
        STAFF, session_factory, tracker, CHAT, UNSURE, "shipping_info", INTENTS, NOW
    )
    assert made.text == "my parcel never came, call me on [phone]"
    assert (made.predicted_intent, made.confidence) == ("complaint", 0.41)
    assert (made.chosen_intent, made.marked_by, made.status) == (
        "shipping_info",
        "alice",
        "pending",
    )
    nlu.review_mark(MANAGER, session_factory, made.id, "accept", NOW)

    again = nlu.mark_message(
        MANAGER, session_factory, tracker, CHAT, UNSURE, "order_status", INTENTS, LATER
    )
    assert again.id == made.id
    assert (again.chosen_intent, again.marked_by, again.marked_at) == (
        "order_status",
        "maria",
        LATER,
    )
    assert again.status == "pending" and again.reviewed_by is None  # a new label: review again
    assert [m.id for m in nlu.marks(STAFF, session_factory)] == [made.id]


async def test_customers_and_anonymous_visitors_may_not_mark_review_or_read(
    session_factory, tracker
):
    mine = nlu.mark_message(
        STAFF, session_factory, tracker, CHAT, UNSURE, "order_status", INTENTS, NOW
    )
    for who in (CUSTOMER, ANONYMOUS):
        with pytest.raises(nlu.NotAllowed):
            nlu.mark_message(who, session_factory, tracker, CHAT, WELL, "greet", INTENTS, NOW)
        with pytest.raises(nlu.NotAllowed):
            nlu.review_mark(who, session_factory, mine.id, "reject", NOW)
        with pytest.raises(nlu.NotAllowed):
            nlu.marks(who, session_factory)
        with pytest.raises(nlu.NotAllowed):
            nlu.overview(who, session_factory, tracker, 0.5)
        with pytest.raises(nlu.NotAllowed):
            nlu.conversation_marks(who, session_factory, tracker, CHAT)
    (only,) = nlu.marks(STAFF, session_factory)
    assert (only.chosen_intent, only.status) == ("order_status", "pending")


async def test_only_customer_requests_can_be_marked_with_a_domain_intent(session_factory, tracker):
    def mark(stamp: float, intent: str = "order_status") -> nlu.MarkView:
        return nlu.mark_message(STAFF, session_factory, tracker, CHAT, stamp, intent, INTENTS, NOW)

    with pytest.raises(nlu.InvalidMark, match="not one of the domain's intents"):
        mark(UNSURE, "nlu_fallback")
    for not_a_request in (BUTTON, SURVEY_ANSWER, UNSURE + 0.5):
        with pytest.raises(nlu.InvalidMark, match="no customer message"):
            mark(not_a_request)
    with pytest.raises(nlu.InvalidMark, match="no customer message"):
        nlu.mark_message(STAFF, session_factory, tracker, "other", UNSURE, "greet", INTENTS, NOW)
    assert nlu.marks(STAFF, session_factory) == []
    found = nlu.conversation_marks(STAFF, session_factory, tracker, CHAT)
    assert found.markable == {WELL, UNSURE, FALLBACK} and found.marks == {}


async def test_the_review_queue_groups_marks_and_the_unsure_messages_not_yet_marked(
    session_factory, tracker
):
    before = nlu.overview(STAFF, session_factory, tracker, threshold=0.5)
    assert before.marks == [] and before.conversations_read == 1
    assert [(g.intent, g.count) for g in before.unsure] == [("complaint", 1), ("nlu_fallback", 1)]
    fallback = before.unsure[1].messages[0]
    assert fallback.text == "hm the thingy with the box" and fallback.ranking[1] == "product_info"

    made = nlu.mark_message(
        STAFF, session_factory, tracker, CHAT, UNSURE, "shipping_info", INTENTS, NOW
    )
    nlu.mark_message(STAFF, session_factory, tracker, CHAT, WELL, "shipping_info", INTENTS, NOW)
    nlu.review_mark(MANAGER, session_factory, made.id, "reject", LATER)
    after = nlu.overview(STAFF, session_factory, tracker, threshold=0.5)
    (group,) = after.marks
    assert group.intent == "shipping_info" and len(group.marks) == 2
    assert (group.count("pending"), group.count("rejected"), group.count("accepted")) == (1, 1, 0)
    assert [(g.intent, g.count) for g in after.unsure] == [("nlu_fallback", 1)]
    # A lower threshold: only the fallback is unsure.
    assert nlu.overview(STAFF, session_factory, tracker, threshold=0.3).unsure_count == 1
    with pytest.raises(nlu.InvalidMark):
        nlu.review_mark(STAFF, session_factory, made.id, "maybe", NOW)
    with pytest.raises(nlu.InvalidMark):
        nlu.review_mark(STAFF, session_factory, 999, "accept", NOW)


async def test_erasing_the_conversation_erases_its_marks(session_factory, tracker):
    nlu.mark_message(STAFF, session_factory, tracker, CHAT, UNSURE, "shipping_info", INTENTS, NOW)
    with session_scope(session_factory) as session:
        result = erase(session, tracker, conversation_ids=[CHAT])
    assert result.nlu_marks == 1 and result.counts()["nlu_marks"] == 1
    assert nlu.marks(STAFF, session_factory) == []


# --- the export -------------------------------------------------------------------------------


def accepted(text: str, intent: str, n: int, status: str = "accepted") -> nlu.MarkView:
    return nlu.MarkView(
        n, f"c{n}", 1_793_000_000.0 + n, text, "nlu_fallback", 0.3, intent, "alice",
        datetime(2026, 11, 1, 10, n), status, "maria", NOW,
    )  # fmt: skip


def test_the_export_merges_duplicates_and_leaves_conflicts_out_listed():
    marks = [
        accepted("my parcel never   arrived", "shipping_info", 1),
        accepted("My Parcel never arrived", "shipping_info", 2),
        accepted("is it in stock", "product_info", 3),
        accepted("IS IT in stock ", "ask_recommendation", 4),
        accepted("not reviewed yet", "greet", 5, status="pending"),
        accepted("rejected one", "greet", 6, status="rejected"),
        accepted("write to anna.k@example.com about [email](email) please", "account_help", 7),
    ]
    result = build_export(marks)
    assert result.examples == {
        "shipping_info": ["my parcel never arrived"],
        "account_help": ["write to [email] about [email] (email) please"],
    }
    assert result.duplicates == 1
    (conflict,) = result.conflicts
    assert conflict.text == "is it in stock"
    assert conflict.intents == ("ask_recommendation", "product_info")
    data = yaml.safe_load(result.yaml())
    assert data["version"] == "3.1"
    assert [b["intent"] for b in data["nlu"]] == ["account_help", "shipping_info"]
    assert data["nlu"][1]["examples"] == "- my parcel never arrived\n"
    assert "anna" not in result.yaml()


def test_the_export_leaves_out_what_the_training_data_already_has():
    known = training_examples([PROJECT_ROOT / "data" / "nlu"])
    listed = next(text for text, intents in known.items() if intents == {"greet"})
    marks = [accepted(listed.upper(), "greet", 1), accepted(listed, "complaint", 2)]
    assert build_export(marks[:1], known).known == 1
    (conflict,) = build_export(marks[1:], known).conflicts
    assert conflict.intents == ("complaint",) and conflict.training_intents == ("greet",)
    assert build_export(marks, known).count == 0


def test_example_text_is_redacted_and_never_an_entity_annotation():
    assert example_text("call\tme on 0170 1234567\n now") == "call me on [phone] now"
    assert example_text("[card](x)") == "[card] (x)"


def test_the_exported_file_passes_rasa_data_validate_with_the_projects_data(tmp_path: Path):
    marks = [
        accepted("my parcel never arrived, email me at jo@example.org", "shipping_info", 1),
        accepted("the thingy with the box, how big is it", "product_info", 2),
        accepted("the thingy with the box, how big is it!", "product_info", 3),
        accepted("can I talk to someone from [phone]", "request_human", 4),
    ]
    result = build_export(marks, training_examples([PROJECT_ROOT / "data" / "nlu"]))
    assert result.count == 4
    exported = tmp_path / "marked.yml"
    exported.write_text(result.yaml(), encoding="utf-8")
    validate(exported)


def validate(exported: Path) -> None:
    done = subprocess.run(
        [
            str(PROJECT_ROOT / ".venv" / "bin" / "rasa"),
            "data",
            "validate",
            "--domain",
            "domain.yml",
            "--data",
            "data/nlu",
            "data/rules.yml",
            str(exported),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_the_report_counts_right_per_intent_worst_first():
    marks = [
        accepted("a", "greet", 1),
        accepted("b", "greet", 2),
        accepted("c", "complaint", 3),
        accepted("d", "complaint", 4, status="pending"),
    ]
    scores = score(marks, {"a": "greet", "b": "goodbye", "c": "complaint"})
    assert [(s.intent, s.marks, s.right, s.instead) for s in scores] == [
        ("greet", 2, 1, (("goodbye", 1),)),
        ("complaint", 1, 1, ()),
    ]
