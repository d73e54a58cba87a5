"""The whole product in a real browser: a customer chats through the widget and answers the
survey with its buttons; staff find that conversation with its scores; the manager's
dashboard counts it. Headless Chromium (Debian's) driven by Playwright, against the real
Rasa server, action server and website started by `supportbot serve`.

Screenshots of the three pages are saved under `test-artifacts/`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.settings import PROJECT_ROOT
from tests.integration.conftest import RunningBot

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            "Chromium is not installed at /usr/bin/chromium "
            "(install Debian's chromium package; `make test` does it where it can)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


def add_user(bot: RunningBot, name: str, role: str, password: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "user", "add", name, "--role", role, "--password-stdin"],
        cwd=PROJECT_ROOT,
        env=bot.env,
        input=password + "\n",
        check=True,
        capture_output=True,
        text=True,
    )


def surveys_today(bot: RunningBot, token: str) -> int:
    request = urllib.request.Request(
        f"{bot.web_url}/api/metrics?period=today", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(json.loads(response.read())["metrics"]["nps"]["n"])


def sign_in(page: Any, bot: RunningBot, path: str, name: str, password: str) -> None:
    page.goto(f"{bot.web_url}{path}")
    page.fill("#login-name", name)
    page.fill("#login-password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_chat_survey_staff_review_and_dashboard(running_bot: RunningBot, browser: Any):
    ARTIFACTS.mkdir(exist_ok=True)
    marker = f"e2e{uuid.uuid4().hex[:8]}"
    manager_token = running_bot.cli(
        "token", "--role", "manager", "--name", "E2E", "--audience", "api"
    )["token"]
    before = surveys_today(running_bot, manager_token)

    # --- a customer, in the shop's chat widget -------------------------------------------
    customer = browser.new_context(viewport={"width": 1280, "height": 860})
    page = customer.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{running_bot.web_url}/")
    page.get_by_role("button", name="Chat with us").click()
    chat = page.get_by_role("dialog")
    box = chat.get_by_role("textbox")
    box.fill(f"hello, I have a question about shipping {marker}")
    box.press("Enter")
    chat.locator(".sbw-from-bot").first.wait_for()
    box.fill("bye")
    box.press("Enter")
    # The survey's scales come as buttons: 0-10, then 1-5.
    chat.get_by_text("from 0 to 10").wait_for()
    chat.get_by_role("button", name="9", exact=True).last.click()
    chat.get_by_text("How satisfied").wait_for()
    chat.get_by_role("button", name="5", exact=True).last.click()
    chat.get_by_text("could do better", exact=False).wait_for()
    box.fill(f"Quick and clear answers {marker}")
    box.press("Enter")
    chat.get_by_text("Thank you for your feedback").wait_for()
    page.screenshot(path=str(ARTIFACTS / "shop.png"))
    customer.close()

    # --- staff find that conversation with its scores -------------------------------------
    add_user(running_bot, f"staff-{marker}", "staff", "correct horse battery")
    staff = browser.new_context(viewport={"width": 1280, "height": 860})
    page = staff.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    sign_in(page, running_bot, "/staff", f"staff-{marker}", "correct horse battery")
    page.goto(f"{running_bot.web_url}/staff?q={marker}")
    rows = page.locator("table tbody tr")
    assert rows.count() == 1
    cells = rows.first.locator("td")
    assert cells.nth(3).inner_text().strip() == "9"  # NPS
    assert cells.nth(4).inner_text().strip() == "5"  # CSAT
    page.screenshot(path=str(ARTIFACTS / "staff.png"))
    rows.first.locator("a").first.click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text(f"Quick and clear answers {marker}").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "staff-transcript.png"), full_page=True)
    staff.close()

    # --- the manager's dashboard counts it -------------------------------------------------
    add_user(running_bot, f"manager-{marker}", "manager", "correct horse battery staple")
    manager = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = manager.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    sign_in(page, running_bot, "/manager", f"manager-{marker}", "correct horse battery staple")
    page.goto(f"{running_bot.web_url}/manager?period=today")
    nps_row = page.locator("tr[data-metric=nps]")
    shown = int(nps_row.locator("td").nth(1).inner_text().replace(",", ""))
    assert shown == before + 1
    # The charts come from the JSON API; each draws into its canvas.
    page.goto(f"{running_bot.web_url}/manager")
    page.wait_for_load_state("networkidle")
    assert page.locator("canvas").count() >= 6
    page.screenshot(path=str(ARTIFACTS / "manager.png"), full_page=True)
    manager.close()
