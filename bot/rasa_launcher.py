"""Run Rasa's command line with the per-message fixes and the socket.io channel's fixes.

Performance: see `bot.rasa_performance` (action results checked by a compiled schema,
event classes looked up in a table). The socket.io channel (the website's chat widget):
see `bot.rasa_socketio`.

Usage: python -m bot.rasa_launcher <rasa arguments>   (`supportbot serve` does this)
"""

from __future__ import annotations

import sys


def main() -> None:
    from bot.rasa_performance import install_performance_fixes
    from bot.rasa_socketio import install_socketio_fixes

    install_performance_fixes()
    install_socketio_fixes()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
