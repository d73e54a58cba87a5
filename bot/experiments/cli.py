"""`supportbot experiments list|show|analyze|stop|decide`: the declared experiments, their
exposures, their results with a verdict, and the decisions taken on them."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict
from typing import Any

from bot.bootstrap import bootstrap
from bot.experiments.analysis import Analysis, MetricAnalysis, analyze
from bot.experiments.decisions import DecisionError, record_decision
from bot.experiments.declarations import Declarations, Experiment
from bot.experiments.output import analysis_json
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


def _named(declared: Declarations, name: str) -> Experiment | None:
    """The experiment called `name`, or None after saying which ones there are."""
    experiment = declared.get(name)
    if experiment is None:
        known = ", ".join(e.name for e in declared.experiments) or "none"
        print(f"No experiment named {name!r} (declared: {known}).")
    return experiment


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
    experiment = _named(declared, args.name)
    if experiment is None:
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


def _shown(analysis: MetricAnalysis, value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.1f}" + (" s" if analysis.metric == "first_response_time" else "")


def _scale(analysis: MetricAnalysis) -> float:
    return 1.0 if analysis.metric == "first_response_time" else 100.0


def _print_metric(analysis: MetricAnalysis, role: str) -> None:
    print(f"  {role}: {analysis.label}")
    for name, result in analysis.estimates.items():
        if result.value is None:
            print(f"    {name:<16} n = {result.n}: no data")
            continue
        print(
            f"    {name:<16} {_shown(analysis, result.value)} (95% CI "
            f"{_shown(analysis, result.ci_low)} to {_shown(analysis, result.ci_high)}, n = {result.n:,})"
        )
    k = _scale(analysis)
    for c in analysis.against_control:
        holm_p = f", Holm p = {c.adjusted_p:.3f}" if c.adjusted_p is not None else ""
        print(
            f"    {c.variant} - control: {k * c.comparison.difference:+.1f} (95% CI "
            f"{k * c.comparison.ci_low:.1f} to {k * c.comparison.ci_high:.1f}; always-valid "
            f"{k * c.sequential.ci_low:.1f} to {k * c.sequential.ci_high:.1f}), "
            f"p = {c.comparison.p_value:.3f}{holm_p}; chance to beat control "
            f"{100 * c.bayes.chance_to_beat:.0f}%"
        )


def _print_cuped(analysis: Analysis) -> None:
    """The primary metric CUPED-adjusted, beside the plain difference, or why not."""
    cuped = analysis.cuped
    if cuped is None:
        return
    known, total = sum(cuped.with_covariate.values()), sum(cuped.sessions.values())
    print(f"  CUPED ({cuped.covariate}; {known:,} of {total:,} sessions have it):")
    if cuped.note:
        print(f"    {cuped.note}")
        return
    k = _scale(analysis.primary)
    for variant, c in cuped.comparisons.items():
        a, u = c.adjusted, c.unadjusted
        print(
            f"    {variant} - control: {k * a.difference:+.1f} (95% CI {k * a.ci_low:.1f} to "
            f"{k * a.ci_high:.1f}), p = {a.p_value:.3f}; unadjusted {k * u.difference:+.1f} "
            f"({k * u.ci_low:.1f} to {k * u.ci_high:.1f}); variance "
            f"{-100 * c.variance_reduction:+.1f}%"
        )


def cmd_analyze(settings: Settings, args: argparse.Namespace) -> int:
    services = bootstrap(settings)
    try:
        experiment = _named(services.experiments(), args.name)
        if experiment is None:
            return 1
        analysis = analyze(experiment, services.session_factory, services.now())
    finally:
        services.close()
    if args.json:
        print(
            json.dumps(
                {
                    "experiment": experiment.name,
                    "status": experiment.status,
                    **analysis_json(analysis, settings.min_sample_size),
                },
                indent=2,
            )
        )
        return 0
    total = sum(analysis.exposures.values())
    print(f"{experiment.name} ({experiment.status}): {total:,} exposed sessions")
    print(f"  {'SRM! ' if analysis.srm.mismatch else ''}{analysis.srm.message}")
    _print_metric(analysis.primary, "primary")
    _print_cuped(analysis)
    for guardrail in analysis.guardrails:
        _print_metric(guardrail, "guardrail")
    if not analysis.verdicts:
        print("  verdict: not enough data to compare the variants yet")
    for variant, decision in analysis.verdicts.items():
        print(f"  verdict for {variant}: {decision.text}")
    return 0


def _decide(settings: Settings, args: argparse.Namespace, action: str) -> int:
    services = bootstrap(settings)
    try:
        experiment = _named(services.experiments(), args.name)
        if experiment is None:
            return 1
        ship = getattr(args, "ship", None)
        try:
            row = record_decision(
                experiment,
                action,
                args.by,
                args.reason,
                services.session_factory,
                services.now(),
                ship,
            )
        except DecisionError as error:
            print(f"Nothing recorded: {error}.")
            return 2
    finally:
        services.close()
    done = (
        f"shipped {row.ship}: every conversation now gets it"
        if row.ship
        else "stopped: no more assignments"
    )
    if args.json:
        print(
            json.dumps(
                {
                    "experiment": row.experiment,
                    "action": row.action,
                    "ship": row.ship,
                    "by": row.decided_by,
                    "reason": row.reason,
                    "at": row.decided_at.isoformat(),
                }
            )
        )
    else:
        print(f"{row.experiment} {done} (by {row.decided_by}: {row.reason}).")
    return 0


def cmd_stop(settings: Settings, args: argparse.Namespace) -> int:
    return _decide(settings, args, "stop")


def cmd_decide(settings: Settings, args: argparse.Namespace) -> int:
    return _decide(settings, args, "decide")


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
    analyze_command = commands.add_parser(
        "analyze", parents=[parent], help="per-variant results, tests against control, verdict"
    )
    analyze_command.add_argument("name")
    analyze_command.set_defaults(func=cmd_analyze)
    who = os.environ.get("USER") or "unknown"
    stop = commands.add_parser(
        "stop", parents=[parent], help="stop assigning (recorded with who and why)"
    )
    stop.add_argument("name")
    stop.add_argument("--by", default=who, help="who decides (default: $USER)")
    stop.add_argument("--reason", required=True, help="why, for the record")
    stop.set_defaults(func=cmd_stop)
    decide = commands.add_parser(
        "decide", parents=[parent], help="ship a variant: it becomes the default"
    )
    decide.add_argument("name")
    decide.add_argument("--ship", required=True, help="the variant to ship")
    decide.add_argument("--by", default=who, help="who decides (default: $USER)")
    decide.add_argument("--reason", required=True, help="why, for the record")
    decide.set_defaults(func=cmd_decide)
