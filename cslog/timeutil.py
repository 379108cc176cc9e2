"""Instants: parsing what users type, and the one canonical way of writing a time."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache

from cslog.errors import UsageError

_ONE_DIGIT_HOUR = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d):")


@lru_cache(maxsize=16)
def zone(name: str) -> tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UsageError(f"unknown timezone '{name}'", hint="use an IANA name such as Asia/Shanghai") from exc


def parse_time(text: str, tz: tzinfo, what: str = "time") -> datetime:
    """What a user types: ISO 8601 with or without offset, `YYYY-MM-DD HH:MM` (also `9:30`), or a date (its
    midnight); no offset means `tz`. UsageError naming `what` otherwise."""
    raw = _ONE_DIGIT_HOUR.sub(r"\1T0\2:", str(text).strip())
    try:
        return instant(raw, tz)
    except ValueError:
        pass
    try:  # the other ISO 8601 forms this Python reads (basic forms, seconds in offsets...)
        value = datetime.fromisoformat(raw)
        return value if value.tzinfo else value.replace(tzinfo=tz)
    except ValueError:
        raise UsageError(f"cannot read {what} '{text}'",
                         hint="write it as 2026-11-22T14:30:00+08:00, 2026-11-22T14:30 or '2026-11-22 14:30'") from None


# What the schemas' timestamp pattern admits: a date, or a date and time with an optional offset.
_STORED = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?"
                     r"(?: ?(Z|([+-])(\d{2}):?(\d{2})?))?)?")
_OFFSETS: dict[tuple[str, str, str], tzinfo] = {}
_READ: dict[str, datetime] = {}  # the gate and the clocks read the same times of a record: parsed once


def instant(value: object, tz: tzinfo) -> datetime:
    """A timestamp as found in a record file (canonical or hand-written, as the schemas admit it), as an aware
    datetime: in its own offset, else in `tz`; a bare date is its midnight. ValueError when it is not a real
    moment (2026-11-31, 25:00, or not a timestamp at all). The same on every Python cslog supports."""
    moment = _READ.get(value) if type(value) is str else None
    if moment is None:
        moment = _parse(value)
        if len(_READ) > 50_000:
            _READ.clear()
        _READ[value] = moment  # type: ignore[index]
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def _parse(value: object) -> datetime:
    """The moment a stored timestamp names, naive when it has no offset."""
    m = _STORED.fullmatch(value) if isinstance(value, str) else None
    if m is None:
        raise ValueError(f"{value!r} is not a time; write it as '2026-11-22T14:30:00+08:00'")
    y, mo, d, h, mi, sec, frac, zulu, sign, oh, om = m.groups()
    try:
        if h is None:
            return datetime(int(y), int(mo), int(d))
        micro = int((frac + "000000")[:6]) if frac else 0
        if zulu is None:
            zone_ = None
        elif zulu == "Z":
            zone_ = timezone.utc
        else:
            zone_ = _OFFSETS.get((sign, oh, om or "00"))
            if zone_ is None:
                minutes = int(oh) * 60 + int(om or 0)
                zone_ = _OFFSETS[(sign, oh, om or "00")] = timezone(timedelta(minutes=-minutes if sign == "-"
                                                                              else minutes))
        return datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec or 0), micro, tzinfo=zone_)
    except ValueError:
        raise ValueError(f"{value!r} is not a real moment (no such day or hour)") from None


def stored(value: str, tz: tzinfo) -> datetime:
    """A timestamp as found in a record file (canonical or hand-written); UsageError when it is none."""
    try:
        return instant(value, tz)
    except ValueError as exc:
        raise UsageError(f"cannot read time: {exc}") from None


def to_minute(value: object) -> str:
    """A stored time as people read it, to the minute: 2026-11-22T14:30:00+08:00 -> 2026-11-22 14:30 (any other
    text as it is)."""
    text = str(value or "")
    return text[:10] + " " + text[11:16] if len(text) >= 16 and text[10] in "T " else text


def fmt(moment: datetime, tz: tzinfo | None = None) -> str:
    """The canonical form: ISO 8601 to the second, with offset: 2026-11-22T14:30:00+08:00."""
    if tz is not None:
        moment = moment.astimezone(tz)
    return moment.replace(microsecond=0).isoformat()


def clock_now(tz: tzinfo, env_value: str | None) -> datetime:
    """Now, or $CSLOG_NOW when set. Only the command layer calls this; everything below takes `now`."""
    if env_value:
        return parse_time(env_value, tz, what="$CSLOG_NOW")
    return datetime.now(tz).replace(microsecond=0)


def canonical(value: object, tz: tzinfo) -> object:
    """A stored timestamp the canonical way: ISO 8601 with its offset (a naive one in `tz`), to the second
    unless it has a fraction; a date alone, or anything that is no timestamp, stays as it is."""
    if not isinstance(value, str) or len(value.strip()) <= 10:
        return value
    try:
        moment = instant(value.strip(), tz)
    except ValueError:
        return value
    return moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds")
