"""Working days and business hours: public holidays, make-up working days (调休) and company overrides."""
from __future__ import annotations

import json
import os
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cslog.defaults import DEFAULTS
from cslog.durations import Duration

UTC = timezone.utc
_US = timedelta(microseconds=1)
_DAY = timedelta(days=1)
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_CALENDAR: Mapping[str, Any] = DEFAULTS["calendar"]  # one place for the documented defaults
DEFAULT_TIMEZONE = DEFAULTS["timezone"]
# A calendar with no business time for this long is broken, not slow: stop instead of walking to year 9999.
_MAX_EMPTY_YEARS = 20
_MAX_EMPTY_DAYS = 366 * _MAX_EMPTY_YEARS


@dataclass(frozen=True)
class Window:
    """Business hours within one day, in minutes after midnight; `end` may be 1440 (24:00)."""

    start: int
    end: int

    @property
    def text(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


@dataclass(frozen=True)
class _Year:
    """Cumulative business time (microseconds) at the start of each day of one year; the last entry is the total."""

    first: int  # ordinal of Jan 1
    start_cum: list[int]

    @property
    def total(self) -> int:
        return self.start_cum[-1]


class CalendarError(ValueError):
    """The calendar itself cannot answer (no business time for years): the configuration, not a ticket."""


@lru_cache(maxsize=None)
def holidays_version() -> str:
    """The installed python-holidays version, read from its dist-info without importing it (~90 ms)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("holidays")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin:
        return "none"
    package = os.path.dirname(spec.origin)
    site = os.path.dirname(package)
    try:
        for name in os.listdir(site):
            if name.startswith("holidays-") and name.endswith((".dist-info", ".egg-info")):
                return name[len("holidays-"):].rsplit(".", 1)[0]
    except OSError:
        pass
    try:
        return f"mtime:{os.stat(spec.origin).st_mtime_ns}"
    except OSError:
        return "unknown"


class HolidayData:
    """Public holidays and make-up working days (调休) of countries, by year, from python-holidays.

    Importing python-holidays costs ~90 ms, most of a fast command's time; with a cache file (JSON, for
    one holidays version, rewritten atomically when a country or year is added) a command imports it only
    for a country or year it has not met before. A missing, damaged or other-version file is ignored."""

    def __init__(self, cache: str | None = None) -> None:
        self.cache = cache
        self._countries: dict | None = None

    def _data(self) -> dict:
        if self._countries is None:
            self._countries = {}
            if self.cache:
                try:
                    with open(self.cache, encoding="utf-8") as f:
                        stored = json.load(f)
                except (OSError, ValueError):
                    stored = None
                if (isinstance(stored, dict) and stored.get("holidays") == holidays_version()
                        and isinstance(stored.get("countries"), dict)):
                    self._countries = stored["countries"]
        return self._countries

    def known(self, code: str) -> bool:
        """Whether python-holidays has this country code."""
        if isinstance(self._data().get(code), dict):
            return True
        import holidays

        try:  # loads this one country's module; list_supported_countries() would import all ~500 of them
            known = holidays.country_holidays(code) is not None
        except NotImplementedError:
            known = False
        if known:
            self._data()[code] = {}
            self._save()
        return known

    def year(self, code: str, year: int) -> tuple[frozenset[date], frozenset[date]]:
        """(public holidays, make-up working days) of one country in one year."""
        entry = self._data().get(code)
        stored = entry.get(str(year)) if isinstance(entry, dict) else None
        if isinstance(stored, list) and len(stored) == 2:
            try:
                return (frozenset(date.fromisoformat(d) for d in stored[0]),
                        frozenset(date.fromisoformat(d) for d in stored[1]))
            except (TypeError, ValueError):
                pass  # damaged: ask python-holidays again
        import holidays

        found = holidays.country_holidays(code, years=year)
        public = frozenset(d for d in found if d.year == year)
        makeup = frozenset(d for d in getattr(found, "weekend_workdays", ()) if d.year == year)
        if not isinstance(entry, dict):
            entry = self._data()[code] = {}
        entry[str(year)] = [sorted(d.isoformat() for d in public), sorted(d.isoformat() for d in makeup)]
        self._save()
        return public, makeup

    def named(self, code: str, year: int, language: str = "zh") -> dict[date, str]:
        """The public holidays of one country in one year with their names in the library (zh: Chinese where
        it has them); read from python-holidays each time (a listing, not a deadline)."""
        import holidays

        found = holidays.country_holidays(code, years=year)
        wanted = {"zh": "zh_CN", "en": "en_US"}.get(language)
        if wanted in getattr(found, "supported_languages", ()):
            found = holidays.country_holidays(code, years=year, language=wanted)
        return {d: name for d, name in sorted(found.items()) if d.year == year}

    def _save(self) -> None:
        if not self.cache:
            return
        folder = os.path.dirname(self.cache)
        temp = f"{self.cache}.{os.getpid()}.tmp"
        try:
            if not os.path.isdir(folder) or os.path.islink(folder):
                return  # the cache folder is made by whoever owns it (the repository's .cslog/)
            with open(temp, "w", encoding="utf-8") as f:
                json.dump({"holidays": holidays_version(), "countries": self._countries}, f, sort_keys=True)
            os.replace(temp, self.cache)
        except OSError:
            try:
                os.unlink(temp)
            except OSError:
                pass


_NO_CACHE = HolidayData()


class WorkCalendar:
    """Which days are working days and which moments are business time, in one timezone.

    Holiday data is loaded one year at a time when first needed and cached, as are per-date answers
    and per-year running totals of business time: deadlines for thousands of tickets reuse them.
    """

    def __init__(self, tz: ZoneInfo, windows: Sequence[Window], weekdays: Iterable[int],
                 country: str | None = None, extra_holidays: Iterable[date] = (),
                 extra_workdays: Iterable[date] = (), holidays: HolidayData | None = None) -> None:
        self.tz = tz
        self.windows = tuple(windows)
        self.weekdays = frozenset(weekdays)
        self.country = country or None
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_workdays = frozenset(extra_workdays)
        self.holidays = holidays or _NO_CACHE
        self._country_years: dict[int, tuple[frozenset[date], frozenset[date]]] = {}
        self._working: dict[date, bool] = {}
        self._years: dict[int, _Year] = {}

    @classmethod
    def from_config(cls, calendar: Mapping[str, Any] | None, timezone: str | None = None,
                    holidays: HolidayData | None = None) -> WorkCalendar:
        """Build from cslog.yaml's `calendar:` section and `timezone:`; missing keys take the defaults.
        `holidays`: where the country's holidays come from (a HolidayData with a cache file, or none)."""
        holidays = holidays or _NO_CACHE
        section = dict(calendar or {})
        unknown = sorted(set(section) - set(DEFAULT_CALENDAR))
        if unknown:
            raise ValueError(f"calendar: unknown key '{unknown[0]}': use {', '.join(DEFAULT_CALENDAR)}")
        merged = {key: section[key] if key in section else value for key, value in DEFAULT_CALENDAR.items()}
        tz = _zone(DEFAULT_TIMEZONE if timezone is None else timezone)
        windows = _windows(merged["business_hours"])
        weekdays = _weekdays(merged["weekdays"])
        country = _country(merged["country"], holidays)
        holidays_ = _dates(merged["extra_holidays"], "calendar.extra_holidays")
        workdays = _dates(merged["extra_workdays"], "calendar.extra_workdays")
        both = sorted(set(holidays_) & set(workdays))
        if both:
            raise ValueError(f"calendar.extra_workdays: {both[0].isoformat()} is also in calendar.extra_holidays; "
                             "keep it in one list")
        return cls(tz, windows, weekdays, country, holidays_, workdays, holidays)

    # -- days -------------------------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        if isinstance(d, datetime):
            d = self.local(d).date()
        known = self._working.get(d)
        if known is None:
            known = self._working[d] = self._decide(d)
        return known

    def _decide(self, d: date) -> bool:
        # Company overrides first; a company day off also beats the country's make-up working day.
        if d in self.extra_workdays:
            return True
        if d in self.extra_holidays:
            return False
        public, makeup = self._country_year(d.year)
        if d in makeup:
            return True
        if d in public:
            return False
        return d.weekday() in self.weekdays

    def _country_year(self, year: int) -> tuple[frozenset[date], frozenset[date]]:
        loaded = self._country_years.get(year)
        if loaded is None:
            if self.country is None:
                loaded = (frozenset(), frozenset())
            else:
                loaded = self.holidays.year(self.country, year)
            self._country_years[year] = loaded
        return loaded

    def unofficial(self, year: int) -> bool:
        """Whether `year`'s make-up working days (调休) are missing: the holiday library has none for it
        although it has some in the ten years before (its dates are then estimates, the State Council's
        notice not in it yet), and cslog.yaml's calendar.extra_workdays has none in that year either."""
        if self.country is None or any(d.year == year for d in self.extra_workdays) or self._country_year(year)[1]:
            return False
        return any(self._country_year(y)[1] for y in range(year - 1, year - 11, -1))

    def unofficial_warnings(self, years: Iterable[int]) -> list[str]:
        """One warning line per year in `years` whose make-up working days cslog has to guess."""
        return [f"warning: {year}: the holiday library has no official make-up working days (调休) for {year} "
                f"(its dates are estimates): deadlines in {year} count no 调休; add the State Council's "
                f"make-up days to calendar.extra_workdays in cslog.yaml (cslog calendar {year} lists what is known)"
                for year in sorted(set(years)) if self.unofficial(year)]

    # -- moments ----------------------------------------------------------------------------------

    def local(self, t: datetime) -> datetime:
        """`t` in the calendar's timezone; a naive datetime is taken to be local time already."""
        return t.replace(tzinfo=self.tz) if t.tzinfo is None else t.astimezone(self.tz)

    def _utc(self, t: datetime) -> datetime:
        return self.local(t).astimezone(UTC)

    def _day_windows(self, d: date) -> list[tuple[datetime, datetime]]:
        """The windows of date `d` as UTC instants (whether or not `d` is a working day)."""
        spans = []
        for w in self.windows:
            start, end = self._wall(d, w.start), self._wall(d, w.end)
            spans.append((start, max(start, end)))  # a window squeezed by a DST jump is empty, never negative
        return spans

    def _wall(self, d: date, minutes: int) -> datetime:
        if minutes == 24 * 60:
            return datetime.combine(d + _DAY, time(0), self.tz).astimezone(UTC)
        return datetime.combine(d, time(minutes // 60, minutes % 60), self.tz).astimezone(UTC)

    def is_business_time(self, t: datetime) -> bool:
        """Inside a window of a working day: the window's start counts, its end does not."""
        u = self._utc(t)
        d = self.local(t).date()
        return self.is_working_day(d) and any(ws <= u < we for ws, we in self._day_windows(d))

    def _year(self, year: int) -> _Year:
        known = self._years.get(year)
        if known is None:
            first = date(year, 1, 1)
            cum = [0]
            for ordinal in range(first.toordinal(), date(year + 1, 1, 1).toordinal()):
                d = date.fromordinal(ordinal)
                length = 0
                if self.is_working_day(d):
                    length = sum((we - ws) // _US for ws, we in self._day_windows(d))
                cum.append(cum[-1] + length)
            known = self._years[year] = _Year(first.toordinal(), cum)
        return known

    def _position(self, t: datetime) -> tuple[int, int]:
        """(year, business microseconds from the start of that year to `t`)."""
        u = self._utc(t)
        d = self.local(t).date()
        year = self._year(d.year)
        offset = year.start_cum[d.toordinal() - year.first]
        if self.is_working_day(d):
            for ws, we in self._day_windows(d):
                if u <= ws:
                    break
                offset += (min(u, we) - ws) // _US
        return d.year, offset

    def business_between(self, a: datetime, b: datetime) -> timedelta:
        """Business time in [a, b); zero when b <= a."""
        if self._utc(b) <= self._utc(a):
            return timedelta(0)
        year_a, pos_a = self._position(a)
        year_b, pos_b = self._position(b)
        total = pos_b - pos_a + sum(self._year(y).total for y in range(year_a, year_b))
        return total * _US

    def add_business(self, start: datetime, delta: timedelta) -> datetime:
        """`start` plus `delta` of business time. Counting starts at the next opening when `start` is
        outside business hours, and a result landing exactly on a window's end stays there (17:00 + 1bh
        is 18:00 that day, not 09:00 the next)."""
        if delta < timedelta(0):
            raise ValueError(f"cannot add a negative business time ({delta})")
        if not delta:
            return self.local(start)
        year, pos = self._position(start)
        target = pos + delta // _US
        empty_years = 0
        while target > (total := self._year(year).total):
            target -= total
            empty_years = empty_years + 1 if total == 0 else 0
            if empty_years > _MAX_EMPTY_YEARS:
                raise CalendarError("the calendar has no business time: check calendar.weekdays and business_hours")
            year += 1
        found = self._year(year)
        # The first day whose running total reaches the target is the day the time runs out.
        index = bisect_left(found.start_cum, target, lo=1) - 1
        day = date.fromordinal(found.first + index)
        rest = target - found.start_cum[index]
        for ws, we in self._day_windows(day):
            length = (we - ws) // _US
            if rest <= length:
                return (ws + rest * _US).astimezone(self.tz)
            rest -= length
        raise AssertionError("business time ran past the end of the day that holds it")  # pragma: no cover

    def close_of_nth_working_day(self, start: datetime, n: int) -> datetime:
        """End of the last window of the n-th working day after the day of `start` (that day not counted)."""
        if n < 1:
            raise ValueError(f"the number of working days must be at least 1, not {n}")
        d = self.local(start).date()
        idle = 0
        while n:
            d += _DAY
            if self.is_working_day(d):
                n -= 1
                idle = 0
            else:
                idle += 1
                if idle > _MAX_EMPTY_DAYS:
                    raise CalendarError("the calendar has no working days: check calendar.weekdays")
        return self._day_windows(d)[-1][1].astimezone(self.tz)

    def add_duration(self, start: datetime, d: Duration) -> datetime:
        """The deadline `d` after `start`: m/h/d on the wall clock, bh in business hours, bd by working days."""
        if d.unit == "bh":
            return self.add_business(start, timedelta(hours=d.amount))
        if d.unit == "bd":
            return self.close_of_nth_working_day(start, d.amount)
        return (self._utc(start) + d.wall_timedelta()).astimezone(self.tz)

    def extend(self, due: datetime, extra: timedelta, d: Duration) -> datetime:
        """Move a deadline of `d`'s kind later by `extra` measured on `d`'s own clock."""
        if d.is_business:
            return self.add_business(due, extra)
        return (self._utc(due) + extra).astimezone(self.tz)

    def elapsed(self, a: datetime, b: datetime, d: Duration) -> timedelta:
        """Time from `a` to `b` on `d`'s own clock: wall time for m/h/d, business time for bh and bd."""
        if d.is_business:
            return self.business_between(a, b)
        return max(self._utc(b) - self._utc(a), timedelta(0))


# -- configuration parsing ------------------------------------------------------------------------

def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _zone(name: Any) -> ZoneInfo:
    try:
        if not isinstance(name, str) or not name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"timezone: unknown timezone '{name}': use an IANA name such as Asia/Shanghai") from exc


def _minutes(value: Any, where: str) -> int:
    if isinstance(value, time):
        return value.hour * 60 + value.minute
    text = value.strip() if isinstance(value, str) else ""
    hours, _, mins = text.partition(":")
    if hours.isdigit() and mins.isdigit() and len(mins) == 2 and len(hours) <= 2:
        total = int(hours) * 60 + int(mins)
        if int(mins) < 60 and total <= 24 * 60:
            return total
    raise ValueError(f"{where}: invalid time {value!r}: write it as a quoted 'HH:MM', e.g. '09:00'")


def _windows(value: Any) -> tuple[Window, ...]:
    where = "calendar.business_hours"
    if not isinstance(value, list) or not value:
        raise ValueError(f"{where}: give at least one window, e.g. [{{start: '09:00', end: '18:00'}}]")
    windows = []
    for i, item in enumerate(value):
        if not isinstance(item, Mapping) or set(item) != {"start", "end"}:
            raise ValueError(f"{where}[{i}]: a window is {{start: 'HH:MM', end: 'HH:MM'}}")
        start = _minutes(item["start"], f"{where}[{i}].start")
        end = _minutes(item["end"], f"{where}[{i}].end")
        if start == 24 * 60 or end <= start:
            raise ValueError(f"{where}[{i}]: window {_hhmm(start)}-{_hhmm(end)} must end after it starts")
        windows.append(Window(start, end))
    for before, after in zip(windows, windows[1:]):
        if after.start < before.end:
            raise ValueError(f"{where}: windows {before.text} and {after.text} overlap or are out of order: "
                             "list them from morning to evening without overlap")
    return tuple(windows)


def _weekdays(value: Any) -> frozenset[int]:
    if not isinstance(value, list):
        raise ValueError("calendar.weekdays: give a list such as [mon, tue, wed, thu, fri]")
    days = set()
    for name in value:
        key = name.strip().lower() if isinstance(name, str) else None
        if key in WEEKDAY_NAMES:
            days.add(WEEKDAY_NAMES.index(key))
        elif key in _FULL_NAMES:
            days.add(_FULL_NAMES.index(key))
        else:
            raise ValueError(f"calendar.weekdays: unknown weekday {name!r}: use {', '.join(WEEKDAY_NAMES)}")
    return frozenset(days)


def _country(value: Any, holidays: HolidayData) -> str | None:
    if value is None or value == "":
        return None
    code = value.strip().upper() if isinstance(value, str) else None
    if not code or not holidays.known(code):
        raise ValueError(f"calendar.country: unknown country code {value!r}: use a python-holidays code "
                         "such as CN, or '' for no public holidays")
    return code


def _dates(value: Any, where: str) -> tuple[date, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError(f"{where}: give a list of dates such as ['2026-10-09']")
    found = []
    for item in value:
        if isinstance(item, date) and not isinstance(item, datetime):
            found.append(item)
            continue
        text = item.strip() if isinstance(item, str) else ""
        try:
            if len(text) != 10:  # fromisoformat would also take the basic form 20261009
                raise ValueError(text)
            found.append(date.fromisoformat(text))
        except ValueError:
            raise ValueError(f"{where}: invalid date {item!r}: write dates as 'YYYY-MM-DD'") from None
    return tuple(found)
