"""The manager's HTML report: what a reader of the page sees, on a small database."""

from __future__ import annotations

import base64
import re
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from itertools import count
from pathlib import Path

import pytest
from sqlalchemy.orm import sessionmaker

from bot.metrics import core
from bot.metrics.core import MetricResult
from bot.metrics.report import build_report, trend_takeaway, write_report
from bot.storage.models import Customer, Order
from bot.storage.session import session_scope
from tests.rows import conversation_row, survey_row

# matplotlib 3.5 (Rasa's pin) calls pyparsing's camelCase names, which pyparsing >= 3.3 warns
# about when matplotlib is first imported; that is theirs, not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:matplotlib.*")

AS_OF = datetime(2026, 11, 15, 12, 0)  # last 30 days: 17 October to 15 November 2026
GENERATED = datetime(2026, 11, 15, 12, 30)
SECTIONS = (
    "Headline: the last 30 days",
    "NPS and CSAT trends",
    "Score distributions",
    "Customer retention by cohort",
    "Pain points",
    "Response times and containment",
)
XSS = "<script>alert(1)</script>"
IMAGE = '<img src="data:image/png;base64,'

NPS_NOW = [10, 10, 9, 9, 8, 7, 6, 3, 0, 10, 9, 9]
CSAT_NOW = [5, 5, 4, 4, 4, 3, 3, 2, 1, 5, 4, 4]
# A topic named like a script: 25 answers, enough to be ranked as a pain point.
NPS_XSS = [2, 5, 9, 4, 6] * 5
CSAT_XSS = [1, 2, 4, 2, 3] * 5
_ids = count(1)


def order(customer: Customer, at: datetime) -> Order:
    return Order(
        number=f"O{next(_ids)}",
        customer=customer,
        status="delivered",
        placed_at=at,
        shipping_address="1 Main St",
        payment_method="card",
        total=Decimal("20.00"),
    )


@pytest.fixture
def filled(session_factory: sessionmaker) -> sessionmaker:
    with session_scope(session_factory) as session:
        start = datetime(2026, 11, 1, 9)
        for day, (n, c) in enumerate(zip(NPS_NOW, CSAT_NOW, strict=True)):
            session.add(survey_row(start + timedelta(days=day), n, c))
        for k, (n, c) in enumerate(zip(NPS_XSS, CSAT_XSS, strict=True)):
            comment = f"{XSS} & the parcel never came" if k == 0 else None
            session.add(survey_row(datetime(2026, 11, 3, 10, k), n, c, topic=XSS, comment=comment))
        # The previous 30 days (10 answers), and July (20 detractors) for the trend.
        for k, n in enumerate([9] * 5 + [3] * 5):
            session.add(survey_row(datetime(2026, 10, 1, 9, k), n, 4 if n == 9 else 2))
        for k in range(20):
            session.add(survey_row(datetime(2026, 7, 10, 9, k), 2, 1))
        for month in (8, 9, 10, 11):
            for k in range(4):
                session.add(
                    conversation_row(
                        datetime(2026, month, 5, 9, k),
                        handed_off=k == 0,
                        first_response=k + 1.0,
                        replies=(k + 1.0,),
                    )
                )
        # Cohorts: August (4 customers, 2 back in September), September (2, none back in
        # October), October (2; November has not ended, so no rate yet).
        customers = [
            Customer(email=f"c{i}@example.org", name=f"C{i}", created_at=datetime(2026, 1, 1))
            for i in range(8)
        ]
        session.add_all(customers)
        for c in customers[:4]:
            session.add(order(c, datetime(2026, 8, 3)))
        for c in customers[:2]:
            session.add(order(c, datetime(2026, 9, 20)))
        for c in customers[4:6]:
            session.add(order(c, datetime(2026, 9, 2)))
        for c in customers[6:]:
            session.add(order(c, datetime(2026, 10, 2)))
        session.add(order(customers[6], datetime(2026, 11, 2)))
    return session_factory


def _report(factory: sessionmaker, months: int = 12) -> str:
    with session_scope(factory) as session:
        return build_report(session, AS_OF, months=months, generated_at=GENERATED)


class _TagBalance(HTMLParser):
    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()


def _assert_well_formed(html: str) -> None:
    assert html.startswith("<!DOCTYPE html>")
    parser = _TagBalance()
    parser.feed(html)
    parser.close()
    assert parser.errors == [] and parser.open == []


def _plain(text: str) -> str:
    return text.replace("\u2212", "-")


def test_the_report_shows_every_section_with_plots_and_the_independent_nps(filled: sessionmaker):
    pyplot_before = "matplotlib.pyplot" in sys.modules
    html = _report(filled)

    _assert_well_formed(html)
    for title in SECTIONS:
        assert f">{title}</h2>" in html
    # The NPS of the last 30 days, from the definition on the inserted scores.
    expected = core.nps(NPS_NOW + NPS_XSS)
    assert (
        expected.value is not None and expected.ci_low is not None and expected.ci_high is not None
    )
    cell = re.search(r'<th scope="row">NPS</th>\s*<td>([^<]*)</td>', html)
    assert cell is not None
    assert _plain(cell[1]).startswith(
        f"{expected.value:.0f} (95% CI {expected.ci_low:.0f} to {expected.ci_high:.0f}, "
        f"n = {expected.n}"
    )
    # Eight plots, each a real PNG inside the page: 2 trends, 2 distributions, the cohorts,
    # the pain points, containment and first response time.
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == html.count(IMAGE) == 8
    assert all(base64.b64decode(image)[:8] == b"\x89PNG\r\n\x1a\n" for image in images)
    assert "<svg" not in html
    # Self-contained: nothing to fetch, no script.
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html and "<link" not in html
    # The pyplot state machine was never used.
    assert pyplot_before or "matplotlib.pyplot" not in sys.modules


def test_database_text_is_escaped_and_takeaways_come_from_the_data(filled: sessionmaker):
    html = _report(filled)

    # A script as a topic (the worst pain point: lowest CSAT) and in a detractor's comment.
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert XSS not in html
    assert f'<th scope="row">{escaped}</th>' in html
    assert f"<blockquote>{escaped} &amp; the parcel never came</blockquote>" in html
    assert f"{escaped} has the lowest CSAT: 20% (n = 25)" in html

    text = _plain(html)
    # 2 of 6 cohort customers with a complete month 1 came back: August 2 of 4, September 0 of 2.
    assert (
        "On average 33% of new customers ordered again in the month after their first order "
        "(n = 6 customers in 2 cohorts)."
    ) in text
    # July: 20 answers, all detractors; October has only 10 answers, so it is not a candidate.
    assert (
        "NPS was lowest among months with at least 20 answers in July 2026: -100 (n = 20); "
        f"latest, November 2026: {core.nps(NPS_NOW + NPS_XSS).value:.0f} (n = 37)."
    ) in text
    # Containment: one of four conversations handed off each month, so 75% everywhere.
    assert "Containment was lowest in August 2026: 75% (n = 4)" in text
    promoters = sum(s >= 9 for s in NPS_NOW + NPS_XSS)
    total = len(NPS_NOW + NPS_XSS)
    assert (
        f"Of {total} answers in the last 30 days, {100 * promoters / total:.0f}% were promoters"
        in text
    )
    assert "Rows read: 67 survey records and 16 conversation summaries" in text
    assert "Generated 2026-11-15 12:30 UTC" in text


def test_an_empty_database_gives_a_page_that_says_no_data(session_factory: sessionmaker):
    html = _report(session_factory, months=3)

    _assert_well_formed(html)
    for title in SECTIONS:
        assert f">{title}</h2>" in html
    assert IMAGE not in html
    assert html.count("No data to plot.") == 8
    assert '<th scope="row">NPS</th>\n        <td>no data yet (n = 0)</td>' in html
    assert "No data: no comments from unhappy customers in the last 30 days." in html
    assert "http://" not in html and "https://" not in html


def test_write_report_writes_the_page(session_factory: sessionmaker, tmp_path: Path):
    target = tmp_path / "out" / "report.html"
    with session_scope(session_factory) as session:
        written = write_report(session, target, AS_OF, months=1)
    assert written == target
    text = target.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "Customer experience report" in text


def _month(m: int, value: float, n: int) -> tuple[date, MetricResult]:
    return date(2026, m, 1), MetricResult("x", value, n, value - 5, value + 5)


def test_a_trend_names_its_worst_month_among_those_with_enough_answers():
    series = [_month(7, -12, 1204), _month(8, -40, 3), _month(9, 5, 900), _month(11, 20, 310)]
    assert trend_takeaway("nps", series) == (
        "NPS was lowest among months with at least 20 answers in July 2026: \u221212 (n = 1,204); "
        "latest, November 2026: 20 (n = 310)."
    )
    # Times: smaller is better, so the worst month is the slowest.
    times = [_month(9, 2.0, 50), _month(10, 4.5, 60)]
    assert trend_takeaway("first_response_time", times) == (
        "First response time was slowest in October 2026: 4.5 s (n = 60)."
    )
    assert trend_takeaway("csat", [_month(11, 80, 30)]) == (
        "CSAT in November 2026: 80% (n = 30), the only month with data."
    )
    assert trend_takeaway("csat", []).startswith("No data")


def test_scores_of_too_few_answers_read_too_few_answers(filled: sessionmaker):
    with session_scope(filled) as session:
        html = build_report(session, AS_OF, months=12, generated_at=GENERATED, min_n=40)
    text = _plain(html)
    # 37 NPS answers in the last 30 days, 10 in the 30 before: both below 40.
    assert '<th scope="row">NPS</th>\n        <td>too few answers (n = 37)</td>' in html
    assert "too few answers (n = 10)" in html
    assert "Too few answers for NPS in every month (at most n = 37)." in text
    assert "too few answers for an NPS." in text
    assert "fewer than 40 answers reads" in text
