"""The managers' dashboard: only for managers, every number as text, no inline script,
nothing from other sites, and the chat widget signed in as the manager."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest
from aiohttp.test_utils import TestClient

from bot.auth.tokens import verify
from bot.bootstrap import Services
from bot.web.app import create_app
from tests.web.metrics_data import bearer, fill, sign_in


class Page(HTMLParser):
    """The parts of a page these tests look at."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.script_bodies: list[str] = []
        self.links: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.handlers: list[str] = []
        self.styles = 0
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(f"{tag} {name}")
            if name in ("src", "href", "action", "formaction", "poster") and value is not None:
                self.links.append((tag, name, value))
        if tag == "script":
            self.scripts.append(found)
            self._in_script = True
        if tag == "style" or "style" in found:
            self.styles += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.script_bodies.append(data)


async def dashboard(client: TestClient, url: str = "/manager") -> str:
    response = await client.get(url)
    assert response.status == 200, await response.text()
    return await response.text()


@pytest.fixture
async def manager_client(client: TestClient, web_services: Services) -> TestClient:
    await sign_in(client, web_services, "maria.manager", "manager")
    return client


# --- who may see it -----------------------------------------------------------------------


async def test_401_without_a_session(client: TestClient):
    response = await client.get("/manager")
    assert response.status == 401
    assert 'action="/staff/login"' in await response.text()  # the login form


async def test_403_for_staff(client: TestClient, web_services: Services):
    await sign_in(client, web_services, "sam.staff", "staff")
    response = await client.get("/manager")
    assert response.status == 403


@pytest.mark.parametrize(
    "role, claims", [("customer", {"customer_id": 3}), ("staff", {}), ("manager", {})]
)
async def test_a_role_token_is_no_session(
    client: TestClient, web_services: Services, role: str, claims: dict
):
    # Tokens are for the chat and the API; the page needs a signed-in person.
    response = await client.get("/manager", headers=bearer(web_services, role, **claims))
    assert response.status == 401


async def test_a_customer_token_beside_a_staff_session_is_still_forbidden(
    client: TestClient, web_services: Services
):
    await sign_in(client, web_services, "sam.staff", "staff")
    response = await client.get("/manager", headers=bearer(web_services, "customer", customer_id=3))
    assert response.status == 403


# --- what it shows ------------------------------------------------------------------------


async def test_the_numbers_are_text_with_n_and_intervals(
    manager_client: TestClient, web_services: Services
):
    fill(web_services.session_factory)
    html = await dashboard(manager_client)
    assert "last 30 days" in html and "previous 30 days" in html
    for name in (
        "NPS",
        "CSAT",
        "Containment",
        "First response time",
        "Response time",
        "Survey response rate",
    ):
        assert f'<th scope="row">{name}</th>' in html, name
    assert html.count("95% CI") >= 6
    assert "n = 37" in html  # NPS answers of the period
    # Pain points, with n: returns first.
    assert re.search(r'<th scope="row">returns</th>\s*<td>25</td>', html)
    # The history's "A"/"B" column is no declared experiment: no panel of its own.
    assert '<th scope="row">A</th>' not in html and "B against A" not in html


async def test_no_pain_points_without_answers(manager_client: TestClient):
    html = await dashboard(manager_client)
    assert "No topic has 20 or more survey answers" in html


async def test_charts_for_every_metric_with_the_period_and_bucket(manager_client: TestClient):
    html = await dashboard(manager_client, "/manager?period=last+quarter&bucket=week")
    for metric in (
        "nps",
        "csat",
        "containment",
        "first_response_time",
        "response_time",
        "survey_response_rate",
    ):
        assert f'data-trend="{metric}"' in html
    assert 'data-distribution="nps"' in html and 'data-distribution="csat"' in html
    assert 'data-period="last quarter"' in html
    assert 'data-bucket="week"' in html
    assert "last quarter (Q3 2026)" in html
    assert '<option value="last quarter" selected>' in html


async def test_an_unknown_period_falls_back_with_a_notice(manager_client: TestClient):
    html = await dashboard(manager_client, "/manager?period=%3Cb%3Eforever&bucket=daily")
    assert "I don&#39;t understand the period" in html
    assert "<b>forever" not in html  # escaped
    assert 'data-period="last 30 days"' in html
    assert 'data-bucket="month"' in html


async def test_the_widget_is_signed_in_as_the_manager(
    manager_client: TestClient, web_services: Services
):
    html = await dashboard(manager_client)
    page = Page(html)
    widget = [s for s in page.scripts if (s.get("src") or "").startswith("/static/widget.js")]
    assert len(widget) == 1
    identity = verify(web_services.signing_key(), widget[0]["data-token"])
    assert (identity.role, identity.name) == ("manager", "maria.manager")
    assert widget[0]["data-socket-url"] == "http://127.0.0.1:5005"
    assert widget[0]["data-storage-key"] == "supportbot-manager"


async def test_the_socket_url_can_be_configured(aiohttp_client, settings, web_services: Services):
    configured = replace(settings, public_rasa_url="https://chat.example.com")
    client = await aiohttp_client(create_app(configured, web_services))
    await sign_in(client, web_services, "maria.manager", "manager")
    response = await client.get("/manager")
    page = Page(await response.text())
    (widget,) = [s for s in page.scripts if (s.get("src") or "").startswith("/static/widget.js")]
    assert widget["data-socket-url"] == "https://chat.example.com"
    assert (
        "connect-src 'self' https://chat.example.com wss://chat.example.com"
        in (response.headers["Content-Security-Policy"])
    )


async def test_no_inline_script_and_nothing_from_other_sites(manager_client: TestClient):
    response = await manager_client.get("/manager")
    page = Page(await response.text())
    assert page.script_bodies == []
    assert page.handlers == []
    assert page.styles == 0
    assert all(s.get("src") for s in page.scripts)
    for tag, attribute, value in page.links:
        assert value.startswith(("/", "#")) and not value.startswith("//"), (tag, attribute, value)
    sources = [s["src"] for s in page.scripts]
    assert any(src.startswith("/static/vendor/chart.umd.js") for src in sources)
    assert any(src.startswith("/static/dashboard.js") for src in sources)
    chart = sources.index(next(s for s in sources if "chart.umd.js" in s))
    mine = sources.index(next(s for s in sources if "dashboard.js" in s))
    assert chart < mine  # Chart.js first
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["Cache-Control"] == "no-store"


async def test_the_static_files_are_served(manager_client: TestClient):
    script = await manager_client.get("/static/dashboard.js")
    assert script.status == 200
    text = await script.text()
    assert "fill: '-1'" in text  # the interval band
    assert "credentials: 'same-origin'" in text
    assert "http://" not in text and "https://" not in text
    chart = await manager_client.get("/static/vendor/chart.umd.js")
    assert chart.status == 200
    assert (await manager_client.get("/static/dashboard.css")).status == 200


async def test_a_score_of_too_few_answers_reads_too_few_answers(
    aiohttp_client, settings, web_services: Services, manager_client: TestClient
):
    fill(web_services.session_factory)
    html = await dashboard(manager_client)
    # The previous 30 days have 4 NPS answers: no number for them, and no verdict.
    assert "Previous 30 days: too few answers (n = 4) — too few answers to tell" in html
    # With a minimum of 40, the 37 answers of the period are too few as well.
    stricter = replace(settings, min_sample_size=40)
    services = replace(web_services, settings=stricter)
    strict = await aiohttp_client(create_app(stricter, services))
    await sign_in(strict, services, "mona.manager", "manager")
    page = await dashboard(strict)
    nps_row = re.search(r'<th scope="row">NPS</th>(.*?)</tr>', page, re.S)
    assert nps_row and "too few answers (n = 37)" in nps_row.group(1)
    assert "95% CI" not in nps_row.group(1)
