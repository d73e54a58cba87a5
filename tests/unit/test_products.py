from dataclasses import dataclass
from decimal import Decimal

from bot.support.products import describe_product_line


@dataclass
class P:
    name: str
    price: Decimal
    stock: int
    description: str


def test_description_lists_every_variant_once():
    variants = [
        P("Zen Yoga Mat - Green", Decimal("39.00"), 0, "6 mm non-slip yoga mat. Colour: Green."),
        P("Zen Yoga Mat - Blue", Decimal("41.00"), 3, "6 mm non-slip yoga mat. Colour: Blue."),
        P("Zen Yoga Mat - Orange", Decimal("39.00"), 40, "6 mm non-slip yoga mat. Colour: Orange."),
    ]
    assert describe_product_line("Zen Yoga Mat", variants) == (
        "Zen Yoga Mat — 6 mm non-slip yoga mat. From 39.00 EUR. "
        "Green: out of stock; Blue: only 3 left; Orange: in stock."
    )


def test_one_price_is_shown_as_is():
    variants = [P("Plush Bear - Classic", Decimal("21.00"), 9, "Soft plush bear.")]
    assert describe_product_line("Plush Bear", variants) == (
        "Plush Bear — Soft plush bear. 21.00 EUR. Classic: in stock."
    )
