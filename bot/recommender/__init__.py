"""Product recommendations from purchase history.

- `create(name=None, **params)`: an unfitted model (`DEFAULT_MODEL` when no name is given);
  `fit(csr users x items)`, `recommend(user, k, exclude_seen=True)`, `similar_items(item, k)`.
- `bot.recommender.rules`: business rules (never bought, in stock, category spread, reasons).
- `bot.recommender.shop`: train on the shop database, save/load versioned model files, answer
  in product ids (`ShopRecommender`).
- `bot.recommender.evaluation`: holdout evaluation (`run_evaluation`, `format_table`).

Importing this package is cheap: numpy, SciPy and the models load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.recommender.models import Recommender

DEFAULT_MODEL = "ease"
"""The model that won the holdout evaluation on MovieLens and on the demo shop."""

MODEL_NAMES = ("popularity", "itemknn", "ease", "als")
"""Every model `create` knows; "als" needs the optional `implicit` package."""


def create(name: str | None = None, **params: Any) -> Recommender:
    """A new, unfitted recommender.

    Args:
        name: One of `MODEL_NAMES`; `DEFAULT_MODEL` when None.
        **params: Hyperparameters passed to the model's constructor.

    Raises:
        ValueError: Unknown model name.
    """
    chosen = DEFAULT_MODEL if name is None else name.strip().lower()
    if chosen == "als":
        from bot.recommender.als import ImplicitALS

        return ImplicitALS(**params)
    from bot.recommender.models import EASE, ItemKNN, Popularity

    classes: dict[str, type[Recommender]] = {
        "popularity": Popularity,
        "itemknn": ItemKNN,
        "ease": EASE,
    }
    if chosen not in classes:
        raise ValueError(f"Unknown recommender {name!r}; choose one of {', '.join(MODEL_NAMES)}.")
    return classes[chosen](**params)


__all__ = ["DEFAULT_MODEL", "MODEL_NAMES", "create"]
