"""The cached action-result validation accepts and rejects exactly what Rasa's own does."""

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_launcher import install_cached_action_validation

VALID = {
    "events": [{"event": "slot", "name": "order_id", "value": "104233", "timestamp": None}],
    "responses": [{"text": "Order 104233 shipped.", "buttons": [], "custom": {}}],
}
INVALID = [
    {"events": "not a list", "responses": []},
    {"events": [{"no_event_key": 1}], "responses": []},
    {"events": [], "responses": "not a list"},
]


def outcome(action: RemoteAction, result: dict) -> str:
    try:
        return str(action._validate_action_result(result))
    except ValidationError as error:
        return f"error: {error.message}"


def test_same_verdicts_as_rasa():
    action = RemoteAction("action_x", EndpointConfig("http://127.0.0.1:1"))
    original = RemoteAction._validate_action_result
    expected = [outcome(action, r) for r in [VALID, *INVALID]]
    try:
        install_cached_action_validation()
        assert RemoteAction._validate_action_result is not original
        assert [outcome(action, r) for r in [VALID, *INVALID]] == expected
    finally:
        RemoteAction._validate_action_result = original
    assert expected[0] == "True"
    assert all(e.startswith("error:") and "Failed to validate" in e for e in expected[1:])


def test_rejections_raise_validation_errors():
    action = RemoteAction("action_x", EndpointConfig("http://127.0.0.1:1"))
    original = RemoteAction._validate_action_result
    try:
        install_cached_action_validation()
        with pytest.raises(ValidationError):
            action._validate_action_result(INVALID[0])
    finally:
        RemoteAction._validate_action_result = original
