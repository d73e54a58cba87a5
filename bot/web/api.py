"""The managers' JSON API under /api/: the same numbers as `supportbot metrics --json`.

Every endpoint but /api/openapi.json needs a manager: the session cookie of a signed-in
manager, or `Authorization: Bearer <token>` with a role token made for the API
(`supportbot token --role manager --audience api`). No credentials, or a token that is
forged, expired or made for the chat: 401 with `WWW-Authenticate: Bearer`; a customer's or
staff member's: 403.

An NPS or CSAT of fewer answers than `Settings.min_sample_size` carries `"too_few": true`:
show "too few answers (n = 7)", not its value.

Every metrics endpoint takes `period` (plain English, default "last 30 days") and `topic`,
`channel` and `variant` to narrow the conversations counted. /api/experiments is the declared
experiments' analysis over all their exposures (`bot.experiments.output`), with no filters;
/api/alerts the monitoring's open alerts (`bot.monitoring`). Unknown periods, metrics, buckets
and malformed numbers are a 400 with `{"error": "bad_request", "message": ...}`.

Times are ISO 8601 in UTC ("2026-11-01T00:00:00Z"); periods are half open, `start <= t < end`.
The queries are synchronous SQLAlchemy; they run in worker threads, off the event loop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import partial, wraps
from typing import Any

import jwt
from aiohttp import web
from sqlalchemy.orm import Session

from bot.auth.tokens import Identity, decode
from bot.bootstrap import Services
from bot.experiments.output import experiments_report
from bot.metrics import customer_value, queries
from bot.metrics.answers import label
from bot.metrics.cli_output import metrics_json
from bot.metrics.overview import result_json
from bot.metrics.periods import DEFAULT_PERIOD_TEXT, Period, parse_period
from bot.metrics.queries import CUTS, Cut
from bot.metrics.questions import TOPIC_LABELS
from bot.metrics.report import trend_takeaway
from bot.monitoring import NotAllowed, open_alerts
from bot.web.db import in_session
from bot.web.keys import services_key

MANAGER = "manager"
BUCKETS = ("week", "month")
QUESTIONS = ("nps", "csat")
MAX_MONTHS = 120
MAX_PAIN_POINTS = 50
MAX_PERIOD_LENGTH = 200  # "since the first Monday of October 2026" is long enough
REALM = 'Bearer realm="supportbot"'
API_AUDIENCE = "api"
TOKEN_COMMAND = "supportbot token --role manager --audience api"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# --- JSON ---------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    """ISO 8601 for dates and times (naive ones are UTC), text for anything else."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def dumps(data: Any) -> str:
    """The API's JSON: never fails on a date, a Decimal or another odd value."""
    return json.dumps(data, default=_json_default)


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    response = web.json_response(data, status=status, dumps=dumps, headers=headers)
    # Business numbers: neither shared caches nor the browser's history keep them.
    response.headers["Cache-Control"] = "no-store"
    return response


class BadRequest(Exception):
    """A query parameter the API cannot use; the message says which and why."""


def _error(
    status: int, error: str, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    return json_response({"error": error, "message": message}, status=status, headers=headers)


# --- Who is asking ------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """Who made a request: their role and name, and how they proved it."""

    role: str
    name: str | None
    via: str  # "session" or "token"


class _InvalidToken(Exception):
    pass


def _token_caller(key: str, header: str) -> Caller:
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _InvalidToken("use 'Authorization: Bearer <token>'")
    if not token.isascii():  # a JWT is base64url and dots; PyJWT fails on other bytes
        raise _InvalidToken("the token is not a token")
    try:  # only a token made for the API: a chat token, forged or expired, is a 401
        identity = decode(key, token, API_AUDIENCE)
    except jwt.PyJWTError as error:
        raise _InvalidToken(
            "the token is invalid or expired, or not made for the API "
            f"(mint one with '{TOKEN_COMMAND}')"
        ) from error
    return Caller(identity.role, identity.name, "token")


async def caller_of(request: web.Request) -> Caller | None:
    """The caller proven by a bearer token (when one is sent) or else the session cookie.

    Raises `_InvalidToken` for an Authorization header that proves nothing.
    """
    header = request.headers.get("Authorization")
    if header is not None:
        return _token_caller(request.app[services_key].signing_key(), header)
    from bot.web.auth import current_user

    user = await current_user(request)
    if user is None:
        return None
    return Caller(user.role, user.name, "session")


def manager_only(handler: Handler) -> Handler:
    """401 without credentials or with a bad token, 403 unless the caller is a manager."""

    @wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            caller = await caller_of(request)
        except _InvalidToken as error:
            return _error(
                401,
                "unauthorized",
                str(error),
                {"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
            )
        if caller is None:
            return _error(
                401,
                "unauthorized",
                "sign in as a manager, or send 'Authorization: Bearer <token>' with a "
                f"token from '{TOKEN_COMMAND}'",
                {"WWW-Authenticate": REALM},
            )
        if caller.role != MANAGER:
            return _error(403, "forbidden", "the metrics are for managers only")
        try:
            return await handler(request)
        except BadRequest as error:
            return _error(400, "bad_request", str(error))

    return guarded


# --- Query parameters ---------------------------------------------------------------------


def _period(request: web.Request) -> Period:
    text = request.query.get("period", "").strip() or DEFAULT_PERIOD_TEXT
    if len(text) > MAX_PERIOD_LENGTH:
        raise BadRequest(f"period must be at most {MAX_PERIOD_LENGTH} characters")
    period = parse_period(text, request.app[services_key].now().date())
    if period is None:
        raise BadRequest(
            f"unknown period {text!r}; try e.g. 'last 30 days', 'this month', "
            "'last quarter', 'last 12 months', 'Q3 2026' or 'since 1 October'"
        )
    return period


def _cut(request: web.Request) -> Cut:
    values = {name: (request.query.get(name) or "").strip() or None for name in CUTS}
    return Cut(**values)


def _int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number, not {text!r}") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be between {low} and {high}")
    return value


def _choice(
    request: web.Request, name: str, choices: tuple[str, ...], default: str | None
) -> str | None:
    value = request.query.get(name) or default
    if value is not None and value not in choices:
        raise BadRequest(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")
    return value


def _period_json(period: Period) -> dict[str, Any]:
    return {"label": period.label, "start": period.start, "end": period.end}


def _min_n(request: web.Request) -> int:
    return request.app[services_key].settings.min_sample_size


def _cut_json(cut: Cut) -> dict[str, str | None]:
    return {"topic": cut.topic, "channel": cut.channel, "variant": cut.variant}


# --- Month and week arithmetic ------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _bucket_start(day: date, bucket: str) -> date:
    return day - timedelta(days=day.weekday()) if bucket == "week" else day.replace(day=1)


def _next_bucket(day: date, bucket: str) -> date:
    return day + timedelta(days=7) if bucket == "week" else _add_months(day, 1)


def trend_range(period: Period, months: int, bucket: str) -> tuple[datetime, datetime]:
    """The `months` calendar months up to the end of `period`, from a bucket's first day.

    Weekly trends start on the Monday of the first month's first week, so no week is cut.
    """
    last_day = (period.end - timedelta(microseconds=1)).date()
    first = _bucket_start(_add_months(last_day.replace(day=1), -(months - 1)), bucket)
    return datetime.combine(first, datetime.min.time()), period.end


# --- Handlers -----------------------------------------------------------------------------


@manager_only
async def get_metrics(request: web.Request) -> web.StreamResponse:
    period, cut = _period(request), _cut(request)
    by = _choice(request, "by", CUTS, None)
    data = await in_session(
        request, partial(metrics_json, period=period, cut=cut, by=by, min_n=_min_n(request))
    )
    return json_response(data)


@manager_only
async def get_trend(request: web.Request) -> web.StreamResponse:
    metric = request.match_info["metric"]
    if not queries.is_supported(metric):
        supported = queries.SURVEY_METRICS + queries.CONVERSATION_METRICS
        raise BadRequest(f"unknown metric {metric!r}; choose one of {', '.join(supported)}")
    period, cut = _period(request), _cut(request)
    bucket = _choice(request, "bucket", BUCKETS, "month")
    assert bucket is not None
    months = _int(request, "months", 12, 1, MAX_MONTHS)
    min_n = _min_n(request)
    start, end = trend_range(period, months, bucket)
    series = dict(
        await in_session(
            request, lambda session: queries.trend(session, metric, start, end, bucket, cut)
        )
    )
    points = []
    day = start.date()
    while datetime.combine(day, datetime.min.time()) < end:
        following = _next_bucket(day, bucket)
        result = series.get(day)
        points.append(
            {
                "bucket": day,
                "start": datetime.combine(day, datetime.min.time()),
                "end": min(datetime.combine(following, datetime.min.time()), end),
                **(result_json(result, min_n) if result else _empty_result()),
            }
        )
        day = following
    data: dict[str, Any] = {
        "metric": metric,
        "label": label(metric),
        "bucket": bucket,
        "months": months,
        "start": start,
        "end": end,
        "period": _period_json(period),
        "cut": _cut_json(cut),
        "points": points,
    }
    if bucket == "month":
        data["takeaway"] = trend_takeaway(metric, sorted(series.items()), min_n)
    return json_response(data)


def _empty_result() -> dict[str, Any]:
    return {"value": None, "n": 0, "ci_low": None, "ci_high": None, "counts": {}, "too_few": False}


@manager_only
async def get_distribution(request: web.Request) -> web.StreamResponse:
    question = request.match_info["question"]
    if question not in QUESTIONS:
        raise BadRequest(f"no score distribution for {question!r}; choose nps or csat")
    period, cut, min_n = _period(request), _cut(request), _min_n(request)

    def read(session: Session) -> tuple[dict[int, int], dict[str, Any]]:
        counts = queries.score_distribution(session, question, period.start, period.end, cut)
        result = queries.metric_result(session, question, period.start, period.end, cut)
        return counts, result_json(result, min_n)

    counts, result = await in_session(request, read)
    return json_response(
        {
            "question": question,
            "label": label(question),
            "period": _period_json(period),
            "cut": _cut_json(cut),
            "n": sum(counts.values()),
            "scores": [{"score": score, "count": count} for score, count in counts.items()],
            "result": result,
        }
    )


@manager_only
async def get_pain_points(request: web.Request) -> web.StreamResponse:
    period, cut = _period(request), _cut(request)
    min_answers = _int(request, "min_answers", 20, 1, 1_000_000)
    limit = _int(request, "limit", 8, 1, MAX_PAIN_POINTS)
    min_n = _min_n(request)
    points = await in_session(
        request,
        lambda session: queries.pain_points(
            session, period.start, period.end, min_answers=min_answers, limit=limit, cut=cut
        ),
    )
    return json_response(
        {
            "period": _period_json(period),
            "cut": _cut_json(cut),
            "min_answers": min_answers,
            "limit": limit,
            "topics": [
                {
                    "topic": point.topic,
                    "label": TOPIC_LABELS.get(point.topic, point.topic),
                    "n": max(point.csat.n, point.nps.n),
                    "csat": result_json(point.csat, min_n),
                    "nps": result_json(point.nps, min_n),
                    "detractor_share": result_json(point.detractor_share, min_n),
                }
                for point in points
            ],
        }
    )


@manager_only
async def get_cohorts(request: web.Request) -> web.StreamResponse:
    period, cut = _period(request), _cut(request)
    if not cut.is_everything:
        raise BadRequest(
            "cohorts count customers' orders, not conversations: "
            "they cannot be narrowed to a topic, channel or variant"
        )
    months = _int(request, "months", 12, 1, MAX_MONTHS)
    # A month counts once it has ended: by the period's end, but not later than now.
    as_of = min(period.end, request.app[services_key].now())
    table = await in_session(
        request, lambda session: customer_value.cohort_retention(session, as_of, months=months)
    )
    return json_response(
        {
            "period": _period_json(period),
            "as_of": table.as_of,
            "months": months,
            "offsets": table.offsets,
            "cohorts": [
                {"cohort": name, "size": size, "retained": retained, "rates": rates}
                for name, size, retained, rates in zip(
                    table.cohorts, table.sizes, table.retained, table.rates, strict=True
                )
            ],
        }
    )


def experiments_data(services: Services) -> dict[str, Any]:
    """Every declared experiment with its analysis, and the file's entries left out.

    `Services.experiments()` holds the decisions in force; the analysis reads the database
    (run it off the event loop).
    """
    return experiments_report(
        services.experiments(),
        services.session_factory,
        services.now(),
        services.settings.min_sample_size,
    )


@manager_only
async def get_experiments(request: web.Request) -> web.StreamResponse:
    services = request.app[services_key]
    return json_response(await asyncio.to_thread(experiments_data, services))


def alerts_data(services: Services, identity: Identity) -> dict[str, Any]:
    """The open monitoring alerts, newest first (`bot.monitoring.open_alerts`: managers only)."""
    return {
        "alerts": [alert.to_json() for alert in open_alerts(identity, services.session_factory)],
        "interval_seconds": services.settings.monitor_interval_seconds,
    }


@manager_only
async def get_alerts(request: web.Request) -> web.StreamResponse:
    caller = await caller_of(request)
    assert caller is not None  # manager_only let only a manager through
    identity = Identity(role=caller.role, name=caller.name)
    try:
        data = await asyncio.to_thread(alerts_data, request.app[services_key], identity)
    except NotAllowed as error:
        return _error(403, "forbidden", str(error))
    return json_response(data)


async def get_openapi(request: web.Request) -> web.StreamResponse:
    from bot.web.openapi import openapi_document

    response = web.json_response(openapi_document(), dumps=dumps)
    response.headers["Access-Control-Allow-Origin"] = "*"  # public: tools may read it anywhere
    return response


def setup(app: web.Application) -> None:
    app.router.add_get("/api/openapi.json", get_openapi, name="api_openapi")
    app.router.add_get("/api/metrics", get_metrics, name="api_metrics")
    app.router.add_get("/api/metrics/{metric}/trend", get_trend, name="api_trend")
    app.router.add_get(
        "/api/metrics/{question}/distribution", get_distribution, name="api_distribution"
    )
    app.router.add_get("/api/pain-points", get_pain_points, name="api_pain_points")
    app.router.add_get("/api/cohorts", get_cohorts, name="api_cohorts")
    app.router.add_get("/api/experiments", get_experiments, name="api_experiments")
    app.router.add_get("/api/alerts", get_alerts, name="api_alerts")
