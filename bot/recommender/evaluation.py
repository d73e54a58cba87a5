"""Offline evaluation: per-user holdout, precision/recall/NDCG@k and catalog coverage.

Protocol (`run_evaluation`): every user with at least `MIN_INTERACTIONS` interactions gives a
random `TEST_SHARE` of them (at least one) to the test set, with a fixed seed. Hyperparameters
are chosen per model on a validation split carved the same way out of the training part (never
on the test set); each model is then refitted on the whole training part with its chosen values
and scored on the test set, with what the user has in training excluded from the top k.

Metrics use binary relevance and are averaged over the users that have test items:
precision@k = hits / k, recall@k = hits / |relevant|, NDCG@k = DCG / IDCG with
DCG = sum over hit ranks r (1-based) of 1 / log2(r + 1) and IDCG the DCG of min(|relevant|, k)
hits at the top. Coverage@k is the share of all items that appear in at least one top-k list.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from bot.recommender import DEFAULT_MODEL, MODEL_NAMES, create
from bot.recommender.models import Progress, Recommender, to_interactions

DEFAULT_SEED = 20240607
TEST_SHARE = 0.2
MIN_INTERACTIONS = 5
K = 10

SEARCH_SPACES: dict[str, list[dict[str, Any]]] = {
    "popularity": [{}],
    "itemknn": [
        {"neighbors": neighbors, "shrink": shrink}
        for neighbors in (20, 50, 100, 200, None)
        for shrink in (0.0, 10.0)
    ],
    "ease": [{"l2": l2} for l2 in (5.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0)],
    "als": [
        {"factors": factors, "regularization": regularization, "alpha": alpha}
        for factors in (16, 32, 64, 128)
        for regularization in (0.01, 0.1, 1.0)
        for alpha in (1.0, 2.0, 5.0, 10.0, 20.0)
    ],
}
"""Hyperparameter grids searched on the validation split (first best wins ties)."""

DATASET_TITLES = {
    "movielens": "MovieLens 100k (dslabs), ratings >= 4 as interactions",
    "demo": "Demo shop purchases (customers x products, cancelled orders left out)",
}


def holdout_split(
    interactions: sp.spmatrix,
    test_share: float = TEST_SHARE,
    min_interactions: int = MIN_INTERACTIONS,
    seed: int = DEFAULT_SEED,
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Split each user's interactions into train and test (same shape, disjoint entries).

    Users with at least `min_interactions` interactions give round(`test_share` x n), at least
    one, chosen at random with `seed`; everybody else stays whole in train.
    """
    matrix = to_interactions(interactions)
    rng = np.random.default_rng(seed)
    in_test = np.zeros(matrix.nnz, dtype=bool)
    lengths = np.diff(matrix.indptr)
    for user in np.flatnonzero(lengths >= min_interactions):
        n = int(lengths[user])
        n_test = max(1, int(round(test_share * n)))
        chosen = rng.choice(n, size=n_test, replace=False)
        in_test[matrix.indptr[user] + chosen] = True
    rows = np.repeat(np.arange(matrix.shape[0]), lengths)

    def part(mask: npt.NDArray[np.bool_]) -> sp.csr_matrix:
        return sp.csr_matrix(
            (matrix.data[mask], (rows[mask], matrix.indices[mask])), shape=matrix.shape
        )

    return part(~in_test), part(in_test)


def precision_at_k(recommended: Sequence[int], relevant: Collection[int], k: int = K) -> float:
    """Hits among the first `k` recommendations, divided by `k`."""
    return _hits(recommended, relevant, k) / k


def recall_at_k(recommended: Sequence[int], relevant: Collection[int], k: int = K) -> float:
    """Hits among the first `k` recommendations, divided by the number of relevant items."""
    if not relevant:
        return 0.0
    return _hits(recommended, relevant, k) / len(relevant)


def ndcg_at_k(recommended: Sequence[int], relevant: Collection[int], k: int = K) -> float:
    """Binary-relevance NDCG@k; IDCG puts min(|relevant|, k) hits at the top."""
    if not relevant:
        return 0.0
    dcg = sum(
        1.0 / math.log2(rank + 2)
        for rank, item in enumerate(list(recommended)[:k])
        if int(item) in relevant
    )
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(len(relevant), k)))
    return dcg / ideal


def catalog_coverage(recommendations: Iterable[Sequence[int]], n_items: int, k: int = K) -> float:
    """Share of the `n_items` items that appear in at least one top-`k` list."""
    shown: set[int] = set()
    for items in recommendations:
        shown.update(int(item) for item in list(items)[:k])
    return len(shown) / n_items if n_items else 0.0


def ranking_metrics(
    recommendations: Sequence[Sequence[int]],
    relevant: Sequence[Collection[int]],
    n_items: int,
    k: int = K,
) -> dict[str, float]:
    """Mean precision, recall and NDCG at `k` over users with relevant items, plus coverage."""
    pairs = [(recs, rel) for recs, rel in zip(recommendations, relevant, strict=True) if rel]
    if not pairs:
        raise ValueError("No user has relevant items to evaluate.")
    return {
        f"precision@{k}": float(np.mean([precision_at_k(r, rel, k) for r, rel in pairs])),
        f"recall@{k}": float(np.mean([recall_at_k(r, rel, k) for r, rel in pairs])),
        f"ndcg@{k}": float(np.mean([ndcg_at_k(r, rel, k) for r, rel in pairs])),
        f"coverage@{k}": catalog_coverage((r for r, _ in pairs), n_items, k),
    }


def evaluate_fitted(model: Recommender, test: sp.spmatrix, k: int = K) -> dict[str, float]:
    """Metrics of a model fitted on the training part, on the users that have test items."""
    held_out = sp.csr_matrix(test)
    users = np.flatnonzero(np.diff(held_out.indptr))
    relevant = [
        set(held_out.indices[held_out.indptr[u] : held_out.indptr[u + 1]].tolist()) for u in users
    ]
    recommendations = model.recommend_batch(users, k=k, exclude_seen=True)
    metrics = ranking_metrics([r.tolist() for r in recommendations], relevant, model.n_items, k)
    metrics["users"] = float(users.size)
    return metrics


def evaluate(
    models: Mapping[str, Recommender],
    train: sp.spmatrix,
    test: sp.spmatrix,
    k: int = K,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Fit every model on `train`, score it on `test`; one row per model, in the given order.

    Each row has `model`, `params`, `precision@k`, `recall@k`, `ndcg@k`, `coverage@k`,
    `users` (evaluated users) and `fit_seconds`.
    """
    rows: list[dict[str, Any]] = []
    for done, (name, model) in enumerate(models.items()):
        if progress is not None:
            progress(f"fit {name}", done, len(models))
        started = time.perf_counter()
        model.fit(train)
        fit_seconds = time.perf_counter() - started
        metrics = evaluate_fitted(model, test, k)
        users = int(metrics.pop("users"))
        rows.append(
            {
                "model": name,
                "params": _plain(model.params()),
                **metrics,
                "users": users,
                "fit_seconds": round(fit_seconds, 3),
            }
        )
        if progress is not None:
            progress(f"fit {name}", done + 1, len(models))
    return rows


def tune(
    name: str,
    train: sp.spmatrix,
    space: Sequence[Mapping[str, Any]] | None = None,
    k: int = K,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Pick `name`'s hyperparameters by NDCG@k on a validation split carved from `train`.

    Returns:
        The best parameters (the first of equals) and one row per trial (params, ndcg); no
        parameters and no trials when nobody has enough interactions for a validation split.
    """
    candidates = list(space if space is not None else SEARCH_SPACES.get(name, [{}]))
    fit_part, validation = holdout_split(train, seed=seed + 1)
    if validation.nnz == 0:
        return {}, []
    trials: list[dict[str, Any]] = []
    best: dict[str, Any] = dict(candidates[0])
    best_score = -1.0
    for done, params in enumerate(candidates):
        if progress is not None:
            progress(f"tune {name}", done, len(candidates))
        model = create(name, **params).fit(fit_part)
        score = evaluate_fitted(model, validation, k)[f"ndcg@{k}"]
        trials.append({"params": _plain(dict(params)), f"ndcg@{k}": score})
        if score > best_score:
            best, best_score = dict(params), score
    if progress is not None:
        progress(f"tune {name}", len(candidates), len(candidates))
    return best, trials


def run_evaluation(
    dataset: str,
    progress: Progress | None = None,
    *,
    models: Sequence[str] = MODEL_NAMES,
    k: int = K,
    seed: int = DEFAULT_SEED,
    search: bool = True,
) -> list[dict[str, Any]]:
    """Evaluate `models` on `dataset` ("movielens" or "demo"), the whole protocol in one run.

    Args:
        dataset: Name from `bot.recommender.datasets.DATASETS`.
        progress: Optional `progress(stage, done, total)` callback.
        models: Model names to compare (default: all of them, including implicit's ALS).
        k: Length of the recommendation lists.
        seed: Seed of the test split (the validation split uses `seed + 1`).
        search: Tune hyperparameters on the validation split; False uses constructor defaults.

    Returns:
        One row per model (see `evaluate`) plus `dataset`, `default` (the model
        `create()` returns), `vs_popularity` (NDCG ratio), `validation_ndcg@k` (of the chosen
        parameters, on the validation split) and the data's size.
    """
    from bot.recommender.datasets import load_dataset

    if progress is not None:
        progress("load data", 0, 1)
    data = load_dataset(dataset)
    train, test = holdout_split(data.interactions, seed=seed)
    if progress is not None:
        progress("load data", 1, 1)
    chosen: dict[str, Recommender] = {}
    validation: dict[str, float | None] = {}
    for name in models:
        params: dict[str, Any] = {}
        validation[name] = None
        if search:
            params, trials = tune(name, train, k=k, seed=seed, progress=progress)
            validation[name] = max((t[f"ndcg@{k}"] for t in trials), default=None)
        chosen[name] = create(name, **params)
    rows = evaluate(chosen, train, test, k=k, progress=progress)
    baseline = next((row[f"ndcg@{k}"] for row in rows if row["model"] == "popularity"), None)
    for row in rows:
        row["vs_popularity"] = round(row[f"ndcg@{k}"] / baseline, 2) if baseline else None
        row[f"validation_ndcg@{k}"] = validation[row["model"]]
        row["default"] = row["model"] == DEFAULT_MODEL
        row["dataset"] = dataset
        row["n_users"], row["n_items"] = (int(n) for n in data.interactions.shape)
        row["n_interactions"] = int(data.interactions.nnz)
        row["k"] = k
        row["seed"] = seed
    return rows


def format_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """A plain-text table of `run_evaluation` (or `evaluate`) rows; the default model has a *."""
    if not rows:
        return "(no results)"
    first = rows[0]
    k = int(first.get("k", K))
    lines: list[str] = []
    if "dataset" in first:
        title = DATASET_TITLES.get(str(first["dataset"]), str(first["dataset"]))
        lines.append(title)
        lines.append(
            f"{first['n_users']:,} users x {first['n_items']:,} items, "
            f"{first['n_interactions']:,} interactions; {first['users']:,} test users, "
            f"k={k}, seed={first.get('seed', '-')}"
        )
        lines.append("")
    header = (
        f"{'model':<12} {'P@' + str(k):>7} {'R@' + str(k):>7} {'NDCG@' + str(k):>8} "
        f"{'coverage':>8} {'vs pop':>6} {'val NDCG':>8} {'fit s':>7}  params"
    )
    lines.append(header)
    lines.append("-" * len(header))
    for row in rows:
        name = str(row["model"]) + (" *" if row.get("default") else "")
        ratio = row.get("vs_popularity")
        validated = row.get(f"validation_ndcg@{k}")
        params = ", ".join(f"{key}={value}" for key, value in dict(row.get("params", {})).items())
        lines.append(
            f"{name:<12} {row[f'precision@{k}']:>7.4f} {row[f'recall@{k}']:>7.4f} "
            f"{row[f'ndcg@{k}']:>8.4f} {row[f'coverage@{k}']:>8.3f} "
            f"{(f'{ratio:.2f}x' if ratio is not None else '-'):>6} "
            f"{(f'{validated:.4f}' if validated is not None else '-'):>8} "
            f"{row['fit_seconds']:>7.2f}  {params or '-'}"
        )
    if any(row.get("default") for row in rows):
        lines.append("")
        lines.append("* the default model (bot.recommender.create() without a name)")
    if any(row.get(f"validation_ndcg@{k}") is not None for row in rows):
        lines.append(
            "Parameters chosen by NDCG on a validation split of the training part (val NDCG)."
        )
    return "\n".join(lines)


def _hits(recommended: Sequence[int], relevant: Collection[int], k: int) -> int:
    return sum(1 for item in list(recommended)[:k] if int(item) in relevant)


def _plain(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as JSON-friendly Python values."""
    plain: dict[str, Any] = {}
    for key, value in params.items():
        plain[key] = value.item() if isinstance(value, np.generic) else value
    return plain
