"""Recommender models on matrices small enough to check by hand."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from bot.recommender import DEFAULT_MODEL, MODEL_NAMES, create
from bot.recommender.models import EASE, ItemKNN, Popularity, top_k

# 4 users x 5 items. Item columns: i0=[1,1,0,0] i1=[1,1,0,1] i2=[0,1,1,0] i3=[0,0,1,1] i4=[0,0,0,1]
TINY = sp.csr_matrix(
    np.array(
        [
            [1, 1, 0, 0, 0],
            [1, 1, 1, 0, 0],
            [0, 0, 1, 1, 0],
            [0, 1, 0, 1, 1],
        ],
        dtype=np.float32,
    )
)


def test_importing_the_package_is_cheap() -> None:
    code = "import bot.recommender, sys; print(sorted({'numpy', 'scipy'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def test_create_returns_unfitted_models() -> None:
    assert create().name == DEFAULT_MODEL
    assert isinstance(create("ease"), EASE)
    assert isinstance(create("ItemKNN", neighbors=3), ItemKNN)
    assert isinstance(create("popularity"), Popularity)
    assert set(MODEL_NAMES) >= {"popularity", "itemknn", "ease"}
    assert not create().is_fitted
    with pytest.raises(ValueError, match="Unknown recommender"):
        create("magic")
    with pytest.raises(RuntimeError, match="not fitted"):
        create().recommend(0)


def test_fit_requires_a_sparse_matrix() -> None:
    with pytest.raises(TypeError):
        create("popularity").fit(np.ones((2, 2)))  # type: ignore[arg-type]


def test_top_k_orders_by_score_then_index_and_drops_excluded() -> None:
    scores = np.array([0.5, 2.0, -np.inf, 2.0, 1.0, np.nan])
    assert top_k(scores, 3).tolist() == [1, 3, 4]
    assert top_k(scores, 10).tolist() == [1, 3, 4, 0]
    assert top_k(scores, 0).tolist() == []
    # Ties at the cut-off: the lower index wins.
    assert top_k(np.array([1.0, 3.0, 1.0, 1.0]), 2).tolist() == [1, 0]


def test_item_cosine_neighbours_by_hand() -> None:
    model = ItemKNN(neighbors=None).fit(TINY)
    similarity = model.similarity_.toarray()
    # cos(i0, i1) = 2 / (sqrt(2) sqrt(3)); cos(i0, i2) = 1 / 2; i0 never meets i3, i4.
    assert similarity[0] == pytest.approx([0, 2 / math.sqrt(6), 0.5, 0, 0], abs=1e-6)
    assert similarity == pytest.approx(similarity.T, abs=1e-6)
    assert model.similar_items(0, 1).tolist() == [1]
    # i4's buyer (u3) also bought i1 and i3: cos(i4, i3) = 1/sqrt(2) > cos(i4, i1) = 1/sqrt(3).
    assert model.similar_items(4, 2).tolist() == [3, 1]
    # cos(i2, i0) = cos(i2, i3) = 1/2: equal, so the lower index comes first; i4 is unrelated.
    assert model.similar_items(2).tolist() == [0, 3, 1]
    items, scores = model.similar_items_with_scores(2)
    assert scores.tolist() == pytest.approx([0.5, 0.5, 1 / math.sqrt(6)], abs=1e-6)


def test_item_knn_keeps_only_the_nearest_neighbours() -> None:
    model = ItemKNN(neighbors=1).fit(TINY)
    assert np.diff(model.similarity_.indptr).tolist() == [1, 1, 1, 1, 1]
    assert model.similar_items(0, 5).tolist() == [1]


def test_recommend_sums_similarities_and_excludes_what_was_seen() -> None:
    model = ItemKNN(neighbors=None).fit(TINY)
    # u0 has i0 and i1: i2 = 1/2 + 1/sqrt(6), i4 = 1/sqrt(3), i3 = 1/sqrt(6).
    items, scores = model.recommend_with_scores(0, k=5)
    assert items.tolist() == [2, 4, 3]
    assert scores.tolist() == pytest.approx(
        [0.5 + 1 / math.sqrt(6), 1 / math.sqrt(3), 1 / math.sqrt(6)], abs=1e-6
    )
    assert model.recommend(0, k=2).tolist() == [2, 4]
    # Without the exclusion, i0 and i1 (both 2/sqrt(6)) come right after i2.
    assert model.recommend(0, k=5, exclude_seen=False).tolist() == [2, 0, 1, 4, 3]
    assert [r.tolist() for r in model.recommend_batch([0, 2], k=2)] == [
        [2, 4],
        model.recommend(2, k=2).tolist(),
    ]
    with pytest.raises(IndexError):
        model.recommend(4)


@pytest.mark.parametrize("name", ["itemknn", "ease"])
def test_item_models_score_a_history_like_a_known_user(name: str) -> None:
    model = create(name).fit(TINY)
    for user in range(TINY.shape[0]):
        history = TINY[user].indices.tolist()
        assert model.score_history(history) == pytest.approx(model.score_users([user])[0])


def test_ease_fold_in_agrees_for_short_and_long_baskets() -> None:
    rng = np.random.default_rng(5)
    matrix = sp.random(40, 60, density=0.15, format="csr", random_state=rng, dtype=np.float32)
    matrix.data[:] = 1.0
    model = EASE(l2=2.0, cache_mb=None).fit(matrix)
    for basket in ([3], [3, 17, 42], list(range(0, 60, 2))):  # few rows summed vs a BLAS product
        local = model._local[basket]
        expected = model.weights_[local[local >= 0]].sum(axis=0)
        assert model.score_history(basket)[model.items_] == pytest.approx(expected, abs=1e-5)
    assert model.score_history([]) == pytest.approx(np.where(model._local >= 0, 0.0, -np.inf))
    with pytest.raises(IndexError):
        model.score_history([60])


def test_popularity_orders_by_buyers_then_index() -> None:
    model = Popularity().fit(TINY)
    # Buyers per item: i0=2, i1=3, i2=2, i3=2, i4=1.
    assert model.popularity_.tolist() == [2, 3, 2, 2, 1]
    assert model.recommend(2, k=5, exclude_seen=False).tolist() == [1, 0, 2, 3, 4]
    assert model.recommend(2, k=5).tolist() == [1, 0, 4]  # u2 has i2 and i3
    assert model.similar_items(1, 2).tolist() == [0, 2]


def test_ease_matches_a_direct_ridge_solve_per_item() -> None:
    l2 = 0.7
    model = EASE(l2=l2, dtype=np.float64).fit(TINY)
    dense = TINY.toarray().astype(np.float64)
    n = dense.shape[1]
    # EASE: for each item j, ridge-regress column j on the other columns (diag(B) = 0).
    expected = np.zeros((n, n))
    for j in range(n):
        others = [i for i in range(n) if i != j]
        features = dense[:, others]
        gram = features.T @ features + l2 * np.eye(n - 1)
        expected[others, j] = np.linalg.solve(gram, features.T @ dense[:, j])
    assert model.weights_ == pytest.approx(expected, abs=1e-9)
    assert np.diag(model.weights_) == pytest.approx(np.zeros(n))
    assert model.score_users([0, 1, 2, 3]) == pytest.approx(dense @ expected, abs=1e-9)
    # The float32 default agrees closely, with or without the cache of known users' scores.
    assert EASE(l2=l2).fit(TINY).weights_ == pytest.approx(expected, abs=1e-4)
    cached, uncached = EASE(l2=l2).fit(TINY), EASE(l2=l2, cache_mb=None).fit(TINY)
    assert cached.user_scores_ is not None and uncached.user_scores_ is None
    assert cached.score_users([0, 2]) == pytest.approx(uncached.score_users([0, 2]))
    assert cached.score_users([0, 2]) == pytest.approx(dense[[0, 2]] @ expected, abs=1e-4)


def test_ease_contributions_add_up_to_the_score() -> None:
    model = EASE(l2=0.5).fit(TINY)
    history = TINY[3].indices.tolist()  # i1, i3, i4
    scores = model.score_users([3])[0]
    for item in range(5):
        assert model.contributions(history, item).sum() == pytest.approx(scores[item], abs=1e-5)


def test_ease_models_only_the_most_bought_items_when_capped() -> None:
    model = EASE(l2=1.0, max_items=3).fit(TINY)
    assert model.items_.tolist() == [0, 1, 2]  # 3 buyers for i1; i0, i2, i3 tie: lowest first
    scores = model.score_users([2])[0]
    assert np.isneginf(scores[[3, 4]]).all()
    assert set(model.recommend(2, k=5, exclude_seen=False).tolist()) <= {0, 1, 2}


def test_items_nobody_bought_are_handled() -> None:
    matrix = sp.csr_matrix(np.array([[1, 0, 1], [1, 0, 0]], dtype=np.float32))
    # i1 has no buyers: nothing is similar to it, and EASE leaves it out of the model.
    assert ItemKNN().fit(matrix).similar_items(1).tolist() == []
    assert EASE().fit(matrix).similar_items(1).tolist() == []
    assert EASE(l2=1.0).fit(matrix).recommend(1, k=3).tolist() == [2]
    assert Popularity().fit(matrix).recommend(1, k=3).tolist() == [2, 1]


def test_implicit_als_wrapper_is_reproducible() -> None:
    rng = np.random.default_rng(3)
    matrix = sp.random(30, 12, density=0.3, format="csr", random_state=rng, dtype=np.float32)
    matrix.data[:] = 1.0
    first = create("als", factors=4, iterations=3, num_threads=1).fit(matrix)
    second = create("als", factors=4, iterations=3, num_threads=1).fit(matrix)
    seen = set(matrix[0].indices.tolist())
    recommended = first.recommend(0, k=5).tolist()
    assert len(recommended) == 5 and not seen & set(recommended)
    assert recommended == second.recommend(0, k=5).tolist()
    assert first.score_history(sorted(seen)).shape == (12,)
