"""Experiments as declared in `data/experiments.yml`: read, checked, and reported by line.

A bad entry is reported with its line number and left out; the other experiments still load,
so one typo never stops the bot. `load_experiments(path)` returns both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

FOCUS_AREAS = ("usability", "support", "personalisation")
STATUSES = ("draft", "running", "stopped", "decided")
# The metrics an experiment may be judged on, and whether a higher value is better.
METRICS: dict[str, bool] = {
    "csat": True,
    "nps": True,
    "containment": True,
    "handoff_rate": False,
    "survey_response_rate": True,
    "recommendation_acceptance": True,
    "first_response_time": False,
}


@dataclass(frozen=True)
class Variant:
    name: str
    weight: float


@dataclass(frozen=True)
class Guardrail:
    metric: str
    # The harm, in the metric's points, that stops the experiment.
    max_drop: float


@dataclass(frozen=True)
class Decision:
    ship: str
    by: str
    reason: str
    at: str = ""


@dataclass(frozen=True)
class Experiment:
    """One declared experiment; the first variant is the control."""

    name: str
    focus: str
    hypothesis: str
    salt: str
    variants: tuple[Variant, ...]
    primary_metric: str
    guardrails: tuple[Guardrail, ...] = ()
    minimum_detectable_effect: float = 5.0
    start: date | None = None
    planned_end: date | None = None
    status: str = "draft"
    decision: Decision | None = None
    line: int = 0

    @property
    def control(self) -> Variant:
        return self.variants[0]

    @property
    def weights(self) -> dict[str, float]:
        return {v.name: v.weight for v in self.variants}

    @property
    def assigning(self) -> bool:
        """Whether new conversations are split between the variants (a running test)."""
        return self.status == "running"

    @property
    def default_variant(self) -> str:
        """What a conversation gets when the experiment does not assign: the shipped variant
        once decided, else the control."""
        return self.decision.ship if self.decision else self.control.name


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class Declarations:
    experiments: list[Experiment] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def get(self, name: str) -> Experiment | None:
        return next((e for e in self.experiments if e.name == name), None)


class _Invalid(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def _lines(node: yaml.Node) -> dict[str, int]:
    """The line (1-based) of each key of a mapping node."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(key.value): key.start_mark.line + 1 for key, _ in node.value}


def _text(raw: dict[str, Any], key: str, line: int, required: bool = True) -> str:
    value = raw.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(line, f"'{key}' must be a non-empty text")
    return " ".join(value.split())


def _number(value: Any, what: str, line: int, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Invalid(line, f"{what} must be a number, not {value!r}")
    if positive and value <= 0:
        raise _Invalid(line, f"{what} must be above 0")
    return float(value)


def _date(value: Any, what: str, line: int) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _Invalid(line, f"{what} must be a date like 2026-12-01, not {value!r}") from None


def _metric(value: Any, line: int) -> str:
    if value not in METRICS:
        raise _Invalid(line, f"unknown metric {value!r}; use one of {', '.join(METRICS)}")
    return str(value)


def _experiment(raw: Any, node: yaml.Node) -> Experiment:
    start_line = node.start_mark.line + 1
    if not isinstance(raw, dict):
        raise _Invalid(start_line, "an experiment must be a mapping of its fields")
    lines = _lines(node)

    def at(key: str) -> int:
        return lines.get(key, start_line)

    name = _text(raw, "name", at("name"))
    focus = raw.get("focus")
    if focus not in FOCUS_AREAS:
        raise _Invalid(at("focus"), f"focus must be one of {', '.join(FOCUS_AREAS)}")
    variants_raw = raw.get("variants")
    if not isinstance(variants_raw, list) or len(variants_raw) < 2:
        raise _Invalid(at("variants"), "an experiment needs at least two variants")
    variants = []
    for item in variants_raw:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise _Invalid(at("variants"), "each variant needs a name and a weight")
        variants.append(
            Variant(item["name"], _number(item.get("weight"), "a weight", at("variants")))
        )
    if len({v.name for v in variants}) != len(variants):
        raise _Invalid(at("variants"), "variant names must differ")
    guardrails = []
    for item in raw.get("guardrails") or []:
        if not isinstance(item, dict):
            raise _Invalid(at("guardrails"), "a guardrail needs a metric and a max_drop")
        guardrails.append(
            Guardrail(
                _metric(item.get("metric"), at("guardrails")),
                _number(item.get("max_drop"), "max_drop", at("guardrails")),
            )
        )
    status = raw.get("status", "draft")
    if status not in STATUSES:
        raise _Invalid(at("status"), f"status must be one of {', '.join(STATUSES)}")
    decision = None
    if status == "decided":
        made = raw.get("decision")
        if not isinstance(made, dict) or made.get("ship") not in {v.name for v in variants}:
            raise _Invalid(
                at("status"), "a decided experiment needs decision.ship, one of its variants"
            )
        decision = Decision(
            str(made["ship"]),
            str(made.get("by") or "unknown"),
            " ".join(str(made.get("reason") or "").split()),
            str(made.get("at") or ""),
        )
    start = _date(raw.get("start"), "start", at("start"))
    end = _date(raw.get("planned_end"), "planned_end", at("planned_end"))
    if start and end and end < start:
        raise _Invalid(at("planned_end"), "planned_end is before start")
    return Experiment(
        name=name,
        focus=str(focus),
        hypothesis=_text(raw, "hypothesis", at("hypothesis")),
        salt=_text(raw, "salt", at("salt"), required=False) or name,
        variants=tuple(variants),
        primary_metric=_metric(raw.get("primary_metric"), at("primary_metric")),
        guardrails=tuple(guardrails),
        minimum_detectable_effect=_number(
            raw.get("minimum_detectable_effect", 5),
            "minimum_detectable_effect",
            at("minimum_detectable_effect"),
        ),
        start=start,
        planned_end=end,
        status=str(status),
        decision=decision,
        line=start_line,
    )


def parse_experiments(text: str) -> Declarations:
    """The valid experiments of a YAML text, and a problem (with its line) for each bad one."""
    found = Declarations()
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        found.problems.append(Problem((mark.line + 1) if mark else 1, f"not valid YAML: {error}"))
        return found
    if root is None or data is None:
        return found
    entries = data.get("experiments") if isinstance(data, dict) else None
    nodes = (
        dict((k.value, v) for k, v in root.value).get("experiments")
        if isinstance(root, yaml.MappingNode)
        else None
    )
    if not isinstance(entries, list) or not isinstance(nodes, yaml.SequenceNode):
        found.problems.append(Problem(1, "the file needs a list under 'experiments:'"))
        return found
    for raw, node in zip(entries, nodes.value, strict=True):
        try:
            experiment = _experiment(raw, node)
        except _Invalid as invalid:
            found.problems.append(Problem(invalid.line, str(invalid)))
            continue
        if found.get(experiment.name) is not None:
            found.problems.append(
                Problem(experiment.line, f"a second experiment named {experiment.name!r}")
            )
            continue
        found.experiments.append(experiment)
    return found


def load_experiments(path: Path) -> Declarations:
    """The experiments declared in `path` (none, without a problem, when there is no file)."""
    if not path.exists():
        return Declarations()
    return parse_experiments(path.read_text(encoding="utf-8"))
