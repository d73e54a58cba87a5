"""Survey answers and conversations with known metrics, staff accounts and their sign-in.

Shared by the dashboard (test_manager.py) and API (test_api.py) tests. The web tests' clock
is 2026-11-01 12:00, so "last 30 days" is 3 October to 1 November 2026, both included.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from itertools import count

from aiohttp.test_utils import TestClient
from sqlalchemy.orm import sessionmaker

from bot.auth.tokens import mint
from bot.auth.users import UserRepository
from bot.bootstrap import Services
from bot.storage.models import Conversation, SurveyResponse
from bot.storage.session import session_scope
from tests.web.conftest import NOW

PASSWORD = "correct horse battery"
_ids = count(1)

# Last 30 days, order status: (nps, csat, variant) per day from 10 October.
ORDER_ANSWERS = [
    (10, 5, "A"), (9, 5, "B"), (9, 4, "A"), (8, 4, "B"), (7, 3, "A"), (6, 3, "B"),
    (3, 2, "A"), (0, 1, "B"), (10, 5, "B"), (9, 4, "B"), (10, 5, None), (5, 2, None),
]  # fmt: skip
# Last 30 days, returns: worse; 5 answers x 5 days from 20 October, no variant.
RETURN_ANSWERS = [(2, 1), (5, 2), (9, 4), (4, 2), (6, 3)] * 5
# September (before the period): one answer a day from 1 September.
SEPTEMBER_NPS = [10, 9, 3, 7, 0, 10]


def survey(
    at: datetime,
    nps: int | None,
    csat: int | None,
    topic: str = "order_status",
    variant: str | None = None,
    channel: str = "socketio",
) -> SurveyResponse:
    i = next(_ids)
    answered = nps is not None or csat is not None
    return SurveyResponse(
        conversation_id=f"web-s{i}",
        session_key="1",
        nps=nps,
        csat=csat,
        status="completed" if answered else "declined",
        channel=channel,
        topic=topic,
        variant=variant,
        created_at=at,
        updated_at=at,
    )


def conversation(
    at: datetime, handed_off: bool = False, variant: str | None = None, first: float = 1.0
) -> Conversation:
    i = next(_ids)
    return Conversation(
        conversation_id=f"web-c{i}",
        session_key="1",
        channel="socketio",
        topic="order_status",
        variant=variant,
        started_at=at,
        last_event_at=at + timedelta(minutes=5),
        user_messages=3,
        bot_messages=4,
        fallbacks=0,
        first_response_seconds=first,
        response_seconds_total=2 * first,
        responses=2,
        handed_off=handed_off,
        handoff_seconds=60.0 if handed_off else None,
        survey_asked=True,
    )


def fill(factory: sessionmaker) -> None:
    """The answers and conversations above, plus a declined survey."""
    with session_scope(factory) as session:
        for day, (nps, csat, variant) in enumerate(ORDER_ANSWERS):
            at = datetime(2026, 10, 10, 9) + timedelta(days=day)
            session.add(survey(at, nps, csat, variant=variant))
        for i, (nps, csat) in enumerate(RETURN_ANSWERS):
            at = datetime(2026, 10, 20, 10) + timedelta(days=i // 5, minutes=i)
            session.add(survey(at, nps, csat, topic="return_request"))
        session.add(survey(datetime(2026, 10, 15), None, None))
        for day, nps in enumerate(SEPTEMBER_NPS):
            session.add(survey(datetime(2026, 9, 1, 12) + timedelta(days=day), nps, 4))
        for day in range(8):
            session.add(
                conversation(
                    datetime(2026, 10, 12, 8) + timedelta(days=day),
                    handed_off=day % 4 == 0,
                    variant="A" if day % 2 else "B",
                    first=0.5 + day,
                )
            )


def add_user(services: Services, name: str, role: str) -> None:
    with session_scope(services.session_factory) as session:
        UserRepository(session).add(name, role, PASSWORD, NOW)


async def sign_in(client: TestClient, services: Services, name: str, role: str) -> None:
    """A new account, signed in through the real login form (CSRF token included)."""
    add_user(services, name, role)
    form = await client.get("/staff/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', await form.text())
    assert found, "the login form has a CSRF token"
    response = await client.post(
        "/staff/login",
        data={"csrf_token": found.group(1), "name": name, "password": PASSWORD, "next": "/staff"},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()


def bearer(services: Services, role: str, **claims: object) -> dict[str, str]:
    token = mint(services.signing_key(), role, **claims)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {token}"}
