"""CUPED on the website: /api/experiments carries the adjusted comparison beside the plain
one, and the dashboard's card shows the adjusted interval and the variance removed, or says
there is no pre-exposure data."""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestClient

from bot.bootstrap import Services
from bot.experiments.analysis import analyze
from tests.web.conftest import NOW
from tests.web.cuped_data import plant_customers
from tests.web.experiments_data import CONTROL, NAME, VARIANT, declare, plant
from tests.web.metrics_data import bearer, sign_in


@pytest.fixture
def declared(web_services: Services) -> Services:
    declare(web_services.settings.experiments_file)
    return web_services


async def _card(client: TestClient, services: Services) -> str:
    await sign_in(client, services, "maria.manager", "manager")
    response = await client.get("/manager")
    assert response.status == 200, await response.text()
    html = await response.text()
    match = re.search(
        rf'<article class="experiment-card" data-experiment="{NAME}".*?</article>', html, re.S
    )
    assert match is not None
    return match.group(0)


async def test_the_api_and_the_card_show_the_adjusted_interval(
    client: TestClient, declared: Services
):
    plant_customers(declared.session_factory, 300, seed=7)
    response = await client.get("/api/experiments", headers=bearer(declared, "manager"))
    assert response.status == 200
    [experiment] = (await response.json())["experiments"]
    cuped = experiment["cuped"]
    expected = analyze(
        declared.experiments().experiments[0], declared.session_factory, NOW
    ).cuped.comparisons[VARIANT]
    [row] = cuped["against_control"]
    assert row["ci"] == pytest.approx(
        [100 * expected.adjusted.ci_low, 100 * expected.adjusted.ci_high]
    )
    assert row["unadjusted_difference"] == pytest.approx(
        experiment["primary"]["against_control"][0]["difference"], abs=1e-9
    )
    assert 0.05 < row["variance_reduction"] < 0.6
    assert cuped["with_covariate"][CONTROL] > 0 and cuped["note"] is None

    card = await _card(client, declared)
    low, high = row["ci"]
    shown = f"{low:+.1f} points to {high:+.1f} points"
    assert shown in card
    assert f"variance \u2212{100 * row['variance_reduction']:.1f}%" in card


async def test_the_card_says_when_there_is_no_pre_exposure_data(
    client: TestClient, declared: Services
):
    plant(declared.session_factory, CONTROL, 100, 0.60, 0.10, 1)
    plant(declared.session_factory, VARIANT, 100, 0.70, 0.10, 2)
    response = await client.get("/api/experiments", headers=bearer(declared, "manager"))
    [experiment] = (await response.json())["experiments"]
    assert experiment["cuped"]["note"] == "no pre-exposure data"
    assert experiment["cuped"]["against_control"] == []
    card = await _card(client, declared)
    assert "no pre-exposure data" in card and "variance" not in card
