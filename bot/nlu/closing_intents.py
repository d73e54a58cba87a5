"""Closing words the classifier splits between two intents that mean the same there.

"no thanks bye" is half goodbye and half deny; "no, bye" too. Rasa's FallbackClassifier
calls such a message ambiguous (the top two intents within its `ambiguity_threshold`) and the
bot answers "Sorry, I didn't quite get that" to a customer who was leaving. Where both
readings end the chat the same way, this component, right after the FallbackClassifier, takes
the one that does: between goodbye and deny (or thank you) it is goodbye, between deny and
thank you ("no thank you") it is deny. Only when the two together are clearly the reading
(`min_combined`, 0.8): a message the classifier could not place stays a fallback.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

FALLBACK = "nlu_fallback"
# Two intents the classifier may split a closing message between -> the one to take.
SAME_ANSWER: dict[frozenset[str], str] = {
    frozenset({"goodbye", "deny"}): "goodbye",
    frozenset({"goodbye", "thank_you"}): "goodbye",
    frozenset({"deny", "thank_you"}): "deny",
}
MIN_COMBINED = 0.8


def resolve(ranking: list[dict[str, Any]], min_combined: float = MIN_COMBINED) -> str | None:
    """The intent to take for a fallback whose top two intents mean the same, or None."""
    ranked = [r for r in ranking if r.get("name") != FALLBACK]
    if len(ranked) < 2:
        return None
    first, second = ranked[0], ranked[1]
    combined = float(first.get("confidence") or 0) + float(second.get("confidence") or 0)
    chosen = SAME_ANSWER.get(frozenset({str(first.get("name")), str(second.get("name"))}))
    return chosen if chosen and combined >= min_combined else None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class ClosingIntentResolver(GraphComponent):
    """Turns an ambiguous fallback between two closing intents into the one they agree on."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"min_combined": MIN_COMBINED}

    def __init__(self, config: dict[str, Any]) -> None:
        self.min_combined = float(config.get("min_combined", MIN_COMBINED))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ClosingIntentResolver:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            if intent.get("name") != FALLBACK:
                continue
            ranking = message.get(INTENT_RANKING_KEY) or []
            chosen = resolve(ranking, self.min_combined)
            if chosen is None:
                continue
            kept = [r for r in ranking if r.get("name") != FALLBACK]
            confidence = sum(float(r.get("confidence") or 0) for r in kept[:2])
            message.set(INTENT, {"name": chosen, "confidence": confidence}, add_to_output=True)
            message.set(INTENT_RANKING_KEY, kept, add_to_output=True)
        return messages
