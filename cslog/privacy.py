"""Personal data: identity-card and bank-card numbers found in text, and masking for exports."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterator

# An identity-card number may be glued to letters (ID11010519491231002X, 王110105...) or split by spaces, dashes
# or dots (110105 19491231 002X): its region, birth date and check digit tell it from an order number. A bank
# card glued to letters is not a candidate (order numbers like DD20261122000123, SF1234567890123 are).
_SEP = r"[ .\-]?"
_ID_CARD = re.compile(r"(?<!\d)(?=(\d(?:" + _SEP + r"\d){16}" + _SEP + r"[\dXx])(?!\d))")  # overlapping
_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{4}(?:[ .-]?\d{4}){2,3}(?:[ .-]?\d{1,3})?|\d{13,19})(?![0-9A-Za-z])")
_SEPARATORS = re.compile(r"[ .\-]")
_REGIONS = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
            50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83, 91}
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


@dataclass(frozen=True)
class Finding:
    kind: str  # id_card | bank_card
    value: str

    @property
    def label(self) -> str:
        return {"id_card": "identity-card number", "bank_card": "bank-card number"}[self.kind]

    @property
    def masked(self) -> str:
        digits = self.value
        return digits[:4] + "*" * max(len(digits) - 8, 4) + digits[-4:]


def is_id_card(number: str) -> bool:
    """GB 11643: region code, a real birth date, and the check digit."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    if int(number[:2]) not in _REGIONS:
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if not 1900 <= born.year <= 2100:
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS))
    return _CHECK[total % 11] == number[17].upper()


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def is_bank_card(digits: str) -> bool:
    """13-19 digits passing Luhn, starting like a payment card (3-6, or Mastercard's 2221-2720)."""
    if not 13 <= len(digits) <= 19 or not digits.isdigit():
        return False
    if digits[0] not in "3456" and not 2221 <= int(digits[:4]) <= 2720:
        return False
    return luhn_ok(digits)


def find_pii(text: str) -> list[Finding]:
    found: list[Finding] = []
    for m in _ID_CARD.finditer(text):
        number = _SEPARATORS.sub("", m.group(1))
        if is_id_card(number) and (_standalone(text, m) or _born_a_year_ago(number)):
            found.append(Finding("id_card", number))
    for m in _CARD.finditer(text):
        digits = _SEPARATORS.sub("", m.group(1))
        if is_bank_card(digits) and not is_id_card(digits):
            found.append(Finding("bank_card", digits))
    return found


def _standalone(text: str, m: re.Match) -> bool:
    """Eighteen digits on their own (no letters glued before, no separators inside)."""
    start = m.start(1)
    return _unbroken(m.group(1)) and not (start > 0 and text[start - 1].isalpha() and text[start - 1].isascii())


def _unbroken(text: str) -> bool:
    return _SEPARATORS.search(text) is None


def _born_a_year_ago(number: str) -> bool:
    """A number in disguise (glued to letters, split by separators) counts when its birth date is over a year
    past (today as cslog's clock says it, $CSLOG_NOW when set): order and waybill numbers carry the recent date
    where an identity card carries the birthday (SH440305202611220009 is a store code, a day and a sequence)."""
    import os
    from datetime import timezone

    from cslog.timeutil import clock_now

    born = (int(number[6:10]), int(number[10:12]), int(number[12:14]))
    today = clock_now(timezone.utc, os.environ.get("CSLOG_NOW")).date()  # (a day either way does not matter)
    return born <= (today.year - 1, today.month, today.day)


def walk_strings(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from walk_strings(item, path + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from walk_strings(item, path + (i,))


def scan(doc: Any) -> list[tuple[tuple, Finding]]:
    """Every finding in any text of a record, with the JSON path of the field holding it."""
    return [(path, f) for path, text in walk_strings(doc) for f in find_pii(text)]


def guard(doc: Any, allow: bool) -> bool:
    """Refuse personal data in what is about to be written (Refused, naming the field), unless allowed;
    whether it holds some (allowed: the caller records the allowance)."""
    found = scan(doc)
    if allow or not found:
        return bool(found)
    from cslog.errors import Refused

    path, finding = found[0]
    where = ".".join(str(p) for p in path)
    raise Refused(f"{where}: looks like an {finding.label} ({finding.masked}); cslog does not store personal "
                  "data (严禁记录客户敏感信息)",
                  hint="remove it; only if the law requires keeping it, pass --allow-pii (it is recorded)")


_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3}-?)(\d{3,4})(\d{4})(?!\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@[A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def mask(text: str) -> str:
    """Phones as 138****5678, e-mails as z***@example.com, wherever they stand in the text."""
    text = _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    text = _LANDLINE.sub(lambda m: f"{m.group(1)}{'*' * len(m.group(2))}{m.group(3)}", text)
    return _EMAIL.sub(lambda m: f"{m.group(1)}***{m.group(2)}", text)
