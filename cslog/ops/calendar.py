"""`cslog calendar [YEAR]`: the year's days off and make-up working days (调休) and where each comes from,
for a team lead to hold against the State Council's notice.

Decisions where design.md is silent:
- Listed: every day that is not what its weekday says (or might seem not to be): the holiday library's
  public holidays (days off moved by 调休 among them, a weekend one too) and make-up working days, and
  cslog.yaml's calendar.extra_holidays and extra_workdays. A date cslog.yaml names appears once, as
  cslog.yaml says (it wins in the deadlines too).
- `official`: the library has make-up working days for that year. `guessed`: it has none although it had
  some in the years before, and cslog.yaml names none in that year either (calendar.WorkCalendar.unofficial):
  the deadlines count no 调休 that year, and the same warning as `overdue`'s is given.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from cslog import labels
from cslog.calendar import WEEKDAY_NAMES
from cslog.errors import UsageError
from cslog.store import Store

FIRST_YEAR, LAST_YEAR = 1950, 2100  # what python-holidays can be asked about, roughly; beyond: a typo


@dataclass
class CalendarYear:
    """One year of the working calendar: its days as rows (date, weekday code, kind, name, source)."""

    year: int
    country: str | None
    official: bool
    guessed: bool
    days: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"year": self.year, "country": self.country, "official": self.official, "guessed": self.guessed,
                "days": self.days}


def calendar_year(store: Store, year: int) -> CalendarYear:
    """The days off and make-up working days of `year` in the repository's calendar, by date."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise UsageError(f"year {year} is out of range", hint=f"give a year from {FIRST_YEAR} to {LAST_YEAR}, e.g. 2026")
    calendar, language = store.calendar(), store.settings.language
    found: dict[date, tuple[str, str, str]] = {}
    makeup: frozenset[date] = frozenset()
    if calendar.country:
        named = calendar.holidays.named(calendar.country, year, language)
        makeup = calendar.holidays.year(calendar.country, year)[1]
        for day, name in named.items():
            found[day] = ("holiday", name, "library")
        for day in makeup:
            found[day] = ("workday", _makeup_name(day, named, language), "library")
    for kind, days in (("holiday", calendar.extra_holidays), ("workday", calendar.extra_workdays)):
        for day in days:
            if day.year == year:
                found[day] = (kind, labels.say(labels.COMPANY_DAYS[kind], language), "cslog.yaml")
    rows = [{"date": day.isoformat(), "weekday": WEEKDAY_NAMES[day.weekday()], "kind": kind, "name": name,
             "source": source} for day, (kind, name, source) in sorted(found.items())]
    return CalendarYear(year, calendar.country, bool(makeup), calendar.unofficial(year), rows,
                        calendar.unofficial_warnings([year]))


def _makeup_name(day: date, named: dict[date, str], language: str) -> str:
    """A make-up working day's name: the day off it pays for, when the library's names say which."""
    marks = (day.isoformat(), f"{day:%m/%d/%Y}")  # 休息日(由 2026-10-10 调休) / Day off (substituted from 10/10/2026)
    paid = [other for other, name in named.items() if any(mark in name for mark in marks)]
    if not paid:
        return labels.say(labels.MAKEUP_DAY, language)
    return labels.say(labels.MAKEUP_FOR, language).format(day=", ".join(d.isoformat() for d in paid))
