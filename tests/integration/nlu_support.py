"""The environment and commands for running `supportbot` on a test's own var folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.settings import PROJECT_ROOT

_THEIRS = (
    "DATABASE_URL",
    "TRACKER_DB_URL",
    "SUPPORTBOT_SECRET_KEY",
    "SUPPORTBOT_NLU_REVIEW_THRESHOLD",
    "WEB_HOST",
)


def supportbot_env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "SUPPORTBOT_VAR_DIR": str(var_dir), "SUPPORTBOT_MONITOR_INTERVAL": "0"}
    for name in _THEIRS:
        env.pop(name, None)
    env.update(extra)
    return env


def supportbot(env: dict[str, str], *args: str, stdin: str | None = None) -> Any:
    """Run `supportbot ARGS --json`; its output, parsed."""
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args, "--json"],
        cwd=PROJECT_ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(done.stdout)
