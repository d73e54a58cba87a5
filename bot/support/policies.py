"""The shop's service policies, read from the policy file in `data/`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Policies:
    raw: dict[str, Any]

    @property
    def return_window_days(self) -> int:
        return int(self.raw["returns"]["window_days"])

    @property
    def return_excluded_categories(self) -> tuple[str, ...]:
        return tuple(self.raw["returns"].get("excluded_categories", ()))

    @property
    def refund_days(self) -> int:
        return int(self.raw["refunds"]["days_after_receipt"])

    def shipping_text(self) -> str:
        shipping = self.raw["shipping"]
        options = "; ".join(f"{o['name']}: {o['price']}, {o['days']}" for o in shipping["options"])
        return (
            f"We ship to {shipping['regions']}. {options}. "
            f"{shipping['processing']} {shipping['tracking']}"
        )

    def returns_text(self) -> str:
        returns = self.raw["returns"]
        return (
            f"You can return items within {returns['window_days']} days of delivery, "
            f"{returns['condition']}. {returns['how']} "
            f"Please note: {returns['excluded_reason']}."
        )

    def refunds_text(self) -> str:
        refunds = self.raw["refunds"]
        return (
            f"Refunds are issued within {refunds['days_after_receipt']} business days after "
            f"your return reaches us. {refunds['method']}"
        )

    def payments_text(self) -> str:
        payments = self.raw["payments"]
        return f"We accept {payments['methods']}. {payments['failed']} {payments['double_charge']}"

    def account_text(self) -> str:
        account = self.raw["account"]
        return f"{account['reset_password']} {account['change_email']} {account['delete']}"


def load_policies(path: Path) -> Policies:
    with path.open(encoding="utf-8") as handle:
        return Policies(yaml.safe_load(handle))
