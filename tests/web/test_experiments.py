"""The declared experiments on the website: /api/experiments and the dashboard's panel,
from planted exposures, conversations and survey answers."""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestClient

from bot.bootstrap import Services
from bot.experiments.analysis import analyze
from bot.web.api import dumps
from tests.web.conftest import NOW
from tests.web.experiments_data import CONTROL, NAME, VARIANT, declare, plant
from tests.web.metrics_data import bearer, sign_in


@pytest.fixture
def declared(web_services: Services) -> Services:
    declare(web_services.settings.experiments_file)
    return web_services


async def _experiments(client: TestClient, services: Services) -> dict:
    response = await client.get("/api/experiments", headers=bearer(services, "manager"))
    assert response.status == 200, await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    return await response.json()


async def test_the_analysis_of_each_declared_experiment(client: TestClient, declared: Services):
    plant(declared.session_factory, CONTROL, 1500, 0.60, 0.10, 1)
    plant(declared.session_factory, VARIANT, 1500, 0.80, 0.10, 2)
    data = await _experiments(client, declared)
    [experiment] = data["experiments"]
    # The file's second entry is left out, with its line.
    [problem] = data["problems"]
    assert problem["line"] == 13 and "focus must be one of" in problem["message"]

    assert (experiment["name"], experiment["focus"], experiment["status"]) == (
        NAME,
        "support",
        "running",
    )
    assert experiment["hypothesis"].startswith("Offering a person")
    assert experiment["primary_metric"] == "csat" and experiment["control"] == CONTROL
    assert experiment["variants"] == [
        {"name": CONTROL, "weight": 50, "exposures": 1500},
        {"name": VARIANT, "weight": 50, "exposures": 1500},
    ]
    assert experiment["srm"]["mismatch"] is False and experiment["srm"]["p_value"] == 1.0

    # The numbers are analyze()'s, in points.
    analysis = analyze(declared.experiments().experiments[0], declared.session_factory, NOW)
    primary = experiment["primary"]
    for name in (CONTROL, VARIANT):
        estimate, expected = primary["variants"][name], analysis.primary.estimates[name]
        assert estimate["n"] == 1500
        assert (estimate["value"], estimate["ci_low"], estimate["ci_high"]) == pytest.approx(
            (expected.value, expected.ci_low, expected.ci_high)
        )
    [compared] = primary["against_control"]
    [expected_c] = analysis.primary.against_control
    assert compared["variant"] == VARIANT
    assert compared["difference"] == pytest.approx(100 * expected_c.comparison.difference)
    assert compared["ci"] == pytest.approx(
        [100 * expected_c.comparison.ci_low, 100 * expected_c.comparison.ci_high]
    )
    assert compared["always_valid_ci"] == pytest.approx(
        [100 * expected_c.sequential.ci_low, 100 * expected_c.sequential.ci_high]
    )
    low, high = compared["ci"]
    assert compared["always_valid_ci"][0] < low < high < compared["always_valid_ci"][1]
    assert compared["p_value"] < 0.001 and compared["chance_to_beat_control"] > 0.99
    assert compared["holm_p_value"] is None and compared["guardrail"] is None

    [guardrail] = experiment["guardrails"]
    assert (guardrail["metric"], guardrail["max_drop"]) == ("containment", 5)
    [guard] = guardrail["against_control"]
    assert guard["holm_p_value"] == pytest.approx(guard["p_value"])  # one guardrail: unchanged
    assert guard["guardrail"] == "holds"

    assert experiment["remaining"] == "the planned sample is reached"
    verdict = experiment["verdicts"][VARIANT]
    assert verdict["decision"] == "ship"
    assert verdict["text"] == analysis.verdicts[VARIANT].text
    assert "guardrails hold" in verdict["text"]


async def test_the_always_valid_interval_narrows_day_by_day(client: TestClient, declared: Services):
    plant(declared.session_factory, CONTROL, 600, 0.60, 0.10, 3)
    plant(declared.session_factory, VARIANT, 600, 0.80, 0.10, 4)
    [experiment] = (await _experiments(client, declared))["experiments"]
    [series] = experiment["over_time"]
    assert series["variant"] == VARIANT
    points = series["points"]
    assert [p["day"] for p in points] == [f"2026-10-{day}" for day in range(20, 30)]
    assert [p["n"] for p in points] == [120 * (i + 1) for i in range(10)]  # cumulative
    widths = [p["always_valid_ci"][1] - p["always_valid_ci"][0] for p in points]
    assert widths == sorted(widths, reverse=True) and widths[-1] < widths[0] / 2
    # The last day holds every session: the same interval as the analysis.
    assert points[-1]["always_valid_ci"] == pytest.approx(
        experiment["primary"]["against_control"][0]["always_valid_ci"]
    )


async def test_a_declared_experiment_without_exposures(client: TestClient, declared: Services):
    [experiment] = (await _experiments(client, declared))["experiments"]
    assert experiment["exposures"] == {CONTROL: 0, VARIANT: 0}
    assert experiment["primary"]["variants"][CONTROL] == {
        "n": 0,
        "value": None,
        "ci_low": None,
        "ci_high": None,
        "too_few": False,
    }
    assert experiment["primary"]["against_control"] == []
    assert experiment["verdicts"] == {} and experiment["over_time"] == [
        {"variant": VARIANT, "points": []}
    ]
    assert "NaN" not in dumps(experiment)


@pytest.mark.parametrize(
    "role, audience, claims, status",
    [
        ("customer", "api", {"customer_id": 3}, 403),
        ("staff", "api", {}, 403),
        ("manager", "chat", {}, 401),  # a chat token is no API token
    ],
)
async def test_only_managers_read_it(
    client: TestClient, declared: Services, role: str, audience: str, claims: dict, status: int
):
    response = await client.get(
        "/api/experiments", headers=bearer(declared, role, audience=audience, **claims)
    )
    assert response.status == status
    assert (await response.json())["error"] == ("forbidden" if status == 403 else "unauthorized")


async def test_no_token_is_a_401(client: TestClient, declared: Services):
    response = await client.get("/api/experiments")
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def _page(client: TestClient, services: Services) -> str:
    await sign_in(client, services, "maria.manager", "manager")
    response = await client.get("/manager")
    assert response.status == 200, await response.text()
    return await response.text()


def _card(html: str) -> str:
    found = re.search(
        rf'<article class="experiment-card" data-experiment="{NAME}".*?</article>', html, re.S
    )
    assert found, "a card for the experiment"
    return found.group(0)


async def test_the_panel_shows_the_srm_badge_and_withholds_the_verdict(
    client: TestClient, declared: Services
):
    plant(declared.session_factory, CONTROL, 900, 0.60, 0.10, 5)  # a 45/55 split
    plant(declared.session_factory, VARIANT, 1100, 0.80, 0.10, 6)
    card = _card(await _page(client, declared))
    assert re.search(r'<li class="badge srm tone-bad">SRM: mismatch \(p = &lt; 0.001\)</li>', card)
    assert '<li class="badge status status-running">running</li>' in card
    assert "sample ratio mismatch: 45.0%/55.0% exposed against 50.0%/50.0% designed" in card
    assert (
        f"<strong>Verdict for {VARIANT}:</strong> verdict withheld: sample ratio mismatch" in card
    )
    assert f"{CONTROL} (control)" in card
    assert "n = 900)" in card and "n = 1,100)" in card
    assert f'data-experiment-estimates="{NAME}"' in card
    assert f'data-experiment-history="{NAME}"' in card


async def test_the_panel_shows_the_verdict_and_the_guardrails(
    client: TestClient, declared: Services
):
    plant(declared.session_factory, CONTROL, 1500, 0.60, 0.10, 1)
    plant(declared.session_factory, VARIANT, 1500, 0.80, 0.10, 2)
    html = await _page(client, declared)
    card = _card(html)
    assert '<li class="badge srm tone-good">SRM: split as designed (p = 1.000)</li>' in card
    assert re.search(
        rf'<li class="badge guardrail tone-good" title="may not fall by more than 5 points">'
        rf"guardrail containment, {VARIANT}: holds</li>",
        card,
    )
    assert re.search(rf"<strong>Verdict for {VARIANT}:</strong> {VARIANT} improves CSAT by", card)
    assert f"ship {VARIANT}" in card
    assert "Always-valid" in card and "Holm p" in card
    assert "line 13: focus must be one of" in html  # the entry left out


async def test_the_panel_without_declared_experiments(client: TestClient, web_services: Services):
    html = await _page(client, web_services)
    assert "No experiments are declared." in html
    assert "experiment-card" not in html
