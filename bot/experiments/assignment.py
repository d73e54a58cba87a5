"""Which variant a conversation gets: deterministic, sticky, the same in every process.

The unit is the signed-in customer (so a customer sees the same variant in every chat), else
the conversation. Its bucket is the first 8 bytes of SHA-256 over the experiment's salt and
the unit, as a number in [0, 1); the variants own consecutive slices of [0, 1) in proportion
to their weights. Changing the salt re-randomises; nothing depends on Python's `hash()`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bot.experiments.declarations import Experiment


@dataclass(frozen=True)
class Assignment:
    experiment: str
    variant: str
    unit: str
    # Whether the experiment split this unit (a running test), as opposed to the default.
    assigned: bool


def unit_of(customer_id: int | None, conversation_id: str) -> str:
    """What is randomised: the signed-in customer, else the conversation."""
    return (
        f"customer:{customer_id}" if customer_id is not None else f"conversation:{conversation_id}"
    )


def bucket(salt: str, unit: str) -> float:
    """A number in [0, 1), uniform over units, fixed for a (salt, unit)."""
    digest = hashlib.sha256(f"{salt}\x00{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(experiment: Experiment, unit: str) -> Assignment:
    """The unit's variant: split by weight while the experiment runs, else its default."""
    if not experiment.assigning:
        return Assignment(experiment.name, experiment.default_variant, unit, assigned=False)
    point = bucket(experiment.salt, unit) * sum(v.weight for v in experiment.variants)
    for variant in experiment.variants:
        if point < variant.weight:
            return Assignment(experiment.name, variant.name, unit, assigned=True)
        point -= variant.weight
    return Assignment(experiment.name, experiment.variants[-1].name, unit, assigned=True)
