"""The security tests use the website's fixtures (tests/web) and the running servers (tests/servers.py)."""

from tests.web.conftest import web_services  # noqa: F401 - the website's services on the test database
