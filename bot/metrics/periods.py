"""Periods in plain English: "last month", "Q3", "since 1 October", "the last 7 days".

A `Period` is a half-open range of naive datetimes, UTC implied: `start <= t < end`.
Periods that run up to now ("this month", "last 30 days", "since March", "2026" in 2026)
end at the end of today, i.e. tomorrow 00:00, so their length is the part that has passed.
Weeks start on Monday. Pure: no I/O, no clock; the caller passes `today`.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import partial
from typing import Final, Literal

PeriodKind = Literal["day", "week", "month", "quarter", "year", "window"]
"""A calendar unit, or "window" for rolling windows and "since <date>"."""

DEFAULT_PERIOD_TEXT: Final = "last 30 days"

MAX_WINDOW_DAYS: Final = 3660
"""Rolling windows longer than this (about ten years) are refused: "last 100000 days" is None."""

MONTH_NAMES: Final = tuple(calendar.month_name[1:])

_ONE_DAY: Final = timedelta(days=1)
_CALENDAR_KINDS: Final[dict[str, PeriodKind]] = {
    "day": "day", "week": "week", "month": "month", "quarter": "quarter", "year": "year",
}  # fmt: skip
# The comparison period of a period relative to today, where a relative name is the clearest.
_RELATIVE_PREVIOUS: Final = {"today": "yesterday", "this week": "last week"}


@dataclass(frozen=True)
class Period:
    """A half-open range of naive UTC datetimes with a label for people.

    Attributes:
        start: The first moment in the period.
        end: The first moment after the period (exclusive).
        label: E.g. "last 30 days", "this month (November 2026)", "Q3 2026".
        kind: The calendar unit the period starts on ("day" ... "year"), or "window" for
            rolling windows and "since <date>". Decides what `previous()` returns.
    """

    start: datetime
    end: datetime
    label: str
    kind: PeriodKind = "window"

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("Period takes naive datetimes (UTC implied)")
        if self.end <= self.start:
            raise ValueError(f"Period must end after it starts: {self.start} to {self.end}")
        if self.kind != "window" and self.start != _midnight(
            _unit_start(self.start.date(), self.kind)
        ):
            raise ValueError(f"A {self.kind} period must start at the start of a {self.kind}")

    @property
    def days(self) -> float:
        """The length in days."""
        return (self.end - self.start) / _ONE_DAY

    def previous(self) -> Period:
        """The period to compare with.

        Calendar periods give the whole previous calendar period of their kind (this month,
        even half over, gives all of last month); windows give the window of equal length
        that ends where this one starts ("last 30 days" gives "previous 30 days").
        """
        if self.kind == "window":
            length = self.end - self.start
            return Period(self.start - length, self.start, _previous_window_label(self), "window")
        start = _unit_shift(self.start.date(), self.kind, -1)
        label = _RELATIVE_PREVIOUS.get(self.label) or _calendar_label(self.kind, start)
        return Period(_midnight(start), self.start, label, self.kind)

    def contains(self, moment: datetime) -> bool:
        """Whether `moment` falls in the period; aware datetimes are converted to UTC first."""
        if moment.tzinfo is not None:
            moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
        return self.start <= moment < self.end


def default_period(today: date) -> Period:
    """The period used when a question names none: the last 30 days, today included."""
    period = _window(today, 30, "day")
    assert period is not None  # 30 days is always a valid window
    return period


def parse_period_or_default(text: str | None, today: date) -> Period:
    """`parse_period(text, today)`, or `default_period(today)` when no period is found."""
    period = parse_period(text, today) if text else None
    return period if period is not None else default_period(today)


def parse_period(text: str, today: date) -> Period | None:
    """Find a period phrase anywhere in `text`.

    Understands today, yesterday, this/last week|month|quarter|year, month/year to date,
    "last|past N days|weeks|months|quarters|years" (N in digits or words; rolling, today
    included), "past week", a month ("March", "Mar 2026"), a quarter ("Q3", "Q3 2026",
    "third quarter"), a year ("2025"), a date ("1 October", "October 1st 2026", "2026-10-01",
    "Monday") and "since <any of those>" (up to the end of today). A month, quarter, date or
    weekday without a year is the most recent one that has started. Numeric day/month dates
    other than ISO ("1/10/2026") are ambiguous and not understood. When several phrases
    appear, the first one wins.

    Args:
        text: Free text, e.g. "what's our NPS for the last 7 days?".
        today: The current date (UTC).

    Returns:
        The period, or None when there is no period phrase or the one found is nonsense:
        zero-length or longer than `MAX_WINDOW_DAYS` windows (refused, not capped),
        periods that have not started yet, impossible dates.
    """
    candidates = _candidates(_normalise(text), today)
    if not candidates:
        return None
    best = min(candidates, key=lambda c: (c.start, -c.end))
    try:
        return best.build()
    except (ValueError, OverflowError):  # impossible dates, years out of range
        return None


# --- dates and labels -------------------------------------------------------------------------


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def _add_months(day: date, months: int) -> date:
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def _unit_start(day: date, kind: PeriodKind) -> date:
    if kind == "week":
        return day - timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    if kind == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    if kind == "year":
        return date(day.year, 1, 1)
    return day


def _unit_shift(day: date, kind: PeriodKind, n: int) -> date:
    if kind == "week":
        return day + timedelta(weeks=n)
    if kind == "month":
        return _add_months(day, n)
    if kind == "quarter":
        return _add_months(day, 3 * n)
    if kind == "year":
        return _add_months(day, 12 * n)
    return day + timedelta(days=n)


def _date_label(day: date) -> str:
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def _calendar_label(kind: PeriodKind, start: date) -> str:
    if kind == "week":
        return f"week of {_date_label(start)}"
    if kind == "month":
        return f"{MONTH_NAMES[start.month - 1]} {start.year}"
    if kind == "quarter":
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    if kind == "year":
        return str(start.year)
    return _date_label(start)


def _previous_window_label(period: Period) -> str:
    relative = re.fullmatch(r"(?:last|past|previous) (.+)", period.label)
    if relative:
        return f"previous {relative.group(1)}"
    days = period.days
    if days == 1:
        return "previous day"
    return f"previous {days:g} days"


# --- building periods -------------------------------------------------------------------------


def _calendar(
    kind: PeriodKind, start: date, today: date, label: str | None = None
) -> Period | None:
    """The calendar period of `kind` from `start`, cut at the end of today; None if not started."""
    if start > today:
        return None
    full_end = _unit_shift(start, kind, 1)
    end = min(full_end, today + _ONE_DAY)
    if label is None:
        label = _calendar_label(kind, start) + (" (to date)" if end < full_end else "")
    return Period(_midnight(start), _midnight(end), label, kind)


def _relative(word: str, kind: PeriodKind, today: date) -> Period | None:
    """This or last week, month, quarter or year."""
    start = _unit_start(today, kind)
    if word != "this":
        start = _unit_shift(start, kind, -1)
    label = f"{word} {kind}"
    if kind != "week":
        label += f" ({_calendar_label(kind, start)})"
    return _calendar(kind, start, today, label)


_WINDOW_UNIT_DAYS: Final = {"day": 1, "week": 7, "month": 31, "quarter": 92, "year": 366}


def _window(today: date, n: int, unit: str) -> Period | None:
    """The rolling window of the last `n` units, today included."""
    if n < 1 or n * _WINDOW_UNIT_DAYS[unit] > MAX_WINDOW_DAYS:
        return None
    end = today + _ONE_DAY
    if unit == "day":
        start = end - timedelta(days=n)
    elif unit == "week":
        start = end - timedelta(weeks=n)
    else:
        start = _add_months(end, -n * {"month": 1, "quarter": 3, "year": 12}[unit])
    label = f"past {unit}" if n == 1 else f"last {n} {unit}s"
    return Period(_midnight(start), _midnight(end), label, "window")


def _day(day: date | None, today: date) -> Period | None:
    if day is None or day > today:
        return None
    return Period(_midnight(day), _midnight(day + _ONE_DAY), _date_label(day), "day")


def _recent_date(month: int, day: int, year: str | None, today: date) -> date | None:
    """The date, or without a year the most recent such date up to today."""
    if year is not None:
        return date(int(year), month, day)
    for y in range(today.year, today.year - 8, -1):  # 29 February comes back within 8 years
        try:
            candidate = date(y, month, day)
        except ValueError:
            continue
        if candidate <= today:
            return candidate
    return None


def _recent_start(month: int, year: str | None, today: date) -> date:
    """The first of the month, or without a year the most recent such first up to today."""
    if year is not None:
        return date(int(year), month, 1)
    start = date(today.year, month, 1)
    return start if start <= today else date(today.year - 1, month, 1)


# --- phrases ----------------------------------------------------------------------------------

_NUMBER_WORDS: Final = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90,
}  # fmt: skip
_MONTHS: Final = {
    **{name.lower(): i for i, name in enumerate(MONTH_NAMES, start=1)},
    **{name[:3].lower(): i for i, name in enumerate(MONTH_NAMES, start=1)},
    "sept": 9,
}
_WEEKDAYS: Final = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_ORDINALS: Final = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "1st": 1,
    "2nd": 2,
    "3rd": 3,
    "4th": 4,
}
_QUARTER_STARTS: Final = {1: 1, 2: 4, 3: 7, 4: 10}


def _alternation(words: Iterable[str]) -> str:
    """A regex alternation of plain words, longest first so that "sept" wins over "sep"."""
    return "|".join(sorted(words, key=len, reverse=True))


_N: Final = rf"(\d+|{_alternation(_NUMBER_WORDS)})"
_UNIT: Final = r"(day|week|month|quarter|year)s?"
_YEAR: Final = r"((?:19|20)\d\d)"
# "May" is also a verb: as a month it needs a year or a preposition before it.
_MONTH_ANY: Final = rf"({_alternation(_MONTHS)})"
_MONTH_NAMED: Final = (
    rf"({_alternation(m for m in _MONTHS if m != 'may')}"
    r"|(?:(?<=\bin )|(?<=\bfor )|(?<=\bof )|(?<=\bsince )|(?<=\bduring )|(?<=\bfrom )|(?<=\bover ))may"
    r"|may(?=\s+(?:of\s+)?(?:19|20)\d\d\b))"
)
_SUFFIX: Final = r"(?:st|nd|rd|th)?"
_NOT_NUMERIC: Final = r"[\w/.:-]"  # what may not touch a bare year or ISO date

_Handler = Callable[[re.Match[str], date], "Period | None"]


def _number(word: str) -> int:
    return _NUMBER_WORDS[word] if word in _NUMBER_WORDS else int(word)


def _on_window(m: re.Match[str], today: date) -> Period | None:
    return _window(today, _number(m[1]), m[2])


def _on_past_unit(m: re.Match[str], today: date) -> Period | None:
    return _window(today, 1, m[1])


def _on_relative(m: re.Match[str], today: date) -> Period | None:
    word = "this" if m[1] in ("this", "current") else "last"
    return _relative(word, _kind(m[2]), today)


def _on_to_date(m: re.Match[str], today: date) -> Period | None:
    unit = m[1] or {"w": "week", "m": "month", "q": "quarter", "y": "year"}[m[2]]
    return _relative("this", _kind(unit), today)


def _kind(unit: str) -> PeriodKind:
    return _CALENDAR_KINDS[unit]


def _on_today(m: re.Match[str], today: date) -> Period | None:
    return _calendar("day", today, today, "today")


def _on_yesterday(m: re.Match[str], today: date) -> Period | None:
    return _calendar("day", today - _ONE_DAY, today, "yesterday")


def _quarter(q: int, year: str | None, today: date) -> Period | None:
    if year is not None:
        return _calendar("quarter", date(int(year), _QUARTER_STARTS[q], 1), today)
    start = date(today.year, _QUARTER_STARTS[q], 1)
    if start > today:
        start = start.replace(year=today.year - 1)
    return _calendar("quarter", start, today)


def _on_quarter(m: re.Match[str], today: date) -> Period | None:
    return _quarter(int(m[1]), m[2], today)


def _on_year_quarter(m: re.Match[str], today: date) -> Period | None:
    return _quarter(int(m[2]), m[1], today)


def _on_ordinal_quarter(m: re.Match[str], today: date) -> Period | None:
    return _quarter(_ORDINALS[m[1]], m[2], today)


def _on_month(m: re.Match[str], today: date) -> Period | None:
    return _calendar("month", _recent_start(_MONTHS[m[1]], m[2], today), today)


def _on_year(m: re.Match[str], today: date) -> Period | None:
    return _calendar("year", date(int(m[1]), 1, 1), today)


def _on_iso_date(m: re.Match[str], today: date) -> Period | None:
    return _day(date(int(m[1]), int(m[2]), int(m[3])), today)


def _on_day_month(m: re.Match[str], today: date) -> Period | None:
    return _day(_recent_date(_MONTHS[m[2]], int(m[1]), m[3], today), today)


def _on_month_day(m: re.Match[str], today: date) -> Period | None:
    return _day(_recent_date(_MONTHS[m[1]], int(m[2]), m[3], today), today)


def _on_weekday(m: re.Match[str], today: date) -> Period | None:
    return _day(today - timedelta(days=(today.weekday() - _WEEKDAYS[m[1]]) % 7), today)


_RULES: Final[tuple[tuple[re.Pattern[str], _Handler], ...]] = tuple(
    (re.compile(pattern), handler)
    for pattern, handler in (
        (rf"\b(?:last|past|previous|prior)\s+{_N}\s+{_UNIT}\b", _on_window),
        (r"\bpast\s+(day|week|month|quarter|year)\b", _on_past_unit),
        (r"\b(this|current|last|previous|prior)\s+(week|month|quarter|year)\b", _on_relative),
        (r"\b(?:(week|month|quarter|year)\s+to\s+date|([wmqy])td)\b", _on_to_date),
        (r"\btoday\b", _on_today),
        (r"\byesterday\b", _on_yesterday),
        (rf"\bq([1-4])\b(?:\s*(?:of\s+|[-/]\s*)?{_YEAR}\b)?", _on_quarter),
        (rf"\b{_YEAR}\s*[-/]?\s*q([1-4])\b", _on_year_quarter),
        (
            rf"\b({_alternation(_ORDINALS)})\s+quarter\b(?:\s+(?:of\s+)?{_YEAR}\b)?",
            _on_ordinal_quarter,
        ),
        (rf"\b{_MONTH_NAMED}\b(?:\s+(?:of\s+)?{_YEAR}\b)?", _on_month),
        (rf"(?<!{_NOT_NUMERIC}){_YEAR}(?!{_NOT_NUMERIC})", _on_year),
        (rf"(?<!{_NOT_NUMERIC})(\d{{4}})-(\d\d?)-(\d\d?)(?!{_NOT_NUMERIC})", _on_iso_date),
        (rf"\b(\d\d?){_SUFFIX}\s+(?:of\s+)?{_MONTH_ANY}\b(?:\s+{_YEAR}\b)?", _on_day_month),
        (rf"\b{_MONTH_ANY}\s+(\d\d?){_SUFFIX}\b(?:\s+{_YEAR}\b)?", _on_month_day),
        (rf"\b({_alternation(_WEEKDAYS)})\b", _on_weekday),
    )
)
_SINCE: Final = re.compile(r"\bsince\s+(?:the\s+)?(?:(?:start|beginning)\s+of\s+(?:the\s+)?)?")


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    build: Callable[[], Period | None]


def _since(inner: _Candidate, today: date) -> Period | None:
    period = inner.build()
    if period is None:
        return None
    end = _midnight(today + _ONE_DAY)
    return Period(period.start, end, f"since {_date_label(period.start.date())}", "window")


def _candidates(text: str, today: date) -> list[_Candidate]:
    found = [
        _Candidate(m.start(), m.end(), partial(handler, m, today))
        for pattern, handler in _RULES
        for m in pattern.finditer(text)
    ]
    for m in _SINCE.finditer(text):
        inner = [c for c in found if c.start == m.end()]
        if inner:
            longest = max(inner, key=lambda c: c.end)
            found.append(_Candidate(m.start(), longest.end, partial(_since, longest, today)))
    return found


def _normalise(text: str) -> str:
    """Lower case; punctuation becomes spaces, except "-", "/", "." and ":" between digits."""
    text = re.sub(r"(?<!\d)[-/.:]|[-/.:](?!\d)", " ", text.lower())
    return " ".join(re.sub(r"[^a-z0-9/.:\-]", " ", text).split())
