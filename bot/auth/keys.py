"""The project's secrets: from the settings, or random ones kept under var/ (made on first use).

- the signing key of role tokens (`SUPPORTBOT_SECRET_KEY`, var/secret.key);
- the token of Rasa's HTTP API (`RASA_AUTH_TOKEN`, var/rasa-api.token), which the project's
  own tools send as `?token=` and the Rasa server checks (`rasa run --auth-token`);
- the secret the Rasa server sends the action server (`ACTION_SERVER_SECRET`,
  var/action-server.secret) in the `ACTION_SECRET_HEADER` header.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from bot.settings import Settings

ACTION_SECRET_HEADER = "X-Supportbot-Action-Secret"


def load_or_create_key(path: Path) -> str:
    """The secret kept in `path`, created (random, 256 bits, readable by the owner only) on first use."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:  # several processes may start at once: the first to create the file wins
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # the winner may not have written it yet
            existing = path.read_text(encoding="utf-8").strip()
            if existing:
                return existing
            time.sleep(0.02)
        raise RuntimeError(f"{path} is empty: delete it to make a new secret") from None
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(key)
    return key


def signing_key(settings: Settings) -> str:
    return settings.secret_key or load_or_create_key(settings.secret_key_file)


def rasa_api_token(settings: Settings) -> str:
    return settings.rasa_auth_token or load_or_create_key(settings.rasa_auth_token_file)


def action_server_secret(settings: Settings) -> str:
    return settings.action_server_secret or load_or_create_key(settings.action_server_secret_file)
