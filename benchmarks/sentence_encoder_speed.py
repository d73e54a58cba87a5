"""How long one message takes to embed: numpy MiniLM vs the same model in ONNX Runtime.

What it measures
    `bot.nlu.sentence_encoder.SentenceEncoder` (numpy) against
    `bot.nlu.onnx_encoder.OnnxSentenceEncoder` as plain ONNX operators, with ONNX Runtime's
    fused attention ("fused", the default), and fused + dynamic int8 weights ("fused-int8"),
    in one process with OPENBLAS_NUM_THREADS=1 and one ONNX Runtime thread. `--messages`
    texts (default 300) are drawn with a fixed seed from data/eval/external/utterances.csv and
    encoded one at a time (`encode([text])`, what parsing one message does), after a warm-up;
    the encoders take turns on each message, in a rotating order, so that whatever else the
    machine does falls on all of them alike. Per encoder: p50 / p95 / mean wall-clock ms and
    p50 of the calling thread's CPU ms, the ratio numpy / encoder, and the load time
    (constructor: weights, graph build or quantisation, session), once built from the weights
    and once from a cache file. Agreement: max |difference| and min cosine against the
    sentence-transformers vectors in tests/unit/data/minilm_reference.json, and the cosine
    of each message's vector with the numpy one.

Usage
    .venv/bin/python benchmarks/sentence_encoder_speed.py
    .venv/bin/python benchmarks/sentence_encoder_speed.py --messages 100 --json
"""

from __future__ import annotations

import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # must precede the first import of numpy

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.nlu.onnx_encoder import OnnxSentenceEncoder  # noqa: E402
from bot.nlu.sentence_encoder import SentenceEncoder  # noqa: E402

UTTERANCES = ROOT / "data" / "eval" / "external" / "utterances.csv"
REFERENCE = ROOT / "tests" / "unit" / "data" / "minilm_reference.json"
# name: (fused, quantized)
ONNX_VARIANTS: dict[str, tuple[bool, bool]] = {
    "onnx-plain": (False, False),
    "onnx-fused": (True, False),
    "onnx-fused-int8": (True, True),
}


def _timed(make: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = make()
    return value, time.perf_counter() - start


def load_encoders(cache_dir: Path) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """Every encoder, and its load times in seconds (ONNX: from the weights and from cache)."""
    encoders: dict[str, Any] = {}
    loads: dict[str, dict[str, float]] = {}
    encoders["numpy"], seconds = _timed(SentenceEncoder)
    loads["numpy"] = {"load_s": seconds}
    for name, (fused, quantized) in ONNX_VARIANTS.items():
        print(f"loading {name}", file=sys.stderr)
        make = partial(OnnxSentenceEncoder, fused=fused, quantized=quantized, cache_dir=cache_dir)
        _, built = _timed(make)  # builds the graph and writes the cache file
        encoders[name], cached = _timed(make)  # reads it
        loads[name] = {"load_s": built, "load_cached_s": cached}
    return encoders, loads


def reference_agreement(encoder: Any) -> dict[str, float]:
    """Max |difference| and min cosine against sentence-transformers' vectors."""
    reference = json.loads(REFERENCE.read_text())
    theirs = np.asarray(reference["embeddings"], dtype=np.float32)
    ours = np.vstack([encoder.encode([text]) for text in reference["sentences"]])
    return {
        "max_abs_diff": float(np.abs(ours - theirs).max()),
        "min_cosine": float((ours * theirs).sum(axis=1).min()),
    }


def run(messages: int, warmup: int, seed: int) -> dict[str, Any]:
    """Loads, checks and times every encoder; returns the results."""
    with UTTERANCES.open(newline="") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    rng = random.Random(seed)
    sample = rng.sample(texts, messages + warmup)
    with tempfile.TemporaryDirectory() as cache:
        encoders, loads = load_encoders(Path(cache))
    names = list(encoders)
    for text in sample[:warmup]:
        for encoder in encoders.values():
            encoder.encode([text])

    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    vectors: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for i, text in enumerate(sample[warmup:]):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            start_wall, start_cpu = time.perf_counter(), time.thread_time()
            vector = encoders[name].encode([text])
            cpu[name].append((time.thread_time() - start_cpu) * 1000)
            wall[name].append((time.perf_counter() - start_wall) * 1000)
            vectors[name].append(vector[0])

    numpy_vectors = np.vstack(vectors["numpy"])
    numpy_p50, numpy_p95 = np.percentile(wall["numpy"], [50, 95])
    results: dict[str, Any] = {}
    for name in names:
        p50, p95 = np.percentile(wall[name], [50, 95])
        cosine = (np.vstack(vectors[name]) * numpy_vectors).sum(axis=1)
        results[name] = {
            "p50_ms": float(p50),
            "p95_ms": float(p95),
            "mean_ms": float(np.mean(wall[name])),
            "cpu_p50_ms": float(np.median(cpu[name])),
            "speedup_p50": float(numpy_p50 / p50),
            "speedup_p95": float(numpy_p95 / p95),
            **loads[name],
            **reference_agreement(encoders[name]),
            "cosine_vs_numpy_min": float(cosine.min()),
            "cosine_vs_numpy_median": float(np.median(cosine)),
        }
    tokens = [len(encoders["numpy"].tokenizer.encode(text).ids) for text in sample[warmup:]]
    return {
        "messages": messages,
        "median_tokens": float(np.median(tokens)),
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "encoders": results,
    }


def print_table(report: dict[str, Any]) -> None:
    """The results as a plain-text table."""
    load = ", ".join(f"{value:.2f}" for value in report["load_average"])
    print(
        f"{report['messages']} messages one at a time, median {report['median_tokens']:.0f} "
        f"tokens; {report['cpus']} CPUs, load average at the end {load}"
    )
    header = (
        f"{'encoder':<16}{'p50 ms':>8}{'p95 ms':>8}{'mean':>8}{'cpu p50':>9}{'x p50':>7}"
        f"{'x p95':>7}{'load s':>8}{'cached':>8}{'max|d| ref':>12}{'min cos ref':>12}"
        f"{'cos numpy min/med':>19}"
    )
    print(header)
    for name, r in report["encoders"].items():
        cached = f"{r['load_cached_s']:.2f}" if "load_cached_s" in r else "-"
        print(
            f"{name:<16}{r['p50_ms']:>8.2f}{r['p95_ms']:>8.2f}{r['mean_ms']:>8.2f}"
            f"{r['cpu_p50_ms']:>9.2f}{r['speedup_p50']:>7.1f}{r['speedup_p95']:>7.1f}"
            f"{r['load_s']:>8.2f}{cached:>8}{r['max_abs_diff']:>12.1e}{r['min_cosine']:>12.5f}"
            f"{r['cosine_vs_numpy_min']:>10.4f}/{r['cosine_vs_numpy_median']:.4f}"
        )
    print("x = numpy time / this encoder's time (median wall clock over the messages)")


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    report = run(args.messages, args.warmup, args.seed)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)


if __name__ == "__main__":
    main()
