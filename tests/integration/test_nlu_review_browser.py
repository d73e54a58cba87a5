"""The improvement loop in a real browser: staff open a transcript, mark a customer's message
with the intent it meant, find it on /staff/nlu and accept it; the exported training data then
passes `rasa data validate` with the project's data. Headless Chromium (Debian's) driven by
Playwright, against the website run by `supportbot web` on temporary databases.

A screenshot of /staff/nlu is saved under `test-artifacts/`.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import PROJECT_ROOT, Settings
from tests.integration.nlu_support import supportbot, supportbot_env
from tests.integration.test_website_e2e import (  # noqa: F401 - the browser fixture, shared
    ARTIFACTS,
    TIMEOUT_MS,
    browser,
)
from tests.nlu_review_data import UNSURE, review_chat_events
from tests.servers import free_port, wait_until_up
from tests.unit.test_nlu_review import validate
from tests.web.staff_support import store_chat

PASSWORD = "correct horse battery"
CHAT = "browser-review-1"


@pytest.fixture
def website(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """`supportbot web` on a migrated temporary database with one stored chat."""
    port = free_port()
    env = supportbot_env(tmp_path, WEB_PORT=str(port))
    supportbot(env, "migrate")
    tracker_db = Settings(var_dir=tmp_path).tracker_db_url
    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, store_chat(tracker_db, CHAT, review_chat_events())).result()
    supportbot(env, "user", "add", "alice", "--role", "staff", "--password-stdin", stdin=PASSWORD)
    log = tmp_path / "web.log"
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "web"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(f"{url}/healthz", process, log, 60)
        yield url, env
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_staff_mark_a_message_review_it_and_export_valid_training_data(
    website: tuple[str, dict[str, str]],
    browser: Any,  # noqa: F811 - the shared fixture
    tmp_path: Path,
):
    url, env = website
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{url}/staff/conversations/{CHAT}")
    page.fill("#login-name", "alice")
    page.fill("#login-password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")

    message = page.locator(f'li[id="m-{UNSURE!r}"]')
    assert "call me on [phone]" in message.locator(".bubble").inner_text()
    message.get_by_text("Misunderstood?").click()
    choice = message.get_by_label("The customer meant")
    # The bot's guesses come first: the one it took, then the runners-up.
    assert choice.locator("option").all_inner_texts()[:3] == [
        "complaint",
        "shipping_info",
        "order_status",
    ]
    choice.select_option("shipping_info")
    message.get_by_role("button", name="Mark").click()
    page.wait_for_load_state("networkidle")
    page.get_by_text("Marked as meaning shipping_info").wait_for()
    assert "meant shipping_info" in page.locator(f'li[id="m-{UNSURE!r}"] .nlu-mark').inner_text()

    page.get_by_role("link", name="Misunderstood").click()
    page.wait_for_load_state("networkidle")
    group = page.locator('section[data-intent="shipping_info"]')
    assert "1 waiting" in group.locator("h3").inner_text()
    row = group.locator("tbody tr").first
    assert "my parcel never came, call me on [phone]" in row.inner_text()
    assert "complaint (41%)" in row.inner_text()
    unsure = page.locator('section[data-unsure="nlu_fallback"]')
    assert "hm the thingy with the box" in unsure.inner_text()
    row.get_by_role("button", name="Accept").click()
    page.wait_for_load_state("networkidle")
    accepted = page.locator('section[data-intent="shipping_info"] tbody tr').first
    assert "accepted" in accepted.locator(".status").inner_text()
    page.screenshot(path=str(ARTIFACTS / "staff-nlu.png"), full_page=True)
    context.close()

    out = tmp_path / "marked.yml"
    exported = supportbot(env, "nlu", "export", "--out", str(out))
    assert exported["by_intent"] == {"shipping_info": 1} and exported["conflicts"] == []
    data = yaml.safe_load(out.read_text())
    assert data["nlu"] == [
        {"intent": "shipping_info", "examples": "- my parcel never came, call me on [phone]\n"}
    ]
    validate(out)
