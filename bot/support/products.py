"""How the assistant describes a product line and its variants."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

VARIANT_SEPARATOR = " - "


def line_of(name: str) -> str:
    """The product line of a catalog name: "Zen Yoga Mat - Green" → "Zen Yoga Mat"."""
    return name.split(VARIANT_SEPARATOR, 1)[0]


def variant_of(name: str) -> str:
    """The variant of a catalog name: "Zen Yoga Mat - Green" → "Green"."""
    return name.split(VARIANT_SEPARATOR, 1)[-1]


class ProductLike(Protocol):
    name: str
    price: object
    stock: int
    description: str


def describe_product_line(line: str, variants: Sequence[ProductLike]) -> str:
    """One message: what the product is, its price, and which variants are in stock.

    `variants` come best match first; when the customer named a variant, it is described first.
    """
    if not variants:
        return f"I couldn't find {line} in our catalog."
    first = variants[0]
    # A variant's description ends with its own variant ("Colour: Black."); all are listed below.
    variant_of_first = variant_of(first.name)
    description = first.description
    if description.endswith(f": {variant_of_first}."):
        description = description.rsplit(". ", 1)[0] + "."
    prices = sorted({float(str(v.price)) for v in variants})
    price = f"{prices[0]:.2f} EUR" if len(prices) == 1 else f"From {prices[0]:.2f} EUR"

    def state(v: ProductLike) -> str:
        variant = variant_of(v.name)
        if v.stock == 0:
            return f"{variant}: out of stock"
        if v.stock < 5:
            return f"{variant}: only {v.stock} left"
        return f"{variant}: in stock"

    return f"{line} — {description} {price}. " + "; ".join(state(v) for v in variants) + "."
