"""The real product for the tests that need it: `supportbot serve` (the Rasa server, the
action server and the website) on free ports and temporary databases, started once per
pytest session and shared by tests/integration and tests/security (`running_bot`)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.auth.keys import ACTION_SECRET_HEADER, action_server_secret, rasa_api_token
from bot.settings import PROJECT_ROOT, Settings

MODEL = PROJECT_ROOT / "models" / "supportbot.tar.gz"
DEMO_TODAY = "2026-11-01"
NO_TOKEN = ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_json(url: str, payload: Any | None = None, timeout: float = 30) -> Any:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode() or "null")


def http(
    url: str,
    method: str = "GET",
    payload: Any | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, Any, dict[str, str]]:
    """Status, JSON body (or text, or None) and headers of one request; errors included."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw, got = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        status, raw, got = error.code, error.read(), dict(error.headers)
    text = raw.decode(errors="replace")
    try:
        body: Any = json.loads(text) if text else None
    except json.JSONDecodeError:
        body = text
    return status, body, got


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@dataclass
class RunningBot:
    rasa_url: str
    env: dict[str, str]
    var_dir: Path
    web_url: str = ""
    action_url: str = ""
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        """The settings the servers run with (their secrets live in var_dir)."""
        return Settings(var_dir=self.var_dir, web_port=int(self.env["WEB_PORT"]))

    @property
    def api_token(self) -> str:
        """The token of Rasa's HTTP API (`?token=`)."""
        return rasa_api_token(self.settings)

    @property
    def action_secret_header(self) -> dict[str, str]:
        return {ACTION_SECRET_HEADER: action_server_secret(self.settings)}

    def api(
        self,
        path: str,
        method: str = "GET",
        payload: Any | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """Status and body of one call to Rasa's HTTP API, with the API token unless `token`
        says otherwise (NO_TOKEN: none)."""
        token = self.api_token if token is None else token
        query = f"{'&' if '?' in path else '?'}{urllib.parse.urlencode({'token': token})}"
        status, body, _ = http(
            f"{self.rasa_url}{path}{query if token else ''}", method, payload, headers
        )
        return status, body

    def say(
        self, sender: str, message: str, metadata: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Send one message over the REST channel and return the bot's replies."""
        payload: dict[str, Any] = {"sender": sender, "message": message}
        if metadata:
            payload["metadata"] = metadata
        replies = http_json(f"{self.rasa_url}/webhooks/rest/webhook", payload)
        assert isinstance(replies, list)
        return replies

    def texts(self, sender: str, message: str, metadata: dict[str, Any] | None = None) -> str:
        return "\n".join(r.get("text", "") for r in self.say(sender, message, metadata))

    def as_owner_of(self, number: str) -> dict[str, Any]:
        """The metadata of a message from the order's customer, signed in (a chat token)."""
        import sqlite3

        with sqlite3.connect(self.var_dir / "supportbot.db") as db:
            (customer,) = db.execute(
                "SELECT customer_id FROM orders WHERE number = ?", (number,)
            ).fetchone()
        return {
            "token": self.cli("token", "--role", "customer", "--customer", str(customer))["token"]
        }

    def cli(self, *args: str) -> Any:
        output = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args, "--json"],
            cwd=PROJECT_ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return json.loads(output)


@pytest.fixture(scope="session")
def running_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    """Migrate and seed temporary databases, then start the servers with `supportbot serve`."""
    if not MODEL.exists():
        pytest.fail(f"No trained model at {MODEL}: run `make train` (make test does).")
    var_dir = tmp_path_factory.mktemp("var")
    rasa_port, action_port, web_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "SUPPORTBOT_VAR_DIR": str(var_dir),
        "SUPPORTBOT_DEMO_TODAY": DEMO_TODAY,
        "RASA_PORT": str(rasa_port),
        "ACTION_PORT": str(action_port),
        "WEB_PORT": str(web_port),
        # A locked app database fails fast in the tests that lock it on purpose.
        "SUPPORTBOT_SQLITE_BUSY_TIMEOUT_MS": "300",
        # No scheduled monitoring checks: an alert raised on the demo history would greet the
        # managers of the chat tests (tests/actions and tests/web test the alerts).
        "SUPPORTBOT_MONITOR_INTERVAL": "0",
    }
    for name in (
        "DATABASE_URL",
        "TRACKER_DB_URL",
        "RASA_AUTH_TOKEN",
        "ACTION_SERVER_SECRET",
        "SUPPORTBOT_SECRET_KEY",
        "SUPPORTBOT_CORS_ORIGINS",
        "ACTION_HOST",
        "RASA_HOST",
        "WEB_HOST",
    ):
        env.pop(name, None)
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "seed-demo", "--json"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    log = var_dir / "serve.log"
    bot = RunningBot(
        f"http://127.0.0.1:{rasa_port}",
        env,
        var_dir,
        web_url=f"http://127.0.0.1:{web_port}",
        action_url=f"http://127.0.0.1:{action_port}",
    )
    with log.open("ab") as sink:
        # The same command `make run` uses; it starts the servers and stops them on SIGTERM.
        bot.processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "serve"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    try:
        wait_until_up(f"{bot.action_url}/health", bot.processes[0], log, 120)
        wait_until_up(f"{bot.web_url}/healthz", bot.processes[0], log, 60)
        # serve made the API token before starting Rasa
        wait_until_up(f"{bot.rasa_url}/status?token={bot.api_token}", bot.processes[0], log, 300)
        yield bot
    finally:
        for process in bot.processes:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
