"""All configuration, read from environment variables with defaults.

Nothing else in the project hard-codes a path, port or URL: it asks a `Settings` object.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@dataclass(frozen=True)
class Settings:
    """The one settings object. Build it with `Settings.from_env()` or pass values in tests."""

    project_root: Path = PROJECT_ROOT
    var_dir: Path = PROJECT_ROOT / "var"
    database_url: str = ""
    tracker_db_url: str = ""
    rasa_host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_port: int = 5055
    # The website (widget, staff console, manager dashboard).
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    # Where the browser reaches Rasa's socket.io channel (empty: same host as the page, rasa_port).
    public_rasa_url: str = ""
    # The shop page lets a visitor "log in as" a demo customer; off for a real shop.
    demo_login: bool = True
    # Failed staff logins allowed per name and address within login_window_seconds.
    max_login_attempts: int = 5
    login_window_seconds: int = 300
    policies_file: Path = PROJECT_ROOT / "data" / "policies.yml"
    # How many times the bot accepts a wrong order number before offering a person.
    max_order_lookup_failures: int = 2
    # How closely a typed product name must match a catalog name (0..1).
    product_match_threshold: float = 0.6
    # How many unusable answers to one survey question before the bot moves on.
    max_survey_failures: int = 2
    # Who is offered a follow-up by a person: detractors and unhappy customers.
    followup_nps_max: int = 6
    followup_csat_max: int = 2
    # How long a SQLite writer waits for a lock before giving up.
    sqlite_busy_timeout_ms: int = 5000
    # Messages a Rasa worker answers at once, the others in order of arrival (0: no limit);
    # the benchmark chose it (README, "Chat speed").
    messages_at_once: int = 4
    handoff_reply_hours: int = 4
    support_hours: str = "Monday to Friday, 8:00 to 20:00 CET"
    demo_seed: int = 20261123
    demo_today: str = ""
    # Signs role tokens. Empty: a random key kept in var/secret.key (made on first use).
    secret_key: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", _sqlite_url(self.var_dir / "supportbot.db"))
        if not self.tracker_db_url:
            object.__setattr__(self, "tracker_db_url", _sqlite_url(self.var_dir / "tracker.db"))

    @classmethod
    def from_env(cls) -> Settings:
        """Settings for this process, from `SUPPORTBOT_*`, `DATABASE_URL` and `TRACKER_DB_URL`."""
        var_dir = Path(_env("SUPPORTBOT_VAR_DIR", str(PROJECT_ROOT / "var")))
        return cls(
            var_dir=var_dir,
            database_url=_env("DATABASE_URL", _sqlite_url(var_dir / "supportbot.db")),
            tracker_db_url=_env("TRACKER_DB_URL", _sqlite_url(var_dir / "tracker.db")),
            rasa_host=_env("RASA_HOST", "127.0.0.1"),
            rasa_port=int(_env("RASA_PORT", "5005")),
            action_port=int(_env("ACTION_PORT", "5055")),
            web_host=_env("WEB_HOST", "127.0.0.1"),
            web_port=int(_env("WEB_PORT", "8080")),
            public_rasa_url=_env("SUPPORTBOT_PUBLIC_RASA_URL", ""),
            demo_login=_env("SUPPORTBOT_DEMO_LOGIN", "1") not in ("0", "false", "no"),
            max_login_attempts=int(_env("SUPPORTBOT_MAX_LOGIN_ATTEMPTS", "5")),
            login_window_seconds=int(_env("SUPPORTBOT_LOGIN_WINDOW_SECONDS", "300")),
            policies_file=Path(
                _env("SUPPORTBOT_POLICIES", str(PROJECT_ROOT / "data" / "policies.yml"))
            ),
            max_order_lookup_failures=int(_env("SUPPORTBOT_MAX_ORDER_LOOKUP_FAILURES", "2")),
            product_match_threshold=float(_env("SUPPORTBOT_PRODUCT_MATCH_THRESHOLD", "0.6")),
            handoff_reply_hours=int(_env("SUPPORTBOT_HANDOFF_REPLY_HOURS", "4")),
            max_survey_failures=int(_env("SUPPORTBOT_MAX_SURVEY_FAILURES", "2")),
            followup_nps_max=int(_env("SUPPORTBOT_FOLLOWUP_NPS_MAX", "6")),
            followup_csat_max=int(_env("SUPPORTBOT_FOLLOWUP_CSAT_MAX", "2")),
            sqlite_busy_timeout_ms=int(_env("SUPPORTBOT_SQLITE_BUSY_TIMEOUT_MS", "5000")),
            messages_at_once=int(_env("SUPPORTBOT_MESSAGES_AT_ONCE", "4")),
            demo_seed=int(_env("SUPPORTBOT_DEMO_SEED", "20261123")),
            demo_today=_env("SUPPORTBOT_DEMO_TODAY", ""),
            secret_key=_env("SUPPORTBOT_SECRET_KEY", ""),
        )

    @property
    def secret_key_file(self) -> Path:
        return self.var_dir / "secret.key"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.rasa_host}:{self.rasa_port}"

    @property
    def action_endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}/webhook"

    @property
    def models_dir(self) -> Path:
        return self.project_root / "models"
