"""Which question about the experiments a manager's words ask."""

from __future__ import annotations

import pytest

from bot.experiments.declarations import parse_experiments
from bot.experiments.questions import ExperimentQuestion, parse_experiment_question
from bot.settings import PROJECT_ROOT

DECLARED = parse_experiments(
    (PROJECT_ROOT / "data" / "experiments.yml").read_text(encoding="utf-8")
    + """
  - name: reply-tone
    focus: support
    hypothesis: A warmer tone makes customers happier.
    variants: [{name: A, weight: 50}, {name: B, weight: 50}]
    primary_metric: csat
    status: decided
    decision: {ship: A, by: Maria, reason: no difference}
"""
).experiments


def parse(text: str) -> ExperimentQuestion | None:
    return parse_experiment_question(text, DECLARED)


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("which experiments are running?", "running"),
        ("What A/B tests do we have live right now", "running"),
        ("list all experiments", None),
        ("how are our experiments going", None),
        ("which tests have finished?", "finished"),
        ("show me the decided experiments", "finished"),
    ],
)
def test_questions_about_all_experiments_ask_for_the_list(text, status):
    assert parse(text) == ExperimentQuestion("list", status=status)


@pytest.mark.parametrize(
    ("text", "experiment"),
    [
        ("how is the survey timing test doing?", "survey-wording"),
        ("How's the survey wording experiment going", "survey-wording"),
        ("results of the early hand-off experiment", "early-handoff"),
        ("is the early handover test working", "early-handoff"),
        ("how is the recommender test doing", "recommender-model"),
        ("the recommendation model experiment, any news?", "recommender-model"),
        ("what about the reply tone test", "reply-tone"),
    ],
)
def test_an_experiment_is_found_by_the_words_of_its_name(text, experiment):
    assert parse(text) == ExperimentQuestion("one", experiment)


@pytest.mark.parametrize(
    ("text", "experiment", "variant"),
    [
        ("did variant B win?", "reply-tone", "B"),
        ("is ALS beating EASE?", "recommender-model", "als"),
        ("did the short survey wording win", "survey-wording", "short"),
        ("which variant won the early handoff test", "early-handoff", None),
    ],
)
def test_did_it_win_names_the_experiment_and_the_variant(text, experiment, variant):
    assert parse(text) == ExperimentQuestion("winner", experiment, variant)


def test_a_variant_nobody_has_is_kept_for_the_answer_to_explain():
    assert parse("did variant Q win?") == ExperimentQuestion("winner", None, "q")


@pytest.mark.parametrize(
    "text",
    [
        "what's our NPS last month",
        "CSAT by variant",
        "nps per variant this quarter",
        "where are we worst?",
        "how many conversations went to a human yesterday",
        "kpis for this month",
    ],
)
def test_metric_questions_are_not_about_experiments(text):
    assert parse(text) is None
