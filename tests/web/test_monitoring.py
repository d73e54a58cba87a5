"""Monitoring on the website: GET /api/alerts and the dashboard's alerts panel (managers only),
and the check on a schedule started and stopped with the app."""

from __future__ import annotations

import asyncio
import itertools
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from bot.bootstrap import Services, bootstrap
from bot.monitoring import run_check
from bot.settings import Settings
from bot.storage.models import Alert
from bot.storage.session import session_scope
from bot.web.app import create_app
from bot.web.keys import monitor_task_key
from tests.monitoring.data import baseline, window
from tests.web.conftest import NOW
from tests.web.metrics_data import bearer, sign_in


def plant_csat_drop(factory: sessionmaker) -> None:
    baseline(factory, satisfied=0.84, now=NOW)
    window(factory, satisfied=0.71, now=NOW)


@pytest.fixture
def csat_alert(web_services: Services) -> Services:
    plant_csat_drop(web_services.session_factory)
    [alert] = run_check(web_services.session_factory, (), NOW, 10).raised
    assert alert.metric == "csat"
    return web_services


async def test_a_manager_reads_the_open_alerts(client: TestClient, csat_alert: Services):
    response = await client.get("/api/alerts", headers=bearer(csat_alert, "manager"))
    assert response.status == 200, await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    data = await response.json()
    assert data["interval_seconds"] == 900
    [alert] = data["alerts"]
    assert (alert["kind"], alert["key"], alert["metric"], alert["open"]) == (
        "metric_drop",
        "metric:csat",
        "csat",
        True,
    )
    assert alert["message"].startswith("CSAT fell from 84% (n = 412) to 71% (n = 130)")
    assert (alert["n_current"], alert["n_baseline"]) == (130, 412)
    assert alert["ci_high"] < 0 and alert["raised_at"] == "2026-11-01T12:00:00Z"


async def test_resolved_alerts_leave_the_list(client: TestClient, csat_alert: Services):
    window(csat_alert.session_factory, n=400, satisfied=0.95, prefix="happy", now=NOW)
    [resolved] = run_check(csat_alert.session_factory, (), NOW + timedelta(hours=1), 10).resolved
    response = await client.get("/api/alerts", headers=bearer(csat_alert, "manager"))
    assert (await response.json())["alerts"] == []


@pytest.mark.parametrize(
    "role, audience, claims, status",
    [
        ("customer", "api", {"customer_id": 3}, 403),
        ("staff", "api", {"name": "sam"}, 403),
        ("manager", "chat", {}, 401),  # a chat token is no API token
    ],
)
async def test_only_managers_read_them(
    client: TestClient, csat_alert: Services, role: str, audience: str, claims: dict, status: int
):
    response = await client.get(
        "/api/alerts", headers=bearer(csat_alert, role, audience=audience, **claims)
    )
    assert response.status == status
    body = await response.json()
    assert body["error"] == ("forbidden" if status == 403 else "unauthorized")
    assert "CSAT" not in await response.text()


async def test_no_credentials_are_a_401(client: TestClient, csat_alert: Services):
    response = await client.get("/api/alerts")
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_signed_in_staff_are_refused(client: TestClient, csat_alert: Services):
    await sign_in(client, csat_alert, "sam.staff", "staff")
    response = await client.get("/api/alerts")
    assert response.status == 403
    assert "CSAT" not in await response.text()


async def test_the_dashboard_lists_the_open_alerts(client: TestClient, csat_alert: Services):
    await sign_in(client, csat_alert, "maria.manager", "manager")
    html = await (await client.get("/manager")).text()
    found = re.search(r'<section aria-labelledby="alerts-title".*?</section>', html, re.S)
    assert found, "an alerts panel"
    panel = found.group(0)
    assert '<li class="alert" data-alert="metric:csat">' in panel
    assert '<span class="badge tone-bad">metric</span>' in panel
    assert (
        '<span class="alert-message">CSAT fell from 84% (n = 412) to 71% (n = 130) over the '
        "last 7 days, against the 28 days before: down 13 points, 95% CI "
    ) in panel
    assert "Open since 01 Nov 2026 12:00 UTC." in panel
    assert "every 15 minutes" in panel
    assert "No open alerts." not in panel


async def test_the_dashboard_without_alerts(client: TestClient, web_services: Services):
    await sign_in(client, web_services, "maria.manager", "manager")
    html = await (await client.get("/manager")).text()
    assert '<h2 id="alerts-title">Alerts</h2>' in html
    assert '<p class="no-alerts">No open alerts.</p>' in html


# --- the schedule -------------------------------------------------------------------------


def alert_rows(factory: sessionmaker) -> list[Alert]:
    with session_scope(factory) as session:
        return list(session.execute(select(Alert)).scalars())


async def eventually(condition, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "the scheduled check did not run in time"
        await asyncio.sleep(0.1)


async def test_the_app_checks_on_a_schedule_and_stops_cleanly(
    aiohttp_client, settings: Settings, session_factory: sessionmaker
):
    plant_csat_drop(session_factory)
    every_second = replace(settings, monitor_interval_seconds=1)
    ticks = itertools.count()
    services = bootstrap(every_second, now=lambda: NOW + timedelta(seconds=next(ticks)))
    try:
        client = await aiohttp_client(create_app(every_second, services))
        task = client.app[monitor_task_key]
        await eventually(lambda: len(alert_rows(session_factory)) == 1)
        [first] = alert_rows(session_factory)
        # Checked again a second later: the same alert, still one, checked later.
        await eventually(lambda: alert_rows(session_factory)[0].checked_at > first.checked_at)
        [again] = alert_rows(session_factory)
        assert (again.id, again.raised_at, again.resolved_at) == (first.id, first.raised_at, None)
        # The website answers while it monitors.
        assert (await client.get("/healthz")).status == 200

        await client.close()
        assert task.done() and task.cancelled()
    finally:
        services.close()
    with session_scope(session_factory) as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 1


async def test_an_interval_of_0_turns_the_schedule_off(
    aiohttp_client, settings: Settings, web_services: Services
):
    plant_csat_drop(web_services.session_factory)
    off = replace(settings, monitor_interval_seconds=0)
    client = await aiohttp_client(create_app(off, web_services))
    assert monitor_task_key not in client.app
    await asyncio.sleep(0.2)
    assert alert_rows(web_services.session_factory) == []


def test_the_interval_setting_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("SUPPORTBOT_MONITOR_INTERVAL", "60")
    assert Settings.from_env().monitor_interval_seconds == 60
    monkeypatch.setenv("SUPPORTBOT_MONITOR_INTERVAL", "0")
    assert Settings.from_env().monitor_interval_seconds == 0
    monkeypatch.delenv("SUPPORTBOT_MONITOR_INTERVAL")
    assert Settings.from_env().monitor_interval_seconds == 900
