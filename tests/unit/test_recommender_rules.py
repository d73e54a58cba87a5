"""Business rules: never bought, never out of stock, category spread, a reason for everything."""

from __future__ import annotations

import numpy as np
import pytest

from bot.recommender import rules
from bot.recommender.rules import (
    allowed_mask,
    best_seller_picks,
    personal_picks,
    rank,
    similar_picks,
    spread_over_categories,
    strongest_contributor,
)

NAMES = [f"Item {i}" for i in range(8)]
CATEGORIES = ["Shoes", "Shoes", "Shoes", "Books", "Books", "Garden", "Garden", "Toys"]
#                0        1        2        3        4        5         6        7
SCORES = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, -0.2, 0.0])
POPULARITY = np.array([5.0, 1.0, 2.0, 9.0, 3.0, 0.0, 8.0, 7.0])
# Weight of each bought item (rows: 3, 5) towards each candidate (columns).
WEIGHTS = {3: np.array([0.1, 0.6, 0.3, 0.0, 0.2, 0.0, 0.0, 0.0])}
WEIGHTS[5] = np.array([0.8, 0.2, 0.4, 0.0, 0.3, 0.0, 0.0, 0.0])


def _contributions(history: list[int]) -> rules.Contributions:
    return lambda item: [WEIGHTS[h][item] for h in history]


def test_allowed_mask_and_rank() -> None:
    mask = allowed_mask(8, exclude=[0, 3], in_stock={0, 1, 2, 3, 4, 99})
    assert np.flatnonzero(mask).tolist() == [1, 2, 4]
    assert np.flatnonzero(allowed_mask(3)).tolist() == [0, 1, 2]
    # Positive, finite scores only, best first, ties by index.
    assert rank(np.array([1.0, 0.0, 2.0, 1.0, -1.0, np.nan]), np.ones(6, bool)) == [2, 0, 3]


def test_spread_keeps_at_most_two_per_category() -> None:
    ranked = [0, 1, 2, 3, 4, 5, 6, 7]
    assert spread_over_categories(ranked, CATEGORIES, k=5) == [0, 1, 3, 4, 5]
    assert spread_over_categories(ranked, CATEGORIES, k=8, max_per_category=1) == [0, 3, 5, 7]
    assert spread_over_categories(ranked, CATEGORIES, k=3, max_per_category=None) == [0, 1, 2]
    assert spread_over_categories([], CATEGORIES, k=3) == []


def test_strongest_contributor_is_the_largest_positive_weight() -> None:
    assert strongest_contributor([3, 5], [0.1, 0.8]) == 5
    assert strongest_contributor([3, 5], [0.5, 0.5]) == 3
    assert strongest_contributor([3, 5], [0.0, -1.0]) is None
    assert strongest_contributor([3, 5], None) is None
    with pytest.raises(ValueError):
        strongest_contributor([3, 5], [1.0])


def test_personal_picks_never_suggest_bought_or_out_of_stock_items() -> None:
    history = [3, 5]
    picks = personal_picks(
        SCORES,
        history=history,
        popularity=POPULARITY,
        names=NAMES,
        categories=CATEGORIES,
        k=8,
        exclude=[4],  # bought since the model was trained
        in_stock={0, 2, 3, 4, 5, 6, 7},  # item 1 is sold out
        contributions=_contributions(history),
    )
    items = [p.item for p in picks]
    assert not set(items) & {1, 3, 4, 5}
    # Model picks first (positive scores: 0, 2), then best sellers (6, 7) fill up.
    assert items == [0, 2, 6, 7]
    assert [p.kind for p in picks] == ["personal", "personal", "popular", "popular"]


def test_personal_picks_spread_categories_and_explain_themselves() -> None:
    history = [3, 5]
    picks = personal_picks(
        SCORES,
        history=history,
        popularity=POPULARITY,
        names=NAMES,
        categories=CATEGORIES,
        k=4,
        contributions=_contributions(history),
    )
    # 0, 1 (Shoes, Shoes), 2 skipped (a third Shoes), 4 (Books), then best seller 6 (Garden).
    assert [p.item for p in picks] == [0, 1, 4, 6]
    reasons = {p.item: (p.reason, p.because_of) for p in picks}
    assert reasons[0] == ("because you bought Item 5", 5)  # 0.8 from item 5 beats 0.1
    assert reasons[1] == ("because you bought Item 3", 3)  # 0.6 beats 0.2
    assert reasons[4] == ("because you bought Item 5", 5)
    assert reasons[6] == ("a best seller in Garden", None)
    assert all(p.reason for p in picks)
    counts: dict[str, int] = {}
    for pick in picks:
        counts[CATEGORIES[pick.item]] = counts.get(CATEGORIES[pick.item], 0) + 1
    assert max(counts.values()) <= 2


def test_a_pick_without_a_contributing_purchase_gets_a_generic_reason() -> None:
    picks = personal_picks(
        SCORES,
        history=[7],
        popularity=POPULARITY,
        names=NAMES,
        categories=CATEGORIES,
        k=1,
        contributions=lambda item: [0.0],
    )
    assert picks[0].item == 0 and picks[0].because_of is None
    assert picks[0].reason == "picked for you from your order history"


def test_best_sellers_spread_filter_and_respect_stock() -> None:
    picks = best_seller_picks(POPULARITY, categories=CATEGORIES, k=4)
    assert [p.item for p in picks] == [3, 6, 7, 0]
    assert picks[0].reason == "a best seller in Books" and picks[0].kind == "popular"
    garden = best_seller_picks(POPULARITY, categories=CATEGORIES, k=3, category="garden")
    assert [p.item for p in garden] == [6]  # item 5 was never bought
    shoes = best_seller_picks(POPULARITY, categories=CATEGORIES, k=5, category="Shoes")
    assert [p.item for p in shoes] == [0, 2, 1]  # a category of its own: no cap
    stocked = best_seller_picks(
        POPULARITY, categories=CATEGORIES, k=3, exclude=[3], in_stock={0, 1, 3, 4}
    )
    assert [p.item for p in stocked] == [0, 4, 1]


def test_similar_picks_never_return_the_item_itself() -> None:
    similarity = np.array([1.0, 0.5, 0.0, 0.7, 0.2, -0.3, 0.1, 0.4])
    picks = similar_picks(0, similarity, names=NAMES, categories=CATEGORIES, k=3, in_stock=None)
    assert [p.item for p in picks] == [3, 1, 7]
    assert all(p.reason == "similar to Item 0" and p.because_of == 0 for p in picks)
    stocked = similar_picks(
        0, similarity, names=NAMES, categories=CATEGORIES, k=9, in_stock={0, 1, 5, 6}
    )
    assert [p.item for p in stocked] == [1, 6]
