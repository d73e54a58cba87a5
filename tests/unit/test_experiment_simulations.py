"""Simulated experiments: the analysis' error rates are the ones it promises.

Seeded and bounded (under 10 s here): 1,000 A/A experiments looked at daily for 30 days,
500 experiments with a planted effect at the planned sample size, 1,000 exposure splits.
"""

import numpy as np

from bot.experiments.stats import ProportionSummary, compare_rates
from bot.experiments.stats_design import sample_size_rates, srm_check
from bot.experiments.stats_sequential import always_valid
from bot.experiments.stats_verdict import Reading, verdict

DAYS = 30
DAILY = 100  # conversations a day in each variant
CSAT = 0.8


def test_daily_peeking_inflates_naive_false_positives_but_not_sequential_ones() -> None:
    rng = np.random.default_rng(2026)
    experiments = 1_000
    hits = rng.binomial(DAILY, CSAT, size=(experiments, 2, DAYS)).cumsum(axis=2)
    naive = sequential = 0
    for k in range(experiments):
        naive_hit = sequential_hit = False
        for day in range(DAYS):
            n = DAILY * (day + 1)
            comparison = compare_rates(
                ProportionSummary(n, int(hits[k, 0, day])),
                ProportionSummary(n, int(hits[k, 1, day])),
            )
            naive_hit = naive_hit or comparison.p_value < 0.05
            sequential_hit = sequential_hit or always_valid(comparison).excludes_zero
            if naive_hit and sequential_hit:
                break
        naive += naive_hit
        sequential += sequential_hit
    naive_rate, sequential_rate = naive / experiments, sequential / experiments
    print(f"A/A, {DAYS} daily looks: naive FPR {naive_rate:.3f}, sequential {sequential_rate:.3f}")
    assert sequential_rate <= 0.05
    assert naive_rate > 0.10  # peeking at a fixed-horizon test roughly triples its 5%


def test_planted_effect_is_found_at_about_the_planned_power() -> None:
    rng = np.random.default_rng(7)
    baseline, lift = 0.60, 0.05
    n = sample_size_rates(baseline, lift)  # 1,471 per variant for 80% power
    runs, shipped, wrong = 500, 0, 0
    for _ in range(runs):
        control = ProportionSummary(n, int(rng.binomial(n, baseline)))
        variant = ProportionSummary(n, int(rng.binomial(n, baseline + lift)))
        result = verdict(Reading("CSAT", compare_rates(control, variant)))
        shipped += result.decision == "ship"
        wrong += result.decision != "ship" and result.text.startswith("B worsens")
    power = shipped / runs
    print(f"planted +5 points on 60% at n={n}/variant: B shipped in {power:.3f}")
    assert 0.74 <= power <= 0.86
    assert wrong == 0


def test_srm_trips_on_a_45_55_split_and_rarely_on_50_50() -> None:
    rng = np.random.default_rng(11)
    runs, total = 1_000, 4_000
    skewed = rng.binomial(total, 0.45, runs)
    fair = rng.binomial(total, 0.50, runs)
    tripped = sum(srm_check([int(a), total - int(a)], [50, 50]).mismatch for a in skewed)
    false_alarms = sum(srm_check([int(a), total - int(a)], [50, 50]).mismatch for a in fair)
    print(f"SRM at n={total}: 45/55 flagged {tripped}/{runs}, 50/50 flagged {false_alarms}/{runs}")
    assert tripped >= 0.99 * runs
    assert false_alarms <= 5  # p < 0.001: about 1 in 1,000 by chance
