"""`cslog overdue`: the clocks someone must act on now, as rows (the JSON shape of design.md section 5).
A year of `at` or of a listed due whose make-up working days the calendar has to guess is a warning.

Decisions where design.md is silent:
- Listed: clocks still running past their due (on open tickets; a callback runs on resolved ones),
  pending followups, contacts' reminders and open improvement actions past their due (kind `action`). A clock that stopped late is history; a clock paused before its due waits on the
  customer, but one already late when the pause began stays listed (the breach happened; the row's status
  says it waits).
- `within` may be any duration, business units included (`--within 2bh`: what falls due within the next two
  business hours). overdue_minutes of a soon-due item is minus the minutes left, rounded up (below zero).
- Rows: most late first, then by due, ID and clock order.
- A ticket that does not pass the gate, or whose times cannot be read, hides nothing else: it is a problem
  next to the rows (the command prints it on stderr and exits 1: something needs a look).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

from cslog import labels, people, sla
from cslog.calendar import CalendarError
from cslog.config import error_at
from cslog.durations import Duration, parse_duration
from cslog.errors import UsageError
from cslog.model import CLOCK_KINDS, OPEN_OF, imported_at
from cslog.store import Store
from cslog.timeutil import fmt, instant

@dataclass
class Overdue:
    """What `cslog overdue` found: the rows, and the ticket files it could not judge (`path:line: message`)."""

    rows: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # years whose 调休 the calendar has to guess


def parse_kind(value: str) -> str:
    """A clock kind by code or label (claim / 认领, followup / 跟进 / follow-up...); UsageError otherwise."""
    key = str(value).strip()
    for code, (zh, en) in labels.CLOCKS.items():
        if key.lower() in (code, en) or key == zh:
            return code
    raise UsageError(f"unknown clock kind '{value}'", hint=f"use one of: {', '.join(CLOCK_KINDS)}")


def parse_within(text: str | None) -> Duration | None:
    """`--within`'s value (30m, 2h, 4bh, 1bd...), or None; UsageError names the option."""
    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"--within: {exc}") from None


def find_overdue(store: Store, at: datetime, within: Duration | timedelta | None = None, kinds: Iterable[str] = (),
                 owner: str | None = None, department: str | None = None, use_cache: bool = True,
                 index=None) -> Overdue:
    """Breached running clocks and pending followups of every ticket (and, with `within`, the running clocks
    due that soon), reminders and actions past due, most late first, as rows with model.OVERDUE_ROW keys; from the
    index (`index`: one the caller opened with tickets, contacts and actions) unless use_cache is False."""
    wanted = frozenset(parse_kind(k) for k in kinds)
    owner = people.resolve(store.settings.agents, owner, "agent") if owner else None
    department = people.resolve(store.settings.departments, department, "department") if department else None
    policy, calendar = store.policy(), store.calendar()  # a broken section is said even when no ticket needs it
    try:
        horizon = within if within is None or isinstance(within, timedelta) else calendar.add_duration(at, within) - at
    except CalendarError as exc:
        raise error_at(store.where, f"calendar: {exc}") from None
    tz = calendar.tz

    def shown(fields: Mapping[str, Any]) -> bool:
        return (owner is None or fields.get("owner") == owner) and (
            department is None or fields.get("department") == department)

    found = Overdue()
    listed: list[tuple[datetime, dict]] = []
    if use_cache:
        from cslog.index import Index

        index = index or Index.open(store, kinds=("ticket", "contact", "action"))
        listed = [(due, row(summary, clock, due, at, tz)) for summary, clock, due in
                  index.clocks_due(at, horizon, wanted) if shown(summary) and alerted(summary, due, tz)]
        found.problems = [problem for kind in ("ticket", "contact", "action") for _path, problem in index.problems(kind)]
        computed: Iterable[tuple[str, Mapping[str, Any]]] = ((t.path, t.doc) for t in index.leftovers(at))
        contacts: Iterable[Mapping[str, Any]] = (doc for _path, doc in index.reminders())
        actions: Iterable[Mapping[str, Any]] = index.rows("action", OPEN_OF["action"])
    else:
        computed = ((store.rel(r.path), r.doc) for r in store.iter_records(
            "ticket", warn=lambda problem: found.problems.append(str(problem))))
        contacts = (r.doc for r in store.iter_records("contact", warn=lambda p: found.problems.append(str(p))))
        actions = (r.doc for r in store.iter_records("action", warn=lambda p: found.problems.append(str(p))))
    if not wanted or "reminder" in wanted:
        agents = store.settings.agents
        listed += [(due, reminder_row(doc, due, at, tz)) for doc in contacts
                   for due in [_reminder_due(doc, tz, at, horizon)] if due is not None
                   and alerted({"imported_at": imported_at(doc)}, due, tz)
                   and shown({"owner": doc.get("agent"), "department": people.department_of(agents, doc.get("agent"))})]
    if not wanted or "action" in wanted:  # 改进措施 past their due (or due within the horizon)
        listed += [(due, action_row(doc, due, at, tz)) for doc in actions if doc.get("status") in OPEN_OF["action"] and shown(doc)
                   for due in [instant(str(doc["due_at"]), tz)] if due <= at + (horizon or timedelta(0))]
    for path, doc in computed:
        if not shown(doc):
            continue
        try:
            items = sla.overdue_items(doc, policy, calendar, at, horizon)
        except CalendarError as exc:  # the configuration, not this ticket
            raise error_at(store.where, f"calendar: {exc}") from None
        except ValueError as exc:
            found.problems.append(f"{path}: {exc}")
            continue
        listed += [(c.due, row(doc, c.kind, c.due, at, tz)) for c in items
                   if (not wanted or c.kind in wanted) and alerted({"imported_at": imported_at(doc)}, c.due, tz)]
    listed.sort(key=lambda pair: (-pair[1]["overdue_minutes"], pair[0], str(pair[1]["id"]),
                                  CLOCK_KINDS.index(pair[1]["kind"])))  # most late first, then by due, ID, clock
    found.rows = [r for _due, r in listed]
    found.warnings = calendar.unofficial_warnings({calendar.local(at).year} | {calendar.local(due).year
                                                                             for due, _row in listed})
    return found


def alerted(fields: Mapping[str, Any], due: datetime, tz) -> bool:
    """A clock that fell due before its ticket was imported is history the import brought: reports judge it,
    `overdue` (and so cron) does not alert it (design 9.8)."""
    imported = fields.get("imported_at")
    if not imported:
        return True
    try:
        return due >= instant(str(imported), tz)
    except ValueError:
        return True


def _reminder_due(doc: Mapping[str, Any], tz, at: datetime, horizon: timedelta | None) -> datetime | None:
    """A contact's follow-up time when it is not done and is due by `at` (or within the horizon), else None."""
    if doc.get("followed_up_at") or not doc.get("follow_up_at"):
        return None
    due = instant(str(doc["follow_up_at"]), tz)
    return due if due <= at + (horizon or timedelta(0)) else None


def reminder_row(doc: Mapping[str, Any], due: datetime, at: datetime, tz) -> dict:
    """A contact's follow-up reminder as an overdue row: its agent is the owner, what is to be done the title."""
    return {"id": doc.get("id"), "kind": "reminder", "due": fmt(due, tz), "overdue_minutes": sla.minutes_late(due, at),
            "priority": None, "status": None, "owner": doc.get("agent"), "title": doc.get("follow_up")}


def action_row(doc: Mapping[str, Any], due: datetime, at: datetime, tz) -> dict:
    """An open improvement action as an overdue row: its owner and title, no priority."""
    return {"id": doc.get("id"), "kind": "action", "due": fmt(due, tz), "overdue_minutes": sla.minutes_late(due, at),
            "priority": None, "status": doc.get("status"), "owner": doc.get("owner"), "title": doc.get("title")}


def row(fields: Mapping[str, Any], clock: str, due: datetime, at: datetime, tz) -> dict:
    """One `cslog overdue` row: a ticket's fields, and one of its clocks as judged at `at`."""
    return {"id": fields.get("id"), "kind": clock, "due": fmt(due, tz), "overdue_minutes": sla.minutes_late(due, at),
            "priority": fields.get("priority"), "status": fields.get("status"), "owner": fields.get("owner"),
            "title": fields.get("title")}
