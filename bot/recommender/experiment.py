"""The `recommender-model` experiment (data/experiments.yml): which model suggests personally.

Its variants are model kinds: "ease" (the control) and "als". Only personal suggestions depend
on the model (best sellers count buyers; "more like X" always comes from the control's model),
so a conversation is exposed only where it gets personal suggestions, and only when the
variant's own model answers: where that model is missing, the other one answers and nothing is
recorded, since the customer did not see the variant.
"""

from __future__ import annotations

from bot.experiments.assignment import assign, unit_of
from bot.experiments.declarations import Experiment

RECOMMENDER_MODEL = "recommender-model"
CONTROL_MODEL = "ease"


def planned_variant(
    experiment: Experiment | None, customer_id: int | None, conversation: str
) -> str:
    """The variant (model kind) the conversation would get, without recording anything."""
    if experiment is None:
        return CONTROL_MODEL
    return assign(experiment, unit_of(customer_id, conversation)).variant
