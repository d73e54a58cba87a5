"""What `supportbot metrics` prints: a table for people, JSON for programs.

An NPS or CSAT of fewer than `min_n` answers (`Settings.min_sample_size`) shows as
"too few" in the table, with a note under it, and as `"too_few": true` in the JSON.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.metrics.answers import PERCENT_METRICS, format_number, label
from bot.metrics.core import MIN_SAMPLE_SIZE, Comparison, MetricResult, too_few
from bot.metrics.overview import breakdown, comparison_json, overview, result_json
from bot.metrics.periods import Period
from bot.metrics.queries import EVERYTHING, Cut
from bot.metrics.questions import TOPIC_LABELS

BREAKDOWN_COLUMNS = ("nps", "csat", "containment", "first_response_time", "survey_response_rate")


def _cell(metric: str, result: MetricResult, min_n: int) -> str:
    if result.value is None:
        return "–"
    return "too few" if too_few(result, min_n) else format_number(metric, result.value)


def _interval(metric: str, result: MetricResult, min_n: int) -> str:
    if result.ci_low is None or result.ci_high is None or too_few(result, min_n):
        return "–"
    return f"{format_number(metric, result.ci_low)} to {format_number(metric, result.ci_high)}"


def _change(metric: str, comparison: Comparison, min_n: int) -> str:
    if comparison.difference is None:
        return "–"
    if too_few(comparison.current, min_n) or too_few(comparison.previous, min_n):
        return "too few answers to tell"
    sign = "+" if comparison.difference >= 0 else "−"
    if metric in PERCENT_METRICS or metric == "nps":
        size = f"{abs(comparison.difference):.0f} pts"
    else:
        size = format_number(metric, abs(comparison.difference))
    verdict = "significant" if comparison.significant else "not significant"
    return f"{sign}{size} ({verdict})"


def _describe_cut(cut: Cut) -> str:
    parts = []
    if cut.topic:
        parts.append(f"topic {TOPIC_LABELS.get(cut.topic, cut.topic)}")
    if cut.channel:
        parts.append(f"channel {cut.channel}")
    if cut.variant:
        parts.append(f"variant {cut.variant}")
    return f" ({', '.join(parts)})" if parts else ""


def _span(period: Period) -> str:
    last_day = period.end - timedelta(microseconds=1)
    return f"{period.start:%d %b %Y} – {last_day:%d %b %Y}"


def _too_few_notes(comparison: Comparison, name: str, min_n: int) -> list[str]:
    """E.g. "NPS: too few answers (n = 7); a number needs at least 10." """
    notes = []
    for result, which in ((comparison.current, ""), (comparison.previous, ", previous period")):
        if too_few(result, min_n):
            notes.append(
                f"{name}{which}: too few answers (n = {result.n:,}); a number needs at least "
                f"{min_n} (SUPPORTBOT_MIN_SAMPLE_SIZE)."
            )
    return notes


def metrics_text(
    session: Session,
    period: Period,
    cut: Cut = EVERYTHING,
    by: str | None = None,
    min_n: int = MIN_SAMPLE_SIZE,
) -> str:
    """The metrics of a period as an aligned table, with intervals, n and the change."""
    if by:
        return _breakdown_text(session, period, cut, by, min_n)
    previous = period.previous()
    lines = [
        f"Customer-experience metrics, {period.label}{_describe_cut(cut)} ({_span(period)}), "
        f"compared with {previous.label}",
        "",
        f"{'metric':<24}{'value':>12}  {'95% CI':<22}{'n':>9}  {'previous':>11}  change",
    ]
    notes: list[str] = []
    for row in overview(session, period, cut):
        now = row.current
        notes += _too_few_notes(row.comparison, label(row.metric), min_n)
        lines.append(
            f"{label(row.metric):<24}{_cell(row.metric, now, min_n):>12}  "
            f"{_interval(row.metric, now, min_n):<22}{now.n:>9,}  "
            f"{_cell(row.metric, row.previous, min_n):>11}  "
            f"{_change(row.metric, row.comparison, min_n)}"
        )
    return "\n".join(lines + ([""] + notes if notes else []))


def _breakdown_text(session: Session, period: Period, cut: Cut, by: str, min_n: int) -> str:
    groups = breakdown(session, period, by, cut)
    header = f"{by:<22}{'chats':>8}" + "".join(f"{label(m):>22}" for m in BREAKDOWN_COLUMNS)
    lines = [f"Metrics by {by}, {period.label}{_describe_cut(cut)} ({_span(period)})", "", header]
    for name, results in groups.items():
        shown = TOPIC_LABELS.get(name, name) if by == "topic" else name
        cells = "".join(
            f"{_cell(m, results[m], min_n) + f' (n={results[m].n:,})':>22}"
            for m in BREAKDOWN_COLUMNS
        )
        lines.append(f"{shown:<22}{results['containment'].n:>8,}{cells}")
    if not groups:
        lines.append("(no conversations in this period)")
    return "\n".join(lines)


def metrics_json(
    session: Session,
    period: Period,
    cut: Cut = EVERYTHING,
    by: str | None = None,
    min_n: int = MIN_SAMPLE_SIZE,
) -> dict[str, Any]:
    """The same numbers as a JSON-ready dictionary."""
    previous = period.previous()
    data: dict[str, Any] = {
        "period": {"label": period.label, "start": period.start, "end": period.end},
        "previous_period": {"label": previous.label, "start": previous.start, "end": previous.end},
        "cut": {"topic": cut.topic, "channel": cut.channel, "variant": cut.variant},
    }
    if by:
        data["by"] = by
        data["groups"] = {
            name: {metric: result_json(result, min_n) for metric, result in results.items()}
            for name, results in breakdown(session, period, by, cut).items()
        }
    else:
        data["metrics"] = {
            row.metric: comparison_json(row.comparison, min_n)
            for row in overview(session, period, cut)
        }
    return data
