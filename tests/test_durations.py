"""Parsing SLA durations and wording how late something is."""
from datetime import timedelta

import pytest

from cslog.durations import Duration, format_minutes, parse_duration

FORMS = ("use a number followed by m, h, d (wall clock), bh (business hours) or bd (working days), "
         "e.g. 30m, 4h, 2d, 8bh, 3bd")


@pytest.mark.parametrize("text, amount, unit, canonical", [
    ("30m", 30, "m", "30m"),
    ("4h", 4, "h", "4h"),
    ("2d", 2, "d", "2d"),
    ("8bh", 8, "bh", "8bh"),
    ("3bd", 3, "bd", "3bd"),
    ("  24h ", 24, "h", "24h"),
    ("8BH", 8, "bh", "8bh"),
    ("3Bd", 3, "bd", "3bd"),
    ("1M", 1, "m", "1m"),
    ("4 h", 4, "h", "4h"),
    ("100000m", 100000, "m", "100000m"),
])
def test_parse(text, amount, unit, canonical):
    d = parse_duration(text)
    assert d == Duration(amount, unit)
    assert d.text == canonical
    assert str(d) == canonical
    assert parse_duration(d.text) == d


@pytest.mark.parametrize("text", ["4x", "", "h", "1.5h", "-1h", "+2h", "4hh", "b8h", "3 b d", "4 hours", "4h30m",
                                  "３h", "8bd!", "bd"])
def test_parse_rejects_with_the_allowed_forms(text):
    with pytest.raises(ValueError) as err:
        parse_duration(text)
    assert str(err.value) == f"invalid duration '{text}': {FORMS}"


@pytest.mark.parametrize("value", [None, 4, 2.5, ["4h"]])
def test_parse_rejects_non_text(value):
    with pytest.raises(ValueError, match=r"^invalid duration .*: use a number followed by m, h, d"):
        parse_duration(value)


@pytest.mark.parametrize("text", ["0m", "0bd", " 0h", "100001m"])
def test_parse_rejects_out_of_range(text):
    with pytest.raises(ValueError) as err:
        parse_duration(text)
    assert str(err.value) == f"invalid duration '{text.strip()}': the number must be between 1 and 100000"


def test_business_flags_and_wall_length():
    assert not parse_duration("2d").is_business
    assert parse_duration("8bh").is_business and parse_duration("3bd").is_business
    assert parse_duration("30m").wall_timedelta() == timedelta(minutes=30)
    assert parse_duration("4h").wall_timedelta() == timedelta(hours=4)
    assert parse_duration("2d").wall_timedelta() == timedelta(hours=48)
    with pytest.raises(ValueError, match="'8bh' counts business time"):
        parse_duration("8bh").wall_timedelta()


def test_duration_is_frozen_and_checked():
    d = Duration(4, "h")
    with pytest.raises(AttributeError):
        d.amount = 5  # type: ignore[misc]
    with pytest.raises(ValueError):
        Duration(0, "h")
    with pytest.raises(ValueError):
        Duration(1, "w")  # type: ignore[arg-type]


@pytest.mark.parametrize("minutes, zh, en", [
    (0, "0分", "0m"),
    (1, "1分", "1m"),
    (45, "45分", "45m"),
    (60, "1小时", "1h"),
    (135, "2小时15分", "2h15m"),
    (1439, "23小时59分", "23h59m"),
    (1440, "1天", "1d"),
    (3 * 1440 + 120, "3天2小时", "3d2h"),
    (2 * 1440 + 5, "2天5分", "2d5m"),
    (1440 + 61, "1天1小时1分", "1d1h1m"),
    (-30, "-30分", "-30m"),
    (-135, "-2小时15分", "-2h15m"),
])
def test_format_minutes(minutes, zh, en):
    assert format_minutes(minutes, "zh") == zh
    assert format_minutes(minutes, "en") == en


def test_format_minutes_defaults_to_chinese_and_checks_language():
    assert format_minutes(90) == "1小时30分"
    with pytest.raises(ValueError, match="unknown language 'fr': use zh or en"):
        format_minutes(5, "fr")  # type: ignore[arg-type]
