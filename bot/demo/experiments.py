"""The demo's experiments: a finished one and the running ones, so every state shows.

`seed_experiments` runs after the history (`bot.demo.history`) and writes, through the
repositories and use cases the live bot uses:

- `reply-tone`, decided: the history's last 90 days split each chat 50/50 between "A" and
  "B" (by conversation). Each of those chats is an exposure of its conversation (unit
  `conversation:<id>`, at the chat's start), and the decision declared in
  `data/experiments.yml` is recorded (`record_decision`, so the audit log has it too) at the
  demo's "now", by the demo manager the file names.
- every running experiment: the history's chats from the experiment's start (at most
  `RUNNING_DAYS` back) to the demo's "now" that reached its exposure point, each given its
  variant by `assign` (the signed-in customer, else the conversation, as in a live chat):
  survey-wording where the survey was asked, early-handoff where the bot misunderstood a
  message, recommender-model where a signed-in customer asked for suggestions (those get
  three personal suggestions from the variant's model, some of them asked about). The
  history's answers do not depend on these variants, so their analyses find no difference.
  When the demo's "now" is not after an experiment's start, it gets nothing.

Exposures are written once per session (the repository ignores a second one) and the
decision only when the experiment has none, so seeding again adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.demo.history import CONVERSATION_PREFIX, EXPERIMENT_DAYS, STREAM
from bot.demo.seed import Progress, demo_today
from bot.experiments.analysis import MetricAnalysis, analyze
from bot.experiments.assignment import assign, unit_of
from bot.experiments.decisions import latest_decisions, record_decision
from bot.experiments.declarations import Declarations, Experiment
from bot.settings import Settings
from bot.storage.models import Conversation, Product, Recommendation
from bot.storage.repositories import ExposureRepository, RecommendationRepository
from bot.storage.session import session_scope

REPLY_TONE = "reply-tone"
RUNNING_DAYS = 28
SUGGESTIONS = 3
PICKED_SHARE = {"ease": 0.14, "als": 0.14}  # the same: the demo plants no model effect
SUGGESTION_REASON = "picked for you from what customers like you bought"
CHUNK = 1_000
# A running experiment's exposure point comes a little into the chat (reply-tone's at its start).
EXPOSED_AFTER = timedelta(seconds=20)


@dataclass(frozen=True)
class ExperimentSeedSummary:
    """Exposures added per experiment, and whether reply-tone's decision was recorded now."""

    exposures: dict[str, int] = field(default_factory=dict)
    decision_recorded: bool = False
    skipped: dict[str, str] = field(default_factory=dict)


def _chats(session: Session, start: datetime, end: datetime) -> list[Conversation]:
    return list(
        session.execute(
            select(Conversation)
            .where(
                Conversation.conversation_id.like(f"{CONVERSATION_PREFIX}%"),
                Conversation.started_at >= start,
                Conversation.started_at < end,
            )
            .order_by(Conversation.started_at, Conversation.id)
        ).scalars()
    )


def _reaches(experiment: Experiment, chat: Conversation) -> bool:
    """Whether the chat got to the point where the experiment's variants differ."""
    if experiment.name == "survey-wording":
        return bool(chat.survey_asked)
    if experiment.name == "early-handoff":
        return chat.fallbacks >= 1
    if experiment.name == "recommender-model":
        return chat.topic == "ask_recommendation" and chat.customer_id is not None
    return False


Exposure = tuple[str, str, str, str, str, datetime]  # experiment, variant, unit, chat, key, at


def _record(uow: sessionmaker, rows: list[Exposure], progress: Progress | None) -> int:
    """The rows as exposures, a chunk per transaction; how many were new."""
    added = 0
    for begin in range(0, len(rows), CHUNK):
        with session_scope(uow) as session:
            exposures = ExposureRepository(session)
            for row in rows[begin : begin + CHUNK]:
                added += exposures.record(*row)
        if progress:
            progress(f"{rows[0][0]} exposures", min(begin + CHUNK, len(rows)), len(rows))
    return added


def _suggest(
    uow: sessionmaker, chats: list[tuple[Conversation, str]], seed: int, now: datetime
) -> None:
    """Personal suggestions from each chat's model, some asked about, unless it has some."""
    rng = np.random.default_rng([seed, STREAM, 7])
    with session_scope(uow) as session:
        products = list(
            session.execute(
                select(Product.id).where(Product.stock > 0).order_by(Product.id)
            ).scalars()
        )
        if len(products) < SUGGESTIONS:
            return
        repository = RecommendationRepository(session)
        for chat, model in chats:
            picks = [int(p) for p in rng.choice(products, size=SUGGESTIONS, replace=False)]
            asked = rng.random(SUGGESTIONS) < PICKED_SHARE.get(model, 0.14)
            shown_at = chat.started_at + EXPOSED_AFTER
            already = session.execute(
                select(func.count())
                .select_from(Recommendation)
                .where(Recommendation.conversation_id == chat.conversation_id)
            ).scalar_one()
            if already:
                continue
            repository.shown(
                chat.conversation_id, chat.customer_id, picks, ["personal"] * SUGGESTIONS,
                [SUGGESTION_REASON] * SUGGESTIONS, model, shown_at,
            )  # fmt: skip
            chosen = [p for p, yes in zip(picks, asked, strict=True) if yes]
            if chosen:
                session.flush()
                repository.picked(chat.conversation_id, chosen, shown_at + timedelta(seconds=40))


def _difference(analysis: MetricAnalysis) -> str:
    """ "B - A +1.1 points (95% CI -1.6 to 3.9, p = 0.416)" for the first variant compared."""
    if not analysis.against_control:
        return f"{analysis.label}: too little data"
    c = analysis.against_control[0]
    return (
        f"{analysis.label} {c.variant} - control {100 * c.comparison.difference:+.1f} points "
        f"(95% CI {100 * c.comparison.ci_low:.1f} to {100 * c.comparison.ci_high:.1f}, "
        f"p = {c.comparison.p_value:.3f})"
    )


def decision_from_analysis(
    experiment: Experiment, uow: sessionmaker, now: datetime
) -> tuple[str, str]:
    """The variant the analysis of the seeded data supports and why, in its own numbers.

    The demo's numbers move with its date (the history is drawn anew around it), so the
    decision is read from the data seeded, not written down beforehand: the verdict on the
    primary metric (ship the variant, else keep the control), with the CUPED result, the
    guardrail and the NPS beside it.
    """
    analysis = analyze(experiment, uow, now)
    nps = analyze(replace(experiment, primary_metric="nps", guardrails=()), uow, now).primary
    [(variant, verdict)] = analysis.verdicts.items()
    ship = variant if verdict.decision == "ship" else experiment.control.name
    exposed = sum(analysis.exposures.values())
    parts = [
        f"{exposed:,} chats over {EXPERIMENT_DAYS} days: {verdict.text}",
        _difference(analysis.primary),
    ]
    cuped = analysis.cuped
    if cuped is not None and cuped.note:
        parts.append(f"CUPED: {cuped.note}")
    elif cuped is not None and variant in cuped.comparisons:
        parts.append(
            f"CUPED on the customers' earlier answers removed "
            f"{max(100 * cuped.comparisons[variant].variance_reduction, 0.0):.1f}% of the "
            "variance"
        )
    parts += [_difference(g) for g in analysis.guardrails]
    parts.append(_difference(nps) + " (not the metric the test was planned for)")
    return ship, "; ".join(parts) + "."


def seed_experiments(
    factory: sessionmaker,
    settings: Settings,
    declared: Declarations,
    progress: Progress | None = None,
) -> ExperimentSeedSummary:
    """Record the demo history's exposures for reply-tone (and its decision) and the
    running experiments; idempotent."""
    now = datetime.combine(demo_today(settings), time.min)
    summary = ExperimentSeedSummary()
    reply_tone = declared.get(REPLY_TONE)
    if reply_tone is not None:
        with session_scope(factory) as session:
            rows = [
                (REPLY_TONE, str(c.variant), unit_of(None, c.conversation_id), c.conversation_id,
                 c.session_key, c.started_at)
                for c in _chats(session, now - timedelta(days=400), now)
                if c.variant in reply_tone.weights
            ]  # fmt: skip
        summary.exposures[REPLY_TONE] = _record(factory, rows, progress)
        with session_scope(factory) as session:
            decided = REPLY_TONE in latest_decisions(session)
        if not decided and reply_tone.decision is not None:
            running = replace(reply_tone, status="running", decision=None)
            ship, reason = decision_from_analysis(running, factory, now)
            record_decision(
                running, "decide", reply_tone.decision.by, reason, factory, now, ship=ship
            )
            summary = replace(summary, decision_recorded=True)
    for experiment in declared.experiments:
        if experiment.status != "running":
            continue
        if experiment.start is None or datetime.combine(experiment.start, time.min) >= now:
            summary.skipped[experiment.name] = "starts after the demo's today"
            continue
        start = max(
            datetime.combine(experiment.start, time.min), now - timedelta(days=RUNNING_DAYS)
        )
        with session_scope(factory) as session:
            reached = [c for c in _chats(session, start, now) if _reaches(experiment, c)]
            session.expunge_all()
        assigned = [
            (c, assign(experiment, unit_of(c.customer_id, c.conversation_id))) for c in reached
        ]
        rows = [
            (
                experiment.name,
                a.variant,
                a.unit,
                c.conversation_id,
                c.session_key,
                c.started_at + EXPOSED_AFTER,
            )
            for c, a in assigned
        ]
        summary.exposures[experiment.name] = _record(factory, rows, progress)
        if experiment.name == "recommender-model":
            _suggest(factory, [(c, a.variant) for c, a in assigned], settings.demo_seed, now)
    return summary
