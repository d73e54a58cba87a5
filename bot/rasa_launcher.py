"""Run Rasa's command line with the per-message fixes and the socket.io channel's fixes.

Performance: see `bot.rasa_performance` (action results checked by a compiled schema,
event classes looked up in a table). The socket.io channel (the website's chat widget):
see `bot.rasa_socketio`.

Usage: python -m bot.rasa_launcher <rasa arguments>   (`supportbot serve` does this)
"""

from __future__ import annotations

import sys

# Replaced by `--auth-token <the API token from the settings>` inside this process, so that the
# token never appears on a command line (readable by every local user through `ps`).
API_TOKEN_FROM_SETTINGS = "--api-token-from-settings"


def _with_api_token(arguments: list[str]) -> list[str]:
    if API_TOKEN_FROM_SETTINGS not in arguments:
        return arguments
    from bot.auth.keys import rasa_api_token
    from bot.settings import Settings

    index = arguments.index(API_TOKEN_FROM_SETTINGS)
    token = rasa_api_token(Settings.from_env())
    return [*arguments[:index], "--auth-token", token, *arguments[index + 1 :]]


def main() -> None:
    from bot.rasa_performance import install_performance_fixes
    from bot.rasa_socketio import install_socketio_fixes

    install_performance_fixes()
    install_socketio_fixes()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *_with_api_token(sys.argv[1:])]
    rasa_main()


if __name__ == "__main__":
    main()
