"""Business rules on top of a model's scores: pure functions on item indices and item metadata.

- Never suggest what the customer already bought, nor what is out of stock.
- Spread the suggestions over categories: at most `max_per_category` per category in the top k
  (greedy re-ranking: walk the ranking, skip items whose category is full).
- Every suggestion carries its reason: "because you bought X", X being the purchased item that
  contributes most to the suggestion's score; fallback suggestions (popularity) say
  "a best seller in <category>".

Model suggestions come first (positive scores only); when they run out, best sellers fill up.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

MAX_PER_CATEGORY = 2

Kind = Literal["personal", "popular", "similar"]
Contributions = Callable[[int], "npt.ArrayLike | None"]
"""`contributions(candidate)`: what each history item adds to the candidate's score."""


@dataclass(frozen=True)
class Pick:
    """One suggestion, by item index, with the reason to show the customer.

    Attributes:
        item: Column index of the suggested item.
        score: The model's score (personal, similar) or the popularity (popular).
        kind: "personal" (from the purchase history), "popular" (best-seller fallback) or
            "similar" (related to one given item).
        reason: Human-readable reason, e.g. "because you bought Trail Runner - Black".
        because_of: Item index the reason refers to (the purchased or given item), if any.
    """

    item: int
    score: float
    kind: Kind
    reason: str
    because_of: int | None = None


def because_you_bought(name: str) -> str:
    return f"because you bought {name}"


def best_seller_in(category: str) -> str:
    return f"a best seller in {category}"


def similar_to(name: str) -> str:
    return f"similar to {name}"


def allowed_mask(
    n_items: int, exclude: Iterable[int] = (), in_stock: Collection[int] | None = None
) -> npt.NDArray[np.bool_]:
    """True for items that may be suggested: not in `exclude`, and in `in_stock` when given."""
    mask = np.ones(n_items, dtype=bool)
    if in_stock is not None:
        mask[:] = False
        stocked = np.fromiter((int(i) for i in in_stock), dtype=np.int64)
        mask[stocked[(stocked >= 0) & (stocked < n_items)]] = True
    excluded = np.fromiter((int(i) for i in exclude), dtype=np.int64)
    mask[excluded[(excluded >= 0) & (excluded < n_items)]] = False
    return mask


def rank(scores: npt.ArrayLike, allowed: npt.NDArray[np.bool_]) -> list[int]:
    """Allowed items with a positive, finite score, best first (ties: lower index first)."""
    values = np.asarray(scores, dtype=np.float64).ravel()
    candidates = np.flatnonzero(allowed & np.isfinite(values) & (values > 0))
    order = np.lexsort((candidates, -values[candidates]))
    return [int(i) for i in candidates[order]]


def spread_over_categories(
    ranked: Sequence[int],
    categories: Sequence[str],
    k: int,
    max_per_category: int | None = MAX_PER_CATEGORY,
) -> list[int]:
    """The first `k` of `ranked`, skipping items whose category already has `max_per_category`.

    Fewer than `k` come back when the ranking runs out of categories; None disables the cap.
    """
    chosen: list[int] = []
    per_category: dict[str, int] = {}
    for item in ranked:
        if len(chosen) >= k:
            break
        category = categories[item]
        if max_per_category is not None and per_category.get(category, 0) >= max_per_category:
            continue
        per_category[category] = per_category.get(category, 0) + 1
        chosen.append(item)
    return chosen


def strongest_contributor(history: Sequence[int], weights: npt.ArrayLike | None) -> int | None:
    """The item of `history` with the largest positive weight (first of equals), or None."""
    if weights is None or not len(history):
        return None
    values = np.asarray(weights, dtype=np.float64).ravel()
    if values.size != len(history):
        raise ValueError("Need one weight per history item.")
    best = int(np.argmax(values))
    return int(history[best]) if values[best] > 0 else None


def personal_picks(
    scores: npt.ArrayLike,
    *,
    history: Sequence[int],
    popularity: npt.ArrayLike,
    names: Sequence[str],
    categories: Sequence[str],
    k: int,
    exclude: Iterable[int] = (),
    in_stock: Collection[int] | None = None,
    contributions: Contributions | None = None,
    max_per_category: int | None = MAX_PER_CATEGORY,
) -> list[Pick]:
    """Suggestions for one customer: model picks, then best sellers, under every rule.

    Args:
        scores: The model's score of every item for this customer.
        history: Items the customer bought (reasons are chosen among them).
        popularity: Buyers per item, for the best-seller fill-up.
        names: Item names, by index (for reasons).
        categories: Item categories, by index.
        k: How many suggestions at most.
        exclude: Items never to suggest besides `history` (e.g. bought since training).
        in_stock: Items that can be sold now; None means all.
        contributions: `contributions(item)` -> weight of each `history` item for `item`.
        max_per_category: Category cap within the k suggestions (None: no cap).
    """
    values = np.asarray(scores, dtype=np.float64).ravel()
    allowed = allowed_mask(values.size, [*history, *exclude], in_stock)
    personal = rank(values, allowed)
    personal_set = set(personal)
    popular = [i for i in rank(popularity, allowed) if i not in personal_set]
    chosen = spread_over_categories(personal + popular, categories, k, max_per_category)
    picks: list[Pick] = []
    for item in chosen:
        if item in personal_set:
            weights = contributions(item) if contributions is not None else None
            source = strongest_contributor(history, weights)
            if source is not None:
                reason = because_you_bought(names[source])
            else:
                reason = "picked for you from your order history"
            picks.append(Pick(item, float(values[item]), "personal", reason, source))
        else:
            pop = float(np.asarray(popularity, dtype=np.float64)[item])
            picks.append(Pick(item, pop, "popular", best_seller_in(categories[item])))
    return picks


def best_seller_picks(
    popularity: npt.ArrayLike,
    *,
    categories: Sequence[str],
    k: int,
    category: str | None = None,
    exclude: Iterable[int] = (),
    in_stock: Collection[int] | None = None,
    max_per_category: int | None = MAX_PER_CATEGORY,
) -> list[Pick]:
    """Best sellers (most buyers first), optionally of one `category` (then no category cap)."""
    values = np.asarray(popularity, dtype=np.float64).ravel()
    allowed = allowed_mask(values.size, exclude, in_stock)
    if category is not None:
        wanted = category.casefold()
        allowed &= np.array([c.casefold() == wanted for c in categories], dtype=bool)
        max_per_category = None
    chosen = spread_over_categories(rank(values, allowed), categories, k, max_per_category)
    return [
        Pick(item, float(values[item]), "popular", best_seller_in(categories[item]))
        for item in chosen
    ]


def similar_picks(
    item: int,
    similarity: npt.ArrayLike,
    *,
    names: Sequence[str],
    categories: Sequence[str],
    k: int,
    exclude: Iterable[int] = (),
    in_stock: Collection[int] | None = None,
    max_per_category: int | None = None,
) -> list[Pick]:
    """Items related to `item` (positive similarity), best first, never `item` itself."""
    values = np.asarray(similarity, dtype=np.float64).ravel()
    allowed = allowed_mask(values.size, [item, *exclude], in_stock)
    chosen = spread_over_categories(rank(values, allowed), categories, k, max_per_category)
    reason = similar_to(names[item])
    return [Pick(i, float(values[i]), "similar", reason, item) for i in chosen]
