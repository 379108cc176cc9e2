"""SLA clocks as the data repository sees them: policy and calendar from cslog.yaml, overdue rows, `show` lines.

cslog.sla is pure (a ticket, a policy, a calendar, `now`); this module feeds it from a Store and turns what
it says into rows (`cslog overdue`) and words (`cslog show`) in the configured language.

Decisions where design.md is silent:

- `overdue` lists what someone must act on now: clocks still running past their due (on open tickets; a
  callback runs on resolved ones) and pending followups. A clock that stopped late is history and is
  not listed; a paused clock waits on the customer and is not listed, even with `within`.
- `within` may be any duration, business units included: `--within 2bh` lists what falls due within
  the next two business hours. overdue_minutes of a soon-due item is minus the minutes left, rounded
  up (always below zero); a breach counts late minutes rounded up.
- Rows are sorted most late first, then by due, ID and clock order.
- A ticket file that cannot be read, or whose times cannot be understood, never hides the others: it is
  reported as a problem next to the rows (the CLI prints it on stderr, `cslog check` says more).
"""
from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from cslog import people
from cslog.calendar import CalendarError, HolidayData, WorkCalendar
from cslog.config import CONFIG_FILE, setting_path
from cslog.durations import MINUTE_WORDS, Duration, format_minutes
from cslog.errors import ConfigError, UsageError
from cslog.model import PRIORITY
from cslog.render import text_width
from cslog.sla import Clock, SlaPolicy, clocks, overdue_items
from cslog.store import CACHE_DIR, Store
from cslog.timeutil import fmt

# The JSON keys of one `cslog overdue` row (design.md section 5), in this order.
ROW_KEYS = ("id", "kind", "due", "overdue_minutes", "priority", "status", "owner", "title")
KIND_LABELS = {
    "claim": ("认领", "claim"), "response": ("首次响应", "response"), "update": ("进度更新", "update"),
    "resolve": ("解决", "resolve"), "callback": ("回访", "callback"), "followup": ("跟进", "follow-up"),
}
CLOCK_KINDS = tuple(KIND_LABELS)
STATE_LABELS = {
    "met": ("已达成", "met"), "breached": ("已超时", "breached"), "running": ("计时中", "running"),
    "paused": ("已暂停", "paused"),
}
AT_RISK = ("即将超时", "at risk")
_WEEKDAYS = {"zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
             "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}
_MINUTE = timedelta(minutes=1)
HOLIDAYS_FILE = "holidays.json"  # in .cslog/: the country's holidays by year (see calendar.HolidayData)


def _say(pair: tuple[str, str], language: str) -> str:
    return pair[0] if language == "zh" else pair[1]


# -- policy and calendar ------------------------------------------------------------------------------

@dataclass(frozen=True)
class SlaSetup:
    """The parsed `sla:` policy and the working calendar of one cslog.yaml."""

    policy: SlaPolicy
    calendar: WorkCalendar


def sla_setup(store: Store) -> SlaSetup:
    """The policy and calendar of the store's settings; built once per distinct configuration, so the
    calendar's holiday and business-time caches serve every ticket (and every store) that shares it."""
    s = store.settings
    key = json.dumps([s.sla, s.calendar, s.timezone, holidays_cache(store.root)], sort_keys=True, default=str,
                     ensure_ascii=False)
    try:
        return _build(key)
    except ValueError as exc:
        raise config_error(store, str(exc)) from None


def holidays_cache(root: Path) -> str:
    """The repository's cache file of public holidays (calendar.HolidayData)."""
    return str(root / CACHE_DIR / HOLIDAYS_FILE)


@lru_cache(maxsize=8)
def _build(key: str) -> SlaSetup:
    sla, calendar, timezone, cache = json.loads(key)
    return SlaSetup(SlaPolicy.from_config(sla), WorkCalendar.from_config(calendar, timezone, HolidayData(cache)))


def config_error(store: Store, message: str) -> ConfigError:
    """`cslog.yaml:LINE: sla.urgent.resolve: ...`, the line found from the setting the message names."""
    where = CONFIG_FILE
    path = setting_path(message)
    if path:
        from cslog.yamlio import line_of

        try:
            line = line_of((store.root / CONFIG_FILE).read_text(encoding="utf-8-sig"), path)
        except OSError:
            line = None
        if line:
            where = f"{CONFIG_FILE}:{line}"
    return ConfigError(f"{where}: {message}", hint="fix cslog.yaml (`cslog check` lists its problems); "
                                                   "`cslog init --help` shows the defaults")


def _clocks_of(store: Store, setup: SlaSetup, doc: Mapping[str, Any], now: datetime,
               within: timedelta | None = None, overdue: bool = False) -> list[Clock]:
    try:
        if overdue:
            return overdue_items(doc, setup.policy, setup.calendar, now, within)
        return clocks(doc, setup.policy, setup.calendar, now)
    except CalendarError as exc:  # the configuration, not this ticket
        raise config_error(store, f"calendar: {exc}") from None


# -- overdue ------------------------------------------------------------------------------------------

def parse_kind(value: str) -> str:
    """A clock kind by code or label (claim / 认领, followup / 跟进 / follow-up...); UsageError otherwise."""
    key = str(value).strip()
    for code, (zh, en) in KIND_LABELS.items():
        if key.lower() in (code, en) or key == zh:
            return code
    raise UsageError(f"unknown clock kind '{value}'", hint=f"use one of: {', '.join(CLOCK_KINDS)}")


def parse_within(text: str | None) -> Duration | None:
    """`--within`'s value (30m, 2h, 4bh, 1bd...), or None; UsageError names the option."""
    if text is None:
        return None
    from cslog.durations import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"--within: {exc}") from None


@dataclass
class Overdue:
    """What `cslog overdue` found: the rows, and the ticket files it could not judge."""

    rows: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def find_overdue(store: Store, now: datetime, within: Duration | timedelta | None = None,
                 kinds: Iterable[str] = (), owner: str | None = None, department: str | None = None,
                 use_cache: bool = True) -> Overdue:
    """Breached running clocks and pending followups of every ticket (and, with `within`, the running
    clocks due that soon), most late first, as rows with the keys of ROW_KEYS."""
    ask = _OverdueQuestion(store, now, within, kinds, owner, department)
    from cslog.index import Index

    return Index.open(store, use_cache=use_cache, defer=True).ask(ask.rows)


def overdue_text(store: Store, now: datetime, format: str, within: Duration | timedelta | None = None,
                 kinds: Iterable[str] = (), owner: str | None = None, department: str | None = None,
                 use_cache: bool = True) -> tuple[int, Iterable[bytes], list[str]]:
    """What `cslog overdue --format FORMAT` prints: (how many rows, the text in pieces of UTF-8, problems).

    The same text as rendering find_overdue's rows (tests hold them equal), made from what the index keeps
    of each row as printed (row_pieces) when it can: 70,000 rows are then joined bytes, laid out while git
    looks for changes (see Index.ask)."""
    ask = _OverdueQuestion(store, now, within, kinds, owner, department, format)
    language = store.settings.language
    from cslog import render
    from cslog.index import Index

    found = Index.open(store, use_cache=use_cache, defer=True).ask(ask if format in ("json", "table") else ask.rows)
    if isinstance(found, Overdue):
        if format == "json":
            text: Iterable[str] = render.json_pieces(found.rows)
        elif format == "csv":
            text = [render.to_csv(found.rows, list(ROW_KEYS))]
        else:
            text = _lines(overdue_table_lines(found.rows, language))
        return len(found.rows), (piece.encode("utf-8", "surrogateescape") for piece in text), found.problems
    return found.count, found.text(language), [message for _path, message in found.problems]


@dataclass
class _Listing:
    """`cslog overdue`'s rows as the pieces of their text, and their lines, in UTF-8.

    runs: (order key, late minutes, *pieces) tuples in three runs, each in order-key order
    (Index.overdue_runs): late, late 0 (followups not yet due), due soon. pieces: (JSON text,), or (ta,
    tail, owner width, title width) of a table (row_pieces, table_tail). lines: each run's rows as
    printed; for a table, late_ws are their late cells' widths and late_w the late column's width the
    lines were made for. widths: those of
    Index.overdue_widths (the widest ID, clock, priority, owner and title cells, and how many ID, clock and
    priority cells are as wide as usual); problems: (path, message) in file order; paths: the
    files it answers for (None: all)."""

    runs: tuple[list[tuple], list[tuple], list[tuple]]
    widths: tuple[int, ...]
    problems: list[tuple[str, str]]
    paths: frozenset[str] | None
    table: bool
    owner_column: int = 0  # the owner column's width, which the tails are padded to
    lines: tuple[list[bytes], ...] = ()
    late_ws: tuple[list[int], ...] = ()
    late_w: int = 0

    @property
    def count(self) -> int:
        return sum(len(run) for run in self.runs)

    def lay_out(self, language: str) -> None:
        """Make every line."""
        if not self.table:
            self.lines = tuple([row[2] for row in run] for run in self.runs)
            return
        cell = late_cell(language, bytes)
        cells = [[cell(row[1]) for row in run] for run in self.runs]
        self.late_ws = tuple([w for _t, w in run] for run in cells)
        self.late_w = max(_frame(language).least[3], *(max(ws, default=0) for ws in self.late_ws))
        pads = self._pads()
        self.lines = tuple([_table_line(row, late, pads[w]) for row, (late, w) in zip(run, run_cells)]
                           for run, run_cells in zip(self.runs, cells))

    def _pads(self) -> list[bytes]:
        """The late cell's padding and the space after it, by the cell's width."""
        return [b" " * (self.late_w - w) + b"  " for w in range(self.late_w + 1)]

    def mend(self, old: "_Listing", new: "_Listing", language: str) -> bool:
        """Put new's rows and problems in place of old's (both answer for the same files); False when the
        owner column, which the tails are padded to, would change (or old's rows are not all here)."""
        # the widest ID, clock and priority only say whether the pieces' padding fits (_table_fits): a bound
        # serves, and the count of cells as wide as the padding
        self.widths = (*map(max, self.widths[:5], new.widths[:5]),
                       *(n - was + now for n, was, now in zip(self.widths[5:], old.widths[5:], new.widths[5:])))
        cell, pads = late_cell(language, bytes), self._pads()
        for i, (run, gone, came) in enumerate(zip(self.runs, old.runs, new.runs)):
            lines, late_ws = self.lines[i], self.late_ws[i] if self.table else None
            for row in gone:
                at = bisect_left(run, row[0], key=_key)
                if at == len(run) or run[at][0] != row[0]:
                    return False
                del run[at], lines[at]
                if late_ws is not None:
                    del late_ws[at]
            for row in came:
                at = bisect_left(run, row[0], key=_key)
                run.insert(at, row)
                if late_ws is None:
                    lines.insert(at, row[2])
                    continue
                late, width = cell(row[1])
                late_ws.insert(at, width)
                lines.insert(at, _table_line(row, late, pads[min(width, self.late_w)]))  # wider: laid out anew below
        if self.table:
            least = _frame(language).least
            owner, title = (max((max((row[k] for row in run), default=0) for run in self.runs)) for k in (4, 5))
            if max(least[5], owner) != self.owner_column:
                return False
            self.widths = (*self.widths[:3], owner, title, *self.widths[5:])
            if max(least[3], *(max(ws, default=0) for ws in self.late_ws)) != self.late_w:
                self.lay_out(language)
        asked = old.paths or frozenset()
        self.problems = sorted([p for p in self.problems if p[0] not in asked] + new.problems,
                               key=lambda p: p[0].replace("/", "\0"))
        return True

    def text(self, language: str) -> Iterator[bytes]:
        """The listing as `cslog overdue` prints it, in pieces of UTF-8."""
        if not self.table:
            if not self.count:
                yield b"[]"
                return
            separator = b"[\n  "
            for run in self.lines:
                if run:
                    yield separator
                    yield b",\n  ".join(run)
                    separator = b",\n  "
            yield b"\n]"
            return
        if not self.count:
            return
        from cslog.render import grid_frame

        frame = _frame(language)
        widths = [frame.id_w, frame.kind_w, frame.due_w, self.late_w, frame.prio_w, self.owner_column,
                  max(frame.least[6], self.widths[4])]
        yield "".join(head + "\n" for head in grid_frame(list(frame.heads), widths)).encode("utf-8")
        for run in self.lines:
            for start in range(0, len(run), 4096):
                yield b"\n".join(run[start:start + 4096]) + b"\n"


def _key(row: tuple) -> bytes:
    return row[0]


def _table_line(row: tuple, late: bytes, pad: bytes) -> bytes:
    """A table row (... ta, tail ...) as printed, with its late cell and that cell's padding."""
    return b"".join((row[2], late, pad, row[3])) if row[3] else row[2] + late  # no tail: the line ends there


def table_tail(tb: str, oc: str, owner_w: int, tc: str, owner_column: int) -> str:
    """A table line's cells after the late one, the owner padded to its column (as Index.overdue_runs' tail;
    with no title, the line ends where its text does)."""
    if not tc:
        return (tb + oc).rstrip(" ")
    return f"{tb}{oc}{' ' * (owner_column - owner_w)}  {tc}"


class _OverdueQuestion:
    """find_overdue's arguments, checked once; what to ask an index (see Index.ask): called, the listing as
    pieces for `format` (json or table), laid out; .rows, the rows."""

    def __init__(self, store: Store, now: datetime, within, kinds: Iterable[str], owner: str | None,
                 department: str | None, format: str = "json"):
        self.store, self.now, self.format = store, now, format
        self.wanted = frozenset(parse_kind(k) for k in kinds)
        self.owner = people.resolve(store.settings.agents, owner, "agent") if owner else None
        self.department = (people.resolve(store.settings.departments, department, "department")
                           if department else None)
        self.setup = sla_setup(store)  # a broken sla: or calendar: section is reported even when no ticket needs it
        self.soon = _horizon(self.setup.calendar, now, within)
        self.owner_column = 0  # of the whole listing's table, once asked: its parts are padded alike

    def rows(self, index) -> Overdue:
        """The rows the index answers for (computed when it was built), and those of the leftovers."""
        keyed = index.overdue_rows(self.now, self.soon, self.wanted, self.owner, self.department, keys=True)
        problems: list[tuple[str, str]] = []
        computed = list(self._computed(index, None, problems, odd=False))
        if computed:  # in among the others: most late first, then by order key (as the listing's runs)
            keyed = sorted(keyed + computed,
                           key=lambda pair: (-pair[1]["overdue_minutes"], pair[0]))
        return Overdue([row for _key, row in keyed], [message for _path, message in problems])

    def __call__(self, index, paths: Iterable[str] | None = None) -> _Listing | Overdue | None:
        """The listing, laid out (paths: of these files only, padded as the whole listing); when a table of
        it would not have the usual widths that the index's pieces are padded to, the rows (paths: None)."""
        language, table = self.store.settings.language, self.format == "table"
        args = (self.now, self.soon, self.wanted, self.owner, self.department)
        problems: list[tuple[str, str]] = []
        computed = [(key, row, row_pieces(row, language)) for key, row in self._computed(index, paths, problems)]
        frame = _frame(language)
        widths = index.overdue_widths(*args, paths, frame.usual) if table else (0,) * 8
        if table:
            for _k, _row, (_jh, _jt, _ta, id_w, kind_w, _tb, prio_w, _oc, owner_w, _tc, title_w) in computed:
                widths = (*map(max, widths[:5], (id_w, kind_w, prio_w, owner_w, title_w)),
                          *(n + (w == u) for n, w, u in zip(widths[5:], (id_w, kind_w, prio_w), frame.usual)))
        if table and not (_table_fits(widths, language) if paths is None else _padded_alike(widths, language)):
            return self.rows(index) if paths is None else None
        if paths is None:
            self.owner_column = max(frame.least[5], widths[3])
        owner_column = self.owner_column
        columns = ("ta", "tail", "owner_w", "title_w") if table else ("json",)
        runs = index.overdue_runs(*args, columns, paths, plain=True, owner_w=owner_column)
        for key, row, (jh, jt, ta, _i, _k, tb, _p, oc, owner_w, tc, title_w) in computed:
            late = row["overdue_minutes"]
            run = runs[0 if late > 0 else 1 if late == 0 else 2]
            run.insert(bisect_left(run, key, key=_key),
                       (key, late, ta.encode(), table_tail(tb, oc, owner_w, tc, owner_column).encode(), owner_w,
                        title_w) if table else (key, late, f"{jh}{late}{jt}".encode()))
        listing = _Listing(runs, widths, problems, None if paths is None else frozenset(paths), table, owner_column)
        listing.lay_out(language)
        return listing

    def mend(self, answer: Any, old: Any, new: Any) -> _Listing | None:
        """The answer with the rows and problems of old's files replaced by new's (Index.ask); None when that
        cannot be told from them, or a part is not a listing."""
        if not (isinstance(answer, _Listing) and isinstance(old, _Listing) and isinstance(new, _Listing)):
            return None
        language = self.store.settings.language
        if not answer.mend(old, new, language) or (answer.table and not _table_fits(answer.widths, language)):
            return None
        return answer

    def _computed(self, index, paths: Iterable[str] | None, problems: list[tuple[str, str]],
                  odd: bool = True) -> Iterator[tuple[bytes, dict]]:
        """(order key, row) of the rows the index cannot give as pieces: of its clocks that are not plain
        (odd: their fields from the documents), and of the tickets it cannot answer for at `now` (computed
        here); the files it cannot judge go to problems."""
        from cslog.index import order_key

        owner, department = self.owner, self.department
        if odd:
            yield from index.overdue_rows(self.now, self.soon, self.wanted, owner, department, keys=True,
                                          paths=paths, plain=False)
        tz = self.setup.calendar.tz
        for t in index.leftovers(self.now, paths):
            if t.problem:
                problems.append((t.path, t.problem))
                continue
            fields = t.fields
            if (owner and fields.get("owner") != owner) or (department and fields.get("department") != department):
                continue
            try:  # `now` before the ticket's last event, or a clock that depends on `now`
                items = _clocks_of(self.store, self.setup, t.doc, self.now, self.soon, overdue=True)
            except ValueError as exc:
                problems.append((t.path, f"{t.path}: {exc}"))
                continue
            for c in items:
                if not self.wanted or c.kind in self.wanted:
                    yield order_key(c.due, fields.get("id"), c.kind, t.path), _row(fields, c, self.now, tz)


def overdue(store: Store, now: datetime, within: Duration | timedelta | None = None, kinds: Iterable[str] = (),
            owner: str | None = None, department: str | None = None) -> list[dict]:
    """The rows of find_overdue (what `cslog overdue --format json` prints)."""
    return find_overdue(store, now, within, kinds, owner, department).rows


def _ceil_minutes(delta: timedelta) -> int:
    return -(-delta // _MINUTE)


def _horizon(cal: WorkCalendar, now: datetime, within: Duration | timedelta | None) -> timedelta | None:
    """`within` as the wall-clock time from `now` to the moment it ends (business units on the calendar)."""
    if within is None or isinstance(within, timedelta):
        return within
    return cal.add_duration(now, within) - now


def _row(doc: Mapping[str, Any], c: Clock, now: datetime, tz) -> dict:
    assert c.due is not None
    if c.state == "breached":
        minutes = c.late_minutes or 0
    else:  # due soon: minus the minutes left, rounded up so that it is never 0
        minutes = -_ceil_minutes(c.due - now)
    row = {"id": doc.get("id"), "kind": c.kind, "due": fmt(c.due, tz), "overdue_minutes": minutes,
           "priority": doc.get("priority"), "status": doc.get("status"), "owner": doc.get("owner"),
           "title": doc.get("title")}
    return {key: row[key] for key in ROW_KEYS}


TABLE_COLUMNS = ("id", "kind", "due", "late", "priority", "owner", "title")
TABLE_HEADERS = {
    "id": ("编号", "ID"), "kind": ("时限", "Clock"), "due": ("截止时间", "Due"), "late": ("超时", "Late"),
    "priority": ("优先级", "Priority"), "owner": ("第一责任人", "Owner"), "title": ("标题", "Title"),
}


def late_words(minutes: int, language: str) -> str:
    """How late in words (`2小时15分` / `2h15m`); a soon-due item says what is left (`还剩30分` / `30m left`)."""
    if minutes >= 0:
        return format_minutes(minutes, language)  # type: ignore[arg-type]
    left = format_minutes(-minutes, language)  # type: ignore[arg-type]
    return f"还剩{left}" if language == "zh" else f"{left} left"


def overdue_table(rows: list[dict], language: str) -> str:
    """The rows as a CJK-aware table; empty text when there are none (cron mails nothing)."""
    return "\n".join(overdue_table_lines(rows, language))


def overdue_table_lines(rows: list[dict], language: str) -> Iterator[str]:
    """overdue_table's lines, one by one; none when there are no rows."""
    if not rows:
        return
    from cslog.render import grid_lines

    cells = _cell_maker(language)
    body = []
    for r in rows:
        ident, kind, due, priority, owner, title = cells(r)
        body.append([ident, kind, due, late_words(r["overdue_minutes"], language), priority, owner, title])
    yield from grid_lines(body, list(_frame(language).heads))


@lru_cache(maxsize=4)
def _cell_maker(language: str) -> Callable[[Mapping[str, Any]], tuple[str, ...]]:
    """row -> its table cells but the late one: ID, clock, due, priority, owner, title (as the grid shows them:
    stripped, owner and title clipped)."""
    from cslog.render import clip

    kinds = {kind: _say(pair, language) for kind, pair in KIND_LABELS.items()}
    priorities = {code: PRIORITY.label(code, language) for code in PRIORITY.codes}

    def cells(r: Mapping[str, Any]) -> tuple[str, ...]:
        due, priority = r["due"], r["priority"]  # due: canonical ISO (timeutil.fmt), shown to the minute
        return (str(r["id"]).strip(), kinds[r["kind"]], f"{due[:10]} {due[11:16]}",
                (priorities.get(priority) or (PRIORITY.label(priority, language) if priority else "")).strip(),
                clip(str(r["owner"] or ""), 16), clip(str(r["title"] or ""), 40))

    return cells


# -- overdue from pre-rendered rows -------------------------------------------------------------------
# A listed clock's text depends on `at` only through its late minutes. The index keeps the rest of each
# row as printed (row_pieces: JSON before and after the minutes; the table's cells, the columns before the
# late one padded to the layout's usual widths); overdue_text joins them. The table takes that way when
# the rows at hand have those usual widths (_table_fits), as they have unless an ID is not cslog's.

_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
ID_WIDTH = 14  # cslog's IDs: CW202611220001


@dataclass(frozen=True)
class _Frame:
    heads: tuple[str, ...]
    least: tuple[int, ...]  # as render.grid_lines: a column is at least its header + 2 wide
    id_w: int
    kind_w: int
    due_w: int
    prio_w: int

    @property
    def usual(self) -> tuple[int, int, int]:
        """The widths ta and tb pad the ID, clock and priority cells to."""
        return self.id_w, self.kind_w, self.prio_w

    @property
    def least_of_usual(self) -> tuple[int, int, int]:
        """The least widths of those columns (their headers')."""
        return self.least[0], self.least[1], self.least[4]


@lru_cache(maxsize=4)
def _frame(language: str) -> _Frame:
    """The table's headers, and the usual widths of the columns before the late one."""
    heads = tuple(_say(TABLE_HEADERS[col], language) for col in TABLE_COLUMNS)
    least = tuple(text_width(h) + 2 for h in heads)
    kinds = max(text_width(_say(pair, language)) for pair in KIND_LABELS.values())
    priorities = max(text_width(PRIORITY.label(code, language)) for code in PRIORITY.codes)
    return _Frame(heads, least, max(least[0], ID_WIDTH), max(least[1], kinds), max(least[2], 16),
                  max(least[4], priorities))


def row_pieces(row: Mapping[str, Any], language: str) -> tuple:
    """What the index keeps of an overdue row (ROW_KEYS but overdue_minutes), by the names of index.PIECES."""
    encode = _ENCODE  # as render.json_pieces
    jh = encode({k: row[k] for k in ROW_KEYS[:3]})[:-1] + ', "overdue_minutes": '
    jt = ", " + encode({k: row[k] for k in ROW_KEYS[4:]})[1:]
    frame = _frame(language)
    ident, kind, due, priority, owner, title = _cell_maker(language)(row)
    id_w, kind_w, prio_w = text_width(ident), text_width(kind), text_width(priority)
    ta = f"{ident}{' ' * (frame.id_w - id_w)}  {kind}{' ' * (frame.kind_w - kind_w)}  {due}{' ' * (frame.due_w - 16)}  "
    tb = f"{priority}{' ' * (frame.prio_w - prio_w)}  "
    return jh, jt, ta, id_w, kind_w, tb, prio_w, owner, text_width(owner), title, text_width(title)


def _table_fits(widths: tuple, language: str) -> bool:
    """Whether a listing with these widths (Index.overdue_widths': the widest ID, clock, priority, owner and
    title cells, and how many ID, clock and priority cells are as wide as usual) has the usual columns
    before the late one, which ta and tb are padded to: no cell wider than usual, and one as wide (or a
    header that is)."""
    frame = _frame(language)
    return _padded_alike(widths, language) and all(
        n or least >= usual for n, least, usual in zip(widths[5:], frame.least_of_usual, frame.usual))


def _padded_alike(widths: tuple, language: str) -> bool:
    """Whether no ID, clock or priority cell of these widths is wider than usual (a part of a listing that
    fits may then be put in it)."""
    frame = _frame(language)
    return all(max(least, w) <= usual for w, least, usual in zip(widths[:3], frame.least_of_usual, frame.usual))


def _lines(lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        yield line + "\n"


@lru_cache(maxsize=4)
def _late_parts(language: str) -> tuple:
    """late_cell's tables: the day word and its width, and for each remainder of a day (0-1439 minutes) its
    hours-and-minutes words with their width, after days and alone (alone, 0 minutes still say so)."""
    day, hour, minute = MINUTE_WORDS[language]
    after_days, alone = [], []
    for rest in range(1440):
        hours, mins = divmod(rest, 60)
        text = f"{hours}{hour}" if hours else ""
        after_days.append(text + (f"{mins}{minute}" if mins else ""))
        alone.append(text + (f"{mins}{minute}" if mins or not hours else ""))
    return (day, text_width(day), [(t, text_width(t)) for t in after_days], [(t, text_width(t)) for t in alone])


@lru_cache(maxsize=8)
def late_cell(language: str, kind: type = str) -> Callable[[int], tuple[Any, int]]:
    """minutes -> (late_words(minutes, language), its width): the same words, at a fraction of the cost;
    kind bytes: the words in UTF-8."""
    day, day_w, after_days, alone = _late_parts(language)
    left, after = ("还剩", "") if language == "zh" else ("", " left")
    left_w, after_w = text_width(left), text_width(after)
    if kind is bytes:
        day, left, after = day.encode(), left.encode(), after.encode()
        after_days = [(t.encode(), w) for t, w in after_days]
        alone = [(t.encode(), w) for t, w in alone]

    def cell(minutes: int) -> tuple[Any, int]:
        days, rest = divmod(minutes if minutes >= 0 else -minutes, 1440)
        if days:
            digits = str(days)
            words, width = after_days[rest]
            text, width = (digits.encode() if kind is bytes else digits) + day + words, len(digits) + day_w + width
        else:
            text, width = alone[rest]
        if minutes < 0:
            return left + text + after, width + left_w + after_w
        return text, width

    return cell


# -- clock lines for `cslog show` ---------------------------------------------------------------------

def clock_lines(store: Store, doc: Mapping[str, Any], now: datetime) -> list[str]:
    """Every clock of the ticket: due, state, time left or late, and an at-risk mark for a running clock
    due within sla.warn_within. No lines for a ticket received after `now`."""
    language = store.settings.language
    setup = sla_setup(store)
    title = "服务时限 (SLA):" if language == "zh" else "SLA clocks:"
    try:
        found = _clocks_of(store, setup, doc, now)
    except ValueError as exc:
        reason = "无法计算" if language == "zh" else "cannot be computed"
        return [f"{title} {reason}: {exc}"]
    if not found:
        return []
    warn_until = setup.calendar.add_duration(now, setup.policy.warn_within)
    kind_width = max(text_width(_say(KIND_LABELS[c.kind], language)) for c in found)
    state_width = max(text_width(_say(STATE_LABELS[c.state], language)) for c in found)
    lines = [title]
    for c in found:
        parts = [_pad(_say(KIND_LABELS[c.kind], language), kind_width),
                 _pad(_say(STATE_LABELS[c.state], language), state_width),
                 ("截止 " if language == "zh" else "due ") + _when(c.due, language)]
        parts.append(_detail(c, language))
        if c.state == "running" and c.due is not None and c.due <= warn_until:
            parts.append(_say(AT_RISK, language))
        lines.append("  " + "  ".join(p for p in parts if p))
    return lines


def _detail(c: Clock, language: str) -> str:
    zh = language == "zh"
    if c.state == "met":
        return f"完成于 {_when(c.stopped, language)}" if zh else f"done {_when(c.stopped, language)}"
    if c.state == "breached":
        late = format_minutes(c.late_minutes or 0, language)  # type: ignore[arg-type]
        text = f"超时 {late}" if zh else f"{late} late"
        if c.stopped is not None:
            text += f" (完成于 {_when(c.stopped, language)})" if zh else f" (done {_when(c.stopped, language)})"
        return text
    left = format_minutes(c.left_minutes or 0, language)  # type: ignore[arg-type]
    return f"剩余 {left}" if zh else f"{left} left"


def _when(t: datetime | None, language: str) -> str:
    if t is None:
        return ""
    return f"{t:%Y-%m-%d %H:%M} {_WEEKDAYS[language if language in _WEEKDAYS else 'en'][t.weekday()]}"


def _pad(text: str, width: int) -> str:
    return text + " " * (width - text_width(text))
