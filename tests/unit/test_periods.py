"""Periods in plain English: hand-computed ranges, comparison periods, and what is refused."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from bot.metrics.periods import (
    DEFAULT_PERIOD_TEXT,
    MAX_WINDOW_DAYS,
    Period,
    default_period,
    parse_period,
    parse_period_or_default,
)

MONDAY = date(2026, 11, 23)  # the demo's "today": a Monday
NEW_YEAR = date(2026, 1, 5)  # a Monday just after a year boundary


def dt(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day)


def parsed(text: str, today: date = MONDAY) -> Period:
    period = parse_period(text, today)
    assert period is not None, text
    return period


# (text, start, end exclusive, label) with today = 2026-11-23.
FORMS = [
    ("today", dt(2026, 11, 23), dt(2026, 11, 24), "today"),
    ("yesterday", dt(2026, 11, 22), dt(2026, 11, 23), "yesterday"),
    ("this week", dt(2026, 11, 23), dt(2026, 11, 24), "this week"),
    ("last week", dt(2026, 11, 16), dt(2026, 11, 23), "last week"),
    ("this month", dt(2026, 11, 1), dt(2026, 11, 24), "this month (November 2026)"),
    ("last month", dt(2026, 10, 1), dt(2026, 11, 1), "last month (October 2026)"),
    ("this quarter", dt(2026, 10, 1), dt(2026, 11, 24), "this quarter (Q4 2026)"),
    ("last quarter", dt(2026, 7, 1), dt(2026, 10, 1), "last quarter (Q3 2026)"),
    ("this year", dt(2026, 1, 1), dt(2026, 11, 24), "this year (2026)"),
    ("last year", dt(2025, 1, 1), dt(2026, 1, 1), "last year (2025)"),
    ("month to date", dt(2026, 11, 1), dt(2026, 11, 24), "this month (November 2026)"),
    ("YTD", dt(2026, 1, 1), dt(2026, 11, 24), "this year (2026)"),
    ("last 30 days", dt(2026, 10, 25), dt(2026, 11, 24), "last 30 days"),
    ("past 30 days", dt(2026, 10, 25), dt(2026, 11, 24), "last 30 days"),
    ("the last 7 days", dt(2026, 11, 17), dt(2026, 11, 24), "last 7 days"),
    ("last seven days", dt(2026, 11, 17), dt(2026, 11, 24), "last 7 days"),
    ("last two weeks", dt(2026, 11, 10), dt(2026, 11, 24), "last 2 weeks"),
    ("last 3 months", dt(2026, 8, 24), dt(2026, 11, 24), "last 3 months"),
    ("past week", dt(2026, 11, 17), dt(2026, 11, 24), "past week"),
    ("March", dt(2026, 3, 1), dt(2026, 4, 1), "March 2026"),
    ("in march", dt(2026, 3, 1), dt(2026, 4, 1), "March 2026"),
    ("March 2026", dt(2026, 3, 1), dt(2026, 4, 1), "March 2026"),
    ("Mar 2026", dt(2026, 3, 1), dt(2026, 4, 1), "March 2026"),
    ("march of 2025", dt(2025, 3, 1), dt(2025, 4, 1), "March 2025"),
    ("December", dt(2025, 12, 1), dt(2026, 1, 1), "December 2025"),
    ("November", dt(2026, 11, 1), dt(2026, 11, 24), "November 2026 (to date)"),
    ("in May", dt(2026, 5, 1), dt(2026, 6, 1), "May 2026"),
    ("Q3", dt(2026, 7, 1), dt(2026, 10, 1), "Q3 2026"),
    ("Q3 2026", dt(2026, 7, 1), dt(2026, 10, 1), "Q3 2026"),
    ("q1 2025", dt(2025, 1, 1), dt(2025, 4, 1), "Q1 2025"),
    ("Q4", dt(2026, 10, 1), dt(2026, 11, 24), "Q4 2026 (to date)"),
    ("the third quarter of 2025", dt(2025, 7, 1), dt(2025, 10, 1), "Q3 2025"),
    ("2025", dt(2025, 1, 1), dt(2026, 1, 1), "2025"),
    ("since 1 October", dt(2026, 10, 1), dt(2026, 11, 24), "since 1 October 2026"),
    ("since October 1", dt(2026, 10, 1), dt(2026, 11, 24), "since 1 October 2026"),
    ("since October 1st, 2026", dt(2026, 10, 1), dt(2026, 11, 24), "since 1 October 2026"),
    ("since 2026-10-01", dt(2026, 10, 1), dt(2026, 11, 24), "since 1 October 2026"),
    ("since March", dt(2026, 3, 1), dt(2026, 11, 24), "since 1 March 2026"),
    ("since 1 December", dt(2025, 12, 1), dt(2026, 11, 24), "since 1 December 2025"),
    ("since the start of last month", dt(2026, 10, 1), dt(2026, 11, 24), "since 1 October 2026"),
    ("on 1 October", dt(2026, 10, 1), dt(2026, 10, 2), "1 October 2026"),
]


@pytest.mark.parametrize(("text", "start", "end", "label"), FORMS, ids=[f[0] for f in FORMS])
def test_each_form(text: str, start: datetime, end: datetime, label: str) -> None:
    period = parsed(text)
    assert (period.start, period.end, period.label) == (start, end, label)


@pytest.mark.parametrize(
    "text",
    [
        "what's our NPS last month?",
        "NPS for the last month, please",
        "How did we do in last month's surveys",
        "during LAST MONTH.",
    ],
)
def test_phrase_found_anywhere_in_the_text(text: str) -> None:
    assert parsed(text).start == dt(2026, 10, 1)


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("last month", dt(2025, 12, 1), dt(2026, 1, 1), "last month (December 2025)"),
        ("last quarter", dt(2025, 10, 1), dt(2026, 1, 1), "last quarter (Q4 2025)"),
        ("last year", dt(2025, 1, 1), dt(2026, 1, 1), "last year (2025)"),
        ("this week", dt(2026, 1, 5), dt(2026, 1, 6), "this week"),
        ("last week", dt(2025, 12, 29), dt(2026, 1, 5), "last week"),
        ("this quarter", dt(2026, 1, 1), dt(2026, 1, 6), "this quarter (Q1 2026)"),
        ("last 7 days", dt(2025, 12, 30), dt(2026, 1, 6), "last 7 days"),
        ("November", dt(2025, 11, 1), dt(2025, 12, 1), "November 2025"),
        ("Q2", dt(2025, 4, 1), dt(2025, 7, 1), "Q2 2025"),
    ],
)
def test_across_the_year_boundary(text: str, start: datetime, end: datetime, label: str) -> None:
    period = parsed(text, NEW_YEAR)
    assert (period.start, period.end, period.label) == (start, end, label)


def test_week_starts_on_monday() -> None:
    sunday = date(2026, 11, 29)
    assert parsed("this week", sunday).start == dt(2026, 11, 23)
    assert parsed("this week", sunday).end == dt(2026, 11, 30)
    assert parsed("last week", sunday).start == dt(2026, 11, 16)


def test_last_month_from_march_31_is_all_of_february() -> None:
    period = parsed("last month", date(2026, 3, 31))
    assert (period.start, period.end) == (dt(2026, 2, 1), dt(2026, 3, 1))


def test_rolling_months_clamp_to_the_end_of_short_months() -> None:
    # Tomorrow is 31 March; one month back is 28 February, not 3 March.
    assert parsed("last 1 month", date(2026, 3, 30)).start == dt(2026, 2, 28)


# --- previous() ---------------------------------------------------------------------------


PREVIOUS = [
    ("today", dt(2026, 11, 22), dt(2026, 11, 23), "yesterday"),
    ("yesterday", dt(2026, 11, 21), dt(2026, 11, 22), "21 November 2026"),
    ("this week", dt(2026, 11, 16), dt(2026, 11, 23), "last week"),
    ("last week", dt(2026, 11, 9), dt(2026, 11, 16), "week of 9 November 2026"),
    ("this month", dt(2026, 10, 1), dt(2026, 11, 1), "October 2026"),
    ("last month", dt(2026, 9, 1), dt(2026, 10, 1), "September 2026"),
    ("this quarter", dt(2026, 7, 1), dt(2026, 10, 1), "Q3 2026"),
    ("last quarter", dt(2026, 4, 1), dt(2026, 7, 1), "Q2 2026"),
    ("this year", dt(2025, 1, 1), dt(2026, 1, 1), "2025"),
    ("last year", dt(2024, 1, 1), dt(2025, 1, 1), "2024"),
    ("March", dt(2026, 2, 1), dt(2026, 3, 1), "February 2026"),
    ("Q3 2026", dt(2026, 4, 1), dt(2026, 7, 1), "Q2 2026"),
    ("2025", dt(2024, 1, 1), dt(2025, 1, 1), "2024"),
    ("last 30 days", dt(2026, 9, 25), dt(2026, 10, 25), "previous 30 days"),
    ("last 2 weeks", dt(2026, 10, 27), dt(2026, 11, 10), "previous 2 weeks"),
    ("since 1 October", dt(2026, 8, 8), dt(2026, 10, 1), "previous 54 days"),
    ("on 1 October", dt(2026, 9, 30), dt(2026, 10, 1), "30 September 2026"),
]


@pytest.mark.parametrize(("text", "start", "end", "label"), PREVIOUS, ids=[p[0] for p in PREVIOUS])
def test_previous(text: str, start: datetime, end: datetime, label: str) -> None:
    previous = parsed(text).previous()
    assert (previous.start, previous.end, previous.label) == (start, end, label)


def test_previous_of_last_month_across_the_year_boundary() -> None:
    previous = parsed("last month", NEW_YEAR).previous()
    assert (previous.start, previous.end, previous.label) == (
        dt(2025, 11, 1),
        dt(2025, 12, 1),
        "November 2025",
    )


def test_windows_and_their_previous_have_equal_length() -> None:
    for text in ("last 30 days", "last 3 months", "since March", "past week"):
        period = parsed(text)
        assert period.previous().days == period.days
        assert period.previous().end == period.start


def test_calendar_previous_is_a_whole_period_even_when_this_one_is_not() -> None:
    this_month = parsed("this month")
    assert this_month.days == 23
    assert this_month.previous().days == 31


# --- Period itself ------------------------------------------------------------------------


def test_days() -> None:
    assert parsed("last 30 days").days == 30
    assert parsed("today").days == 1
    assert parsed("last month").days == 31


def test_contains_is_half_open() -> None:
    period = parsed("last month")
    assert period.contains(dt(2026, 10, 1))
    assert period.contains(datetime(2026, 10, 31, 23, 59, 59))
    assert not period.contains(dt(2026, 11, 1))
    assert not period.contains(datetime(2026, 9, 30, 23, 59, 59))


def test_contains_converts_aware_datetimes_to_utc() -> None:
    period = parsed("last month")
    plus_two = timezone(timedelta(hours=2))
    assert period.contains(datetime(2026, 11, 1, 1, 0, tzinfo=plus_two))  # 23:00 UTC on 31 Oct
    assert not period.contains(datetime(2026, 11, 1, 3, 0, tzinfo=plus_two))


def test_this_periods_contain_today_but_not_tomorrow() -> None:
    for text in ("today", "this week", "this month", "this quarter", "this year", "last 7 days"):
        period = parsed(text)
        assert period.contains(datetime(2026, 11, 23, 23, 59)), text
        assert not period.contains(dt(2026, 11, 24)), text


@pytest.mark.parametrize(
    ("start", "end", "kind"),
    [
        (dt(2026, 1, 2), dt(2026, 1, 1), "window"),  # ends before it starts
        (dt(2026, 1, 1), dt(2026, 1, 1), "window"),  # empty
        (dt(2026, 11, 15), dt(2026, 12, 1), "month"),  # a month that starts mid-month
        (dt(2026, 11, 24), dt(2026, 11, 30), "week"),  # a week that starts on a Tuesday
    ],
)
def test_invalid_periods_are_refused(start: datetime, end: datetime, kind: str) -> None:
    with pytest.raises(ValueError):
        Period(start, end, "bad", kind)  # type: ignore[arg-type]


def test_aware_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        Period(datetime(2026, 1, 1, tzinfo=timezone.utc), dt(2026, 1, 2), "bad")


# --- nonsense and absence -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "last 0 days",
        "last zero days",
        "last 100000 days",
        f"last {MAX_WINDOW_DAYS + 1} days",
        "last 1000 weeks",
        "last 9999999999999999999999 days",
        "since 1 December 2026",  # in the future
        "since 2027-01-01",
        "since tomorrow's date 2026-11-24",
        "Q1 2027",
        "December 2026",
        "2027",
        "since 2026-02-30",  # no such date
        "on 31 April 2026",
        "since 1/10/2026",  # day/month order is ambiguous
    ],
)
def test_nonsense_is_refused(text: str) -> None:
    assert parse_period(text, MONDAY) is None


def test_the_longest_window_allowed() -> None:
    assert parsed(f"last {MAX_WINDOW_DAYS} days").days == MAX_WINDOW_DAYS


@pytest.mark.parametrize(
    "text",
    [
        "",
        "how are we doing?",
        "what's our NPS",
        "May I see the CSAT?",
        "top 10 topics",
        "order 12345",
    ],
)
def test_no_period(text: str) -> None:
    assert parse_period(text, MONDAY) is None


def test_the_first_phrase_wins() -> None:
    assert parsed("last month compared with this month").label == "last month (October 2026)"


def test_since_takes_precedence_over_the_date_inside_it() -> None:
    assert parsed("since last week").label == "since 16 November 2026"


# --- defaults -----------------------------------------------------------------------------


def test_default_period_is_the_default_text() -> None:
    assert default_period(MONDAY) == parsed(DEFAULT_PERIOD_TEXT)
    assert default_period(MONDAY).label == "last 30 days"


@pytest.mark.parametrize("text", [None, "", "how are we doing?", "last 0 days"])
def test_parse_period_or_default_falls_back(text: str | None) -> None:
    assert parse_period_or_default(text, MONDAY) == default_period(MONDAY)


def test_parse_period_or_default_uses_the_text() -> None:
    assert parse_period_or_default("Q3", MONDAY) == parsed("Q3")
