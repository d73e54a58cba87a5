"""The staff console's improvement loop: marking a transcript's message as misunderstood, and
/staff/nlu (the marks and the messages the bot was unsure of; accept, reject)."""

from __future__ import annotations

import html
import re

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from bot.settings import Settings
from bot.storage.models import NluMark
from bot.storage.session import session_scope
from tests.nlu_review_data import FALLBACK, UNSURE, review_chat_events
from tests.web.staff_support import csrf_in, signed_in, store_chat, summarize_into_app_db

CHAT = "web-review-1"
PAGE = f"/staff/conversations/{CHAT}"


async def _chat(settings: Settings, session_factory: sessionmaker) -> None:
    await store_chat(settings.tracker_db_url, CHAT, review_chat_events())
    summarize_into_app_db(settings.tracker_db_url, session_factory, CHAT, None)


def _marks(session_factory: sessionmaker) -> int:
    with session_scope(session_factory) as session:
        return session.execute(select(func.count()).select_from(NluMark)).scalar_one()


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


async def test_staff_mark_a_message_from_the_transcript_and_review_it_on_the_nlu_page(
    client: TestClient, settings: Settings, session_factory: sessionmaker
):
    await _chat(settings, session_factory)
    csrf = await signed_in(client, session_factory, "staff")
    page = await (await client.get(PAGE)).text()
    # The three requests can be marked; the button click and the survey answer cannot.
    assert page.count('name="message_ts"') == 3
    unsure = page[page.index(f'value="{UNSURE!r}"') :]
    guesses = unsure[unsure.index("The bot's top guesses") : unsure.index("All intents")]
    assert re.findall(r'<option value="(\w+)"', guesses) == [
        "complaint",
        "shipping_info",
        "order_status",
    ]

    form = {"csrf_token": csrf, "message_ts": repr(UNSURE), "intent": "shipping_info"}
    marked = await client.post(f"{PAGE}/nlu-marks", data=form, allow_redirects=False)
    assert marked.status == 303
    assert marked.headers["Location"] == f"{PAGE}#m-{UNSURE!r}"
    shown = _text(await (await client.get(PAGE)).text())
    assert "Marked as meaning shipping_info; it is waiting for review." in shown
    assert "Marked as misunderstood: meant shipping_info · staff-user" in shown
    assert "pending" in shown

    review = _text(await (await client.get("/staff/nlu")).text())
    assert "Marked (1)" in review
    assert "shipping_info · 1 marked (1 waiting, 0 accepted, 0 rejected)" in review
    assert "my parcel never came, call me on [phone] complaint (41%)" in review
    assert "0170" not in review
    # The unmarked fallback is listed as unsure; the marked message no longer is.
    assert "Not marked, the bot was unsure (1)" in review
    assert "nlu_fallback · 1 message" in review and "hm the thingy with the box" in review

    with session_scope(session_factory) as session:
        mark_id = session.execute(select(NluMark.id)).scalar_one()
    accepted = await client.post(
        f"/staff/nlu/marks/{mark_id}",
        data={"csrf_token": csrf, "decision": "accept"},
        allow_redirects=False,
    )
    assert accepted.status == 303 and accepted.headers["Location"] == "/staff/nlu"
    review = _text(await (await client.get("/staff/nlu")).text())
    assert f"Mark #{mark_id} (shipping_info) accepted." in review
    assert "(0 waiting, 1 accepted, 0 rejected)" in review and "accepted by staff-user" in review


async def test_a_mark_without_the_forms_token_or_with_a_foreign_intent_changes_nothing(
    client: TestClient, settings: Settings, session_factory: sessionmaker
):
    await _chat(settings, session_factory)
    csrf = await signed_in(client, session_factory, "staff")
    form = {"message_ts": repr(UNSURE), "intent": "shipping_info"}
    forged = await client.post(f"{PAGE}/nlu-marks", data=form, allow_redirects=False)
    assert forged.status == 403
    wrong = await client.post(
        f"{PAGE}/nlu-marks", data={**form, "csrf_token": csrf, "intent": "drop_tables"}
    )
    assert wrong.status == 400 and "not one of the domain's intents" in await wrong.text()
    elsewhere = await client.post(
        "/staff/conversations/another/nlu-marks", data={**form, "csrf_token": csrf}
    )
    assert elsewhere.status == 400
    assert _marks(session_factory) == 0


async def test_anonymous_visitors_see_nothing_and_mark_nothing(
    client: TestClient, settings: Settings, session_factory: sessionmaker
):
    await _chat(settings, session_factory)
    page = await client.get("/staff/nlu")
    assert page.status == 401 and "thingy" not in await page.text()
    # With a session of their own (a CSRF token from the login page), still no.
    token = csrf_in(await (await client.get("/staff/login")).text())
    form = {"csrf_token": token, "message_ts": repr(FALLBACK), "intent": "product_info"}
    posted = await client.post(f"{PAGE}/nlu-marks", data=form, allow_redirects=False)
    assert posted.status == 401
    reviewed = await client.post(
        "/staff/nlu/marks/1", data={"csrf_token": token, "decision": "accept"}
    )
    assert reviewed.status == 401
    assert _marks(session_factory) == 0


async def test_managers_review_too(
    client: TestClient, settings: Settings, session_factory: sessionmaker
):
    await _chat(settings, session_factory)
    csrf = await signed_in(client, session_factory, "manager")
    form = {"csrf_token": csrf, "message_ts": repr(FALLBACK), "intent": "product_info"}
    assert (await client.post(f"{PAGE}/nlu-marks", data=form, allow_redirects=False)).status == 303
    with session_scope(session_factory) as session:
        mark_id = session.execute(select(NluMark.id)).scalar_one()
    rejected = await client.post(
        f"/staff/nlu/marks/{mark_id}", data={"csrf_token": csrf, "decision": "reject"}
    )
    assert rejected.status == 200
    assert "product_info · 1 marked (0 waiting, 0 accepted, 1 rejected)" in _text(
        await rejected.text()
    )
