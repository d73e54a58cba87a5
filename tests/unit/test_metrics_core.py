"""The metric definitions against values computed by hand."""

import math

import pytest

from bot.metrics import clv, compare, csat, nps, retention_rate


def test_clv_of_the_brief():
    # 1000/1.1 + 800/1.1^2 + 600/1.1^3 = 909.0909 + 661.1570 + 450.7889
    assert clv([1000, 800, 600], 0.10) == pytest.approx(2021.0368, abs=1e-4)
    assert clv([], 0.1) == 0
    assert clv([500], 0.0) == 500


def test_nps_counts_value_and_interval():
    scores = [10, 9, 9, 8, 7, 6, 3, 0, 10, 9]  # 5 promoters, 2 passives, 3 detractors
    result = nps(scores)
    assert result.counts == {"promoters": 5, "passives": 2, "detractors": 3}
    assert result.n == 10
    assert result.value == pytest.approx(20.0)
    # variance of +1/0/-1 scores: p + d - (p - d)^2 = 0.5 + 0.3 - 0.04 = 0.76
    se = 100 * math.sqrt(0.76 / 10)
    assert result.standard_error == pytest.approx(se)
    assert result.ci_low == pytest.approx(20 - 1.959964 * se, abs=1e-3)
    assert result.ci_high == pytest.approx(20 + 1.959964 * se, abs=1e-3)
    assert result.describe() == "20 (95% CI -34 to 74, n = 10)"


def test_nps_extremes_and_no_data():
    assert nps([10] * 50).value == 100 and nps([10] * 50).ci_high == 100
    assert nps([0] * 50).value == -100
    empty = nps([])
    assert (empty.value, empty.n, empty.ci_low) == (None, 0, None)
    assert empty.describe() == "no data (n = 0)"
    with pytest.raises(ValueError):
        nps([11])


def test_csat_share_and_wilson_interval():
    result = csat([5, 4, 4, 3, 1, 5, 2, 4])  # 5 of 8 satisfied
    assert result.value == pytest.approx(62.5)
    assert result.counts == {"satisfied": 5, "not_satisfied": 3}
    # Wilson: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)
    z, n, p = 1.959964, 8, 5 / 8
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert result.ci_low == pytest.approx(100 * (centre - half), abs=1e-3)
    assert result.ci_high == pytest.approx(100 * (centre + half), abs=1e-3)
    with pytest.raises(ValueError):
        csat([0])


def test_retention_rate():
    result = retention_rate(324, 1000)
    assert result.value == pytest.approx(32.4)
    assert result.ci_low < 32.4 < result.ci_high
    assert retention_rate(0, 0).value is None
    with pytest.raises(ValueError):
        retention_rate(5, 3)


def test_comparing_periods():
    big_change = compare(nps([10] * 300 + [0] * 100), nps([10] * 100 + [0] * 300))
    assert big_change.difference == pytest.approx(100.0)
    assert big_change.significant
    small_change = compare(nps([10, 0, 9, 5] * 5), nps([10, 0, 9, 6, 8] * 4))
    assert not small_change.significant
    assert compare(nps([]), nps([9])).difference is None


def test_a_change_in_a_proportion_uses_newcombes_interval():
    """Newcombe (1998), method 10: 56/70 against 48/80 gives 0.0524 to 0.3339."""
    from bot.metrics.core import compare, proportion

    comparison = compare(proportion("rate", 56, 70), proportion("rate", 48, 80))
    assert comparison.difference == pytest.approx(20.0)
    assert comparison.ci_low == pytest.approx(5.24, abs=0.01)
    assert comparison.ci_high == pytest.approx(33.39, abs=0.01)
    assert comparison.significant


def test_four_of_four_is_not_significantly_better_than_72_percent():
    from bot.metrics.core import compare, proportion

    comparison = compare(proportion("rate", 4, 4), proportion("rate", 72, 100))
    assert comparison.difference == pytest.approx(28.0)
    assert not comparison.significant
