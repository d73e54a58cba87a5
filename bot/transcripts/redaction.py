"""Remove personal data from free text: email addresses, phone numbers and payment card numbers.

Order numbers (six digits), prices and dates are left alone. A run of 13-19 digits is masked
as a card number (valid or mistyped: either way it should not be kept), a run of 8-12 digits
as a phone number.
"""

from __future__ import annotations

import re

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
CARD_MASK = "[card]"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Digits with the separators people type inside card and phone numbers.
_DIGIT_RUN = re.compile(r"(?<![\w])\+?\(?\d[\d\s().\-/]{6,}\d(?![\w])")


_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")


def _mask_digits(match: re.Match[str]) -> str:
    text = match.group(0)
    if _DATE.fullmatch(text.strip()):
        return text
    digits = re.sub(r"\D", "", text)
    if 13 <= len(digits) <= 19:
        return CARD_MASK
    if 8 <= len(digits) <= 12:
        return PHONE_MASK
    return text


def redact(text: str | None) -> str:
    """`text` with email addresses, phone numbers and card numbers masked."""
    if not text:
        return text or ""
    without_emails = _EMAIL.sub(EMAIL_MASK, text)
    return _DIGIT_RUN.sub(_mask_digits, without_emails)
