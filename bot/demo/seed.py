"""Deterministic demo data: the catalog as products, customers, two years of orders and returns.

Everything is drawn from one `numpy.random.default_rng(settings.demo_seed)` and anchored at the
demo's "today" (`settings.demo_today`, or the real date when that is empty). The demo's "now" is
midnight at the start of that day: every order was placed before it, and an order's status follows
from its age at that moment. The same seed and the same day always give the same rows.

Customers have tastes a recommender can learn: products and customers share a small latent space
(category-driven), and each purchase is drawn from a softmax of customer·product mixed with a
Zipf-like popularity prior. Consumables (beauty products, pet food) are sometimes bought again.
"""

from __future__ import annotations

import math
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any

import numpy as np
from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from bot.demo.catalog import ProductLine, product_lines
from bot.settings import Settings
from bot.storage.models import (
    ORDER_STATUSES,
    Customer,
    Meta,
    Order,
    OrderItem,
    Product,
    Refund,
    ReturnRequest,
)
from bot.storage.session import create_db_engine, make_session_factory, session_scope

Progress = Callable[[str, int, int], None]
Row = dict[str, Any]

META_KEY = "demo_seed"
N_CUSTOMERS = 1_000
N_ORDERS = 10_000
HISTORY_DAYS = 730
FIRST_ORDER_NUMBER = 100_000
FIRST_RETURN_NUMBER = 100_000
CHUNK_SIZE = 2_000
DAY = 86_400  # seconds

# Orders placed in the last days before "now": fixed counts, so a demo always has orders in every
# state. Keys are days before now (1 = the last 24 hours); values are orders placed on that day.
RECENT_ORDERS_PER_DAY = {1: 28, 2: 26, 3: 21, 4: 21, 5: 21, 6: 21}
PENDING_AGE = 1 * DAY  # younger orders are pending
PROCESSING_AGE = 2 * DAY  # younger ones processing, older ones shipped
SHIPPED_AGE = 6 * DAY  # older orders are delivered (or cancelled or returned)
CANCEL_RATE = 0.04
RETURN_RATE = 0.05
OPEN_RETURN_RATE = 0.01
OPEN_RETURN_WINDOW_DAYS = 45
OUT_OF_STOCK_SHARE = 0.08
MAX_STOCK = 120

# Taste model.
LATENT_DIMS = 8
TASTE_TEMPERATURE = 0.2
POPULARITY_WEIGHT = 0.5
ZIPF_EXPONENT = 1.0
EXPLORATION = 0.08  # share of picks drawn from popularity alone
OWNED_PENALTY = 0.1  # weight of a durable product the customer already bought
ITEMS_PER_ORDER = ((1, 2, 3, 4), (0.56, 0.27, 0.12, 0.05))
QUANTITY = ((1, 2, 3), (0.9, 0.08, 0.02))
CONSUMABLE_QUANTITY = ((1, 2, 3), (0.65, 0.25, 0.10))

CATEGORY_CODES = {
    "Footwear": "FW",
    "Clothing": "CL",
    "Electronics": "EL",
    "Home & Kitchen": "HK",
    "Beauty": "BT",
    "Sports & Outdoors": "SO",
    "Books & Stationery": "BS",
    "Toys & Games": "TG",
    "Pet Supplies": "PS",
    "Garden": "GD",
}
# How likely a customer is to have a category among their favourites (unknown categories: 1.0).
CATEGORY_APPEAL = {
    "Clothing": 1.4,
    "Electronics": 1.3,
    "Home & Kitchen": 1.2,
    "Footwear": 1.1,
    "Beauty": 1.1,
    "Sports & Outdoors": 1.0,
    "Books & Stationery": 0.8,
    "Toys & Games": 0.8,
    "Pet Supplies": 0.8,
    "Garden": 0.7,
}
CONSUMABLE_CATEGORIES = frozenset({"Beauty"})
VARIANT_CODES = {
    "Black": "BLK",
    "Blue": "BLU",
    "Grey": "GRY",
    "Sand": "SND",
    "Navy": "NVY",
    "Olive": "OLV",
    "Red": "RED",
    "White": "WHT",
    "Midnight Blue": "MNB",
    "Silver": "SLV",
    "Sage": "SGE",
    "Steel": "STL",
    "30 ml": "030",
    "50 ml": "050",
    "100 ml": "100",
    "Travel Size": "TRV",
    "Green": "GRN",
    "Orange": "ORG",
    "Charcoal": "CHR",
    "Kraft": "KRF",
    "Forest": "FOR",
    "Classic": "CLS",
    "Deluxe": "DLX",
    "Mini": "MIN",
    "Family Edition": "FAM",
    "Small": "SML",
    "Medium": "MED",
    "Large": "LRG",
    "XL": "XLG",
    "Pro": "PRO",
}
# Sizes and editions change the price; colours only nudge it (see `_build_products`).
VARIANT_PRICE_FACTORS = {
    "30 ml": 0.85,
    "50 ml": 1.0,
    "100 ml": 1.5,
    "Travel Size": 0.6,
    "Small": 0.85,
    "Medium": 1.0,
    "Large": 1.2,
    "XL": 1.35,
    "Pro": 1.45,
    "Classic": 1.0,
    "Deluxe": 1.35,
    "Mini": 0.7,
    "Family Edition": 1.2,
}
VARIANT_LABELS = {
    "Beauty": "Size",
    "Pet Supplies": "Size",
    "Garden": "Size",
    "Toys & Games": "Edition",
}

FIRST_NAMES = (
    "Anna", "Lukas", "Sophie", "Mohammed", "Priya", "James", "Olivia", "Noah", "Emma", "Liam",
    "Aisha", "Mateo", "Chloe", "Oliver", "Isabella", "Ethan", "Mia", "Jonas", "Freya", "Arjun",
    "Hannah", "Daniel", "Zara", "Leon", "Grace", "Samuel", "Amelia", "Tomás", "Ella", "Yusuf",
    "Lena", "Harry", "Chiara", "Finn", "Maya", "Kai", "Ruby", "Adam", "Nadia", "Oscar",
    "Sara", "Jack", "Fatima", "Luca", "Emily", "Max", "Ines", "George", "Julia", "Ravi",
    "Eva", "William", "Layla", "Felix", "Charlotte", "Ben", "Aoife", "Kenji", "Lucy", "Marek",
)  # fmt: skip
LAST_NAMES = (
    "Schmidt", "Smith", "Patel", "Nowak", "Rossi", "Jones", "Müller", "Williams", "Khan", "Brown",
    "Taylor", "Fischer", "Garcia", "Wilson", "Kowalski", "Davies", "O'Brien", "Evans", "Weber",
    "Thomas", "Johnson", "Martin", "Roberts", "Hughes", "Ahmed", "Walker", "Bianchi", "Wright",
    "Novak", "Green", "Hall", "Wood", "Jansen", "Clarke", "Singh", "Murphy", "Lewis", "Kim",
    "Dubois", "Jackson", "White", "Chen", "Harris", "Becker", "Lopez", "Young", "Ali", "King",
    "Moreau", "Scott", "Baker", "Nguyen", "Turner", "Hoffmann", "Phillips", "Kaur", "Campbell",
    "Andersen", "Cooper", "Silva",
)  # fmt: skip
# (city, postcode area, weight): bigger cities have more customers.
CITIES = (
    ("London", "SW", 9.0), ("Manchester", "M", 4.0), ("Birmingham", "B", 4.0),
    ("Leeds", "LS", 3.0), ("Glasgow", "G", 3.0), ("Edinburgh", "EH", 2.5), ("Bristol", "BS", 2.5),
    ("Liverpool", "L", 2.5), ("Sheffield", "S", 2.0), ("Newcastle upon Tyne", "NE", 2.0),
    ("Nottingham", "NG", 1.8), ("Cardiff", "CF", 1.8), ("Brighton", "BN", 1.5),
    ("Cambridge", "CB", 1.2), ("Oxford", "OX", 1.2), ("York", "YO", 1.0), ("Leicester", "LE", 1.5),
    ("Southampton", "SO", 1.3), ("Norwich", "NR", 1.0), ("Belfast", "BT", 1.5),
    ("Aberdeen", "AB", 1.0), ("Bath", "BA", 0.8), ("Exeter", "EX", 0.8), ("Coventry", "CV", 1.2),
)  # fmt: skip
STREETS = (
    "High Street", "Station Road", "Church Lane", "Mill Lane", "Victoria Road", "Park Avenue",
    "King Street", "Queen's Road", "Green Lane", "Manor Road", "The Crescent", "Elm Grove",
    "Oak Avenue", "Albert Road", "Springfield Road", "Windsor Close", "Chapel Street",
    "Orchard Way", "Grange Road", "Meadow View", "Castle Street", "New Road", "Beech Drive",
    "Riverside Walk", "Cedar Court", "York Road", "Highfield Avenue", "The Green",
)  # fmt: skip
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
PAYMENT_METHODS = (("card", "paypal", "klarna", "apple_pay"), (0.5, 0.25, 0.12, 0.13))
CARRIERS = (("DHL", "UPS", "DPD", "Royal Mail"), (0.3, 0.2, 0.2, 0.3))
RETURN_REASONS = (
    "Wrong size",
    "Arrived damaged",
    "Not as described",
    "Changed my mind",
    "Found a better price elsewhere",
    "Arrived too late",
    "Quality not as expected",
    "Ordered by mistake",
)
# Order volume by hour of day (UTC): quiet nights, busy lunch breaks and evenings.
HOUR_WEIGHTS = (
    1.0, 0.6, 0.4, 0.3, 0.3, 0.4, 0.8, 1.5, 2.2, 2.8, 3.0, 3.2,
    3.5, 3.3, 3.0, 2.9, 3.0, 3.2, 3.6, 4.2, 4.5, 4.0, 3.0, 1.8,
)  # fmt: skip
YEARLY_GROWTH = 0.9  # the shop sells this much more at the end of a year than at its start


@dataclass(frozen=True)
class SeedSummary:
    """How many rows of each kind the demo database holds."""

    products: int
    customers: int
    orders: int
    order_items: int
    returns: int
    refunds: int
    already_seeded: bool = False


@dataclass(frozen=True)
class DemoData:
    """The generated rows, ready for bulk inserts.

    Foreign keys are given as indexes into the parent list (`customer_index`, `order_index`,
    `product_index`, `return_index`); `seed_demo` turns them into database ids.
    """

    products: list[Row]
    customers: list[Row]
    orders: list[Row]
    order_items: list[Row]
    return_requests: list[Row]
    refunds: list[Row]


@dataclass
class _Products:
    rows: list[Row]
    category: np.ndarray  # category index per product
    consumable: np.ndarray  # bool per product
    vectors: np.ndarray  # (products, LATENT_DIMS)
    centers: np.ndarray  # (categories, LATENT_DIMS)
    appeal: np.ndarray  # per category


def demo_today(settings: Settings) -> date:
    """The demo's anchor date: `settings.demo_today` if set, else the real date."""
    return date.fromisoformat(settings.demo_today) if settings.demo_today else date.today()


def seed_demo(
    factory: sessionmaker, settings: Settings, progress: Progress | None = None
) -> SeedSummary:
    """Fill an empty, migrated database with the demo shop, once.

    Args:
        factory: Session factory of the app database.
        settings: Supplies `demo_seed` and `demo_today`.
        progress: Called as `progress(stage, done, total)` after each inserted chunk.

    Returns:
        Row counts; `already_seeded` is True when the database held the demo already and
        nothing was inserted.

    Raises:
        RuntimeError: The database holds shop data that this function did not write.
    """
    today = demo_today(settings)
    with session_scope(factory) as session:
        if session.execute(select(Meta.key).where(Meta.key == META_KEY)).first() is not None:
            return _count_rows(session)
        if any(_count(session, table) for table in (Product, Customer, Order)):
            raise RuntimeError("The database already holds shop data, but not the demo's marker.")
        data = build_demo_data(settings.demo_seed, today)
        _insert(session, data, progress)
        session.execute(
            insert(Meta.__table__), [{"key": META_KEY, "value": f"{settings.demo_seed}|{today}"}]
        )
    return SeedSummary(
        products=len(data.products),
        customers=len(data.customers),
        orders=len(data.orders),
        order_items=len(data.order_items),
        returns=len(data.return_requests),
        refunds=len(data.refunds),
    )


def seed_demo_into(database_url: str, today: str) -> SeedSummary:
    """`seed_demo` into the migrated database at `database_url`, anchored at `today` (ISO)."""
    engine = create_db_engine(database_url)
    try:
        return seed_demo(
            make_session_factory(engine), Settings(database_url=database_url, demo_today=today)
        )
    finally:
        engine.dispose()


def is_demo_shop(session: Session) -> bool:
    """Whether `seed_demo` filled this database (it leaves its marker in `meta`)."""
    return session.get(Meta, META_KEY) is not None


def sample_orders(session: Session, per_status: int = 2) -> dict[str, list[str]]:
    """Order numbers for each status, newest first (for the README and for tests)."""
    samples: dict[str, list[str]] = {}
    for status in ORDER_STATUSES:
        query = (
            select(Order.number)
            .where(Order.status == status)
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(per_status)
        )
        samples[status] = list(session.execute(query).scalars())
    return samples


def build_demo_data(seed: int, today: date) -> DemoData:
    """Generate every demo row from `seed`, anchored at midnight at the start of `today`."""
    rng = np.random.default_rng(seed)
    now = datetime.combine(today, time.min)
    start = now - timedelta(days=HISTORY_DAYS)
    products = _build_products(rng, product_lines())
    customers, tastes, addresses, payments = _build_customers(rng, products)
    placed = _order_times(rng, start)
    owner = _assign_orders(rng, len(placed))
    baskets = _fill_baskets(rng, products, tastes, placed, owner)

    chronological = np.argsort(placed, kind="stable")
    orders: list[Row] = []
    items: list[Row] = []
    for order_index, slot in enumerate(chronological):
        customer = int(owner[slot])
        placed_at = start + timedelta(seconds=int(placed[slot]))
        basket = baskets[slot]
        total = sum((quantity * products.rows[p]["price"] for p, quantity in basket), Decimal(0))
        address = addresses[customer][1 if rng.random() < 0.08 else 0]
        method = payments[customer] if rng.random() < 0.8 else _pick(rng, PAYMENT_METHODS)
        order = {
            "number": str(FIRST_ORDER_NUMBER + order_index),
            "customer_index": customer,
            "placed_at": placed_at,
            "shipping_address": address,
            "payment_method": method,
            "total": total,
        }
        order.update(_fulfilment(rng, placed_at, now))
        orders.append(order)
        for product, quantity in basket:
            items.append(
                {
                    "order_index": order_index,
                    "product_index": product,
                    "quantity": quantity,
                    "unit_price": products.rows[product]["price"],
                }
            )

    returns, refunds = _build_returns(rng, orders, now)
    _set_customer_created(rng, customers, orders, start)
    customers, orders = _customers_by_age(customers, orders)
    return DemoData(products.rows, customers, orders, items, returns, refunds)


def _pick(rng: np.random.Generator, choices: tuple[Sequence[Any], Sequence[float]]) -> Any:
    """One of `values`, drawn with `weights` (a fast stand-in for `rng.choice` on short lists)."""
    values, weights = choices
    cumulative = list(accumulate(weights))
    index = bisect_right(cumulative, rng.random() * cumulative[-1])
    return values[min(index, len(values) - 1)]


def _shop_price(base: float, factor: float) -> Decimal:
    """A shop-like price near `base * factor` that ends in .99."""
    return Decimal(max(1, math.ceil(base * factor - 0.5))) - Decimal("0.01")


def _code(text: str, length: int) -> str:
    letters = "".join(ch for ch in text.upper() if ch.isalnum())
    return (letters + "XXX")[:length]


def _noise(rng: np.random.Generator, scale: float) -> np.ndarray:
    """A random latent vector with expected length about `scale`."""
    return scale * rng.normal(size=LATENT_DIMS) / math.sqrt(LATENT_DIMS)


def _build_products(rng: np.random.Generator, lines: list[ProductLine]) -> _Products:
    categories = list(dict.fromkeys(line.category for line in lines))
    centers = rng.normal(size=(len(categories), LATENT_DIMS))
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    rows: list[Row] = []
    category_of: list[int] = []
    consumable: list[bool] = []
    vectors: list[np.ndarray] = []
    line_numbers: dict[str, int] = {}
    for line in lines:
        cat = categories.index(line.category)
        line_numbers[line.category] = line_numbers.get(line.category, 0) + 1
        prefix = CATEGORY_CODES.get(line.category) or _code(line.category, 2)
        line_vector = centers[cat] + _noise(rng, 0.35)
        label = VARIANT_LABELS.get(line.category, "Colour")
        for variant in line.variants:
            jitter = 1.0 + rng.uniform(-0.04, 0.06)
            factor = VARIANT_PRICE_FACTORS.get(variant, jitter)
            variant_code = VARIANT_CODES.get(variant) or _code(variant, 3)
            rows.append(
                {
                    "sku": f"{prefix}-{line_numbers[line.category]:03d}-{variant_code}",
                    "name": f"{line.name} - {variant}",
                    "category": line.category,
                    "price": _shop_price(line.base_price, factor),
                    "description": f"{line.description} {label}: {variant}.",
                }
            )
            category_of.append(cat)
            consumable.append(line.category in CONSUMABLE_CATEGORIES or "food" in line.name.lower())
            vectors.append(line_vector + _noise(rng, 0.15))
    stock = rng.integers(1, MAX_STOCK + 1, size=len(rows))
    sold_out = rng.choice(len(rows), size=round(OUT_OF_STOCK_SHARE * len(rows)), replace=False)
    stock[sold_out] = 0
    for row, units in zip(rows, stock, strict=True):
        row["stock"] = int(units)
    appeal = np.array([CATEGORY_APPEAL.get(c, 1.0) for c in categories])
    return _Products(
        rows, np.array(category_of), np.array(consumable), np.array(vectors), centers, appeal
    )


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _email(rng: np.random.Generator, first: str, last: str, taken: set[str]) -> str:
    first, last = _ascii(first), _ascii(last)
    while True:
        number = int(rng.integers(1, 100))
        style = rng.random()
        if style < 0.55:
            local = f"{first}.{last}{number}"
        elif style < 0.7:
            local = f"{first}.{last}"
        elif style < 0.85:
            local = f"{first}{last}{number}"
        else:
            local = f"{first[0]}.{last}{number}"
        email = f"{local}@example.com"
        if email not in taken:
            taken.add(email)
            return email


def _street_address(rng: np.random.Generator, city: str, area: str) -> str:
    number = int(rng.integers(1, 180))
    street = STREETS[int(rng.integers(len(STREETS)))]
    letters = "".join(POSTCODE_LETTERS[int(i)] for i in rng.integers(len(POSTCODE_LETTERS), size=2))
    postcode = f"{area}{int(rng.integers(1, 20))} {int(rng.integers(1, 10))}{letters}"
    return f"{number} {street}, {city} {postcode}, United Kingdom"


def _build_customers(
    rng: np.random.Generator, products: _Products
) -> tuple[list[Row], np.ndarray, list[tuple[str, str]], list[str]]:
    """Customers with a name, email, city, two addresses, a favourite payment and a taste."""
    cities = ([(city, area) for city, area, _ in CITIES], [weight for _, _, weight in CITIES])
    n_categories = len(products.centers)
    customers: list[Row] = []
    tastes = np.empty((N_CUSTOMERS, LATENT_DIMS))
    addresses: list[tuple[str, str]] = []
    payments: list[str] = []
    taken: set[str] = set()
    for index in range(N_CUSTOMERS):
        first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
        last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
        city, area = _pick(rng, cities)
        customers.append(
            {"name": f"{first} {last}", "email": _email(rng, first, last, taken), "city": city}
        )
        addresses.append((_street_address(rng, city, area), _street_address(rng, city, area)))
        payments.append(_pick(rng, PAYMENT_METHODS))
        n_favourites = min(n_categories, _pick(rng, ((1, 2, 3), (0.3, 0.45, 0.25))))
        favourites = rng.choice(
            n_categories,
            size=n_favourites,
            replace=False,
            p=products.appeal / products.appeal.sum(),
        )
        weights = rng.dirichlet(np.ones(n_favourites))
        tastes[index] = weights @ products.centers[favourites] + _noise(rng, 0.25)
    return customers, tastes, addresses, payments


def _order_times(rng: np.random.Generator, start: datetime) -> np.ndarray:
    """Seconds after `start` at which each order was placed (unsorted).

    Older orders follow growth, the Christmas season and the weekday; the last days before now
    get the fixed counts of `RECENT_ORDERS_PER_DAY`.
    """
    recent = sum(RECENT_ORDERS_PER_DAY.values())
    older_days = HISTORY_DAYS - len(RECENT_ORDERS_PER_DAY)
    weights = np.empty(older_days)
    for day in range(older_days):
        when = start.date() + timedelta(days=day)
        weight = 1.0 + YEARLY_GROWTH * day / 365
        if (when.month == 11 and when.day >= 20) or (when.month == 12 and when.day <= 20):
            weight *= 1.7
        elif when.month == 1:
            weight *= 0.8
        weight *= (1.1, 0.95, 0.95, 1.0, 0.9, 0.9, 1.15)[when.weekday()]
        weights[day] = weight
    days = rng.choice(older_days, size=N_ORDERS - recent, p=weights / weights.sum())
    recent_days = [HISTORY_DAYS - ago for ago, n in RECENT_ORDERS_PER_DAY.items() for _ in range(n)]
    days = np.concatenate([days, np.array(recent_days, dtype=days.dtype)])
    hours = np.asarray(HOUR_WEIGHTS)
    hour = rng.choice(24, size=len(days), p=hours / hours.sum())
    return days * DAY + hour * 3600 + rng.integers(0, 3600, size=len(days))


def _assign_orders(rng: np.random.Generator, n_orders: int) -> np.ndarray:
    """The customer of each order: everyone orders once, a few customers very often."""
    activity = rng.gamma(shape=0.35, scale=1.0, size=N_CUSTOMERS)
    extra = rng.multinomial(n_orders - N_CUSTOMERS, activity / activity.sum())
    owner = np.repeat(np.arange(N_CUSTOMERS), extra + 1)
    return rng.permutation(owner)


def _fill_baskets(
    rng: np.random.Generator,
    products: _Products,
    tastes: np.ndarray,
    placed: np.ndarray,
    owner: np.ndarray,
) -> list[list[tuple[int, int]]]:
    """The (product index, quantity) items of each order, following each customer's taste."""
    n_products = len(products.rows)
    rank = rng.permutation(n_products)
    popularity = 1.0 / (rank + 1.0) ** ZIPF_EXPONENT
    popularity /= popularity.sum()
    logits = tastes @ products.vectors.T / TASTE_TEMPERATURE + POPULARITY_WEIGHT * np.log(
        popularity
    )
    logits -= logits.max(axis=1, keepdims=True)
    taste = np.exp(logits)
    taste /= taste.sum(axis=1, keepdims=True)
    preference = (1 - EXPLORATION) * taste + EXPLORATION * popularity
    durable = ~products.consumable
    repeat_propensity = rng.beta(2.0, 5.0, size=N_CUSTOMERS)

    baskets: list[list[tuple[int, int]]] = [[] for _ in range(len(placed))]
    order_of_slots = np.lexsort((placed, owner))  # by customer, then time
    bought = np.zeros(n_products)
    current = -1
    for slot in order_of_slots:
        customer = int(owner[slot])
        if customer != current:
            current = customer
            bought[:] = 0
        n_items = int(_pick(rng, ITEMS_PER_ORDER))
        chosen: list[int] = []
        consumables_bought = np.flatnonzero((bought > 0) & products.consumable)
        if len(consumables_bought) and rng.random() < repeat_propensity[customer]:
            counts = bought[consumables_bought]
            chosen.append(int(rng.choice(consumables_bought, p=counts / counts.sum())))
        weights = preference[customer] * np.where((bought > 0) & durable, OWNED_PENALTY, 1.0)
        weights[chosen] = 0.0
        keys = np.log(weights + 1e-300) + rng.gumbel(size=n_products)
        for product in np.argsort(-keys)[: max(0, n_items - len(chosen))]:
            chosen.append(int(product))
        basket = []
        for product in chosen:
            spec = CONSUMABLE_QUANTITY if products.consumable[product] else QUANTITY
            quantity = int(_pick(rng, spec))
            basket.append((product, quantity))
            bought[product] += quantity
        baskets[slot] = basket
    return baskets


def _tracking_number(rng: np.random.Generator, carrier: str) -> str:
    def digits(n: int) -> str:
        return f"{int(rng.integers(0, 10**n)):0{n}d}"

    if carrier == "UPS":
        alphabet = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
        code = "".join(alphabet[int(i)] for i in rng.integers(len(alphabet), size=6))
        return f"1Z{code}68{digits(8)}"
    if carrier == "Royal Mail":
        letters = "".join(chr(65 + int(i)) for i in rng.integers(26, size=2))
        return f"{letters}{digits(9)}GB"
    if carrier == "DPD":
        return digits(14)
    return digits(10)


def _fulfilment(rng: np.random.Generator, placed_at: datetime, now: datetime) -> Row:
    """Status and shipping fields of an order placed at `placed_at`, as of `now`."""
    age = (now - placed_at).total_seconds()
    row: Row = {
        "status": "pending",
        "shipped_at": None,
        "delivered_at": None,
        "cancelled_at": None,
        "expected_delivery": None,
        "carrier": None,
        "tracking_number": None,
    }
    if age < PENDING_AGE:
        return row
    if rng.random() < CANCEL_RATE:
        delay = rng.uniform(600, min(30 * 3600, age - 60))
        row.update(status="cancelled", cancelled_at=placed_at + timedelta(seconds=int(delay)))
        return row
    if age < PROCESSING_AGE:
        row["status"] = "processing"
        return row
    shipped_at = placed_at + timedelta(seconds=int(rng.uniform(1.2 * DAY, 2.0 * DAY)))
    carrier = _pick(rng, CARRIERS)
    promised = (shipped_at + timedelta(days=int(rng.integers(2, 5)))).date()
    row.update(
        shipped_at=shipped_at,
        carrier=carrier,
        tracking_number=_tracking_number(rng, carrier),
        expected_delivery=promised,
    )
    if age < SHIPPED_AGE:
        row.update(status="shipped", expected_delivery=max(promised, now.date()))
        return row
    transit = timedelta(seconds=int(rng.uniform(0.8 * DAY, 4.0 * DAY)))
    row.update(status="delivered", delivered_at=shipped_at + transit)
    return row


def _build_returns(
    rng: np.random.Generator, orders: list[Row], now: datetime
) -> tuple[list[Row], list[Row]]:
    """Mark some delivered orders returned; make their return requests and refunds.

    About `RETURN_RATE` of delivered orders come back (received or refunded), and about
    `OPEN_RETURN_RATE` of them, delivered recently, have a return that is still open.
    """
    delivered = [i for i, order in enumerate(orders) if order["status"] == "delivered"]
    requests: list[tuple[datetime, Row, Row | None]] = []
    for index in delivered:
        order = orders[index]
        room = (now - order["delivered_at"]).total_seconds() / DAY
        if room < 8 or rng.random() >= RETURN_RATE:
            continue
        created_at = order["delivered_at"] + timedelta(days=rng.uniform(0.5, min(25, room - 6)))
        received_at = created_at + timedelta(days=rng.uniform(2, 5))
        order["status"] = "returned"
        refund: Row = {
            "order_index": index,
            "amount": order["total"],
            "status": "pending",
            "created_at": received_at,
            "issued_at": None,
        }
        issued_at = received_at + timedelta(days=rng.uniform(1, 10))
        if issued_at < now:
            refund.update(status="issued", issued_at=issued_at)
        request = {
            "order_index": index,
            "status": "refunded" if refund["status"] == "issued" else "received",
            "reason": RETURN_REASONS[int(rng.integers(len(RETURN_REASONS)))],
            "created_at": created_at,
        }
        requests.append((created_at, request, refund))

    window = now - timedelta(days=OPEN_RETURN_WINDOW_DAYS)
    recent = [
        i
        for i in delivered
        if orders[i]["status"] == "delivered"
        and window <= orders[i]["delivered_at"] < now - timedelta(days=1)
    ]
    n_open = min(len(recent), round(OPEN_RETURN_RATE * len(delivered)))
    for index in sorted(rng.choice(len(recent), size=n_open, replace=False)):
        order = orders[recent[int(index)]]
        room = (now - order["delivered_at"]).total_seconds() / DAY
        created_at = order["delivered_at"] + timedelta(days=rng.uniform(0.2, min(14, room - 0.1)))
        request = {
            "order_index": recent[int(index)],
            "status": "open",
            "reason": RETURN_REASONS[int(rng.integers(len(RETURN_REASONS)))],
            "created_at": created_at,
        }
        requests.append((created_at, request, None))

    requests.sort(key=lambda entry: (entry[0], entry[1]["order_index"]))
    returns: list[Row] = []
    refunds: list[Row] = []
    for return_index, (_, request, money_back) in enumerate(requests):
        request["number"] = f"R{FIRST_RETURN_NUMBER + return_index}"
        request["created_at"] = _whole_seconds(request["created_at"])
        returns.append(request)
        if money_back is not None:
            money_back["return_index"] = return_index
            money_back["created_at"] = _whole_seconds(money_back["created_at"])
            if money_back["issued_at"] is not None:
                money_back["issued_at"] = _whole_seconds(money_back["issued_at"])
            refunds.append(money_back)
    return returns, refunds


def _whole_seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _set_customer_created(
    rng: np.random.Generator, customers: list[Row], orders: list[Row], start: datetime
) -> None:
    """Sign-up time: up to 90 days before the first order, never before the history starts."""
    first_order: dict[int, datetime] = {}
    for order in orders:  # chronological, so the first seen is the first order
        first_order.setdefault(order["customer_index"], order["placed_at"])
    for index, customer in enumerate(customers):
        first = first_order[index]
        room = (first - start).total_seconds()
        gap = rng.random() * min(room, 90 * DAY)
        customer["created_at"] = first - timedelta(seconds=int(gap))


def _customers_by_age(customers: list[Row], orders: list[Row]) -> tuple[list[Row], list[Row]]:
    """Customers sorted by sign-up (so ids grow with time), orders pointing at the new order."""
    ranking = sorted(range(len(customers)), key=lambda i: (customers[i]["created_at"], i))
    new_index = {old: new for new, old in enumerate(ranking)}
    for order in orders:
        order["customer_index"] = new_index[order["customer_index"]]
    return [customers[i] for i in ranking], orders


def _count(session: Session, model: Any) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def _count_rows(session: Session) -> SeedSummary:
    return SeedSummary(
        products=_count(session, Product),
        customers=_count(session, Customer),
        orders=_count(session, Order),
        order_items=_count(session, OrderItem),
        returns=_count(session, ReturnRequest),
        refunds=_count(session, Refund),
        already_seeded=True,
    )


def insert_rows(
    session: Session,
    table: Table,
    rows: list[Row],
    stage: str,
    progress: Progress | None,
    chunk_size: int = CHUNK_SIZE,
) -> None:
    """Bulk-insert `rows` in chunks, reporting `progress(stage, done, total)` after each."""
    for offset in range(0, len(rows), chunk_size):
        chunk = rows[offset : offset + chunk_size]
        session.execute(insert(table), chunk)
        if progress is not None:
            progress(stage, offset + len(chunk), len(rows))


def _ids(session: Session, key_column: Any, id_column: Any, keys: list[str]) -> list[int]:
    """Database ids of freshly inserted rows, in the order of `keys`."""
    by_key = {key: id_ for key, id_ in session.execute(select(key_column, id_column))}
    return [by_key[key] for key in keys]


def _insert(session: Session, data: DemoData, progress: Progress | None) -> None:
    """Insert the rows parents first, letting the database assign ids (works on PostgreSQL too)."""
    insert_rows(session, Product.__table__, data.products, "products", progress)
    product_ids = _ids(session, Product.sku, Product.id, [row["sku"] for row in data.products])
    insert_rows(session, Customer.__table__, data.customers, "customers", progress)
    customer_ids = _ids(
        session, Customer.email, Customer.id, [row["email"] for row in data.customers]
    )

    orders = [
        {**_without(row, "customer_index"), "customer_id": customer_ids[row["customer_index"]]}
        for row in data.orders
    ]
    insert_rows(session, Order.__table__, orders, "orders", progress)
    order_ids = _ids(session, Order.number, Order.id, [row["number"] for row in data.orders])

    items = [
        {
            **_without(row, "order_index", "product_index"),
            "order_id": order_ids[row["order_index"]],
            "product_id": product_ids[row["product_index"]],
        }
        for row in data.order_items
    ]
    insert_rows(session, OrderItem.__table__, items, "order_items", progress)

    returns = [
        {**_without(row, "order_index"), "order_id": order_ids[row["order_index"]]}
        for row in data.return_requests
    ]
    insert_rows(session, ReturnRequest.__table__, returns, "returns", progress)
    return_ids = _ids(
        session,
        ReturnRequest.number,
        ReturnRequest.id,
        [row["number"] for row in data.return_requests],
    )
    refunds = [
        {
            **_without(row, "order_index", "return_index"),
            "order_id": order_ids[row["order_index"]],
            "return_id": return_ids[row["return_index"]],
        }
        for row in data.refunds
    ]
    insert_rows(session, Refund.__table__, refunds, "refunds", progress)


def _without(row: Row, *keys: str) -> Row:
    return {key: value for key, value in row.items() if key not in keys}
