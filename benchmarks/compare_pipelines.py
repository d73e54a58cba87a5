"""Accuracy and speed of candidate NLU pipelines, side by side, in one run.

What it measures
    Every candidate is a full Rasa config in `benchmarks/pipelines/<name>.yml`. For each one:

    accuracy  `rasa test nlu --cross-validation --folds N --config <file> --nlu data/nlu`:
              intent macro-F1 and accuracy from `intent_report.json`, entity micro-F1 from the
              `<extractor>_report.json` files (token level, as Rasa computes it). The "entity F1"
              column is the learned extractor (DIETClassifier or CRFEntityExtractor); every
              extractor's score is in the details and the JSON. Candidates with a
              DIETClassifier use `--diet-folds` (default 3) instead of `--folds` (default 5),
              because one DIET training takes minutes on 2 cores; the table says which.
              numpy's global seed is set (`--seed`) before Rasa splits the data, so candidates
              evaluated with the same number of folds see the same folds.
    train s   wall time of `rasa train nlu --config <file> --nlu data/nlu` on all the data,
              CLI start-up included ("fit s" in the JSON: first to last component trained).
    latency   the trained model is loaded in a fresh worker process with
              `rasa.core.agent.Agent.load()`, warmed up with `--warmup` messages, then times
              `await agent.parse_message(text)` for `--messages` real training messages
              (annotations stripped, shuffled with `--seed`), one at a time: p50/p95 in ms and
              parses per second (messages / total parse time). One model is loaded at a time.
              The latency phase runs after all training, candidates back to back, in
              `--latency-rounds` rounds (the second round in reverse order), so slow drift of
              the machine's load hits every candidate alike; timings of all rounds are pooled.

    "x default" is a candidate's parse throughput over that of `rasa_default_diet` (Rasa 3.6's
    default pipeline, the yardstick). The verdict: among the candidates whose macro-F1 is
    within 0.01 of the best, the one with the highest parse throughput.

What it costs, and the yardstick
    On 2 cores shared with other jobs, one epoch of the default DIET (2 transformer layers of
    256) takes 8 s on a quiet machine and up to 45 s on a busy one, so its 100 epochs are
    15-75 min per training, and a 3-fold cross-validation of it another 2-3 times that. By
    default `rasa_default_diet` is therefore measured for speed only (`--speed-only`): no
    cross-validation, DIET trained for `--speed-only-epochs` (5) epochs; parse latency does
    not depend on the number of epochs, and the training time is extrapolated to all epochs at
    the rate measured after the first (shown as ~N). Such candidates are marked * in the
    table. `--speed-only` with no names measures everything.
    A default run takes about 35-40 minutes (36 with a load average of 1-2.5): the
    3-fold cross-validation of `diet_light` is 15 of them (per fold: 40 epochs, a ~50 s model
    load, and parsing all 2,429 examples), the 5-fold ones of the logistic-regression
    pipelines 3-6 each, the latency phase 6 (a DIET model takes ~50 s to load).

    Rasa's training cache is switched off for every command (`RASA_MAX_CACHE_SIZE=0`), so
    training times are real and `.rasa/cache` is left alone. Timings on a shared machine move
    with its load: the load average is recorded next to each timing.

Where things go
    results/pipelines/<candidate>/   cv/ (Rasa's reports), cv.log, model/<candidate>.tar.gz,
                                     train.log, latency-*.log, result.json
    results/pipelines/messages.json  the parse messages;  summary.json, summary.txt: the result

Usage
    .venv/bin/python benchmarks/compare_pipelines.py                    # every candidate
    .venv/bin/python benchmarks/compare_pipelines.py --candidates production logreg_words_only
    .venv/bin/python benchmarks/compare_pipelines.py --folds 3 --json > out.json  # same folds for all
    .venv/bin/python benchmarks/compare_pipelines.py --speed-only        # the yardstick too (hours)
    .venv/bin/python benchmarks/compare_pipelines.py --report-only      # reprint the last run

Progress goes to stderr; the table (or, with `--json`, the JSON result) to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PIPELINES_DIR = PROJECT_ROOT / "benchmarks" / "pipelines"
NLU_DATA = PROJECT_ROOT / "data" / "nlu"
PRODUCTION_CONFIG = PROJECT_ROOT / "config.yml"
DEFAULT_OUT = PROJECT_ROOT / "results" / "pipelines"
VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
RASA = [str(VENV_BIN / "rasa")] if (VENV_BIN / "rasa").exists() else [PYTHON, "-m", "rasa"]

REFERENCE = "rasa_default_diet"
PREFERRED_ORDER = ["production", REFERENCE, "diet_light", "logreg_words_only"]
F1_BAND = 0.01  # the verdict's "as accurate as the best"
LEARNED_EXTRACTORS = ("DIETClassifier", "CRFEntityExtractor")
EPOCH_COMPONENTS = ("DIETClassifier", "ResponseSelector")
RESULT_MARKER = "PARSE_RESULT "

# `rasa` with numpy's global RNG seeded first: Rasa's StratifiedKFold(shuffle=True) has no
# random_state, so this is what makes the folds the same for every candidate.
SEEDED_RASA = (
    "import sys, numpy; numpy.random.seed(int(sys.argv[1])); "
    "sys.argv = ['rasa', *sys.argv[2:]]; "
    "from rasa.__main__ import main; main()"
)
RASA_ENV = {
    "RASA_MAX_CACHE_SIZE": "0",  # no training cache: honest training times, .rasa/ untouched
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
}
LOG_TIME = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")

_T0 = time.monotonic()


def progress(message: str) -> None:
    elapsed = int(time.monotonic() - _T0)
    print(f"[{elapsed // 60:02d}:{elapsed % 60:02d}] {message}", file=sys.stderr, flush=True)


def load_avg() -> float:
    return round(os.getloadavg()[0], 2)


# --------------------------------------------------------------------------------------------
# Results


@dataclass
class CVResult:
    folds: int
    seconds: float
    examples: int
    macro_f1: float
    weighted_f1: float
    accuracy: float
    accuracy_fold_std: float | None
    intent_f1: dict[str, float]
    confused_pairs: list[tuple[str, str, int]]
    error_texts: list[str]
    entity_f1: float | None
    entity_extractor: str | None
    extractors: dict[str, dict[str, Any]]


@dataclass
class TrainResult:
    seconds: float
    fit_seconds: float | None
    component_seconds: dict[str, float]
    estimated_seconds: float | None  # with the configured epochs, when they were capped
    model: str
    load_avg: tuple[float, float]


@dataclass
class LatencyResult:
    messages: int
    rounds: int
    load_seconds: list[float]
    p50_ms: float
    p95_ms: float
    mean_ms: float
    parses_per_second: float
    load_avg: list[float]


@dataclass
class CandidateResult:
    name: str
    config: str
    diet: bool
    speed_only: bool = False
    capped_epochs: dict[str, tuple[int, int]] = field(default_factory=dict)
    cv: CVResult | None = None
    train: TrainResult | None = None
    latency: LatencyResult | None = None
    errors: list[str] = field(default_factory=list)
    timings_ms: list[float] = field(default_factory=list, repr=False)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("timings_ms")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CandidateResult:
        result = cls(
            name=data["name"],
            config=data["config"],
            diet=data["diet"],
            speed_only=data.get("speed_only", False),
            capped_epochs={k: (v[0], v[1]) for k, v in data.get("capped_epochs", {}).items()},
            errors=data.get("errors", []),
        )
        if data.get("cv"):
            cv = dict(data["cv"])
            cv["confused_pairs"] = [tuple(p) for p in cv["confused_pairs"]]
            result.cv = CVResult(**cv)
        if data.get("train"):
            train = dict(data["train"])
            train["load_avg"] = tuple(train["load_avg"])
            result.train = TrainResult(**train)
        if data.get("latency"):
            result.latency = LatencyResult(**data["latency"])
        return result


# --------------------------------------------------------------------------------------------
# Candidates


def discover_candidates() -> dict[str, Path]:
    found = {p.stem: p for p in sorted(PIPELINES_DIR.glob("*.yml"))}
    order = [n for n in PREFERRED_ORDER if n in found] + [
        n for n in found if n not in PREFERRED_ORDER
    ]
    return {name: found[name] for name in order}


def read_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict) or not data.get("pipeline"):
        raise ValueError(f"{path}: not a Rasa config with a pipeline")
    return data


def has_diet(config: dict[str, Any]) -> bool:
    return any(c.get("name") == "DIETClassifier" for c in config["pipeline"])


def check_production_copy(candidates: dict[str, Path]) -> str | None:
    """A warning when `production.yml` no longer matches config.yml (pipeline and policies)."""
    if "production" not in candidates:
        return None
    ours, theirs = read_yaml(candidates["production"]), read_yaml(PRODUCTION_CONFIG)
    differing = [k for k in ("language", "pipeline", "policies") if ours.get(k) != theirs.get(k)]
    if differing:
        return f"benchmarks/pipelines/production.yml differs from config.yml in {', '.join(differing)}: copy config.yml again"
    return None


def effective_config(
    path: Path, max_epochs: int | None, out: Path
) -> tuple[Path, dict[str, tuple[int, int]]]:
    """The config to run: the candidate's file, or a copy with DIET/ResponseSelector epochs
    capped at `max_epochs`; and {component: (configured epochs, capped epochs)}."""
    if max_epochs is None:
        return path, {}
    config = read_yaml(path)
    capped = {}
    for component in config["pipeline"]:
        if component.get("name") in EPOCH_COMPONENTS:
            epochs = int(component.get("epochs", 300))  # Rasa's default for both
            if epochs > max_epochs:
                component["epochs"] = max_epochs
                capped[component["name"]] = (epochs, max_epochs)
    if not capped:
        return path, {}
    target = out / "config.effective.yml"
    target.write_text(
        f"# {path.name} with epochs capped by compare_pipelines.py\n"
        + yaml.safe_dump(config, sort_keys=False)
    )
    return target, capped


# --------------------------------------------------------------------------------------------
# Running Rasa


def run_logged(command: Sequence[str], log: Path) -> float:
    """Runs `command` in the project root with its output in `log`; returns the wall time."""
    env = {**os.environ, **RASA_ENV}
    start = time.perf_counter()
    with log.open("w") as handle:
        completed = subprocess.run(
            list(command),
            cwd=PROJECT_ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        tail = log.read_text(errors="replace").replace("\r", "\n").strip().splitlines()[-5:]
        raise RuntimeError(
            f"exit code {completed.returncode} after {seconds:.0f} s; see {log}:\n  "
            + "\n  ".join(tail)
        )
    return seconds


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def cross_validate(config: Path, folds: int, seed: int, out: Path) -> CVResult:
    cv_dir = out / "cv"
    shutil.rmtree(cv_dir, ignore_errors=True)
    command = [PYTHON, "-c", SEEDED_RASA, str(seed), "test", "nlu", "--cross-validation"]
    command += ["--folds", str(folds), "--config", rel(config), "--nlu", rel(NLU_DATA)]
    command += ["--out", rel(cv_dir), "--no-plot"]
    seconds = run_logged(command, out / "cv.log")
    return read_cv_results(cv_dir, out / "cv.log", folds, seconds)


def read_cv_results(cv_dir: Path, log: Path, folds: int, seconds: float) -> CVResult:
    report = json.loads((cv_dir / "intent_report.json").read_text())
    errors_file = cv_dir / "intent_errors.json"
    errors = json.loads(errors_file.read_text()) if errors_file.exists() else []
    summary_keys = ("accuracy", "macro avg", "weighted avg", "micro avg")
    intent_f1 = {
        k: round(v["f1-score"], 4)
        for k, v in report.items()
        if k not in summary_keys and isinstance(v, dict) and "f1-score" in v
    }
    pairs = Counter(
        (e["intent"], e["intent_prediction"]["name"]) for e in errors if e.get("intent_prediction")
    )
    extractors: dict[str, dict[str, Any]] = {}
    for path in sorted(cv_dir.glob("*_report.json")):
        name = path.name.removesuffix("_report.json")
        if name in ("intent", "response_selection"):
            continue
        entity_report = json.loads(path.read_text())
        micro = entity_report.get("micro avg") or {}
        extractors[name] = {
            "micro_f1": round(micro.get("f1-score", entity_report.get("accuracy", 0.0)), 4),
            "per_entity_f1": {
                k: round(v["f1-score"], 3)
                for k, v in sorted(entity_report.items())
                if k not in summary_keys and isinstance(v, dict) and "f1-score" in v
            },
        }
    main = next((x for x in LEARNED_EXTRACTORS if x in extractors), None)
    if main is None and extractors:
        main = max(extractors, key=lambda x: extractors[x]["micro_f1"])
    # Rasa logs each metric's mean and standard deviation over the folds.
    std = re.search(r"test Accuracy: [\d.]+ \(([\d.]+)\)", log.read_text(errors="replace"))
    return CVResult(
        folds=folds,
        seconds=round(seconds, 1),
        examples=int(report["macro avg"]["support"]),
        macro_f1=round(report["macro avg"]["f1-score"], 4),
        weighted_f1=round(report["weighted avg"]["f1-score"], 4),
        accuracy=round(report["accuracy"], 4),
        accuracy_fold_std=float(std.group(1)) if std else None,
        intent_f1=intent_f1,
        confused_pairs=[(t, p, n) for (t, p), n in pairs.most_common()],
        error_texts=sorted({e["text"] for e in errors}),
        entity_f1=extractors[main]["micro_f1"] if main else None,
        entity_extractor=main,
        extractors=extractors,
    )


def train(name: str, config: Path, out: Path, capped: dict[str, tuple[int, int]]) -> TrainResult:
    model_dir = out / "model"
    shutil.rmtree(model_dir, ignore_errors=True)
    command = [*RASA, "train", "nlu", "--config", rel(config), "--nlu", rel(NLU_DATA)]
    command += ["--out", rel(model_dir), "--fixed-model-name", name]
    before = load_avg()
    seconds = run_logged(command, out / "train.log")
    model = model_dir / f"{name}.tar.gz"
    if not model.exists():
        raise RuntimeError(f"rasa train nlu wrote no {model}")
    fit, components, epoch_rates = training_log_times(out / "train.log")
    estimated = None
    if capped:
        # Training time is linear in the epochs: add the missing ones at the rate measured
        # after the first epoch (which also builds the graph); without a rate (1 epoch run),
        # at the component's whole time per epoch, which overestimates.
        extra = 0.0
        for component, (configured, ran) in capped.items():
            rate = epoch_rates.get(component) or components.get(component, 0.0) / ran
            extra += rate * (configured - ran)
        estimated = round(seconds + extra, 1)
    return TrainResult(
        seconds=round(seconds, 1),
        fit_seconds=fit,
        component_seconds=components,
        estimated_seconds=estimated,
        model=rel(model),
        load_avg=(before, load_avg()),
    )


def tqdm_seconds(text: str) -> int:
    seconds = 0
    for part in text.split(":"):
        seconds = seconds * 60 + int(part)
    return seconds


def training_log_times(
    log: Path,
) -> tuple[float | None, dict[str, float], dict[str, float]]:
    """From Rasa's training log: seconds from the first component started to the last one
    finished, seconds per component (log timestamps, 1 s resolution; same names summed), and
    seconds per epoch after the first, from the epoch progress bar, per component that has one.
    """
    first = last = None
    started: dict[str, datetime] = {}
    components: dict[str, float] = {}
    bars: dict[str, dict[int, int]] = {}  # component -> {epoch: elapsed seconds}
    current = None
    event_re = re.compile(r"(Starting to train|Finished training) component '([^']+)'")
    bar_re = re.compile(r"Epochs:.*?\|\s*(\d+)/(\d+) \[((?:\d+:)?\d+:\d+)<")
    for line in log.read_text(errors="replace").replace("\r", "\n").splitlines():
        bar = bar_re.search(line)
        if bar and current:
            epoch, elapsed = int(bar.group(1)), tqdm_seconds(bar.group(3))
            bars.setdefault(current, {})[epoch] = elapsed
            continue
        stamp_match, event = LOG_TIME.search(line), event_re.search(line)
        if not (stamp_match and event):
            continue
        stamp = datetime.strptime(stamp_match.group(1), "%Y-%m-%d %H:%M:%S")
        what, name = event.groups()
        if what == "Starting to train":
            first = first or stamp
            current = name
            started[name] = stamp
        elif name in started:
            last = stamp
            took = (stamp - started.pop(name)).total_seconds()
            components[name] = components.get(name, 0.0) + took
    rates = {}
    for name, at_epoch in bars.items():
        final = max(at_epoch)
        if final >= 2 and 1 in at_epoch:
            rates[name] = (at_epoch[final] - at_epoch[1]) / (final - 1)
    fit = (last - first).total_seconds() if first and last else None
    return fit, components, rates


# --------------------------------------------------------------------------------------------
# Parse latency


def training_examples() -> list[str]:
    """The texts of the intent examples in data/nlu, entity annotations stripped."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(NLU_DATA))
    return [m.get("text") for m in data.intent_examples if m.get("text")]


def pick_messages(examples: list[str], count: int, warmup: int, seed: int, out: Path) -> Path:
    """Writes the warm-up and measured messages (disjoint, shuffled with `seed`) to a file."""
    texts = sorted(set(examples))
    random.Random(seed).shuffle(texts)
    if len(texts) < count + warmup:
        raise ValueError(f"only {len(texts)} distinct training messages")
    path = out / "messages.json"
    path.write_text(
        json.dumps(
            {"seed": seed, "warmup": texts[count : count + warmup], "measured": texts[:count]},
            indent=1,
        )
    )
    return path


async def parse_worker(model: str, messages_file: str) -> dict[str, Any]:
    """Loads one model in this process and times parsing the messages (the worker's job)."""
    import logging

    import rasa.utils.tensorflow.environment as tf_env
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    # As `rasa run` sets them up by default (INFO): unconfigured, structlog would print a debug
    # line for every parsed message, and that would be timed too.
    configure_logging_and_warnings(logging.INFO, warn_only_once=True, filter_repeated_logs=True)
    tf_env.setup_tf_environment()
    configure_structlog(logging.INFO)
    messages = json.loads(Path(messages_file).read_text())
    start = time.perf_counter()
    agent = Agent.load(model)
    load_seconds = time.perf_counter() - start
    for text in messages["warmup"]:
        await agent.parse_message(text)
    before = load_avg()
    timings = []
    for text in messages["measured"]:
        start = time.perf_counter()
        await agent.parse_message(text)
        timings.append((time.perf_counter() - start) * 1000)
    return {"load_seconds": load_seconds, "timings_ms": timings, "load_avg": [before, load_avg()]}


def measure_once(model: str, messages: Path, log: Path) -> dict[str, Any]:
    """Runs one parse worker (a fresh process, so only this model is loaded)."""
    env = {**os.environ, **RASA_ENV}
    command = [PYTHON, __file__, "--parse-worker", model, "--messages-file", str(messages)]
    with log.open("w") as handle:
        completed = subprocess.run(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=handle,
            stdin=subprocess.DEVNULL,
            text=True,
            check=False,
        )
    for line in completed.stdout.splitlines():
        if line.startswith(RESULT_MARKER):
            return json.loads(line.removeprefix(RESULT_MARKER))
    raise RuntimeError(f"parse worker failed (exit code {completed.returncode}); see {log}")


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarise_latency(runs: list[dict[str, Any]]) -> tuple[LatencyResult, list[float]]:
    timings = [t for run in runs for t in run["timings_ms"]]
    return (
        LatencyResult(
            messages=len(runs[0]["timings_ms"]),
            rounds=len(runs),
            load_seconds=[round(r["load_seconds"], 1) for r in runs],
            p50_ms=round(percentile(timings, 0.50), 2),
            p95_ms=round(percentile(timings, 0.95), 2),
            mean_ms=round(sum(timings) / len(timings), 2),
            parses_per_second=round(1000 * len(timings) / sum(timings), 1),
            load_avg=[x for r in runs for x in r["load_avg"]],
        ),
        timings,
    )


# --------------------------------------------------------------------------------------------
# Report


def fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def label(result: CandidateResult) -> str:
    return result.name + ("*" if result.capped_epochs else "")


def verdict(results: list[CandidateResult]) -> dict[str, Any] | None:
    """Highest macro-F1 within F1_BAND of the best, then the fastest parser."""
    scores = {
        r.name: (r.cv.macro_f1, r.latency.parses_per_second)
        for r in results
        if r.cv is not None and r.latency is not None
    }
    if not scores:
        return None
    best = max(scores, key=lambda n: scores[n][0])
    best_f1 = scores[best][0]
    band = [n for n, (f1, _) in scores.items() if f1 >= best_f1 - F1_BAND]
    winner = max(band, key=lambda n: scores[n][1])
    reasons = {}
    for name, (f1, speed) in scores.items():
        if name == winner:
            continue
        if name not in band:
            reasons[name] = (
                f"macro-F1 {best_f1 - f1:.3f} below the best: outside the {F1_BAND} band"
            )
        else:
            reasons[name] = (
                f"as accurate (within {F1_BAND}), but parses at "
                f"{speed / scores[winner][1]:.2f}x the winner's speed"
            )
    return {"winner": winner, "best_macro_f1": best, "band": band, "others": reasons}


def reference_throughput(results: list[CandidateResult]) -> float | None:
    ref = next((r for r in results if r.name == REFERENCE and r.latency), None)
    return ref.latency.parses_per_second if ref and ref.latency else None


def train_seconds(train: TrainResult | None) -> str:
    if train is None:
        return "—"
    if train.estimated_seconds is not None:
        return f"~{train.estimated_seconds:.0f}"
    return f"{train.seconds:.0f}"


def table(results: list[CandidateResult]) -> list[str]:
    ref = reference_throughput(results)
    headers = ["candidate", "folds", "macro-F1", "accuracy", "entity F1", "train s"]
    headers += ["p50 ms", "p95 ms", "parses/s", "x default"]
    rows = []
    for r in results:
        cv, tr, lat = r.cv, r.train, r.latency
        pps = lat.parses_per_second if lat else None
        rows.append(
            [
                label(r),
                str(cv.folds) if cv else "—",
                fmt(cv.macro_f1 if cv else None, ".3f"),
                fmt(cv.accuracy if cv else None, ".3f"),
                fmt(cv.entity_f1 if cv else None, ".3f"),
                train_seconds(tr),
                fmt(lat.p50_ms if lat else None, ".1f"),
                fmt(lat.p95_ms if lat else None, ".1f"),
                fmt(pps, ".0f"),
                fmt(pps / ref if pps and ref else None, ".2f"),
            ]
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        return "  ".join([first, *(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))])

    return [line(headers), "  ".join("-" * w for w in widths), *(line(row) for row in rows)]


def details(results: list[CandidateResult], run: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    evaluated = [(r, r.cv) for r in results if r.cv is not None]
    if evaluated:
        lines += [
            "",
            "Cross-validation (intent accuracy ± std over folds; entity F1 per extractor):",
        ]
        for r, cv in evaluated:
            std = f" ± {cv.accuracy_fold_std:.3f}" if cv.accuracy_fold_std is not None else ""
            lines.append(
                f"  {label(r):<20} {cv.folds} folds, {cv.examples} examples, accuracy {cv.accuracy:.3f}{std}, "
                f"weighted-F1 {cv.weighted_f1:.3f}, {len(cv.error_texts)} intent errors, {cv.seconds:.0f} s"
            )
            for name, ex in cv.extractors.items():
                per = ", ".join(f"{k} {v:.2f}" for k, v in ex["per_entity_f1"].items())
                lines.append(f"      {name:<26} micro-F1 {ex['micro_f1']:.3f}  ({per})")
    if len(evaluated) > 1:
        intents = sorted({i for _, cv in evaluated for i in cv.intent_f1})
        spread = []
        for intent in intents:
            scores = [cv.intent_f1.get(intent) for _, cv in evaluated]
            known = [s for s in scores if s is not None]
            spread.append((max(known) - min(known), intent, scores))
        spread.sort(key=lambda item: (-item[0], item[1]))
        names = [label(r) for r, _ in evaluated]
        width = max(len(n) for n in names) + 2
        lines += ["", "Intent F1 where the candidates differ most:"]
        lines.append("  " + "intent".ljust(24) + "".join(n.rjust(width) for n in names))
        for gap, intent, scores in spread[:8]:
            if gap < 0.005:
                break
            lines.append(
                "  " + intent.ljust(24) + "".join(fmt(s, ".3f").rjust(width) for s in scores)
            )
        lines += ["", "Most confused intents (true → predicted, count):"]
        for r, cv in evaluated:
            pairs = "; ".join(f"{t} → {p} {n}" for t, p, n in cv.confused_pairs[:4])
            lines.append(f"  {label(r):<20} {pairs}")
        # Every example is tested exactly once in a cross-validation, so the sets of
        # misclassified messages compare directly (the first candidate is the baseline).
        base, base_cv = evaluated[0]
        base_errors = set(base_cv.error_texts)
        lines += ["", f"Misclassified messages compared with {base.name}:"]
        for r, cv in evaluated[1:]:
            mine = set(cv.error_texts)
            lines.append(
                f"  {label(r):<20} {len(mine - base_errors)} wrong only here, "
                f"{len(base_errors - mine)} right only here, {len(mine & base_errors)} wrong in both"
            )
    timed = [r for r in results if r.train or r.latency]
    if timed:
        lines += ["", "Timing (load average of the machine before/after, 2 cores):"]
        for r in timed:
            parts = []
            if r.train:
                fit = f", components {r.train.fit_seconds:.0f} s" if r.train.fit_seconds else ""
                parts.append(
                    f"train {r.train.seconds:.0f} s{fit} (load {r.train.load_avg[0]:.1f}/{r.train.load_avg[1]:.1f})"
                )
            if r.latency:
                loads = "/".join(f"{x:.1f}" for x in r.latency.load_avg)
                parts.append(
                    f"model load {'+'.join(f'{s:.0f}' for s in r.latency.load_seconds)} s, "
                    f"mean parse {r.latency.mean_ms:.1f} ms over {r.latency.rounds}x{r.latency.messages} (load {loads})"
                )
            lines.append(f"  {label(r):<20} " + "; ".join(parts))
    notes = []
    folds = {cv.folds for _, cv in evaluated}
    if len(folds) > 1:
        notes.append(
            f"DIET candidates were cross-validated with {run['diet_folds']} folds (train on "
            f"{1 - 1 / run['diet_folds']:.0%} of the data per fold), the others with {run['folds']} "
            f"({1 - 1 / run['folds']:.0%}): fewer folds slightly understate accuracy. "
            f"`--folds {run['diet_folds']}` gives every candidate the same folds."
        )
    for r in results:
        if r.capped_epochs:
            capped = ", ".join(f"{c} {ran} of {n}" for c, (n, ran) in r.capped_epochs.items())
            what = (
                "speed only (--speed-only): no cross-validation"
                if r.speed_only
                else "its accuracy is that of the shorter training"
            )
            estimate = ""
            if r.train and r.train.estimated_seconds is not None:
                estimate = (
                    f"; trained in {r.train.seconds:.0f} s, ~{r.train.estimated_seconds:.0f} s "
                    "extrapolated to all epochs"
                )
            notes.append(
                f"{r.name}*: epochs trained: {capped}, to bound the run; {what}. Parse latency "
                f"does not depend on the number of epochs{estimate}."
            )
        elif r.speed_only:
            notes.append(f"{r.name}: speed only (--speed-only), no cross-validation.")
        for error in r.errors:
            notes.append(f"{r.name} FAILED: {error}")
    if run.get("production_warning"):
        notes.append(run["production_warning"])
    if notes:
        lines += ["", "Notes:", *(f"  - {n}" for n in notes)]
    return lines


def render(results: list[CandidateResult], run: dict[str, Any]) -> str:
    lines = [
        f"NLU pipelines on {run['examples']} examples, {run['messages']} parse messages "
        f"(seed {run['seed']}), {run['started']}",
        "",
        *table(results),
    ]
    ref = reference_throughput(results)
    if ref is None:
        lines.append(f"(x default: {REFERENCE} has no latency result in this run)")
    v = verdict(results)
    if v:
        by_name = {r.name: r for r in results}
        w = by_name[v["winner"]]
        assert w.cv and w.latency
        speed = (
            f", {w.latency.parses_per_second / ref:.1f}x the default's parse throughput"
            if ref
            else ""
        )
        train_s = f", trains in {w.train.seconds:.0f} s" if w.train else ""
        best = by_name[v["best_macro_f1"]]
        assert best.cv
        rank = (
            "the best"
            if best is w
            else f"within {F1_BAND} of the best, {best.name} {best.cv.macro_f1:.3f}"
        )
        lines += [
            "",
            f"Verdict: {w.name}: macro-F1 {w.cv.macro_f1:.3f} ({rank}), "
            f"{w.latency.p50_ms:.1f} ms p50{speed}{train_s}.",
            *(f"  {name}: {reason}" for name, reason in v["others"].items()),
        ]
    lines += details(results, run)
    if run.get("wall_seconds") is not None:
        lines += ["", f"Wall time of the run: {run['wall_seconds'] / 60:.1f} min."]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Compare NLU pipelines (benchmarks/pipelines/*.yml): cross-validated "
        "accuracy, training time and parse latency, in one run.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--candidates", nargs="+", metavar="NAME", help="run these only (default: all)"
    )
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds")
    parser.add_argument(
        "--diet-folds", type=int, default=3, help="folds for candidates with a DIETClassifier"
    )
    parser.add_argument(
        "--speed-only",
        nargs="*",
        metavar="NAME",
        default=[REFERENCE],
        help="candidates measured for speed only: no cross-validation, and DIET/ResponseSelector "
        "trained for --speed-only-epochs (training time extrapolated, marked ~); "
        "`--speed-only` alone: none",
    )
    parser.add_argument(
        "--speed-only-epochs", type=int, default=5, help="epochs of the --speed-only candidates"
    )
    parser.add_argument(
        "--diet-epochs",
        type=int,
        help="cap DIETClassifier/ResponseSelector epochs of every candidate (marked * in the table)",
    )
    parser.add_argument("--messages", type=int, default=300, help="messages timed per round")
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured parses first")
    parser.add_argument("--latency-rounds", type=int, default=2, help="rounds of the latency phase")
    parser.add_argument("--seed", type=int, default=42, help="seed of the folds and the messages")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results folder")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--report-only", action="store_true", help="reprint the last run's summary.json"
    )
    parser.add_argument("--parse-worker", metavar="MODEL", help=argparse.SUPPRESS)
    parser.add_argument("--messages-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.folds, args.diet_folds) < 2:
        parser.error("--folds and --diet-folds must be at least 2")
    if args.messages < 1 or args.latency_rounds < 1 or args.warmup < 0:
        parser.error("--messages and --latency-rounds must be positive")
    if min(args.speed_only_epochs, args.diet_epochs or 1) < 1:
        parser.error("epochs must be positive")
    return args


def output(results: list[CandidateResult], run: dict[str, Any], as_json: bool) -> str:
    summary = {
        "run": run,
        "reference": REFERENCE,
        "verdict": verdict(results),
        "candidates": {r.name: r.to_json() for r in results},
    }
    text = render(results, run)
    run_out = Path(run["out"])
    (run_out / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    (run_out / "summary.txt").write_text(text + "\n")
    return json.dumps(summary, indent=1, ensure_ascii=False) if as_json else text


def evaluate_candidate(
    name: str, path: Path, args: argparse.Namespace, out: Path
) -> CandidateResult:
    """Cross-validation (unless speed only) and the training on all the data, one candidate."""
    out.mkdir(parents=True)
    speed_only = name in args.speed_only
    max_epochs = args.speed_only_epochs if speed_only else args.diet_epochs
    config_path, capped = effective_config(path, max_epochs, out)
    diet = has_diet(read_yaml(path))
    result = CandidateResult(name, rel(path), diet, speed_only, capped)
    folds = args.diet_folds if diet else args.folds
    if not speed_only:
        progress(f"{name}: {folds}-fold cross-validation (load {load_avg()}) ...")
        try:
            cv = result.cv = cross_validate(config_path, folds, args.seed, out)
            progress(
                f"{name}: macro-F1 {cv.macro_f1:.3f}, accuracy {cv.accuracy:.3f}, "
                f"entity F1 {fmt(cv.entity_f1, '.3f')} ({cv.seconds:.0f} s)"
            )
        except (RuntimeError, OSError, KeyError, ValueError) as error:
            result.errors.append(f"cross-validation: {error}")
            progress(f"{name}: cross-validation FAILED: {error}")
    progress(f"{name}: training on all the data (load {load_avg()}) ...")
    try:
        trained = result.train = train(name, config_path, out, capped)
        estimate = trained.estimated_seconds
        progress(
            f"{name}: trained in {trained.seconds:.0f} s"
            + (f" (~{estimate:.0f} s with all epochs)" if estimate else "")
        )
    except (RuntimeError, OSError) as error:
        result.errors.append(f"training: {error}")
        progress(f"{name}: training FAILED: {error}")
    (out / "result.json").write_text(json.dumps(result.to_json(), indent=1))
    return result


def measure_latencies(
    results: list[CandidateResult], messages: Path, rounds: int, out: Path
) -> None:
    """The latency phase: every trained model in turn, `rounds` times (ABBA order)."""
    trained = [(r, r.train) for r in results if r.train is not None]
    runs: dict[str, list[dict[str, Any]]] = {r.name: [] for r, _ in trained}
    count = len(json.loads(messages.read_text())["measured"])
    for round_no in range(1, rounds + 1):
        for r, tr in trained if round_no % 2 else reversed(trained):
            progress(
                f"{r.name}: parse latency, round {round_no}/{rounds}, {count} messages "
                f"(load {load_avg()}) ..."
            )
            try:
                measured = measure_once(
                    str(PROJECT_ROOT / tr.model), messages, out / r.name / f"latency-{round_no}.log"
                )
            except (RuntimeError, OSError) as error:
                r.errors.append(f"latency round {round_no}: {error}")
                progress(f"{r.name}: latency FAILED: {error}")
                continue
            runs[r.name].append(measured)
            timings = measured["timings_ms"]
            progress(
                f"{r.name}: p50 {percentile(timings, 0.5):.1f} ms, "
                f"{1000 * len(timings) / sum(timings):.0f} parses/s"
            )
    for r, _ in trained:
        if runs[r.name]:
            r.latency, r.timings_ms = summarise_latency(runs[r.name])
        (out / r.name / "result.json").write_text(json.dumps(r.to_json(), indent=1))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.parse_worker:
        measured = asyncio.run(parse_worker(args.parse_worker, args.messages_file))
        print(RESULT_MARKER + json.dumps(measured), flush=True)
        return 0

    out: Path = args.out.resolve()
    if args.report_only:
        summary = json.loads((out / "summary.json").read_text())
        loaded = [CandidateResult.from_json(c) for c in summary["candidates"].values()]
        print(render(loaded, summary["run"]))
        return 0
    if out == NLU_DATA or NLU_DATA in out.parents:
        raise SystemExit("--out must not be inside data/")

    available = discover_candidates()
    names = args.candidates or list(available)
    unknown = [n for n in names + args.speed_only if n not in available]
    if unknown:
        raise SystemExit(f"unknown candidates {unknown}; available: {', '.join(available)}")
    out.mkdir(parents=True, exist_ok=True)
    examples = training_examples()
    run: dict[str, Any] = {
        "started": datetime.now().isoformat(timespec="seconds"),
        "out": str(out),
        "examples": len(examples),
        "folds": args.folds,
        "diet_folds": args.diet_folds,
        "diet_epochs": args.diet_epochs,
        "speed_only": [n for n in names if n in args.speed_only],
        "speed_only_epochs": args.speed_only_epochs,
        "messages": args.messages,
        "warmup": args.warmup,
        "latency_rounds": args.latency_rounds,
        "seed": args.seed,
        "cpus": os.cpu_count(),
        "production_warning": check_production_copy(available),
        "wall_seconds": None,
    }
    if run["production_warning"]:
        progress("WARNING: " + run["production_warning"])
    progress(f"candidates: {', '.join(names)}; results in {rel(out)}/ (load {load_avg()})")
    messages = pick_messages(examples, args.messages, args.warmup, args.seed, out)

    results = []
    for name in names:
        shutil.rmtree(out / name, ignore_errors=True)
        results.append(evaluate_candidate(name, available[name], args, out / name))
    measure_latencies(results, messages, args.latency_rounds, out)

    run["wall_seconds"] = round(time.monotonic() - _T0, 1)
    progress(f"done in {run['wall_seconds'] / 60:.1f} min")
    print(output(results, run, args.json))
    return 0 if all(not r.errors for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
