"""The managers' JSON API: who may read it, and that its numbers are the metrics library's."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta, timezone

import jwt
import pytest
from aiohttp.test_utils import TestClient

from bot.auth.tokens import ALGORITHM, ISSUER, mint
from bot.bootstrap import Services
from bot.metrics import core, queries
from bot.metrics.cli_output import metrics_json
from bot.metrics.periods import parse_period
from bot.metrics.queries import Cut
from bot.storage.session import session_scope
from bot.web.api import dumps, trend_range
from tests.web.metrics_data import (
    ORDER_ANSWERS,
    RETURN_ANSWERS,
    SEPTEMBER_NPS,
    bearer,
    fill,
    sign_in,
)

# One URL for every route of the API but the (public) OpenAPI document.
PROTECTED = (
    "/api/metrics",
    "/api/metrics/nps/trend",
    "/api/metrics/csat/distribution",
    "/api/pain-points",
    "/api/cohorts",
    "/api/experiments",
    "/api/alerts",
)
TODAY = date(2026, 11, 1)
OTHER_KEY = "another key, not the app's: 32 bytes or more"
OCTOBER_NPS = [a[0] for a in ORDER_ANSWERS] + [a[0] for a in RETURN_ANSWERS]
OCTOBER_CSAT = [a[1] for a in ORDER_ANSWERS] + [a[1] for a in RETURN_ANSWERS]


@pytest.fixture
def filled(web_services: Services) -> Services:
    fill(web_services.session_factory)
    return web_services


@pytest.fixture
def manager(web_services: Services) -> dict[str, str]:
    return bearer(web_services, "manager", name="Maria")


async def get_json(client: TestClient, url: str, headers: dict[str, str]) -> dict:
    response = await client.get(url, headers=headers)
    assert response.status == 200, await response.text()
    assert response.content_type == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    return await response.json()


def _period(text: str = "last 30 days"):
    period = parse_period(text, TODAY)
    assert period is not None
    return period


# --- who may read it ----------------------------------------------------------------------


def test_every_api_route_is_in_the_list_checked_below(client: TestClient):
    routes = {r.canonical for r in client.app.router.resources() if r.canonical.startswith("/api/")}
    assert routes == {
        "/api/openapi.json",
        "/api/metrics",
        "/api/metrics/{metric}/trend",
        "/api/metrics/{question}/distribution",
        "/api/pain-points",
        "/api/cohorts",
        "/api/experiments",
        "/api/alerts",
    }
    assert len(PROTECTED) == len(routes) - 1


@pytest.mark.parametrize("url", PROTECTED)
async def test_401_without_credentials(client: TestClient, url: str):
    response = await client.get(url)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = await response.json()
    assert body["error"] == "unauthorized"
    assert "supportbot token --role manager" in body["message"]


@pytest.mark.parametrize("url", PROTECTED)
@pytest.mark.parametrize(
    "header",
    [
        "Bearer not-a-token",
        "Bearer ",
        "Basic bWFyaWE6c2VjcmV0",
        "Bearer " + mint(OTHER_KEY, "manager", audience="api"),
        "Bearer "
        + mint(
            OTHER_KEY, "manager", now=datetime(2020, 1, 1), valid_for=timedelta(1), audience="api"
        ),
    ],
    ids=["garbage", "empty", "basic", "foreign-key", "expired"],
)
async def test_401_for_a_token_that_proves_nothing(client: TestClient, url: str, header: str):
    response = await client.get(url, headers={"Authorization": header})
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_an_expired_token_of_the_right_key_is_refused(
    client: TestClient, web_services: Services
):
    old = mint(
        web_services.signing_key(),
        "manager",
        now=datetime(2020, 1, 1),
        valid_for=timedelta(1),
        audience="api",
    )
    response = await client.get("/api/metrics", headers={"Authorization": f"Bearer {old}"})
    assert response.status == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def _no_audience(key: str) -> str:
    """A manager token of the right key, as tokens were before they named an audience."""
    now = datetime.now(timezone.utc)
    claims = {"role": "manager", "iss": ISSUER, "iat": now, "exp": now + timedelta(days=1)}
    return jwt.encode(claims, key, algorithm=ALGORITHM)


@pytest.mark.parametrize("url", PROTECTED)
@pytest.mark.parametrize("kind", ["chat-token", "no-audience"])
async def test_a_manager_token_not_made_for_the_api_is_refused(
    client: TestClient, web_services: Services, url: str, kind: str
):
    key = web_services.signing_key()
    if kind == "chat-token":  # what the dashboard's widget carries, or `supportbot token`'s default
        token = mint(key, "manager", name="Maria", audience="chat")
    else:
        token = _no_audience(key)
    response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    body = await response.json()
    assert body["error"] == "unauthorized"
    assert "--audience api" in body["message"]


async def test_a_token_of_raw_bytes_is_a_401_not_a_crash(client: TestClient):
    # Bytes that are not UTF-8 reach the handler as surrogates, which PyJWT cannot encode.
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    writer.write(
        b"GET /api/metrics HTTP/1.1\r\nHost: localhost\r\n"
        b"Authorization: Bearer \x8c\xfdhN\xd7\xe9\r\nConnection: close\r\n\r\n"
    )
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    assert status_line.split()[1] == b"401"


@pytest.mark.parametrize("url", PROTECTED)
@pytest.mark.parametrize(
    "role, claims",
    [("customer", {"customer_id": 7}), ("customer", {}), ("staff", {"name": "sam"})],
    ids=["customer", "anonymous-customer", "staff"],
)
async def test_403_for_customer_and_staff_tokens(
    client: TestClient, web_services: Services, url: str, role: str, claims: dict
):
    response = await client.get(url, headers=bearer(web_services, role, **claims))
    assert response.status == 403
    assert (await response.json())["error"] == "forbidden"


async def test_403_for_a_staff_session_and_200_for_a_manager_session(
    client: TestClient, web_services: Services, aiohttp_client, settings
):
    await sign_in(client, web_services, "sam.staff", "staff")
    for url in PROTECTED:
        response = await client.get(url)
        assert response.status == 403, url
    from bot.web.app import create_app

    other = await aiohttp_client(create_app(settings, web_services))
    await sign_in(other, web_services, "maria.manager", "manager")
    for url in PROTECTED:
        response = await other.get(url)
        assert response.status == 200, (url, await response.text())


async def test_a_manager_token_is_accepted_on_every_route(
    client: TestClient, manager: dict[str, str]
):
    for url in PROTECTED:
        await get_json(client, url, manager)


# --- the numbers --------------------------------------------------------------------------


async def test_nps_is_the_definitions_and_the_cli_json(
    client: TestClient, filled: Services, manager: dict[str, str]
):
    data = await get_json(client, "/api/metrics", manager)
    expected = core.nps(OCTOBER_NPS)
    nps = data["metrics"]["nps"]
    assert nps["value"] == pytest.approx(expected.value)
    assert nps["n"] == expected.n == 37
    assert (nps["ci_low"], nps["ci_high"]) == pytest.approx((expected.ci_low, expected.ci_high))
    assert nps["counts"] == expected.counts
    assert data["metrics"]["csat"]["value"] == pytest.approx(core.csat(OCTOBER_CSAT).value)
    assert data["metrics"]["containment"]["value"] == 75.0
    # Exactly what `supportbot metrics --json` computes, in ISO 8601 dates.
    with session_scope(filled.session_factory) as session:
        cli = json.loads(dumps(metrics_json(session, _period())))
    assert data == cli
    assert data["period"] == {
        "label": "last 30 days",
        "start": "2026-10-03T00:00:00Z",
        "end": "2026-11-02T00:00:00Z",
    }


async def test_cuts_and_breakdowns(client: TestClient, filled: Services, manager: dict[str, str]):
    data = await get_json(client, "/api/metrics?topic=return_request", manager)
    assert data["cut"] == {"topic": "return_request", "channel": None, "variant": None}
    assert data["metrics"]["nps"]["value"] == pytest.approx(
        core.nps([a[0] for a in RETURN_ANSWERS]).value
    )
    assert "retention" not in data["metrics"]  # about customers, not topics
    by_topic = await get_json(client, "/api/metrics?by=topic&period=last+30+days", manager)
    with session_scope(filled.session_factory) as session:
        cli = json.loads(dumps(metrics_json(session, _period(), by="topic")))
    assert by_topic == cli
    assert set(by_topic["groups"]) == {"order_status", "return_request"}


async def test_monthly_trend(client: TestClient, filled: Services, manager: dict[str, str]):
    data = await get_json(client, "/api/metrics/nps/trend?bucket=month&months=3", manager)
    assert data["bucket"] == "month"
    assert [p["bucket"] for p in data["points"]] == ["2026-09-01", "2026-10-01", "2026-11-01"]
    september, october, november = data["points"]
    assert september["value"] == pytest.approx(core.nps(SEPTEMBER_NPS).value)
    assert september["n"] == len(SEPTEMBER_NPS)
    assert october["value"] == pytest.approx(core.nps(OCTOBER_NPS).value)
    assert (october["ci_low"], october["ci_high"]) == pytest.approx(
        (core.nps(OCTOBER_NPS).ci_low, core.nps(OCTOBER_NPS).ci_high)
    )
    assert (november["value"], november["n"]) == (None, 0)  # an empty month is still there
    assert october["start"] == "2026-10-01T00:00:00Z"
    assert november["end"] == "2026-11-02T00:00:00Z"  # the period's end, not December
    assert "takeaway" in data


async def test_weekly_trend_buckets_start_on_monday(
    client: TestClient, filled: Services, manager: dict[str, str]
):
    data = await get_json(client, "/api/metrics/nps/trend?bucket=week&months=2", manager)
    buckets = [date.fromisoformat(p["bucket"]) for p in data["points"]]
    assert buckets[0] == date(2026, 9, 28)  # the Monday of the week of 1 October
    assert all(b.weekday() == 0 for b in buckets)
    assert all(b - a == timedelta(days=7) for a, b in zip(buckets, buckets[1:], strict=False))
    assert buckets[-1] == date(2026, 10, 26)
    by_week = {p["bucket"]: p for p in data["points"]}
    week = [a[0] for a in ORDER_ANSWERS[2:9]]  # 12 to 18 October
    assert by_week["2026-10-12"]["value"] == pytest.approx(core.nps(week).value)
    assert by_week["2026-10-12"]["n"] == 7
    # The weeks add up to the period's answers.
    assert sum(p["n"] for p in data["points"]) == len(OCTOBER_NPS)


async def test_the_trend_agrees_with_the_library(
    client: TestClient, filled: Services, manager: dict[str, str]
):
    data = await get_json(client, "/api/metrics/containment/trend?bucket=week", manager)
    start, end = trend_range(_period(), 12, "week")
    with session_scope(filled.session_factory) as session:
        expected = dict(queries.trend(session, "containment", start, end, "week"))
    found = {date.fromisoformat(p["bucket"]): p for p in data["points"] if p["n"]}
    assert set(found) == set(expected)
    for week, result in expected.items():
        assert found[week]["value"] == pytest.approx(result.value)


async def test_score_distribution(client: TestClient, filled: Services, manager: dict[str, str]):
    nps = await get_json(client, "/api/metrics/nps/distribution", manager)
    assert [s["score"] for s in nps["scores"]] == list(range(11))
    assert {s["score"]: s["count"] for s in nps["scores"]} == {
        score: OCTOBER_NPS.count(score) for score in range(11)
    }
    assert nps["n"] == len(OCTOBER_NPS)
    assert nps["result"]["value"] == pytest.approx(core.nps(OCTOBER_NPS).value)
    csat = await get_json(client, "/api/metrics/csat/distribution?variant=A", manager)
    a_answers = [a[1] for a in ORDER_ANSWERS if a[2] == "A"]
    assert {s["score"]: s["count"] for s in csat["scores"]} == {
        score: a_answers.count(score) for score in range(1, 6)
    }


async def test_pain_points(client: TestClient, filled: Services, manager: dict[str, str]):
    data = await get_json(client, "/api/pain-points?min_answers=10", manager)
    assert [t["topic"] for t in data["topics"]] == ["return_request", "order_status"]
    returns = data["topics"][0]
    assert returns["n"] == 25
    assert returns["label"] == "returns"
    assert returns["csat"]["value"] == pytest.approx(
        core.csat([a[1] for a in RETURN_ANSWERS]).value
    )
    fewer = await get_json(client, "/api/pain-points?min_answers=20", manager)
    assert [t["topic"] for t in fewer["topics"]] == ["return_request"]  # 12 answers are too few


async def test_the_history_variants_are_in_metrics_by_variant(
    client: TestClient, filled: Services, manager: dict[str, str]
):
    # The demo history's "A"/"B" column is no declared experiment: it is a cut of the metrics.
    data = await get_json(client, "/api/metrics?by=variant", manager)
    period = _period()
    with session_scope(filled.session_factory) as session:
        expected = queries.metric_by(session, "nps", period.start, period.end, "variant")
    for variant in ("A", "B"):
        assert data["groups"][variant]["nps"]["value"] == pytest.approx(expected[variant].value)
        assert data["groups"][variant]["nps"]["n"] == expected[variant].n
    assert data["groups"]["A"]["containment"]["n"] == 4


async def test_no_declared_experiments(
    client: TestClient, filled: Services, manager: dict[str, str]
):
    data = await get_json(client, "/api/experiments", manager)
    assert data == {"experiments": [], "problems": []}


async def test_cohorts(client: TestClient, manager: dict[str, str]):
    data = await get_json(client, "/api/cohorts?months=6", manager)
    assert len(data["cohorts"]) == 6
    assert data["offsets"] == [1, 2, 3, 4, 5]
    assert data["cohorts"][-1]["cohort"] == "2026-11"
    assert data["as_of"] == "2026-11-01T12:00:00Z"  # not later than now


@pytest.mark.parametrize(
    "url, words",
    [
        ("/api/metrics?period=the+year+dot", "unknown period"),
        ("/api/metrics?by=colour", "unknown by"),
        ("/api/metrics/happiness/trend", "unknown metric"),
        ("/api/metrics/nps/trend?bucket=fortnight", "unknown bucket"),
        ("/api/metrics/nps/trend?months=0", "months must be between"),
        ("/api/metrics/nps/trend?months=many", "whole number"),
        ("/api/metrics/containment/distribution", "choose nps or csat"),
        ("/api/pain-points?min_answers=-1", "min_answers"),
        ("/api/cohorts?topic=return_request", "cannot be narrowed"),
        ("/api/metrics?period=" + "last 30 days " * 20, "at most 200 characters"),
    ],
)
async def test_400_with_a_clear_message(
    client: TestClient, manager: dict[str, str], url: str, words: str
):
    response = await client.get(url, headers=manager)
    assert response.status == 400
    body = await response.json()
    assert body["error"] == "bad_request"
    assert words in body["message"]


async def test_other_periods(client: TestClient, filled: Services, manager: dict[str, str]):
    for text, label in [
        ("this month", "this month"),
        ("last quarter", "last quarter (Q3 2026)"),
        ("last 12 months", "last 12 months"),
    ]:
        data = await get_json(client, f"/api/metrics?period={text}", manager)
        assert data["period"]["label"].startswith(label), data["period"]
    september = await get_json(client, "/api/metrics?period=September 2026", manager)
    assert september["metrics"]["nps"]["n"] == len(SEPTEMBER_NPS)


def test_json_dates_are_iso_8601_utc():
    assert json.loads(dumps({"at": datetime(2026, 11, 1, 9, 30), "day": date(2026, 11, 1)})) == {
        "at": "2026-11-01T09:30:00Z",
        "day": "2026-11-01",
    }


# --- the OpenAPI document -----------------------------------------------------------------


async def test_openapi_is_public_and_lists_every_route(client: TestClient):
    response = await client.get("/api/openapi.json")
    assert response.status == 200
    document = await response.json()
    assert document["openapi"].startswith("3.0")
    routes = {r.canonical for r in client.app.router.resources() if r.canonical.startswith("/api/")}
    assert routes <= set(document["paths"])
    for path, item in document["paths"].items():
        operation = item["get"]
        assert "200" in operation["responses"], path
        if path != "/api/openapi.json":
            # A 400 is for a bad parameter: /api/experiments takes none.
            errors = {"401", "403"} | ({"400"} if operation.get("parameters") else set())
            assert errors <= set(operation["responses"]), path
        for name in (p.strip("{}") for p in path.split("/") if p.startswith("{")):
            params = [q for q in operation.get("parameters", []) if q.get("in") == "path"]
            assert name in {q["name"] for q in params}, path
    assert set(document["components"]["securitySchemes"]) == {"bearerAuth", "sessionCookie"}


async def test_openapi_validates(client: TestClient):
    import openapi_spec_validator as validator

    document = await (await client.get("/api/openapi.json")).json()
    validator.validate_spec(document)  # raises when invalid


def test_cut_from_query_ignores_blank_values():
    from aiohttp.test_utils import make_mocked_request

    from bot.web.api import _cut

    request = make_mocked_request("GET", "/api/metrics?topic=&channel=rest&variant=%20")
    assert _cut(request) == Cut(channel="rest")


async def test_a_score_of_too_few_answers_is_marked_too_few(
    client: TestClient, filled: Services, manager: dict[str, str]
):
    data = await get_json(client, "/api/metrics", manager)
    nps = data["metrics"]["nps"]
    # 37 answers now; 4 in the previous 30 days (3 to 6 September): below the minimum of 10.
    assert nps["too_few"] is False
    assert (nps["previous"]["n"], nps["previous"]["too_few"]) == (4, True)
    assert nps["significant"] is False
    assert data["metrics"]["containment"]["too_few"] is False  # the rule is for scores
    trend = await get_json(client, "/api/metrics/nps/trend?months=3", manager)
    by_month = {p["bucket"]: p for p in trend["points"]}
    assert (by_month["2026-09-01"]["n"], by_month["2026-09-01"]["too_few"]) == (6, True)
    assert by_month["2026-10-01"]["too_few"] is False
    by_variant = await get_json(client, "/api/metrics?by=variant", manager)
    assert by_variant["groups"]["A"]["nps"]["too_few"] is True
