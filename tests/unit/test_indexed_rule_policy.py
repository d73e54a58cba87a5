"""The indexed rule policy (bot/rasa/indexed_rule_policy.py) predicts what Rasa's
RulePolicy predicts, on the project's own rules, stories and conversation tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.io import read_yaml_file

from bot.rasa.indexed_rule_policy import (
    IndexedRulePolicy,
    RuleIndex,
    _init_copy,
    for_last_user_input,
    recent_states,
)
from tests.conversation_trackers import (
    ROOT,
    before_every_action,
    conversation_test_trackers,
    project_domain,
    training_trackers,
)


def _policy_config() -> dict:
    """The rule policy's settings in config.yml."""
    policies = read_yaml_file(ROOT / "config.yml")["policies"]
    (policy,) = [p for p in policies if p["name"].endswith("IndexedRulePolicy")]
    settings = {key: value for key, value in policy.items() if key != "name"}
    return {**RulePolicy.get_default_config(), **settings}


class Setup:
    def __init__(self, tmp: Path) -> None:
        self.domain: Domain = project_domain()
        trackers = training_trackers(self.domain)
        storage = LocalModelStorage(tmp)
        context = ExecutionContext(GraphSchema({}), "rules")
        config = _policy_config()
        self.rasa = RulePolicy.create(config, storage, Resource("rasa"), context)
        self.rasa.train(trackers, self.domain)
        trained = IndexedRulePolicy.create(config, storage, Resource("indexed"), context)
        trained.train(trackers, self.domain)
        self.trained_lookup = trained.lookup
        # what `rasa run` does: the policy as loaded from the model
        self.indexed = IndexedRulePolicy.load(config, storage, Resource("indexed"), context)
        tests = conversation_test_trackers(self.domain)
        assert len(tests) >= 40, "the conversation tests should be among the trackers"
        self.conversations = [*trackers, *tests]
        self.situations = before_every_action(self.conversations, self.domain)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    return Setup(tmp_path_factory.mktemp("rule-policies"))


def test_it_learns_the_same_rules_and_loads_them(setup: Setup) -> None:
    assert setup.trained_lookup == setup.rasa.lookup
    assert setup.indexed.lookup == setup.rasa.lookup
    assert len(setup.rasa.lookup[RULES]) > 50


def test_every_turn_gets_the_same_prediction(setup: Setup) -> None:
    """Before every action of every rule, story and conversation test, both policies
    predict the same action with the same events and flags, from the same rule."""
    assert len(setup.situations) > 500
    predicted = set()
    for tracker in setup.situations:
        expected, expected_source = setup.rasa._predict(tracker, setup.domain)
        got, source = setup.indexed._predict(tracker, setup.domain)
        assert got.probabilities == expected.probabilities, tracker.events
        assert got.events == expected.events
        assert got.is_end_to_end_prediction == expected.is_end_to_end_prediction
        assert got.is_no_user_prediction == expected.is_no_user_prediction
        assert got.hide_rule_turn == expected.hide_rule_turn
        if source != expected_source:  # two matching rules of the same length
            assert len(source) == len(expected_source), (source, expected_source)
        predicted.add(setup.domain.action_names_or_texts[got.max_confidence_index])
    # the comparison covered forms, the survey, fallbacks and listening
    assert {"action_listen", "order_form", "action_handle_fallback"} <= predicted
    assert len(predicted) >= 25


def test_predictions_follow_a_conversation_as_it_grows(setup: Setup) -> None:
    """One tracker per conversation, updated event by event as Rasa's processor does, and
    predicted for before every action: the replay the policy keeps on the tracker continues
    (or starts over, when a form un-applies turns) and gives Rasa's predictions."""
    compared = 0
    for conversation in setup.conversations:
        tracker = DialogueStateTracker(conversation.sender_id, setup.domain.slots)
        for event in conversation.events:
            if isinstance(event, ActionExecuted):
                expected, _ = setup.rasa._predict(tracker, setup.domain)
                got, _ = setup.indexed._predict(tracker, setup.domain)
                assert got.probabilities == expected.probabilities, list(tracker.events)
                assert got.events == expected.events
                assert got.hide_rule_turn == expected.hide_rule_turn
                compared += 1
            tracker.update(event)
    assert compared == len(setup.situations)


@pytest.mark.parametrize("table", [RULES, RULES_FOR_LOOP_UNHAPPY_PATH])
@pytest.mark.parametrize("use_text", [False, True])
def test_the_index_finds_the_rules_rasa_finds(setup: Setup, table: str, use_text: bool) -> None:
    lookup = setup.rasa.lookup[table]
    index = RuleIndex(lookup)
    found_any = 0
    for tracker in setup.situations:
        everything = setup.rasa._prediction_states(tracker, setup.domain, use_text)
        recent = for_last_user_input(
            recent_states(tracker, setup.domain, index.longest), use_text
        )
        assert recent == everything[-index.longest :]
        expected = setup.rasa._get_possible_keys(lookup, everything)
        assert index.matching_keys(recent) == expected
        found_any += bool(expected)
    assert found_any > (100 if table == RULES and not use_text else 0)


def test_recent_states_are_the_last_states_of_the_whole_history(setup: Setup) -> None:
    longest = max(setup.situations, key=lambda tracker: len(tracker.events))
    everything = setup.domain.states_for_tracker_history(longest)
    assert len(everything) > 10
    for count in (1, 3, len(everything), len(everything) + 5, 2):
        assert recent_states(longest, setup.domain, count) == everything[-count:]


def test_a_rule_is_matched_on_its_latest_turns_only() -> None:
    listen_then_greet = (
        '[{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}]'
    )
    after_form = (
        '[{"prev_action": {"action_name": "order_form"}, "active_loop": {"name": "order_form"}},'
        ' {"prev_action": {"action_name": "action_listen"}, "user": {"intent": "deny"},'
        ' "active_loop": {"name": "should_not_be_set"}}]'
    )
    index = RuleIndex([listen_then_greet, after_form])
    greet = {"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}
    deny = {"prev_action": {"action_name": "action_listen"}, "user": {"intent": "deny"}}
    in_form = {"prev_action": {"action_name": "order_form"}, "active_loop": {"name": "order_form"}}
    assert index.longest == 2
    assert index.matching_keys([{}, greet]) == {listen_then_greet}
    assert index.matching_keys([in_form, deny]) == {after_form}
    # the loop is still active: the rule says it must not be
    assert index.matching_keys([in_form, {**deny, "active_loop": {"name": "order_form"}}]) == set()
    assert index.matching_keys([greet, deny]) == set()


def test_a_fresh_replay_starts_from_rasas_init_copy(setup: Setup) -> None:
    with_slots_set = [t for t in setup.situations if any(s.value for s in t.slots.values())]
    assert with_slots_set
    for tracker in [*with_slots_set[:50], DialogueStateTracker("no-slots", None)]:
        ours, theirs = _init_copy(tracker), tracker.init_copy()
        assert type(ours) is type(theirs)
        assert {n: (type(s), vars(s)) for n, s in ours.slots.items()} == {
            n: (type(s), vars(s)) for n, s in theirs.slots.items()
        }
        assert ours.current_state() == theirs.current_state()
        assert (ours.sender_id, ours.is_rule_tracker) == (theirs.sender_id, theirs.is_rule_tracker)
