"""How long redaction takes as messages grow: the patterns of now and of before, side by side.

What it measures
    The median time of `redact()` (`bot.transcripts.redaction`) over `--repeats` runs, for
    messages of 1k, 10k, 100k and 1M characters (`--sizes`): adversarial ones, the long runs
    that made the email pattern of before quadratic ("a"*n + "@", "."*n, "1 "*n, "@"*n, and a
    mixed run of letters, digits and ".-_+%" ending in "@x"), and ordinary ones (chat messages
    with email addresses, phone and card numbers, dates and prices, one after the other). In
    the same run, the same messages go through a copy of the patterns of before
    (`before_redact`, as they were up to the linear rewrite), so both columns share whatever
    else the machine is doing. Adversarial messages are what the code of before is slowest
    on; some ("1 "*n, "@"*n) it was already linear on, and are there to show the new code
    is too.

    The code of before is quadratic on the adversarial messages, so it only runs at a size
    when its predicted time stays within `--budget` seconds (3 by default): its time at the
    size before, times the growth it showed from the size before that (100, quadratic, until
    seen); otherwise its column says "skipped". The new code runs at every size. "x10" is
    time(10n) / time(n): about 10 for linear time, about 100 for quadratic.

Usage
    .venv/bin/python benchmarks/redaction_speed.py                 # table on stdout
    .venv/bin/python benchmarks/redaction_speed.py --sizes 1000 10000 --repeats 3 --json

Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from bot.transcripts.redaction import redact

DEFAULT_SIZES = (1_000, 10_000, 100_000, 1_000_000)

# --- The patterns of before (as of commit ff7cd0a), kept here to compare against ------------

_BEFORE_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
_BEFORE_PROTECTED = re.compile(
    r"\b\d{4}-\d{1,2}-\d{1,2}\b"
    r"|\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b"
    r"|(?<![\d\s])\b\d{1,2}/\d{2,4}\b"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?\b"
    r"|\b\d+[.,]\d{2}\b(?![.,]?\d)"
    r"|(?<![\d\s-])\b\d{6}\b(?![\s-]?\d)"
)
_BEFORE_DIGIT_RUN = re.compile(r"(?<![\w])\+?\(?\d(?:[\d\s().\-]|(?<=\d)/(?=\d)){6,}\d(?![\w])")
_PLACEHOLDERS = re.compile("\x00(\\d+)\x00")


def _before_mask_digits(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    if 13 <= len(digits) <= 19:
        return "[card]"
    if 8 <= len(digits) <= 12 or len(digits) > 19:
        return "[phone]"
    return text


def before_redact(text: str) -> str:
    """`redact()` as it was before the linear rewrite."""
    kept: list[str] = []

    def set_aside(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return f"\x00{len(kept) - 1}\x00"

    masked = _BEFORE_EMAIL.sub("[email]", text.replace("\x00", ""))
    masked = _BEFORE_PROTECTED.sub(set_aside, masked)
    masked = _BEFORE_DIGIT_RUN.sub(_before_mask_digits, masked)
    return _PLACEHOLDERS.sub(lambda m: kept[int(m.group(1))], masked)


# --- Messages ------------------------------------------------------------------------------------

ORDINARY = (
    "Hi, my order 104233 hasn't arrived yet. You can reach me at maria.lopez@example.com or "
    "on 0170 1234567. I paid 89.99 EUR with my card 4111 1111 1111 1111 on 2026-11-01 at "
    "10:30, and the tracking code 1Z4X7A9B6812345678 hasn't changed since 01.11.2026. "
)


def _repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


MESSAGES: dict[str, Callable[[int], str]] = {
    "a*n + @": lambda n: "a" * (n - 1) + "@",
    ".*n": lambda n: "." * n,
    "'1 '*n": lambda n: _repeat("1 ", n),
    "@*n": lambda n: "@" * n,
    # One long run of everything an address's local part may hold, then "@" and no domain.
    "mixed": lambda n: _repeat("a.1-b_2+c%é", n - 2) + "@x",
    "ordinary": lambda n: _repeat(ORDINARY, n),
}


def _median_seconds(function: Callable[[str], str], text: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(text)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(sizes: list[int], repeats: int, budget: float) -> list[dict[str, Any]]:
    """One row per message kind and size: the median seconds of now and of before."""
    rows: list[dict[str, Any]] = []
    for kind, build in MESSAGES.items():
        previous: dict[str, float | None] = {"now": None, "before": None, "before_x10": None}
        for size in sizes:
            text = build(size)
            print(f"{kind:<10} {size:>9,} characters", file=sys.stderr, flush=True)
            now = _median_seconds(redact, text, repeats)
            last_before = previous["before"]
            before: float | None = None
            # Growth as seen from the size before to this one; until seen, assume quadratic.
            growth = previous["before_x10"] or 100.0
            if size == sizes[0] or (last_before is not None and last_before * growth <= budget):
                before = _median_seconds(before_redact, text, repeats)
            rows.append(
                {
                    "message": kind,
                    "size": size,
                    "now_seconds": now,
                    "before_seconds": before,
                    "now_x10": _ratio(now, previous["now"]),
                    "before_x10": _ratio(before, last_before),
                }
            )
            previous = {"now": now, "before": before, "before_x10": rows[-1]["before_x10"]}
    return rows


def _ratio(value: float | None, previous: float | None) -> float | None:
    return value / previous if value is not None and previous else None


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "skipped"
    return f"{seconds * 1000:,.1f}" if seconds < 10 else f"{seconds * 1000:,.0f}"


def _x(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio:.1f}"


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| message | characters | now ms | x10 | before ms | x10 | before / now |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        now, before = row["now_seconds"], row["before_seconds"]
        speedup = ""
        if before is not None and now:
            speedup = f"{before / now:,.0f}x" if before >= 10 * now else f"{before / now:.1f}x"
        lines.append(
            f"| {row['message']} | {row['size']:,} | {_ms(now)} | {_x(row['now_x10'])} "
            f"| {_ms(before)} | {_x(row['before_x10'])} | {speedup} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--repeats", type=int, default=5, help="runs per message (median)")
    parser.add_argument(
        "--budget", type=float, default=3.0, help="seconds the code of before may take a run"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    rows = measure(sorted(args.sizes), args.repeats, args.budget)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(table(rows))
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(
            f"\nMedian of {args.repeats} runs; the code of before runs at a size when its "
            f"predicted time stays within {args.budget:g} s. Load average {load:.2f}."
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
