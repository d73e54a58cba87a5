"""`supportbot monitor`: run the monitoring check once and say what it raised, kept and resolved."""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime
from typing import Any

from bot.bootstrap import bootstrap
from bot.monitoring.service import (
    BASELINE_DAYS,
    WINDOW_DAYS,
    AlertView,
    CheckResult,
    check_services,
)
from bot.settings import Settings


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat() + "Z"  # naive datetimes are UTC throughout
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def check(settings: Settings, days: int, baseline_days: int) -> CheckResult:
    """One check with the app's services, as the website's schedule runs it."""
    services = bootstrap(settings)
    try:
        return check_services(services, days, baseline_days)
    finally:
        services.close()


def _lines(title: str, alerts: list[AlertView], mark: str) -> list[str]:
    lines = [f"{title} ({len(alerts)}):" if alerts else f"{title}: none"]
    for alert in alerts:
        since = f"since {alert.raised_at:%Y-%m-%d %H:%M}"
        if alert.resolved_at is not None:
            since += f", resolved {alert.resolved_at:%Y-%m-%d %H:%M}"
        lines.append(f"  {mark} {alert.message} ({since} UTC)")
    return lines


def report(result: CheckResult) -> str:
    """The check's outcome as the command prints it."""
    start, end = result.window
    experiments = ", ".join(result.experiments) or "none running"
    lines = [
        f"Checked the headline metrics from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC "
        f"against the {(result.baseline[1] - result.baseline[0]).days} days before, and the "
        f"experiments ({experiments}).",
        *_lines("Raised", result.raised, "!"),
        *_lines("Still open", result.still_open, "!"),
        *_lines("Resolved", result.resolved, "-"),
    ]
    for name in result.failed:
        lines.append(f"Could not analyse experiment {name}; its alerts were left as they were.")
    return "\n".join(lines)


def cmd_monitor(settings: Settings, args: argparse.Namespace) -> int:
    result = check(settings, args.days, args.baseline_days)
    if args.json:
        print(json.dumps(result.to_json(), indent=2, default=_iso))
    else:
        print(report(result))
    return 0


def add_commands(sub: Any, parent: argparse.ArgumentParser) -> None:
    """`monitor` under the `supportbot` command."""
    monitor = sub.add_parser(
        "monitor",
        help="check the headline metrics and running experiments for harm; print the alerts",
    )
    monitor.add_argument(
        "--days", type=int, default=WINDOW_DAYS, help=f"the recent window (default {WINDOW_DAYS})"
    )
    monitor.add_argument(
        "--baseline-days",
        type=int,
        default=BASELINE_DAYS,
        help=f"the baseline before it (default {BASELINE_DAYS})",
    )
    monitor.set_defaults(func=cmd_monitor)
