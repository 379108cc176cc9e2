"""Report periods: a month, a quarter or a range of days, and the options that name them.

What design.md section 5 leaves open, decided here:

- Periods are calendar dates in the configured timezone: `--month 2026-11`, `--quarter 2026-Q4`, or
  `--from 2026-11-01 --until 2026-11-15`, where `--until` is the LAST DAY INCLUDED (a team lead says
  "from the 1st until the 15th" and means the 15th too). JSON `period.until` is that last day as well.
  `--from` alone runs until today. Without any option the period is the previous full month: the
  month-end review is held in the first days of the next month, over a month that is over.
- The previous period is the month / quarter before, or for `--from/--until` the same number of days
  just before.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from cslog.errors import UsageError


@dataclass(frozen=True)
class Period:
    """Days `start` (included) to `end` (excluded) of one kind: month, quarter or range."""

    kind: str
    start: date
    end: date

    @property
    def until(self) -> date:
        """The last day included."""
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.isoformat()}~{self.until.isoformat()}"

    @property
    def slug(self) -> str:
        """The label as it goes into a file name."""
        return self.label.replace("~", "_")

    def shifted(self, back: int) -> Period:
        """The period `back` periods earlier (of the same kind and length)."""
        if self.kind in ("month", "quarter"):
            step = 1 if self.kind == "month" else 3
            return Period(self.kind, _add_months(self.start, -step * back), _add_months(self.end, -step * back))
        days = (self.end - self.start) * back
        return Period(self.kind, self.start - days, self.end - days)

    def previous(self) -> Period:
        return self.shifted(1)

    def bounds(self, tz) -> tuple[datetime, datetime]:
        return datetime.combine(self.start, time(0), tz), datetime.combine(self.end, time(0), tz)

    def to_json(self) -> dict:
        return {"from": self.start.isoformat(), "until": self.until.isoformat()}


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*$")


def month_period(text: str) -> Period:
    m = _MONTH.match(text or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise UsageError(f"--month: cannot read '{text}'", hint="write the month as YYYY-MM, e.g. --month 2026-11")
    start = date(int(m.group(1)), int(m.group(2)), 1)
    return Period("month", start, _add_months(start, 1))


def quarter_period(text: str) -> Period:
    m = _QUARTER.match(text or "")
    if not m:
        raise UsageError(f"--quarter: cannot read '{text}'", hint="write the quarter as YYYY-Qn, e.g. --quarter 2026-Q4")
    start = date(int(m.group(1)), 3 * int(m.group(2)) - 2, 1)
    return Period("quarter", start, _add_months(start, 3))


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise UsageError(f"{option}: cannot read '{text}' as a date",
                         hint=f"write it as YYYY-MM-DD, e.g. {option} 2026-11-01") from None


def parse_period(now: datetime, month: str | None = None, quarter: str | None = None,
                 since: str | None = None, until: str | None = None) -> Period:
    """The period the options name; none given: the previous full month before `now`."""
    given = [name for name, value in (("--month", month), ("--quarter", quarter), ("--from", since)) if value]
    if len(given) > 1:
        raise UsageError(f"give one period: {' or '.join(given)}, not both",
                         hint="--month YYYY-MM, --quarter YYYY-Qn, or --from DATE [--until DATE]")
    if until and not since:
        raise UsageError("--until needs --from", hint="e.g. --from 2026-11-01 --until 2026-11-15")
    if month:
        return month_period(month)
    if quarter:
        return quarter_period(quarter)
    if since:
        first = _day(since, "--from")
        last = _day(until, "--until") if until else now.date()
        if last < first:
            raise UsageError(f"--until {last.isoformat()} is before --from {first.isoformat()}",
                             hint="--until is the last day included, e.g. --from 2026-11-01 --until 2026-11-30")
        return Period("range", first, last + timedelta(days=1))
    this_month = date(now.year, now.month, 1)
    return Period("month", _add_months(this_month, -1), this_month)
