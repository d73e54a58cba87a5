"""How often the 95% NPS intervals hold the true NPS, by simulation at small n."""

from __future__ import annotations

import numpy as np

from bot.metrics.core import nps_adjusted_wald, nps_from_counts, nps_plain_wald

# True (promoter, detractor) shares: from an even split to a shop most customers love.
MIXES = ((0.3, 0.3), (0.5, 0.2), (0.7, 0.1), (0.8, 0.05), (0.9, 0.03))
SIZES = (10, 20, 30)
SAMPLES = 20_000
SEED = 20261123


def _coverage(interval, promoters, detractors, n: int, true_nps: float) -> float:
    low, high, _, _ = interval(promoters, detractors, float(n))
    return float(np.mean((low <= true_nps + 1e-9) & (true_nps - 1e-9 <= high)))


def _simulate() -> list[tuple[float, float, int, float, float]]:
    rng = np.random.default_rng(SEED)
    rows = []
    for p, d in MIXES:
        for n in SIZES:
            draws = rng.multinomial(n, [p, 1 - p - d, d], size=SAMPLES).astype(float)
            promoters, detractors = draws[:, 0], draws[:, 2]
            true_nps = 100 * (p - d)
            plain = _coverage(nps_plain_wald, promoters, detractors, n, true_nps)
            adjusted = _coverage(nps_adjusted_wald, promoters, detractors, n, true_nps)
            rows.append((p, d, n, plain, adjusted))
    return rows


def _table(rows) -> str:
    lines = ["promoters detractors  n  plain  adjusted-Wald"]
    lines += [f"{p:9.2f} {d:10.2f} {n:2d}  {a:.3f}  {b:.3f}" for p, d, n, a, b in rows]
    return "\n".join(lines)


def test_the_adjusted_wald_interval_keeps_95_percent_where_the_plain_one_falls_short():
    rows = _simulate()
    table = _table(rows)
    print(table)
    adjusted = [row[4] for row in rows]
    plain = [row[3] for row in rows]
    assert min(adjusted) >= 0.93, f"adjusted-Wald coverage below 93%:\n{table}"
    assert abs(float(np.mean(adjusted)) - 0.95) < 0.01, f"adjusted-Wald not near 95%:\n{table}"
    assert min(plain) < 0.90, f"the plain interval never fell clearly short:\n{table}"
    assert float(np.mean(plain)) < float(np.mean(adjusted)), table


def test_the_reported_interval_is_the_simulated_one():
    result = nps_from_counts(8, 1, 1)
    low, high, centre, se = nps_adjusted_wald(8.0, 1.0, 10.0)
    assert (result.ci_low, result.ci_high, result.centre, result.standard_error) == (
        low,
        high,
        centre,
        se,
    )
