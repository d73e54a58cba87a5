"""A typed answer to the bot's buttons is answered as the button it names.

After "What are you shopping for?" with category buttons, a customer who types "sports"
(which, alone, reads as out of scope) or "the second one" (read as anything) means a
button. The NLU cannot know what was offered; this policy can: the action that offers
buttons remembers them in the `offered_choices` slot, and when the next message picks one
of them (`bot.support.choices.pick`), the policy predicts the action that answers that
button's intent, then listening. Anything that picks no button is left to the rules, so a
new request is never taken for a pick. While a form is active the form's own validation
reads the picks (an order chosen from the customer's orders).
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.support.choices import offered_before, parse_payload, pick

# The action that answers each button intent; the rules answer a pressed button the same way.
DEFAULT_ACTIONS = {
    "ask_recommendation": "action_recommend_products",
    "product_info": "action_product_info",
}


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class OfferedChoicePolicy(Policy):
    """Answers a message that picks one of the buttons just offered as that button."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # Above the RulePolicy (6): a rule for "affirm" must not answer "the first one".
        return {"priority": 7, "actions": DEFAULT_ACTIONS}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, **kwargs)
        self.actions: dict[str, str] = dict(config.get("actions") or DEFAULT_ACTIONS)

    def train(
        self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        """Nothing to learn: the picks are read from what was offered."""
        with self._model_storage.write_to(self._resource):
            pass
        return self._resource

    def picked_action(self, tracker: DialogueStateTracker) -> str | None:
        """The action answering the button the latest message picks, if it picks one."""
        if tracker.active_loop_name:
            return None
        latest = tracker.latest_message
        if latest is None or not latest.text:
            return None
        choice = pick(latest.text, offered_before(_since_previous_message(tracker)))
        if choice is None:
            return None
        intent, _ = parse_payload(str(choice.get("payload") or ""))
        return self.actions.get(intent or "")

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """The picked button's action after the message, then listening; else nothing."""
        probabilities = self._default_predictions(domain)
        action = self.picked_action(tracker)
        if action is not None and action in domain.action_names_or_texts:
            done = _acted_since_message(tracker)
            if done is None:
                probabilities[domain.index_for_action(action)] = 1.0
            elif done == action:
                probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        return self._prediction(probabilities)


def _since_previous_message(tracker: DialogueStateTracker) -> list[dict[str, Any]]:
    """The events from the customer's previous message on, as dictionaries: all that
    `offered_before` needs, without reading the whole conversation for every prediction."""
    recent = []
    messages = 0
    for event in reversed(tracker.events):
        recent.append(event)
        if isinstance(event, UserUttered):
            messages += 1
            if messages == 2:
                break
    return [event.as_dict() for event in reversed(recent)]


def _acted_since_message(tracker: DialogueStateTracker) -> str | None:
    """The first action run since the latest message, or None if none ran yet."""
    first = None
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return first
        if isinstance(event, ActionExecuted) and event.action_name:
            first = event.action_name
    return first
