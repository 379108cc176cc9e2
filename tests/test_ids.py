"""ID formats: rendering, recognising, and the strict pattern every ID passes before it touches a path."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cslog.ids import IdFormat, is_safe


def test_default_formats():
    ticket = IdFormat("CW{date:%Y%m%d}{seq:04d}")
    assert ticket.render(1, datetime(2026, 11, 22)) == "CW202611220001"
    parsed = ticket.parse("CW202611220012")
    assert parsed.day == date(2026, 11, 22) and parsed.seq == 12
    assert ticket.parse("CW20261122001") is None  # sequence too short
    assert ticket.parse("CW202613220001") is None  # month 13
    assert IdFormat("C{seq:04d}").render(7) == "C0007"
    assert IdFormat("C{seq:04d}").parse("C12345").seq == 12345  # past 9999 the width grows


def test_station_series():
    fmt = IdFormat("CW{station}{date:%Y%m%d}{seq:03d}")
    assert fmt.render(5, datetime(2026, 1, 2), "BJ") == "CWBJ20260102005"
    assert fmt.parse("CWBJ20260102005").station == "BJ"
    with pytest.raises(ValueError):
        fmt.render(5, datetime(2026, 1, 2), "")


@pytest.mark.parametrize("bad", ["CW{date:%H}{seq}", "CW{nope}{seq}", "CW{date}", "C/{seq}", "{seq}{seq}"])
def test_bad_formats(bad):
    with pytest.raises(ValueError):
        IdFormat(bad)


@pytest.mark.parametrize("value", ["../../etc/passwd", "", "a/b", ".hidden", "CW 1", "x" * 65, "工单1"])
def test_unsafe_ids(value):
    assert not is_safe(value)


@settings(max_examples=200, deadline=None)
@given(seq=st.integers(min_value=1, max_value=99999), day=st.dates(min_value=date(2000, 1, 1),
                                                                      max_value=date(2099, 12, 31)))
def test_render_then_parse_gives_it_back(seq, day):
    fmt = IdFormat("CW{date:%Y%m%d}{seq:04d}")
    value = fmt.render(seq, day)
    assert is_safe(value)
    parsed = fmt.parse(value)
    assert (parsed.day, parsed.seq) == (day, seq)
