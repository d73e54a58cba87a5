"""A manager's metric question answered in one message, with n and 95% intervals.

E.g. "NPS, last 30 days: 32 (95% CI 24 to 40, n = 412; 48% promoters, 16% detractors).
Previous 30 days: 27 — the change is not significant." With fewer than `min_n` answers an
NPS or CSAT is "too few answers (n = 7)" instead of a number.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.metrics import customer_value, queries
from bot.metrics.core import MIN_SAMPLE_SIZE, Comparison, MetricResult, compare, too_few
from bot.metrics.overview import overview
from bot.metrics.periods import Period
from bot.metrics.queries import EVERYTHING, Cut
from bot.metrics.questions import METRIC_LABELS, TOPIC_LABELS, MetricQuestion

PERCENT_METRICS = frozenset({
    "csat", "survey_response_rate", "containment", "handoff_rate", "fallback_rate",
    "retention", "churn",
})  # fmt: skip
SECONDS_METRICS = frozenset({"first_response_time", "response_time", "handoff_time"})
# Order-based metrics: about customers, not conversations, so they have no topic or channel.
CUSTOMER_METRICS = frozenset({"retention", "churn", "clv"})
# Bigger is better for these; for the rest (times, hand-offs, fallbacks, churn) smaller is.
HIGHER_IS_BETTER = frozenset({
    "nps", "csat", "survey_response_rate", "containment", "retention", "clv",
})  # fmt: skip
MIN_PAIN_POINT_ANSWERS = 20
CURRENCY = "EUR"


EXTRA_LABELS = {"handoff_time": "Time to hand-off"}


def label(metric: str) -> str:
    return METRIC_LABELS.get(metric) or EXTRA_LABELS.get(metric) or metric.replace("_", " ")


def format_number(metric: str, value: float) -> str:
    """A value in the metric's unit: NPS points, percent, seconds or euros."""
    if metric in PERCENT_METRICS:
        return f"{value:.0f}%"
    if metric in SECONDS_METRICS:
        if abs(value) >= 90:
            return f"{value / 60:.1f} min"
        return f"{value:.2f} s" if abs(value) < 1 else f"{value:.1f} s"
    if metric == "clv":
        return f"{value:,.2f} {CURRENCY}"
    return f"{value:.0f}"


def _bare(metric: str, value: float) -> str:
    """A bound of an interval, without the unit repeated."""
    if metric in SECONDS_METRICS and abs(value) < 1:
        return f"{value:.2f}"
    if metric in SECONDS_METRICS and abs(value) < 90:
        return f"{value:.1f}"
    if metric in SECONDS_METRICS:
        return f"{value / 60:.1f}"
    if metric == "clv":
        return f"{value:,.2f}"
    return f"{value:.0f}"


def format_result(metric: str, result: MetricResult, min_n: int = MIN_SAMPLE_SIZE) -> str:
    """ "32 (95% CI 24 to 40, n = 412; 48% promoters, 16% detractors)"."""
    if result.value is None:
        return f"no data yet (n = {result.n})"
    if too_few(result, min_n):
        return f"too few answers (n = {result.n:,})"
    details = [f"n = {result.n:,}"]
    if result.ci_low is not None and result.ci_high is not None:
        details.insert(
            0,
            f"95% CI {_bare(metric, result.ci_low)} to {_bare(metric, result.ci_high)}",
        )
    text = f"{format_number(metric, result.value)} ({', '.join(details)}"
    if metric == "nps" and result.n:
        promoters = 100 * result.counts.get("promoters", 0) / result.n
        detractors = 100 * result.counts.get("detractors", 0) / result.n
        text += f"; {promoters:.0f}% promoters, {detractors:.0f}% detractors"
    return text + ")"


def format_change(
    metric: str, comparison: Comparison, previous_label: str, min_n: int = MIN_SAMPLE_SIZE
) -> str:
    """ "Previous 30 days: 27 — the change is not significant." """
    before = comparison.previous
    if before.value is None:
        return f"{previous_label.capitalize()}: no data to compare with."
    shown = (
        f"too few answers (n = {before.n:,})"
        if too_few(before, min_n)
        else format_number(metric, before.value)
    )
    head = f"{previous_label[:1].upper()}{previous_label[1:]}: {shown}"
    if comparison.difference is None:
        return head + "."
    few = too_few(comparison.current, min_n) or too_few(before, min_n)
    if few or comparison.ci_low is None or comparison.ci_high is None:
        return head + " — too few answers to tell whether it changed."
    if not comparison.significant:
        return head + " — the change is not significant."
    direction = "up" if comparison.difference > 0 else "down"
    better = (comparison.difference > 0) == (metric in HIGHER_IS_BETTER)
    unit = " points" if metric in PERCENT_METRICS or metric == "nps" else ""
    if metric in SECONDS_METRICS:
        unit = " min" if abs(comparison.difference) >= 90 else " s"
    change = _bare(metric, abs(comparison.difference))
    return (
        f"{head} — {direction} {change}{unit}, a significant change for the "
        f"{'better' if better else 'worse'} (95% CI of the change "
        f"{_bare(metric, comparison.ci_low)} to {_bare(metric, comparison.ci_high)})."
    )


def _subject(metric: str, period: Period, cut: Cut) -> str:
    words = label(metric)
    if cut.topic:
        words += f" for {TOPIC_LABELS.get(cut.topic, cut.topic)}"
    return f"{words}, {period.label}"


def _customer_metric(session: Session, metric: str, period: Period) -> MetricResult:
    if metric == "clv":
        return customer_value.average_historical_clv(session, as_of=period.end)
    retention = customer_value.repeat_purchase_retention(session, period.start, period.end)
    return retention if metric == "retention" else customer_value.churn(retention)


def answer_metric(
    session: Session,
    metric: str,
    period: Period,
    cut: Cut = EVERYTHING,
    min_n: int = MIN_SAMPLE_SIZE,
) -> str:
    """One metric of a period with its interval, and how it compares with the period before."""
    previous = period.previous()
    if metric in CUSTOMER_METRICS:
        note = " (from orders, so not by topic)" if cut.topic else ""
        now = _customer_metric(session, metric, period)
        if metric == "clv":
            return (
                f"Average customer lifetime value, as of {period.label}{note}: "
                f"{format_result(metric, now)}, from each customer's discounted yearly revenue."
            )
        before = _customer_metric(session, metric, previous)
        return (
            f"{_subject(metric, period, Cut())}{note}: {format_result(metric, now)}. "
            + format_change(metric, compare(now, before), previous.label)
        )
    comparison = queries.with_previous(
        session, metric, (period.start, period.end), (previous.start, previous.end), cut
    )
    return (
        f"{_subject(metric, period, cut)}: {format_result(metric, comparison.current, min_n)}. "
        + format_change(metric, comparison, previous.label, min_n)
    )


def answer_breakdown(
    session: Session,
    metric: str,
    period: Period,
    by: str,
    cut: Cut = EVERYTHING,
    limit: int = 8,
    min_n: int = MIN_SAMPLE_SIZE,
) -> str:
    """One metric per topic, channel or variant, biggest samples first."""
    if metric in CUSTOMER_METRICS:
        return f"{label(metric)} comes from orders, so it cannot be broken down by {by}."
    groups = queries.metric_by(session, metric, period.start, period.end, by, cut)
    if not groups:
        return f"{_subject(metric, period, cut)}: no data yet (n = 0)."
    lines = [f"{label(metric)} by {by}, {period.label}:"]
    for name, result in list(groups.items())[:limit]:
        shown = TOPIC_LABELS.get(name, name) if by == "topic" else name
        lines.append(f"• {shown}: {format_result(metric, result, min_n)}")
    if len(groups) > limit:
        lines.append(f"…and {len(groups) - limit} more with fewer answers.")
    return "\n".join(lines)


def answer_pain_points(
    session: Session, period: Period, cut: Cut = EVERYTHING, min_n: int = MIN_SAMPLE_SIZE
) -> str:
    """The topics with the lowest CSAT and most detractors, with their samples."""
    points = queries.pain_points(
        session, period.start, period.end, min_answers=MIN_PAIN_POINT_ANSWERS, cut=cut
    )
    if not points:
        return (
            f"Not enough survey answers {period.label} to rank topics "
            f"(I need at least {MIN_PAIN_POINT_ANSWERS} per topic)."
        )
    lines = [
        f"Where we are worst, {period.label} (lowest CSAT first, topics with at least "
        f"{MIN_PAIN_POINT_ANSWERS} answers):"
    ]
    for rank, point in enumerate(points, start=1):
        score = (
            "too few answers"
            if too_few(point.nps, min_n)
            else format_number("nps", point.nps.value or 0)
        )
        lines.append(
            f"{rank}. {TOPIC_LABELS.get(point.topic, point.topic)}: CSAT "
            f"{format_result('csat', point.csat, min_n)}, "
            f"{format_number('csat', point.detractor_share.value or 0)} detractors "
            f"(NPS {score}, n = {point.nps.n:,})"
        )
    return "\n".join(lines)


OVERVIEW_WORDS = (
    "kpi", "stats", "statistic", "metrics", "numbers", "how are we doing", "how is the shop",
    "how did support", "summary", "summarise", "summarize", "report", "dashboard", "overview",
)  # fmt: skip
HEADLINE_METRICS = ("nps", "csat", "containment", "first_response_time", "survey_response_rate")


def wants_overview(text: str) -> bool:
    """Whether a question without a metric asks for the headline numbers ("our KPIs")."""
    lowered = text.lower()
    return any(word in lowered for word in OVERVIEW_WORDS)


def answer_overview(
    session: Session, period: Period, cut: Cut = EVERYTHING, min_n: int = MIN_SAMPLE_SIZE
) -> str:
    """The headline metrics of a period in one message, each with its change."""
    rows = {row.metric: row for row in overview(session, period, cut, with_customers=False)}
    lines = [f"The headline numbers, {period.label} (95% intervals; vs {period.previous().label}):"]
    for metric in HEADLINE_METRICS:
        row = rows[metric]
        change = format_change(metric, row.comparison, "before", min_n).split(" — ", 1)
        verdict = change[1].rstrip(".") if len(change) == 2 else "no earlier data"
        lines.append(f"• {label(metric)}: {format_result(metric, row.current, min_n)}; {verdict}")
    return "\n".join(lines)


def answer_question(
    session: Session, question: MetricQuestion, min_n: int = MIN_SAMPLE_SIZE
) -> str:
    """The whole reply to a manager's question (metrics, cut, breakdown or pain points).

    `min_n` is the fewest answers behind an NPS or CSAT given as a number
    (`Settings.min_sample_size`).
    """
    cut = Cut(topic=question.topic)
    if question.pain_points:
        return answer_pain_points(session, question.period, cut, min_n)
    parts = []
    for metric in question.metrics:
        if metric not in CUSTOMER_METRICS and not queries.is_supported(metric):
            parts.append(f"I can't report {label(metric)} yet.")
        elif question.by:
            parts.append(
                answer_breakdown(session, metric, question.period, question.by, cut, min_n=min_n)
            )
        else:
            parts.append(answer_metric(session, metric, question.period, cut, min_n))
    return "\n\n".join(parts)
