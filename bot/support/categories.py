"""Which catalog category a customer means: "something for my dog" → Pet Supplies."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Words customers use for each category, besides the category's own name.
CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "Footwear": ("shoe", "shoes", "boots", "boot", "sneakers", "sandals", "slippers", "trainers"),
    "Clothing": ("clothes", "clothing", "jacket", "shirt", "jeans", "sweater", "leggings",
                 "coat", "fashion", "wear"),
    "Electronics": ("electronic", "gadget", "gadgets", "headphones", "earbuds", "speaker",
                    "charger", "watch", "tech"),
    "Home & Kitchen": ("home", "kitchen", "coffee", "cooking", "cook", "mug", "mugs"),
    "Beauty": ("beauty", "skincare", "skin", "serum", "hair", "cosmetics", "makeup"),
    "Sports & Outdoors": ("sport", "sports", "outdoor", "outdoors", "hiking", "hiker", "camping",
                          "yoga", "fitness", "gym", "running"),
    "Books & Stationery": ("book", "books", "stationery", "notebook", "pen", "desk", "office",
                           "writing"),
    "Toys & Games": ("toy", "toys", "game", "games", "kids", "children", "child", "puzzle"),
    "Pet Supplies": ("pet", "pets", "dog", "dogs", "cat", "cats", "puppy", "kitten"),
    "Garden": ("garden", "gardening", "plants", "plant", "lawn", "gardener"),
}  # fmt: skip

_WORD = re.compile(r"[a-z]+")


def find_category(text: str | None, categories: Iterable[str]) -> str | None:
    """The one category `text` names (by name or a word for it), or None if none or several."""
    if not text:
        return None
    words = set(_WORD.findall(text.lower()))
    found = set()
    for category in categories:
        own = set(_WORD.findall(category.lower())) - {"and"}
        if words & (own | set(CATEGORY_WORDS.get(category, ()))):
            found.add(category)
    return found.pop() if len(found) == 1 else None
