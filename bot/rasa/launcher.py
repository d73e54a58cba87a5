"""Run Rasa's command line with the per-message speed-ups and the socket.io channel's fixes.

Performance: see `bot.rasa.performance` (action results checked by a compiled schema,
event classes looked up in a table). The socket.io channel (the website's chat widget):
see `bot.rasa.socketio_fixes`.

The patches replace Rasa internals as Rasa 3.6.21 has them, so the launcher refuses any other
Rasa line (`check_rasa_version`): 3.6.21 and later 3.6 patch releases are accepted (a patch
release fixes bugs without moving internals around; 3.6.21 is the one the patches and their
tests were checked against), older 3.6 releases, 3.7 or later and pre-releases are not.

`SUPPORTBOT_RASA_SPEEDUPS=0` leaves out the speed-ups (stock Rasa's per-message work, no
messages-at-once limit); the socket.io fixes stay, because they are correctness, not speed.

Usage: python -m bot.rasa.launcher <rasa arguments>   (`supportbot serve` does this), e.g.
`run --enable-api ...`, `shell ...` or `test core --stories tests/conversations ...`.
"""

from __future__ import annotations

import re
import sys

# Replaced by `--auth-token <the API token from the settings>` inside this process, so that the
# token never appears on a command line (readable by every local user through `ps`).
API_TOKEN_FROM_SETTINGS = "--api-token-from-settings"
# The oldest Rasa the patches were checked against, and the line they belong to.
OLDEST_RASA = (3, 6, 21)
EXPECTED_RASA = "3.6.21 or a later 3.6 release"
# Exit status when the installed Rasa is not one the patches were written for.
WRONG_RASA_EXIT = 3


def check_rasa_version(installed: str) -> str | None:
    """Why the launcher refuses to patch Rasa `installed`, or None when it may."""
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", installed.strip())
    release = tuple(int(part) for part in match.groups()) if match else None
    if release is None or release[:2] != OLDEST_RASA[:2] or release < OLDEST_RASA:
        return (
            f"Rasa {installed} is installed, but this launcher's patches are written for "
            f"Rasa {EXPECTED_RASA}: install it (pip install 'rasa>=3.6.21,<3.7')."
        )
    return None


def _with_api_token(arguments: list[str]) -> list[str]:
    if API_TOKEN_FROM_SETTINGS not in arguments:
        return arguments
    from bot.auth.keys import rasa_api_token
    from bot.settings import Settings

    index = arguments.index(API_TOKEN_FROM_SETTINGS)
    token = rasa_api_token(Settings.from_env())
    return [*arguments[:index], "--auth-token", token, *arguments[index + 1 :]]


def install_fixes(speedups: bool) -> None:
    """Patch Rasa in this process: the socket.io fixes always, the speed-ups if `speedups`."""
    from bot.rasa.socketio_fixes import install_socketio_fixes

    if speedups:
        from bot.rasa.performance import install_performance_fixes

        install_performance_fixes()
    install_socketio_fixes()


def main() -> None:
    import rasa

    refusal = check_rasa_version(rasa.__version__)
    if refusal is not None:
        print(refusal, file=sys.stderr)
        sys.exit(WRONG_RASA_EXIT)
    from bot.settings import Settings

    install_fixes(speedups=Settings.from_env().rasa_speedups)
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *_with_api_token(sys.argv[1:])]
    rasa_main()


if __name__ == "__main__":
    main()
