"""Summarise a `rasa test nlu --cross-validation` run: macro-F1 and the most confused intents.

Usage: python benchmarks/nlu_report.py results/nlu-cv   (`make eval-nlu` runs both steps)
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

GOAL_MACRO_F1 = 0.92


def summarise(folder: Path, top: int = 10) -> str:
    report = json.loads((folder / "intent_report.json").read_text())
    errors_file = folder / "intent_errors.json"
    errors = json.loads(errors_file.read_text()) if errors_file.exists() else []
    macro = report["macro avg"]
    weighted = report["weighted avg"]
    lines = [
        f"Intent classification, 5-fold cross-validation ({int(macro['support'])} examples)",
        f"  macro-F1     {macro['f1-score']:.3f}   (goal ≥ {GOAL_MACRO_F1})",
        f"  weighted-F1  {weighted['f1-score']:.3f}",
        f"  accuracy     {report.get('accuracy', float('nan')):.3f}",
        "",
        "Weakest intents (F1):",
    ]
    intents = {
        k: v
        for k, v in report.items()
        if isinstance(v, dict)
        and "f1-score" in v
        and k not in ("macro avg", "weighted avg", "micro avg")
    }
    for name, scores in sorted(intents.items(), key=lambda kv: kv[1]["f1-score"])[:5]:
        lines.append(f"  {name:<20} {scores['f1-score']:.3f}  (n = {int(scores['support'])})")
    pairs = Counter(
        (e["intent"], e["intent_prediction"]["name"]) for e in errors if e.get("intent_prediction")
    )
    lines += ["", f"Most confused pairs (true → predicted), {len(errors)} errors in all:"]
    for (true, predicted), count in pairs.most_common(top):
        lines.append(f"  {count:>3}  {true} → {predicted}")
    return "\n".join(lines)


def main() -> int:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "results/nlu-cv")
    print(summarise(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
