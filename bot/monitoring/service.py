"""The monitoring use cases: run the check, list the open alerts, tell a manager at chat start.

`run_check` is the system's own work (the `supportbot monitor` command, the website's
schedule): it reads the metrics and the experiments, raises an alert for each condition that
holds and has no open alert, refreshes the numbers of those still open, and resolves those
that no longer hold. The reads on someone's behalf take their identity: only a manager sees
alerts (`open_alerts` refuses anyone else; `alerts_to_tell` tells anyone else nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import sessionmaker

from bot.auth.tokens import Identity
from bot.experiments.analysis import analyze
from bot.experiments.declarations import Experiment
from bot.metrics.answers import HEADLINE_METRICS
from bot.metrics.queries import with_previous
from bot.monitoring.checks import (
    Finding,
    family_confidence,
    guardrail_findings,
    metric_drop,
    srm_finding,
)
from bot.storage.models import Alert
from bot.storage.repositories import AlertRepository
from bot.storage.session import session_scope

if TYPE_CHECKING:
    from bot.bootstrap import Services

logger = logging.getLogger(__name__)

WINDOW_DAYS = 7
BASELINE_DAYS = 28
MANAGER = "manager"


class NotAllowed(PermissionError):
    """The caller may not see this (the alerts are for managers only)."""


@dataclass(frozen=True)
class AlertView:
    """An alert as the command, the API, the dashboard and the chat show it."""

    id: int
    key: str
    kind: str
    metric: str | None
    experiment: str | None
    variant: str | None
    message: str
    raised_at: datetime
    checked_at: datetime
    resolved_at: datetime | None
    numbers: dict[str, Any] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "kind": self.kind,
            "metric": self.metric,
            "experiment": self.experiment,
            "variant": self.variant,
            "message": self.message,
            "raised_at": self.raised_at,
            "checked_at": self.checked_at,
            "resolved_at": self.resolved_at,
            "open": self.is_open,
            **self.numbers,
        }


NUMBER_FIELDS = (
    "current_value", "baseline_value", "n_current", "n_baseline", "difference", "ci_low",
    "ci_high", "p_value",
)  # fmt: skip


def view(alert: Alert) -> AlertView:
    return AlertView(
        id=alert.id,
        key=alert.key,
        kind=alert.kind,
        metric=alert.metric,
        experiment=alert.experiment,
        variant=alert.variant,
        message=alert.message,
        raised_at=alert.raised_at,
        checked_at=alert.checked_at,
        resolved_at=alert.resolved_at,
        numbers={name: getattr(alert, name) for name in NUMBER_FIELDS},
    )


@dataclass(frozen=True)
class CheckResult:
    """What one check did: alerts raised now, open from before and still holding, resolved."""

    checked_at: datetime
    window: tuple[datetime, datetime]
    baseline: tuple[datetime, datetime]
    experiments: tuple[str, ...]
    raised: list[AlertView]
    still_open: list[AlertView]
    resolved: list[AlertView]
    # Experiments whose analysis failed: their alerts were left as they were.
    failed: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "checked_at": self.checked_at,
            "window": {"start": self.window[0], "end": self.window[1]},
            "baseline": {"start": self.baseline[0], "end": self.baseline[1]},
            "metrics": list(HEADLINE_METRICS),
            "experiments": list(self.experiments),
            "failed_experiments": list(self.failed),
            "raised": [a.to_json() for a in self.raised],
            "still_open": [a.to_json() for a in self.still_open],
            "resolved": [a.to_json() for a in self.resolved],
        }


def metric_findings(
    uow: sessionmaker,
    now: datetime,
    min_n: int,
    window_days: int = WINDOW_DAYS,
    baseline_days: int = BASELINE_DAYS,
) -> list[Finding]:
    """The headline metrics that got significantly worse in the window against the baseline
    (each tested at `family_confidence`, so that the five together rarely cry wolf)."""
    window = (now - timedelta(days=window_days), now)
    baseline = (window[0] - timedelta(days=baseline_days), window[0])
    confidence = family_confidence(len(HEADLINE_METRICS))
    found = []
    with session_scope(uow) as session:
        for metric in HEADLINE_METRICS:
            shown = with_previous(session, metric, window, baseline)
            tested = with_previous(session, metric, window, baseline, confidence=confidence)
            finding = metric_drop(metric, shown, window_days, baseline_days, min_n, tested=tested)
            if finding is not None:
                found.append(finding)
    return found


def experiment_findings(experiment: Experiment, uow: sessionmaker, now: datetime) -> list[Finding]:
    """A running experiment's harmed guardrails and its sample ratio mismatch."""
    analysis = analyze(experiment, uow, now)
    found = guardrail_findings(analysis)
    srm = srm_finding(analysis)
    return found + ([srm] if srm is not None else [])


def run_check(
    uow: sessionmaker,
    experiments: Iterable[Experiment],
    now: datetime,
    min_n: int,
    window_days: int = WINDOW_DAYS,
    baseline_days: int = BASELINE_DAYS,
) -> CheckResult:
    """Check the headline metrics and the running experiments; raise, keep and resolve alerts.

    Args:
        uow: The app database's session factory (one unit of work per step).
        experiments: The declared experiments with their decisions in force; only the
            running ones are checked.
        now: The end of the recent window.
        min_n: The fewest answers or conversations on each side for a drop to count
            (`Settings.min_sample_size`).
    """
    running = [e for e in experiments if e.status == "running"]
    findings = metric_findings(uow, now, min_n, window_days, baseline_days)
    failed = []
    for experiment in running:
        try:
            findings += experiment_findings(experiment, uow, now)
        except Exception:  # noqa: BLE001 - one broken experiment must not stop the others
            logger.exception("Could not analyse experiment %s for monitoring", experiment.name)
            failed.append(experiment.name)
    found = {finding.key: finding for finding in findings}
    raised: list[AlertView] = []
    still_open: list[AlertView] = []
    resolved: list[AlertView] = []
    with session_scope(uow) as session:
        alerts = AlertRepository(session)
        for finding in found.values():
            fields = {
                name: getattr(finding, name)
                for name in ("kind", "message", "metric", "experiment", "variant", *NUMBER_FIELDS)
            }
            alert, new = alerts.raise_or_update(finding.key, now, **fields)
            (raised if new else still_open).append(view(alert))
        for alert in alerts.open_alerts():
            if alert.key in found or alert.experiment in failed:
                continue
            alerts.resolve(alert, now)
            resolved.append(view(alert))
    window_start = now - timedelta(days=window_days)
    return CheckResult(
        checked_at=now,
        window=(window_start, now),
        baseline=(window_start - timedelta(days=baseline_days), window_start),
        experiments=tuple(e.name for e in running),
        raised=raised,
        still_open=still_open,
        resolved=resolved,
        failed=tuple(failed),
    )


def check_services(
    services: Services, window_days: int = WINDOW_DAYS, baseline_days: int = BASELINE_DAYS
) -> CheckResult:
    """`run_check` with the app's database, experiments (decisions in force), clock and
    minimum sample: what `supportbot monitor` and the website's schedule run."""
    return run_check(
        services.session_factory,
        services.experiments().experiments,
        services.now(),
        services.settings.min_sample_size,
        window_days,
        baseline_days,
    )


def _require_manager(identity: Identity) -> None:
    if identity.role != MANAGER:
        raise NotAllowed("the monitoring alerts are for managers only")


def open_alerts(identity: Identity, uow: sessionmaker) -> list[AlertView]:
    """The open alerts, newest first, for a manager.

    Raises:
        NotAllowed: For a customer or support staff.
    """
    _require_manager(identity)
    with session_scope(uow) as session:
        return [view(alert) for alert in AlertRepository(session).open_alerts()]


def manager_key(identity: Identity, conversation_id: str) -> str:
    """Who was told: the manager's name, or for a token without one, the conversation."""
    return f"name:{identity.name}" if identity.name else f"conversation:{conversation_id}"


def alerts_to_tell(
    identity: Identity, conversation_id: str, uow: sessionmaker, now: datetime
) -> list[AlertView]:
    """The open alerts this manager has not been told of, recorded as told now.

    Anyone but a manager is told nothing, and nothing is read or recorded for them.
    """
    if identity.role != MANAGER:
        return []
    who = manager_key(identity, conversation_id)
    with session_scope(uow) as session:
        alerts = AlertRepository(session)
        untold = alerts.untold(who)
        alerts.mark_told(who, untold, now)
        return [view(alert) for alert in untold]


def chat_notice(alerts: list[AlertView]) -> str | None:
    """The chat message that tells a manager of new alerts (None when there are none)."""
    if not alerts:
        return None
    head = (
        "Monitoring alert since we last spoke:"
        if len(alerts) == 1
        else f"{len(alerts)} monitoring alerts since we last spoke:"
    )
    lines = [head, *(f"• {alert.message}" for alert in alerts)]
    lines.append("The dashboard lists every open alert.")
    return "\n".join(lines)
