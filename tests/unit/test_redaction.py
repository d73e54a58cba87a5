"""Personal data masked in free text; order numbers, prices, dates and tracking codes kept."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.transcripts.redaction import (
    CARD_MASK,
    EMAIL_MASK,
    IBAN_MASK,
    PHONE_MASK,
    iban_valid,
    luhn_valid,
    redact,
)

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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to anna(at)example.com", "write to [email]"),
        ("anna (at) example (dot) com", "[email]"),
        ("anna [at] example [dot] com, thanks", "[email], thanks"),
        ("ANNA [AT] EXAMPLE [DOT] COM", "[email]"),
        ("anna{at}example{dot}de", "[email]"),
        ("anna <at> example.de", "[email]"),
        ("anna @ example.com", "[email]"),
        ("a@ maria.lopez@example.com", "a@ [email]"),
        ("anna at example dot com", "[email]"),
        ("write to anna.lopez at mail dot example dot co dot uk please", "write to [email] please"),
        ("Anna AT Example DOT de", "[email]"),
    ],
)
def test_disguised_email_addresses_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I bought it at shop.example.com",  # a plain "at" needs the domain spelled with "dot"
        "look at the dot in the corner",
        "we met at the cafe",
        "see you at the office dot",
        "I'll be there at 5 on the dot",
        "at least dot it",  # "it": an English word, not taken as a top-level domain
        "the kettle at 89.99 dot",
        "price @ 5.99",
        "write to anna@ example.com",  # a space on one side only: not taken
        "a community at example dot community",
    ],
)
def test_at_and_dot_in_ordinary_english_are_left_alone(text: str) -> None:
    assert redact(text) == text


def test_a_spelled_out_domain_after_at_is_masked_even_in_a_sentence() -> None:
    """Decided: "X at Y dot com" is masked wherever it stands; rare in ordinary English."""
    assert redact("I was at home dot com") == f"I {EMAIL_MASK}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DE89370400440532013000", "[iban]"),
        ("de89370400440532013000", "[iban]"),
        ("IBAN: DE89 3704 0044 0532 0130 00.", "IBAN: [iban]."),
        ("IBAN DE89-3704-0044-0532-0130-00", "IBAN [iban]"),
        ("IBAN:DE89370400440532013000,BIC COBADEFFXXX", "IBAN:[iban],BIC COBADEFFXXX"),
        ("GB29NWBK60161331926819", "[iban]"),
        ("NL91ABNA0417164300", "[iban]"),
        ("FR1420041010050500013M02606", "[iban]"),
        ("AT611904300234573201 and CH9300762011623852957", "[iban] and [iban]"),
        ("NO9386011117947", "[iban]"),
        ("DE00 1234 5678 9012 3456 78 (mistyped)", "[iban] (mistyped)"),
        ("DE89370400440532013000DE89370400440532013000", "[iban][iban]"),
        ("DE89370400440532013000 0170 1234567", "[iban] [phone]"),
    ],
)
def test_ibans_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "is20 apples and more bananas to eat now",  # a country, two digits, then words
        "XX89370400440532013000",  # no such country: the digits are still a number
        "AB123456789GB",
    ],
)
def test_what_only_looks_like_the_start_of_an_iban_is_not_one(text: str) -> None:
    assert IBAN_MASK not in redact(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("abc4111111111111111xyz", "abc[card]xyz"),
        ("card:4111-1111-1111-1111", "card:[card]"),
        ("card4111-1111-1111-1111", "card[card]"),
        ("4111 1111 1111 1111exp 12/28", "[card]exp 12/28"),
        ("visa:4111111111111111,cvc 123", "visa:[card],cvc 123"),
        ("Karte5500000000000004bitte", "Karte[card]bitte"),
        ("x2 0170 1234567", "x2 [phone]"),
        ("card4111111111111111 123", "card[card] 123"),
        ("card 1 4111111111111111xyz", "card 1 [card]xyz"),
    ],
)
def test_card_numbers_touching_letters_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ref ABC1234567890123XYZ",  # 16 digits against letters, not a card's check digit
        "JJD000390007123456",
        "UPS 1Z4X7A9B6812345678",
    ],
)
def test_digits_touching_letters_that_are_no_card_number_are_left_alone(text: str) -> None:
    assert redact(text) == text


def test_the_check_digits() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("DE89370400440532013000") and not iban_valid("DE00123456789012345678")


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


# --- Long and adversarial messages -------------------------------------------------------------

# Long runs of what the patterns read, none of it personal data by the rules above.
FILLERS = ["a", ".", "@", "a@", "-", "a.", "a at ", "x(at)", "[dot] ", "_", "(", "é", "a1", "de12"]
# Personal data and its mask, each written as the customer would.
PLANTED = st.sampled_from(
    [
        ("maria.lopez@example.com", EMAIL_MASK),
        ("anna(at)example.com", EMAIL_MASK),
        ("anna [at] example [dot] com", EMAIL_MASK),
        ("anna at example dot com", EMAIL_MASK),
        ("DE89370400440532013000", IBAN_MASK),
        ("GB29 NWBK 6016 1331 9268 19", IBAN_MASK),
        ("4111 1111 1111 1111", CARD_MASK),
        ("card4111111111111111", f"card{CARD_MASK}"),
        ("0170 1234567", PHONE_MASK),
        ("+49 170 1234567", PHONE_MASK),
    ]
)


@st.composite
def filler_and_separator(draw: st.DrawFn) -> tuple[str, str]:
    """A filler, and what stands between it and the personal data: a space, unless the
    filler has digits or what is typed between them (a space, "(", ".", "-"), which a space
    would join to a number next to them, as it joins two numbers."""
    filler = draw(st.sampled_from(FILLERS))
    joins = any(char.isdigit() or char in " ().-/+" for char in filler)
    separators = [" | "] if joins else [" ", "\n", " | "]
    return filler, draw(st.sampled_from(separators))


def _planted_message(
    filler: str, separator: str, repeat: int, cuts: list[int], planted: list[tuple[str, str]]
) -> tuple[str, str]:
    """The filler repeated, cut at `cuts`, with the personal data put in the cuts: the
    message, and what its redaction must be."""
    text = filler * repeat
    points = sorted({min(cut, len(text)) for cut in cuts})[: len(planted)]
    message, expected, start = [], [], 0
    for point, (data, mask) in zip(points, planted, strict=False):
        message += [text[start:point], f"{separator}{data}{separator}"]
        expected += [text[start:point], f"{separator}{mask}{separator}"]
        start = point
    return "".join(message) + text[start:], "".join(expected) + text[start:]


@PROPERTY
@given(
    filler=filler_and_separator(),
    repeat=st.integers(0, 20_000),
    cuts=st.lists(st.integers(0, 200_000), min_size=1, max_size=4),
    planted=st.lists(PLANTED, min_size=1, max_size=4),
)
def test_long_adversarial_text_is_kept_and_the_personal_data_in_it_masked(
    filler: tuple[str, str], repeat: int, cuts: list[int], planted: list[tuple[str, str]]
) -> None:
    message, expected = _planted_message(*filler, repeat, cuts, planted)
    assert redact(message) == expected


@pytest.mark.parametrize("filler", ["1 ", "1", "1-", "(1", "1.", "1/", "+1"])
@PROPERTY
@given(
    repeat=st.integers(0, 20_000),
    cut=st.integers(0, 100_000),
    planted=PLANTED,
)
def test_personal_data_in_long_runs_of_digits_never_survives(
    filler: str, repeat: int, cut: int, planted: tuple[str, str]
) -> None:
    """A run of digits is itself masked as numbers run together; what is planted in it too."""
    text = filler * repeat
    data = planted[0]
    redacted = redact(f"{text[:cut]} {data} {text[cut:]}")
    assert data not in redacted
    assert SIMPLE_EMAIL.search(redacted) is None


@PROPERTY
@given(
    parts=st.lists(
        st.tuples(st.sampled_from(FILLERS), st.integers(0, 3000)).map(lambda p: p[0] * p[1]),
        max_size=5,
    ),
    glue=st.sampled_from(["", " ", "@", ".", "1", " at ", " dot "]),
)
@example(parts=["a" * 5000, "@"], glue="")
@example(parts=["." * 5000], glue="")
@example(parts=["1 " * 5000], glue="")
@example(parts=["@" * 5000], glue="")
def test_redacting_long_mixed_text_twice_is_redacting_once(parts: list[str], glue: str) -> None:
    once = redact(glue.join(parts))
    assert redact(once) == once
