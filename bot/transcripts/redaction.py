"""Remove personal data from free text: email addresses, phone numbers and payment card numbers.

Dates ("2026-11-01", "01.11.2026"), times ("10:30"), prices ("89.99") and order numbers
(six digits) are set aside first and put back afterwards, so they are never mistaken for
phone numbers. What remains is masked by its digit count: 13-19 digits as a card number
(valid or mistyped: either way it must not be kept), 8-12 digits as a phone number. A
purely numeric parcel tracking number of that length is masked too: privacy wins over
keeping it readable.
"""

from __future__ import annotations

import re

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
CARD_MASK = "[card]"

_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
_PROTECTED = re.compile(
    r"\b\d{4}-\d{1,2}-\d{1,2}\b"  # ISO dates
    r"|\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b"  # 01.11.2026, 1/11/26
    r"|(?<![\d\s])\b\d{1,2}/\d{2,4}\b"  # a card's expiry, 12/28, when it stands apart
    r"|\b\d{1,2}:\d{2}(?::\d{2})?\b"  # times
    r"|\b\d+[.,]\d{2}\b(?![.,]?\d)"  # prices
    r"|(?<![\d\s-])\b\d{6}\b(?![\s-]?\d)"  # a lone six-digit order number
)
# Digits with the separators people type inside card and phone numbers.
# A "/" only joins digits written tight ("030/12345678"); " / " separates two numbers.
_DIGIT_RUN = re.compile(r"(?<![\w])\+?\(?\d(?:[\d\s().\-]|(?<=\d)/(?=\d)){6,}\d(?![\w])")
_PLACEHOLDER = "\x00{}\x00"
_PLACEHOLDERS = re.compile("\x00(\\d+)\x00")


def _mask_digits(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    if 13 <= len(digits) <= 19:
        return CARD_MASK
    if 8 <= len(digits) <= 12:
        return PHONE_MASK
    if len(digits) > 19:  # several numbers run together: mask them all
        return PHONE_MASK
    return text


def redact(text: str | None) -> str:
    """`text` with email addresses, phone numbers and card numbers masked."""
    if not text:
        return text or ""
    kept: list[str] = []

    def set_aside(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return _PLACEHOLDER.format(len(kept) - 1)

    masked = _EMAIL.sub(EMAIL_MASK, text.replace("\x00", ""))
    masked = _PROTECTED.sub(set_aside, masked)
    # A placeholder splits digit runs, so "0170 1234567 / 12:30" stays two things.
    masked = _DIGIT_RUN.sub(_mask_digits, masked)
    return _PLACEHOLDERS.sub(lambda m: kept[int(m.group(1))], masked)
