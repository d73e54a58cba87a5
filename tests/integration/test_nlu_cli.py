"""`supportbot nlu export` and `supportbot nlu report` on accepted marks, with the real model."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import yaml

from bot.auth.tokens import Identity
from bot.nlu_review import marks as nlu
from bot.settings import PROJECT_ROOT, Settings
from bot.storage.session import create_db_engine
from tests.integration.nlu_support import supportbot, supportbot_env
from tests.nlu_review_data import FALLBACK, UNSURE, WELL, review_chat_events
from tests.servers import MODEL
from tests.unit.test_nlu_review import validate
from tests.web.staff_support import store_chat

STAFF = Identity(role="staff", name="alice")
NOW = datetime(2026, 11, 1, 12, 0)


async def test_export_and_report_the_accepted_marks(
    settings: Settings, session_factory, tmp_path: Path
):
    if not MODEL.exists():
        pytest.skip(f"No trained model at {MODEL}")
    intents = nlu.domain_intents(PROJECT_ROOT / "domain.yml")
    await store_chat(settings.tracker_db_url, "c1", review_chat_events())
    await store_chat(settings.tracker_db_url, "c2", review_chat_events(1_793_100_000.0))
    tracker = create_db_engine(settings.tracker_db_url)
    try:
        for chat, stamp, intent, decision in (
            ("c1", WELL, "order_status", "accept"),
            ("c1", UNSURE, "shipping_info", "accept"),
            ("c1", FALLBACK, "product_info", "reject"),
            ("c2", UNSURE - 1_793_000_000.0 + 1_793_100_000.0, "shipping_info", "accept"),
        ):
            made = nlu.mark_message(
                STAFF, session_factory, tracker, chat, stamp, intent, intents, NOW
            )
            nlu.review_mark(STAFF, session_factory, made.id, decision, NOW)
    finally:
        tracker.dispose()
    env = supportbot_env(settings.var_dir)
    out = tmp_path / "marked.yml"
    exported = supportbot(env, "nlu", "export", "--out", str(out))
    assert exported["examples"] == 2 and exported["duplicates"] == 1
    assert exported["by_intent"] == {"order_status": 1, "shipping_info": 1}
    data = yaml.safe_load(out.read_text())
    texts = "".join(block["examples"] for block in data["nlu"])
    assert "[email]" in texts and "[phone]" in texts and "jane.doe" not in texts
    validate(out)

    report = supportbot(env, "nlu", "report")
    assert report["marks"] == 3
    by_intent = {row["intent"]: row for row in report["by_intent"]}
    assert set(by_intent) == {"order_status", "shipping_info"}
    assert by_intent["shipping_info"]["marks"] == 2
    # What the model does with them, whichever it is, adds up.
    for row in by_intent.values():
        assert row["right"] + sum(row["instead"].values()) == row["marks"]
    assert report["right"] == sum(row["right"] for row in by_intent.values())
