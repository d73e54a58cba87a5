"""`supportbot experiments list|show NAME`: the declared experiments and their exposures."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from bot.bootstrap import bootstrap
from bot.experiments.declarations import Declarations, Experiment
from bot.settings import Settings
from bot.storage.repositories import ExposureRepository
from bot.storage.session import session_scope


def describe(experiment: Experiment, exposures: dict[str, int]) -> dict[str, Any]:
    """An experiment as the command prints it (`--json`)."""
    data = asdict(experiment)
    data["variants"] = [
        {"name": v.name, "weight": v.weight, "exposures": exposures.get(v.name, 0)}
        for v in experiment.variants
    ]
    data["start"] = experiment.start.isoformat() if experiment.start else None
    data["planned_end"] = experiment.planned_end.isoformat() if experiment.planned_end else None
    data["exposures"] = sum(exposures.values())
    return data


def _declared(settings: Settings) -> tuple[Declarations, dict[str, dict[str, int]]]:
    services = bootstrap(settings)
    try:
        declared = services.experiments()
        with session_scope(services.session_factory) as session:
            repository = ExposureRepository(session)
            exposures = {e.name: repository.counts(e.name) for e in declared.experiments}
    finally:
        services.close()
    return declared, exposures


def _problems(declared: Declarations, settings: Settings) -> list[str]:
    return [f"{settings.experiments_file}, {problem}" for problem in declared.problems]


def cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    declared, exposures = _declared(settings)
    rows = [describe(e, exposures[e.name]) for e in declared.experiments]
    if args.json:
        print(
            json.dumps({"experiments": rows, "problems": _problems(declared, settings)}, indent=2)
        )
        return 0
    if not rows:
        print(f"No experiments declared in {settings.experiments_file}.")
    for row in rows:
        total = sum(v["weight"] for v in row["variants"])
        variants = ", ".join(
            f"{v['name']} {100 * v['weight'] / total:.0f}% ({v['exposures']:,} exposed)"
            for v in row["variants"]
        )
        print(f"{row['name']:<20} {row['status']:<8} {row['primary_metric']:<26} {variants}")
    for problem in _problems(declared, settings):
        print(f"left out: {problem}")
    return 0


def cmd_show(settings: Settings, args: argparse.Namespace) -> int:
    declared, exposures = _declared(settings)
    experiment = declared.get(args.name)
    if experiment is None:
        known = ", ".join(e.name for e in declared.experiments) or "none"
        print(f"No experiment named {args.name!r} (declared: {known}).")
        return 1
    row = describe(experiment, exposures[experiment.name])
    if args.json:
        print(json.dumps(row, indent=2))
        return 0
    print(f"{experiment.name} ({experiment.focus}, {experiment.status})")
    print(f"  hypothesis: {experiment.hypothesis}")
    print(
        f"  primary metric: {experiment.primary_metric}; minimum detectable effect "
        f"{experiment.minimum_detectable_effect:g} points"
    )
    for guardrail in experiment.guardrails:
        print(f"  guardrail: {guardrail.metric} must not fall by {guardrail.max_drop:g} points")
    print(f"  runs {row['start'] or '?'} to {row['planned_end'] or '?'}")
    for variant in row["variants"]:
        print(
            f"  {variant['name']:<16} weight {variant['weight']:g}, {variant['exposures']:,} exposed"
        )
    if experiment.decision:
        d = experiment.decision
        print(f"  decided: ship {d.ship} ({d.by}{', ' + d.at if d.at else ''}): {d.reason}")
    return 0


def add_commands(sub: Any, parent: argparse.ArgumentParser) -> None:
    """`experiments list` and `experiments show NAME` under the `supportbot` command."""
    experiments = sub.add_parser("experiments", help="customer-experience experiments (A/B tests)")
    commands = experiments.add_subparsers(dest="experiments_command", required=True)
    commands.add_parser("list", parents=[parent], help="the declared experiments").set_defaults(
        func=cmd_list
    )
    show = commands.add_parser("show", parents=[parent], help="one experiment, with its exposures")
    show.add_argument("name")
    show.set_defaults(func=cmd_show)
