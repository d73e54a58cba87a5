"""Which of the bot's buttons a typed answer picks."""

from __future__ import annotations

import json

import pytest

from bot.support.choices import SLOT, as_choices, offered_before, parse_payload, pick

CATEGORIES = [
    {"title": c, "payload": "/ask_recommendation" + json.dumps({"category": c})}
    for c in ["Footwear", "Home & Kitchen", "Sports & Outdoors", "Books & Stationery", "Garden"]
]
PRODUCTS = [
    {"title": f"Tell me about {p}", "payload": "/product_info" + json.dumps({"product": p})}
    for p in ["Zen Yoga Mat", "Trailrunner Running Shoes", "Ember Sleeping Bag"]
]
ORDERS = [
    {"title": "100004 · Trailrunner Running Shoes · delivered", "payload": "100004"},
    {"title": "100003 · Zen Yoga Mat · shipped", "payload": "100003"},
]


def title(choice):
    return choice["title"] if choice else None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sports", "Sports & Outdoors"),
        ("Kitchen", "Home & Kitchen"),
        ("books please", "Books & Stationery"),
        ("something for the garden", "Garden"),
        ("shoes", "Footwear"),
        ("the second one", "Home & Kitchen"),
        ("the last one", "Garden"),
        ("number 3", "Sports & Outdoors"),
    ],
)
def test_a_typed_category(text, expected):
    assert title(pick(text, CATEGORIES)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the first one", "Tell me about Zen Yoga Mat"),
        ("the yoga mat", "Tell me about Zen Yoga Mat"),
        ("is the sleeping bag warm?", "Tell me about Ember Sleeping Bag"),
        ("I'll take the 2nd", "Tell me about Trailrunner Running Shoes"),
    ],
)
def test_a_typed_product(text, expected):
    assert title(pick(text, PRODUCTS)) == expected


def test_a_typed_order():
    assert pick("the shipped one", ORDERS)["payload"] == "100003"
    assert pick("the second", ORDERS)["payload"] == "100003"
    assert pick("the one with the shoes", ORDERS)["payload"] == "100004"


@pytest.mark.parametrize(
    "text",
    [
        "where is my order with the shoes?",  # a question about an order, not Footwear
        "what did I order last week",
        "the sixth one",  # there is no sixth
        "yes",
        "no",
        "hello",
        "",
        '/ask_recommendation{"category": "Garden"}',  # a pressed button is no typed answer
        "shoes or something for the garden",  # two of them
    ],
)
def test_what_picks_no_category(text):
    assert pick(text, CATEGORIES) is None


def test_nothing_offered_nothing_picked():
    assert pick("the first one", []) is None


def test_payloads():
    assert parse_payload('/ask_recommendation{"category": "Garden"}') == (
        "ask_recommendation",
        {"category": "Garden"},
    )
    assert parse_payload("/affirm") == ("affirm", {})
    assert parse_payload("100003") == (None, {})
    assert parse_payload("/product_info{not json") == ("product_info", {})


def user(text):
    return {"event": "user", "text": text}


def offer(choices):
    return {"event": "slot", "name": SLOT, "value": choices}


def test_only_the_offer_just_before_the_latest_message_counts():
    events = [user("recommend something"), offer(CATEGORIES), user("sports")]
    assert offered_before(events) == CATEGORIES
    # After the answer, a new offer is for the next message, not for this one.
    assert offered_before([*events, offer(PRODUCTS)]) == CATEGORIES
    # One message later the old buttons are no offer any more.
    assert offered_before([*events, {"event": "action", "name": "x"}, user("thanks")]) == []
    assert offered_before([user("hi")]) == []


def test_as_choices_keeps_titles_and_payloads():
    assert as_choices([{"title": "Garden", "payload": "/x", "extra": 1}]) == [
        {"title": "Garden", "payload": "/x"}
    ]
