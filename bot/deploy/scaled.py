"""The scaled profile: `supportbot serve --profile scaled`.

One machine runs the production topology on loopback, each part a process of its own:

    client ──▶ nginx :PUBLIC ──/socket.io/ (sticky)───────▶ Rasa replica 1 ──▶ action server 1
                  │         └─/webhooks/rest/webhook (rr)─▶ Rasa replica 2 ──▶ action server 2
                  └─ everything else ─▶ website                  │
                                       PostgreSQL (app DB, tracker store) · Redis (lock store)
                                       · RabbitMQ (event broker)

Each replica has its own action server (1:1): Rasa's action endpoint is one URL; the action
servers keep no state of their own (everything is in the app database), so a pair needs no
balancing between them, each action call (up to three a message) skips a proxy hop, and the
action server's secret never passes through nginx. nginx exposes only the public routes
(the two chat channels and the website); Rasa's HTTP API and the action servers listen on
loopback behind their token and secret.

Configuration: an environment file (`--env-file`, default `deploy/scaled.env`) gives the
defaults, variables set in the environment win. Besides the usual ones (`DATABASE_URL`,
`TRACKER_DB_URL`, `LOCK_STORE_URL`, `EVENT_BROKER_URL`, ...):

    SUPPORTBOT_REPLICAS        Rasa replicas (each with its action server), 2
    SUPPORTBOT_RASA_PORTS      their ports, space-separated (default RASA_PORT, RASA_PORT+1, ...)
    SUPPORTBOT_ACTION_PORTS    the action servers' ports (default ACTION_PORT, ACTION_PORT+1, ...)
    SUPPORTBOT_PUBLIC_PORT     nginx's port, 8000
    SUPPORTBOT_PUBLIC_HOST     the address nginx listens on, 127.0.0.1
    SUPPORTBOT_NGINX           the nginx binary (default: `nginx` on the PATH, or /usr/sbin/nginx)

Beside the replicas runs `supportbot consume-events`, which writes the conversation summaries
from the broker's queue (SUPPORTBOT_SUMMARIES_FROM=broker: the replicas write none). A process
that exits is started again while the others go on (`supervise`); each one's pid is in
var/run/scaled/.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bot.deploy.envfile import EnvFileError, merged, read_env_file
from bot.settings import PROJECT_ROOT, Settings

DEFAULT_ENV_FILE = PROJECT_ROOT / "deploy" / "scaled.env"
NGINX_TEMPLATE = PROJECT_ROOT / "deploy" / "nginx.conf.j2"
CHECK_TIMEOUT = 3.0  # seconds for each service's reachability check
# A process that exits is started again, unless it exited this often within the window:
# then it is failing to start, and the profile stops.
MAX_RESTARTS = 5
RESTART_WINDOW = 300.0


class TopologyError(Exception):
    """Why the scaled profile cannot start, with what to do about it."""


@dataclass(frozen=True)
class Topology:
    """The processes of one scaled run and where each listens."""

    settings: Settings
    environ: Mapping[str, str]
    rasa_ports: tuple[int, ...]
    action_ports: tuple[int, ...]
    public_host: str
    public_port: int
    nginx: str

    @property
    def replicas(self) -> int:
        return len(self.rasa_ports)

    @property
    def public_url(self) -> str:
        host = "127.0.0.1" if self.public_host in ("", "0.0.0.0", "::") else self.public_host
        return f"http://{host}:{self.public_port}"

    @property
    def log_dir(self) -> Path:
        return self.settings.var_dir / "logs" / "scaled"

    @property
    def pid_dir(self) -> Path:
        """Each process's pid file (`rasa-replica-1.pid`, ...), rewritten when it restarts."""
        return self.settings.var_dir / "run" / "scaled"

    @property
    def nginx_dir(self) -> Path:
        return self.settings.var_dir / "nginx"

    def replica_settings(self, index: int) -> Settings:
        """Replica `index`'s settings: its Rasa port, and its own action server's."""
        return dataclasses.replace(
            self.settings, rasa_port=self.rasa_ports[index], action_port=self.action_ports[index]
        )

    def replica_env(self, index: int) -> dict[str, str]:
        return {
            **self.environ,
            "RASA_PORT": str(self.rasa_ports[index]),
            "ACTION_PORT": str(self.action_ports[index]),
            "SUPPORTBOT_REPLICA": str(index + 1),
        }


def _ports(environ: Mapping[str, str], name: str, base: int, count: int) -> tuple[int, ...]:
    listed = environ.get(name, "").split()
    if not listed:
        return tuple(base + i for i in range(count))
    if len(listed) != count:
        raise TopologyError(f"{name} lists {len(listed)} ports for {count} replicas.")
    try:
        return tuple(int(port) for port in listed)
    except ValueError:
        raise TopologyError(f"{name} must list port numbers: {listed!r}") from None


def find_nginx(environ: Mapping[str, str]) -> str | None:
    configured = environ.get("SUPPORTBOT_NGINX")
    if configured:
        return configured if Path(configured).is_file() else None
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).is_file()), None
    )


def profile_environment(
    environ: Mapping[str, str], env_file: Path | None, replicas: int | None = None
) -> dict[str, str]:
    """The environment of the profile's processes: the file's defaults under `environ`, and the
    settings that follow from serving behind nginx where they are not set."""
    try:
        env = merged(read_env_file(env_file), environ) if env_file else dict(environ)
    except EnvFileError as error:
        raise TopologyError(str(error)) from None
    if replicas is not None:
        env["SUPPORTBOT_REPLICAS"] = str(replicas)
    public = env.setdefault("SUPPORTBOT_PUBLIC_PORT", "8000")
    host = env.get("SUPPORTBOT_PUBLIC_HOST") or "127.0.0.1"
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    # The widget's page and its socket.io channel share nginx's origin.
    env.setdefault("SUPPORTBOT_PUBLIC_RASA_URL", f"http://{shown}:{public}")
    if not env.get("SUPPORTBOT_CORS_ORIGINS"):
        origins = {
            f"http://localhost:{public}",
            f"http://127.0.0.1:{public}",
            f"http://{shown}:{public}",
        }
        env["SUPPORTBOT_CORS_ORIGINS"] = " ".join(sorted(origins))
    # nginx is ours: the client's address is the last one it appends.
    env.setdefault("SUPPORTBOT_TRUST_FORWARDED_FOR", "1")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    # The replicas leave the conversation summaries to the event consumer the profile runs.
    env.setdefault("SUPPORTBOT_SUMMARIES_FROM", "broker")
    return env


def plan(environ: Mapping[str, str]) -> Topology:
    """The topology `environ` describes (ports, replicas, nginx), without starting anything."""
    old = os.environ.copy()
    try:  # Settings read this process's environment
        os.environ.clear()
        os.environ.update(environ)
        settings = Settings.from_env()
    finally:
        os.environ.clear()
        os.environ.update(old)
    try:
        replicas = int(environ.get("SUPPORTBOT_REPLICAS") or 2)
        public_port = int(environ.get("SUPPORTBOT_PUBLIC_PORT") or 8000)
    except ValueError as error:
        raise TopologyError(f"SUPPORTBOT_REPLICAS / SUPPORTBOT_PUBLIC_PORT: {error}") from None
    if replicas < 1:
        raise TopologyError("SUPPORTBOT_REPLICAS must be at least 1.")
    return Topology(
        settings=settings,
        environ=dict(environ),
        rasa_ports=_ports(environ, "SUPPORTBOT_RASA_PORTS", settings.rasa_port, replicas),
        action_ports=_ports(environ, "SUPPORTBOT_ACTION_PORTS", settings.action_port, replicas),
        public_host=environ.get("SUPPORTBOT_PUBLIC_HOST") or "127.0.0.1",
        public_port=public_port,
        nginx=find_nginx(environ) or "",
    )


# --- what must be there before anything starts --------------------------------------------


def _check_postgres(name: str, url: str) -> str | None:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() != "postgresql":
        return (
            f"{name} is {shown}: the scaled profile keeps both databases on PostgreSQL, which "
            f"every replica reaches (e.g. {name}=postgresql://postgres@127.0.0.1:5432/supportbot)."
        )
    # The server, through its maintenance database: the profile creates ours when missing.
    server = parsed.set(database="postgres")
    engine = sa.create_engine(
        server, future=True, connect_args={"connect_timeout": int(CHECK_TIMEOUT)}
    )
    try:
        with engine.connect():
            return None
    except Exception as error:  # noqa: BLE001 - any failure to connect is reported as such
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return (
            f"PostgreSQL is not reachable for {name} ({shown}): {first}. Start PostgreSQL "
            "(Debian: apt-get install postgresql) or point "
            f"{name} at yours."
        )
    finally:
        engine.dispose()


def _check_redis(url: str | None) -> str | None:
    if not url:
        return (
            "LOCK_STORE_URL is not set: several Rasa replicas need Redis as their lock store "
            "(e.g. LOCK_STORE_URL=redis://127.0.0.1:6379/0)."
        )
    import redis

    try:
        client = redis.Redis.from_url(
            url, socket_timeout=CHECK_TIMEOUT, socket_connect_timeout=CHECK_TIMEOUT
        )
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, ValueError, OSError) as error:
        return (
            f"Redis is not reachable at LOCK_STORE_URL={url}: {error}. Start Redis "
            "(Debian: apt-get install redis-server) or point LOCK_STORE_URL at yours."
        )
    return None


def _check_rabbitmq(url: str | None) -> str | None:
    if not url:
        return (
            "EVENT_BROKER_URL is not set: the scaled profile publishes the conversations' "
            "events to RabbitMQ (e.g. EVENT_BROKER_URL=amqp://guest:guest@127.0.0.1:5672)."
        )
    import aio_pika

    async def connect() -> None:
        connection = await aio_pika.connect(url, timeout=CHECK_TIMEOUT)
        await connection.close()

    try:
        # on a thread of its own: the caller may be inside an event loop already
        with ThreadPoolExecutor(max_workers=1) as thread:
            thread.submit(asyncio.run, asyncio.wait_for(connect(), CHECK_TIMEOUT + 1)).result()
    except Exception as error:  # noqa: BLE001 - refused, timed out, wrong credentials...
        from sqlalchemy.engine import make_url

        shown = make_url(url).render_as_string(hide_password=True)
        reason = str(error) or type(error).__name__
        return (
            f"RabbitMQ is not reachable at EVENT_BROKER_URL={shown}: {reason}. Start RabbitMQ "
            "(Debian: apt-get install rabbitmq-server) or point EVENT_BROKER_URL at yours."
        )
    return None


def _check_nginx(topology: Topology) -> str | None:
    if topology.nginx:
        return None
    where = topology.environ.get("SUPPORTBOT_NGINX")
    if where:
        return f"SUPPORTBOT_NGINX={where} is not a file."
    return (
        "nginx is not installed: the scaled profile puts it in front of the replicas. Install "
        "Debian's package (as root: apt-get install nginx-light) or set SUPPORTBOT_NGINX to "
        "an nginx binary."
    )


def _port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _check_ports(topology: Topology) -> str | None:
    wanted = {
        **{port: f"Rasa replica {i + 1}" for i, port in enumerate(topology.rasa_ports)},
        **{port: f"action server {i + 1}" for i, port in enumerate(topology.action_ports)},
        topology.settings.web_port: "the website",
        topology.public_port: "nginx",
    }
    if len(wanted) < 2 * topology.replicas + 2:
        return (
            "Two processes of the topology were given the same port; check the *_PORT(S) variables."
        )
    busy = [f"{port} ({what})" for port, what in wanted.items() if _port_in_use(port)]
    if busy:
        return f"Ports already in use: {', '.join(busy)} (another `supportbot serve` running?)."
    return None


def check_services(topology: Topology) -> list[str]:
    """Everything missing for the profile, each with how to get it (empty: all there)."""
    env = topology.environ
    problems = [
        _check_postgres("DATABASE_URL", topology.settings.database_url),
        _check_postgres("TRACKER_DB_URL", topology.settings.tracker_db_url),
        _check_redis(env.get("LOCK_STORE_URL")),
        _check_rabbitmq(env.get("EVENT_BROKER_URL")),
        _check_nginx(topology),
        _check_ports(topology),
    ]
    return [p for p in problems if p]


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database of `url` when it does not exist; whether it did."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = sa.create_engine(
        parsed.set(database="postgres"),
        future=True,
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": int(CHECK_TIMEOUT)},
    )
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": parsed.database},
            ).first()
            if exists:
                return False
            quoted = connection.dialect.identifier_preparer.quote(parsed.database or "")
            connection.execute(sa.text(f"CREATE DATABASE {quoted}"))
            return True
    finally:
        admin.dispose()


# --- nginx -----------------------------------------------------------------------------------


def nginx_config(topology: Topology, read_timeout: float = 60) -> str:
    """nginx's configuration for the topology, from deploy/nginx.conf.j2."""
    import jinja2

    template = jinja2.Template(
        NGINX_TEMPLATE.read_text(encoding="utf-8"), keep_trailing_newline=True
    )
    temp_dir = topology.nginx_dir / "temp"
    return template.render(
        worker_processes=1,
        pid_file=topology.nginx_dir / "nginx.pid",
        error_log=topology.log_dir / "nginx-error.log",
        access_log=topology.log_dir / "nginx-access.log",
        temp_dir=temp_dir,
        rasa_ports=topology.rasa_ports,
        web_port=topology.settings.web_port,
        listen_host=topology.public_host,
        public_port=topology.public_port,
        read_timeout=int(read_timeout),
    )


def write_nginx_config(topology: Topology) -> Path:
    """Write the configuration under var/nginx/ and have nginx check it (`nginx -t`)."""
    topology.nginx_dir.mkdir(parents=True, exist_ok=True)
    (topology.nginx_dir / "temp").mkdir(exist_ok=True)
    topology.log_dir.mkdir(parents=True, exist_ok=True)
    path = topology.nginx_dir / "nginx.conf"
    path.write_text(nginx_config(topology), encoding="utf-8")
    check = subprocess.run(
        [*_nginx_argv(topology, path), "-t", "-q"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if check.returncode != 0:
        raise TopologyError(f"nginx refused {path}:\n{check.stderr.strip()}")
    return path


def _nginx_argv(topology: Topology, config: Path) -> list[str]:
    # -e: the error log before the configuration is read (not Debian's /var/log/nginx)
    return [
        topology.nginx,
        "-p",
        str(topology.nginx_dir),
        "-e",
        str(topology.log_dir / "nginx-error.log"),
        "-c",
        str(config),
    ]


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    probe: str  # the URL that answers once it is ready, or file:///path written when it is
    log: Path
    start: Callable[[], subprocess.Popen] | None = None  # starts it again
    pid_file: Path | None = None

    def write_pid(self) -> None:
        if self.pid_file is not None:
            self.pid_file.parent.mkdir(parents=True, exist_ok=True)
            self.pid_file.write_text(f"{self.popen.pid}\n", encoding="utf-8")


def _popen(argv: Sequence[str], env: Mapping[str, str], log: Path) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as sink:
        return subprocess.Popen(
            list(argv),
            cwd=PROJECT_ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


def _start(
    name: str, argv: Sequence[str], env: Mapping[str, str], log: Path, probe: str
) -> Process:
    return Process(name, _popen(argv, env, log), probe, log, start=lambda: _popen(argv, env, log))


def _ready(process: Process, deadline: float) -> bool:
    import urllib.error
    import urllib.request

    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            return False
        if process.probe.startswith("file://"):
            if Path(process.probe.removeprefix("file://")).exists():
                return True
            time.sleep(0.5)
            continue
        try:
            with urllib.request.urlopen(process.probe, timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    return False


def _stop(processes: Sequence[Process]) -> None:
    for process in reversed(processes):  # nginx first: no new requests while the rest stop
        if process.popen.poll() is None:
            process.popen.terminate()
    for process in processes:
        try:
            process.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.popen.kill()
            process.popen.wait(timeout=5)


HOW_TO_CHAT = """
Supportbot is running, scaled: {replicas} Rasa replica(s), each with its action server, behind nginx.
  Public address  {public}/   (shop, /staff, /manager, the widget's /socket.io/, REST /webhooks/rest/webhook)
  Rasa replicas   {rasa}   (loopback; HTTP API with ?token= from {api_token})
  Action servers  {actions}   (loopback, for their replica only)
  Website         {web}
  Databases       app {database}, tracker {tracker}
  Lock store      {lock}    Event broker {broker} (queue {queue}, read by the event consumer)
  Logs            {logs}
Stop with Ctrl+C.
"""


def serve_scaled(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> int:
    """Check the services, migrate, start the topology and keep it running until stopped."""
    from bot.cli import (
        _make_secrets,
        _rasa_model,
        _safe_url,
        start_action_server,
        start_rasa_server,
        start_web_server,
    )
    from bot.runtime import write_endpoints
    from bot.storage.migrate import upgrade

    env_file = Path(args.env_file) if args.env_file else DEFAULT_ENV_FILE
    try:
        env = profile_environment(
            os.environ if environ is None else environ, env_file, args.replicas
        )
        topology = plan(env)
    except TopologyError as error:
        print(f"Cannot start the scaled profile: {error}", file=sys.stderr)
        return 1
    settings = topology.settings
    if not _rasa_model(settings).exists():
        print(
            f"No trained model at {_rasa_model(settings)}: run `make train` first.", file=sys.stderr
        )
        return 1
    print(f"Checking PostgreSQL, Redis, RabbitMQ and nginx (settings from {env_file})…")
    problems = check_services(topology)
    if problems:
        print("Cannot start the scaled profile:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    os.environ.update(env)  # this process writes the endpoints and secrets from it
    for url in (settings.database_url, settings.tracker_db_url):
        if ensure_database(url):
            print(f"Created the database {_safe_url(url)}.")
    upgrade(settings.database_url)
    print(f"Migrated the app database {_safe_url(settings.database_url)}.")
    try:
        nginx_conf = write_nginx_config(topology)
    except TopologyError as error:
        print(error, file=sys.stderr)
        return 1
    api_token = _make_secrets(settings)
    processes: list[Process] = []

    def shutdown(signum: int, _frame: object) -> None:
        _stop(processes)
        sys.exit(0)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    logs = topology.log_dir
    pids = topology.pid_dir
    try:
        # First to start and last to stop: it declares the queue and takes the last events.
        ready_file = pids / "event-consumer.ready"
        ready_file.unlink(missing_ok=True)
        consumer_argv = [
            sys.executable,
            "-m",
            "bot.cli",
            "consume-events",
            "--ready-file",
            str(ready_file),
        ]
        processes.append(
            _start(
                "event consumer",
                consumer_argv,
                env,
                logs / "event-consumer.log",
                f"file://{ready_file}",
            )
        )
        processes[-1].pid_file = pids / "event-consumer.pid"
        for i in range(topology.replicas):
            replica = topology.replica_settings(i)
            replica_env = topology.replica_env(i)
            replica_logs = logs / f"replica-{i + 1}"
            replica_logs.mkdir(parents=True, exist_ok=True)
            endpoints = write_endpoints(
                replica, settings.var_dir / f"endpoints-replica-{i + 1}.yml"
            )

            def action_server(
                replica: Settings = replica,
                env: dict[str, str] = replica_env,
                log: Path = replica_logs,
            ) -> subprocess.Popen:
                return start_action_server(replica, log, env=env)

            def rasa_server(
                replica: Settings = replica,
                endpoints: Path = endpoints,
                env: dict[str, str] = replica_env,
                log: Path = replica_logs,
            ) -> subprocess.Popen:
                return start_rasa_server(replica, endpoints, log, env=env)

            processes.append(
                Process(
                    f"action server {i + 1}",
                    action_server(),
                    f"http://127.0.0.1:{replica.action_port}/health",
                    replica_logs / "action-server.log",
                    start=action_server,
                    pid_file=pids / f"action-server-{i + 1}.pid",
                )
            )
            processes.append(
                Process(
                    f"Rasa replica {i + 1}",
                    rasa_server(),
                    f"http://127.0.0.1:{replica.rasa_port}/status?token={api_token}",
                    replica_logs / "rasa-server.log",
                    start=rasa_server,
                    pid_file=pids / f"rasa-replica-{i + 1}.pid",
                )
            )

        def website() -> subprocess.Popen:
            return start_web_server(settings, logs, env=dict(env))

        processes.append(
            Process(
                "website",
                website(),
                f"http://127.0.0.1:{settings.web_port}/healthz",
                logs / "web.log",
                start=website,
                pid_file=pids / "website.pid",
            )
        )
        processes.append(
            _start(
                "nginx",
                _nginx_argv(topology, nginx_conf),
                env,
                logs / "nginx.log",
                f"{topology.public_url}/healthz",
            )
        )
        processes[-1].pid_file = pids / "nginx.pid"
        for process in processes:
            process.write_pid()
        print(
            f"Starting the event consumer, {topology.replicas} Rasa replica(s) with their action "
            "servers, the website and nginx (loading the model takes a while)…"
        )
        deadline = time.monotonic() + args.timeout
        for process in processes:
            if not _ready(process, deadline):
                state = "exited" if process.popen.poll() is not None else "did not answer"
                print(
                    f"The {process.name} {state} ({process.probe.split('?')[0]}); see {process.log}.",
                    file=sys.stderr,
                )
                _stop(processes)
                return 1
    except BaseException:
        _stop(processes)
        raise
    print(
        HOW_TO_CHAT.format(
            replicas=topology.replicas,
            public=topology.public_url,
            rasa=" ".join(f"http://127.0.0.1:{p}" for p in topology.rasa_ports),
            api_token="RASA_AUTH_TOKEN"
            if settings.rasa_auth_token
            else settings.rasa_auth_token_file,
            actions=" ".join(f"http://127.0.0.1:{p}" for p in topology.action_ports),
            web=f"http://127.0.0.1:{settings.web_port}",
            database=_safe_url(settings.database_url),
            tracker=_safe_url(settings.tracker_db_url),
            lock=env.get("LOCK_STORE_URL"),
            broker=_safe_url(env.get("EVENT_BROKER_URL", "")),
            queue=settings.event_broker_queue,
            logs=logs,
        ),
        flush=True,
    )
    return supervise(processes)


def supervise(processes: list[Process], poll: float = 1.0) -> int:
    """Start again each process that exits (a replica, an action server, the consumer...):
    the others go on serving meanwhile. One that exits `MAX_RESTARTS` times within
    `RESTART_WINDOW` s stops the profile."""
    restarts: dict[str, list[float]] = {}
    while True:
        time.sleep(poll)
        for process in processes:
            code = process.popen.poll()
            if code is None:
                continue
            now = time.monotonic()
            recent = [t for t in restarts.get(process.name, []) if now - t < RESTART_WINDOW]
            if process.start is None or len(recent) >= MAX_RESTARTS:
                print(
                    f"The {process.name} stopped (exit {code}) {len(recent) + 1} times within "
                    f"{RESTART_WINDOW:.0f} s; stopping the others. See {process.log}.",
                    file=sys.stderr,
                    flush=True,
                )
                _stop(processes)
                return 1
            restarts[process.name] = [*recent, now]
            print(
                f"The {process.name} stopped (exit {code}); starting it again. See {process.log}.",
                file=sys.stderr,
                flush=True,
            )
            process.popen = process.start()
            process.write_pid()


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """`supportbot serve`'s options for choosing a profile."""
    parser.add_argument(
        "--profile",
        choices=["embedded", "scaled"],
        default="embedded",
        help="embedded: one of each process on SQLite (default); scaled: Rasa replicas with "
        "their action servers behind nginx, on PostgreSQL, Redis and RabbitMQ",
    )
    parser.add_argument(
        "--env-file",
        help=f"scaled: the environment file (default {DEFAULT_ENV_FILE.relative_to(PROJECT_ROOT)}); "
        "variables set in the environment win",
    )
    parser.add_argument(
        "--replicas", type=int, help="scaled: Rasa replicas (default SUPPORTBOT_REPLICAS, 2)"
    )


def prepare(environ: Mapping[str, str], env_file: Path) -> int:
    """Create the profile's PostgreSQL databases when missing and migrate the app database
    (what `serve --profile scaled` does first), so that seed-demo can fill it beforehand."""
    from bot.cli import _safe_url
    from bot.storage.migrate import upgrade

    try:
        settings = plan(profile_environment(environ, env_file)).settings
    except TopologyError as error:
        print(error, file=sys.stderr)
        return 1
    for name, url in (
        ("DATABASE_URL", settings.database_url),
        ("TRACKER_DB_URL", settings.tracker_db_url),
    ):
        problem = _check_postgres(name, url)
        if problem:
            print(problem, file=sys.stderr)
            return 1
        if ensure_database(url):
            print(f"Created the database {_safe_url(url)}.")
    upgrade(settings.database_url)
    print(f"The app database {_safe_url(settings.database_url)} is migrated.")
    return 0


if __name__ == "__main__":
    # python -m bot.deploy.scaled prepare [ENV_FILE]
    if len(sys.argv) < 2 or sys.argv[1] != "prepare":
        print("usage: python -m bot.deploy.scaled prepare [ENV_FILE]", file=sys.stderr)
        sys.exit(2)
    sys.exit(prepare(os.environ, Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_ENV_FILE))
