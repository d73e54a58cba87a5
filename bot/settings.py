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


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value not in ("0", "false", "no", "off")


# Who writes the conversation summaries (SUPPORTBOT_SUMMARIES_FROM).
SUMMARY_SOURCES = ("tracker_store", "broker")


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
    # The shop page lets a visitor "log in as" a demo customer: only where the demo shop was
    # seeded and this is asked for (SUPPORTBOT_DEMO_LOGIN=1); never for a real shop.
    demo_login: bool = False
    # Sign-in attempts allowed per client address, and per account, within login_window_seconds.
    max_login_attempts: int = 5
    max_login_attempts_per_account: int = 10
    login_window_seconds: int = 300
    # Mark the website's session cookie Secure (set it when the site is served over HTTPS).
    secure_cookies: bool = False
    # --- the Rasa server and the action server (see SECURITY.md) ---
    # Token for Rasa's HTTP API (`--auth-token`). Empty: a random one kept in var/rasa-api.token.
    rasa_auth_token: str = ""
    # Web origins that may call the Rasa server from a browser (CORS and socket.io). Empty: the
    # website's own address (http://localhost:<web_port> and http://127.0.0.1:<web_port>).
    cors_origins: tuple[str, ...] = ()
    # Where the action server listens (loopback unless the Rasa server runs elsewhere).
    action_host: str = "127.0.0.1"
    # Shared secret the Rasa server sends the action server. Empty: kept in var/action-server.secret.
    action_server_secret: str = ""
    # Longest customer message the channels pass on (longer ones are cut and the customer told).
    max_message_length: int = 2000
    # Read the client's address from X-Forwarded-For (only behind a reverse proxy you run).
    trust_forwarded_for: bool = False
    # Failed proofs that an order is the visitor's: per conversation, and per order number and
    # per client address within order_proof_window_seconds, across conversations.
    max_order_proof_failures: int = 3
    max_order_proof_failures_per_order: int = 5
    max_order_proof_failures_per_client: int = 10
    order_proof_window_seconds: int = 3600
    policies_file: Path = PROJECT_ROOT / "data" / "policies.yml"
    # The customer-experience experiments the bot runs (see data/experiments.yml).
    experiments_file: Path = PROJECT_ROOT / "data" / "experiments.yml"
    # How many times the bot accepts a wrong order number before offering a person.
    max_order_lookup_failures: int = 2
    # How closely a typed product name must match a catalog name (0..1).
    product_match_threshold: float = 0.6
    # /staff/nlu lists the customer messages the classifier gave less confidence than this.
    nlu_review_threshold: float = 0.5
    # How many unusable answers to one survey question before the bot moves on.
    max_survey_failures: int = 2
    # Who is offered a follow-up by a person: detractors and unhappy customers.
    followup_nps_max: int = 6
    followup_csat_max: int = 2
    # --- the metrics ---
    # Fewest answers behind an NPS or CSAT that is shown as a number; with fewer, the
    # dashboard, the chat, the report and the CLI say "too few answers (n = 7)".
    min_sample_size: int = 10
    # Seconds between the website's monitoring checks (`supportbot monitor` on a schedule);
    # 0 turns them off.
    monitor_interval_seconds: int = 900
    # How long a SQLite writer waits for a lock before giving up.
    sqlite_busy_timeout_ms: int = 5000
    # How long the servers wait for a database server that refuses connections (restarting)
    # before a message fails; 0: not at all. The scaled profile sets it (deploy/scaled.env).
    db_outage_wait_seconds: float = 0.0
    # Messages a Rasa worker answers at once, the others in order of arrival (0: no limit);
    # the benchmark chose it (README, "Chat speed").
    messages_at_once: int = 4
    # The launcher's speed-ups of Rasa's per-message work (`bot/rasa/performance.py`, with the
    # messages-at-once limit); off (SUPPORTBOT_RASA_SPEEDUPS=0) it runs stock Rasa with only the
    # channels and the socket.io fixes, which are correctness, not speed.
    rasa_speedups: bool = True
    # --- the conversation summaries of the metrics ---
    # Who writes them: "tracker_store" (the Rasa server, as it saves each chat; the embedded
    # default, no broker needed) or "broker" (`supportbot consume-events`, from the event
    # broker's queue; the scaled profile).
    summaries_from: str = "tracker_store"
    # RabbitMQ, which Rasa's Pika broker publishes every conversation event to (empty: none).
    event_broker_url: str = ""
    event_broker_queue: str = "supportbot_events"
    # The consumer's batches: at most this many events, gathered for at most this long.
    consumer_batch_size: int = 200
    consumer_batch_wait_seconds: float = 0.5
    # How long the consumer waits for an event it received to be in the tracker store
    # (Rasa publishes an event just before it stores it) before it summarises without it.
    consumer_settle_seconds: float = 30.0
    # How often the event consumer sweeps the tracker store for what the broker lost (0: never).
    consumer_sweep_seconds: float = 30.0
    handoff_reply_hours: int = 4
    support_hours: str = "Monday to Friday, 8:00 to 20:00 CET"
    demo_seed: int = 20261123
    demo_today: str = ""
    # Signs role tokens. Empty: a random key kept in var/secret.key (made on first use).
    secret_key: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.summaries_from not in SUMMARY_SOURCES:
            raise ValueError(
                f"SUPPORTBOT_SUMMARIES_FROM must be one of {', '.join(SUMMARY_SOURCES)}, "
                f"not {self.summaries_from!r}"
            )
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
            demo_login=_flag("SUPPORTBOT_DEMO_LOGIN"),
            max_login_attempts=int(_env("SUPPORTBOT_MAX_LOGIN_ATTEMPTS", "5")),
            max_login_attempts_per_account=int(
                _env("SUPPORTBOT_MAX_LOGIN_ATTEMPTS_PER_ACCOUNT", "10")
            ),
            login_window_seconds=int(_env("SUPPORTBOT_LOGIN_WINDOW_SECONDS", "300")),
            secure_cookies=_flag("SUPPORTBOT_SECURE_COOKIES"),
            rasa_auth_token=_env("RASA_AUTH_TOKEN", ""),
            cors_origins=tuple(_env("SUPPORTBOT_CORS_ORIGINS", "").split()),
            action_host=_env("ACTION_HOST", "127.0.0.1"),
            action_server_secret=_env("ACTION_SERVER_SECRET", ""),
            max_message_length=int(_env("SUPPORTBOT_MAX_MESSAGE_LENGTH", "2000")),
            trust_forwarded_for=_flag("SUPPORTBOT_TRUST_FORWARDED_FOR"),
            max_order_proof_failures=int(_env("SUPPORTBOT_MAX_ORDER_PROOF_FAILURES", "3")),
            max_order_proof_failures_per_order=int(
                _env("SUPPORTBOT_MAX_ORDER_PROOF_FAILURES_PER_ORDER", "5")
            ),
            max_order_proof_failures_per_client=int(
                _env("SUPPORTBOT_MAX_ORDER_PROOF_FAILURES_PER_CLIENT", "10")
            ),
            order_proof_window_seconds=int(_env("SUPPORTBOT_ORDER_PROOF_WINDOW_SECONDS", "3600")),
            experiments_file=Path(
                _env("SUPPORTBOT_EXPERIMENTS", str(PROJECT_ROOT / "data" / "experiments.yml"))
            ),
            policies_file=Path(
                _env("SUPPORTBOT_POLICIES", str(PROJECT_ROOT / "data" / "policies.yml"))
            ),
            max_order_lookup_failures=int(_env("SUPPORTBOT_MAX_ORDER_LOOKUP_FAILURES", "2")),
            product_match_threshold=float(_env("SUPPORTBOT_PRODUCT_MATCH_THRESHOLD", "0.6")),
            nlu_review_threshold=float(_env("SUPPORTBOT_NLU_REVIEW_THRESHOLD", "0.5")),
            handoff_reply_hours=int(_env("SUPPORTBOT_HANDOFF_REPLY_HOURS", "4")),
            max_survey_failures=int(_env("SUPPORTBOT_MAX_SURVEY_FAILURES", "2")),
            followup_nps_max=int(_env("SUPPORTBOT_FOLLOWUP_NPS_MAX", "6")),
            followup_csat_max=int(_env("SUPPORTBOT_FOLLOWUP_CSAT_MAX", "2")),
            min_sample_size=int(_env("SUPPORTBOT_MIN_SAMPLE_SIZE", "10")),
            monitor_interval_seconds=int(_env("SUPPORTBOT_MONITOR_INTERVAL", "900")),
            sqlite_busy_timeout_ms=int(_env("SUPPORTBOT_SQLITE_BUSY_TIMEOUT_MS", "5000")),
            db_outage_wait_seconds=float(_env("SUPPORTBOT_DB_OUTAGE_WAIT", "0")),
            messages_at_once=int(_env("SUPPORTBOT_MESSAGES_AT_ONCE", "4")),
            rasa_speedups=_flag("SUPPORTBOT_RASA_SPEEDUPS", default=True),
            summaries_from=_env("SUPPORTBOT_SUMMARIES_FROM", "tracker_store").strip().lower(),
            event_broker_url=_env("EVENT_BROKER_URL", ""),
            event_broker_queue=_env("EVENT_BROKER_QUEUE", "supportbot_events"),
            consumer_batch_size=int(_env("SUPPORTBOT_CONSUMER_BATCH_SIZE", "200")),
            consumer_batch_wait_seconds=float(_env("SUPPORTBOT_CONSUMER_BATCH_WAIT", "0.5")),
            consumer_settle_seconds=float(_env("SUPPORTBOT_CONSUMER_SETTLE_SECONDS", "30")),
            consumer_sweep_seconds=float(_env("SUPPORTBOT_CONSUMER_SWEEP_SECONDS", "30")),
            demo_seed=int(_env("SUPPORTBOT_DEMO_SEED", "20261123")),
            demo_today=_env("SUPPORTBOT_DEMO_TODAY", ""),
            secret_key=_env("SUPPORTBOT_SECRET_KEY", ""),
        )

    @property
    def secret_key_file(self) -> Path:
        return self.var_dir / "secret.key"

    @property
    def rasa_auth_token_file(self) -> Path:
        return self.var_dir / "rasa-api.token"

    @property
    def action_server_secret_file(self) -> Path:
        return self.var_dir / "action-server.secret"

    @property
    def allowed_origins(self) -> tuple[str, ...]:
        """The web origins that may call the Rasa server from a browser."""
        if self.cors_origins:
            return self.cors_origins
        origins = [f"http://localhost:{self.web_port}", f"http://127.0.0.1:{self.web_port}"]
        if self.web_host not in ("", "0.0.0.0", "::", "127.0.0.1", "localhost"):
            origins.append(f"http://{self.web_host}:{self.web_port}")
        return tuple(origins)

    @property
    def rasa_url(self) -> str:
        return f"http://{self.rasa_host}:{self.rasa_port}"

    @property
    def action_endpoint_url(self) -> str:
        host = self.action_host if self.action_host not in ("", "0.0.0.0", "::") else "127.0.0.1"
        return f"http://{host}:{self.action_port}/webhook"

    @property
    def models_dir(self) -> Path:
        return self.project_root / "models"
