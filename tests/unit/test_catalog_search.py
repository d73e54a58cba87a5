import pytest

from bot.demo.catalog import product_lines
from bot.support.catalog_search import CatalogEntry, ProductMatcher


@pytest.fixture(scope="module")
def matcher() -> ProductMatcher:
    entries = []
    for line in product_lines():
        for variant in line.variants:
            entries.append(CatalogEntry(len(entries), f"{line.name} - {variant}", line.name))
    return ProductMatcher(entries)


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("tell me about the espresso machine", "Barista Espresso Machine"),
        ("Expresso machine", "Barista Espresso Machine"),
        ("trail runing shoes", "Trailrunner Running Shoes"),
        ("do you have the Aurora smartwatch", "Aurora Smart Watch"),
        ("headphones", "Quiet Noise-Cancelling Headphones"),
        ("is the power bank in stock", "Volt Power Bank"),
        ("cast iron", "Chef Cast Iron Skillet"),
    ],
)
def test_partial_names_and_typos_find_the_product(matcher, typed, expected):
    match, _ = matcher.best(typed, threshold=0.6)
    assert match is not None and match.group == expected


def test_a_named_variant_comes_first(matcher):
    match, _ = matcher.best("noise cancelling headphones in white", threshold=0.6)
    assert match is not None
    assert [k % 4 for k in match.keys][0] == 1  # "White" is the second variant


def test_ambiguous_words_ask_back(matcher):
    match, candidates = matcher.best("yoga", threshold=0.6)
    assert match is None
    assert {c.group for c in candidates} == {"Zen Yoga Mat", "Flex Yoga Leggings"}


def test_unrelated_text_matches_nothing(matcher):
    assert matcher.best("what is the weather like", threshold=0.6) == (None, [])
    assert matcher.best("", threshold=0.6) == (None, [])
