"""Recommender models on implicit feedback, all behind one interface.

Every model is fitted on a SciPy CSR matrix of users x items (a nonzero means "bought" or
"liked"; the values are used as weights, our loaders give 1.0) and answers in row/column
indices of that matrix, best first:

- `Popularity`: the items with the most users, the same for everyone (the cold-start baseline).
- `ItemKNN`: item-based collaborative filtering, cosine similarity between item columns, the
  `neighbors` most similar items kept per item.
- `EASE`: Steck's "Embarrassingly Shallow Autoencoder" (WWW 2019), a closed-form item-item
  model: B = I - P diag(1 / diag(P)) with P = (X^T X + l2 I)^-1, so diag(B) = 0.

Scores of one user are `history @ W` for the item-item models (W the similarity or B matrix),
so a basket that the model never saw (a new customer, purchases since training) is scored the
same way (`score_history`), and each suggestion can be traced to the purchased item that
contributes most to it (`contributions`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

Progress = Callable[[str, int, int], None]
"""Called as `progress(stage, done, total)` while a long step runs."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.floating[Any]]


def to_interactions(matrix: Any) -> sp.csr_matrix:
    """A clean float32 CSR copy of `matrix`: duplicates summed, explicit zeros dropped."""
    if not sp.issparse(matrix):
        raise TypeError(f"Expected a SciPy sparse users x items matrix, got {type(matrix)}.")
    csr = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    if csr.ndim != 2:
        raise ValueError("The interactions matrix must be two-dimensional.")
    csr.sum_duplicates()
    csr.eliminate_zeros()
    csr.sort_indices()
    return csr


def top_k(scores: npt.ArrayLike, k: int) -> IntArray:
    """Indices of the `k` highest finite scores, best first; ties go to the lower index.

    Scores of -inf (excluded items) and NaN are never returned, so fewer than `k` may come back.
    """
    values = np.asarray(scores, dtype=np.float64).ravel()
    if k <= 0 or values.size == 0:
        return np.empty(0, dtype=np.int64)
    valid = np.flatnonzero(np.isfinite(values) | (values == np.inf))
    if valid.size == 0:
        return np.empty(0, dtype=np.int64)
    if valid.size > k:
        candidates = values[valid]
        threshold = np.partition(candidates, candidates.size - k)[candidates.size - k]
        valid = valid[candidates >= threshold]  # keeps every item tied at the threshold
    order = np.lexsort((valid, -values[valid]))
    return valid[order[:k]].astype(np.int64)


class Recommender(ABC):
    """The common interface: fit on users x items, recommend and find similar items by index."""

    name: ClassVar[str] = ""

    def __init__(self) -> None:
        self._seen: sp.csr_matrix | None = None

    # -- fitting -------------------------------------------------------------------------------

    def fit(self, interactions: sp.spmatrix, progress: Progress | None = None) -> Recommender:
        """Fit on a users x items sparse matrix (CSR preferred) and return `self`.

        Args:
            interactions: Nonzero entries are positive feedback; values are weights.
            progress: Optional `progress(stage, done, total)` callback.
        """
        matrix = to_interactions(interactions)
        self._fit(matrix, progress)
        self._seen = matrix
        return self

    @abstractmethod
    def _fit(self, matrix: sp.csr_matrix, progress: Progress | None) -> None:
        """Learn from a clean CSR matrix."""

    def params(self) -> dict[str, Any]:
        """The hyperparameters, as keyword arguments of the constructor."""
        return {}

    @property
    def is_fitted(self) -> bool:
        return self._seen is not None

    @property
    def interactions(self) -> sp.csr_matrix:
        """The matrix the model was fitted on."""
        if self._seen is None:
            raise RuntimeError(f"The {self.name} model is not fitted yet; call fit() first.")
        return self._seen

    @property
    def n_users(self) -> int:
        return int(self.interactions.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.interactions.shape[1])

    # -- scoring -------------------------------------------------------------------------------

    @abstractmethod
    def score_users(self, users: npt.ArrayLike) -> FloatArray:
        """Dense scores, shape (len(users), n_items); higher is better, -inf never recommended."""

    @abstractmethod
    def score_history(self, items: Iterable[int]) -> FloatArray:
        """Scores of every item for a user who bought `items` (fold-in, no refit needed)."""

    @abstractmethod
    def similarity_scores(self, item: int) -> FloatArray:
        """How strongly each item relates to `item` (larger is more similar)."""

    def contributions(self, history: Iterable[int], item: int) -> FloatArray | None:
        """Share of `item`'s score that each item of `history` brings, or None if unknown."""
        return None

    # -- answers -------------------------------------------------------------------------------

    def recommend_with_scores(
        self, user: int, k: int = 10, exclude_seen: bool = True
    ) -> tuple[IntArray, FloatArray]:
        """The `k` best item indices for row `user` and their scores, best first."""
        self._check_user(user)
        scores = self.score_users(np.array([user]))[0].astype(np.float64)
        if exclude_seen:
            scores[self._seen_items(user)] = -np.inf
        items = top_k(scores, k)
        return items, scores[items]

    def recommend(self, user: int, k: int = 10, exclude_seen: bool = True) -> IntArray:
        """The `k` best item indices for row `user`, best first."""
        return self.recommend_with_scores(user, k, exclude_seen)[0]

    def recommend_for_items(
        self, items: Iterable[int], k: int = 10, exclude_seen: bool = True
    ) -> tuple[IntArray, FloatArray]:
        """Like `recommend_with_scores` for a basket instead of a row (fold-in, no refit)."""
        history = [int(i) for i in items]
        scores = np.asarray(self.score_history(history), dtype=np.float64).copy()
        if exclude_seen and history:
            scores[history] = -np.inf
        best = top_k(scores, k)
        return best, scores[best]

    def recommend_batch(
        self, users: npt.ArrayLike, k: int = 10, exclude_seen: bool = True, batch_size: int = 256
    ) -> list[IntArray]:
        """`recommend` for many users at once (vectorised scoring, for evaluations)."""
        rows = np.asarray(users, dtype=np.int64).ravel()
        answers: list[IntArray] = []
        for start in range(0, rows.size, batch_size):
            chunk = rows[start : start + batch_size]
            scores = self.score_users(chunk).astype(np.float64, copy=True)
            if exclude_seen:
                seen = self.interactions[chunk]
                scores[
                    np.repeat(np.arange(chunk.size), np.diff(seen.indptr)), seen.indices
                ] = -np.inf
            answers.extend(top_k(row, k) for row in scores)
        return answers

    def similar_items_with_scores(self, item: int, k: int = 10) -> tuple[IntArray, FloatArray]:
        """The `k` items most related to column `item` (positive similarity only), best first."""
        self._check_item(item)
        scores = np.asarray(self.similarity_scores(item), dtype=np.float64).copy()
        scores[item] = -np.inf
        scores[~(scores > 0)] = -np.inf
        items = top_k(scores, k)
        return items, scores[items]

    def similar_items(self, item: int, k: int = 10) -> IntArray:
        """The `k` items most related to column `item`, best first."""
        return self.similar_items_with_scores(item, k)[0]

    # -- helpers -------------------------------------------------------------------------------

    def _seen_items(self, user: int) -> IntArray:
        matrix = self.interactions
        return matrix.indices[matrix.indptr[user] : matrix.indptr[user + 1]].astype(np.int64)

    def _check_user(self, user: int) -> None:
        if not 0 <= int(user) < self.n_users:
            raise IndexError(f"User index {user} is outside 0..{self.n_users - 1}.")

    def _check_item(self, item: int) -> None:
        if not 0 <= int(item) < self.n_items:
            raise IndexError(f"Item index {item} is outside 0..{self.n_items - 1}.")

    def _history_columns(self, items: Iterable[int]) -> IntArray:
        """Sorted, distinct item indices of a basket; IndexError outside the matrix."""
        columns = np.unique(np.fromiter((int(i) for i in items), dtype=np.int64))
        if columns.size and (columns[0] < 0 or columns[-1] >= self.n_items):
            raise IndexError(f"Item indices must lie in 0..{self.n_items - 1}.")
        return columns

    def _history_vector(self, items: Iterable[int]) -> sp.csr_matrix:
        """A basket as a 1 x n_items CSR row of ones."""
        columns = self._history_columns(items)
        data = np.ones(columns.size, dtype=np.float32)
        return sp.csr_matrix((data, columns, np.array([0, columns.size])), shape=(1, self.n_items))

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.params().items())
        return f"{type(self).__name__}({args})"


class Popularity(Recommender):
    """Most-bought items first (distinct users per item), the same list for everyone."""

    name = "popularity"

    def __init__(self) -> None:
        super().__init__()
        self.popularity_: FloatArray = np.zeros(0)

    def _fit(self, matrix: sp.csr_matrix, progress: Progress | None) -> None:
        self.popularity_ = np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.float64)
        if progress is not None:
            progress("popularity", 1, 1)

    def score_users(self, users: npt.ArrayLike) -> FloatArray:
        rows = np.asarray(users).ravel()
        return np.tile(self.popularity_, (rows.size, 1))

    def score_history(self, items: Iterable[int]) -> FloatArray:
        return self.popularity_.copy()

    def similarity_scores(self, item: int) -> FloatArray:
        return self.popularity_.copy()


class ItemKNN(Recommender):
    """Item-based collaborative filtering with cosine similarity on the item columns.

    sim(i, j) = <x_i, x_j> / (|x_i| |x_j| + shrink); each item keeps its `neighbors` most
    similar items (all when None). A user's score for j is the sum of sim(i, j) over the items i
    the user has.
    """

    name = "itemknn"

    def __init__(self, neighbors: int | None = 100, shrink: float = 0.0, block_size: int = 512):
        super().__init__()
        self.neighbors = neighbors
        self.shrink = float(shrink)
        self.block_size = block_size
        self.similarity_: sp.csr_matrix = sp.csr_matrix((0, 0), dtype=np.float32)

    def params(self) -> dict[str, Any]:
        return {"neighbors": self.neighbors, "shrink": self.shrink}

    def _fit(self, matrix: sp.csr_matrix, progress: Progress | None) -> None:
        n_items = matrix.shape[1]
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=0)).ravel())
        by_item = matrix.T.tocsr()
        rows: list[IntArray] = []
        cols: list[IntArray] = []
        vals: list[FloatArray] = []
        keep = n_items - 1 if self.neighbors is None else min(self.neighbors, n_items - 1)
        for start in range(0, n_items, self.block_size):
            stop = min(start + self.block_size, n_items)
            block = np.asarray((by_item[start:stop] @ matrix).todense(), dtype=np.float32)
            denominator = norms[start:stop, None] * norms[None, :] + self.shrink
            with np.errstate(divide="ignore", invalid="ignore"):
                block = np.where(denominator > 0, block / denominator, 0.0).astype(np.float32)
            block[np.arange(stop - start), np.arange(start, stop)] = 0.0
            if 0 < keep < n_items - 1:
                top = np.argpartition(-block, keep - 1, axis=1)[:, :keep]
                values = np.take_along_axis(block, top, axis=1)
                row_index = np.repeat(np.arange(start, stop), keep)
                col_index = top.ravel()
                values = values.ravel()
            elif keep > 0:
                row_index, col_index = np.nonzero(block)
                values = block[row_index, col_index]
                row_index = row_index + start
            else:
                continue
            nonzero = values != 0
            rows.append(row_index[nonzero].astype(np.int64))
            cols.append(col_index[nonzero].astype(np.int64))
            vals.append(values[nonzero])
            if progress is not None:
                progress("similarity", stop, n_items)
        if rows:
            data = (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols)))
            self.similarity_ = sp.csr_matrix(data, shape=(n_items, n_items), dtype=np.float32)
        else:
            self.similarity_ = sp.csr_matrix((n_items, n_items), dtype=np.float32)

    def score_users(self, users: npt.ArrayLike) -> FloatArray:
        rows = np.asarray(users, dtype=np.int64).ravel()
        return np.asarray((self.interactions[rows] @ self.similarity_).todense())

    def score_history(self, items: Iterable[int]) -> FloatArray:
        return np.asarray((self._history_vector(items) @ self.similarity_).todense()).ravel()

    def similarity_scores(self, item: int) -> FloatArray:
        return np.asarray(self.similarity_[item].todense()).ravel()

    def contributions(self, history: Iterable[int], item: int) -> FloatArray:
        rows = np.fromiter((int(i) for i in history), dtype=np.int64)
        return np.asarray(self.similarity_[rows][:, [item]].todense()).ravel()


class EASE(Recommender):
    """EASE (Steck 2019): closed-form item-item weights, B = I - P diag(1/diag(P)).

    P = (X^T X + l2 I)^-1 over the items that anyone has; with more than `max_items` such items
    only the most popular `max_items` are modelled (the cost grows with the cube of the item
    count) and the others are never recommended.

    Serving: the scores of the users the model was fitted on are computed once at the end of
    `fit` (X B, users x modelled items) when they take at most `cache_mb` megabytes, so
    `recommend` for a known user is a row lookup and a top-k; baskets the model never saw
    (`score_history`) and users beyond the budget are scored on the fly.
    """

    name = "ease"

    def __init__(
        self,
        l2: float = 200.0,
        max_items: int | None = 3000,
        dtype: npt.DTypeLike = np.float32,
        cache_mb: float | None = 256.0,
    ) -> None:
        super().__init__()
        self.l2 = float(l2)
        self.max_items = max_items
        self.dtype = np.dtype(dtype)
        self.cache_mb = cache_mb
        self.user_scores_: FloatArray | None = None  # cached X B, users x modelled items
        self.items_: IntArray = np.empty(0, dtype=np.int64)  # modelled column -> item index
        self.weights_: FloatArray = np.empty((0, 0), dtype=self.dtype)  # B over items_
        self._local: IntArray = np.empty(0, dtype=np.int64)  # item index -> column, or -1

    def params(self) -> dict[str, Any]:
        return {"l2": self.l2, "max_items": self.max_items}

    def _fit(self, matrix: sp.csr_matrix, progress: Progress | None) -> None:
        counts = np.bincount(matrix.indices, minlength=matrix.shape[1])
        items = np.flatnonzero(counts)
        if self.max_items is not None and items.size > self.max_items:
            ranked = np.lexsort((items, -counts[items]))
            items = np.sort(items[ranked[: self.max_items]])
        self.items_ = items.astype(np.int64)
        self._local = np.full(matrix.shape[1], -1, dtype=np.int64)
        self._local[items] = np.arange(items.size)
        if progress is not None:
            progress("gram", 0, 3)
        columns = matrix[:, items]
        gram = np.asarray((columns.T @ columns).todense(), dtype=self.dtype)
        gram[np.diag_indices_from(gram)] += self.l2
        if progress is not None:
            progress("invert", 1, 3)
        inverse = _inverse_spd(gram)
        if progress is not None:
            progress("weights", 2, 3)
        weights = inverse / -np.diag(inverse)[None, :]
        weights[np.diag_indices_from(weights)] = 0.0
        self.weights_ = weights.astype(self.dtype, copy=False)
        self.user_scores_ = None
        size_mb = matrix.shape[0] * items.size * self.dtype.itemsize / 2**20
        if self.cache_mb is not None and size_mb <= self.cache_mb:
            self.user_scores_ = np.asarray(columns @ self.weights_, dtype=self.dtype)
        if progress is not None:
            progress("weights", 3, 3)

    def _spread(self, local_scores: FloatArray) -> FloatArray:
        """Local (modelled) columns to all items; unmodelled items get -inf."""
        shape = local_scores.shape[:-1] + (self.n_items,)
        full = np.full(shape, -np.inf, dtype=np.float64)
        full[..., self.items_] = local_scores
        return full

    def score_users(self, users: npt.ArrayLike) -> FloatArray:
        rows = np.asarray(users, dtype=np.int64).ravel()
        if self.user_scores_ is not None:
            return self._spread(self.user_scores_[rows])
        history = self.interactions[rows][:, self.items_]
        return self._spread(np.asarray(history @ self.weights_))

    def score_history(self, items: Iterable[int]) -> FloatArray:
        local = self._local[self._history_columns(items)]
        local = local[local >= 0]
        if local.size * 6 > self.items_.size:  # long histories: one BLAS matrix-vector product
            basket = np.zeros(self.items_.size, dtype=self.dtype)
            basket[local] = 1.0
            return self._spread(basket @ self.weights_)
        return self._spread(self.weights_[local].sum(axis=0))

    def similarity_scores(self, item: int) -> FloatArray:
        local = self._local[item]
        if local < 0:
            return np.zeros(self.n_items)
        return self._spread(self.weights_[local].astype(np.float64))

    def contributions(self, history: Iterable[int], item: int) -> FloatArray:
        rows = self._local[np.fromiter((int(i) for i in history), dtype=np.int64)]
        column = self._local[item]
        result = np.zeros(rows.size)
        if column >= 0:
            known = rows >= 0
            result[known] = self.weights_[rows[known], column]
        return result


def _inverse_spd(matrix: FloatArray) -> FloatArray:
    """Inverse of a symmetric positive definite matrix via Cholesky (LAPACK potrf + potri)."""
    from scipy.linalg import lapack

    if matrix.shape[0] == 0:
        return matrix.copy()
    potrf, potri = lapack.get_lapack_funcs(("potrf", "potri"), (matrix,))
    factor, info = potrf(np.asfortranarray(matrix), lower=False, overwrite_a=True, clean=False)
    if info == 0:
        upper, info = potri(factor, lower=False, overwrite_c=True)
        if info == 0:
            inverse = np.triu(upper)
            inverse += np.triu(upper, 1).T
            return np.ascontiguousarray(inverse)
    return np.linalg.inv(matrix)
