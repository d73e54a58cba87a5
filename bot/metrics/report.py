"""The shop manager's report: one self-contained HTML page of the customer-experience metrics.

`supportbot report --out report.html` writes it. The page stands alone: plots are PNGs
embedded as base64 data URIs, the style sheet is inline, and there is no script, font or link
to anything outside the file, so it can be mailed or opened offline.

Sections, each plot with a title, axis labels and a one-sentence takeaway computed from the
same numbers: the headline metrics of the last 30 days against the previous 30 days; NPS and
CSAT per month; the score distributions; cohort retention by first-order month; pain points
(topics by CSAT) and what unhappy customers wrote; containment and first response time per
month. Every metric carries its n and, where it has one, its 95% interval; an NPS or CSAT of
fewer than `min_n` answers reads "too few answers (n = 7)" and is left out of the plots.

Plots use matplotlib's object API (`Figure` with `FigureCanvasAgg`): no pyplot, no global
backend and no rcParams change, so importing or running this touches no global state.
Everything from the database reaches the page through jinja2 with autoescaping on.
"""

from __future__ import annotations

import base64
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.metrics import customer_value, queries
from bot.metrics.answers import (
    HIGHER_IS_BETTER,
    MIN_PAIN_POINT_ANSWERS,
    PERCENT_METRICS,
    SECONDS_METRICS,
    format_number,
    format_result,
    label,
)
from bot.metrics.core import MIN_SAMPLE_SIZE, Comparison, MetricResult, nps_from_counts, too_few
from bot.metrics.overview import overview
from bot.metrics.periods import MONTH_NAMES, Period, parse_period
from bot.metrics.queries import SURVEY_METRICS, PainPoint
from bot.metrics.questions import TOPIC_LABELS
from bot.storage.models import Conversation, Order, SurveyResponse

REPORT_PERIOD = "last 30 days"
HEADLINE_METRICS = ("nps", "csat", "containment", "first_response_time", "survey_response_rate")
PAIN_POINT_LIMIT = 8
COMMENT_LIMIT = 5
# The worst month of a trend is named among months with at least this many answers (when any).
MIN_MONTH_N = 20
TEMPLATE = "report.html.j2"
TEMPLATES_DIR = Path(__file__).with_name("templates")

DPI = 100
LINE = "#1f5f99"
DETRACTOR = "#c0392b"
PASSIVE = "#e0a526"
PROMOTER = "#2e8b57"
NOT_SATISFIED = "#9aa5b1"
GRID = "#e3e6ea"


@dataclass(frozen=True)
class Chart:
    """One plot: its title, a data: URI of the PNG (None: nothing to plot) and a takeaway."""

    title: str
    takeaway: str
    image: str | None = None

    @property
    def alt(self) -> str:
        return f"{self.title}. {self.takeaway}"


@dataclass(frozen=True)
class HeadlineRow:
    label: str
    current: str
    previous: str
    change: str
    verdict: str  # "better", "worse" or "" (no significant change): a CSS class


@dataclass(frozen=True)
class PainPointRow:
    topic: str
    csat: str
    detractors: str
    nps: str


@dataclass(frozen=True)
class CommentRow:
    when: str
    topic: str
    scores: str
    comment: str


# --- formatting -------------------------------------------------------------------------------


def _typeset(text: str) -> str:
    """A real minus sign before numbers: "-12" becomes "−12"; "2026-01" stays."""
    return re.sub(r"(?<![\w.])-(?=\d)", "\u2212", text)


def _num(metric: str, value: float) -> str:
    return _typeset(format_number(metric, value))


def _result(metric: str, result: MetricResult, min_n: int) -> str:
    return _typeset(format_result(metric, result, min_n))


def _topic(name: str) -> str:
    return TOPIC_LABELS.get(name, name)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _month(day: date) -> str:
    return f"{MONTH_NAMES[day.month - 1]} {day.year}"


def _day(day: date) -> str:
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def _plot_text(text: str, limit: int = 40) -> str:
    """Text for a plot: shortened, with "$" escaped so matplotlib draws it instead of math."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def _is_points(metric: str) -> bool:
    return metric in PERCENT_METRICS or metric == "nps"


def _signed(metric: str, value: float) -> str:
    if _is_points(metric):
        text = f"{value:+.0f}"
        return "0" if text in ("+0", "-0") else text
    return ("+" if value >= 0 else "-") + format_number(metric, abs(value))


def _change(metric: str, comparison: Comparison, min_n: int) -> tuple[str, str]:
    """The change against the previous period, and "better"/"worse" when it is significant."""
    difference = comparison.difference
    if difference is None:
        return "no data to compare", ""
    if too_few(comparison.current, min_n) or too_few(comparison.previous, min_n):
        return "too few answers to tell", ""
    unit = " points" if _is_points(metric) else ""
    text = f"{_signed(metric, difference)}{unit}"
    if comparison.ci_low is None or comparison.ci_high is None:
        return _typeset(text + ", too few answers to tell"), ""
    interval = (
        f"95% CI {_signed(metric, comparison.ci_low)} to {_signed(metric, comparison.ci_high)}"
    )
    if not comparison.significant:
        return _typeset(f"{text} ({interval}), not significant"), ""
    better = (difference > 0) == (metric in HIGHER_IS_BETTER)
    return _typeset(f"{text} ({interval}), significant"), "better" if better else "worse"


# --- plotting ---------------------------------------------------------------------------------


def _figure(width: float = 8.0, height: float = 3.4) -> Any:
    """A Figure on its own Agg canvas: no pyplot, no global backend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI, constrained_layout=True)
    FigureCanvasAgg(figure)
    return figure


def _axes(figure: Any, title: str, xlabel: str, ylabel: str) -> Any:
    ax = figure.add_subplot()
    ax.set_title(_plot_text(title, 80), loc="left", fontsize=11, fontweight="bold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    return ax


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _month_starts(start: date, end: date) -> list[date]:
    """The first days of the months from `start`'s month up to (excluding) `end`."""
    months, current = [], start.replace(day=1)
    while current < end:
        months.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return months


def _month_ticks(months: Sequence[date]) -> list[str]:
    return [
        f"{MONTH_NAMES[m.month - 1][:3]}\n{m.year}"
        if i == 0 or m.month == 1
        else MONTH_NAMES[m.month - 1][:3]
        for i, m in enumerate(months)
    ]


def _count_word(metric: str) -> str:
    return "answers" if metric in SURVEY_METRICS else "conversations"


def trend_takeaway(
    metric: str, series: Sequence[tuple[date, MetricResult]], min_n: int = MIN_SAMPLE_SIZE
) -> str:
    """E.g. "NPS was lowest in July 2026: −12 (n = 1,204); latest, November 2026: 20 (n = 310)".

    Months with too few answers for a number (fewer than `min_n`) are left out.
    """
    name = label(metric)
    with_data = [(when, r) for when, r in series if r.value is not None]
    known = [(when, r) for when, r in with_data if not too_few(r, min_n)]
    if with_data and not known:
        most = max(r.n for _, r in with_data)
        return f"Too few answers for {name} in every month (at most n = {most:,})."
    if not known:
        return f"No data: no {name} in these months."
    if len(known) == 1:
        when, result = known[0]
        assert result.value is not None
        return (
            f"{name} in {_month(when)}: {_num(metric, result.value)} (n = {result.n:,}), "
            "the only month with data."
        )
    solid = [p for p in known if p[1].n >= MIN_MONTH_N] or known
    qualifier = (
        f" among months with at least {MIN_MONTH_N} {_count_word(metric)}"
        if len(solid) < len(known)
        else ""
    )
    higher_is_better = metric in HIGHER_IS_BETTER
    pick = min if higher_is_better else max
    worst_when, worst = pick(solid, key=lambda p: p[1].value or 0.0)
    word = "lowest" if higher_is_better else "highest"
    if metric in SECONDS_METRICS:
        word = "slowest"
    assert worst.value is not None
    text = (
        f"{name} was {word}{qualifier} in {_month(worst_when)}: "
        f"{_num(metric, worst.value)} (n = {worst.n:,})"
    )
    latest_when, latest = known[-1]
    if latest_when != worst_when and latest.value is not None:
        text += f"; latest, {_month(latest_when)}: {_num(metric, latest.value)} (n = {latest.n:,})"
    return text + "."


def _trend_chart(
    metric: str,
    months: Sequence[date],
    by_month: dict[date, MetricResult],
    title: str,
    ylabel: str,
    min_n: int,
) -> Chart:
    takeaway = trend_takeaway(metric, [(m, by_month[m]) for m in months if m in by_month], min_n)
    # Months with too few answers are gaps in the plot, like months without data.
    by_month = {m: r for m, r in by_month.items() if not too_few(r, min_n)}
    if not any(r.value is not None for r in by_month.values()):
        return Chart(title, takeaway)

    def pick(attribute: str) -> list[float]:
        values = []
        for m in months:
            value = getattr(by_month[m], attribute) if m in by_month else None
            values.append(math.nan if value is None else float(value))
        return values

    values, lows, highs = pick("value"), pick("ci_low"), pick("ci_high")
    x = list(range(len(months)))
    figure = _figure()
    ax = _axes(figure, title, "Month", ylabel)
    banded = [not (math.isnan(lo) or math.isnan(hi)) for lo, hi in zip(lows, highs, strict=True)]
    if any(banded):
        ax.fill_between(
            x,
            [lo if ok else 0.0 for lo, ok in zip(lows, banded, strict=True)],
            [hi if ok else 0.0 for hi, ok in zip(highs, banded, strict=True)],
            where=banded,
            color=LINE,
            alpha=0.18,
            linewidth=0,
            label="95% interval",
        )
    ax.plot(x, values, color=LINE, marker="o", linewidth=2, label=label(metric))
    for xi, m in zip(x, months, strict=True):
        result = by_month.get(m)
        if result is not None and result.value is not None:
            ax.annotate(
                f"n={result.n:,}",
                (xi, result.value),
                textcoords="offset points",
                xytext=(0, 7),
                ha="center",
                fontsize=7,
                color="#555555",
            )
    if metric == "nps":
        ax.axhline(0, color="#888888", linewidth=0.8)
    known = [v for v in values + lows + highs if not math.isnan(v)]
    if _is_points(metric):
        floor, ceiling = (-100.0, 100.0) if metric == "nps" else (0.0, 100.0)
        # Room for the points and their n at the ends of the scale.
        ax.set_ylim(max(floor, min(known) - 10) - 4, min(ceiling, max(known) + 10) + 8)
    else:
        ax.set_ylim(0, max(known) * 1.2 or 1.0)
    ax.set_xticks(x)
    ax.set_xticklabels(_month_ticks(months), fontsize=8)
    ax.set_xlim(-0.5, len(months) - 0.5)
    ax.legend(loc="best", fontsize=8, frameon=False)
    return Chart(title, takeaway, _png(figure))


def _nps_distribution(counts: dict[int, int], period: Period, min_n: int) -> Chart:
    title = f"NPS answers, {period.label}"
    total = sum(counts.values())
    if total == 0:
        return Chart(title, f"No data: no NPS answers in the {period.label}.")
    promoters = sum(c for s, c in counts.items() if s >= 9)
    detractors = sum(c for s, c in counts.items() if s <= 6)
    score = nps_from_counts(promoters, total - promoters - detractors, detractors)
    assert score.value is not None
    verdict = (
        "too few answers for an NPS"
        if too_few(score, min_n)
        else f"so NPS = {_num('nps', score.value)}"
    )
    takeaway = (
        f"Of {total:,} answers in the {period.label}, {100 * promoters / total:.0f}% were "
        f"promoters (9–10) and {100 * detractors / total:.0f}% detractors (0–6), {verdict}."
    )
    figure = _figure()
    ax = _axes(figure, title, "Score (0–10)", "Answers")
    groups = (
        ("Detractors (0–6)", range(0, 7), DETRACTOR),
        ("Passives (7–8)", range(7, 9), PASSIVE),
        ("Promoters (9–10)", range(9, 11), PROMOTER),
    )
    for name, scores, colour in groups:
        bars = ax.bar(list(scores), [counts.get(s, 0) for s in scores], color=colour, label=name)
        ax.bar_label(bars, fontsize=7, color="#555555")
    ax.set_xticks(range(0, 11))
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.margins(y=0.15)
    return Chart(title, takeaway, _png(figure))


def _csat_distribution(counts: dict[int, int], period: Period) -> Chart:
    title = f"CSAT answers, {period.label}"
    total = sum(counts.values())
    if total == 0:
        return Chart(title, f"No data: no CSAT answers in the {period.label}.")
    satisfied = counts.get(4, 0) + counts.get(5, 0)
    common = max(sorted(counts), key=lambda s: counts[s])
    takeaway = (
        f"{100 * satisfied / total:.0f}% of {total:,} answers in the {period.label} were 4 or 5 "
        f"(CSAT); the most common score was {common} ({counts[common]:,} answers)."
    )
    figure = _figure()
    ax = _axes(figure, title, "Score (1–5)", "Answers")
    for name, scores, colour in (
        ("Not satisfied (1–3)", range(1, 4), NOT_SATISFIED),
        ("Satisfied (4–5)", range(4, 6), PROMOTER),
    ):
        bars = ax.bar(list(scores), [counts.get(s, 0) for s in scores], color=colour, label=name)
        ax.bar_label(bars, fontsize=7, color="#555555")
    ax.set_xticks(range(1, 6))
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.margins(y=0.15)
    return Chart(title, takeaway, _png(figure))


def cohort_takeaway(table: customer_value.CohortTable) -> str:
    """The size-weighted share of new customers who ordered again the month after their first."""
    pairs = [
        (size, row[0])
        for size, row in zip(table.sizes, table.retained, strict=True)
        if size and row and row[0] is not None
    ]
    if not pairs:
        return "No data: no cohort of first-time buyers has had a full month after its first yet."
    customers = sum(size for size, _ in pairs)
    again = sum(hits for _, hits in pairs if hits is not None)
    cohorts = "cohort" if len(pairs) == 1 else "cohorts"
    return (
        f"On average {100 * again / customers:.0f}% of new customers ordered again in the month "
        f"after their first order (n = {customers:,} customers in {len(pairs)} {cohorts})."
    )


def _cohort_chart(table: customer_value.CohortTable) -> Chart:
    title = "Retention by first-order month"
    takeaway = cohort_takeaway(table)
    rows = [i for i, size in enumerate(table.sizes) if size]
    # Offsets up to the last one with a rate: later months have not ended for any cohort.
    width = max(
        (k + 1 for i in rows for k, rate in enumerate(table.rates[i]) if rate is not None),
        default=0,
    )
    if width == 0:
        return Chart(title, takeaway)
    offsets = table.offsets[:width]
    data = [
        [math.nan if rate is None else float(rate) for rate in table.rates[i][:width]] for i in rows
    ]
    known = [v for row in data for v in row if not math.isnan(v)]
    top = max(max(known, default=0.0), 1.0)

    figure = _figure(8.0, 1.6 + 0.34 * len(rows))
    ax = _axes(figure, title, "Months after the first order", "First-order month (customers)")
    ax.grid(False)
    ax.set_facecolor("#f4f5f7")  # cells of months not over yet are left blank
    image = ax.imshow(
        np.ma.masked_invalid(np.array(data, dtype=float)),
        cmap="Blues",
        vmin=0,
        vmax=top,
        aspect="auto",
        interpolation="nearest",
    )
    for r, row in enumerate(data):
        for c, value in enumerate(row):
            if not math.isnan(value):
                ax.text(
                    c, r, f"{value:.0f}%", ha="center", va="center", fontsize=7,
                    color="white" if value > 0.6 * top else "#222222",
                )  # fmt: skip
    ax.set_xticks(range(len(offsets)))
    ax.set_xticklabels([str(k) for k in offsets], fontsize=8)
    ax.set_yticks(range(len(rows)))
    labels = []
    for i in rows:
        year, month = (int(part) for part in table.cohorts[i].split("-"))
        labels.append(f"{MONTH_NAMES[month - 1][:3]} {year} (n = {table.sizes[i]:,})")
    ax.set_yticklabels(labels, fontsize=8)
    colourbar = figure.colorbar(image, ax=ax, shrink=0.9)
    colourbar.set_label("% of the cohort ordering", fontsize=8)
    return Chart(title, takeaway, _png(figure))


def _pain_point_chart(points: Sequence[PainPoint], period: Period) -> Chart:
    title = f"Topics by CSAT, {period.label}"
    if not points:
        return Chart(
            title,
            f"No data: not enough survey answers in the {period.label} to rank topics "
            f"(at least {MIN_PAIN_POINT_ANSWERS} per topic are needed).",
        )
    worst = points[0]
    csat_text = "no CSAT" if worst.csat.value is None else _num("csat", worst.csat.value)
    takeaway = (
        f"{_capitalised(_topic(worst.topic))} has the lowest CSAT: {csat_text} "
        f"(n = {worst.csat.n:,}), and {_num('csat', worst.detractor_share.value or 0)} of its "
        f"NPS answers are detractors (n = {worst.nps.n:,})."
    )
    figure = _figure(8.0, 1.4 + 0.45 * len(points))
    ax = _axes(figure, title, "CSAT (% of answers 4 or 5), with 95% interval", "Topic")
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color=GRID, linewidth=0.8)
    y = list(range(len(points)))
    values = [p.csat.value or 0.0 for p in points]
    below = [
        v - (p.csat.ci_low if p.csat.ci_low is not None else v)
        for v, p in zip(values, points, strict=True)
    ]
    above = [
        (p.csat.ci_high if p.csat.ci_high is not None else v) - v
        for v, p in zip(values, points, strict=True)
    ]
    ax.barh(y, values, xerr=[below, above], color=LINE, alpha=0.85, ecolor="#333333", capsize=3)
    for yi, point, value, extra in zip(y, points, values, above, strict=True):
        detractors = _num("csat", point.detractor_share.value or 0)
        ax.text(
            value + extra + 1.5, yi, f"{detractors} detractors · n = {point.csat.n:,}",
            va="center", fontsize=8, color="#333333",
        )  # fmt: skip
    ax.set_yticks(y)
    ax.set_yticklabels([_plot_text(_topic(p.topic)) for p in points], fontsize=9)
    ax.invert_yaxis()  # the worst topic on top
    ax.set_xlim(0, 135)
    ax.set_xticks(range(0, 101, 20))
    return Chart(title, takeaway, _png(figure))


# --- data -------------------------------------------------------------------------------------


def _headline(session: Session, period: Period, min_n: int) -> list[HeadlineRow]:
    rows = {row.metric: row for row in overview(session, period, with_customers=False)}
    found = []
    for metric in HEADLINE_METRICS:
        comparison = rows[metric].comparison
        change, verdict = _change(metric, comparison, min_n)
        found.append(
            HeadlineRow(
                label=label(metric),
                current=_result(metric, comparison.current, min_n),
                previous=_result(metric, comparison.previous, min_n),
                change=change,
                verdict=verdict,
            )
        )
    return found


def _monthly(
    session: Session, metric: str, start: datetime, end: datetime
) -> dict[date, MetricResult]:
    return dict(queries.trend(session, metric, start, end, bucket="month"))


def _pain_point_rows(points: Sequence[PainPoint], min_n: int) -> list[PainPointRow]:
    rows = []
    for point in points:
        share = point.detractor_share
        detractors = "no NPS answers"
        if share.value is not None:
            detractors = _num("csat", share.value)
            if share.ci_low is not None and share.ci_high is not None:
                detractors += f" (95% CI {share.ci_low:.0f} to {share.ci_high:.0f})"
        nps_text = "no data" if point.nps.value is None else _num("nps", point.nps.value)
        if too_few(point.nps, min_n):
            nps_text = "too few answers"
        rows.append(
            PainPointRow(
                topic=_capitalised(_topic(point.topic)),
                csat=_result("csat", point.csat, min_n),
                detractors=detractors,
                nps=f"{nps_text} (n = {point.nps.n:,})",
            )
        )
    return rows


def _unhappy_comments(session: Session, period: Period, limit: int) -> list[CommentRow]:
    """The newest comments of detractors (NPS 0–6) or unsatisfied answers (CSAT 1–2)."""
    model = SurveyResponse
    query = (
        select(model.created_at, model.topic, model.nps, model.csat, model.comment)
        .where(
            model.created_at >= period.start,
            model.created_at < period.end,
            model.comment.is_not(None),
            model.comment != "",
            or_(model.nps <= 6, model.csat <= 2),
        )
        .order_by(model.created_at.desc(), model.id.desc())
        .limit(limit)
    )
    rows = []
    for created_at, topic, nps, csat, comment in session.execute(query):
        scores = []
        if nps is not None:
            scores.append(f"NPS {nps}")
        if csat is not None:
            scores.append(f"CSAT {csat}")
        rows.append(
            CommentRow(
                _day(created_at.date()), _capitalised(_topic(topic)), " · ".join(scores), comment
            )
        )
    return rows


def _count(session: Session, query: Any) -> int:
    return int(session.execute(query).scalar() or 0)


def _rows_read(
    session: Session,
    start: datetime,
    end: datetime,
    table: customer_value.CohortTable,
    as_of: datetime,
) -> str:
    surveys = _count(
        session,
        select(func.count()).where(
            SurveyResponse.created_at >= start, SurveyResponse.created_at < end
        ),
    )
    conversations = _count(
        session,
        select(func.count()).where(Conversation.started_at >= start, Conversation.started_at < end),
    )
    text = (
        f"{surveys:,} survey records and {conversations:,} conversation summaries from "
        f"{_day(start.date())} to {_day((end - timedelta(days=1)).date())}"
    )
    if table.cohorts:
        year, month = (int(part) for part in table.cohorts[0].split("-"))
        first = datetime(year, month, 1)
        orders = _count(
            session,
            select(func.count()).where(
                Order.placed_at >= first,
                Order.placed_at < as_of,
                Order.status.notin_(list(customer_value.EXCLUDED_STATUSES)),
            ),
        )
        text += (
            f"; {orders:,} orders (not cancelled) placed from {_month(first.date())} on, with "
            f"{sum(table.sizes):,} customers ordering for the first time (the cohorts)"
        )
    return text + "."


# --- the page ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def build_report(
    session: Session,
    as_of: datetime,
    months: int = 12,
    generated_at: datetime | None = None,
    min_n: int = MIN_SAMPLE_SIZE,
) -> str:
    """The report as of `as_of` (naive UTC, or aware) as one HTML page.

    Args:
        session: A session on the app database (read only).
        as_of: The report's "now": the last 30 days end with its day, the trends and cohorts
            run up to its month.
        months: How many months the trends and the cohort table cover, this one included.
        generated_at: The time printed in the footer (default: the current time).
        min_n: The fewest answers behind an NPS or CSAT shown as a number
            (`Settings.min_sample_size`).
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    as_of = _naive_utc(as_of)
    today = as_of.date()
    period = parse_period(REPORT_PERIOD, today)
    assert period is not None  # a fixed, valid phrase
    previous = period.previous()

    # `months` calendar months up to the one of `as_of`.
    first_month = today.replace(day=1)
    for _ in range(months - 1):
        first_month = (first_month - timedelta(days=1)).replace(day=1)
    month_list = _month_starts(first_month, period.end.date())
    trend_start = datetime(first_month.year, first_month.month, 1)
    trend_end = period.end

    monthly = {
        metric: _monthly(session, metric, trend_start, trend_end)
        for metric in ("nps", "csat", "containment", "first_response_time")
    }
    trends = [
        _trend_chart(
            "nps", month_list, monthly["nps"], "NPS per month", "NPS (−100 to 100)", min_n
        ),
        _trend_chart(
            "csat",
            month_list,
            monthly["csat"],
            "CSAT per month",
            "CSAT (% of answers 4 or 5)",
            min_n,
        ),
    ]
    operations = [
        _trend_chart(
            "containment",
            month_list,
            monthly["containment"],
            "Containment per month",
            "% of conversations without hand-off",
            min_n,
        ),
        _trend_chart(
            "first_response_time",
            month_list,
            monthly["first_response_time"],
            "First response time per month",
            "Mean first response time (s)",
            min_n,
        ),
    ]
    distributions = [
        _nps_distribution(
            queries.score_distribution(session, "nps", period.start, period.end), period, min_n
        ),
        _csat_distribution(
            queries.score_distribution(session, "csat", period.start, period.end), period
        ),
    ]
    cohort_table = customer_value.cohort_retention(session, as_of, months=months)
    points = queries.pain_points(
        session,
        period.start,
        period.end,
        min_answers=MIN_PAIN_POINT_ANSWERS,
        limit=PAIN_POINT_LIMIT,
    )
    last_day = (period.end - timedelta(days=1)).date()
    context = {
        "title": "Customer experience report",
        "as_of": _day(today),
        "period_label": period.label,
        "period_dates": f"{_day(period.start.date())} to {_day(last_day)}",
        "previous_label": previous.label,
        "previous_dates": (
            f"{_day(previous.start.date())} to {_day((previous.end - timedelta(days=1)).date())}"
        ),
        "months": months,
        "month_range": f"{_month(month_list[0])} to {_month(month_list[-1])}",
        "headline": _headline(session, period, min_n),
        "trends": trends,
        "distributions": distributions,
        "cohort": _cohort_chart(cohort_table),
        "pain_chart": _pain_point_chart(points, period),
        "pain_rows": _pain_point_rows(points, min_n),
        "min_sample_size": min_n,
        "min_answers": MIN_PAIN_POINT_ANSWERS,
        "comments": _unhappy_comments(session, period, COMMENT_LIMIT),
        "comment_limit": COMMENT_LIMIT,
        "operations": operations,
        "rows_read": _rows_read(session, trend_start, trend_end, cohort_table, as_of),
        "generated_at": _naive_utc(generated_at or datetime.now(timezone.utc)).strftime(
            "%Y-%m-%d %H:%M UTC"
        ),
    }
    return _environment().get_template(TEMPLATE).render(**context)


def write_report(
    session: Session,
    path: str | Path,
    as_of: datetime,
    months: int = 12,
    min_n: int = MIN_SAMPLE_SIZE,
) -> Path:
    """Write `build_report` to `path` (UTF-8), creating its folder; returns the path."""
    target = Path(path)
    html = build_report(session, as_of, months, min_n=min_n)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    return target
