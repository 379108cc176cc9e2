"""Working days and business hours on the Chinese calendar of 2025 and 2026, worked out by hand."""
import json
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cslog.calendar import WorkCalendar
from cslog.durations import parse_duration

LUNCH_HOURS = [{"start": "09:00", "end": "12:00"}, {"start": "13:30", "end": "18:00"}]
STD = WorkCalendar.from_config({}, "Asia/Shanghai")
LUNCH = WorkCalendar.from_config({"business_hours": LUNCH_HOURS}, "Asia/Shanghai")
CALENDARS = {"std": STD, "lunch": LUNCH}


def at(text: str) -> datetime:
    """A Beijing time written as 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(text.replace(" ", "T") + "+08:00")


# (calendar, received, duration, due): every due worked out by hand from the State Council's
# holiday notices (国务院办公厅关于2025年/2026年部分节假日安排的通知).
DEADLINES = [
    # the two examples of design.md section 4
    ("std", "2026-09-30 16:00", "3bd", "2026-10-10 18:00"),  # Oct 1-7 off; Oct 8, 9, Sat 10 (make-up) work
    ("std", "2026-09-18 17:00", "8bh", "2026-09-20 16:00"),  # 1h Fri, Sat off, Sun 20 make-up day
    ("std", "2026-09-18 17:00", "1bh", "2026-09-18 18:00"),  # ends on the window's end: stays there
    # New Year
    ("std", "2025-01-01 10:00", "4bh", "2025-01-02 13:00"),  # received on the holiday itself
    ("std", "2025-12-31 17:00", "11bh", "2026-01-05 10:00"),  # 1h; Jan 1-3 off; Sun Jan 4 make-up 9h; 1h
    ("std", "2025-12-31 09:00", "2bd", "2026-01-05 18:00"),  # Jan 4 (Sun, make-up), Jan 5
    # Spring Festival 2025: Jan 28 - Feb 4 off; Sun Jan 26 and Sat Feb 8 work
    ("std", "2025-01-27 17:30", "8bh", "2025-02-05 16:30"),  # 0.5h, then 7.5h on Wed Feb 5
    ("std", "2025-01-25 22:00", "2bh", "2025-01-26 11:00"),  # Saturday night, Sunday is a make-up day
    ("std", "2025-01-24 15:00", "3bd", "2025-02-05 18:00"),  # Jan 26 (make-up), Jan 27, Feb 5
    ("std", "2025-02-07 18:30", "1bh", "2025-02-08 10:00"),  # Friday night, make-up Saturday
    # Spring Festival 2026: Feb 15 - 23 off; Sat Feb 14 and Sat Feb 28 work
    ("std", "2026-02-13 20:00", "3bd", "2026-02-25 18:00"),  # Feb 14 (make-up), Feb 24, Feb 25
    ("std", "2026-02-14 16:00", "4bh", "2026-02-24 11:00"),  # received on the make-up Saturday
    ("std", "2026-02-27 17:00", "2bh", "2026-02-28 10:00"),
    # Qingming
    ("std", "2025-04-03 16:00", "1bd", "2025-04-07 18:00"),  # Apr 4-6 off
    ("std", "2026-04-03 18:00", "1bh", "2026-04-07 10:00"),  # Apr 4-6 off (Mon 6 observed)
    # Labour Day
    ("std", "2025-04-26 10:00", "9bh", "2025-04-27 18:00"),  # Sun Apr 27 make-up, a whole day
    ("std", "2025-04-30 14:00", "16bh", "2025-05-07 12:00"),  # 4h; May 1-5 off; 9h May 6; 3h
    ("std", "2026-04-30 12:00", "2bd", "2026-05-07 18:00"),  # May 1-5 off
    ("std", "2026-05-08 15:00", "1bd", "2026-05-09 18:00"),  # Sat May 9 make-up
    # Dragon Boat
    ("std", "2025-05-30 23:00", "2bd", "2025-06-04 18:00"),  # May 31 - Jun 2 off
    ("std", "2026-06-18 17:30", "4bh", "2026-06-22 12:30"),  # Jun 19-21 off
    # Mid-Autumn 2026 (a separate break: Sep 25-27)
    ("std", "2026-09-24 18:00", "2bd", "2026-09-29 18:00"),
    # National Day 2025 (with Mid-Autumn): Oct 1-8 off; Sun Sep 28 and Sat Oct 11 work
    ("std", "2025-09-27 12:00", "3bd", "2025-09-30 18:00"),  # Sep 28 (make-up), 29, 30
    ("std", "2025-09-30 10:00", "12bh", "2025-10-09 13:00"),
    ("std", "2025-10-10 18:00", "1bh", "2025-10-11 10:00"),  # make-up Saturday
    # National Day 2026
    ("std", "2026-09-30 23:30", "1bh", "2026-10-08 10:00"),  # received at night before the holiday
    ("std", "2026-10-03 10:00", "1bd", "2026-10-08 18:00"),  # received during the holiday
    # wall-clock durations ignore the calendar
    ("std", "2026-09-30 16:00", "2d", "2026-10-02 16:00"),
    ("std", "2026-10-01 22:00", "4h", "2026-10-02 02:00"),
    ("std", "2026-10-01 23:50", "30m", "2026-10-02 00:20"),
    # a lunch break: 09:00-12:00 and 13:30-18:00
    ("lunch", "2026-09-30 11:00", "1bh", "2026-09-30 12:00"),  # stays at 12:00, not 13:30
    ("lunch", "2026-09-30 11:00", "2bh", "2026-09-30 14:30"),
    ("lunch", "2026-09-30 12:30", "1bh", "2026-09-30 14:30"),  # received at lunch
    ("lunch", "2026-10-08 09:00", "3bh", "2026-10-08 12:00"),
    ("lunch", "2026-09-30 16:00", "3bd", "2026-10-10 18:00"),
    ("lunch", "2026-09-18 17:00", "8bh", "2026-09-20 17:30"),  # 1h Fri; Sun 20: 3h + 4h
    ("lunch", "2025-04-30 17:00", "8bh", "2025-05-06 17:30"),  # 1h; May 6: 3h + 4h
    ("lunch", "2026-03-02 09:00", "15bh", "2026-03-03 18:00"),  # two whole days
]


@pytest.mark.parametrize("cal, received, duration, due", DEADLINES)
def test_deadline(cal, received, duration, due):
    assert CALENDARS[cal].add_duration(at(received), parse_duration(duration)) == at(due)


def test_results_are_in_the_configured_timezone():
    received = datetime(2026, 9, 18, 9, 0, tzinfo=timezone.utc)  # 17:00 in Beijing
    due = STD.add_duration(received, parse_duration("8bh"))
    assert due == at("2026-09-20 16:00")
    assert due.isoformat() == "2026-09-20T16:00:00+08:00"
    assert STD.add_duration(received, parse_duration("4h")).isoformat() == "2026-09-18T21:00:00+08:00"


@pytest.mark.parametrize("cal, start, end, hours", [
    ("std", "2026-09-30 16:00", "2026-10-10 18:00", 29),  # 2 + 9 + 9 + 9
    ("std", "2025-01-27 17:30", "2025-02-05 16:30", 8),
    ("std", "2025-12-31 17:00", "2026-01-05 10:00", 11),  # across the year end
    ("std", "2026-10-01 00:00", "2026-10-07 23:59", 0),
    ("std", "2026-10-10 18:00", "2026-10-10 09:00", 0),  # end before start
    ("lunch", "2026-09-30 11:00", "2026-10-08 14:00", 9),  # 1 + 4.5 ; 3 + 0.5
    ("lunch", "2026-09-30 12:10", "2026-09-30 13:20", 0),
])
def test_business_between(cal, start, end, hours):
    assert CALENDARS[cal].business_between(at(start), at(end)) == timedelta(hours=hours)


WORKING_DAYS = [
    ("2025-01-01", False), ("2025-01-26", True), ("2025-02-04", False), ("2025-02-08", True),
    ("2025-04-04", False), ("2025-04-27", True), ("2025-05-05", False), ("2025-06-02", False),
    ("2025-09-28", True), ("2025-10-06", False), ("2025-10-08", False), ("2025-10-11", True),
    ("2026-01-02", False), ("2026-01-04", True), ("2026-02-14", True), ("2026-02-23", False),
    ("2026-02-28", True), ("2026-04-06", False), ("2026-05-05", False), ("2026-05-09", True),
    ("2026-06-19", False), ("2026-09-20", True), ("2026-09-25", False), ("2026-10-07", False),
    ("2026-10-09", True), ("2026-10-10", True), ("2026-10-11", False),
]


@pytest.mark.parametrize("day, working", WORKING_DAYS)
def test_is_working_day(day, working):
    assert STD.is_working_day(date.fromisoformat(day)) is working


# The official schedules, written out: weekdays off and weekend days worked. If a holidays release
# changes its China data, this test says so before any deadline moves.
OFFICIAL = {
    2025: ({"01-01", "01-28", "01-29", "01-30", "01-31", "02-03", "02-04", "04-04", "05-01", "05-02", "05-05",
            "06-02", "10-01", "10-02", "10-03", "10-06", "10-07", "10-08"},
           {"01-26", "02-08", "04-27", "09-28", "10-11"}),
    2026: ({"01-01", "01-02", "02-16", "02-17", "02-18", "02-19", "02-20", "02-23", "04-06", "05-01", "05-04",
            "05-05", "06-19", "09-25", "10-01", "10-02", "10-05", "10-06", "10-07"},
           {"01-04", "02-14", "02-28", "05-09", "09-20", "10-10"}),
}


@pytest.mark.parametrize("year", sorted(OFFICIAL))
def test_china_calendar_matches_the_official_schedule(year):
    weekdays_off, weekends_worked = set(), set()
    d = date(year, 1, 1)
    while d.year == year:
        if d.weekday() < 5 and not STD.is_working_day(d):
            weekdays_off.add(d.strftime("%m-%d"))
        if d.weekday() >= 5 and STD.is_working_day(d):
            weekends_worked.add(d.strftime("%m-%d"))
        d += timedelta(days=1)
    assert (weekdays_off, weekends_worked) == OFFICIAL[year]


@pytest.mark.parametrize("cal, moment, inside", [
    ("std", "2026-10-10 09:00", True),  # make-up Saturday; the window's start counts
    ("std", "2026-10-10 17:59", True),
    ("std", "2026-10-10 18:00", False),  # the window's end does not
    ("std", "2026-10-05 10:00", False),  # holiday
    ("std", "2026-10-11 10:00", False),  # Sunday
    ("lunch", "2026-10-08 12:00", False),
    ("lunch", "2026-10-08 12:30", False),
    ("lunch", "2026-10-08 13:30", True),
])
def test_is_business_time(cal, moment, inside):
    assert CALENDARS[cal].is_business_time(at(moment)) is inside


def test_close_of_nth_working_day_ignores_the_time_of_day():
    for received in ("2026-09-30 00:00", "2026-09-30 08:00", "2026-09-30 12:00", "2026-09-30 23:59"):
        assert STD.close_of_nth_working_day(at(received), 1) == at("2026-10-08 18:00")
    with pytest.raises(ValueError, match="at least 1"):
        STD.close_of_nth_working_day(at("2026-09-30 10:00"), 0)


def test_add_business_edges():
    start = at("2026-09-30 10:00")
    assert STD.add_business(start, timedelta(0)) == start
    with pytest.raises(ValueError, match="negative"):
        STD.add_business(start, timedelta(minutes=-1))
    # A long span: 250 working days of 9h from the first working day of 2025 run into 2026.
    assert STD.business_between(at("2025-01-02 09:00"), STD.add_business(at("2025-01-02 09:00"),
                                                                          timedelta(hours=9 * 400))) \
        == timedelta(hours=9 * 400)


def test_elapsed_uses_the_duration_clock():
    a, b = at("2026-09-30 16:00"), at("2026-10-08 10:00")
    assert STD.elapsed(a, b, parse_duration("4h")) == timedelta(days=7, hours=18)
    assert STD.elapsed(a, b, parse_duration("8bh")) == timedelta(hours=3)
    assert STD.elapsed(a, b, parse_duration("3bd")) == timedelta(hours=3)
    assert STD.elapsed(b, a, parse_duration("4h")) == timedelta(0)


# -- company overrides -------------------------------------------------------------------------------

def test_extra_holiday_beats_a_make_up_day():
    cal = WorkCalendar.from_config({"extra_holidays": ["2026-10-10"]}, "Asia/Shanghai")
    assert not cal.is_working_day(date(2026, 10, 10))
    assert cal.add_duration(at("2026-09-30 16:00"), parse_duration("3bd")) == at("2026-10-12 18:00")


def test_extra_workday_beats_a_public_holiday_and_a_weekend():
    cal = WorkCalendar.from_config({"extra_workdays": ["2026-10-05", "2026-11-07"]}, "Asia/Shanghai")
    assert cal.is_working_day(date(2026, 10, 5)) and cal.is_working_day(date(2026, 11, 7))
    assert cal.add_duration(at("2026-09-30 16:00"), parse_duration("3bd")) == at("2026-10-09 18:00")
    assert cal.add_duration(at("2026-10-04 12:00"), parse_duration("2bh")) == at("2026-10-05 11:00")


@pytest.mark.parametrize("country", ["", None])
def test_no_country_means_no_public_holidays(country):
    cal = WorkCalendar.from_config({"country": country}, "Asia/Shanghai")
    assert cal.is_working_day(date(2026, 10, 1))
    assert not cal.is_working_day(date(2026, 10, 10))  # no make-up days either
    assert cal.add_duration(at("2026-09-30 16:00"), parse_duration("3bd")) == at("2026-10-05 18:00")


def test_weekdays_and_other_countries_and_zones():
    six_days = WorkCalendar.from_config({"weekdays": ["mon", "tue", "wed", "thu", "fri", "Saturday"]}, "Asia/Shanghai")
    assert six_days.is_working_day(date(2026, 11, 7))
    us = WorkCalendar.from_config({"country": "us"}, "America/New_York")
    assert not us.is_working_day(date(2026, 7, 3))  # Independence Day observed (July 4 is a Saturday)
    # 8bh from Friday 17:00 over the DST change (Nov 1 2026): Monday ends at 16:00 local, in EST.
    due = us.add_duration(datetime.fromisoformat("2026-10-30T17:00-04:00"), parse_duration("8bh"))
    assert due.isoformat() == "2026-11-02T16:00:00-05:00"


def test_importing_the_module_does_not_load_holiday_data():
    code = "import sys, cslog.calendar; print('holidays' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={"PYTHONPATH": str(__import__("pathlib").Path(__file__).parents[1])})
    assert result.stdout.strip() == "False"


# -- bad configuration -------------------------------------------------------------------------------

@pytest.mark.parametrize("calendar, tz, message", [
    ({"business_hours": [{"start": "09:00", "end": "13:00"}, {"start": "12:00", "end": "18:00"}]}, "Asia/Shanghai",
     "calendar.business_hours: windows 09:00-13:00 and 12:00-18:00 overlap or are out of order: "
     "list them from morning to evening without overlap"),
    ({"business_hours": [{"start": "13:30", "end": "18:00"}, {"start": "09:00", "end": "12:00"}]}, "Asia/Shanghai",
     "calendar.business_hours: windows 13:30-18:00 and 09:00-12:00 overlap or are out of order: "
     "list them from morning to evening without overlap"),
    ({"business_hours": [{"start": "18:00", "end": "09:00"}]}, "Asia/Shanghai",
     "calendar.business_hours[0]: window 18:00-09:00 must end after it starts"),
    ({"business_hours": [{"start": "09:00", "end": "09:00"}]}, "Asia/Shanghai",
     "calendar.business_hours[0]: window 09:00-09:00 must end after it starts"),
    ({"business_hours": [{"start": "9am", "end": "18:00"}]}, "Asia/Shanghai",
     "calendar.business_hours[0].start: invalid time '9am': write it as a quoted 'HH:MM', e.g. '09:00'"),
    ({"business_hours": [{"start": "09:00", "end": "25:00"}]}, "Asia/Shanghai",
     "calendar.business_hours[0].end: invalid time '25:00': write it as a quoted 'HH:MM', e.g. '09:00'"),
    ({"business_hours": [{"start": 540, "end": "18:00"}]}, "Asia/Shanghai",
     "calendar.business_hours[0].start: invalid time 540: write it as a quoted 'HH:MM', e.g. '09:00'"),
    ({"business_hours": []}, "Asia/Shanghai",
     "calendar.business_hours: give at least one window, e.g. [{start: '09:00', end: '18:00'}]"),
    ({"business_hours": [{"start": "09:00"}]}, "Asia/Shanghai",
     "calendar.business_hours[0]: a window is {start: 'HH:MM', end: 'HH:MM'}"),
    ({"weekdays": ["mon", "funday"]}, "Asia/Shanghai",
     "calendar.weekdays: unknown weekday 'funday': use mon, tue, wed, thu, fri, sat, sun"),
    ({"extra_holidays": ["2026-02-30"]}, "Asia/Shanghai",
     "calendar.extra_holidays: invalid date '2026-02-30': write dates as 'YYYY-MM-DD'"),
    ({"extra_workdays": ["20261010"]}, "Asia/Shanghai",
     "calendar.extra_workdays: invalid date '20261010': write dates as 'YYYY-MM-DD'"),
    ({"extra_holidays": ["2026-10-10"], "extra_workdays": ["2026-10-10"]}, "Asia/Shanghai",
     "calendar.extra_workdays: 2026-10-10 is also in calendar.extra_holidays; keep it in one list"),
    ({"country": "XX"}, "Asia/Shanghai",
     "calendar.country: unknown country code 'XX': use a python-holidays code such as CN, "
     "or '' for no public holidays"),
    ({"weekday": ["mon"]}, "Asia/Shanghai",
     "calendar: unknown key 'weekday': use country, business_hours, weekdays, extra_holidays, extra_workdays"),
    ({}, "Mars/Olympus_Mons", "timezone: unknown timezone 'Mars/Olympus_Mons': use an IANA name such as Asia/Shanghai"),
    ({}, "../etc/passwd", "timezone: unknown timezone '../etc/passwd': use an IANA name such as Asia/Shanghai"),
])
def test_bad_config(calendar, tz, message):
    with pytest.raises(ValueError) as err:
        WorkCalendar.from_config(calendar, tz)
    assert str(err.value) == message


def test_dates_may_come_from_yaml_as_date_objects_and_ends_may_be_midnight():
    cal = WorkCalendar.from_config({"extra_holidays": [date(2026, 10, 9)],
                                    "business_hours": [{"start": "00:00", "end": "24:00"}]}, None)
    assert not cal.is_working_day(date(2026, 10, 9))
    assert cal.add_duration(at("2026-10-08 20:00"), parse_duration("4bh")) == at("2026-10-09 00:00")
    assert cal.add_duration(at("2026-10-08 20:00"), parse_duration("1bd")) == at("2026-10-11 00:00")


# -- properties --------------------------------------------------------------------------------------

PROPS = settings(max_examples=150, deadline=None)
moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31, 23, 59),
                       timezones=st.just(timezone(timedelta(hours=8)))).map(lambda t: t.replace(second=0, microsecond=0))
calendars = st.sampled_from(["std", "lunch"])
durations = st.builds(lambda n, unit: parse_duration(f"{n}{unit}"),
                      st.integers(1, 60), st.sampled_from(["m", "h", "d", "bh", "bd"]))


def _inside_or_at_a_window_end(cal: WorkCalendar, t: datetime) -> bool:
    if cal.is_business_time(t):
        return True
    local = cal.local(t)
    ends = {w.end for w in cal.windows}
    return cal.is_working_day(local.date()) and local.hour * 60 + local.minute in ends and local.second == 0


@PROPS
@given(calendars, moments, st.integers(1, 9 * 60 * 40))
def test_add_then_measure_gives_the_delta_back(name, start, minutes):
    cal = CALENDARS[name]
    delta = timedelta(minutes=minutes)
    assert cal.business_between(start, cal.add_business(start, delta)) == delta


@PROPS
@given(calendars, moments, durations.filter(lambda d: d.is_business))
def test_business_deadlines_fall_in_business_hours(name, start, d):
    cal = CALENDARS[name]
    assert _inside_or_at_a_window_end(cal, cal.add_duration(start, d))


@PROPS
@given(calendars, moments, st.integers(0, 60 * 24 * 20), durations)
def test_a_later_start_never_gives_an_earlier_deadline(name, start, later_by, d):
    cal = CALENDARS[name]
    later = start + timedelta(minutes=later_by)
    assert cal.add_duration(later, d) >= cal.add_duration(start, d)


# -- the holidays cache ------------------------------------------------------------------------------

def test_cached_holidays_give_the_same_calendar(tmp_path):
    from cslog.calendar import HolidayData, holidays_version

    cache = tmp_path / "holidays.json"
    first = WorkCalendar.from_config({}, "Asia/Shanghai", HolidayData(str(cache)))
    days = [date(2024, 12, 25) + timedelta(days=i) for i in range(700)]
    fresh = [first.is_working_day(d) for d in days]
    assert fresh == [STD.is_working_day(d) for d in days]
    stored = json.loads(cache.read_text(encoding="utf-8"))
    assert stored["holidays"] == holidays_version() and set(stored["countries"]["CN"]) == {"2024", "2025", "2026"}
    again = WorkCalendar.from_config({}, "Asia/Shanghai", HolidayData(str(cache)))
    assert [again.is_working_day(d) for d in days] == fresh
    assert again.holidays._countries is not None and "2027" not in again.holidays._countries["CN"]


@pytest.mark.parametrize("content", ["{not json", '{"holidays": "0.0", "countries": {"CN": {"2026": [[], []]}}}',
                                     '{"holidays": "%s", "countries": {"CN": {"2026": [["x"], 3]}}}', "[]"])
def test_a_damaged_or_outdated_holidays_cache_is_ignored_and_rewritten(tmp_path, content):
    from cslog.calendar import HolidayData, holidays_version

    cache = tmp_path / "holidays.json"
    cache.write_text(content.replace("%s", holidays_version()), encoding="utf-8")
    cal = WorkCalendar.from_config({}, "Asia/Shanghai", HolidayData(str(cache)))
    assert not cal.is_working_day(date(2026, 10, 1)) and cal.is_working_day(date(2026, 10, 10))
    assert "2026-10-01" in json.loads(cache.read_text(encoding="utf-8"))["countries"]["CN"]["2026"][0]


def test_an_unknown_country_is_refused_with_or_without_a_cache(tmp_path):
    from cslog.calendar import HolidayData

    for source in (None, HolidayData(str(tmp_path / "holidays.json"))):
        with pytest.raises(ValueError, match="unknown country code 'XX'"):
            WorkCalendar.from_config({"country": "XX"}, "Asia/Shanghai", source)
