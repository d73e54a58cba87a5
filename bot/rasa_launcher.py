"""Run Rasa's command line with one performance fix and the socket.io channel's fixes.

Performance: action results validated by a cached schema.

Rasa 3.6 checks every custom action's response with `jsonschema.validate()`, which first
validates the (constant) response schema itself against the JSON Schema meta-schema. That
costs about 120 ms per custom action on this hardware, more than everything else a message
needs. Here the schema is checked once and its validator reused: the same schema, the same
errors, minus the repeated meta-check.

The socket.io channel (the website's chat widget): see `bot.rasa_socketio`.

Usage: python -m bot.rasa_launcher <rasa arguments>   (`supportbot serve` does this)
"""

from __future__ import annotations

import sys
from typing import Any


def install_cached_action_validation() -> None:
    """Replace `RemoteAction._validate_action_result` by a cached-validator equivalent."""
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        error: ValidationError | None = best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def main() -> None:
    from bot.rasa_socketio import install_socketio_fixes

    install_cached_action_validation()
    install_socketio_fixes()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
