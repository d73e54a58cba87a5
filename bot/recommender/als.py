"""The `implicit` library's ALS (Hu, Koren & Volinsky 2008) behind our interface, for comparison.

Needs the optional `implicit` package; it is imported when a model is fitted, not before.
implicit >= 0.5 takes a users x items CSR matrix in `fit` and `recommend`, as we do.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from bot.recommender.models import FloatArray, Progress, Recommender


class ImplicitALS(Recommender):
    """Implicit-feedback matrix factorisation, `implicit.als.AlternatingLeastSquares` on the CPU.

    Confidence is `alpha * x_ui` for observed entries (implicit's convention), BLAS is held to one
    thread while fitting (implicit parallelises over users itself), and `random_state` fixes the
    initial factors so that results repeat. The defaults are what the MovieLens evaluation chose
    on its validation split.
    """

    name = "als"

    def __init__(
        self,
        factors: int = 16,
        regularization: float = 1.0,
        alpha: float = 5.0,
        iterations: int = 15,
        random_state: int = 42,
        num_threads: int = 0,
    ) -> None:
        super().__init__()
        self.factors = factors
        self.regularization = float(regularization)
        self.alpha = float(alpha)
        self.iterations = iterations
        self.random_state = random_state
        self.num_threads = num_threads
        self.model_: Any = None

    def params(self) -> dict[str, Any]:
        return {
            "factors": self.factors,
            "regularization": self.regularization,
            "alpha": self.alpha,
            "iterations": self.iterations,
        }

    def _fit(self, matrix: sp.csr_matrix, progress: Progress | None) -> None:
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        def callback(iteration: int, _elapsed: float, _loss: Any) -> None:
            if progress is not None:
                progress("als", iteration + 1, self.iterations)

        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.random_state,
                num_threads=self.num_threads,
            )
            model.fit(matrix, show_progress=False, callback=callback)
        self.model_ = model

    def score_users(self, users: npt.ArrayLike) -> FloatArray:
        rows = np.asarray(users, dtype=np.int64).ravel()
        return np.asarray(self.model_.user_factors[rows] @ self.model_.item_factors.T)

    def score_history(self, items: Iterable[int]) -> FloatArray:
        ids, scores = self.model_.recommend(
            0,
            self._history_vector(items),
            N=self.n_items,
            recalculate_user=True,
            filter_already_liked_items=False,
        )
        full = np.full(self.n_items, -np.inf)
        full[np.asarray(ids)] = scores
        return full

    def similarity_scores(self, item: int) -> FloatArray:
        factors = np.asarray(self.model_.item_factors, dtype=np.float64)
        norms = np.linalg.norm(factors, axis=1)
        norms[norms == 0] = 1.0
        return np.asarray((factors @ factors[item]) / (norms * norms[item]))
