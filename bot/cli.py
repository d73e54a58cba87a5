"""The `supportbot` command."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from bot.rasa.launcher import API_TOKEN_FROM_SETTINGS
from bot.recommender import MODEL_NAMES
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.bootstrap import Services


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, default=str))


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from bot.storage.migrate import current_revision, upgrade

    upgrade(settings.database_url)
    revision = current_revision(settings.database_url)
    if args.json:
        _print_json({"database": _safe_url(settings.database_url), "revision": revision})
    else:
        print(f"App database {_safe_url(settings.database_url)} is at revision {revision}.")
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _progress_printer(quiet: bool):  # type: ignore[no-untyped-def]
    last: dict[str, int] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if quiet:
            return
        percent = int(100 * done / total) if total else 100
        if last.get(stage) == percent:
            return
        last[stage] = percent
        end = "\n" if done >= total else "\r"
        print(f"  {stage:<12} {done:>6}/{total:<6} {percent:3d}%", end=end, flush=True)

    return progress


@contextmanager
def _services(settings: Settings) -> Iterator[Services]:
    """The app's services for one command, closed afterwards."""
    from bot.bootstrap import bootstrap

    services = bootstrap(settings)
    try:
        yield services
    finally:
        services.close()


def _sample_orders(settings: Settings, per_status: int) -> dict[str, list[str]]:
    from bot.demo.seed import sample_orders
    from bot.storage.session import session_scope

    with _services(settings) as services, session_scope(services.session_factory) as session:
        return sample_orders(session, per_status=per_status)


def cmd_seed_demo(settings: Settings, args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from bot.demo.experiments import seed_experiments
    from bot.demo.history import seed_history
    from bot.demo.seed import seed_demo
    from bot.storage.migrate import upgrade

    upgrade(settings.database_url)
    with _services(settings) as services:
        started = time.perf_counter()
        summary = seed_demo(
            services.session_factory, settings, progress=_progress_printer(args.json)
        )
        elapsed = time.perf_counter() - started
        history = seed_history(
            services.session_factory, settings, progress=_progress_printer(args.json)
        )
        history_elapsed = time.perf_counter() - started - elapsed
        experiments = seed_experiments(
            services.session_factory,
            settings,
            services.experiments(),
            progress=_progress_printer(args.json),
        )
    if args.json:
        _print_json(
            {
                **asdict(summary),
                "seconds": round(elapsed, 2),
                "history": {**asdict(history), "seconds": round(history_elapsed, 2)},
                "experiments": asdict(experiments),
            }
        )
        return 0
    if summary.already_seeded:
        print("The demo shop is already in the database; nothing to do.")
    else:
        print(
            f"Seeded the demo shop in {elapsed:.1f} s: {summary.products} products, "
            f"{summary.customers} customers, {summary.orders} orders."
        )
    if not history.already_seeded:
        print(
            f"Seeded a year of support history in {history_elapsed:.1f} s: "
            f"{history.conversations:,} conversations, {history.surveys:,} surveys "
            f"({history.answered:,} answered), {history.tickets:,} hand-off tickets."
        )
    added = {name: n for name, n in experiments.exposures.items() if n}
    if added:
        listed = ", ".join(f"{name} {n:,}" for name, n in added.items())
        print(f"Recorded the demo's experiment exposures: {listed}.")
    if experiments.decision_recorded:
        print("Recorded the decision on reply-tone (supportbot experiments show reply-tone).")
    for name, why in experiments.skipped.items():
        print(f"No demo exposures for {name}: it {why}.")
    return 0


def cmd_demo_orders(settings: Settings, args: argparse.Namespace) -> int:
    samples = _sample_orders(settings, args.per_status)
    if args.json:
        _print_json(samples)
    else:
        print("Orders to try in a chat:")
        for status, numbers in samples.items():
            print(f"  {status:<11} {', '.join(numbers)}")
    return 0


def _an_order_to_try(settings: Settings) -> str:
    shipped = _sample_orders(settings, 1).get("shipped") or ["104233"]
    return shipped[0]


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    from bot.auth.tokens import mint

    with _services(settings) as services:
        token = mint(
            services.signing_key(),
            args.role,
            customer_id=args.customer,
            name=args.name,
            audience=args.audience,
        )
    if args.json:
        _print_json(
            {
                "token": token,
                "role": args.role,
                "customer": args.customer,
                "audience": args.audience,
            }
        )
    else:
        print(token)
    return 0


DEMO_LOGIN_WARNING = """
!!! WARNING: the demo login is ON (SUPPORTBOT_DEMO_LOGIN). Where this database holds the demo
!!! shop (supportbot seed-demo), anyone who can open the shop page can pick "Log in as" and
!!! chat as any customer: see their orders, cancel them, open returns. Only for a demo on
!!! your own machine; never for a real shop or a public address.
"""


def warn_if_demo_login(settings: Settings) -> None:
    """Say loudly on stderr that anyone may speak for a demo customer, when that is on."""
    if settings.demo_login:
        print(DEMO_LOGIN_WARNING, file=sys.stderr)


def cmd_train_recommender(settings: Settings, args: argparse.Namespace) -> int:
    from bot.recommender import DEFAULT_MODEL
    from bot.recommender.shop import model_files, model_folder, train_shop

    folder = model_folder(settings)
    wanted = list(dict.fromkeys(args.model or [DEFAULT_MODEL]))
    if args.if_missing:
        present = [name for name in wanted if model_files(folder, name)]
        for name in present:
            if not args.json:
                print(f"A {name} recommender model is already in {folder}; not retrained.")
        wanted = [name for name in wanted if name not in present]
    trained = []
    with _services(settings) as services:
        for name in wanted:
            trained.append(
                train_shop(
                    services.session_factory,
                    folder,
                    model_name=name,
                    progress=_progress_printer(args.json),
                )
            )
    if args.json:
        rows = [{"path": str(r.path), **r.summary} for r in trained]
        if len(args.model or []) > 1:
            _print_json(rows)
        elif rows:  # one model asked for: one object (nothing when it was not retrained)
            _print_json(rows[0])
        return 0
    for recommender in trained:
        summary = recommender.summary
        print(
            f"Trained {summary['model']} on {summary['interactions']} purchases of "
            f"{summary['customers_with_purchases']} customers in {summary['seconds']} s: "
            f"{recommender.path}"
        )
    return 0


def cmd_eval_recommender(settings: Settings, args: argparse.Namespace) -> int:
    from bot.recommender.evaluation import format_table, run_evaluation

    rows = run_evaluation(args.dataset, progress=_progress_printer(args.json))
    if args.json:
        _print_json(rows)
    else:
        print(format_table(rows))
    return 0


def cmd_endpoints(settings: Settings, args: argparse.Namespace) -> int:
    from bot.runtime import write_endpoints

    path = write_endpoints(settings, Path(args.out) if args.out else None)
    print(path)
    return 0


def cmd_backfill_surveys(settings: Settings, args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from bot.storage.session import create_db_engine
    from bot.survey.backfill import backfill_surveys

    tracker_engine = create_db_engine(settings.tracker_db_url)
    try:
        with _services(settings) as services:
            result = backfill_surveys(
                tracker_engine, services.session_factory, services.now, services.signing_key()
            )
    finally:
        tracker_engine.dispose()
    if args.json:
        _print_json(asdict(result))
    else:
        print(
            f"Read {result.conversations} conversations: {result.surveys} surveys, "
            f"{result.created} rebuilt, {result.already_stored} already stored."
        )
    return 0


def cmd_backfill_conversations(settings: Settings, args: argparse.Namespace) -> int:
    from bot.storage.session import create_db_engine
    from bot.transcripts.backfill import backfill_conversations

    tracker_engine = create_db_engine(settings.tracker_db_url)
    try:
        with _services(settings) as services:
            result = backfill_conversations(
                tracker_engine, services.session_factory, services.signing_key()
            )
    finally:
        tracker_engine.dispose()
    if args.json:
        _print_json({"conversations": result.conversations, "sessions": result.sessions})
    else:
        print(f"Read {result.conversations} conversations: {result.sessions} sessions summarised.")
    return 0


def cmd_metrics(settings: Settings, args: argparse.Namespace) -> int:
    from bot.metrics.cli_output import metrics_json, metrics_text
    from bot.metrics.periods import parse_period
    from bot.metrics.queries import Cut
    from bot.storage.session import session_scope

    with _services(settings) as services:
        period = parse_period(args.period, services.now().date())
        if period is None:
            print(f"Sorry, I don't understand the period {args.period!r}.", file=sys.stderr)
            return 2
        cut = Cut(topic=args.topic, channel=args.channel, variant=args.variant)
        with session_scope(services.session_factory) as session:
            min_n = settings.min_sample_size
            if args.json:
                _print_json(metrics_json(session, period, cut, args.by, min_n))
            else:
                print(metrics_text(session, period, cut, args.by, min_n))
    return 0


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    from bot.metrics.report import write_report
    from bot.storage.session import session_scope

    if args.months < 1:
        print("--months must be at least 1.", file=sys.stderr)
        return 2
    with _services(settings) as services, session_scope(services.session_factory) as session:
        path = write_report(
            session,
            Path(args.out),
            services.now(),
            months=args.months,
            min_n=settings.min_sample_size,
        )
    if args.json:
        _print_json({"report": str(path)})
    else:
        print(f"Wrote the report to {path}.")
    return 0


def _wait_for(
    url: str, process: subprocess.Popen, timeout: float, token: str | None = None
) -> bool:
    """Whether `url` answered 200 within `timeout` s (`token`: Rasa's API token, `?token=`)."""
    if token:
        url = f"{url}?{urllib.parse.urlencode({'token': token})}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    return False


def _rasa_model(settings: Settings) -> Path:
    return settings.models_dir / "supportbot.tar.gz"


def _make_secrets(settings: Settings) -> str:
    """Create the secrets the processes share before any starts; returns Rasa's API token."""
    from bot.auth.keys import action_server_secret, rasa_api_token, signing_key

    signing_key(settings)
    action_server_secret(settings)
    return rasa_api_token(settings)


def start_action_server(
    settings: Settings, log_dir: Path, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """The action server (`bot.rasa.action_server`) on settings.action_host:action_port."""
    log = (log_dir / "action-server.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "bot.rasa.action_server", "--actions", "actions"],
        cwd=settings.project_root,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=os.environ.copy() if env is None else env,
    )


def start_rasa_server(
    settings: Settings, endpoints: Path, log_dir: Path, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """Rasa with its HTTP API behind the token and CORS for the website's origins only.

    The launcher adds the token itself (`--api-token-from-settings`), so that it is not on
    the command line where any local user could read it (`ps`).
    """
    log = (log_dir / "rasa-server.log").open("ab")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.rasa.launcher",
            "run",
            "--enable-api",
            API_TOKEN_FROM_SETTINGS,
            "--model",
            str(_rasa_model(settings)),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(settings.project_root / "credentials.yml"),
            "--interface",
            settings.rasa_host,
            "--port",
            str(settings.rasa_port),
            "--cors",
            *settings.allowed_origins,
        ],
        cwd=settings.project_root,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=os.environ.copy() if env is None else env,
    )


def start_web_server(
    settings: Settings, log_dir: Path, env: dict[str, str] | None = None
) -> subprocess.Popen:
    # The child keeps its own copy of the log's file descriptor; ours can close.
    with (log_dir / "web.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.web.app"],
            cwd=settings.project_root,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=os.environ.copy() if env is None else env,
        )


def _web_url(settings: Settings) -> str:
    """The website's address as a browser on this machine reaches it."""
    host = settings.web_host
    if host in ("127.0.0.1", "0.0.0.0", "::", "::1", "localhost", ""):
        host = "localhost"
    return f"http://{host}:{settings.web_port}"


def _action_probe_url(settings: Settings) -> str:
    """Where this machine reaches the action server it started."""
    return settings.action_endpoint_url.removesuffix("/webhook")


def _web_probe_url(settings: Settings) -> str:
    """Where this machine reaches the website it started (any address: the loopback one)."""
    host = settings.web_host if settings.web_host not in ("", "0.0.0.0", "::") else "127.0.0.1"
    return f"http://{host}:{settings.web_port}"


def _staff_accounts(settings: Settings) -> int | None:
    """How many website accounts there are (None when the database cannot tell yet)."""
    from sqlalchemy import func, select
    from sqlalchemy.exc import SQLAlchemyError

    from bot.storage.models import User
    from bot.storage.session import session_scope

    try:
        with _services(settings) as services, session_scope(services.session_factory) as session:
            return int(session.execute(select(func.count()).select_from(User)).scalar_one())
    except SQLAlchemyError:
        return None


def _stop(processes: Sequence[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


HOW_TO_CHAT = """
Supportbot is running.
  Shop (chat)    {web}/
  Staff console  {web}/staff
  Manager        {web}/manager
  Rasa server    {rasa}   (REST and socket.io channels; HTTP API with ?token= from {api_token})
  Action server  {actions}   (for the Rasa server only)
  Logs           {logs}

Chat over REST:
  curl -s -X POST {rasa}/webhooks/rest/webhook \\
       -H 'Content-Type: application/json' \\
       -d '{{"sender": "me", "message": "where is my order {order}?"}}'

Or chat in this terminal: make shell
Orders to try: supportbot demo-orders
Stop with Ctrl+C.
"""


def _database_not_ready(settings: Settings) -> str | None:
    """Why the app database cannot serve chats yet (not migrated), or None when it can."""
    from bot.storage.migrate import current_revision, head_revision

    url = _safe_url(settings.database_url)
    try:
        current = current_revision(settings.database_url)
    except Exception as error:  # noqa: BLE001 - any failure to connect is reported as such
        return f"Cannot open the app database {url}: {error}"
    if current != head_revision():
        return (
            f"The app database {url} is not set up (schema {current or 'empty'}): run "
            "`supportbot migrate` and `supportbot seed-demo` first (`make run` does both)."
        )
    return None


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from bot.runtime import write_endpoints

    if args.profile == "scaled":  # replicas behind nginx: bot/deploy/scaled.py
        from bot.deploy.scaled import serve_scaled

        return serve_scaled(args)

    if not _rasa_model(settings).exists():
        print(
            f"No trained model at {_rasa_model(settings)}: run `make train` first.", file=sys.stderr
        )
        return 1
    unready = _database_not_ready(settings)
    if unready:
        print(unready, file=sys.stderr)
        return 1
    workers = os.environ.get("SANIC_WORKERS", "1").strip()
    if workers not in ("", "1") and not os.environ.get("LOCK_STORE_URL"):
        print(
            f"SANIC_WORKERS={workers} needs LOCK_STORE_URL (Redis, Rasa's lock store for several "
            "workers); without it Rasa runs one worker.",
            file=sys.stderr,
        )
    warn_if_demo_login(settings)
    log_dir = settings.var_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    api_token = _make_secrets(settings)  # before the processes start, so that all agree
    endpoints = write_endpoints(settings)
    processes: list[subprocess.Popen] = []

    def shutdown(signum: int, _frame: object) -> None:
        _stop(processes)
        sys.exit(0)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    actions = start_action_server(settings, log_dir)
    processes.append(actions)
    rasa = start_rasa_server(settings, endpoints, log_dir)
    processes.append(rasa)
    website = start_web_server(settings, log_dir)
    processes.append(website)
    print(
        "Starting the action server, the Rasa server and the website "
        "(loading the model takes a while)…"
    )
    ready = (
        _wait_for(f"{_action_probe_url(settings)}/health", actions, 120)
        and _wait_for(f"{_web_probe_url(settings)}/healthz", website, 60)
        and _wait_for(f"{settings.rasa_url}/status", rasa, args.timeout, token=api_token)
    )
    if not ready:
        print(f"The servers did not start; see the logs in {log_dir}.", file=sys.stderr)
        _stop(processes)
        return 1
    print(
        HOW_TO_CHAT.format(
            web=_web_url(settings),
            rasa=settings.rasa_url,
            api_token="RASA_AUTH_TOKEN" if settings.rasa_auth_token else settings.rasa_auth_token_file,
            actions=_action_probe_url(settings),
            logs=log_dir,
            order=_an_order_to_try(settings),
        )
    )
    if _staff_accounts(settings) == 0:
        print("No staff accounts yet: supportbot user add NAME --role manager\n")
    while all(p.poll() is None for p in processes):
        time.sleep(1)
    failed = [p for p in processes if p.poll() is not None]
    print(f"A server stopped (exit {failed[0].returncode}); see {log_dir}.", file=sys.stderr)
    _stop(processes)
    return 1


def cmd_shell(settings: Settings, args: argparse.Namespace) -> int:
    from bot.runtime import write_endpoints

    log_dir = settings.var_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    _make_secrets(settings)
    endpoints = write_endpoints(settings)
    actions = start_action_server(settings, log_dir)
    try:
        if not _wait_for(f"{_action_probe_url(settings)}/health", actions, 120):
            print(f"The action server did not start; see {log_dir}.", file=sys.stderr)
            return 1
        return subprocess.call(
            [
                sys.executable,
                "-m",
                "bot.rasa.launcher",
                "shell",
                "--model",
                str(_rasa_model(settings)),
                "--endpoints",
                str(endpoints),
                "--interface",
                "127.0.0.1",
                "--port",
                str(args.port),
            ],
            cwd=settings.project_root,
        )
    finally:
        _stop([actions])


def cmd_web(settings: Settings, args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.web.app import create_app

    warn_if_demo_login(settings)
    print(f"The website: {_web_url(settings)}/ (staff: /staff, managers: /manager). Ctrl+C stops.")
    web.run_app(create_app(settings), host=settings.web_host, port=settings.web_port, print=None)
    return 0


def cmd_consume_events(settings: Settings, args: argparse.Namespace) -> int:
    import logging

    from bot.transcripts.event_consumer import consume_events

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("aiormq").setLevel(logging.WARNING)
    logging.getLogger("aio_pika").setLevel(logging.WARNING)
    return consume_events(settings, Path(args.ready_file) if args.ready_file else None)


def _read_password(args: argparse.Namespace) -> str | None:
    """The new password from stdin (one line) or typed twice at a hidden prompt."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("Password (at least 10 characters): ")
    if getpass.getpass("The same password again: ") != first:
        print("The two passwords differ; nothing changed.", file=sys.stderr)
        return None
    return first


def cmd_user_add(settings: Settings, args: argparse.Namespace) -> int:
    from bot.auth.users import UserError, UserRepository, check_new_password
    from bot.storage.session import session_scope

    password = _read_password(args)
    if password is None:
        return 2
    try:
        check_new_password(password)  # before opening the database: a typo costs nothing
        with _services(settings) as services, session_scope(services.session_factory) as session:
            account = UserRepository(session).add(args.name, args.role, password, services.now())
    except UserError as error:
        print(f"Cannot add the user: {error}.", file=sys.stderr)
        return 2
    if args.json:
        _print_json({"id": account.id, "name": account.name, "role": account.role})
    else:
        print(f"Added {account.name} ({account.role}); sign in at {_web_url(settings)}/staff/login")
    return 0


def cmd_user_list(settings: Settings, args: argparse.Namespace) -> int:
    from bot.auth.users import UserRepository
    from bot.storage.session import session_scope

    with _services(settings) as services, session_scope(services.session_factory) as session:
        accounts = UserRepository(session).all()
    if args.json:
        _print_json(
            [
                {
                    "name": a.name,
                    "role": a.role,
                    "created_at": a.created_at,
                    "last_login_at": a.last_login_at,
                }
                for a in accounts
            ]
        )
        return 0
    if not accounts:
        print("No accounts yet: supportbot user add NAME --role staff|manager")
    for a in accounts:
        last = f"{a.last_login_at:%Y-%m-%d %H:%M}" if a.last_login_at else "never"
        print(f"{a.name:<24} {a.role:<8} created {a.created_at:%Y-%m-%d}  last sign-in {last}")
    return 0


def cmd_forget(settings: Settings, args: argparse.Namespace) -> int:
    import getpass

    from bot.auth.audit import record
    from bot.storage.models import Customer
    from bot.storage.session import create_db_engine, session_scope
    from bot.transcripts.erasure import erase

    if not args.yes and sys.stdin.isatty():
        answer = input(
            f"Erase every conversation of customer #{args.customer} and anonymise them? "
            f"This cannot be undone. Type the customer id to go on: "
        )
        if answer.strip() != str(args.customer):
            print("Nothing was erased.", file=sys.stderr)
            return 1
    tracker_engine = create_db_engine(settings.tracker_db_url)
    try:
        with _services(settings) as services, session_scope(services.session_factory) as session:
            if session.get(Customer, args.customer) is None:
                print(f"There is no customer #{args.customer}.", file=sys.stderr)
                return 1
            result = erase(session, tracker_engine, customer_id=args.customer)
            record(
                session,
                f"cli:{getpass.getuser()}",
                "erased_customer_data",
                f"customer:{args.customer}",
                result.counts(),
                services.now(),
            )
    finally:
        tracker_engine.dispose()
    counts = result.counts()
    if args.json:
        _print_json(counts)
    else:
        print(f"Erased customer #{args.customer}'s data:")
        for name, value in counts.items():
            if name != "customer_id":
                print(f"  {name.replace('_', ' '):<24} {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="supportbot", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print machine-readable output")
    sub = parser.add_subparsers(dest="command", required=True)
    _add = sub.add_parser

    def add_parser(name: str, **kwargs: object) -> argparse.ArgumentParser:
        return _add(name, parents=[common], **kwargs)  # type: ignore[arg-type]

    sub.add_parser = add_parser  # type: ignore[method-assign]

    sub.add_parser("migrate", help="bring the app database to the newest schema").set_defaults(
        func=cmd_migrate
    )
    sub.add_parser(
        "seed-demo", help="fill the database with the demo shop (idempotent)"
    ).set_defaults(func=cmd_seed_demo)
    orders = sub.add_parser("demo-orders", help="list demo order numbers by status")
    orders.add_argument("--per-status", type=int, default=2)
    orders.set_defaults(func=cmd_demo_orders)
    token = sub.add_parser(
        "token", help="mint a signed role token for the chat metadata or the JSON API"
    )
    token.add_argument("--role", choices=["customer", "staff", "manager"], required=True)
    token.add_argument("--customer", type=int, help="the customer id the token speaks for")
    token.add_argument("--name", help="the person's name")
    token.add_argument(
        "--audience",
        choices=["chat", "api"],
        default="chat",
        help="chat: the channels' metadata (default); api: 'Authorization: Bearer' for /api/",
    )
    token.set_defaults(func=cmd_token)
    train = sub.add_parser("train-recommender", help="fit the product recommender on the orders")
    train.add_argument(
        "--model",
        nargs="+",
        choices=MODEL_NAMES,
        help="one or more models, each saved to its own file (default: the evaluation's winner)",
    )
    train.add_argument(
        "--if-missing", action="store_true", help="only the models that have no file yet"
    )
    train.set_defaults(func=cmd_train_recommender)
    evaluate = sub.add_parser("eval-recommender", help="compare recommenders on a holdout split")
    evaluate.add_argument("--dataset", choices=["movielens", "demo"], default="movielens")
    evaluate.set_defaults(func=cmd_eval_recommender)
    sub.add_parser(
        "backfill-surveys", help="rebuild missing survey rows from the tracker store"
    ).set_defaults(func=cmd_backfill_surveys)
    sub.add_parser(
        "backfill-conversations",
        help="rebuild the metrics' conversation summaries from the tracker store",
    ).set_defaults(func=cmd_backfill_conversations)
    metrics = sub.add_parser("metrics", help="the customer-experience metrics of a period")
    metrics.add_argument(
        "--period", default="last 30 days", help='e.g. "last month", "Q3", "since 1 October"'
    )
    metrics.add_argument("--by", choices=["topic", "channel", "variant"], help="break down by")
    metrics.add_argument("--topic", help="only conversations about this topic (an intent name)")
    metrics.add_argument("--channel", help="only this channel (socketio, rest)")
    metrics.add_argument("--variant", help="only this experiment variant")
    metrics.set_defaults(func=cmd_metrics)
    report = sub.add_parser("report", help="write the managers' HTML report (plots embedded)")
    report.add_argument("--out", default="report.html", help="where to write it")
    report.add_argument("--months", type=int, default=12, help="months of trends and cohorts")
    report.set_defaults(func=cmd_report)
    endpoints = sub.add_parser("endpoints", help="write Rasa's endpoints file from the settings")
    endpoints.add_argument("--out", help="where to write it (default var/endpoints.yml)")
    endpoints.set_defaults(func=cmd_endpoints)
    user = sub.add_parser("user", help="website accounts of support staff and managers")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    user_add = user_sub.add_parser("add", parents=[common], help="add an account")
    user_add.add_argument("name", help="the sign-in name, e.g. maria.k")
    user_add.add_argument("--role", choices=["staff", "manager"], required=True)
    user_add.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin (one line)"
    )
    user_add.set_defaults(func=cmd_user_add)
    user_sub.add_parser("list", parents=[common], help="list the accounts").set_defaults(
        func=cmd_user_list
    )
    from bot.experiments.cli import add_commands as add_experiment_commands

    add_experiment_commands(sub, common)
    from bot.monitoring.cli import add_commands as add_monitoring_commands

    add_monitoring_commands(sub, common)
    from bot.nlu_review.cli import add_commands as add_nlu_commands

    add_nlu_commands(sub, common)
    forget = sub.add_parser(
        "forget", help="erase a customer's conversations and anonymise their records"
    )
    forget.add_argument("--customer", type=int, required=True, help="the customer id")
    forget.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    forget.set_defaults(func=cmd_forget)
    consume = sub.add_parser(
        "consume-events",
        help="keep the conversation summaries current from the event broker's queue "
        "(EVENT_BROKER_URL, EVENT_BROKER_QUEUE) until SIGTERM",
    )
    consume.add_argument(
        "--ready-file", help="a file written once the queue is being consumed (removed at exit)"
    )
    consume.set_defaults(func=cmd_consume_events)
    sub.add_parser(
        "web", help="run only the website (shop, staff console, dashboard)"
    ).set_defaults(func=cmd_web)
    serve = sub.add_parser("serve", help="run the Rasa server, the action server and the website")
    serve.add_argument("--timeout", type=float, default=300, help="seconds to wait for Rasa")
    from bot.deploy.scaled import add_serve_arguments

    add_serve_arguments(serve)
    serve.set_defaults(func=cmd_serve)
    shell = sub.add_parser("shell", help="chat in the terminal")
    shell.add_argument("--port", type=int, default=5006)
    shell.set_defaults(func=cmd_shell)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(Settings.from_env(), args))


if __name__ == "__main__":
    sys.exit(main())
