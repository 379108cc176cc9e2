"""Improvement actions (改进措施, design 9.5; seed 003 step 6, seed 004 (六): 反馈-处理-改进-预防 的闭环).

The monthly review decides what is done about a problem category: an action names the category it attacks
(`problem`), the measure, an owner and a department, and a due; it may link tickets. It is open until
`done` (with what was done: `result`) or `dropped` (with the reason); a done action is reviewed later,
effective or not (`review`), when the periods after it show whether its category fell (cslog.report).

Each transition is a timeline event (created, done, dropped, evaluated) and one commit; an action that is not
open cannot be done or dropped again, only a done action is reviewed. Its due and owner change with `cslog set`.
"""
from __future__ import annotations

import copy
import re
from datetime import datetime
from typing import Callable, Iterable

from cslog import people, privacy
from cslog.errors import Refused, UsageError
from cslog.model import ACTION_STATUS, OPEN_OF, one_line
from cslog.store import Record, Store
from cslog.timeutil import fmt, instant, parse_time, to_minute

KIND = "action"
_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")


def new_action(store: Store, *, title: str, problem: str, measure: str, owner: str, department: str, due: str,
               tickets: Iterable[str] = (), actor: str, now: datetime, allow_pii: bool = False,
               commit: bool = True, notify: Callable[[str], None] | None = None) -> Record:
    """`cslog action new`: every field checked before anything is written; one commit."""
    s = store.settings
    gaps = [flag for flag, value in (("--title", title), ("--problem", problem), ("--measure", measure),
                                     ("--owner", owner), ("--department", department), ("--due", due))
            if not str(value or "").strip()]
    if gaps:
        raise UsageError("missing " + ", ".join(gaps), hint="cslog action new --title T --problem CATEGORY "
                         "--measure TEXT --owner A --department D --due TIME")
    one_line(title, "--measure")
    owner = people.resolve(s.agents, owner, "agent")
    department = people.resolve(s.departments, department, "department")
    at = fmt(now, s.tz)
    due_at = fmt(due_moment(due, s.tz), s.tz)
    linked = [store.read(t, "ticket").id for t in dict.fromkeys(tickets)]
    created = {"at": at, "by": actor, "kind": "created"}
    doc = {"title": title.strip(), "problem": problem.strip(), "tickets": linked, "measure": measure.strip(),
           "owner": owner, "department": department, "created_at": at, "due_at": due_at, "status": "open",
           "timeline": [created]}
    if privacy.guard(doc, allow_pii):
        created["allow_pii"] = True
    with store.transaction("action", actor, now, commit) as tx:
        record = tx.create(KIND, lambda new_id: {"id": new_id, **doc}, now)
        tx.summary = f"new action: {doc['title']}"
    if notify is not None and instant(due_at, s.tz) <= now:  # (a meeting written down later: allowed, said)
        notify(f"warning: {record.id} is due {to_minute(due_at)}, before now: `cslog overdue` lists it "
               "already (`cslog set ID due_at=…` if the date is a typo)")
    return record


def done(store: Store, action_id: str, result: str, *, actor: str, now: datetime, allow_pii: bool = False,
         commit: bool = True) -> Record:
    """`cslog action done ID --result T`: an open action is done now ($CSLOG_NOW), with what was done."""
    result = _text(result, "--result", "say what was done")
    return _move(store, action_id, "done", actor, now, commit, _pii({"result": result}, allow_pii),
                 fields={"done_at": fmt(now, store.settings.tz), "result": result})


def drop(store: Store, action_id: str, reason: str, *, actor: str, now: datetime, allow_pii: bool = False,
         commit: bool = True) -> Record:
    """`cslog action drop ID --reason T`: an open action is given up, with why."""
    reason = _text(reason, "--reason", "say why it is dropped")
    return _move(store, action_id, "dropped", actor, now, commit, _pii({"reason": reason}, allow_pii), fields={})


def review(store: Store, action_id: str, effective: bool, note: str | None = None, *, actor: str, now: datetime,
           allow_pii: bool = False, commit: bool = True) -> Record:
    """`cslog action review ID --effective|--not-effective [--note T]`: whether a done action worked; a later
    review replaces an earlier one (the timeline keeps both)."""
    note = (note or "").strip() or None
    allowed = privacy.guard({"note": note}, allow_pii)
    at = fmt(now, store.settings.tz)
    with store.transaction("action", actor, now, commit) as tx:
        record = store.read(action_id, KIND)
        if record.doc.get("status") != "done":
            raise Refused(f"{record.id} is {ACTION_STATUS.label(record.doc.get('status'), 'en')} "
                          f"({ACTION_STATUS.label(record.doc.get('status'))}): only a done action is reviewed",
                          hint=f"cslog action done {record.id} --result TEXT")
        doc = copy.deepcopy(record.doc)
        doc["review"] = {k: v for k, v in {"effective": effective, "note": note, "by": actor, "at": at}.items()
                         if v is not None}
        event = {"at": at, "by": actor, "kind": "evaluated", "effective": effective, "note": note,
                 "allow_pii": True if allowed else None}
        doc["timeline"] = list(doc.get("timeline") or []) + [{k: v for k, v in event.items() if v is not None}]
        tx.summary = "reviewed: " + ("effective" if effective else "not effective")
        written = tx.replace(record, doc)
    return written


def due_moment(text: str, tz) -> datetime:
    """--due: a time, or a date alone for the end of that day (due 11-30 is late on 12-01, not at 11-30 00:00)."""
    moment = parse_time(text, tz, "--due")
    if _DATE.match(str(text).strip()):
        moment = moment.replace(hour=23, minute=59, second=59)
    return moment


def _text(value: str | None, flag: str, why: str) -> str:
    text = (value or "").strip()
    if not text:
        raise UsageError(f"{why}: {flag} TEXT")
    return text


def _pii(said: dict, allow_pii: bool) -> dict:
    """What an event says, refused when it holds personal data unless allowed (then the event records it)."""
    return {**said, "allow_pii": True} if privacy.guard(said, allow_pii) else said


def _move(store: Store, action_id: str, status: str, actor: str, now: datetime, commit: bool, said: dict, *,
          fields: dict) -> Record:
    at = fmt(now, store.settings.tz)
    with store.transaction("action", actor, now, commit) as tx:
        record = store.read(action_id, KIND)
        if record.doc.get("status") not in OPEN_OF[KIND]:
            raise Refused(f"{record.id} is {ACTION_STATUS.label(record.doc.get('status'), 'en')} already "
                          f"({ACTION_STATUS.label(record.doc.get('status'))}): only an open action is "
                          f"{ACTION_STATUS.label(status, 'en')}")
        doc = copy.deepcopy(record.doc)
        doc.update(fields, status=status)
        doc["timeline"] = list(doc.get("timeline") or []) + [{"at": at, "by": actor, "kind": status, **said}]
        tx.summary = ACTION_STATUS.label(status, "en")
        written = tx.replace(record, doc)
    return written

