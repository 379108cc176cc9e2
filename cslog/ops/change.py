"""`cslog set` and `cslog edit` (design 9.4): change what a ticket, contact or customer says after it was made (a
contact's end time and details 补充 after the call, a customer's new phone, a ticket's priority or category).

Each changed field is a `changed` event `{field, from, to, reason}` in the record's timeline; one commit. Only
stored fields a person states can change: the ones that follow from the workflow (status, owner, callbacks,
satisfaction...) have their own commands, which keep the SLA clocks honest. Enum values take codes and labels,
times what `--at` takes, lists `a,b` (or `+=` / `-=` one item). Clocks follow the current priority, counted
from received_at (sla.py), so a priority set later counts from the start.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cslog import people, privacy
from cslog.errors import UsageError
from cslog import schemas
from cslog.model import ENUMS, Enum
from cslog.store import Record, Store, load as store_load
from cslog.timeutil import fmt, parse_time

# What `set` and `edit` may change, per kind. Customer: phone, email and contact_person are its first contact's.
SETTABLE: dict[str, tuple[str, ...]] = {
    "ticket": ("title", "type", "priority", "channel", "customer", "category", "tags", "department", "expectation",
               "emotion", "received_at", "occurred_at", "planned_at", "description", "attempted", "cause",
               "solution", "compensation", "caveats", "remarks", "involved", "praised"),
    "contact": ("channel", "customer", "started_at", "ended_at", "request", "details", "agreed", "result",
                "references", "emotion.before", "emotion.after", "follow_up", "follow_up_at", "ticket"),
    "customer": ("name", "type", "industry", "contact_person", "phone", "email", "tags", "notes"),
    "action": ("title", "problem", "measure", "owner", "department", "due_at", "tickets", "notes"),
}
# Fields that change through their own command (what to use instead).
OWN_COMMAND = {
    "status": "cslog status ID STATUS", "owner": "cslog assign ID OWNER", "collaborators": "cslog assign ID --collaborator A",
    "cc": "cslog assign ID --cc A", "satisfaction": "cslog rate ID SCORE", "callbacks": "cslog callback ID --result T",
    "decision": "cslog status ID closed --adopted|--rejected", "related": "cslog link ID OTHER",
    "attachments": "cslog attach ID FILE", "followed_up_at": "cslog followed ID", "timeline": "the commands that act",
    "contacts": "cslog new --ticket ID", "id": "nothing: an ID never changes", "customer_name": "customer=ID",
    "agent": "nothing: who spoke to the customer stays", "allow_pii": "--allow-pii",
}
# What an action uses instead (its workflow has its own commands).
ACTION_COMMAND = {"status": "cslog action done ID --result T, or cslog action drop ID --reason T",
                  "done_at": "cslog action done ID --result T", "result": "cslog action done ID --result T",
                  "review": "cslog action review ID --effective|--not-effective", "created_at": "nothing: it was decided then"}


def own_command(kind: str, name: str) -> str | None:
    """The command that changes a field that `set` and `edit` leave alone."""
    return ACTION_COMMAND.get(name) if kind == "action" and name in ACTION_COMMAND else OWN_COMMAND.get(name)


_LISTS = {"tags", "involved", "agreed", "tickets"}
_FIRST_CONTACT = {"contact_person": "name", "phone": "phone", "email": "email"}
_SPLIT = re.compile(r"\s*[,，、;；]\s*")
_ASSIGNMENT = re.compile(r"^([A-Za-z_.]+)\s*([+-]?=)(.*)$", re.S)


@dataclass
class Changed:
    """What `set` or `edit` did: the record as written, and (field, before, after) of each change."""

    record: Record
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)
    commit: str | None = None


def parse_assignments(pairs: list[str]) -> list[tuple[str, str, str]]:
    """FIELD=VALUE, FIELD+=ITEM, FIELD-=ITEM → (field, operator, value)."""
    if not pairs:
        raise UsageError("name at least one FIELD=VALUE", hint="cslog set CW202611220001 priority=紧急 category=物流")
    out = []
    for pair in pairs:
        m = _ASSIGNMENT.match(pair)
        if not m:
            raise UsageError(f"'{pair}' is not FIELD=VALUE", hint="e.g. priority=紧急, tags+=物流, planned_at=2026-11-25")
        out.append((m.group(1), m.group(2), m.group(3).strip()))
    return out


def set_fields(store: Store, record_id: str, pairs: list[str], *, actor: str, now: datetime, reason: str | None = None,
               allow_pii: bool = False, commit: bool = True) -> Changed:
    """`cslog set ID FIELD=VALUE...`: every assignment checked before anything is written; one commit."""
    assignments = parse_assignments(pairs)
    with store.transaction("set", actor, now, commit) as tx:
        record = store.read(record_id)
        kind = record.kind
        doc = copy.deepcopy(record.doc)
        for name, op, raw in assignments:
            _settable(kind, name)
            put(doc, kind, name, _value(store, kind, name, op, raw, get(doc, kind, name)))
        names = list(dict.fromkeys(name for name, _op, _raw in assignments))
        changes = [(n, get(record.doc, kind, n), get(doc, kind, n)) for n in names
                   if get(record.doc, kind, n) != get(doc, kind, n)]
        done = _write(store, tx, record, doc, changes, actor, now, reason, allow_pii)
    done.commit = tx.commit_id
    return done


def apply_edit(store: Store, record_id: str, text: str, *, actor: str, now: datetime, reason: str | None = None,
               allow_pii: bool = False, commit: bool = True) -> Changed | None:
    """`cslog edit`: the record's text as the editor left it, through the gate; None when nothing changed.
    UsageError with every problem (the editor comes back with them on top)."""
    with store.transaction("edit", actor, now, commit) as tx:
        record = store.read(record_id)
        kind = record.kind
        item = store_load(kind, store.rel(record.path), text)
        if not item.ok:
            said = [p.message if p.line is None else f"line {p.line}: {p.message}" for p in item.problems]
            raise UsageError("; ".join(said), problems=said)
        doc = item.doc
        problems = []
        for name in sorted(set(doc) | set(record.doc)):
            if doc.get(name) != record.doc.get(name) and not _editable(kind, name, doc, record.doc):
                hint = own_command(kind, name)
                problems.append(f"{name} cannot be changed here" + (f" (use {hint})" if hint else "") +
                                ": put it back as it was")
        if problems:
            raise UsageError("; ".join(problems), problems=problems)
        changes = _changes(kind, record.doc, doc)
        if not changes:
            return None
        done = _write(store, tx, record, doc, changes, actor, now, reason, allow_pii)
    done.commit = tx.commit_id
    return done


def get(doc: dict, kind: str, name: str) -> Any:
    if kind == "customer" and name in _FIRST_CONTACT:
        contacts = doc.get("contacts") or [{}]
        return contacts[0].get(_FIRST_CONTACT[name]) if isinstance(contacts[0], dict) else None
    if "." in name:
        outer, inner = name.split(".", 1)
        return (doc.get(outer) or {}).get(inner)
    return doc.get(name)


def put(doc: dict, kind: str, name: str, value: Any) -> None:
    empty = value in (None, "", [])
    if kind == "customer" and name in _FIRST_CONTACT:
        contacts = [dict(c) for c in (doc.get("contacts") or [])] or [{}]
        contacts[0][_FIRST_CONTACT[name]] = value
        contacts[0] = {k: v for k, v in contacts[0].items() if v not in (None, "")}
        doc["contacts"] = [c for c in contacts if c] if not contacts[0] else contacts
        return
    if "." in name:
        outer, inner = name.split(".", 1)
        part = dict(doc.get(outer) or {})
        part.pop(inner, None) if empty else part.__setitem__(inner, value)
        doc[outer] = part
        return
    if empty:
        doc.pop(name, None)
    else:
        doc[name] = value


# -- the checks -------------------------------------------------------------------------------------------

def _settable(kind: str, name: str) -> None:
    if name in SETTABLE[kind]:
        return
    if own_command(kind, name):
        raise UsageError(f"{name} changes through its own command: {own_command(kind, name)}")
    raise UsageError(f"a {kind} has no field '{name}' that set can change",
                     hint="fields: " + ", ".join(SETTABLE[kind]))


def _editable(kind: str, name: str, new: dict, old: dict) -> bool:
    if name in SETTABLE[kind]:
        return True
    if name == "customer_name":  # follows the customer
        return new.get("customer") != old.get("customer")
    if kind == "customer" and name == "contacts":  # phone, e-mail, contact person: any contact, in the editor
        return True
    if kind == "contact" and name == "emotion":
        return True
    return False


def _value(store: Store, kind: str, name: str, op: str, raw: str, current: Any) -> Any:
    s = store.settings
    if name in _LISTS:
        items = [i for i in _SPLIT.split(raw) if i] if raw else []
        if name == "involved":
            items = [people.checked_name(i, "involved person") for i in items]
        if name == "tickets":
            items = [store.read(i, "ticket").id for i in items]
        now = list(current or [])
        if op == "+=":
            return now + [i for i in items if i not in now]
        if op == "-=":
            return [i for i in now if i not in items]
        return items
    if op != "=":
        raise UsageError(f"{name} is not a list: use {name}=VALUE")
    if raw == "":
        return None
    enum = _enums(kind).get(name)
    if enum is not None:
        return enum.parse(raw)
    if name == "due_at":  # (a date alone: the end of that day)
        from cslog.ops.actions import due_moment

        return fmt(due_moment(raw, s.tz), s.tz)
    if name in _times(kind):
        return fmt(parse_time(raw, s.tz, name), s.tz)
    if name == "department":
        return people.resolve(s.departments, raw, "department")
    if name in ("praised", "owner"):  # (a ticket's owner changes through `cslog assign`)
        return people.resolve(s.agents, raw, "agent")
    if name in ("customer", "ticket"):
        return store.read(raw, name).id
    return raw


def _enums(kind: str) -> dict[str, Enum]:
    """The enum each field of a kind holds, by the names `set` uses (emotion.before), as the schema says."""
    return {".".join(map(str, path)): ENUMS[key] for path, key in schemas.enum_fields(kind) if key in ENUMS}


def _times(kind: str) -> set[str]:
    """The timestamp fields of a kind, by the names `set` uses, as the schema says."""
    return {".".join(map(str, path)) for path in schemas.timestamp_fields(kind)}


def _follow_customer(store: Store, kind: str, doc: dict, old: dict) -> None:
    """A record moved to another customer carries that customer's name (a copy, for lists and the workbook)."""
    if kind in ("ticket", "contact") and doc.get("customer") and doc.get("customer") != old.get("customer"):
        doc["customer_name"] = store.read(doc["customer"], "customer").doc.get("name")


def _changes(kind: str, old: dict, new: dict) -> list[tuple[str, Any, Any]]:
    """(field, before, after) of what differs between two versions, by the names `set` uses (a contact's
    emotion.before/after, a customer's first contact as phone, email, contact_person)."""
    found = []
    for name in dict.fromkeys(n.split(".")[0] for n in SETTABLE[kind] if n not in _FIRST_CONTACT):
        if old.get(name) == new.get(name):
            continue
        if kind == "contact" and name == "emotion":
            before, after = old.get(name) or {}, new.get(name) or {}
            found += [(f"emotion.{k}", before.get(k), after.get(k)) for k in ("before", "after")
                      if before.get(k) != after.get(k)]
        else:
            found.append((name, old.get(name), new.get(name)))
    if kind == "customer" and old.get("contacts") != new.get("contacts"):
        first = [(n, get(old, kind, n), get(new, kind, n)) for n in _FIRST_CONTACT]
        if (old.get("contacts") or [{}])[1:] == (new.get("contacts") or [{}])[1:]:
            found += [c for c in first if c[1] != c[2]]
        else:
            found.append(("contacts", old.get("contacts"), new.get("contacts")))
    return found


def _consistent(store: Store, record: Record, doc: dict) -> None:
    """What a change may not undo: a closed or resolved ticket keeps what closing it required; a follow-up
    time needs the follow-up's text; a new follow-up time is a new reminder (done no longer)."""
    from cslog import workflow
    from cslog.model import DONE_STATUSES, SOLUTION_TYPES

    kind, rid = record.kind, record.id
    if kind == "ticket" and doc.get("status") in DONE_STATUSES:
        needed = ["solution"] if doc.get("type") in SOLUTION_TYPES else []
        if doc.get("status") == "closed":
            needed += workflow.close_requirements(doc.get("type"), store.settings)
        missing = [f for f in dict.fromkeys(needed) if record.doc.get(f) and not doc.get(f)]
        if missing:
            raise UsageError(f"{rid} is {doc.get('status')}: it keeps its {', '.join(missing)} (closing needed it)",
                             hint=f"reopen it first (cslog status {rid} in_progress --reason TEXT), or set a new value")
    if kind == "contact":
        if doc.get("follow_up_at") and not doc.get("follow_up"):
            raise UsageError(f"{rid}: a follow-up time needs the follow-up's text (follow_up=TEXT)")
        if doc.get("followed_up_at") and doc.get("follow_up_at") != record.doc.get("follow_up_at"):
            doc.pop("followed_up_at")  # a new time is a new reminder: `overdue` lists it when it passes


def _write(store: Store, tx, record: Record, doc: dict, changes: list[tuple[str, Any, Any]], actor: str,
           now: datetime, reason: str | None, allow_pii: bool) -> Changed:
    _follow_customer(store, record.kind, doc, record.doc)
    _consistent(store, record, doc)
    if record.doc.get("followed_up_at") and not doc.get("followed_up_at"):
        changes = changes + [("followed_up_at", record.doc["followed_up_at"], None)]
    if not changes:
        raise UsageError(f"{record.id} already says that: nothing changed")
    said = {name: new for name, _old, new in changes if isinstance(new, (str, list))}
    if reason:
        said["reason"] = reason
    pii = privacy.guard(said, allow_pii)
    at = fmt(now, store.settings.tz)
    timeline = list(doc.get("timeline") or [])
    for name, old, new in changes:
        event = {"at": at, "by": actor, "kind": "changed", "field": name}
        event.update({k: v for k, v in (("from", old), ("to", new), ("reason", reason)) if v not in (None, "", [])})
        if pii:
            event["allow_pii"] = True
        timeline.append(event)
    doc["timeline"] = timeline
    tx.summary = f"{tx.op} " + ", ".join(name for name, _o, _n in changes)
    written = tx.replace(record, doc)
    _follow_links(store, tx, record, doc)
    return Changed(written, changes)


def _follow_links(store: Store, tx, record: Record, doc: dict) -> None:
    """Copies that follow a change, in the same commit: a renamed customer's name in its tickets and contacts;
    a contact moved to another ticket in both tickets' lists of contacts."""
    if record.kind == "customer" and doc.get("name") != record.doc.get("name"):
        from cslog.index import Index

        for rel, _field, _pos, _target, _ref in Index.open(store).references_to([("customer", record.id)]):
            kind = "ticket" if rel.startswith("tickets/") else "contact" if rel.startswith("contacts/") else None
            other = store.read_path(kind, store.root / rel) if kind else None
            if other is not None and other.doc.get("customer") == record.id:
                tx.replace(other, {**other.doc, "customer_name": doc.get("name")})
    if record.kind == "contact" and doc.get("ticket") != record.doc.get("ticket"):
        for tid, keep in ((record.doc.get("ticket"), False), (doc.get("ticket"), True)):
            if not tid:
                continue
            ticket = store.read(tid, "ticket")
            listed = [c for c in ticket.doc.get("contacts") or [] if c != record.id] + ([record.id] if keep else [])
            if listed != (ticket.doc.get("contacts") or []):
                tx.replace(ticket, {**ticket.doc, "contacts": listed})
