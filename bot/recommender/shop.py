"""Recommendations for the shop: train on the orders, save versioned model files, answer by id.

- `train_shop(factory, folder)` reads every purchase (items of orders that were not cancelled)
  into a customers x products CSR matrix with stable id <-> index mappings (ids ascending),
  tunes and fits the default model, and saves `recommender-<UTC timestamp>-<model>.pkl`.
- `load_latest(folder, model_name=None)` loads the newest readable file of the current format
  (of one model, when named), or None.
- `load_or_fallback(folder, factory, model_name=None)` is what the action server calls once per
  model: the newest file of that model, else the newest of another model (logged), else best
  sellers computed from the database when there is no model file.
- `ShopRecommender` answers in shop terms: `for_customer`, `similar_to`, `best_sellers`.

Model files are pickles: load only files that this code wrote (they live in `var/models/`).
"""

from __future__ import annotations

import logging
import os
import pickle
import re
import tempfile
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.recommender import DEFAULT_MODEL, create, rules
from bot.recommender.datasets import COUNTED_ORDER_STATUSES, interactions_from_pairs
from bot.recommender.models import Popularity, Progress, Recommender
from bot.settings import Settings
from bot.storage.models import Customer, Order, OrderItem, Product
from bot.storage.session import session_scope

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
FILE_KIND = "supportbot-recommender"
FILE_PATTERN = re.compile(r"^recommender-(\d{8}T\d{6}Z)-([a-z0-9_]+)(?:\.(\d+))?\.pkl$")
DEFAULT_K = 5


def model_folder(settings: Settings) -> Path:
    """Where recommender model files live: `<var_dir>/models`."""
    return settings.var_dir / "models"


@dataclass(frozen=True)
class ShopData:
    """Purchases as a customers x products matrix, and what the rules need about products."""

    interactions: sp.csr_matrix
    customer_ids: npt.NDArray[np.int64]
    product_ids: npt.NDArray[np.int64]
    names: list[str]
    categories: list[str]
    stock: npt.NDArray[np.int64]


@dataclass(frozen=True)
class Suggestion:
    """One product to suggest and why.

    Attributes:
        product_id: The product's database id.
        name: Product name.
        category: Product category.
        score: Model score, similarity or number of buyers (for best sellers).
        kind: "personal", "popular" (best seller) or "similar".
        reason: E.g. "because you bought Trail Runner - Black" or "a best seller in Garden".
        because_of: Product id the reason names (the purchased or the given product), if any.
    """

    product_id: int
    name: str
    category: str
    score: float
    kind: str
    reason: str
    because_of: int | None = None


def read_shop(session: Session) -> ShopData:
    """Every customer, product and purchase in the database, ids ascending."""
    products = session.execute(
        select(Product.id, Product.name, Product.category, Product.stock).order_by(Product.id)
    ).all()
    customer_ids = np.array(
        session.execute(select(Customer.id).order_by(Customer.id)).scalars().all(), dtype=np.int64
    )
    pairs = session.execute(
        select(Order.customer_id, OrderItem.product_id)
        .join(OrderItem, OrderItem.order_id == Order.id)
        .where(Order.status.in_(COUNTED_ORDER_STATUSES))
        .distinct()
    ).all()
    product_ids = np.array([row.id for row in products], dtype=np.int64)
    bought = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    users = np.searchsorted(customer_ids, bought[:, 0])
    items = np.searchsorted(product_ids, bought[:, 1])
    return ShopData(
        interactions=interactions_from_pairs(users, items, customer_ids.size, product_ids.size),
        customer_ids=customer_ids,
        product_ids=product_ids,
        names=[str(row.name) for row in products],
        categories=[str(row.category) for row in products],
        stock=np.array([int(row.stock or 0) for row in products], dtype=np.int64),
    )


def in_stock_product_ids(session: Session) -> set[int]:
    """Ids of the products that can be sold right now (stock > 0)."""
    return set(session.execute(select(Product.id).where(Product.stock > 0)).scalars())


def purchased_product_ids(session: Session, customer_id: int) -> set[int]:
    """Ids of every product the customer bought (orders that were not cancelled)."""
    query = (
        select(OrderItem.product_id)
        .join(Order, OrderItem.order_id == Order.id)
        .where(Order.customer_id == customer_id, Order.status.in_(COUNTED_ORDER_STATUSES))
        .distinct()
    )
    return set(session.execute(query).scalars())


class ShopRecommender:
    """A fitted model plus the shop's id mappings and product metadata; read-only once built.

    Args:
        model: A recommender fitted on `data.interactions`.
        data: The matrix, mappings and product metadata it was fitted on.
        trained_at: When the model was trained (UTC).
        summary: Facts about the training (sizes, parameters, validation score).
    """

    def __init__(
        self,
        model: Recommender,
        data: ShopData,
        trained_at: datetime | None = None,
        summary: dict[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.data = data
        self.trained_at = trained_at or datetime.now(timezone.utc)
        self.summary: dict[str, Any] = dict(summary or {})
        self.path: Path | None = None
        self._customer_index = {int(c): i for i, c in enumerate(data.customer_ids)}
        self._product_index = {int(p): i for i, p in enumerate(data.product_ids)}
        self.popularity = np.bincount(
            data.interactions.indices, minlength=data.product_ids.size
        ).astype(np.float64)
        self._by_item: sp.csc_matrix | None = None

    # -- facts ---------------------------------------------------------------------------------

    @property
    def model_name(self) -> str:
        return self.model.name

    @property
    def is_fallback(self) -> bool:
        """True when this only knows best sellers (`popularity_fallback`, or a popularity model)."""
        return isinstance(self.model, Popularity)

    def personalises(self, customer_id: int, bought: Iterable[int] = ()) -> bool:
        """Whether `for_customer(customer_id, bought=bought)` answers from the model (personal
        picks) rather than with best sellers: a trained model and a purchase history it knows."""
        if self.is_fallback:
            return False
        return bool(self._customer_history(customer_id) or self._indices(bought))

    def knows_customer(self, customer_id: int) -> bool:
        """Whether the customer has purchases in the training data."""
        index = self._customer_index.get(int(customer_id))
        matrix = self.data.interactions
        return index is not None and bool(matrix.indptr[index + 1] > matrix.indptr[index])

    def categories(self) -> list[str]:
        """The product categories, sorted."""
        return sorted(set(self.data.categories))

    # -- answers -------------------------------------------------------------------------------

    def for_customer(
        self,
        customer_id: int,
        k: int = DEFAULT_K,
        in_stock: set[int] | None = None,
        bought: Iterable[int] = (),
        category: str | None = None,
        max_per_category: int | None = rules.MAX_PER_CATEGORY,
    ) -> list[Suggestion]:
        """Up to `k` suggestions for a customer, each with its reason.

        Args:
            customer_id: Database id; unknown customers (or ones without purchases) get best
                sellers.
            k: How many suggestions at most.
            in_stock: Product ids that can be sold now; None uses the stock saved at training.
            bought: Product ids bought since training (or all purchases, from
                `purchased_product_ids`): they are never suggested and count as history.
            category: Only suggest products of this category (case-insensitive); then the
                category cap does not apply.
            max_per_category: At most this many suggestions per category (None: no cap).
        """
        history = set(self._customer_history(customer_id))
        history.update(self._indices(bought))
        ordered = sorted(history)
        allowed = self._allowed(in_stock, category)
        if category is not None:
            max_per_category = None
        if not ordered or self.is_fallback:
            picks = rules.best_seller_picks(
                self.popularity,
                categories=self.data.categories,
                k=k,
                exclude=ordered,
                in_stock=allowed,
                max_per_category=max_per_category,
            )
            return self._suggestions(picks)
        index = self._customer_index.get(int(customer_id))
        if index is not None and set(self._customer_history(customer_id)) == history:
            scores = self.model.score_users(np.array([index]))[0]
        else:
            scores = self.model.score_history(ordered)
        picks = rules.personal_picks(
            scores,
            history=ordered,
            popularity=self.popularity,
            names=self.data.names,
            categories=self.data.categories,
            k=k,
            in_stock=allowed,
            contributions=lambda item: self._contributions(ordered, item),
            max_per_category=max_per_category,
        )
        return self._suggestions(picks)

    def similar_to(
        self, product_id: int, k: int = DEFAULT_K, in_stock: set[int] | None = None
    ) -> list[Suggestion]:
        """Up to `k` products bought by the same customers as `product_id`, most related first.

        Unknown products get an empty list.
        """
        item = self._product_index.get(int(product_id))
        if item is None:
            return []
        if self.is_fallback:
            similarity = self._cosine_row(item)
        else:
            similarity = self.model.similarity_scores(item)
        picks = rules.similar_picks(
            item,
            similarity,
            names=self.data.names,
            categories=self.data.categories,
            k=k,
            in_stock=self._allowed(in_stock),
        )
        return self._suggestions(picks)

    def best_sellers(
        self,
        category: str | None = None,
        k: int = DEFAULT_K,
        in_stock: set[int] | None = None,
        exclude: Iterable[int] = (),
        max_per_category: int | None = rules.MAX_PER_CATEGORY,
    ) -> list[Suggestion]:
        """The products with the most buyers, of one category (case-insensitive) or spread
        over all categories; the cold-start fallback."""
        picks = rules.best_seller_picks(
            self.popularity,
            categories=self.data.categories,
            k=k,
            category=category,
            exclude=self._indices(exclude),
            in_stock=self._allowed(in_stock),
            max_per_category=max_per_category,
        )
        return self._suggestions(picks)

    # -- files ---------------------------------------------------------------------------------

    def to_payload(self) -> dict[str, Any]:
        """Everything a model file holds, as a plain dict."""
        return {
            "kind": FILE_KIND,
            "format_version": FORMAT_VERSION,
            "model_name": self.model.name,
            "params": self.model.params(),
            "trained_at": self.trained_at.isoformat(),
            "summary": self.summary,
            "model": self.model,
            "interactions": self.data.interactions,
            "customer_ids": self.data.customer_ids,
            "product_ids": self.data.product_ids,
            "names": self.data.names,
            "categories": self.data.categories,
            "stock": self.data.stock,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ShopRecommender:
        """Rebuild from `to_payload()`'s dict; raises ValueError for another format."""
        if payload.get("kind") != FILE_KIND:
            raise ValueError("Not a Supportbot recommender file.")
        if payload.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"Recommender file format {payload.get('format_version')} is not "
                f"{FORMAT_VERSION}; retrain with `supportbot train-recommender`."
            )
        data = ShopData(
            interactions=payload["interactions"],
            customer_ids=payload["customer_ids"],
            product_ids=payload["product_ids"],
            names=list(payload["names"]),
            categories=list(payload["categories"]),
            stock=payload["stock"],
        )
        trained_at = datetime.fromisoformat(payload["trained_at"])
        return cls(payload["model"], data, trained_at, payload.get("summary"))

    def save(self, folder: Path) -> Path:
        """Write `recommender-<UTC timestamp>-<model>.pkl` into `folder` (atomically)."""
        folder.mkdir(parents=True, exist_ok=True)
        stamp = self.trained_at.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        path = folder / f"recommender-{stamp}-{self.model.name}.pkl"
        counter = 1
        while path.exists():
            counter += 1
            path = folder / f"recommender-{stamp}-{self.model.name}.{counter}.pkl"
        handle, temporary = tempfile.mkstemp(prefix=".recommender-", dir=folder)
        try:
            with os.fdopen(handle, "wb") as file:
                pickle.dump(self.to_payload(), file, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.path = path
        return path

    @classmethod
    def load(cls, path: Path) -> ShopRecommender:
        """Load one model file written by `save`."""
        with path.open("rb") as file:
            payload = pickle.load(file)  # noqa: S301 - our own files only
        if not isinstance(payload, dict):
            raise ValueError(f"{path} is not a recommender file.")
        recommender = cls.from_payload(payload)
        recommender.path = path
        return recommender

    # -- helpers -------------------------------------------------------------------------------

    def _customer_history(self, customer_id: int) -> list[int]:
        index = self._customer_index.get(int(customer_id))
        if index is None:
            return []
        matrix = self.data.interactions
        return [int(i) for i in matrix.indices[matrix.indptr[index] : matrix.indptr[index + 1]]]

    def _indices(self, product_ids: Iterable[int]) -> list[int]:
        found = (self._product_index.get(int(p)) for p in product_ids)
        return [i for i in found if i is not None]

    def _allowed(self, in_stock: Collection[int] | None, category: str | None = None) -> set[int]:
        """Indices of products in stock (now, or at training when None), of `category` if given."""
        if in_stock is None:
            allowed = {int(i) for i in np.flatnonzero(self.data.stock > 0)}
        else:
            allowed = set(self._indices(in_stock))
        if category is not None:
            wanted = category.casefold()
            allowed = {i for i in allowed if self.data.categories[i].casefold() == wanted}
        return allowed

    def _contributions(self, history: list[int], item: int) -> npt.ArrayLike:
        weights = self.model.contributions(history, item)
        if weights is not None:
            return weights
        return self._cosine_row(item)[history]

    def _cosine_row(self, item: int) -> npt.NDArray[np.float64]:
        """Cosine similarity of every product's buyers with `item`'s buyers."""
        if self._by_item is None:
            self._by_item = self.data.interactions.tocsc()
        by_item = self._by_item
        column = by_item[:, [item]]
        overlap = np.asarray((by_item.T @ column).todense(), dtype=np.float64).ravel()
        norms = np.sqrt(self.popularity)
        denominator = norms * norms[item]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(denominator > 0, overlap / denominator, 0.0)

    def _suggestions(self, picks: list[rules.Pick]) -> list[Suggestion]:
        ids = self.data.product_ids
        return [
            Suggestion(
                product_id=int(ids[pick.item]),
                name=self.data.names[pick.item],
                category=self.data.categories[pick.item],
                score=pick.score,
                kind=pick.kind,
                reason=pick.reason,
                because_of=None if pick.because_of is None else int(ids[pick.because_of]),
            )
            for pick in picks
        ]

    def __repr__(self) -> str:
        return (
            f"ShopRecommender(model={self.model!r}, customers={self.data.customer_ids.size}, "
            f"products={self.data.product_ids.size}, trained_at={self.trained_at.isoformat()})"
        )


def train_shop(
    factory: sessionmaker,
    folder: Path,
    model_name: str | None = None,
    progress: Progress | None = None,
    search: bool = True,
    now: datetime | None = None,
) -> ShopRecommender:
    """Train on every purchase in the database and save a new model file in `folder`.

    Args:
        factory: Session factory of the app database.
        folder: Where model files go (`model_folder(settings)`).
        model_name: A name from `bot.recommender.MODEL_NAMES`; the default model when None.
        progress: Called as `progress(stage, done, total)`.
        search: Choose hyperparameters on a validation split of the purchases first.
        now: Training time to record (UTC); the current time when None.

    Returns:
        The trained recommender; its `path` is the new file, its `summary` says what it learned.

    Raises:
        ValueError: The database holds no purchases.
    """
    from bot.recommender.evaluation import K, tune

    started = time.perf_counter()
    if progress is not None:
        progress("read orders", 0, 1)
    with session_scope(factory) as session:
        data = read_shop(session)
    if progress is not None:
        progress("read orders", 1, 1)
    if data.interactions.nnz == 0:
        raise ValueError("The database holds no purchases to learn from; seed or import orders.")
    name = model_name or DEFAULT_MODEL
    params: dict[str, Any] = {}
    trials: list[dict[str, Any]] = []
    if search:
        params, trials = tune(name, data.interactions, progress=progress)
    model = create(name, **params).fit(data.interactions, progress=progress)
    summary = {
        "model": name,
        "params": model.params(),
        "customers": int(data.customer_ids.size),
        "products": int(data.product_ids.size),
        "interactions": int(data.interactions.nnz),
        "customers_with_purchases": int(np.count_nonzero(np.diff(data.interactions.indptr))),
        f"validation_ndcg@{K}": max((t[f"ndcg@{K}"] for t in trials), default=None),
        "seconds": round(time.perf_counter() - started, 2),
    }
    recommender = ShopRecommender(model, data, now or datetime.now(timezone.utc), summary)
    if progress is not None:
        progress("save", 0, 1)
    recommender.save(folder)
    if progress is not None:
        progress("save", 1, 1)
    return recommender


def model_files(folder: Path, model_name: str | None = None) -> list[Path]:
    """Recommender model files in `folder` (of `model_name` only, when given), newest first (by
    the timestamp in the name)."""
    if not folder.is_dir():
        return []
    found: list[tuple[str, int, Path]] = []
    for path in folder.iterdir():
        match = FILE_PATTERN.match(path.name)
        if not match or not path.is_file():
            continue
        if model_name is not None and match.group(2) != model_name:
            continue
        found.append((match.group(1), int(match.group(3) or 1), path))
    found.sort(reverse=True)
    return [path for _, _, path in found]


def load_latest(folder: Path, model_name: str | None = None) -> ShopRecommender | None:
    """The newest model file in `folder` (of `model_name` only, when given) that loads (older
    format versions are skipped)."""
    for path in model_files(folder, model_name):
        try:
            return ShopRecommender.load(path)
        except Exception as error:  # a broken or outdated file must not stop the bot
            log.warning("Skipping recommender file %s: %s", path, error)
    return None


def popularity_fallback(factory: sessionmaker) -> ShopRecommender:
    """Best sellers straight from the database, for when no model file exists (not saved)."""
    with session_scope(factory) as session:
        data = read_shop(session)
    model = Popularity().fit(data.interactions)
    summary = {"model": model.name, "interactions": int(data.interactions.nnz)}
    return ShopRecommender(model, data, summary=summary)


def load_or_fallback(
    folder: Path, factory: sessionmaker, model_name: str | None = None
) -> ShopRecommender:
    """The newest model file in `folder` (of `model_name`, when given; else of any model), or
    best sellers from the database (`is_fallback`).

    Without a file of `model_name`, the newest file of another model answers instead, and the
    log says so; the caller sees it in `model_name` of the result.
    """
    if model_name is not None:
        loaded = load_latest(folder, model_name)
        if loaded is not None:
            return loaded
    loaded = load_latest(folder)
    if loaded is not None:
        if model_name is not None:
            log.warning(
                "No %s recommender model in %s; answering with %s (%s) instead.",
                model_name,
                folder,
                loaded.model_name,
                loaded.path,
            )
        return loaded
    log.info("No recommender model in %s; answering with best sellers.", folder)
    return popularity_fallback(factory)
