"""Rasa's RulePolicy with the same predictions for a fraction of the work per message.

Rasa 3.6's RulePolicy, for every action it predicts (two to four per customer message):
- replays the whole session into a fresh tracker and builds the state of every turn, twice
  (once with the latest message's text, once with its intent);
- then tests every rule against those states, turn by turn back to the start of the chat,
  re-reading each rule from its JSON key for every turn.

Its rules are at most a few turns long (4 here), and a rule is only ever compared with as
many of the latest turns as it has, so `IndexedRulePolicy`:
- builds the states once per prediction and only for the last turns the longest rule can
  reach (the session is still replayed, which is cheap; building a state is not);
- reads the rules once into an index keyed by the previous action each rule's last turn
  requires, so only the rules that can match the latest turn are tested;
- builds the whole conversation's states only when no rule matches and the prediction needs
  their key, exactly as the RulePolicy does.

Training is the RulePolicy's own (the index is not used while the rules are learnt), and
what the policy stores is the RulePolicy's, so a model trained with either loads with
either. Where several rules of the same length match, the RulePolicy takes whichever a
`set` happens to list first (it varies between processes); this policy takes the
alphabetically last, which is the same every time. `tests/unit/test_indexed_rule_policy.py`
checks that both policies find the same rules and predict the same for every turn of the
project's rules, stories and conversation tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.rule_policy import (
    DO_NOT_PREDICT_LOOP_ACTION,
    LOOP_WAS_INTERRUPTED,
    RULES,
    RULES_FOR_LOOP_UNHAPPY_PATH,
    RulePolicy,
)
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.constants import DEFAULT_SENDER_ID
from rasa.shared.core.constants import (
    ACTION_LISTEN_NAME,
    PREVIOUS_ACTION,
    SHOULD_NOT_BE_SET,
    USER,
)
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import (
    DialogueStateTracker,
    get_active_loop_name,
    is_prev_action_listen_in_state,
)
from rasa.shared.nlu.constants import ACTION_NAME, ENTITIES, INTENT, TEXT

from bot.rasa.performance import copy_slot

# A rule's state with its values as the conversation's states hold them (lists as tuples):
# ((state type, ((feature, value), ...)), ...)
_FrozenRuleState = tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]


class _Rule(NamedTuple):
    key: str
    # the rule's states, latest first
    states: tuple[_FrozenRuleState, ...]
    has_previous_action: tuple[bool, ...]


class RuleIndex:
    """The rules of one lookup table, grouped by the previous action of their last turn."""

    def __init__(self, rule_keys: Iterable[str]) -> None:
        self._by_action: dict[str, list[_Rule]] = {}
        self._unconstrained: list[_Rule] = []
        self.longest = 0
        for key in rule_keys:
            states = json.loads(key)
            rule = _Rule(
                key,
                tuple(_freeze(state) for state in reversed(states)),
                tuple(bool(state.get(PREVIOUS_ACTION)) for state in reversed(states)),
            )
            self.longest = max(self.longest, len(states))
            action = (states[-1].get(PREVIOUS_ACTION) or {}).get(ACTION_NAME)
            if action and action != SHOULD_NOT_BE_SET:
                self._by_action.setdefault(action, []).append(rule)
            else:
                self._unconstrained.append(rule)

    def matching_keys(self, states: Sequence[State]) -> set[str]:
        """The keys of the rules that apply to the conversation whose latest states these are
        (at least `longest` of them, or all): what `RulePolicy._get_possible_keys` returns."""
        if not states:
            return {rule.key for rule in self._by_action_and_unconstrained()}
        action = (states[-1].get(PREVIOUS_ACTION) or {}).get(ACTION_NAME)
        candidates = self._unconstrained + (self._by_action.get(action, []) if action else [])
        for turn, state in enumerate(reversed(states)):
            if turn >= self.longest or not candidates:
                break
            candidates = [rule for rule in candidates if _applies(rule, turn, state)]
        return {rule.key for rule in candidates}

    def _by_action_and_unconstrained(self) -> list[_Rule]:
        return self._unconstrained + [r for rules in self._by_action.values() for r in rules]


def _freeze(state: dict[str, dict[str, Any]]) -> _FrozenRuleState:
    return tuple(
        (
            state_type,
            tuple(
                (feature, tuple(value) if isinstance(value, list) else value)
                for feature, value in sub_state.items()
            ),
        )
        for state_type, sub_state in state.items()
    )


def _applies(rule: _Rule, turn: int, state: State) -> bool:
    """`RulePolicy._is_rule_applicable` for a rule read once."""
    if turn >= len(rule.states):
        return True
    has_previous_action = bool(state.get(PREVIOUS_ACTION))
    if not rule.has_previous_action[turn]:
        return not has_previous_action
    if not has_previous_action:
        return False
    for state_type, features in rule.states[turn]:
        sub_state = state.get(state_type, {})
        for feature, required in features:
            present = sub_state.get(feature)
            if required == SHOULD_NOT_BE_SET:
                if present and present != SHOULD_NOT_BE_SET:
                    return False
            elif required and present != required:
                return False
    return True


def recent_states(tracker: DialogueStateTracker, domain: Domain, count: int) -> list[State]:
    """The last `count` states of `domain.states_for_tracker_history(tracker)` (all when
    there are fewer), with the RulePolicy's settings: every turn, slots with initial values.

    The session's applied events are replayed as `generate_all_prior_trackers` does, and a
    state is only built for the turns asked for. The replay is kept on the tracker: the next
    prediction for the same tracker (the next action, the next message) replays only the
    events added since, as long as the events applied before are still applied (a form that
    runs again, for one, un-applies the turns since its last run: then it starts over).
    """
    replay: _Replay | None = tracker.__dict__.get(_REPLAY)
    applied = _applied_events(tracker, replay)
    if replay is None or replay.count < count or not replay.continues(applied):
        replay = _Replay(_init_copy(tracker), count)
        tracker.__dict__[_REPLAY] = replay
    replay.advance(tracker, applied, domain)
    states = [*replay.states, domain._clean_state(domain.get_active_state(replay.tracker))]
    return states[-count:] if count > 0 else states[-1:]


def _applied_events(tracker: DialogueStateTracker, replay: _Replay | None) -> list:
    """`tracker.applied_events()`, the same list as last time if no event came since (Rasa
    only ever appends events to a tracker)."""
    events = tracker.events
    last = events[-1] if events else None
    if replay is not None and replay.seen[0] == len(events) and replay.seen[1] is last:
        return replay.applied
    return tracker.applied_events()


def _init_copy(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """`tracker.init_copy()`: a new tracker with the same slots at their initial values."""
    fresh = DialogueStateTracker(
        tracker.sender_id or DEFAULT_SENDER_ID,
        None,
        tracker._max_event_history,
        is_rule_tracker=tracker.is_rule_tracker,
    )
    fresh.slots = {name: copy_slot(slot) for name, slot in tracker.slots.items()}
    for slot in fresh.slots.values():
        slot.reset()
    return fresh


# Set on a tracker the policy predicted for: its `_Replay`.
_REPLAY = "_supportbot_rule_replay"


class _Replay:
    """A tracker replaying another's applied events, with the states of its latest turns."""

    def __init__(self, tracker: DialogueStateTracker, count: int) -> None:
        self.tracker = tracker
        self.count = count  # states kept: the last `count - 1` before the current one
        self.applied: list = []
        self.states: list[State] = []
        self.seen: tuple[int, object] = (0, None)  # the tracker's events when last advanced

    def continues(self, applied: list) -> bool:
        """Whether `applied` starts with the events replayed so far (the same objects)."""
        done = self.applied
        return len(applied) >= len(done) and all(
            a is b for a, b in zip(done, applied[: len(done)], strict=True)
        )

    def advance(self, tracker: DialogueStateTracker, applied: list, domain: Domain) -> None:
        if applied is self.applied:
            return
        for event in applied[len(self.applied) :]:
            if isinstance(event, ActionExecuted):
                self.states.append(domain._clean_state(domain.get_active_state(self.tracker)))
                del self.states[: -max(self.count - 1, 0) or len(self.states)]
            self.tracker.update(event)
        self.applied = applied
        events = tracker.events
        self.seen = (len(events), events[-1] if events else None)


def for_last_user_input(states: Sequence[State], use_text: bool) -> list[State]:
    """States as the RulePolicy's featurizer gives them for a prediction from the latest
    message's text or its intent (`_choose_last_user_input`), without changing `states`."""
    chosen = [_with_user(state) for state in states]
    if chosen and is_prev_action_listen_in_state(chosen[-1]):
        user = chosen[-1].get(USER, {})
        if use_text:
            if user.get(INTENT):
                del user[INTENT]
            if user.get(ENTITIES):
                del user[ENTITIES]
        elif user.get(TEXT):
            del user[TEXT]
    for state in chosen:  # every turn is either intent or text based
        user = state.get(USER, {})
        if user.get(INTENT) and user.get(TEXT):
            del user[TEXT]
    return chosen


def _with_user(state: State) -> State:
    if USER not in state:
        return state
    copied = dict(state)
    copied[USER] = dict(state[USER])
    return copied


class _RulesFound(NamedTuple):
    action: str | None
    rule_key: str  # "" when no rule matched
    returning_from_unhappy_path: bool


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class IndexedRulePolicy(RulePolicy):
    """The RulePolicy, predicting from the latest turns and an index of its rules."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._indexes: dict[str, RuleIndex] | None = None
        self._learning = False

    def train(
        self,
        training_trackers: list[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        """The RulePolicy's training, which predicts with the rules it is still learning.

        (Rasa's graph passes the arguments this signature names.)"""
        self._learning, self._indexes = True, None
        try:
            return super().train(training_trackers, domain, **kwargs)
        finally:
            self._learning = False

    def _rule_indexes(self) -> dict[str, RuleIndex]:
        if self._indexes is None:
            self._indexes = {
                name: RuleIndex(self.lookup.get(name, {}))
                for name in (RULES, RULES_FOR_LOOP_UNHAPPY_PATH)
            }
        return self._indexes

    def _find_rules(
        self, tracker: DialogueStateTracker, states: list[State]
    ) -> _RulesFound:
        """`RulePolicy._find_action_from_rules` on the latest states, without the key of the
        whole conversation that it returns when no rule matched (`_feature_key` gives it)."""
        indexes = self._rule_indexes()
        rule_keys = indexes[RULES].matching_keys(states)
        action = None
        best_rule_key = ""
        if rule_keys:  # rules that match are subsets of one another: the longest wins
            best_rule_key = max(rule_keys, key=lambda key: (len(key), key))
            action = self.lookup[RULES].get(best_rule_key)
        returning_from_unhappy_path = False
        active_loop_name = tracker.active_loop_name
        if active_loop_name:
            unhappy_path_conditions = [
                self.lookup[RULES_FOR_LOOP_UNHAPPY_PATH].get(key)
                for key in indexes[RULES_FOR_LOOP_UNHAPPY_PATH].matching_keys(states)
            ]
            if action == ACTION_LISTEN_NAME and not get_active_loop_name(
                self._rule_key_to_state(best_rule_key)[-1]
            ):
                # a general rule predicted action_listen inside the loop: back to the loop
                if DO_NOT_PREDICT_LOOP_ACTION not in unhappy_path_conditions:
                    return _RulesFound(active_loop_name, best_rule_key, False)
                action = None
            if LOOP_WAS_INTERRUPTED in unhappy_path_conditions:
                returning_from_unhappy_path = True
        return _RulesFound(action, best_rule_key, returning_from_unhappy_path)

    def _feature_key(self, tracker: DialogueStateTracker, domain: Domain) -> str | None:
        """The key of the whole conversation's intent-based states (no rule matched)."""
        states = self._prediction_states(
            tracker, domain, False, rule_only_data=self._get_rule_only_data()
        )
        return self._create_feature_key(states)

    def _predict(
        self, tracker: DialogueStateTracker, domain: Domain
    ) -> tuple[PolicyPrediction, str | None]:
        """`RulePolicy._predict`, in the same order of precedence: rules on the latest
        message's text, default actions, the active loop's happy path, rules on its intent."""
        if self._learning:
            return super()._predict(tracker, domain)

        states: list[State] = []
        if tracker.latest_action_name == ACTION_LISTEN_NAME or not (
            self._find_action_from_default_actions(tracker)[0]
            or self._find_action_from_loop_happy_path(tracker)[0]
        ):
            count = max(index.longest for index in self._rule_indexes().values())
            states = recent_states(tracker, domain, count)

        from_text = _RulesFound(None, "", False)
        if tracker.latest_action_name == ACTION_LISTEN_NAME:
            from_text = self._find_rules(tracker, for_last_user_input(states, use_text=True))

        default_action, default_source = self._find_action_from_default_actions(tracker)
        if default_action and not from_text.action:
            return (
                self._rule_prediction(
                    self._prediction_result(default_action, tracker, domain), default_source
                ),
                default_source,
            )

        loop_action, loop_source = self._find_action_from_loop_happy_path(tracker)
        if loop_action:
            return (
                self._rule_prediction(
                    self._prediction_result(loop_action, tracker, domain),
                    loop_source,
                    is_no_user_prediction=True,
                ),
                loop_source,
            )

        if from_text.action:
            return (
                self._rule_prediction(
                    self._prediction_result(from_text.action, tracker, domain),
                    from_text.rule_key,
                    returning_from_unhappy_path=from_text.returning_from_unhappy_path,
                    is_end_to_end_prediction=True,
                ),
                from_text.rule_key,
            )

        from_intent = self._find_rules(tracker, for_last_user_input(states, use_text=False))
        source = from_intent.rule_key or self._feature_key(tracker, domain)
        if from_intent.action:
            probabilities = self._prediction_result(from_intent.action, tracker, domain)
        else:
            probabilities = self._default_predictions(domain)
        return (
            self._rule_prediction(
                probabilities,
                source,  # type: ignore[arg-type]  # as the RulePolicy passes it
                returning_from_unhappy_path=(
                    from_text.returning_from_unhappy_path
                    or from_intent.returning_from_unhappy_path
                ),
                is_end_to_end_prediction=False,
            ),
            source,
        )

