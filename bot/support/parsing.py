"""Pull order numbers and email addresses out of what customers type."""

from __future__ import annotations

import re

# Order numbers are six digits; a customer may write "#104233", "order no. 104233", "104 233".
_ORDER_NUMBER = re.compile(r"(?<!\d)(\d{3})\s?(\d{3})(?!\d)")
_ANY_DIGITS = re.compile(r"\d+")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def extract_order_number(text: str | None) -> str | None:
    """The one 6-digit order number in `text`, or None when there is none or several differ."""
    if not text:
        return None
    found = {a + b for a, b in _ORDER_NUMBER.findall(text)}
    return found.pop() if len(found) == 1 else None


def has_digits(text: str | None) -> bool:
    return bool(text and _ANY_DIGITS.search(text))


def extract_email(text: str | None) -> str | None:
    """The first email address in `text`, lower-cased."""
    if not text:
        return None
    match = _EMAIL.search(text)
    return match.group(0).lower() if match else None
