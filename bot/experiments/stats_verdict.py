"""The plain-English verdict on an experiment, from the analysis' pieces.

SRM first (a broken split withholds every verdict), then the guardrails (a harm the
interval shows stops the test), then the primary metric (ship, keep the control, or how
much longer). Rates and NPS are shown in points (x100).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.experiments.stats import Comparison
from bot.experiments.stats_design import Remaining, SrmResult
from bot.experiments.stats_sequential import SequentialResult


@dataclass(frozen=True)
class Reading:
    """One metric's result for the verdict.

    Args:
        name: As shown ("CSAT", "containment").
        comparison: The fixed-horizon comparison.
        sequential: Its always-valid interval, used instead when given.
        points: Show differences x100 as points (rates, NPS); False for plain units.
        higher_is_better: False for handoff rate or response time.
        max_drop: For a guardrail, the harm in shown units it tolerates; it holds once the
            interval's worst end is within it (None: it holds unless harm is shown).
        unit: The unit for plain metrics ("s").
    """

    name: str
    comparison: Comparison
    sequential: SequentialResult | None = None
    points: bool = True
    higher_is_better: bool = True
    max_drop: float | None = None
    unit: str = ""

    @property
    def interval(self) -> tuple[float, float]:
        """The interval in shown units, improvement positive."""
        low, high = (
            (self.sequential.ci_low, self.sequential.ci_high)
            if self.sequential
            else (self.comparison.ci_low, self.comparison.ci_high)
        )
        k = 100.0 if self.points else 1.0
        return (k * low, k * high) if self.higher_is_better else (-k * high, -k * low)

    @property
    def gain(self) -> float:
        """The point estimate in shown units, improvement positive."""
        k = 100.0 if self.points else 1.0
        return k * self.comparison.difference * (1 if self.higher_is_better else -1)

    def amount(self, value: float) -> str:
        return f"{abs(value):.1f} points" if self.points else f"{abs(value):.3g}{self.unit}"

    def interval_text(self) -> str:
        low, high = self.interval
        sign = 1 if self.higher_is_better else -1
        shown = sorted((sign * low, sign * high))
        kind = "always-valid" if self.sequential else "fixed-horizon"
        level = round(100 * (1 - self.comparison.alpha))
        return f"{level}% CI {shown[0]:.1f} to {shown[1]:.1f}, {kind}"


@dataclass(frozen=True)
class Verdict:
    """`decision` is one of: ship, keep_control, stop, continue, withheld."""

    decision: str
    text: str


def _harmed(reading: Reading) -> str:
    return "fell" if reading.higher_is_better else "rose"


def guardrail_state(guard: Reading) -> str:
    """A guardrail's reading: "harmed" (the interval shows harm), "unresolved" (it still
    allows a drop beyond `max_drop`) or "holds"."""
    low, high = guard.interval
    if high < 0:
        return "harmed"
    if guard.max_drop is not None and low < -guard.max_drop:
        return "unresolved"
    return "holds"


def verdict(
    primary: Reading,
    guardrails: Sequence[Reading] = (),
    srm: SrmResult | None = None,
    remaining: Remaining | None = None,
    variant: str = "B",
    control: str = "A",
) -> Verdict:
    """Says what the results mean and what to do."""
    if srm is not None and srm.mismatch:
        return Verdict("withheld", f"verdict withheld: {srm.message}")
    for guard in guardrails:
        if guardrail_state(guard) == "harmed":
            return Verdict(
                "stop",
                f"stopped: guardrail {guard.name} {_harmed(guard)} by "
                f"{guard.amount(guard.gain)} ({guard.interval_text()})",
            )
    unresolved = [g for g in guardrails if guardrail_state(g) == "unresolved"]
    low, high = primary.interval
    effect = f"{primary.amount(primary.gain)} ({primary.interval_text()})"
    if low > 0:
        verb = "improves" if primary.higher_is_better else "lowers"
        head = f"{variant} {verb} {primary.name} by {effect}"
        if unresolved:
            names = ", ".join(
                f"{g.name} could still drop by {g.amount(g.interval[0])} "
                f"(limit {g.amount(g.max_drop or 0)})"
                for g in unresolved
            )
            return Verdict("continue", f"{head}; guardrails not yet shown to hold: {names}")
        guards = "; guardrails hold" if guardrails else ""
        return Verdict("ship", f"{head}{guards}; ship {variant}")
    if high < 0:
        return Verdict(
            "keep_control", f"{variant} worsens {primary.name} by {effect}; keep {control}"
        )
    if remaining is not None and remaining.more > 0:
        return Verdict("continue", f"no difference detectable yet: {remaining.text}")
    return Verdict(
        "keep_control",
        f"no difference detectable in {primary.name} at the planned sample "
        f"({primary.interval_text()}); keep {control}",
    )
