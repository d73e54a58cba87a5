"""data/experiments.yml: what loads, and what a bad entry is told (with its line)."""

from __future__ import annotations

import textwrap
from datetime import date

from bot.experiments.declarations import load_experiments, parse_experiments
from bot.settings import PROJECT_ROOT

GOOD = """\
  - name: good
    focus: support
    hypothesis: A change helps.
    variants:
      - {name: a, weight: 50}
      - {name: b, weight: 50}
    primary_metric: csat
"""


def declared(*entries: str) -> str:
    return "experiments:\n" + "".join(entries)


def test_the_shipped_file_declares_three_running_experiments_and_a_decided_one():
    found = load_experiments(PROJECT_ROOT / "data" / "experiments.yml")
    assert found.problems == []
    assert [(e.name, e.status) for e in found.experiments] == [
        ("recommender-model", "running"),
        ("survey-wording", "running"),
        ("early-handoff", "running"),
        ("reply-tone", "decided"),
    ]
    tone = found.get("reply-tone")
    assert tone is not None and not tone.assigning and tone.decision is not None
    assert tone.weights == {"A": 50.0, "B": 50.0} and tone.primary_metric == "csat"
    assert tone.planned_end is not None and tone.planned_end < date(2026, 12, 2)
    assert tone.decision.ship == "A" and "no difference detectable" in tone.decision.reason
    handoff = found.get("early-handoff")
    assert handoff is not None and handoff.control.name == "second-miss"
    assert handoff.primary_metric == "csat"
    assert [(g.metric, g.max_drop) for g in handoff.guardrails] == [("containment", 5.0)]
    wording = found.get("survey-wording")
    assert wording is not None and wording.assigning
    assert [(v.name, v.weight) for v in wording.variants] == [("standard", 50.0), ("short", 50.0)]
    assert wording.primary_metric == "survey_response_rate"
    assert [(g.metric, g.max_drop) for g in wording.guardrails] == [("csat", 5.0)]


def test_a_bad_entry_is_named_by_its_line_and_the_others_still_load():
    bad = textwrap.dedent(
        """\
          - name: bad
            focus: support
            hypothesis: Something.
            variants:
              - {name: a, weight: 50}
              - {name: b, weight: 50}
            primary_metric: happiness
        """
    )
    text = declared(GOOD, textwrap.indent(bad, "  ").replace("    - name", "  - name", 1))
    found = parse_experiments(text)
    assert [e.name for e in found.experiments] == ["good"]
    [problem] = found.problems
    line = text.splitlines().index("    primary_metric: happiness") + 1
    assert problem.line == line
    assert "unknown metric 'happiness'" in str(problem) and f"line {line}" in str(problem)


def test_each_kind_of_mistake_gets_its_own_message():
    cases = {
        "focus: fun": "focus must be one of",
        "status: maybe": "status must be one of",
        "start: yesterday": "must be a date",
        "minimum_detectable_effect: -1": "must be above 0",
    }
    for change, message in cases.items():
        key = change.split(":")[0]
        lines = [line for line in GOOD.splitlines() if not line.strip().startswith(f"{key}:")]
        text = declared("\n".join([*lines, f"    {change}"]) + "\n")
        found = parse_experiments(text)
        assert found.experiments == [], change
        assert message in str(found.problems[0]), (change, found.problems)


def test_one_variant_a_duplicate_name_and_a_decision_without_a_variant_are_refused():
    one_variant = GOOD.replace("      - {name: b, weight: 50}\n", "")
    assert "at least two variants" in str(parse_experiments(declared(one_variant)).problems[0])
    twice = parse_experiments(declared(GOOD, GOOD))
    assert len(twice.experiments) == 1 and "a second experiment" in str(twice.problems[0])
    decided = GOOD + "    status: decided\n    decision: {ship: c}\n"
    assert "decision.ship" in str(parse_experiments(declared(decided)).problems[0])


def test_a_decided_experiment_ships_its_variant_and_stops_assigning():
    decided = GOOD + "    status: decided\n    decision: {ship: b, by: Maria, reason: B won.}\n"
    [experiment] = parse_experiments(declared(decided)).experiments
    assert not experiment.assigning
    assert experiment.default_variant == "b"
    assert experiment.decision is not None and experiment.decision.by == "Maria"


def test_not_yaml_and_no_file_are_told_apart(tmp_path):
    broken = parse_experiments("experiments:\n  - name: [unclosed\n")
    assert broken.experiments == [] and "not valid YAML" in str(broken.problems[0])
    missing = load_experiments(tmp_path / "none.yml")
    assert missing.experiments == [] and missing.problems == []
