"""SLA durations (30m, 4h, 2d, 8bh, 3bd) and the words that say how late something is."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from cslog.labels import MINUTE_WORDS

Unit = Literal["m", "h", "d", "bh", "bd"]

# The schema pattern allows spaces around and inside ("4 h"); parsing must accept what check accepts.
_DURATION = re.compile(r"\s*([0-9]+)\s*(bh|bd|m|h|d)\s*", re.IGNORECASE | re.ASCII)
_FORMS = ("use a number followed by m, h, d (wall clock), bh (business hours) or bd (working days), "
          "e.g. 30m, 4h, 2d, 8bh, 3bd")
# Larger values are typos, and beyond this 'bd' walks would span centuries.
MAX_AMOUNT = 100_000
_WALL_MINUTES = {"m": 1, "h": 60, "d": 24 * 60}


@dataclass(frozen=True)
class Duration:
    """A positive amount of one unit; m/h/d run on the wall clock, bh/bd on the working calendar."""

    amount: int
    unit: Unit

    def __post_init__(self) -> None:
        if self.unit not in ("m", "h", "d", "bh", "bd"):
            raise ValueError(f"invalid duration unit '{self.unit}': {_FORMS}")
        if not 1 <= self.amount <= MAX_AMOUNT:
            raise ValueError(f"invalid duration '{self.amount}{self.unit}': the number must be between 1 and {MAX_AMOUNT}")

    @property
    def text(self) -> str:
        return f"{self.amount}{self.unit}"

    def __str__(self) -> str:
        return self.text

    @property
    def is_business(self) -> bool:
        return self.unit in ("bh", "bd")

    def wall_timedelta(self) -> timedelta:
        """The length of an m/h/d duration; bh and bd have no fixed length."""
        if self.is_business:
            raise ValueError(f"'{self.text}' counts business time and has no fixed wall-clock length")
        return timedelta(minutes=self.amount * _WALL_MINUTES[self.unit])


def parse_duration(text: str) -> Duration:
    """`30m`, `4h`, `2d`, `8bh`, `3bd` (case-insensitive, spaces allowed) -> Duration; ValueError otherwise."""
    match = _DURATION.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        shown = f"'{text}'" if isinstance(text, str) else repr(text)
        raise ValueError(f"invalid duration {shown}: {_FORMS}")
    amount = int(match.group(1))
    if not 1 <= amount <= MAX_AMOUNT:
        raise ValueError(f"invalid duration '{text.strip()}': the number must be between 1 and {MAX_AMOUNT}")
    unit: Unit = match.group(2).lower()  # type: ignore[assignment]
    return Duration(amount, unit)




def format_minutes(minutes: int, language: Literal["zh", "en"] = "zh") -> str:
    """Minutes as words: zh `3天2小时`, `2小时15分`; en `3d2h`, `2h15m`; zero parts dropped; negatives get '-'."""
    if language not in MINUTE_WORDS:
        raise ValueError(f"unknown language '{language}': use zh or en")
    day_word, hour_word, minute_word = MINUTE_WORDS[language]
    sign = "-" if minutes < 0 else ""
    days, rest = divmod(abs(int(minutes)), 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{n}{word}" for n, word in ((days, day_word), (hours, hour_word), (mins, minute_word)) if n]
    return sign + ("".join(parts) or f"0{minute_word}")
