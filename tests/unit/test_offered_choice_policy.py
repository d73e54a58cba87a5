"""The policy answering a typed pick of the bot's buttons as that button, on the real domain."""

from __future__ import annotations

import json

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policies.offered_choice_policy import OfferedChoicePolicy
from bot.settings import PROJECT_ROOT

CATEGORIES = [
    {"title": c, "payload": "/ask_recommendation" + json.dumps({"category": c})}
    for c in ["Footwear", "Garden", "Sports & Outdoors"]
]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(PROJECT_ROOT / "domain.yml")


@pytest.fixture
def policy(tmp_path) -> OfferedChoicePolicy:
    return OfferedChoicePolicy.create(
        OfferedChoicePolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("offered_choice"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def tracker(domain: Domain, typed: str, intent: str, *after) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        "chat",
        [
            ActionExecuted("action_listen"),
            UserUttered("recommend something", {"name": "ask_recommendation"}),
            ActionExecuted("action_recommend_products"),
            SlotSet("offered_choices", CATEGORIES),
            ActionExecuted("action_listen"),
            UserUttered(typed, {"name": intent}),
            *after,
        ],
        domain.slots,
    )


def predicted(policy, domain, tracker) -> str | None:
    probabilities = policy.predict_action_probabilities(tracker, domain).probabilities
    if max(probabilities) == 0:
        return None
    return domain.action_names_or_texts[probabilities.index(max(probabilities))]


def test_a_typed_category_is_answered_as_its_button_then_the_bot_listens(policy, domain):
    assert predicted(policy, domain, tracker(domain, "sports", "out_of_scope")) == (
        "action_recommend_products"
    )
    done = tracker(
        domain,
        "sports",
        "out_of_scope",
        ActionExecuted("action_recommend_products"),
        SlotSet("offered_choices", None),
    )
    assert predicted(policy, domain, done) == "action_listen"


def test_a_new_request_is_left_to_the_rules(policy, domain):
    typed = tracker(domain, "where is my order with the shoes?", "order_status")
    assert predicted(policy, domain, typed) is None


def test_a_form_reads_its_own_answers(policy, domain):
    in_form = tracker(domain, "sports", "out_of_scope")
    in_form.update(ActiveLoop("order_form"))
    assert predicted(policy, domain, in_form) is None


def test_policy_trains_and_loads(policy, domain, tmp_path):
    resource = policy.train([], domain)
    loaded = OfferedChoicePolicy.load(
        OfferedChoicePolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        resource,
        ExecutionContext(GraphSchema({}), "test"),
    )
    assert predicted(loaded, domain, tracker(domain, "garden", "out_of_scope")) == (
        "action_recommend_products"
    )
