"""The managers' dashboard at /manager: the metrics as text and charts, and the chat.

The page is rendered with every number as text (value, 95% interval, n), so it reads
without JavaScript; `static/dashboard.js` then draws the charts (Chart.js, served from
/static/vendor) from the JSON API with the session cookie. No inline script: the page works
under `Content-Security-Policy: script-src 'self'`. The period and bucket selectors are a
plain GET form.

The chat widget is embedded signed in as the manager (a manager role token in the widget's
metadata), so "what's our NPS this month?" can be asked right beside the charts.

An NPS or CSAT with fewer answers than `Settings.min_sample_size` reads "too few answers
(n = 7)", on the page and in the charts' tables (dashboard.js reads the API's `too_few`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from bot.auth.tokens import mint
from bot.metrics import queries
from bot.metrics.answers import SECONDS_METRICS, format_change, format_result, label
from bot.metrics.core import MetricResult
from bot.metrics.overview import overview
from bot.metrics.periods import DEFAULT_PERIOD_TEXT, Period, parse_period
from bot.metrics.questions import TOPIC_LABELS
from bot.storage.session import session_scope
from bot.web.api import BUCKETS, EXPERIMENT_METRICS, MAX_PERIOD_LENGTH, experiments_json
from bot.web.app import SESSION_MAX_AGE
from bot.web.auth import current_user, render, require_role
from bot.web.keys import services_key
from bot.web.widget import content_security_policy, socket_url

TEMPLATE = "manager.html.j2"
# The period choices offered on the page; any other period the API understands works too.
PERIOD_CHOICES = ("last 30 days", "this month", "last quarter", "last 12 months")
BUCKET_LABELS = {"month": "Monthly", "week": "Weekly"}
HEADLINE_METRICS = (
    "nps",
    "csat",
    "containment",
    "first_response_time",
    "response_time",
    "survey_response_rate",
)
# The charts drawn by dashboard.js: metric, title, axis label, unit.
TREND_CHARTS = (
    ("nps", "NPS", "NPS (−100 to 100)", "points"),
    ("csat", "CSAT", "% of answers 4 or 5", "percent"),
    ("containment", "Containment", "% of conversations without hand-off", "percent"),
    ("first_response_time", "First response time", "mean seconds", "seconds"),
    ("response_time", "Mean response time", "mean seconds", "seconds"),
    ("survey_response_rate", "Survey response rate", "% of surveys answered", "percent"),
)
TREND_MONTHS = 12
PAIN_POINT_MIN_ANSWERS = 20
PAIN_POINT_LIMIT = 8
# The widget keeps its conversation per page kind: the manager's chat is not the shop's.
WIDGET_STORAGE_KEY = "supportbot-manager"


@dataclass(frozen=True)
class HeadlineRow:
    metric: str
    label: str
    result: str
    n: int
    change: str


@dataclass(frozen=True)
class PainPointRow:
    topic: str
    n: int
    csat: str
    nps: str
    detractors: str


@dataclass(frozen=True)
class VariantRow:
    variant: str
    results: dict[str, str]


def _headline(session: Session, period: Period, min_n: int) -> list[HeadlineRow]:
    rows = {row.metric: row for row in overview(session, period, with_customers=False)}
    previous_label = period.previous().label
    return [
        HeadlineRow(
            metric=metric,
            label=label(metric),
            result=format_result(metric, rows[metric].current, min_n),
            n=rows[metric].current.n,
            change=format_change(metric, rows[metric].comparison, previous_label, min_n),
        )
        for metric in HEADLINE_METRICS
    ]


def _pain_points(session: Session, period: Period, min_n: int) -> list[PainPointRow]:
    points = queries.pain_points(
        session, period.start, period.end, PAIN_POINT_MIN_ANSWERS, PAIN_POINT_LIMIT
    )
    return [
        PainPointRow(
            topic=TOPIC_LABELS.get(point.topic, point.topic),
            n=max(point.csat.n, point.nps.n),
            csat=format_result("csat", point.csat, min_n),
            nps=format_result("nps", point.nps, min_n),
            detractors=format_result("csat", point.detractor_share, min_n),  # a percentage
        )
        for point in points
    ]


def _experiments(session: Session, period: Period, min_n: int) -> dict[str, Any] | None:
    data = experiments_json(session, period, queries.EVERYTHING, min_n)
    if not data["variants"]:
        return None
    rows = [
        VariantRow(
            variant=variant,
            results={
                metric: _result_text(metric, data["metrics"][metric]["by_variant"].get(variant))
                for metric in EXPERIMENT_METRICS
            },
        )
        for variant in data["variants"]
    ]
    differences = []
    for metric in EXPERIMENT_METRICS:
        for change in data["metrics"][metric]["differences"]:
            differences.append(_difference_text(metric, change))
    return {
        "variants": data["variants"],
        "baseline": data["baseline"],
        "metrics": [(metric, label(metric)) for metric in EXPERIMENT_METRICS],
        "rows": rows,
        "differences": differences,
    }


def _result_text(metric: str, result: dict[str, Any] | None) -> str:
    if result is None:
        return "no data"
    fields = {key: value for key, value in result.items() if key != "too_few"}
    if result["too_few"]:
        return f"too few answers (n = {result['n']:,})"
    return format_result(metric, MetricResult(name=metric, **fields))


def _difference_text(metric: str, change: dict[str, Any]) -> str:
    name = f"{label(metric)}, {change['variant']} against {change['baseline']}"
    if change["difference"] is None:
        return f"{name}: no data to compare."
    unit = " s" if metric in SECONDS_METRICS else " points"
    text = f"{name}: {change['difference']:+.1f}{unit}"
    if change["too_few"] or change["ci_low"] is None or change["ci_high"] is None:
        return text + " (too few answers to tell)."
    verdict = "significant" if change["significant"] else "not significant"
    return f"{text} (95% CI {change['ci_low']:+.1f} to {change['ci_high']:+.1f}, {verdict})."


@require_role("manager")
async def dashboard(request: web.Request) -> web.StreamResponse:
    services = request.app[services_key]
    user = await current_user(request)
    assert user is not None  # require_role let only a manager through
    today = services.now().date()
    asked = request.query.get("period", "").strip()[:MAX_PERIOD_LENGTH]
    period = parse_period(asked, today) if asked else None
    notice = None
    if period is None:
        if asked:
            notice = f"Sorry, I don't understand the period {asked!r}; showing the last 30 days."
        period = parse_period(DEFAULT_PERIOD_TEXT, today)
        assert period is not None
        asked = DEFAULT_PERIOD_TEXT
    bucket = request.query.get("bucket", "month")
    if bucket not in BUCKETS:
        bucket = "month"

    min_n = services.settings.min_sample_size

    def read() -> dict[str, Any]:
        with session_scope(services.session_factory) as session:
            return {
                "headline": _headline(session, period, min_n),
                "pain_points": _pain_points(session, period, min_n),
                "experiments": _experiments(session, period, min_n),
            }

    data = await asyncio.to_thread(read)
    # Good for as long as the session: the page holds it, so it is no longer-lived than that.
    # A chat token: it speaks for the manager in the widget, never to the JSON API.
    token = mint(
        services.signing_key(),
        "manager",
        name=user.name,
        valid_for=timedelta(seconds=SESSION_MAX_AGE),
        audience="chat",
    )
    last_day = (period.end - timedelta(days=1)).date()
    url = socket_url(request)
    context = {
        "period": period,
        "period_text": asked,
        "period_dates": f"{period.start:%d %b %Y} – {last_day:%d %b %Y}",
        "previous": period.previous(),
        "period_choices": PERIOD_CHOICES,
        "bucket": bucket,
        "bucket_labels": BUCKET_LABELS,
        "notice": notice,
        "trend_charts": TREND_CHARTS,
        "trend_months": TREND_MONTHS,
        "pain_point_min_answers": PAIN_POINT_MIN_ANSWERS,
        "widget_token": token,
        "widget_socket_url": url,
        "widget_title": "Ask about the metrics",
        "widget_storage_key": WIDGET_STORAGE_KEY,
        **data,
    }
    response = await render(TEMPLATE, request, context)
    response.headers["Content-Security-Policy"] = content_security_policy(url)
    # The page carries a role token: no cache keeps it, no other site frames it.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def setup(app: web.Application) -> None:
    app.router.add_get("/manager", dashboard, name="manager")
