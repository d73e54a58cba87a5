"""How fast the staff console's conversation list is at 100,000 conversations.

What it measures
    A fresh database of each kind (a SQLite file in a temporary folder; a new PostgreSQL
    database `supportbot_staffbench_<random>`, dropped at the end) gets the schema from the
    Alembic migrations and `--rows` conversation sessions (default 100,000) over the 365 days
    before now, 85% with a survey answer (NPS 0-10, CSAT 1-5, some comments), 12% handed off,
    topics as in the demo history, and each session's `search_text` (what the customer
    wrote, 1-6 short messages from a topic's phrases; 0.1% mention "kaputt").

    Then each operation of `bot.transcripts.browse` (the code the /staff page runs), once
    as a warm-up and `--repeats` timed runs, each in a fresh `session_scope`:

    - first page; page 1000 by keyset (`after=` the cursor of row 49,950: one index seek);
      the same page by OFFSET 49,950 (what keyset paging avoids); the page before it
      (`before=`);
    - filtered first pages: detractors; detractors + topic; hand-offs in the last 30 days;
      page 100 of detractors (keyset);
    - searches: a common word, a rare word (0.1% of rows), a word found nowhere (reads every
      row: the worst case), a common word + detractors;
    - the topic choices (SELECT DISTINCT topic);
    - the CSV export's reading: every row, in keyset chunks of 1000.

    A page is 50 rows (+1 to know there is a next one, +1 seek for "is there a newer one").
    Medians and 95th percentiles in milliseconds.

Usage
    .venv/bin/python benchmarks/staff_paging.py                     # 100k rows, both databases
    .venv/bin/python benchmarks/staff_paging.py --rows 20000 --only sqlite --repeats 5

    PostgreSQL: `--pg-admin-url` (default postgresql://postgres@127.0.0.1:5432/test) must be
    allowed to CREATE DATABASE; when it cannot be reached, only SQLite runs.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot.storage.migrate import upgrade
from bot.storage.models import Conversation, SurveyResponse
from bot.storage.session import create_db_engine, make_session_factory, session_scope
from bot.transcripts import browse

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 11, 23, 12, 0, 0)
CHUNK = 10_000
TOPICS = {
    "order_status": (
        0.28,
        ["where is my parcel", "my order has not arrived", "tracking says delayed"],
    ),
    "return_request": (0.12, ["i want to return the shoes", "return label please", "wrong size"]),
    "shipping_info": (0.10, ["how long is delivery", "do you ship to austria", "shipping costs"]),
    "refund_status": (0.09, ["where is my refund", "refund still missing", "money back"]),
    "payment_issue": (0.08, ["card was declined", "charged twice", "paypal error"]),
    "product_info": (0.10, ["is the kettle in stock", "what size is the jacket", "warranty"]),
    "cancel_order": (0.08, ["cancel my order", "please cancel", "changed my mind"]),
    "complaint": (0.05, ["this is unacceptable", "very disappointed", "item arrived broken"]),
    "other": (0.10, ["hello", "thanks", "can i talk to a person"]),
}
RARE_WORD = "kaputt"  # in 0.1% of the rows
ABSENT_WORD = "zyzzyva"  # in none: the search reads every row


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- data -------------------------------------------------------------------------------------


def generate(n: int, seed: int = 7) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = np.random.default_rng(seed)
    names = list(TOPICS)
    weights = np.array([TOPICS[t][0] for t in names])
    topic_of = rng.choice(len(names), size=n, p=weights / weights.sum())
    offsets = np.sort(rng.integers(0, 365 * 86_400, size=n))
    handed = rng.random(n) < 0.12
    answered = rng.random(n) < 0.85
    nps = rng.integers(0, 11, size=n)
    csat = rng.integers(1, 6, size=n)
    lengths = rng.integers(1, 7, size=n)
    rare = rng.random(n) < 0.001
    start = NOW - timedelta(days=365)
    conversations, surveys = [], []
    for i in range(n):
        topic = names[topic_of[i]]
        phrases = TOPICS[topic][1]
        said = [phrases[int(rng.integers(len(phrases)))] for _ in range(int(lengths[i]))]
        if rare[i]:
            said.append(f"the item is {RARE_WORD}")
        started = start + timedelta(seconds=int(offsets[i]))
        cid = f"bench-{i:07d}"
        conversations.append(
            {
                "conversation_id": cid,
                "session_key": f"{started.timestamp():.6f}",
                "customer_id": None,
                "channel": "socketio",
                "topic": topic,
                "started_at": started,
                "last_event_at": started + timedelta(minutes=3),
                "user_messages": int(lengths[i]),
                "bot_messages": int(lengths[i]),
                "fallbacks": 0,
                "response_seconds_total": 1.0,
                "responses": int(lengths[i]),
                "handed_off": bool(handed[i]),
                "survey_asked": bool(answered[i]),
                "search_text": "\n".join(said),
            }
        )
        if answered[i]:
            surveys.append(
                {
                    "conversation_id": cid,
                    "session_key": f"{started.timestamp():.6f}",
                    "nps": int(nps[i]),
                    "csat": int(csat[i]),
                    "comment": "return postage is too expensive" if i % 17 == 0 else None,
                    "status": "completed",
                    "channel": "socketio",
                    "topic": topic,
                    "human_involved": bool(handed[i]),
                    "started_at": started,
                    "created_at": started,
                    "updated_at": started,
                }
            )
    return conversations, surveys


def load(url: str, conversations: list[dict[str, Any]], surveys: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    upgrade(url)
    engine = create_db_engine(url)
    try:
        with engine.begin() as connection:
            for model, rows in ((Conversation, conversations), (SurveyResponse, surveys)):
                for at in range(0, len(rows), CHUNK):
                    connection.execute(insert(model), rows[at : at + CHUNK])
        with engine.begin() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql("ANALYZE")
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
    finally:
        engine.dispose()
    return time.perf_counter() - started


# --- measuring --------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    rows: int
    times_ms: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.times_ms)
        return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def cursor_at(session: Session, position: int, filters: browse.Filters) -> browse.Cursor:
    """The cursor after `position` rows (found once, by OFFSET, outside the timing)."""
    query = browse._newest_first(browse._base(filters)).offset(position - 1).limit(1)
    row = browse.Listed(*session.execute(query).one())
    return row.cursor


def offset_page(session: Session, position: int) -> list[Any]:
    query = browse._newest_first(browse._base(browse.Filters())).offset(position).limit(51)
    return list(session.execute(query))


def operations(factory: Any, today: date, rows: int) -> list[tuple[str, Callable[[Session], int]]]:
    F = browse.Filters
    deep = max(2, min(1000, rows // 100))  # page 1000 at 100k rows; halfway down when fewer
    deep_filtered = max(2, min(100, rows // 1000))
    with session_scope(factory) as session:
        page_deep = cursor_at(session, (deep - 1) * 50, F())
        detractors = F(detractors=True)
        page_deep_detractors = cursor_at(session, (deep_filtered - 1) * 50, detractors)
    recent = F(handoffs=True, date_from=today - timedelta(days=30), date_to=today)

    def first(filters: browse.Filters) -> Callable[[Session], int]:
        return lambda s: len(browse.page(s, filters).rows)

    def export(s: Session) -> int:
        return sum(len(chunk) for chunk in browse.iter_all(s, F(), chunk=1000))

    return [
        ("first page", first(F())),
        (f"page {deep}, keyset (after=)", lambda s: len(browse.page(s, F(), after=page_deep).rows)),
        (
            f"page {deep}, OFFSET {(deep - 1) * 50:,}",
            lambda s: len(offset_page(s, (deep - 1) * 50)),
        ),
        (
            f"page {deep - 1}, keyset (before=)",
            lambda s: len(browse.page(s, F(), before=page_deep).rows),
        ),
        ("detractors, first page", first(detractors)),
        ("detractors + topic", first(F(detractors=True, topic="refund_status"))),
        ("hand-offs, last 30 days", first(recent)),
        (
            f"detractors, page {deep_filtered} (keyset)",
            lambda s: len(browse.page(s, detractors, after=page_deep_detractors).rows),
        ),
        ("search: common word", first(F(q="refund"))),
        (f"search: rare word ({RARE_WORD})", first(F(q=RARE_WORD))),
        ("search: found nowhere", first(F(q=ABSENT_WORD))),
        ("search + detractors", first(F(q="parcel", detractors=True))),
        ("topic choices (DISTINCT)", lambda s: len(browse.topics(s))),
        ("export: read every row", export),
    ]


def measure(
    url: str, rows: int, repeats: int, export_repeats: int
) -> tuple[list[Result], list[str]]:
    engine = create_db_engine(url)
    factory = make_session_factory(engine)
    results = []
    try:
        for name, operation in operations(factory, NOW.date(), rows):
            runs = export_repeats if name.startswith("export") else repeats
            with session_scope(factory) as session:
                result = Result(name, operation(session))  # warm-up
            for _ in range(runs):
                started = time.perf_counter()
                with session_scope(factory) as session:
                    operation(session)
                result.times_ms.append((time.perf_counter() - started) * 1000)
            results.append(result)
            say(f"  {name}: {result.median:.2f} ms")
        plan = explain(engine, browse._newest_first(browse._base(browse.Filters())).limit(51))
    finally:
        engine.dispose()
    return results, plan


def explain(engine: Any, query: Any) -> list[str]:
    compiled = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
            return [str(row[-1]) for row in rows]
        rows = connection.execute(text(f"EXPLAIN ANALYZE {compiled}")).all()
        return [str(row[0]) for row in rows]


# --- databases --------------------------------------------------------------------------------


def run_sqlite(data: tuple[list, list], args: argparse.Namespace) -> tuple[str, float, list, list]:  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory(prefix="supportbot-staffbench-") as folder:
        url = f"sqlite:///{Path(folder) / 'staff.db'}"
        say("sqlite: loading")
        seconds = load(url, *data)
        say(f"sqlite: loaded in {seconds:.1f} s; measuring")
        results, plan = measure(url, args.rows, args.repeats, args.export_repeats)
        return f"SQLite {sqlite3.sqlite_version}", seconds, results, plan


def run_postgres(
    data: tuple[list, list], args: argparse.Namespace
) -> tuple[str, float, list, list] | None:  # type: ignore[type-arg]
    admin_url = make_url(args.pg_admin_url)
    admin = create_engine(
        admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    name = f"supportbot_staffbench_{secrets.token_hex(4)}"
    try:
        with admin.connect() as connection:
            version = connection.exec_driver_sql("SHOW server_version").scalar()
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as error:  # noqa: BLE001 - any failure means: no PostgreSQL here
        say(f"PostgreSQL is unreachable ({type(error).__name__}); SQLite only.")
        admin.dispose()
        return None
    url = admin_url.set(drivername="postgresql+psycopg2", database=name).render_as_string(
        hide_password=False
    )
    try:
        say(f"postgres {version}: loading into {name}")
        seconds = load(url, *data)
        say(f"postgres: loaded in {seconds:.1f} s; measuring")
        results, plan = measure(url, args.rows, args.repeats, args.export_repeats)
        return f"PostgreSQL {str(version).split()[0]}", seconds, results, plan
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
        say(f"postgres: dropped database {name}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--export-repeats", type=int, default=3)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--pg-admin-url", default=DEFAULT_ADMIN_URL)
    args = parser.parse_args()
    started = time.perf_counter()
    data = generate(args.rows)
    say(
        f"generated {len(data[0]):,} conversations, {len(data[1]):,} surveys in {time.perf_counter() - started:.1f} s"
    )
    runs = []
    if args.only in (None, "sqlite"):
        runs.append(run_sqlite(data, args))
    if args.only in (None, "postgres"):
        found = run_postgres(data, args)
        if found:
            runs.append(found)
    print(
        f"\n{args.rows:,} conversations, {len(data[1]):,} surveys; median (p95) of {args.repeats} "
        f"runs after a warm-up ({args.export_repeats} for the export); {os.cpu_count()} CPUs."
    )
    header = f"{'operation':<34}{'rows':>7}" + "".join(f"{label[:22]:>26}" for label, *_ in runs)
    print(header)
    print("-" * len(header))
    for i, (name, rows) in enumerate((r.name, r.rows) for r in runs[0][2]):
        cells = "".join(f"{f'{run[2][i].median:.2f} ({run[2][i].p95:.2f}) ms':>26}" for run in runs)
        print(f"{name:<34}{rows:>7}{cells}")
    for label, seconds, _, plan in runs:
        print(f"\n{label}: loaded in {seconds:.1f} s. Plan of the first page:")
        for line in plan:
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
