"""Instants: parsing what users type, and the one canonical way of writing a time."""
from __future__ import annotations

import re
from datetime import date, datetime, time, tzinfo
from functools import lru_cache

from cslog.errors import UsageError

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SPACE_MINUTES = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)\s*(Z|[+-]\d{2}:?\d{2})?$")


@lru_cache(maxsize=16)
def zone(name: str) -> tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UsageError(f"unknown timezone '{name}'", hint="use an IANA name such as Asia/Shanghai") from exc


def parse_time(text: str, tz: tzinfo, what: str = "time") -> datetime:
    """ISO 8601 with or without offset, `YYYY-MM-DD HH:MM`, or a date (its midnight); no offset means `tz`."""
    raw = str(text).strip()
    if _DATE_ONLY.match(raw):
        try:
            return datetime.combine(date.fromisoformat(raw), time(0), tz)
        except ValueError:
            pass
    else:
        m = _SPACE_MINUTES.match(raw)
        candidate = raw
        if m:
            hhmm = m.group(2)
            if len(hhmm.split(":")[0]) == 1:
                hhmm = "0" + hhmm
            candidate = f"{m.group(1)}T{hhmm}{(m.group(5) or '')}"
        try:
            value = datetime.fromisoformat(candidate.replace("Z", "+00:00") if candidate.endswith("Z") else candidate)
            return value if value.tzinfo else value.replace(tzinfo=tz)
        except ValueError:
            pass
    raise UsageError(f"cannot read {what} '{text}'",
                     hint="write it as 2026-11-22T14:30:00+08:00, 2026-11-22T14:30 or '2026-11-22 14:30'")


def stored(value: str, tz: tzinfo) -> datetime:
    """A timestamp as found in a record file (canonical or hand-written)."""
    return parse_time(value, tz)


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
