"""Record IDs: the formats of cslog.yaml (CW{date:%Y%m%d}{seq:04d}), their strict patterns, and parsing."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

# Every ID, whatever its format, must match this before it is used in a path.
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")

_FIELD = re.compile(r"\{(\w+)(?::([^}]*))?\}")
_LITERAL = re.compile(r"^[A-Za-z0-9_-]*$")
_DATE_CODES = {"%Y": r"\d{4}", "%y": r"\d{2}", "%m": r"\d{2}", "%d": r"\d{2}"}


def is_safe(value: str) -> bool:
    # fullmatch: `$` alone also matches before a final newline, and "C0001\n" must not name a file
    return isinstance(value, str) and bool(SAFE_ID.fullmatch(value))


@dataclass(frozen=True)
class ParsedId:
    day: date | None
    seq: int
    station: str


class IdFormat:
    """One ID format: renders IDs and recognises them."""

    def __init__(self, fmt: str):
        self.fmt = fmt
        self.date_format: str | None = None
        self.seq_width = 1
        pattern = ""
        pos = 0
        seen = set()
        for m in _FIELD.finditer(fmt):
            literal = fmt[pos:m.start()]
            if not _LITERAL.match(literal):
                raise ValueError(f"ID format {fmt!r}: only letters, digits, '-' and '_' may stand outside {{...}}")
            pattern += re.escape(literal)
            name, spec = m.group(1), m.group(2) or ""
            if name in seen:
                raise ValueError(f"ID format {fmt!r}: {{{name}}} appears twice")
            seen.add(name)
            if name == "date":
                spec = spec or "%Y%m%d"
                rx = spec
                for code, sub in _DATE_CODES.items():
                    rx = rx.replace(code, sub)
                if "%" in rx:
                    raise ValueError(f"ID format {fmt!r}: date may use only %Y %y %m %d")
                self.date_format = spec
                pattern += f"(?P<date>{rx})"
            elif name == "seq":
                width = re.fullmatch(r"0?(\d*)d?", spec)
                if width is None:
                    raise ValueError(f"ID format {fmt!r}: write the sequence as {{seq}} or {{seq:04d}}")
                self.seq_width = int(width.group(1) or 1)
                pattern += r"(?P<seq>\d{%d,})" % self.seq_width
            elif name == "station":
                pattern += r"(?P<station>[A-Za-z0-9]{1,8})"
            else:
                raise ValueError(f"ID format {fmt!r}: unknown field {{{name}}} (use date, seq, station)")
            pos = m.end()
        tail = fmt[pos:]
        if not _LITERAL.match(tail):
            raise ValueError(f"ID format {fmt!r}: only letters, digits, '-' and '_' may stand outside {{...}}")
        pattern += re.escape(tail)
        if "seq" not in seen:
            raise ValueError(f"ID format {fmt!r} needs a {{seq}} field")
        self.has_station = "station" in seen
        self.regex = re.compile(f"^{pattern}$")

    @property
    def has_date(self) -> bool:
        return self.date_format is not None

    def render(self, seq: int, moment: datetime | date | None = None, station: str = "") -> str:
        if self.has_station and not station:
            raise ValueError(f"ID format {self.fmt!r} uses {{station}} but this clone has no station code "
                             "(set it with `cslog init --station CODE`)")

        def field(m: re.Match) -> str:
            name, spec = m.group(1), m.group(2) or ""
            if name == "date":
                return moment.strftime(spec or "%Y%m%d")
            if name == "seq":
                return format(seq, spec or "d")
            return station

        return _FIELD.sub(field, self.fmt)

    def parse(self, value: str) -> ParsedId | None:
        m = self.regex.fullmatch(value)
        if not m:
            return None
        day = None
        if self.date_format:
            try:
                day = datetime.strptime(m.group("date"), self.date_format).date()
            except ValueError:
                return None
        return ParsedId(day=day, seq=int(m.group("seq")), station=m.group("station") if self.has_station else "")


@lru_cache(maxsize=32)
def id_format(fmt: str) -> IdFormat:
    return IdFormat(fmt)
