"""The real product: the Rasa server, the action server and the website, on free ports and
temporary databases. The `running_bot` fixture lives in tests/servers.py (through
tests/conftest.py), so that tests/integration and tests/security share one set of servers."""

from tests.servers import DEMO_TODAY, MODEL, RunningBot, free_port, http_json, wait_until_up

__all__ = ["DEMO_TODAY", "MODEL", "RunningBot", "free_port", "http_json", "wait_until_up"]
