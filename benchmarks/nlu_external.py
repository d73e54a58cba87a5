"""Intent accuracy on externally written messages (data/eval/external), never trained on.

    .venv/bin/python benchmarks/nlu_external.py [--model models/supportbot.tar.gz]

Prints accuracy by corpus, recall per intent, the commonest confusions and the parse times, and
the accuracy on each half of the set: "dev", whose misses may be read when writing training data,
and "test", which nobody reads (bot.nlu.external_eval.split).
`make eval-nlu` runs it beside the in-house cross-validation.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from rasa.core.agent import Agent

from bot.nlu.external_eval import Score, load_external, score, split


async def predict(model: str, texts: list[str]) -> tuple[list[str], list[float]]:
    agent = Agent.load(model)
    intents, times = [], []
    for text in texts:
        started = time.perf_counter()
        parsed = await agent.parse_message(text)
        times.append((time.perf_counter() - started) * 1000)
        intents.append(parsed["intent"]["name"])
    return intents, times


def report(result: Score) -> None:
    print(f"\n## {result.corpus}: accuracy {result.accuracy:.3f} (n={result.n})")
    for intent, (right, n) in sorted(result.per_intent.items(), key=lambda kv: kv[1][0] / kv[1][1]):
        print(f"  {intent:<16} {right / n:.3f}  ({right}/{n})")
    print("  commonest confusions (expected -> predicted):")
    for (expected, predicted), count in result.confusions.most_common(10):
        print(f"    {expected} -> {predicted}: {count}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/supportbot.tar.gz")
    args = parser.parse_args()
    utterances = load_external()
    predictions, times = asyncio.run(predict(args.model, [u.text for u in utterances]))
    scores = score(utterances, predictions)
    for corpus in sorted(scores, key=lambda c: (c == "all", c)):
        report(scores[corpus])
    print()
    for half in ("dev", "test"):
        chosen = [i for i, u in enumerate(utterances) if split(u) == half]
        halves = score([utterances[i] for i in chosen], [predictions[i] for i in chosen])
        print(
            f"{half} half: accuracy {halves['all'].accuracy:.3f} (n={halves['all'].n}); "
            + ", ".join(f"{c} {r.accuracy:.3f}" for c, r in sorted(halves.items()) if c != "all")
        )
    ordered = sorted(times)
    print(
        f"\nparse ms: p50 {statistics.median(ordered):.1f}, "
        f"p95 {ordered[int(0.95 * (len(ordered) - 1))]:.1f} over {len(ordered)} messages"
    )


if __name__ == "__main__":
    main()
