"""`supportbot nlu export` and `supportbot nlu report`: the accepted marks as training data,
and how the current model does on them."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from bot.auth.tokens import Identity
from bot.nlu_review.export import build_export, training_examples
from bot.nlu_review.marks import MarkView, marks
from bot.settings import Settings


def _operator() -> Identity:
    """Whoever runs the command at the machine reads as support staff (as `forget` does)."""
    return Identity(role="staff", name=f"cli:{getpass.getuser()}")


def accepted(settings: Settings) -> list[MarkView]:
    from bot.bootstrap import bootstrap

    services = bootstrap(settings)
    try:
        return marks(_operator(), services.session_factory, status="accepted")
    finally:
        services.close()


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    known = training_examples([settings.project_root / "data" / "nlu"])
    result = build_export(accepted(settings), known)
    if args.out:
        Path(args.out).write_text(result.yaml(), encoding="utf-8")
    elif not args.json:
        sys.stdout.write(result.yaml())
    summary: dict[str, Any] = {
        "out": args.out,
        "examples": result.count,
        "by_intent": {intent: len(texts) for intent, texts in sorted(result.examples.items())},
        "duplicates": result.duplicates,
        "already_in_training_data": result.known,
        "empty_after_redaction": result.empty,
        "conflicts": [
            {"text": c.text, "intents": list(c.intents), "training_data": list(c.training_intents)}
            for c in result.conflicts
        ],
    }
    if args.json:
        if not args.out:
            summary["yaml"] = result.yaml()
        print(json.dumps(summary, indent=2))
        return 0
    out = sys.stdout if args.out else sys.stderr
    where = f" to {args.out}" if args.out else ""
    print(
        f"Wrote {result.count} examples{where} "
        f"({result.duplicates} duplicates merged, {result.known} already in the training data).",
        file=out,
    )
    for intent, count in summary["by_intent"].items():
        print(f"  {intent:<22} {count}", file=out)
    if result.conflicts:
        print(f"Left out, conflicting ({len(result.conflicts)}):", file=out)
        for c in result.conflicts:
            said = f"; the training data says {', '.join(c.training_intents)}"
            print(
                f"  {c.text!r}: marked {', '.join(c.intents)}{said if c.training_intents else ''}",
                file=out,
            )
    return 0


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    from bot.nlu_review.export import example_text
    from bot.nlu_review.report import model_predictions, score

    model = Path(args.model) if args.model else settings.models_dir / "supportbot.tar.gz"
    if not model.exists():
        print(f"No trained model at {model}.", file=sys.stderr)
        return 1
    found = accepted(settings)
    predictions = model_predictions(model, [example_text(m.text) for m in found]) if found else {}
    scores = score(found, predictions)
    total = sum(s.marks for s in scores)
    right = sum(s.right for s in scores)
    if args.json:
        print(
            json.dumps(
                {
                    "model": str(model),
                    "marks": total,
                    "right": right,
                    "by_intent": [
                        {
                            "intent": s.intent,
                            "marks": s.marks,
                            "right": s.right,
                            "instead": dict(s.instead),
                        }
                        for s in scores
                    ],
                },
                indent=2,
            )
        )
        return 0
    if not total:
        print("No accepted marks yet: accept some on /staff/nlu.")
        return 0
    print(f"The model {model.name} classifies {right} of {total} accepted marks right.")
    for s in scores:
        instead = ", ".join(f"{name} {n}" for name, n in s.instead)
        print(
            f"  {s.intent:<22} {s.right:>4}/{s.marks:<4}"
            + (f"  instead: {instead}" if instead else "")
        )
    return 0


def add_commands(sub: Any, parent: argparse.ArgumentParser) -> None:
    """`nlu export` and `nlu report` under the `supportbot` command."""
    nlu = sub.add_parser("nlu", help="misunderstood messages marked by staff, as training data")
    commands = nlu.add_subparsers(dest="nlu_command", required=True)
    export = commands.add_parser(
        "export", parents=[parent], help="write the accepted marks as Rasa NLU training data"
    )
    export.add_argument("--out", help="the YAML file to write (default: standard output)")
    export.set_defaults(func=cmd_export)
    report = commands.add_parser(
        "report", parents=[parent], help="how many accepted marks the current model gets right"
    )
    report.add_argument("--model", help="a trained model (default: models/supportbot.tar.gz)")
    report.set_defaults(func=cmd_report)
