"""Survey answers and conversations with known metrics, staff accounts and their sign-in.

Shared by the dashboard (test_manager.py) and API (test_api.py) tests. The web tests' clock
is 2026-11-01 12:00, so "last 30 days" is 3 October to 1 November 2026, both included.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from aiohttp.test_utils import TestClient
from sqlalchemy.orm import sessionmaker

from bot.auth.tokens import mint
from bot.auth.users import UserRepository
from bot.bootstrap import Services
from bot.storage.session import session_scope
from tests.rows import conversation_row, survey_row
from tests.web.conftest import NOW

PASSWORD = "correct horse battery"

# Last 30 days, order status: (nps, csat, variant) per day from 10 October.
ORDER_ANSWERS = [
    (10, 5, "A"), (9, 5, "B"), (9, 4, "A"), (8, 4, "B"), (7, 3, "A"), (6, 3, "B"),
    (3, 2, "A"), (0, 1, "B"), (10, 5, "B"), (9, 4, "B"), (10, 5, None), (5, 2, None),
]  # fmt: skip
# Last 30 days, returns: worse; 5 answers x 5 days from 20 October, no variant.
RETURN_ANSWERS = [(2, 1), (5, 2), (9, 4), (4, 2), (6, 3)] * 5
# September (before the period): one answer a day from 1 September.
SEPTEMBER_NPS = [10, 9, 3, 7, 0, 10]


def fill(factory: sessionmaker) -> None:
    """The answers and conversations above, plus a declined survey."""
    with session_scope(factory) as session:
        for day, (nps, csat, variant) in enumerate(ORDER_ANSWERS):
            at = datetime(2026, 10, 10, 9) + timedelta(days=day)
            session.add(survey_row(at, nps, csat, variant=variant))
        for i, (nps, csat) in enumerate(RETURN_ANSWERS):
            at = datetime(2026, 10, 20, 10) + timedelta(days=i // 5, minutes=i)
            session.add(survey_row(at, nps, csat, topic="return_request"))
        session.add(survey_row(datetime(2026, 10, 15), None, None))
        for day, nps in enumerate(SEPTEMBER_NPS):
            session.add(survey_row(datetime(2026, 9, 1, 12) + timedelta(days=day), nps, 4))
        for day in range(8):
            session.add(
                conversation_row(
                    datetime(2026, 10, 12, 8) + timedelta(days=day),
                    handed_off=day % 4 == 0,
                    variant="A" if day % 2 else "B",
                    first_response=0.5 + day,
                    replies=(0.5 + day, 0.5 + day),
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


def bearer(
    services: Services, role: str, audience: str = "api", **claims: object
) -> dict[str, str]:
    """An `Authorization` header with a role token of the app's key (for the API by default)."""
    token = mint(services.signing_key(), role, audience=audience, **claims)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {token}"}
