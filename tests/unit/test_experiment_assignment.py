"""Assignment: uniform, weighted, sticky, and the same in every process."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from dataclasses import replace

from scipy.stats import chisquare

from bot.experiments.assignment import assign, bucket, unit_of
from bot.experiments.declarations import Decision, Experiment, Variant
from bot.settings import PROJECT_ROOT

EXPERIMENT = Experiment(
    name="t",
    focus="support",
    hypothesis="h",
    salt="t-salt",
    variants=(Variant("a", 50), Variant("b", 50)),
    primary_metric="csat",
    status="running",
)
IDS = [f"conversation:{i:06d}" for i in range(100_000)]


def test_assignment_is_uniform_over_100000_ids():
    counts = Counter(assign(EXPERIMENT, unit).variant for unit in IDS)
    assert abs(counts["a"] - 50_000) < 1_000  # about 6 standard deviations
    assert chisquare([counts["a"], counts["b"]]).pvalue > 0.001
    # and the buckets themselves are uniform over ten slices of [0, 1)
    slices = Counter(int(bucket("t-salt", unit) * 10) for unit in IDS)
    assert chisquare([slices[i] for i in range(10)]).pvalue > 0.001


def test_weights_are_respected():
    weighted = replace(EXPERIMENT, variants=(Variant("a", 20), Variant("b", 30), Variant("c", 50)))
    counts = Counter(assign(weighted, unit).variant for unit in IDS)
    assert [round(counts[v] / len(IDS), 2) for v in "abc"] == [0.2, 0.3, 0.5]


def test_a_customer_keeps_their_variant_and_a_new_salt_reshuffles():
    unit = unit_of(17, "chat-1")
    assert unit == unit_of(17, "chat-2") == "customer:17"
    assert unit_of(None, "chat-1") == "conversation:chat-1"
    assert {assign(EXPERIMENT, unit).variant for _ in range(5)} == {
        assign(EXPERIMENT, unit).variant
    }
    other = replace(EXPERIMENT, salt="new-salt")
    moved = sum(assign(EXPERIMENT, u).variant != assign(other, u).variant for u in IDS[:10_000])
    assert 4_500 < moved < 5_500


def test_the_same_ids_get_the_same_variants_in_another_process():
    sample = IDS[::1_000]
    here = [assign(EXPERIMENT, unit).variant for unit in sample]
    code = (
        "import json, sys\n"
        "from tests.unit.test_experiment_assignment import EXPERIMENT, IDS\n"
        "from bot.experiments.assignment import assign\n"
        "print(json.dumps([assign(EXPERIMENT, u).variant for u in IDS[::1000]]))\n"
    )
    there = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "123", "PATH": ""},
    ).stdout
    assert json.loads(there) == here


def test_only_a_running_experiment_assigns():
    unit = "conversation:x"
    for status in ("draft", "stopped"):
        stopped = assign(replace(EXPERIMENT, status=status), unit)
        assert (stopped.variant, stopped.assigned) == ("a", False)
    shipped = replace(EXPERIMENT, status="decided", decision=Decision("b", "Maria", "won"))
    assert (assign(shipped, unit).variant, assign(shipped, unit).assigned) == ("b", False)
