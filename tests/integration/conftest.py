"""The real product: the Rasa server and the action server, on free ports and temporary databases."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.settings import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "supportbot.tar.gz"
DEMO_TODAY = "2026-11-01"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_json(url: str, payload: Any | None = None, timeout: float = 30) -> Any:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode() or "null")


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
    processes: list[subprocess.Popen] = field(default_factory=list)

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

    def texts(self, sender: str, message: str) -> str:
        return "\n".join(r.get("text", "") for r in self.say(sender, message))

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
    """Migrate and seed temporary databases, then start both servers as `supportbot serve` does."""
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
    }
    env.pop("DATABASE_URL", None)
    env.pop("TRACKER_DB_URL", None)
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "seed-demo", "--json"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    log = var_dir / "serve.log"
    bot = RunningBot(
        f"http://127.0.0.1:{rasa_port}", env, var_dir, web_url=f"http://127.0.0.1:{web_port}"
    )
    with log.open("ab") as sink:
        # The same command `make run` uses; it starts both servers and stops them on SIGTERM.
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
        wait_until_up(f"http://127.0.0.1:{action_port}/health", bot.processes[0], log, 120)
        wait_until_up(f"{bot.rasa_url}/status", bot.processes[0], log, 300)
        wait_until_up(f"{bot.web_url}/healthz", bot.processes[0], log, 60)
        yield bot
    finally:
        for process in bot.processes:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
