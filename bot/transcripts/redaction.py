"""Remove personal data from free text: email addresses, IBANs, phone and payment card numbers.

Email addresses are masked as written ("anna@example.com", "anna @ example.com") and as
people disguise them: "anna(at)example.com", "anna [at] example [dot] com", "anna at example
dot com". The last form, in plain words, is only taken when the domain is spelled with "dot"
too and ends in a common top-level domain that is not an English word, so that "I bought it
at shop.example.com" or "look at the dot in the corner" stay as they are (a phrase such as "I
was at home dot com" is masked: rare, and on the safe side).

An IBAN is masked when its country's length and digits fit ("DE89370400440532013000", with
or without spaces). Dates ("2026-11-01", "01.11.2026"), times ("10:30"), prices ("89.99") and
order numbers (six digits) are set aside next, and put back at the end, so they are never
mistaken for phone numbers. What remains is masked by its digit count: 13-19 digits as a card
number (valid or mistyped: either way it must not be kept), 8-12 digits as a phone number. A
purely numeric parcel tracking number of that length is masked too: privacy wins over keeping
it readable. Digits touching letters ("abc4111111111111111xyz") are masked only when they pass
a card number's check digit (Luhn), so the carriers' tracking codes ("1Z4X7A9B6812345678")
stay readable.

Linear time, whatever the text (see benchmarks/redaction_speed.py). The email pattern of
before was tried again at every position of a long word, each try reading to the word's end:
quadratic. Now a pattern is only tried where a run of its characters starts (a lookbehind or
a word boundary rejects the positions inside a run), and each repetition is either bounded
(IBANs, card numbers against letters) or followed by something its characters cannot be, so
a failed try costs at most the length of its run. No repetition is nested in another over
the same characters.
"""

from __future__ import annotations

import re

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
CARD_MASK = "[card]"
IBAN_MASK = "[iban]"

_LOCAL_CHARS = r"[\w.%+-]"
_LABEL = r"[\w-]+"
_TLD = r"[^\W\d_]{2,}"
_GAP = r"[^\S\r\n]{0,3}"  # up to three spaces inside "[at]" or around it
_SPACE = r"[^\S\r\n]{1,3}"
_AT = rf"(?:@|{_SPACE}@{_SPACE}|{_GAP}[(\[{{<]{_GAP}(?i:at){_GAP}[)\]}}>]{_GAP})"
_BRACKETED_DOT = rf"{_GAP}[(\[{{<]{_GAP}(?i:dot){_GAP}[)\]}}>]{_GAP}"
_DOT = rf"(?:\.|{_BRACKETED_DOT})"
_SPELLED_DOT = rf"(?:{_SPACE}(?i:dot){_SPACE}|{_BRACKETED_DOT})"
# Common top-level domains, without those that are English words ("in", "it", "to", "me").
_SPELLED_TLD = (
    r"(?i:com|net|org|info|biz|edu|gov|io|co|uk|de|ch|eu|fr|es|nl|pl|se|dk|fi|ie|pt|cz|ca"
    r"|au|ru|jp|cn|br|mx|nz|za|gr|hu|ro|sk|hr|lt|lv|ee|lu|li)\b"
)
_EMAIL_AFTER_LOCAL = (
    rf"(?:{_AT}{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}{_TLD}"
    rf"|{_SPACE}(?i:at){_SPACE}{_LABEL}(?:{_SPELLED_DOT}{_LABEL})*{_SPELLED_DOT}{_SPELLED_TLD})"
)
_EMAIL = re.compile(rf"(?<!{_LOCAL_CHARS}){_LOCAL_CHARS}+{_EMAIL_AFTER_LOCAL}")
# Right where an address ended, the next may start inside the same run: "a@b.cc.d@e.ff".
_EMAIL_HERE = re.compile(rf"{_LOCAL_CHARS}+{_EMAIL_AFTER_LOCAL}")

# Total length of an IBAN by country (ISO 13616 registry).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24,
    "SI": 19, "SK": 24, "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip
# Country, check digits, then 11-30 letters or digits, single spaces or dashes between them.
_IBAN = re.compile(r"(?<![^\W\d_])[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){11,30}")
_MIN_IBAN_DIGITS = 10  # in the account part: what tells an IBAN from words after "xx12"

# Each starts at a digit; the lookahead says so first, which spares trying the six
# alternatives at every other position.
_PROTECTED = re.compile(
    r"(?=\d)"
    r"(?:\b\d{4}-\d{1,2}-\d{1,2}\b"  # ISO dates
    r"|\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b"  # 01.11.2026, 1/11/26
    r"|(?<![\d\s])\b\d{1,2}/\d{2,4}\b"  # a card's expiry, 12/28, when it stands apart
    r"|\b\d{1,2}:\d{2}(?::\d{2})?\b"  # times
    r"|\b\d+[.,]\d{2}\b(?![.,]?\d)"  # prices
    r"|(?<![\d\s-])\b\d{6}\b(?![\s-]?\d))"  # a lone six-digit order number
)
# A card number written against letters: 13-19 digits, single spaces or dashes between.
_GLUED_CARD = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")
# Digits with the separators people type inside card and phone numbers.
# A "/" only joins digits written tight ("030/12345678"); " / " separates two numbers.
_DIGIT_RUN = re.compile(r"(?<![\w])\+?\(?\d(?:[\d\s().\-]|(?<=\d)/(?=\d)){6,}\d(?![\w])")
_NON_DIGITS = re.compile(r"\D")
_PLACEHOLDER = "\x00{}\x00"
_PLACEHOLDERS = re.compile("\x00(\\d+)\x00")


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn check that card numbers carry."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def iban_valid(compact: str) -> bool:
    """Whether an IBAN without spaces, in capitals, passes its mod-97 check."""
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in moved)) % 97 == 1


def _mask_emails(text: str) -> str:
    parts = []
    done = 0
    found = _EMAIL.search(text)
    while found is not None:
        parts += [text[done : found.start()], EMAIL_MASK]
        done = found.end()
        found = _EMAIL_HERE.match(text, done) or _EMAIL.search(text, done)
    return "".join(parts) + text[done:] if parts else text


def _cut(text: str, length: int) -> int | None:
    """Where the first `length` letters and digits of `text` end, or None if it has fewer."""
    kept = 0
    for index, char in enumerate(text):
        if char not in " -":
            kept += 1
            if kept == length:
                return index + 1
    return None


def _iban_length(candidate: str) -> tuple[int, bool] | None:
    """How many characters of `candidate` (written with or without spaces) are an IBAN, and
    whether its check digits are right; None when it is none."""
    length = IBAN_LENGTHS.get(candidate[:2].upper())
    end = _cut(candidate, length) if length is not None else None
    if end is None:
        return None
    compact = candidate[:end].replace(" ", "").replace("-", "").upper()
    valid = iban_valid(compact)
    if not valid and sum(char.isdigit() for char in compact[4:]) < _MIN_IBAN_DIGITS:
        return None
    return end, valid


def _next_iban(text: str, pos: int) -> tuple[re.Match[str], int] | None:
    """The next IBAN from `pos`, and its length: a mistyped one gives way to a right one that
    starts inside it ("de12 DE89 3704 ..." is a word and a right IBAN)."""
    found = _IBAN.search(text, pos)
    while found is not None:
        read = _iban_length(found.group(0))
        if read is None:
            found = _IBAN.search(text, found.start() + 1)
            continue
        if not read[1]:
            inner = _IBAN.search(text, found.start() + 1)
            while inner is not None and inner.start() < found.start() + read[0]:
                right = _iban_length(inner.group(0))
                if right is not None and right[1]:
                    return inner, right[0]
                inner = _IBAN.search(text, inner.start() + 1)
        return found, read[0]
    return None


def _mask_ibans(text: str) -> str:
    parts = []
    done = 0
    found = _next_iban(text, 0)
    while found is not None:
        match, length = found
        parts += [text[done : match.start()], IBAN_MASK]
        done = match.start() + length
        found = _next_iban(text, done)
    return "".join(parts) + text[done:] if parts else text


def _glued_sides(text: str, start: int, end: int) -> tuple[bool, bool]:
    def letter(char: str) -> bool:
        return char.isalpha() or char == "_"

    return start > 0 and letter(text[start - 1]), end < len(text) and letter(text[end])


def _mask_glued_card(match: re.Match[str]) -> str:
    """The card number in digits that touch letters, with the groups next to it kept:
    "card4111111111111111 123" is a card number and its security code."""
    run = match.group(0)
    left, right = _glued_sides(match.string, match.start(), match.end())
    if not (left or right):
        return run
    breaks = [i for i, char in enumerate(run) if char in " -"]
    spans = [(0, len(run))]
    if left:
        spans += [(0, end) for end in reversed(breaks)]
    if right:
        spans += [(start + 1, len(run)) for start in breaks]
    for start, end in spans:
        digits = _NON_DIGITS.sub("", run[start:end])
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return run[:start] + CARD_MASK + run[end:]
    return run


def _mask_digits(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = _NON_DIGITS.sub("", text)
    if 13 <= len(digits) <= 19:
        return CARD_MASK
    if 8 <= len(digits) <= 12:
        return PHONE_MASK
    if len(digits) > 19:  # several numbers run together: mask them all
        return PHONE_MASK
    return text


def redact(text: str | None) -> str:
    """`text` with email addresses, IBANs, phone numbers and card numbers masked."""
    if not text:
        return text or ""
    kept: list[str] = []

    def set_aside(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return _PLACEHOLDER.format(len(kept) - 1)

    masked = _mask_emails(text.replace("\x00", ""))
    masked = _mask_ibans(masked)
    masked = _PROTECTED.sub(set_aside, masked)
    masked = _GLUED_CARD.sub(_mask_glued_card, masked)
    # A placeholder splits digit runs, so "0170 1234567 / 12:30" stays two things.
    masked = _DIGIT_RUN.sub(_mask_digits, masked)
    return _PLACEHOLDERS.sub(lambda m: kept[int(m.group(1))], masked)
