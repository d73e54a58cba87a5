"""The staff console shows the delivery address typed in the address change masked."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.settings import Settings
from bot.storage.models import Conversation
from bot.storage.session import session_scope
from tests.unit.test_transcript_masking import ADDRESS, address_change
from tests.web.staff_support import signed_in, store_chat, summarize_into_app_db


async def test_the_typed_address_is_masked_in_the_transcript_and_the_search(
    client: TestClient, settings: Settings, session_factory: sessionmaker
):
    await store_chat(settings.tracker_db_url, "moving", address_change())
    summarize_into_app_db(settings.tracker_db_url, session_factory, "moving", None)
    token = await signed_in(client, session_factory, "staff")

    page = await (await client.get("/staff/conversations/moving")).text()
    assert "Lindenallee" not in page
    assert "will now be delivered to: [address]" in page
    assert "104233" in page
    with session_scope(session_factory) as session:
        stored = session.execute(select(Conversation.search_text)).scalar_one()
    assert "lindenallee" not in stored and "[address]" in stored
    assert "/staff/conversations/moving" not in await (await client.get("/staff?q=linden")).text()

    revealed = await client.post("/staff/conversations/moving/reveal", data={"csrf_token": token})
    assert ADDRESS in await revealed.text()
