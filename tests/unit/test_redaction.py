"""Personal data masked in free text; order numbers, prices, dates and tracking codes kept."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.transcripts.redaction import CARD_MASK, EMAIL_MASK, PHONE_MASK, redact

PROPERTY = settings(max_examples=100, deadline=None, database=None)

# What anyone would call an email address.
SIMPLE_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


# --- Each mask ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me at maria.lopez@example.com", "mail me at [email]"),
        ("Maria.Lopez@Example.COM", "[email]"),
        ("j.doe+shop@mail.example.co.uk, thanks", "[email], thanks"),
        ("a@b.de or c-d@e-f.org", "[email] or [email]"),
        ("john_doe@example.com", "[email]"),
        ("(maria@example.com)", "([email])"),
        ("write to 104233@orders.example.com", "write to [email]"),
    ],
)
def test_email_addresses_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call me on 0170 1234567", "call me on [phone]"),
        ("call me on +49 170 1234567 please", "call me on [phone] please"),
        ("tel: (030) 1234-5678", "tel: [phone]"),
        ("030/12345678", "[phone]"),
        ("0170.123.4567", "[phone]"),
        ("12345678", "[phone]"),  # 8 digits, the shortest phone number
        ("123456789012", "[phone]"),  # 12 digits, the longest
        ("+44 20 7946 0958.", "[phone]."),
    ],
)
def test_phone_numbers_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4111 1111 1111 1111", "card [card]"),
        ("4111-1111-1111-1111 was charged twice", "[card] was charged twice"),
        ("4111111111111111", "[card]"),
        ("my amex 3782 822463 10005", "my amex [card]"),
        ("1234567890123", "[card]"),  # 13 digits, the shortest card number
        ("1234567890123456789", "[card]"),  # 19 digits, the longest
        ("4111 1111 1111 1112 (mistyped)", "[card] (mistyped)"),
    ],
)
def test_card_numbers_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_all_masks_in_one_message() -> None:
    text = "I'm jane@example.com, phone 0170 1234567, card 4111 1111 1111 1111."
    assert redact(text) == f"I'm {EMAIL_MASK}, phone {PHONE_MASK}, card {CARD_MASK}."


# --- Left alone --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "where is order 104233?",  # order numbers: six digits
        "order #104233 and #104234",
        "order no. 104 233",
        "it cost 89.99",  # prices
        "€1,299.99 is too much",
        "paid 1299.99 EUR",
        "delivered on 2026-11-01",  # dates
        "delivered on 01.11.2026",
        "from 01.11.2026 to 05.11.2026",
        "1/11/2026",
        "UPS 1Z4X7A9B6812345678",  # tracking codes as the shop's carriers print them
        "Royal Mail AB123456789GB",
        "JJD000390007123456",
        "1234567",  # seven digits are not a phone number
        "call 555-1234",
        "no personal data here",
        "",
    ],
)
def test_order_numbers_prices_dates_and_tracking_codes_are_left_alone(text: str) -> None:
    assert redact(text) == text


def test_nothing_is_an_empty_string() -> None:
    assert redact(None) == ""
    assert redact("") == ""


# --- Known problems ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        pytest.param(
            "card 4111 1111 1111 1111 12/28",
            "4111",
            id="card-with-expiry",
        ),
        pytest.param(
            "4111111111111111 123",
            "4111",
            id="card-with-cvv",  # 19 digits: still masked
        ),
        pytest.param(
            "reach me on 0170 1234567 / 0171 7654321",
            "1234567",
            id="two-phones",
        ),
        pytest.param(
            "write to info@müller-shop.de",
            "müller-shop",
            id="idn-email",
        ),
        pytest.param(
            "write to josé@example.com",
            "@example.com",
            id="accented-email",
        ),
    ],
)
def test_personal_data_next_to_other_data_is_still_masked(text: str, leaked: str) -> None:
    assert leaked not in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "delivered 2026-11-01 10:30",
            id="date-and-time",
        ),
        pytest.param(
            "order 104233 (89.99 EUR) arrived broken",
            id="order-and-price",
        ),
        pytest.param(
            "on 01.11.2026 89.99 EUR",
            id="date-and-price",
        ),
    ],
)
def test_other_data_next_to_each_other_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_numeric_tracking_numbers_are_masked_like_any_long_number() -> None:
    """Decided: a long digit run is masked even when it is a parcel number (privacy first)."""
    assert redact("DPD 01234567890123") == "DPD [card]"
    assert redact("DHL 0123456789") == "DHL [phone]"
    assert redact("UPS 1Z999AA10123456784") == "UPS 1Z999AA10123456784"


def test_redacting_a_phone_number_glued_to_a_date_twice() -> None:
    once = redact("0170 1234567+2026-11-01")
    assert redact(once) == once


# --- Properties --------------------------------------------------------------------------------

SIMPLE_ADDRESSES = st.builds(
    "{}@{}.{}".format,
    st.text(string.ascii_letters + string.digits + "._%+-", min_size=1, max_size=10),
    st.lists(
        st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=8),
        min_size=1,
        max_size=3,
    ).map(".".join),
    st.text(string.ascii_letters, min_size=2, max_size=6),
)
FRAGMENTS = st.one_of(
    st.sampled_from(
        [
            "maria.lopez@example.com",
            "a@b.de",
            "0170 1234567",
            "+49 170 1234567",
            "(030) 1234-5678",
            "4111 1111 1111 1111",
            "104233",
            "89.99",
            "2026-11-01",
            "01.11.2026",
            "1Z4X7A9B6812345678",
            "order",
            "thanks",
        ]
    ),
    st.integers(0, 10**20).map(str),
    SIMPLE_ADDRESSES,
    st.text(alphabet="0123456789 ()./-@abcxyz", max_size=12),
    st.text(max_size=12),
)
# Not "+": see test_redacting_a_phone_number_glued_to_a_date_twice.
SEPARATORS = st.sampled_from(["", " ", "  ", ", ", ". ", "/", "-", "(", ")", ": ", "\n", "@", "_"])
MESSAGES = st.one_of(
    st.text(),
    st.lists(st.tuples(FRAGMENTS, SEPARATORS), max_size=6).map(
        lambda parts: "".join(a + b for a, b in parts)
    ),
)


@PROPERTY
@given(text=MESSAGES)
@example(text="maria.lopez@example.com 0170 1234567 4111 1111 1111 1111")
@example(text="a@b.cc@d.ee")
@example(text="x@y.zz.w@v.uu")
@example(text="me@example.com12345678")
def test_redacting_twice_is_redacting_once(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


@PROPERTY
@given(
    before=st.text(max_size=20),
    address=st.one_of(st.emails(), SIMPLE_ADDRESSES),
    after=st.one_of(st.text(max_size=20), SEPARATORS),
)
def test_an_email_address_never_survives(before: str, address: str, after: str) -> None:
    # A separator keeps the address from merging with the generated text around it.
    redacted = redact(f"{before} {address} {after}")
    assert SIMPLE_EMAIL.search(redacted) is None


@PROPERTY
@given(text=MESSAGES)
def test_no_simple_email_address_in_any_redacted_message(text: str) -> None:
    assert SIMPLE_EMAIL.search(redact(text)) is None
