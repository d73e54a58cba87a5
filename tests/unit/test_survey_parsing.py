"""Typed survey answers: what is a score, what is a "no thanks", and what must be re-asked."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.survey.parsing import (
    MAX_ANSWER_LENGTH,
    AnswerKind,
    ScoreAnswer,
    is_decline,
    parse_csat,
    parse_nps,
    parse_score,
)

SCORE, DECLINED, INVALID = AnswerKind.SCORE, AnswerKind.DECLINED, AnswerKind.INVALID

# Modest and deterministic enough for a unit suite; no example database written to the repo.
PROPERTY = settings(max_examples=100, deadline=None, database=None)

# (parser, low, high) for both questions the survey asks.
SCALES = [
    pytest.param(parse_nps, 0, 10, id="nps"),
    pytest.param(parse_csat, 1, 5, id="csat"),
]

NUMBER_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
]
STAR_CHARACTERS = ["⭐", "⭐\ufe0f", "★", "🌟"]


def assert_invalid(answer: ScoreAnswer) -> None:
    assert answer.kind is INVALID
    assert answer.value is None
    assert not answer.is_score
    # A short reason the bot can show when it re-asks.
    assert answer.problem
    assert len(answer.problem) <= 80


# --- The examples of the product spec ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9", 9),
        ("nine", 9),
        ("Nine", 9),
        ("8/10", 8),
        ("8 / 10", 8),
        ("9 out of 10", 9),
        ("ten out of ten", 10),
        ("5 stars", 5),
        ("⭐⭐⭐⭐", 4),
        ("10!!", 10),
        ("0", 0),
        ("10", 10),
        ("  7  ", 7),
    ],
)
def test_nps_answers_that_are_understood(text: str, expected: int) -> None:
    answer = parse_nps(text)
    assert answer == ScoreAnswer(SCORE, expected)
    assert answer.is_score


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4 out of 5", 4),
        ("4/5", 4),
        ("four out of five", 4),
        ("5 stars", 5),
        ("1 star", 1),
        ("⭐⭐⭐⭐", 4),
        ("⭐️⭐️⭐️", 3),  # with the emoji variation selector phones add
        ("★★", 2),
        ("3", 3),
        ("five", 5),
        ("5!!", 5),
        ("1", 1),
    ],
)
def test_csat_answers_that_are_understood(text: str, expected: int) -> None:
    answer = parse_csat(text)
    assert answer == ScoreAnswer(SCORE, expected)


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (parse_nps, "11"),
        (parse_nps, "-2"),
        (parse_nps, "100"),
        (parse_nps, "eleven"),
        (parse_nps, "one hundred"),
        (parse_nps, "11/10"),
        (parse_nps, "4 out of 5"),  # the NPS scale is 0-10
        (parse_csat, "0"),
        (parse_csat, "11"),
        (parse_csat, "-2"),
        (parse_csat, "6"),
        (parse_csat, "8/10"),  # the CSAT scale is 1-5
        (parse_csat, "⭐⭐⭐⭐⭐⭐"),
        (parse_csat, "0 stars"),
    ],
)
def test_out_of_range_answers_are_invalid(parse, text: str) -> None:
    assert_invalid(parse(text))


@pytest.mark.parametrize("parse", [parse_nps, parse_csat])
@pytest.mark.parametrize(
    "text",
    [
        "3 or 4",
        "7 or 8",  # ambiguous
        "3-4",
        "three or four",
        "3 or four",
        "3/5 or 4/5",
        "4 stars, maybe 3",
        "⭐⭐⭐ 4",
        "great",  # words
        "very good",
        "",  # empty
        "   ",
        "\n\t",
        "3" + " thanks" * 40,  # very long
        "<b>3</b>",  # markup
        "<script>alert(1)</script>",
        "3 <br>",
        "3.5",  # not a whole number
        "3,5",
    ],
)
def test_anything_else_is_invalid_with_a_short_reason(parse, text: str) -> None:
    assert_invalid(parse(text))


@pytest.mark.parametrize("parse", [parse_nps, parse_csat])
def test_no_answer_at_all_is_invalid(parse) -> None:
    assert_invalid(parse(None))


@pytest.mark.parametrize("parse", [parse_nps, parse_csat])
@pytest.mark.parametrize(
    "text",
    ["no thanks", "No thanks!", "skip", "Skip it", "not now", "bye", "Bye.", "nope", "no"],
)
def test_declines(parse, text: str) -> None:
    assert is_decline(text)
    assert parse(text) == ScoreAnswer(DECLINED)


@pytest.mark.parametrize("text", ["9", "no, 9", "not bad", "skipping breakfast", "great", ""])
def test_not_declines(text: str) -> None:
    assert not is_decline(text)


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (parse_nps, "I'd definitely recommend this one!"),
        (parse_nps, "none of your business"),
        (parse_csat, "Very happy with this one"),
    ],
)
def test_words_containing_number_words_are_not_scores(parse, text: str) -> None:
    assert parse(text).kind is not SCORE


@pytest.mark.parametrize(
    ("parse", "text", "expected"),
    [
        (parse_nps, "8/10.", 8),
        (parse_nps, "9 out of 10.", 9),
        (parse_nps, "I'd give it 7/10.", 7),
        (parse_csat, "4 out of 5.", 4),
        (parse_csat, "4/5.", 4),
    ],
)
def test_a_fraction_at_the_end_of_a_sentence(parse, text: str, expected: int) -> None:
    assert parse(text) == ScoreAnswer(SCORE, expected)


# --- Properties --------------------------------------------------------------------------------


@pytest.mark.parametrize(("parse", "low", "high"), SCALES)
@PROPERTY
@given(
    data=st.data(),
    before=st.text(alphabet=" ", max_size=3),
    after=st.text(alphabet=" ", max_size=3),
    trailing=st.text(alphabet="!.", max_size=3),
)
def test_every_score_in_range_typed_as_digits_is_itself(
    parse, low: int, high: int, data, before: str, after: str, trailing: str
) -> None:
    value = data.draw(st.integers(low, high))
    assert parse(f"{before}{value}{trailing}{after}") == ScoreAnswer(SCORE, value)


@pytest.mark.parametrize(("parse", "low", "high"), SCALES)
@PROPERTY
@given(data=st.data(), trailing=st.text(alphabet="!.", max_size=2))
def test_every_number_out_of_range_is_invalid(parse, low: int, high: int, data, trailing) -> None:
    value = data.draw(st.one_of(st.integers(max_value=low - 1), st.integers(min_value=high + 1)))
    assert_invalid(parse(f"{value}{trailing}"))


@PROPERTY
@given(
    value=st.integers(0, 10),
    template=st.sampled_from(["{}/10", "{} / 10", "{}/10!", "{} out of 10", "{} out of 10!!"]),
)
def test_nps_given_as_a_fraction_of_ten(value: int, template: str) -> None:
    assert parse_nps(template.format(value)) == ScoreAnswer(SCORE, value)


@PROPERTY
@given(
    value=st.integers(1, 5),
    template=st.sampled_from(
        ["{} out of 5", "{} out of 5!", "{}/5", "{} of 5", "{} out of 5 stars"]
    ),
)
def test_csat_given_as_a_fraction_of_five(value: int, template: str) -> None:
    assert parse_csat(template.format(value)) == ScoreAnswer(SCORE, value)


@PROPERTY
@given(stars=st.lists(st.sampled_from(STAR_CHARACTERS), min_size=1, max_size=12))
def test_k_star_emojis_are_k_for_csat(stars: list[str]) -> None:
    answer = parse_csat("".join(stars))
    if len(stars) <= 5:
        assert answer == ScoreAnswer(SCORE, len(stars))
    else:
        assert_invalid(answer)


@pytest.mark.parametrize(("parse", "low", "high"), SCALES)
@PROPERTY
@given(text=st.text())
def test_arbitrary_text_never_raises_and_scores_stay_in_range(
    parse, low: int, high: int, text: str
) -> None:
    answer = parse(text)
    assert isinstance(answer, ScoreAnswer)
    if answer.kind is SCORE:
        assert answer.value is not None
        assert low <= answer.value <= high
        assert answer.problem is None
    elif answer.kind is INVALID:
        assert answer.value is None
        assert answer.problem
    else:
        assert answer.value is None


@PROPERTY
@given(low=st.integers(-5, 5), width=st.integers(0, 20), text=st.text(max_size=40))
def test_any_scale_keeps_scores_within_it(low: int, width: int, text: str) -> None:
    answer = parse_score(text, low, low + width)
    if answer.kind is SCORE:
        assert answer.value is not None
        assert low <= answer.value <= low + width


def _spelled(value: int, as_word: bool) -> str:
    return NUMBER_WORDS[value] if as_word else str(value)


@pytest.mark.parametrize(("parse", "low", "high"), SCALES)
@PROPERTY
@given(
    data=st.data(),
    words=st.tuples(st.booleans(), st.booleans()),
    # Not "/" or "of": "4/5" and "4 of 5" are one score given with its scale.
    separator=st.sampled_from(
        [" ", " or ", ", ", " - ", "-", " to ", " and ", " or maybe ", "... ", "? ", " no, "]
    ),
    prefix=st.sampled_from(["", "maybe ", "I'd say ", "hmm "]),
)
def test_two_different_scores_in_one_answer_are_invalid(
    parse, low: int, high: int, data, words, separator: str, prefix: str
) -> None:
    first, second = data.draw(st.lists(st.integers(low, high), min_size=2, max_size=2, unique=True))
    text = f"{prefix}{_spelled(first, words[0])}{separator}{_spelled(second, words[1])}"
    assert_invalid(parse(text))


@pytest.mark.parametrize(("parse", "low", "high"), SCALES)
@PROPERTY
@given(data=st.data(), filler=st.sampled_from([" ", "!", ".", " thanks", "x"]))
def test_answers_longer_than_200_characters_are_invalid(
    parse, low: int, high: int, data, filler: str
) -> None:
    value = data.draw(st.integers(low, high))
    text = str(value)
    while len(text) <= MAX_ANSWER_LENGTH:
        text += filler
    answer = parse(text)
    assert_invalid(answer)


@PROPERTY
@given(text=st.text(min_size=MAX_ANSWER_LENGTH + 1, max_size=MAX_ANSWER_LENGTH + 100))
def test_any_text_longer_than_200_characters_is_invalid(text: str) -> None:
    assert_invalid(parse_nps(text))
    assert_invalid(parse_csat(text))


HTML_TAG = st.builds(
    "<{}{}{}{}>".format,
    st.sampled_from(["", "/", " ", "/ "]),
    st.sampled_from(["b", "i", "a", "p", "br", "script", "img", "DIV", "h1", "span", "x"]),
    st.sampled_from(["", ' class="x"', " href='/9'", " id=9", ' style="color:red"']),
    st.sampled_from(["", " ", "/", " /"]),
)


@PROPERTY
@given(
    before=st.text(max_size=20),
    tag=HTML_TAG,
    after=st.sampled_from(["", "9", "4", "nine", " 9 out of 10", "⭐⭐⭐", "</b>"]),
)
def test_any_text_with_an_html_tag_is_invalid(before: str, tag: str, after: str) -> None:
    text = f"{before}{tag}{after}"
    assert_invalid(parse_nps(text))
    assert_invalid(parse_csat(text))
