"""A manager's question about the experiments answered in one chat message, with n and 95%
intervals: which experiments there are, how one is doing, whether a variant won.

Only managers get an answer (`answer_experiment_question` refuses anyone else); the
numbers are `analyze`'s, the same the dashboard and `supportbot experiments analyze` show.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import sessionmaker

from bot.auth.tokens import Identity
from bot.experiments.analysis import Analysis, MetricAnalysis, VariantComparison, analyze
from bot.experiments.declarations import Declarations, Experiment
from bot.experiments.questions import ExperimentQuestion
from bot.metrics.core import MIN_SAMPLE_SIZE, MetricResult, too_few

FINISHED = ("decided", "stopped")


class NotAManager(PermissionError):
    """Experiments' results are for the shop's managers only."""


def _bare(metric: str, value: float) -> str:
    return f"{value:.1f}" if metric == "first_response_time" else f"{value:.0f}"


def _value(metric: str, value: float) -> str:
    unit = {"first_response_time": " s", "nps": ""}.get(metric, "%")
    return _bare(metric, value) + unit


def _estimate(metric: str, result: MetricResult, min_n: int) -> str:
    if result.value is None:
        return f"no data yet (n = {result.n:,})"
    if too_few(result, min_n):
        return f"too few answers (n = {result.n:,})"
    interval = ""
    if result.ci_low is not None and result.ci_high is not None:
        interval = f"95% CI {_bare(metric, result.ci_low)} to {_bare(metric, result.ci_high)}, "
    return f"{_value(metric, result.value)} ({interval}n = {result.n:,})"


def _difference(metric: str, compared: VariantComparison) -> str:
    k = 1.0 if metric == "first_response_time" else 100.0
    unit = " s" if metric == "first_response_time" else " points"
    c, s = compared.comparison, compared.sequential
    low, high = k * s.ci_low, k * s.ci_high
    if metric != "first_response_time":  # a difference of shares (or NPS) is within ±100
        span = 200.0 if metric == "nps" else 100.0
        low, high = max(low, -span), min(high, span)
    return (
        f"{k * c.difference:+.1f}{unit} (95% CI {low:.1f} to {high:.1f}, "
        f"always-valid; chance to beat the control {100 * compared.bayes.chance_to_beat:.0f}%)"
    )


def _metric_lines(analysis: MetricAnalysis, control: str, min_n: int) -> list[str]:
    lines = [
        f"  {name}{' (control)' if name == control else ''}: "
        f"{_estimate(analysis.metric, result, min_n)}"
        for name, result in analysis.estimates.items()
    ]
    lines += [
        f"  {c.variant} vs {control}: {_difference(analysis.metric, c)}"
        for c in analysis.against_control
    ]
    return lines


def _dates(experiment: Experiment) -> str:
    start = experiment.start.strftime("%-d %b %Y") if experiment.start else "?"
    end = experiment.planned_end.strftime("%-d %b %Y") if experiment.planned_end else "?"
    return f"{start} to {end}"


def _shipped(experiment: Experiment) -> str:
    """ "shipped A (Maria, 2026-12-02)"."""
    d = experiment.decision
    if d is None:
        return f"{experiment.status}, no variant shipped"
    when = f", {d.at[:10]}" if d.at else ""
    return f"shipped {d.ship} ({d.by}{when})"


def _decision(experiment: Experiment) -> str:
    d = experiment.decision
    if d is None:
        return _shipped(experiment)
    return f"{_shipped(experiment)}: {d.reason.rstrip('. ')}"


def _summary(analysis: Analysis) -> str:
    """One line: what is happening to the experiment now."""
    experiment = analysis.experiment
    if experiment.status in FINISHED:
        return _decision(experiment)
    if analysis.srm.mismatch:
        return f"verdict withheld: {analysis.srm.message}"
    if not analysis.verdicts:
        return "not enough data to compare the variants yet"
    return "; ".join(
        f"{v.text}" if len(analysis.verdicts) == 1 else f"{name}: {v.text}"
        for name, v in analysis.verdicts.items()
    )


def _headline(analysis: Analysis) -> str:
    experiment = analysis.experiment
    variants = " vs ".join(v.name for v in experiment.variants)
    exposed = sum(analysis.exposures.values())
    return (
        f"{experiment.name} ({experiment.focus}, {experiment.status}; {variants}; primary "
        f"{analysis.primary.label}; {exposed:,} exposed sessions)"
    )


def answer_list(
    declared: Declarations, uow: sessionmaker, now: datetime, status: str | None = None
) -> str:
    """The experiments (running, finished or all), each with where it stands."""
    chosen = [
        e
        for e in declared.experiments
        if status is None
        or (status == "running" and e.status == "running")
        or (status == "finished" and e.status in FINISHED)
    ]
    if not chosen:
        return (
            f"No experiments are {status} at the moment."
            if status
            else ("No experiments are declared.")
        )
    groups = [("running", ("running",)), ("finished", FINISHED), ("draft", ("draft",))]
    lines: list[str] = []
    for label, statuses in groups:
        group = [e for e in chosen if e.status in statuses]
        if not group:
            continue
        lines.append(f"{len(group)} {label}:")
        for experiment in group:
            analysis = analyze(experiment, uow, now)
            lines.append(f"• {_headline(analysis)}: {_summary(analysis)}")
    return "\n".join(lines)


def answer_one(
    experiment: Experiment,
    uow: sessionmaker,
    now: datetime,
    min_n: int = MIN_SAMPLE_SIZE,
    variant: str | None = None,
) -> str:
    """How one experiment is doing: per variant n and interval, the difference against the
    control (always-valid), the guardrails and the verdict. With `variant`, the reply opens
    with whether it won."""
    analysis = analyze(experiment, uow, now)
    control = experiment.control.name
    lines = [f"{_headline(analysis)}, {_dates(experiment)}:"]
    if variant is not None:
        lines.insert(0, _won(analysis, variant))
    if analysis.srm.mismatch:
        lines.append(f"⚠ {analysis.srm.message}")
    lines.append(f"{analysis.primary.label}:")
    lines += _metric_lines(analysis.primary, control, min_n)
    for guardrail, declared in zip(analysis.guardrails, experiment.guardrails, strict=True):
        states = ", ".join(f"{c.variant} {c.state}" for c in guardrail.against_control if c.state)
        lines.append(
            f"Guardrail {guardrail.label} (may fall by at most {declared.max_drop:g} points)"
            f"{': ' + states if states else ''}:"
        )
        lines += _metric_lines(guardrail, control, min_n)
    lines.append(f"Verdict: {_summary(analysis)}")
    return "\n".join(lines)


def _won(analysis: Analysis, variant: str) -> str:
    """ "Yes, ..." / "No, ..." / "Not yet, ..." for "did variant B win?"."""
    experiment = analysis.experiment
    if variant == experiment.control.name:
        others = ", ".join(v.name for v in experiment.variants[1:])
        head = f"{variant} is the control ({experiment.name}), compared with {others}."
        if experiment.decision:
            won = "kept" if experiment.decision.ship == variant else "replaced"
            return f"{head} It was {won}: {_shipped(experiment)}."
        return head
    if experiment.decision is not None:
        opening = "Yes" if experiment.decision.ship == variant else "No"
        return f"{opening}: {experiment.name} {_shipped(experiment)}."
    found = analysis.verdicts.get(variant)
    if found is None:
        return f"Not yet: there is not enough data to compare {variant} with the control."
    opening = {
        "ship": "Yes",
        "keep_control": "No",
        "stop": "No",
        "continue": "Not yet",
        "withheld": "Can't tell yet",
    }[found.decision]
    return f"{opening}: {found.text.rstrip('. ')}."


def answer_experiment_question(
    identity: Identity,
    question: ExperimentQuestion,
    declared: Declarations,
    uow: sessionmaker,
    now: datetime,
    min_n: int = MIN_SAMPLE_SIZE,
) -> str:
    """The reply to a manager's question about the experiments.

    Raises:
        NotAManager: for anyone but a manager; nothing is read then.
    """
    if identity.role != "manager":
        raise NotAManager("experiments' results are for managers")
    if question.kind == "list":
        return answer_list(declared, uow, now, question.status)
    if question.experiment is None:
        if question.candidates:
            names = " or ".join(question.candidates)
            return f"Which experiment do you mean: {names}?"
        known = ", ".join(
            f"{e.name} ({' vs '.join(v.name for v in e.variants)})" for e in declared.experiments
        )
        asked = f"variant {question.variant}" if question.variant else "that"
        return f"No experiment has {asked}. The experiments are: {known or 'none'}."
    experiment = declared.get(question.experiment)
    if experiment is None:
        return f"No experiment is called {question.experiment}."
    variant = question.variant if question.kind == "winner" else None
    if variant is not None:
        variant = next(
            (v.name for v in experiment.variants if v.name.lower() == variant.lower()), variant
        )
    if variant is not None and variant not in experiment.weights:
        names = ", ".join(v.name for v in experiment.variants)
        return f"{experiment.name} has no variant {variant}; its variants are {names}."
    if question.kind == "winner" and variant is None and len(experiment.variants) == 2:
        variant = experiment.variants[1].name
    return answer_one(experiment, uow, now, min_n, variant)
