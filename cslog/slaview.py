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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from cslog import people
from cslog.calendar import CalendarError, HolidayData, WorkCalendar
from cslog.config import CONFIG_FILE, setting_path
from cslog.durations import Duration, format_minutes
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
    wanted = frozenset(parse_kind(k) for k in kinds)
    owner = people.resolve(store.settings.agents, owner, "agent") if owner else None
    department = people.resolve(store.settings.departments, department, "department") if department else None
    setup = sla_setup(store)  # a broken sla: or calendar: section is reported even when no ticket needs it
    soon = _horizon(setup.calendar, now, within)
    from cslog.index import Index, overdue_order  # answers from stored dues; computes only what it cannot

    rows, rest = Index.open(store, use_cache=use_cache).overdue(now, soon, wanted, owner, department)
    found = Overdue(rows)  # in order
    tz = setup.calendar.tz
    computed = len(rows)
    for t in rest:
        if t.problem:
            found.problems.append(t.problem)
            continue
        fields = t.fields
        if (owner and fields.get("owner") != owner) or (department and fields.get("department") != department):
            continue
        try:  # `now` before the ticket's last event, or a clock that depends on `now`
            items = _clocks_of(store, setup, t.doc, now, soon, overdue=True)
        except ValueError as exc:
            found.problems.append(f"{t.path}: {exc}")
            continue
        found.rows.extend(_row(fields, c, now, tz) for c in items if not wanted or c.kind in wanted)
    if len(found.rows) > computed:
        found.rows.sort(key=overdue_order)
    return found


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
    from cslog.render import clip, grid_lines

    kinds = {kind: _say(pair, language) for kind, pair in KIND_LABELS.items()}
    priorities = {code: PRIORITY.label(code, language) for code in PRIORITY.codes}
    body = []
    for r in rows:
        due, priority = r["due"], r["priority"]  # due: canonical ISO (timeutil.fmt), shown to the minute
        body.append([str(r["id"]), kinds[r["kind"]], f"{due[:10]} {due[11:16]}",
                     late_words(r["overdue_minutes"], language),
                     priorities.get(priority) or (PRIORITY.label(priority, language) if priority else ""),
                     clip(str(r["owner"] or ""), 16), clip(str(r["title"] or ""), 40)])
    yield from grid_lines(body, [_say(TABLE_HEADERS[col], language) for col in TABLE_COLUMNS])


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
