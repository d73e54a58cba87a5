"""Managers ask about the experiments in the chat and get the analysis' numbers; nobody else
gets anything."""

from __future__ import annotations

import re

import pytest

from actions.metrics import REFUSAL, ActionAnswerMetric
from bot.auth.tokens import Identity, mint
from bot.experiments.analysis import analyze
from bot.experiments.answers import NotAManager, answer_experiment_question
from bot.experiments.questions import ExperimentQuestion
from tests.actions.conftest import NOW, make_tracker, send_token, texts
from tests.web.experiments_data import CONTROL, DECLARED, NAME, VARIANT, declare, plant


@pytest.fixture
def planted(services, session_factory, settings):
    """early-handoff running since 1 October: the variant satisfies 80% against 60%."""
    declare(settings.experiments_file)
    plant(session_factory, CONTROL, 1500, 0.60, 0.10, seed=1)
    plant(session_factory, VARIANT, 1500, 0.80, 0.10, seed=2)
    return services


async def ask(services, dispatcher, domain, text: str, token: str | None) -> str:
    tracker = make_tracker(text, "ask_metric")
    send_token(services, tracker, token)
    dispatcher.messages.clear()
    await ActionAnswerMetric(services).run(dispatcher, tracker, domain)
    [reply] = texts(dispatcher)
    return reply


def manager(services) -> str:
    return mint(services.signing_key(), "manager", name="Maria")


async def test_a_manager_hears_which_experiments_are_running_with_their_verdicts(
    planted, dispatcher, domain
):
    reply = await ask(
        planted, dispatcher, domain, "which experiments are running?", manager(planted)
    )
    analysis = analyze(planted.experiments().get(NAME), planted.session_factory, NOW)
    assert reply.startswith("1 running:")
    assert (
        f"• {NAME} (support, running; {CONTROL} vs {VARIANT}; primary CSAT; 3,000 exposed" in reply
    )
    assert analysis.verdicts[VARIANT].text in reply
    assert "broken" not in reply  # the entry the file left out is not an experiment


async def test_a_manager_asking_about_one_experiment_gets_each_variant_with_n_and_interval(
    planted, dispatcher, domain
):
    reply = await ask(
        planted, dispatcher, domain, "how is the early hand-off test doing?", manager(planted)
    )
    analysis = analyze(planted.experiments().get(NAME), planted.session_factory, NOW)
    for variant, result in analysis.primary.estimates.items():
        assert (
            f"{variant}{' (control)' if variant == CONTROL else ''}: {result.value:.0f}% "
            f"(95% CI {result.ci_low:.0f} to {result.ci_high:.0f}, n = {result.n:,})"
        ) in reply
    [compared] = analysis.primary.against_control
    assert f"{VARIANT} vs {CONTROL}: {100 * compared.comparison.difference:+.1f} points" in reply
    assert "always-valid" in reply
    assert "Guardrail containment (may fall by at most 5 points)" in reply
    assert f"Verdict: {analysis.verdicts[VARIANT].text}" in reply


async def test_did_the_variant_win_is_answered_yes_with_the_evidence(planted, dispatcher, domain):
    reply = await ask(planted, dispatcher, domain, "did variant first-miss win?", manager(planted))
    analysis = analyze(planted.experiments().get(NAME), planted.session_factory, NOW)
    assert analysis.verdicts[VARIANT].decision == "ship"
    assert reply.startswith(f"Yes: {analysis.verdicts[VARIANT].text}.")


async def test_without_enough_data_the_answer_is_not_yet(
    services, session_factory, settings, dispatcher, domain
):
    declare(settings.experiments_file)
    plant(session_factory, CONTROL, 30, 0.60, 0.10, seed=1)
    plant(session_factory, VARIANT, 30, 0.62, 0.10, seed=2)
    reply = await ask(
        services, dispatcher, domain, "did variant first-miss win?", manager(services)
    )
    assert reply.startswith("Not yet: no difference detectable yet: about ")


async def test_a_variant_no_experiment_has_is_explained(planted, dispatcher, domain):
    reply = await ask(planted, dispatcher, domain, "did variant Z win?", manager(planted))
    assert (
        reply
        == f"No experiment has variant z. The experiments are: {NAME} ({CONTROL} vs {VARIANT})."
    )


async def test_a_metric_breakdown_by_variant_is_still_a_metric_question(
    planted, dispatcher, domain
):
    reply = await ask(planted, dispatcher, domain, "CSAT by variant last 30 days", manager(planted))
    assert reply.startswith("CSAT by variant, last 30 days:")


@pytest.mark.parametrize("role", [None, "customer", "staff"])
async def test_anyone_but_a_manager_learns_nothing_about_experiments(
    planted, dispatcher, domain, role
):
    token = (
        mint(planted.signing_key(), role, customer_id=1 if role == "customer" else None)
        if role
        else None
    )
    reply = await ask(planted, dispatcher, domain, "did variant first-miss win?", token)
    assert reply == REFUSAL
    assert NAME not in reply and not re.search(r"\d", reply)


def test_the_use_case_itself_refuses_a_customer(planted):
    question = ExperimentQuestion("one", NAME)
    with pytest.raises(NotAManager):
        answer_experiment_question(
            Identity("customer", customer_id=1),
            question,
            planted.experiments(),
            planted.session_factory,
            NOW,
        )
    owner = answer_experiment_question(
        Identity("manager", name="Maria"),
        question,
        planted.experiments(),
        planted.session_factory,
        NOW,
    )
    assert owner.startswith(f"{NAME} (support, running;")


# The same experiment, decided: the file's entry with its status and decision changed.
DECIDED = (
    DECLARED.split("  - name: broken")[0]
    .replace("    guardrails: [{metric: containment, max_drop: 5}]\n", "")
    .replace(
        "status: running",
        f"status: decided\n    decision: {{ship: {VARIANT}, by: Maria, at: 2026-11-01, "
        "reason: CSAT up 20 points.}",
    )
)


async def test_a_decided_experiment_is_answered_with_its_decision(
    services, session_factory, settings, dispatcher, domain
):
    declare(settings.experiments_file, DECIDED)
    plant(session_factory, CONTROL, 300, 0.60, 0.10, seed=1)
    plant(session_factory, VARIANT, 300, 0.80, 0.10, seed=2)
    reply = await ask(
        services, dispatcher, domain, "did variant first-miss win?", manager(services)
    )
    assert reply.startswith(f"Yes: {NAME} shipped {VARIANT} (Maria, 2026-11-01).\n")
    assert reply.endswith(f"Verdict: shipped {VARIANT} (Maria, 2026-11-01): CSAT up 20 points")
    listed = await ask(
        services, dispatcher, domain, "which experiments have finished?", manager(services)
    )
    assert listed.startswith("1 finished:\n• ")
    assert listed.endswith(f"shipped {VARIANT} (Maria, 2026-11-01): CSAT up 20 points")
