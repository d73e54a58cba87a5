"""How fast the managers' metric answers are at scale: 1,000,000 survey responses.

What it measures
    A fresh database of each kind (a SQLite file in a temporary folder; a new PostgreSQL
    database `supportbot_bench_<random>` that is dropped at the end) gets the schema from the
    Alembic migrations and is bulk-loaded with generated rows, the same rows for both:

    - `--rows` survey responses (default 1,000,000) spread over the 365 days ending now;
    - their conversations: one survey per conversation asked, and 85% of conversations are
      asked (`bot.demo.history.SURVEY_ASKED`), so 1,000,000 surveys come with 1,176,471
      conversations (`--conversations` to choose);
    - `--orders` orders (default 100,000) over two years by `--customers` customers
      (default 40,000), for the order-based retention that `supportbot metrics` shows.

    The mix follows the demo history (`bot.demo.history`): topics, channels, variants A/B in
    the last 90 days, hand-offs, fallbacks, scores from a latent satisfaction; 10% of surveys
    are declined (NULL scores), 7% partial (NPS only). Loading: PostgreSQL COPY from in-memory
    CSV chunks, then VACUUM ANALYZE (so index-only scans work); SQLite executemany in one
    transaction with synchronous=OFF and WAL, then a checkpoint and ANALYZE. Indexes are the
    migrations' own and are kept during the load, as in production.

    Then, each operation once as a warm-up (which also counts its queries and the rows they
    return) and `--repeats` timed runs, each in a fresh session (`session_scope` of the app's
    session factory, so connection checkout and commit are included):

    - chat: `answer_question(session, parse_metric_question(text, today))` for
      "what's our NPS last 30 days?", "nps by topic last month" and "where are we worst?",
      the metric action's code path;
    - `supportbot metrics` for the last 30 days: `cli_output.metrics_text(session, period)`;
    - naive, period rows: SELECT nps, csat, status of each of the two periods into Python and
      `core.nps` / `core.csat` / `core.compare` on the lists; once through the session like the
      app's code, once on the bare DBAPI cursor (no SQLAlchemy rows: the naive lower bound);
    - naive, every row: the whole table (created_at, nps, csat, status) into Python, split by
      period there: what an implementation without SQL aggregation does.

    "rows read" is how many rows the operation's WHERE clauses match (survey responses,
    conversations and orders together); "returned" is how many rows reach Python. Finally the
    plan of the NPS aggregate (EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, EXPLAIN QUERY PLAN on
    SQLite), and the scans of every other query. Goal: a chat answer < 200 ms at 1M rows on
    PostgreSQL.

Usage
    .venv/bin/python benchmarks/metrics_scale.py                      # 1M rows, both databases
    .venv/bin/python benchmarks/metrics_scale.py --rows 100000 --repeats 5 --only sqlite

    PostgreSQL: `--pg-admin-url` (default postgresql://postgres@127.0.0.1:5432/test) must be
    allowed to CREATE DATABASE; when it cannot be reached, only SQLite runs. Progress goes to
    stderr, the tables to stdout. A full run takes several minutes on 2 cores, mostly loading.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import io
import os
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import psycopg2
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.demo import history
from bot.metrics import core, queries
from bot.storage.migrate import upgrade
from bot.storage.models import Conversation, Order, SurveyResponse
from bot.storage.session import create_db_engine, make_session_factory, session_scope

REPO = Path(__file__).resolve().parent.parent
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
GOAL_MS = 200.0
HISTORY_DAYS = 365
ORDER_DAYS = 730
DAY_US = 86_400 * 1_000_000
CHUNK = 100_000
DECLINED_SHARE = 0.10
PARTIAL_SHARE = 0.07
# The modules the measured code needs; some were still being written when this was.
METRIC_MODULES = (
    "bot.metrics.periods",
    "bot.metrics.questions",
    "bot.metrics.customer_value",
    "bot.metrics.overview",
    "bot.metrics.answers",
    "bot.metrics.cli_output",
)
CHAT_QUESTIONS = (
    ("chat: NPS last 30 days", "what's our NPS last 30 days?"),
    ("chat: NPS by topic last month", "nps by topic last month"),
    ("chat: where are we worst?", "where are we worst?"),
)
METRICS_OP = "supportbot metrics, 30 days"
NAIVE_PERIOD_OP = "naive: period rows -> Python"
NAIVE_ALL_OP = "naive: every row -> Python"
NAIVE_RAW_OP = "naive: period rows, raw cursor"
NAIVE_OPS = (NAIVE_PERIOD_OP, NAIVE_RAW_OP, NAIVE_ALL_OP)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- data -------------------------------------------------------------------------------------


@dataclass
class Table:
    """Rows of one table, column by column (Python values; None is NULL)."""

    name: str
    columns: tuple[str, ...]
    values: list[list[Any]]

    def __len__(self) -> int:
        return len(self.values[0]) if self.values else 0

    def rows(self, start: int, stop: int) -> list[tuple[Any, ...]]:
        return list(zip(*(column[start:stop] for column in self.values), strict=True))


def _stamps(origin: datetime, offsets_us: np.ndarray) -> list[str]:
    """'YYYY-MM-DD HH:MM:SS.ffffff': SQLAlchemy's SQLite format, and PostgreSQL reads it."""
    moments = np.datetime64(origin, "us") + offsets_us.astype("timedelta64[us]")
    return [s.replace("T", " ") for s in np.datetime_as_string(moments, unit="us").tolist()]


def _masked(values: np.ndarray, keep: np.ndarray) -> list[Any]:
    return [v if k else None for v, k in zip(values.tolist(), keep.tolist(), strict=True)]


def _hex_ids(rng: np.random.Generator, n: int) -> list[str]:
    """Random 32-hex-digit ids, like Rasa's sender ids."""
    digits = rng.bytes(16 * n).hex()
    return [digits[i : i + 32] for i in range(0, 32 * n, 32)]


def generate_customers(rng: np.random.Generator, n: int, before: datetime) -> Table:
    cities = np.array(["Berlin", "Hamburg", "Munich", "Cologne", "Vienna", "Zurich", "Leipzig"])
    created = -rng.integers(1, 365 * DAY_US, size=n)
    return Table(
        "customers",
        ("email", "name", "city", "created_at"),
        [
            [f"bench{i}@example.com" for i in range(1, n + 1)],
            [f"Customer {i}" for i in range(1, n + 1)],
            cities[rng.integers(0, len(cities), size=n)].tolist(),
            _stamps(before, created),
        ],
    )


def generate_orders(rng: np.random.Generator, n: int, customers: int, now: datetime) -> Table:
    """Orders over two years; a few customers buy often, most once or twice."""
    start = datetime.combine(now.date() - timedelta(days=ORDER_DAYS - 1), datetime.min.time())
    span = int((now - start).total_seconds() * 1_000_000)
    placed = np.sort(rng.integers(0, span - 3_600_000_000, size=n))
    weights = rng.gamma(0.5, size=customers)
    customer = rng.choice(customers, size=n, p=weights / weights.sum()) + 1
    age_days = (span - placed) / DAY_US
    statuses = np.array(["delivered", "returned", "cancelled", "shipped"])
    status = statuses[rng.choice(4, size=n, p=[0.84, 0.06, 0.05, 0.05])]
    status = np.where(age_days < 7, np.where(age_days < 2, "processing", "shipped"), status)
    status = np.where(age_days < 0.5, "pending", status)
    shipped = np.isin(status, ["delivered", "returned", "shipped"])
    delivered = np.isin(status, ["delivered", "returned"])
    payment = np.array(["card", "paypal", "klarna"])[rng.choice(3, size=n, p=[0.5, 0.35, 0.15])]
    total = np.round(rng.lognormal(np.log(45.0), 0.6, size=n), 2)
    return Table(
        "orders",
        (
            "number", "customer_id", "status", "placed_at", "shipped_at", "delivered_at",
            "shipping_address", "payment_method", "total",
        ),  # fmt: skip
        [
            [f"B{i:08d}" for i in range(1, n + 1)],
            customer.tolist(),
            status.tolist(),
            _stamps(start, placed),
            _masked(np.array(_stamps(start, placed + DAY_US)), shipped),
            _masked(np.array(_stamps(start, placed + 3 * DAY_US)), delivered),
            [f"{i % 200 + 1} Market Street, 10{i % 900:03d} Berlin" for i in range(n)],
            payment.tolist(),
            total.tolist(),
        ],
    )


def generate_chats(
    rng: np.random.Generator, conversations: int, surveys: int, customers: int, now: datetime
) -> tuple[Table, Table]:
    """Conversations over the 365 days ending now, and the surveys of `surveys` of them."""
    if surveys > conversations:
        raise ValueError("every survey belongs to a conversation: --conversations >= --rows")
    n, days = conversations, HISTORY_DAYS
    start = datetime.combine(now.date() - timedelta(days=days - 1), datetime.min.time())
    weekday = np.asarray(history.WEEKDAY_FACTORS)[(start.weekday() + np.arange(days)) % 7]
    growth = np.linspace(history.VOLUME_START, history.VOLUME_END, days)
    day_weights = weekday * growth
    hours = np.asarray(history.HOUR_WEIGHTS)
    day = rng.choice(days, size=n, p=day_weights / day_weights.sum())
    hour = rng.choice(24, size=n, p=hours / hours.sum())
    started = (day * 86_400 + hour * 3600) * 1_000_000 + rng.integers(0, 3_600_000_000, size=n)
    latest = int(((now - start).total_seconds() - history.MAX_DURATION) * 1_000_000)
    while (started > latest).any():  # nothing after now: move those a day back
        started = np.where(started > latest, started - DAY_US, started)
    started.sort()
    day = started // DAY_US

    names = list(history.TOPICS)
    shares = np.array([history.TOPICS[t][0] for t in names])
    topic = rng.choice(len(names), size=n, p=shares / shares.sum())
    base = np.array([history.TOPICS[t][1] for t in names])[topic]
    handoff_p = np.array([history.TOPICS[t][2] for t in names])[topic]
    fallback_p = np.array([history.TOPICS[t][3] for t in names])[topic]
    channels, channel_p = history.CHANNELS
    channel = np.asarray(channels)[rng.choice(len(channels), size=n, p=channel_p)]
    known = (rng.random(n) < history.KNOWN_CUSTOMER_SHARE) & (customers > 0)
    customer = rng.integers(1, max(customers, 1) + 1, size=n)
    handed_off = rng.random(n) < handoff_p
    low, high = history.MIN_USER_MESSAGES, history.MAX_USER_MESSAGES
    user_messages = np.minimum(low + rng.binomial(high - low, 0.3, n) + handed_off, high)
    bot_messages = user_messages + rng.integers(1, 4, size=n)
    fallbacks = rng.binomial(user_messages, fallback_p)
    first_response = rng.lognormal(np.log(history.FIRST_RESPONSE_MEDIAN), history.FIRST_RESPONSE_SIGMA, n)
    later = rng.lognormal(np.log(history.RESPONSE_MEDIAN), history.RESPONSE_SIGMA / 2, n)
    response_total = first_response + (user_messages - 1) * later
    spread = (user_messages - low) / (high - low)
    duration = np.round(
        history.MIN_DURATION
        + (history.MAX_DURATION - history.MIN_DURATION) * (0.6 * spread + 0.4 * rng.random(n))
    )
    handoff_seconds = np.minimum(
        rng.lognormal(np.log(history.HANDOFF_MEDIAN), history.HANDOFF_SIGMA, n), duration - 30
    ).round(1)
    in_experiment = day >= days - history.EXPERIMENT_DAYS
    variant_b = rng.random(n) < 0.5
    variant = np.where(variant_b, "B", "A")
    asked = np.zeros(n, dtype=bool)
    asked[rng.choice(n, size=surveys, replace=False)] = True
    last_event = started + (duration * 1_000_000).astype(np.int64)
    started_text = _stamps(start, started)
    last_text = _stamps(start, last_event)
    epoch = start.replace(tzinfo=timezone.utc).timestamp()
    session_keys = [f"{epoch + us / 1e6:.6f}" for us in started.tolist()]
    conversation_ids = _hex_ids(rng, n)
    topic_names = np.asarray(names)[topic]
    customer_ids = _masked(customer, known)
    variants = _masked(variant, in_experiment)
    conversation_table = Table(
        "conversations",
        (
            "conversation_id", "session_key", "customer_id", "channel", "topic", "variant",
            "started_at", "last_event_at", "user_messages", "bot_messages", "fallbacks",
            "first_response_seconds", "response_seconds_total", "responses", "handed_off",
            "handoff_seconds", "survey_asked",
        ),  # fmt: skip
        [
            conversation_ids, session_keys, customer_ids, channel.tolist(), topic_names.tolist(),
            variants, started_text, last_text, user_messages.tolist(), bot_messages.tolist(),
            fallbacks.tolist(), np.round(first_response, 3).tolist(),
            np.round(response_total, 3).tolist(), user_messages.tolist(), handed_off.tolist(),
            _masked(handoff_seconds, handed_off), asked.tolist(),
        ],
    )  # fmt: skip

    # The surveys, in the order they were answered (at the end of their conversation).
    idx = np.flatnonzero(asked)
    idx = idx[np.argsort(last_event[idx], kind="stable")]
    m = len(idx)
    z = (
        base[idx]
        + history.TREND * (started[idx] / (days * DAY_US) - 0.5)
        + np.where(in_experiment[idx] & variant_b[idx], history.VARIANT_EFFECT["B"], 0.0)
        + history.HANDOFF_EFFECT * handed_off[idx]
        + history.FALLBACK_EFFECT * fallbacks[idx]
        + rng.normal(0.0, history.NOISE, m)
    )
    nps = np.clip(
        np.rint(history.NPS_CENTER + history.NPS_SCALE * (z + rng.normal(0, history.NPS_NOISE, m))),
        0, 10,
    ).astype(np.int64)  # fmt: skip
    csat = np.clip(
        np.rint(history.CSAT_CENTER + history.CSAT_SCALE * (z + rng.normal(0, history.CSAT_NOISE, m))),
        1, 5,
    ).astype(np.int64)  # fmt: skip
    answer = rng.random(m)
    declined = answer < DECLINED_SHARE
    partial = ~declined & (answer < DECLINED_SHARE + PARTIAL_SHARE)
    completed = ~declined & ~partial
    status = np.where(declined, "declined", np.where(partial, "partial", "completed"))
    commented = ~declined & (rng.random(m) < history.COMMENT_SHARE)
    pick = rng.integers(0, 1_000, size=m)
    comments: list[str | None] = []
    for score, wrote, k in zip(nps.tolist(), commented.tolist(), pick.tolist(), strict=True):
        if not wrote:
            comments.append(None)
            continue
        mood = "positive" if score >= 9 else "neutral" if score >= 7 else "negative"
        choices = history.COMMENTS[mood]
        comments.append(choices[k % len(choices)])
    rows = idx.tolist()
    created = last_text
    survey_table = Table(
        "survey_responses",
        (
            "conversation_id", "session_key", "customer_id", "nps", "csat", "comment", "status",
            "channel", "topic", "human_involved", "variant", "started_at", "created_at",
            "updated_at",
        ),  # fmt: skip
        [
            [conversation_ids[i] for i in rows],
            [session_keys[i] for i in rows],
            [customer_ids[i] for i in rows],
            _masked(nps, ~declined),
            _masked(csat, completed),
            comments,
            status.tolist(),
            channel[idx].tolist(),
            topic_names[idx].tolist(),
            handed_off[idx].tolist(),
            [variants[i] for i in rows],
            [started_text[i] for i in rows],
            [created[i] for i in rows],
            [created[i] for i in rows],
        ],
    )
    return conversation_table, survey_table


def generate(args: argparse.Namespace, now: datetime) -> list[Table]:
    rng = np.random.default_rng(args.seed)
    before = datetime.combine(now.date() - timedelta(days=ORDER_DAYS), datetime.min.time())
    customers = generate_customers(rng, args.customers, before)
    orders = generate_orders(rng, args.orders, args.customers, now) if args.customers else None
    conversations, surveys = generate_chats(
        rng, args.conversations, args.rows, args.customers, now
    )
    return [t for t in (customers, orders, conversations, surveys) if t is not None and len(t)]


# --- loading ----------------------------------------------------------------------------------


@dataclass
class LoadStep:
    database: str
    what: str
    rows: int
    seconds: float


def _progress(database: str, table: Table, done: int, started: float) -> None:
    total = len(table)
    step = max(total // 5, CHUNK)
    if done == total or done // step != (done - CHUNK) // step:
        say(
            f"  {database}: {table.name} {done:>10,}/{total:,} "
            f"({time.perf_counter() - started:.1f} s)"
        )


def load_postgres(url: str, tables: list[Table]) -> list[LoadStep]:
    """COPY from in-memory CSV chunks, then VACUUM ANALYZE."""
    u = make_url(url)
    connection = psycopg2.connect(
        host=u.host, port=u.port or 5432, user=u.username, password=u.password, dbname=u.database
    )
    steps = []
    try:
        cursor = connection.cursor()
        try:
            # The generated foreign keys are valid; skip the per-row checks (needs superuser).
            cursor.execute("SET session_replication_role = replica")
            connection.commit()
        except psycopg2.Error:
            connection.rollback()
        for table in tables:
            started = time.perf_counter()
            sql = f"COPY {table.name} ({', '.join(table.columns)}) FROM STDIN WITH (FORMAT csv)"
            for start in range(0, len(table), CHUNK):
                buffer = io.StringIO()
                csv.writer(buffer).writerows(table.rows(start, start + CHUNK))
                buffer.seek(0)
                cursor.copy_expert(sql, buffer)
                _progress("postgres", table, min(start + CHUNK, len(table)), started)
            connection.commit()
            steps.append(LoadStep("postgres", table.name, len(table), time.perf_counter() - started))
        cursor.execute("SET session_replication_role = DEFAULT")
        connection.commit()
        connection.autocommit = True
        started = time.perf_counter()
        say("  postgres: VACUUM ANALYZE")
        cursor.execute("VACUUM ANALYZE")
        steps.append(LoadStep("postgres", "VACUUM ANALYZE", 0, time.perf_counter() - started))
    finally:
        connection.close()
    return steps


def load_sqlite(path: Path, tables: list[Table]) -> list[LoadStep]:
    """executemany in one transaction (synchronous=OFF, WAL), then checkpoint and ANALYZE."""
    connection = sqlite3.connect(path, isolation_level=None)
    steps = []
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-262144")  # 256 MB: the indexes stay in memory
        connection.execute("BEGIN")
        for table in tables:
            started = time.perf_counter()
            marks = ", ".join("?" * len(table.columns))
            sql = f"INSERT INTO {table.name} ({', '.join(table.columns)}) VALUES ({marks})"
            for start in range(0, len(table), CHUNK):
                connection.executemany(sql, table.rows(start, start + CHUNK))
                _progress("sqlite", table, min(start + CHUNK, len(table)), started)
            steps.append(LoadStep("sqlite", table.name, len(table), time.perf_counter() - started))
        started = time.perf_counter()
        connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        steps.append(LoadStep("sqlite", "commit + checkpoint", 0, time.perf_counter() - started))
        started = time.perf_counter()
        say("  sqlite: ANALYZE")
        connection.execute("ANALYZE")
        steps.append(LoadStep("sqlite", "ANALYZE", 0, time.perf_counter() - started))
    finally:
        connection.close()
    return steps


# --- the measured operations ------------------------------------------------------------------


@dataclass
class Operation:
    name: str
    run: Callable[[Session], Any]
    rows_read: Callable[[Session], int]
    # For SQL run on the DBAPI cursor, which the warm-up cannot see: how many statements;
    # each row read is returned.
    cursor_queries: int | None = None


@dataclass
class Measurement:
    database: str
    operation: str
    times_ms: list[float]
    queries: int
    rows_read: int
    rows_returned: int

    @property
    def median(self) -> float:
        return float(np.median(self.times_ms))

    @property
    def p95(self) -> float:
        return float(np.percentile(self.times_ms, 95))


@dataclass
class NaiveResult:
    nps: tuple[core.MetricResult, core.MetricResult]
    csat: tuple[core.MetricResult, core.MetricResult]
    response_rate: tuple[core.MetricResult, core.MetricResult]
    nps_change: core.Comparison = field(init=False)

    def __post_init__(self) -> None:
        self.nps_change = core.compare(*self.nps)


def _in_python(rows: list[tuple[Any, Any, Any]]) -> tuple[core.MetricResult, ...]:
    nps_values = [r[0] for r in rows if r[0] is not None]
    csat_values = [r[1] for r in rows if r[1] is not None]
    answered = sum(1 for r in rows if r[2] != "declined")
    return (
        core.nps(nps_values),
        core.csat(csat_values),
        core.proportion("survey_response_rate", answered, len(rows)),
    )


def _naive(now_rows: list[Any], before_rows: list[Any]) -> NaiveResult:
    now, before = _in_python(now_rows), _in_python(before_rows)
    return NaiveResult((now[0], before[0]), (now[1], before[1]), (now[2], before[2]))


def naive_period_rows(session: Session, bounds: tuple[datetime, datetime, datetime]) -> NaiveResult:
    """Each period's nps, csat and status into Python (two queries with WHERE)."""
    previous_start, start, end = bounds
    s = SurveyResponse
    found = []
    for low, high in ((start, end), (previous_start, start)):
        query = select(s.nps, s.csat, s.status).where(s.created_at >= low, s.created_at < high)
        found.append([tuple(r) for r in session.execute(query)])
    return _naive(found[0], found[1])


def naive_period_raw(session: Session, bounds: tuple[datetime, datetime, datetime]) -> NaiveResult:
    """Like `naive_period_rows`, through the DBAPI cursor: no SQLAlchemy row objects.

    The cheapest way to get the rows into Python, so the naive approach's lower bound.
    """
    previous_start, start, end = bounds
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    sql = f"SELECT nps, csat, status FROM survey_responses WHERE created_at >= {mark} AND created_at < {mark}"

    def bound(moment: datetime) -> Any:
        # SQLite compares the text; it must be in SQLAlchemy's format, as stored.
        return f"{moment:%Y-%m-%d %H:%M:%S.%f}" if sqlite else moment

    cursor = connection.connection.cursor()
    try:
        found = []
        for low, high in ((start, end), (previous_start, start)):
            cursor.execute(sql, (bound(low), bound(high)))
            found.append(cursor.fetchall())
    finally:
        cursor.close()
    return _naive(found[0], found[1])


def naive_every_row(session: Session, bounds: tuple[datetime, datetime, datetime]) -> NaiveResult:
    """The whole table into Python; the periods are picked out there."""
    previous_start, start, end = bounds
    s = SurveyResponse
    now_rows, before_rows = [], []
    for created, nps, csat, status in session.execute(select(s.created_at, s.nps, s.csat, s.status)):
        if start <= created < end:
            now_rows.append((nps, csat, status))
        elif previous_start <= created < start:
            before_rows.append((nps, csat, status))
    return _naive(now_rows, before_rows)


def _count(session: Session, column: Any, start: datetime, end: datetime) -> int:
    return int(session.execute(select(func.count()).where(column >= start, column < end)).scalar_one())


def build_operations(today: date) -> list[Operation]:
    """The operations, with the code under test imported only now (it may be new)."""
    answers = importlib.import_module("bot.metrics.answers")
    cli_output = importlib.import_module("bot.metrics.cli_output")
    questions = importlib.import_module("bot.metrics.questions")
    periods = importlib.import_module("bot.metrics.periods")

    operations = []
    for name, text in CHAT_QUESTIONS:
        question = questions.parse_metric_question(text, today)
        period = question.period
        compared = not question.by and not question.pain_points
        low = period.previous().start if compared else period.start

        def run(session: Session, question: Any = question) -> Any:
            return answers.answer_question(session, question)

        def read(session: Session, low: datetime = low, high: datetime = period.end) -> int:
            return _count(session, SurveyResponse.created_at, low, high)

        operations.append(Operation(name, run, read))

    period = periods.parse_period("last 30 days", today)
    previous = period.previous()
    bounds = (previous.start, period.start, period.end)

    def metrics(session: Session) -> Any:
        return cli_output.metrics_text(session, period)

    def metrics_read(session: Session) -> int:
        # Retention's base period is the one before each period: orders from 3 periods back.
        base_start = previous.start - (period.end - period.start)
        return (
            _count(session, SurveyResponse.created_at, previous.start, period.end)
            + _count(session, Conversation.started_at, previous.start, period.end)
            + _count(session, Order.placed_at, base_start, period.end)
        )

    def period_read(session: Session) -> int:
        return _count(session, SurveyResponse.created_at, previous.start, period.end)

    def all_read(session: Session) -> int:
        return int(session.execute(select(func.count()).select_from(SurveyResponse)).scalar_one())

    operations += [
        Operation(METRICS_OP, metrics, metrics_read),
        Operation(NAIVE_PERIOD_OP, lambda s: naive_period_rows(s, bounds), period_read),
        Operation(NAIVE_RAW_OP, lambda s: naive_period_raw(s, bounds), period_read, 2),
        Operation(NAIVE_ALL_OP, lambda s: naive_every_row(s, bounds), all_read),
    ]
    return operations


@contextmanager
def recorded_statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (and their DBAPI parameters) run on `engine` inside the block."""
    found: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        found.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", record)


def warm_up(engine: Engine, factory: sessionmaker, operation: Operation) -> tuple[int, int, list[tuple[str, Any]], Any]:
    """One untimed run: its statements, the rows they returned, and its result."""
    returned = [0]
    with recorded_statements(engine) as statements, session_scope(factory) as session:
        execute = session.execute

        def counting_execute(*args: Any, **kwargs: Any) -> Any:
            frozen = execute(*args, **kwargs).freeze()
            returned[0] += len(frozen.data)
            return frozen()

        session.execute = counting_execute  # type: ignore[method-assign]
        result = operation.run(session)
    selects = [s for s in statements if s[0].lstrip().upper().startswith(("SELECT", "WITH"))]
    return len(selects), returned[0], selects, result


def measure(
    database: str, engine: Engine, factory: sessionmaker, operations: list[Operation], repeats: int
) -> tuple[list[Measurement], dict[str, list[tuple[str, Any]]], dict[str, Any]]:
    measurements, statements, results = [], {}, {}
    for operation in operations:
        with session_scope(factory) as session:
            rows_read = operation.rows_read(session)
        queries_run, returned, statements[operation.name], results[operation.name] = warm_up(
            engine, factory, operation
        )
        if operation.cursor_queries is not None:
            queries_run, returned = operation.cursor_queries, rows_read
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            with session_scope(factory) as session:
                operation.run(session)
            times.append((time.perf_counter() - started) * 1000)
        found = Measurement(database, operation.name, times, queries_run, rows_read, returned)
        say(f"  {database}: {operation.name}: median {found.median:.1f} ms, p95 {found.p95:.1f} ms")
        measurements.append(found)
    return measurements, statements, results


# --- plans ------------------------------------------------------------------------------------


def explain(engine: Engine, statement: str, parameters: Any) -> list[str]:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            rows = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            return [str(r[0]) for r in rows]
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        return [str(r[3]) for r in rows]


def _summary(plan: list[str]) -> list[str]:
    """The scans (and on PostgreSQL the execution time) of a plan."""
    keep = ("Scan", "SCAN", "SEARCH", "Execution Time", "Heap Fetches", "Workers Launched")
    return [line.strip().lstrip("-> ").strip() for line in plan if any(k in line for k in keep)]


def _short(statement: str) -> str:
    flat = " ".join(statement.split())
    where = flat.find(" FROM ")
    return (flat[:60] + " … " + flat[where : where + 80] if where > 0 else flat[:140]) + " …"


def report_plans(
    database: str, engine: Engine, factory: sessionmaker, statements: dict[str, list[tuple[str, Any]]], today: date
) -> list[str]:
    periods = importlib.import_module("bot.metrics.periods")
    period = periods.parse_period("last 30 days", today)
    with recorded_statements(engine) as found, session_scope(factory) as session:
        queries.survey_aggregates(session, period.start, period.end)
    statement, parameters = [s for s in found if "survey_responses" in s[0]][0]
    plan = explain(engine, statement, parameters)
    lines = [f"{database}: plan of the NPS aggregate (survey_aggregates, last 30 days)"]
    lines += ["    " + line for line in plan]
    text = "\n".join(plan)
    if engine.dialect.name == "postgresql":
        verdict = "yes" if "Index Only Scan" in text else "NO"
        lines.append(f"  Index Only Scan: {verdict}")
    else:
        verdict = "yes" if "COVERING INDEX" in text else "NO"
        lines.append(f"  covering index (SQLite's index-only scan): {verdict}")
    lines.append(f"{database}: scans of every query of the measured operations")
    for operation, found_statements in statements.items():
        if operation == NAIVE_ALL_OP or not found_statements:
            continue  # a full table scan; or SQL on the DBAPI cursor (same as the naive one)
        lines.append(f"  {operation}:")
        seen = set()
        for statement, parameters in found_statements:
            if statement in seen:
                continue
            seen.add(statement)
            lines.append(f"    {_short(statement)}")
            lines += ["      " + line for line in _summary(explain(engine, statement, parameters))]
    return lines


# --- the databases ----------------------------------------------------------------------------


def wait_for_metric_modules(timeout_s: float) -> bool:
    """Poll (in a subprocess) until the metric modules import cleanly."""
    deadline = time.monotonic() + timeout_s
    code = "import " + ", ".join(METRIC_MODULES)
    while True:
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
        )
        if done.returncode == 0:
            return True
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        if time.monotonic() > deadline:
            say(f"the metric modules still do not import: {last}")
            return False
        say(f"waiting for the metric modules to import ({last}); retrying in 30 s")
        time.sleep(30)


@dataclass
class Run:
    database: str
    loads: list[LoadStep] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    plans: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)


def benchmark(database: str, url: str, load: Callable[[], list[LoadStep]], args: argparse.Namespace, today: date) -> Run:
    run = Run(database)
    started = time.perf_counter()
    say(f"{database}: migrating")
    upgrade(url)
    run.loads.append(LoadStep(database, "migrations", 0, time.perf_counter() - started))
    run.loads += load()
    if not wait_for_metric_modules(args.wait_minutes * 60):
        raise SystemExit("the metric modules do not import; nothing measured")
    engine = create_db_engine(url)
    try:
        factory = make_session_factory(engine)
        operations = build_operations(today)
        run.measurements, statements, results = measure(
            database, engine, factory, operations, args.repeats
        )
        run.checks = check_results(factory, results, today)
        run.plans = report_plans(database, engine, factory, statements, today)
    finally:
        engine.dispose()
    return run


def check_results(factory: sessionmaker, results: dict[str, Any], today: date) -> list[str]:
    """The naive numbers must be the SQL ones: same NPS, CSAT and response rate."""
    periods = importlib.import_module("bot.metrics.periods")
    period = periods.parse_period("last 30 days", today)
    previous = period.previous()
    lines = []
    with session_scope(factory) as session:
        for metric in ("nps", "csat", "survey_response_rate"):
            sql = (
                queries.metric_result(session, metric, period.start, period.end),
                queries.metric_result(session, metric, previous.start, previous.end),
            )
            attribute = "response_rate" if metric == "survey_response_rate" else metric
            for name in NAIVE_OPS:
                naive = getattr(results[name], attribute)
                same = all(
                    a.n == b.n and a.value is not None and b.value is not None and abs(a.value - b.value) < 1e-9
                    for a, b in zip(sql, naive, strict=True)
                )
                if not same:
                    lines.append(f"MISMATCH {metric}: SQL {sql} vs {name} {naive}")
            lines.append(
                f"{metric}: last 30 days {sql[0].value:.2f} (n = {sql[0].n:,}), "
                f"previous {sql[1].value:.2f} (n = {sql[1].n:,})"
            )
    chat = results[CHAT_QUESTIONS[0][0]]
    lines.append("chat answer: " + " ".join(str(chat).split()))
    return lines


def run_sqlite(tables: list[Table], args: argparse.Namespace, today: date) -> Run:
    with tempfile.TemporaryDirectory(prefix="supportbot-bench-") as folder:
        path = Path(folder) / "metrics.db"
        run = benchmark("sqlite", f"sqlite:///{path}", lambda: load_sqlite(path, tables), args, today)
        size = sum(p.stat().st_size for p in Path(folder).iterdir())
        run.loads.append(LoadStep("sqlite", f"file size {size / 1e6:,.0f} MB", 0, 0.0))
        return run


def run_postgres(tables: list[Table], args: argparse.Namespace, today: date) -> Run | None:
    admin_url = make_url(args.pg_admin_url)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    name = f"supportbot_bench_{secrets.token_hex(4)}"
    try:
        with admin.connect() as connection:
            version = connection.exec_driver_sql("SHOW server_version").scalar()
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as error:  # any failure means: no PostgreSQL here
        print(f"PostgreSQL at {admin_url.render_as_string(hide_password=True)} is unreachable "
              f"({type(error).__name__}: {str(error).strip().splitlines()[0]}); SQLite only.")  # fmt: skip
        admin.dispose()
        return None
    say(f"postgres {version}: created database {name}")
    url = admin_url.set(drivername="postgresql+psycopg2", database=name).render_as_string(
        hide_password=False
    )
    try:
        run = benchmark("postgres", url, lambda: load_postgres(url, tables), args, today)
        with admin.connect() as connection:
            size = connection.exec_driver_sql(f"SELECT pg_database_size('{name}')").scalar()
        run.loads.append(LoadStep("postgres", f"database size {int(size or 0) / 1e6:,.0f} MB", 0, 0.0))
        return run
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
        say(f"postgres: dropped database {name}")


# --- the report -------------------------------------------------------------------------------


def print_report(runs: list[Run], args: argparse.Namespace, generation_s: float) -> None:
    print()
    print(
        f"Survey responses {args.rows:,}, conversations {args.conversations:,}, "
        f"orders {args.orders:,}, customers {args.customers:,}; {args.repeats} timed runs "
        f"per operation after a warm-up; {os.cpu_count()} CPUs, load average (1 min) "
        f"{args.load_at_start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end; "
        f"SQLite {sqlite3.sqlite_version}."
    )
    print(f"Data generated in {generation_s:.1f} s (numpy).")
    print()
    print(f"{'database':<10}{'load step':<32}{'rows':>12}{'seconds':>10}{'rows/s':>12}")
    for run in runs:
        for step in run.loads:
            rate = f"{step.rows / step.seconds:,.0f}" if step.rows and step.seconds else ""
            rows = f"{step.rows:,}" if step.rows else ""
            seconds = f"{step.seconds:.1f}" if step.seconds else ""
            print(f"{step.database:<10}{step.what:<32}{rows:>12}{seconds:>10}{rate:>12}")
    print()
    header = (
        f"{'database':<10}{'operation':<32}{'median ms':>11}{'p95 ms':>10}"
        f"{'queries':>9}{'rows read':>12}{'returned':>11}"
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        for m in run.measurements:
            print(
                f"{m.database:<10}{m.operation:<32}{m.median:>11.1f}{m.p95:>10.1f}"
                f"{m.queries:>9}{m.rows_read:>12,}{m.rows_returned:>11,}"
            )
    print()
    for run in runs:
        by_name = {m.operation: m for m in run.measurements}
        chat = by_name[CHAT_QUESTIONS[0][0]]
        metrics = by_name[METRICS_OP]
        for naive_name in NAIVE_OPS:
            naive = by_name[naive_name]
            print(
                f"{run.database}: {naive_name} / chat NPS answer (SQL): "
                f"{naive.median / chat.median:,.1f}x; / supportbot metrics (SQL): "
                f"{naive.median / metrics.median:,.1f}x"
            )
    if len(runs) == 2:
        first, second = ({m.operation: m for m in r.measurements} for r in runs)
        for name, m in first.items():
            print(
                f"{runs[0].database} / {runs[1].database}, {name}: "
                f"{m.median / second[name].median:.2f}x"
            )
    print()
    for run in runs:
        for line in run.checks:
            print(f"{run.database} check: {line}")
    print()
    for run in runs:
        print("\n".join(run.plans))
        print()
    postgres = next((r for r in runs if r.database == "postgres"), None)
    size = "" if args.rows == 1_000_000 else f" (measured at {args.rows:,} rows)"
    if postgres is None:
        print("goal: chat answer < 200 ms at 1M rows on PostgreSQL: not measured (no PostgreSQL)")
        return
    chats = [m for m in postgres.measurements if m.operation.startswith("chat:")]
    worst = max(chats, key=lambda m: m.median)
    verdict = "met" if worst.median < GOAL_MS else "not met"
    print(
        f"goal: chat answer < 200 ms at 1M rows on PostgreSQL: {verdict}{size} "
        f"(slowest chat answer: {worst.operation[6:]!r}, median {worst.median:.1f} ms, "
        f"p95 {worst.p95:.1f} ms)"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="survey responses")
    parser.add_argument(
        "--conversations", type=int, help="conversations (default: rows / 0.85, the survey rate)"
    )
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=40_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pg-admin-url", default=DEFAULT_ADMIN_URL)
    parser.add_argument(
        "--wait-minutes", type=float, default=25.0,
        help="how long to wait for the metric modules to import",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.conversations is None:
        args.conversations = round(args.rows / history.SURVEY_ASKED)
    if args.rows < 1 or args.repeats < 1:
        parser.error("--rows and --repeats must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.load_at_start = os.getloadavg()[0]
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    today = now.date()
    say(f"generating {args.rows:,} surveys, {args.conversations:,} conversations, {args.orders:,} orders")
    started = time.perf_counter()
    tables = generate(args, now)
    generation_s = time.perf_counter() - started
    say(f"generated in {generation_s:.1f} s")
    runs = []
    if args.only in (None, "sqlite"):
        runs.append(run_sqlite(tables, args, today))
    if args.only in (None, "postgres"):
        postgres = run_postgres(tables, args, today)
        if postgres is not None:
            runs.append(postgres)
    print_report(runs, args, generation_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
