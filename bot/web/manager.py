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

The experiments panel is the declared experiments' analysis, the same data as
/api/experiments: a card per experiment with its status, SRM and guardrail badges, each
variant's estimate, the comparisons against the control and the verdict; dashboard.js adds
the interval plots. It is not cut by the page's period: an experiment is judged on all its
exposures. The demo history's "A"/"B" variant column is no declared experiment (no weights,
no exposures, no control): its numbers stay in /api/metrics?by=variant, not on this panel.

The alerts panel lists the monitoring's open alerts (`bot.monitoring.open_alerts`, the same
as /api/alerts), each with its message: the numbers, n and the 95% interval.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from bot.auth.tokens import Identity, mint
from bot.bootstrap import Services
from bot.metrics import queries
from bot.metrics.answers import format_change, format_result, label
from bot.metrics.overview import overview
from bot.metrics.periods import DEFAULT_PERIOD_TEXT, Period, parse_period
from bot.metrics.questions import TOPIC_LABELS
from bot.monitoring import open_alerts
from bot.storage.session import session_scope
from bot.web.api import BUCKETS, MAX_PERIOD_LENGTH, experiments_data
from bot.web.app import SESSION_MAX_AGE
from bot.web.auth import current_user, render, require_role
from bot.web.keys import services_key
from bot.web.widget import content_security_policy, socket_url

TEMPLATE = "manager.html.j2"
# The badge of each kind of monitoring alert.
ALERT_KINDS = {"metric_drop": "metric", "guardrail_harmed": "guardrail", "srm": "SRM"}
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


def _amount(unit: str, value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.1f}" + {"percent": "%", "seconds": " s"}.get(unit, "")


def _change(unit: str, value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:+.1f}" + (" s" if unit == "seconds" else " points")


def _interval(unit: str, ends: list[float | None]) -> str:
    return f"{_change(unit, ends[0])} to {_change(unit, ends[1])}"


def _estimate(unit: str, result: dict[str, Any]) -> str:
    if result["value"] is None:
        return f"no data yet (n = {result['n']:,})"
    if result["too_few"]:
        return f"too few answers (n = {result['n']:,})"
    return (
        f"{_amount(unit, result['value'])} (95% CI {_amount(unit, result['ci_low'])} to "
        f"{_amount(unit, result['ci_high'])}, n = {result['n']:,})"
    )


def _p(value: float | None) -> str:
    return "?" if value is None else f"{value:.3f}" if value >= 0.001 else "< 0.001"


GUARDRAIL_TEXT = {
    "holds": "holds",
    "unresolved": "not yet shown to hold",
    "harmed": "harmed",
}


def _cuped(data: dict[str, Any]) -> dict[str, Any] | None:
    """The primary metric CUPED-adjusted: per variant its interval and the variance removed."""
    cuped = data["cuped"]
    if cuped is None:
        return None
    unit = data["primary"]["unit"]
    rows = [
        {
            "variant": c["variant"],
            "difference": _change(unit, c["difference"]),
            "ci": _interval(unit, c["ci"]),
            "unadjusted": _interval(unit, c["unadjusted_ci"]),
            "variance": (
                "?"
                if c["variance_reduction"] is None
                else f"variance {-100 * c['variance_reduction']:+.1f}%".replace("-", "\u2212")
            ),
        }
        for c in cuped["against_control"]
    ]
    return {"covariate": cuped["covariate"], "note": cuped["note"], "rows": rows}


def _card(data: dict[str, Any]) -> dict[str, Any]:
    """One experiment of `/api/experiments` as the panel shows it, every number as text."""
    total_weight = sum(v["weight"] for v in data["variants"]) or 1.0
    primary = data["primary"]
    exposed = sum(data["exposures"].values())
    if exposed == 0:
        srm = ("none", "SRM: no exposures yet")
    elif data["srm"]["mismatch"]:
        srm = ("bad", f"SRM: mismatch (p = {_p(data['srm']['p_value'])})")
    else:
        srm = ("good", f"SRM: split as designed (p = {_p(data['srm']['p_value'])})")
    guardrails = []
    for guard in data["guardrails"]:
        limit = f"may not fall by more than {guard['max_drop']:g} " + (
            "s" if guard["unit"] == "seconds" else "points"
        )
        if not guard["against_control"]:
            guardrails.append(("none", f"{guard['label']}: no data yet", limit))
        for c in guard["against_control"]:
            state = c["guardrail"] or "holds"
            tone = {"holds": "good", "unresolved": "warn", "harmed": "bad"}[state]
            guardrails.append(
                (tone, f"{guard['label']}, {c['variant']}: {GUARDRAIL_TEXT[state]}", limit)
            )
    comparisons = []
    for role, metric in [("primary", primary)] + [("guardrail", g) for g in data["guardrails"]]:
        for c in metric["against_control"]:
            comparisons.append(
                {
                    "metric": metric["label"],
                    "role": role,
                    "variant": c["variant"],
                    "difference": _change(metric["unit"], c["difference"]),
                    "ci": _interval(metric["unit"], c["ci"]),
                    "always_valid": _interval(metric["unit"], c["always_valid_ci"]),
                    "p": _p(c["p_value"]),
                    "holm_p": _p(c["holm_p_value"]) if c["holm_p_value"] is not None else "–",
                    "chance": (
                        "?"
                        if c["chance_to_beat_control"] is None
                        else f"{100 * c['chance_to_beat_control']:.0f}%"
                    ),
                }
            )
    decision = data["decision"]
    return {
        "name": data["name"],
        "focus": data["focus"],
        "status": data["status"],
        "hypothesis": data["hypothesis"],
        "primary_label": data["primary_label"],
        "primary_unit": primary["unit"],
        "mde": data["minimum_detectable_effect"],
        "dates": f"{data['start'] or '?'} to {data['planned_end'] or '?'}",
        "decision": (
            f"decided: ship {decision['ship']} ({decision['by']}): {decision['reason']}"
            if decision
            else None
        ),
        "srm": srm,
        "srm_message": data["srm"]["message"] if exposed else None,
        "guardrails": guardrails,
        "variants": [
            {
                "name": v["name"],
                "control": v["name"] == data["control"],
                "share": f"{100 * v['weight'] / total_weight:.0f}%",
                "exposures": v["exposures"],
                "estimate": _estimate(primary["unit"], primary["variants"][v["name"]]),
            }
            for v in data["variants"]
        ],
        "comparisons": comparisons,
        "cuped": _cuped(data),
        "remaining": data["remaining"],
        "verdicts": [(v, d["decision"], d["text"]) for v, d in data["verdicts"].items()],
        "has_history": any(series["points"] for series in data["over_time"]),
    }


def _experiments(services: Services) -> dict[str, Any]:
    data = experiments_data(services)
    return {
        "cards": [_card(experiment) for experiment in data["experiments"]],
        "problems": data["problems"],
        "file": services.settings.experiments_file.name,
    }


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
            }

    data = await asyncio.to_thread(read)
    data["experiments"] = await asyncio.to_thread(_experiments, services)
    manager = Identity(role=user.role, name=user.name)
    data["alerts"] = await asyncio.to_thread(open_alerts, manager, services.session_factory)
    data["alert_kinds"] = ALERT_KINDS
    data["monitor_minutes"] = services.settings.monitor_interval_seconds / 60
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
