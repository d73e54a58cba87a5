"""Messages the channel had to cut (too long) are understood as `message_too_long`.

The channels (`bot.rasa.channels`) keep at most `max_message_length` characters of a message
and note the original length in its metadata (`cut_from`). Guessing an intent from the first
part of a long paste would answer something the customer may not have asked, so this
component, last in the pipeline, names the intent itself and drops the entities: the bot then
says the message was too long and asks for a shorter one (rule "message too long").
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

CUT_FROM = "cut_from"
INTENT_NAME = "message_too_long"


def was_cut(message: Message) -> bool:
    metadata = message.get("metadata") or {}
    return isinstance(metadata, dict) and isinstance(metadata.get(CUT_FROM), int)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class CutMessageClassifier(GraphComponent):
    """Sets the intent `message_too_long` on messages the channel cut."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CutMessageClassifier:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if was_cut(message):
                intent = {"name": INTENT_NAME, "confidence": 1.0}
                message.set(INTENT, intent, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)
                message.set(ENTITIES, [], add_to_output=True)
        return messages
