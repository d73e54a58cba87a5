"""Stopping an experiment or shipping a variant: recorded with who and why, then in force.

The declarations file says what experiments exist; the decisions recorded here (newest per
experiment) override its status: a stopped experiment stops assigning, a decided one gives
every conversation its shipped variant. The action server reads them again every
`REFRESH_SECONDS`, so a decision takes effect without a restart.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.auth import audit
from bot.experiments.declarations import Decision, Declarations, Experiment
from bot.storage.models import ExperimentDecision
from bot.storage.session import session_scope

REFRESH_SECONDS = 30.0


class DecisionError(ValueError):
    """A decision that cannot be taken; the message says why."""


def latest_decisions(session: Session) -> dict[str, ExperimentDecision]:
    """The newest decision of each experiment."""
    rows = session.execute(
        select(ExperimentDecision).order_by(ExperimentDecision.decided_at, ExperimentDecision.id)
    ).scalars()
    return {row.experiment: row for row in rows}


def apply_decisions(
    declared: Declarations, decisions: dict[str, ExperimentDecision]
) -> Declarations:
    """The declarations with each recorded decision in force."""
    experiments = []
    for experiment in declared.experiments:
        made = decisions.get(experiment.name)
        if made is None:
            experiments.append(experiment)
        elif made.action == "stop":
            experiments.append(replace(experiment, status="stopped", decision=None))
        elif made.ship in experiment.weights:
            decision = Decision(
                str(made.ship), made.decided_by, made.reason, made.decided_at.isoformat(" ")
            )
            experiments.append(replace(experiment, status="decided", decision=decision))
        else:  # a variant the file no longer declares: keep the file's word
            experiments.append(experiment)
    return Declarations(experiments, list(declared.problems))


def record_decision(
    experiment: Experiment,
    action: str,
    by: str,
    reason: str,
    uow: sessionmaker,
    now: datetime,
    ship: str | None = None,
) -> ExperimentDecision:
    """Stop the experiment (`action="stop"`) or ship a variant (`"decide"`), with who and why."""
    if not by.strip() or not reason.strip():
        raise DecisionError("say who decides (--by) and why (--reason)")
    if action == "decide" and ship not in experiment.weights:
        variants = ", ".join(experiment.weights)
        raise DecisionError(f"{experiment.name} has no variant {ship!r} (variants: {variants})")
    if action not in ("stop", "decide"):
        raise DecisionError(f"unknown action {action!r}")
    if experiment.status == "decided":
        raise DecisionError(
            f"{experiment.name} is decided already: {experiment.default_variant} shipped"
        )
    with session_scope(uow) as session:
        row = ExperimentDecision(
            experiment=experiment.name,
            action=action,
            ship=ship if action == "decide" else None,
            decided_by=by.strip()[:120],
            reason=" ".join(reason.split()),
            decided_at=now,
        )
        session.add(row)
        audit.record(
            session,
            by.strip()[:120],
            f"experiment_{action}",
            experiment.name,
            {"ship": ship, "reason": row.reason} if ship else {"reason": row.reason},
            at=now,
        )
        session.flush()
        session.expunge(row)
    return row
