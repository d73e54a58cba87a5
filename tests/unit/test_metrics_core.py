"""The metric definitions against values computed by hand."""

import math

import numpy as np
import pytest

from bot.metrics import clv, compare, csat, nps, retention_rate
from bot.metrics.core import MIN_SAMPLE_SIZE, nps_from_counts, proportion, too_few
from bot.settings import Settings


def test_clv_of_the_brief():
    # 1000/1.1 + 800/1.1^2 + 600/1.1^3 = 909.0909 + 661.1570 + 450.7889
    assert clv([1000, 800, 600], 0.10) == pytest.approx(2021.0368, abs=1e-4)
    assert clv([], 0.1) == 0
    assert clv([500], 0.0) == 500


def test_nps_counts_value_and_adjusted_wald_interval():
    scores = [10, 9, 9, 8, 7, 6, 3, 0, 10, 9]  # 5 promoters, 2 passives, 3 detractors
    result = nps(scores)
    assert result.counts == {"promoters": 5, "passives": 2, "detractors": 3}
    assert result.n == 10
    assert result.value == pytest.approx(20.0)  # the NPS itself is not adjusted
    # Rocks (2016): n + 3 = 13, promoters 5.75/13, detractors 3.75/13.
    p, d = 5.75 / 13, 3.75 / 13
    se = 100 * math.sqrt((p + d - (p - d) ** 2) / 13)
    assert result.centre == pytest.approx(100 * (p - d))  # 15.38: the interval's centre
    assert result.standard_error == pytest.approx(se)
    assert result.ci_low == pytest.approx(100 * (p - d) - 1.959964 * se, abs=1e-3)
    assert result.ci_high == pytest.approx(100 * (p - d) + 1.959964 * se, abs=1e-3)
    assert result.describe() == "20 (95% CI -30 to 61, n = 10)"


def test_nps_extremes_and_no_data():
    all_promoters = nps([10] * 50)
    assert all_promoters.value == 100 and all_promoters.ci_high == 100
    # The plain interval of 50 promoters is 100 to 100; the adjusted one is not that sure.
    assert 80 < all_promoters.ci_low < 90
    assert nps([0] * 50).value == -100 and nps([0] * 50).ci_low == -100
    empty = nps([])
    assert (empty.value, empty.n, empty.ci_low) == (None, 0, None)
    assert empty.describe() == "no data (n = 0)"
    with pytest.raises(ValueError):
        nps([11])


@pytest.mark.parametrize("bad", [4.5, "4", True, math.nan, math.inf, None, -1, 10.5])
def test_nps_refuses_what_is_not_a_whole_number_from_0_to_10(bad):
    with pytest.raises(ValueError, match="whole numbers from 0 to 10"):
        nps([9, bad])


@pytest.mark.parametrize("bad", [4.5, "4", False, math.nan, 0, 6])
def test_csat_refuses_what_is_not_a_whole_number_from_1_to_5(bad):
    with pytest.raises(ValueError, match="whole numbers from 1 to 5"):
        csat([4, bad])


def test_whole_number_floats_and_numpy_ints_are_answers():
    """Rasa's survey slots are floats (9.0): those are whole numbers, so they count."""
    assert nps([9.0, 10.0, 3.0]) == nps([9, 10, 3])
    assert nps(np.array([9, 10, 3], dtype=np.int64)) == nps([9, 10, 3])
    assert nps([np.float64(9.0)]) == nps([9])
    assert csat([4.0, np.int32(5), 2]) == csat([4, 5, 2])


def test_too_few_answers_is_a_rule_for_the_scores_only():
    assert too_few(nps([9] * 9)) and not too_few(nps([9] * 10))
    assert too_few(csat([5] * 3), min_n=4) and not too_few(csat([5] * 3), min_n=3)
    assert not too_few(nps([]))  # no data is not "too few"
    assert not too_few(proportion("containment", 1, 2))  # a rate of conversations
    assert Settings().min_sample_size == MIN_SAMPLE_SIZE


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


def test_a_change_in_nps_has_the_adjusted_wald_interval_of_a_difference():
    now, before = nps_from_counts(30, 10, 10), nps_from_counts(20, 10, 20)
    change = compare(now, before)
    assert change.difference == pytest.approx(40.0)  # 40 - 0: the plain NPSs
    # Centred on the adjusted NPSs' difference, with their adjusted standard errors.
    p1, d1 = 30.75 / 53, 10.75 / 53
    p2, d2 = 20.75 / 53, 20.75 / 53
    se1 = math.sqrt((p1 + d1 - (p1 - d1) ** 2) / 53)
    se2 = math.sqrt((p2 + d2 - (p2 - d2) ** 2) / 53)
    centre = 100 * ((p1 - d1) - (p2 - d2))
    margin = 100 * 1.959964 * math.hypot(se1, se2)
    assert change.ci_low == pytest.approx(centre - margin, abs=1e-3)
    assert change.ci_high == pytest.approx(centre + margin, abs=1e-3)
    assert change.significant


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
