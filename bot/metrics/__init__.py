"""Customer-experience metrics: NPS, CSAT, CLV, retention, each with its sample size and interval."""

from bot.metrics.core import Comparison, MetricResult, clv, compare, csat, nps, retention_rate

__all__ = ["MetricResult", "Comparison", "clv", "compare", "csat", "nps", "retention_rate"]
