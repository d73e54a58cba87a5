"""Monitoring: the headline metrics and the running experiments checked for harm.

`run_check` compares each headline metric of the last 7 days with the 28 days before and
checks each running experiment's guardrails and sample ratio; what holds is an open alert
(one per condition), what no longer holds is resolved. `open_alerts` and `alerts_to_tell`
show them to managers only.
"""

from bot.monitoring.service import (
    AlertView,
    CheckResult,
    NotAllowed,
    alerts_to_tell,
    chat_notice,
    open_alerts,
    run_check,
)

__all__ = [
    "AlertView",
    "CheckResult",
    "NotAllowed",
    "alerts_to_tell",
    "chat_notice",
    "open_alerts",
    "run_check",
]
