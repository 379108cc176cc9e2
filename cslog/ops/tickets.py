"""The ticket commands' use-cases (cli/tickets.py), one per command: each moves one ticket (link: several) in
one locked, committed step; and the batch-complaint rule that runs when a ticket is created.

Every action re-reads the ticket under the repository lock, checks everything before writing (a
refused action changes no byte and makes no commit), appends exactly one timeline event
`{at, by, kind, ...}` (a returned review also appends the status event of its move back) and
updates the top-level fields that hold the ticket's current state.
"""
from __future__ import annotations

import copy
from datetime import datetime
from typing import Any, Callable, Iterable

from cslog import labels, people, privacy, sla, workflow
from cslog.errors import NotFound, Refused, UsageError
from cslog.model import DONE_STATUSES, OPEN_STATUSES, OWNER_EVENTS, SCORES, STATUS
from cslog.store import Record, Store
from cslog.timeutil import fmt

# build(doc) -> (new document, commit summary); raises to refuse.
Build = Callable[[dict], tuple[dict, str]]


def _apply(store: Store, op: str, ticket_id: str, actor: str, now: datetime, commit: bool, build: Build) -> Record:
    with store.transaction(op, actor, now, commit) as tx:
        record = store.read(ticket_id, "ticket")
        new_doc, summary = build(copy.deepcopy(record.doc))
        tx.summary = summary
        return tx.replace(record, new_doc)


def _event(store: Store, actor: str, now: datetime, kind: str, **fields: Any) -> dict:
    event = {"at": fmt(now, store.settings.tz), "by": actor, "kind": kind}
    event.update({k: v for k, v in fields.items() if v is not None and v != "" and v != [] and v != ()})
    return event


def _text(free: dict[str, str | None], event: dict, allow_pii: bool) -> None:
    """Refuse personal data in the free text given; with --allow-pii keep it and say so in the event."""
    given = {k: v for k, v in free.items() if v}
    if privacy.guard(given, allow_pii):
        event["allow_pii"] = True


def _append(doc: dict, event: dict) -> dict:
    doc["timeline"] = list(doc.get("timeline") or []) + [event]
    return doc


def _open_for_work(doc: dict, what: str) -> None:
    if doc.get("status") == "closed":
        raise Refused(f"{doc.get('id')} is closed; reopen it before it can be {what}",
                      hint=f"cslog status {doc.get('id')} in_progress --reason TEXT")


def _done(doc: dict, what: str) -> None:
    if doc.get("status") not in DONE_STATUSES:
        raise Refused(f"{what} follows the resolution, and {doc.get('id')} is {workflow.both(doc.get('status'))}",
                      hint=f"resolve it first: cslog status {doc.get('id')} resolved")


def _score(value: int | None, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value not in SCORES:
        raise UsageError(f"{what} must be a whole number from 1 to 5, not {value!r}",
                         hint="1 非常不满意, 2 不满意, 3 一般, 4 满意, 5 非常满意")
    return value


def _agent(store: Store, name: str | None) -> str | None:
    return people.resolve(store.settings.agents, name, "agent")


def _department(store: Store, name: str | None) -> str | None:
    return people.resolve(store.settings.departments, name, "department")


# --- status ------------------------------------------------------------------------------------------

def change_status(store: Store, ticket_id: str, status: str, *, actor: str, now: datetime, note: str | None = None,
                  solution: str | None = None, reason: str | None = None, category: str | None = None,
                  cause: str | None = None, compensation: str | None = None, decision: str | None = None,
                  skip_callback: bool = False, allow_pii: bool = False, commit: bool = True) -> Record:
    """Move a ticket along the workflow (design section 3).

    `solution`, `category`, `cause` and `compensation` also set the ticket's fields of those names;
    `decision` (adopted/rejected, 采纳/不采纳) answers a suggestion and needs `reason`; `skip_callback` closes
    a ticket whose type asks for a callback without one (with `reason`; recorded). Moving to escalated
    writes an `escalated` event, as `escalate` does.
    """
    to = STATUS.parse(status)
    result = workflow.parse_decision(decision) if decision else None

    def build(doc: dict) -> tuple[dict, str]:
        before = doc.get("status") or "new"
        fields = {"solution": solution, "category": category, "cause": cause, "compensation": compensation}
        doc.update({k: v for k, v in fields.items() if v})
        workflow.check_transition(doc, to, settings=store.settings, solution=solution, reason=reason,
                                  skip_callback=skip_callback)
        if result:
            workflow.check_decision(doc, result, reason)
            doc["decision"] = {"result": result, "reason": reason}
        kind = "escalated" if to == "escalated" else "status"
        event = _event(store, actor, now, kind, **{"from": before, "to": to}, note=note, solution=solution,
                       cause=cause, compensation=compensation, category=category, reason=reason, decision=result,
                       skip_callback=True if skip_callback else None)
        _text({"note": note, "solution": solution, "reason": reason, "cause": cause, "compensation": compensation,
               "category": category}, event, allow_pii)
        doc["status"] = to
        return _append(doc, event), f"status {before} -> {to}"

    return _apply(store, "status", ticket_id, actor, now, commit, build)


def escalate(store: Store, ticket_id: str, *, reason: str, actor: str, now: datetime, to: str | None = None,
             allow_pii: bool = False, commit: bool = True) -> Record:
    """Status escalated (需升级), with the reason and whom it goes to (`to_agent`) in an `escalated` event."""
    to_agent = _agent(store, to)

    def build(doc: dict) -> tuple[dict, str]:
        before = doc.get("status") or "new"
        workflow.check_transition(doc, "escalated", settings=store.settings, reason=reason)
        event = _event(store, actor, now, "escalated", **{"from": before, "to": "escalated"}, to_agent=to_agent,
                       reason=reason)
        _text({"reason": reason}, event, allow_pii)
        doc["status"] = "escalated"
        return _append(doc, event), f"escalate {before} -> escalated" + (f" to {to_agent}" if to_agent else "")

    return _apply(store, "escalate", ticket_id, actor, now, commit, build)


# --- people ------------------------------------------------------------------------------------------

def _union(existing: Iterable[str], more: Iterable[str]) -> list[str]:
    out = list(existing)
    for name in more:
        if name not in out:
            out.append(name)
    return out


def assign(store: Store, ticket_id: str, owner: str, *, actor: str, now: datetime, department: str | None = None,
           collaborators: Iterable[str] = (), cc: Iterable[str] = (), commit: bool = True) -> Record:
    """Set the owner (第一责任人; counts as claimed), the department, and add collaborators (协助人) and cc (抄送).

    Without `department`, the owner's department from cslog.yaml's agents list is used, if any; the
    ticket's department stays otherwise.
    """
    owner = _agent(store, owner)
    if not owner:
        raise UsageError("assign needs an owner (第一责任人)", hint="cslog assign ID OWNER")
    dept = _department(store, department) or people.department_of(store.settings.agents, owner)
    helpers = [_agent(store, n) for n in collaborators if n]
    copies = [_agent(store, n) for n in cc if n]

    def build(doc: dict) -> tuple[dict, str]:
        _open_for_work(doc, "assigned")
        new_helpers = [n for n in helpers if n not in (doc.get("collaborators") or [])]
        new_cc = [n for n in copies if n not in (doc.get("cc") or [])]
        new_dept = dept if dept and dept != doc.get("department") else None
        if owner == doc.get("owner") and not (new_helpers or new_cc or new_dept):
            raise Refused(f"{doc.get('id')} is already assigned to {owner}; nothing to change")
        doc["owner"] = owner
        if new_dept:
            doc["department"] = new_dept
        doc["collaborators"] = _union(doc.get("collaborators") or [], new_helpers)
        doc["cc"] = _union(doc.get("cc") or [], new_cc)
        event = _event(store, actor, now, "assigned", owner=owner, department=doc.get("department"),
                       collaborators=new_helpers, cc=new_cc)
        return _append(doc, event), f"assign {owner}"

    return _apply(store, "assign", ticket_id, actor, now, commit, build)


def claim(store: Store, ticket_id: str, *, actor: str, now: datetime, commit: bool = True) -> Record:
    """The actor takes the ticket (认领): owner := actor. Confirming one's own assignment is a claim too."""
    owner = _agent(store, actor)
    dept = people.department_of(store.settings.agents, owner)

    def build(doc: dict) -> tuple[dict, str]:
        _open_for_work(doc, "claimed")
        current = doc.get("owner")
        if current and current != owner:
            raise Refused(f"{doc.get('id')} is owned by {current}, not by {owner}",
                          hint=f"to hand it over: cslog assign {doc.get('id')} {owner}")
        last = next((e for e in reversed(doc.get("timeline") or []) if isinstance(e, dict)
                     and e.get("kind") in OWNER_EVENTS and e.get("owner")), {})
        if last.get("kind") == "claimed" and last.get("owner") == owner:
            raise Refused(f"{doc.get('id')} is already claimed by {owner}")
        doc["owner"] = owner
        if dept and not doc.get("department"):
            doc["department"] = dept
        event = _event(store, actor, now, "claimed", owner=owner, department=doc.get("department"))
        return _append(doc, event), f"claim {owner}"

    return _apply(store, "claim", ticket_id, actor, now, commit, build)


# --- updates -----------------------------------------------------------------------------------------

def reply(store: Store, ticket_id: str, text: str, *, actor: str, now: datetime, allow_pii: bool = False,
          commit: bool = True) -> Record:
    """A customer-facing update (回复客户): what the customer was told. Restarts the update clock."""
    if not text or not text.strip():
        raise UsageError("a reply needs its text", hint="cslog reply ID TEXT")

    def build(doc: dict) -> tuple[dict, str]:
        event = _event(store, actor, now, "reply", text=text)
        _text({"text": text}, event, allow_pii)
        return _append(doc, event), "reply"

    return _apply(store, "reply", ticket_id, actor, now, commit, build)


def note(store: Store, ticket_id: str, text: str, *, actor: str, now: datetime, percent: int | None = None,
         decision: bool = False, allow_pii: bool = False, commit: bool = True) -> Record:
    """Internal progress (进度更新, with `percent` done), or with `decision` a key decision (关键决策)."""
    if not text or not text.strip():
        raise UsageError("a note needs its text", hint="cslog note ID TEXT")
    if percent is not None and (isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100):
        raise UsageError(f"--percent must be a whole number from 0 to 100, not {percent!r}")
    kind = "decision" if decision else "note"

    def build(doc: dict) -> tuple[dict, str]:
        event = _event(store, actor, now, kind, text=text, percent=percent)
        _text({"text": text}, event, allow_pii)
        summary = kind + (f" {percent}%" if percent is not None else "")
        return _append(doc, event), summary

    return _apply(store, "note", ticket_id, actor, now, commit, build)


def review(store: Store, ticket_id: str, *, approve: bool, actor: str, now: datetime, comment: str | None = None,
           allow_pii: bool = False, commit: bool = True) -> Record:
    """A supervisor's check of a resolved ticket (主管审核): approve it, or return it (退回补充) with a comment.

    A returned ticket goes back to in_progress with a `status` event of its own, after the `reviewed` one.
    """
    if not approve and not (comment and comment.strip()):
        raise UsageError("returning a ticket needs a comment saying what is missing (--comment)",
                         hint="cslog review ID --return --comment TEXT")
    result = "approved" if approve else "returned"

    def build(doc: dict) -> tuple[dict, str]:
        if doc.get("status") != "resolved":
            raise Refused(f"only a resolved ticket can be reviewed; {doc.get('id')} is "
                          f"{workflow.both(doc.get('status'))}")
        event = _event(store, actor, now, "reviewed", result=result, comment=comment)
        _text({"comment": comment}, event, allow_pii)
        _append(doc, event)
        if approve:
            return doc, "review approved"
        back = _event(store, actor, now, "status", **{"from": "resolved", "to": "in_progress"}, reason=comment)
        if event.get("allow_pii"):
            back["allow_pii"] = True
        doc["status"] = "in_progress"
        return _append(doc, back), "review returned: resolved -> in_progress"

    return _apply(store, "review", ticket_id, actor, now, commit, build)


def rate(store: Store, ticket_id: str, score: int, *, actor: str, now: datetime, comment: str | None = None,
         efficiency: int | None = None, attitude: int | None = None, solution: int | None = None,
         allow_pii: bool = False, commit: bool = True) -> Record:
    """The customer's satisfaction (客户满意度, 1-5) with the resolved ticket; a later rating replaces it."""
    score = _score(score, "the score")
    efficiency, attitude, solution = (_score(efficiency, "--efficiency"), _score(attitude, "--attitude"),
                                      _score(solution, "--solution"))

    def build(doc: dict) -> tuple[dict, str]:
        _done(doc, "rating")
        at = fmt(now, store.settings.tz)
        doc["satisfaction"] = {k: v for k, v in {"score": score, "comment": comment, "efficiency": efficiency,
                                                 "attitude": attitude, "solution": solution, "at": at}.items()
                               if v not in (None, "")}
        event = _event(store, actor, now, "rated", score=score, comment=comment, efficiency=efficiency,
                       attitude=attitude, solution_score=solution)
        _text({"comment": comment}, event, allow_pii)
        return _append(doc, event), f"rate {score}"

    return _apply(store, "rate", ticket_id, actor, now, commit, build)


def callback(store: Store, ticket_id: str, *, result: str, actor: str, now: datetime, solved: bool | None = None,
             score: int | None = None, allow_pii: bool = False, commit: bool = True) -> Record:
    """A follow-up call after the resolution (回访): what the customer said, solved or not, a score. Not solved
    puts the ticket back to work (in_progress, reason 回访未解决: seeds 003 and 004), so that its resolve clock
    runs again to the next resolution."""
    if not result or not result.strip():
        raise UsageError("a callback needs its result (--result)", hint="cslog callback ID --result TEXT --solved")
    score = _score(score, "--score")

    def build(doc: dict) -> tuple[dict, str]:
        _done(doc, "a callback")
        if sla.closed_unresolved(doc, store.calendar(), now):
            raise Refused(f"a callback follows the resolution, and {doc.get('id')} was closed without being resolved "
                          "(a duplicate, a withdrawn request)",
                          hint=f"to take it up again: cslog status {doc.get('id')} in_progress --reason TEXT")
        entry = {k: v for k, v in {"at": fmt(now, store.settings.tz), "by": actor, "result": result,
                                   "solved": solved, "score": score}.items() if v is not None}
        doc["callbacks"] = list(doc.get("callbacks") or []) + [entry]
        event = _event(store, actor, now, "callback", result=result, solved=solved, score=score)
        _text({"result": result}, event, allow_pii)
        said = "" if solved is None else " solved" if solved else " not solved"
        _append(doc, event)
        if solved is False:
            before = doc.get("status")
            reason = labels.say(labels.REOPENED_BY_CALLBACK, store.settings.language)
            _append(doc, _event(store, actor, now, "status", **{"from": before, "to": "in_progress"}, reason=reason))
            doc["status"] = "in_progress"
            said += f": reopened, {before} -> in_progress"
        return doc, f"callback{said}"

    return _apply(store, "callback", ticket_id, actor, now, commit, build)


# --- routing -----------------------------------------------------------------------------------------

def route(store: Store, ticket_id: str, *, actor: str, now: datetime, commit: bool = True) -> Record:
    """`cslog route ID`: the first routing rule (cslog.yaml) that matches gives the ticket its department and
    owner; an `assigned` event by the rule's name (owner set: the claim clock stops, as for an assignment)."""
    from cslog import routing

    def build(doc: dict) -> tuple[dict, str]:
        _open_for_work(doc, "routed")
        try:
            customer_type = store.read(str(doc.get("customer")), "customer").doc.get("type")
        except (UsageError, NotFound):
            customer_type = None
        rule, event = routing.apply(doc, store.settings, customer_type, fmt(now, store.settings.tz), False)
        if rule is None:
            raise Refused(f"no routing rule matches {doc.get('id')}" if store.settings.routing else
                          "cslog.yaml has no routing rules", hint="routing: in cslog.yaml (cslog init writes an example)"
                          if not store.settings.routing else "the rules' when: in cslog.yaml say which tickets they take")
        if event is None:
            raise Refused(f"{doc.get('id')} is where rule '{rule.get('name')}' sends it already")
        return doc, f"route: {rule.get('name')}"

    return _apply(store, "route", ticket_id, actor, now, commit, build)


# --- links -------------------------------------------------------------------------------------------

def link(store: Store, ticket_id: str, others: Iterable[str], *, actor: str, now: datetime,
         commit: bool = True) -> Record:
    """Relate tickets (关联工单) both ways: each gets the others in `related` and a `linked` event; one commit."""
    others = list(dict.fromkeys(others))
    if not others:
        raise UsageError("name at least one ticket to link to", hint="cslog link ID OTHER...")
    if ticket_id in others:
        raise UsageError(f"{ticket_id} cannot be linked to itself")
    ids = [ticket_id] + others
    with store.transaction("link", actor, now, commit) as tx:
        records = []
        for tid in ids:
            try:
                records.append(store.read(tid, "ticket"))
            except NotFound:
                raise NotFound(f"unknown ticket {tid}", hint="`cslog list tickets` shows the tickets") from None
        updates = []
        for record in records:
            related = list(record.doc.get("related") or [])
            added = [r.id for r in records if r.id != record.id and r.id not in related]
            if added:
                doc = copy.deepcopy(record.doc)
                doc["related"] = related + added
                updates.append((record, _append(doc, _event(store, actor, now, "linked", related=added))))
        if not updates:
            raise Refused(f"{', '.join(ids)} are already linked to each other")
        first = None
        for record, doc in updates:
            written = tx.replace(record, doc)
            first = first or (written if record.id == ticket_id else None)
        tx.summary = f"link {', '.join(others)}"
        # the commit subject names the first record written; make it the ticket the user named
        tx.records.sort(key=lambda rid: rid != ticket_id)
    return first or store.read(ticket_id, "ticket")


# --- batch complaints ------------------------------------------------------------------------------------

def batch_complaints(store: Store, tx, record: Record, actor: str, now: datetime) -> None:
    """The batch-complaint rule, run when a ticket is created, inside its transaction (same lock, same commit).

    Every member of the batch becomes urgent (a `priority` event) and is linked to all the others
    (`related` plus a `linked` event); what happened goes to `tx.notices` for the command to say.
    """
    from cslog.durations import parse_duration
    from cslog.timeutil import stored

    settings = store.settings
    doc = record.doc
    if doc.get("type") != "complaint" or not str(doc.get("category") or "").strip():
        return
    duration = parse_duration(settings.batch_window)
    tz = settings.tz
    if duration.is_business:
        calendar = store.calendar()

        def within(early: datetime, late: datetime) -> bool:
            return late <= calendar.add_duration(early, duration)
    else:
        def within(early: datetime, late: datetime) -> bool:
            return late - early <= duration.wall_timedelta()

    # The index names the few files that can belong to the batch (open complaints of this category);
    # only those are read, fresh from disk, since a batch rewrites them.
    from cslog.index import Index

    category = str(doc.get("category")).strip()
    candidates = {}
    index = Index.open(store, kinds=("ticket",))
    for row in index.rows("ticket", OPEN_STATUSES):
        if (row.get("id") == record.id or row.get("type") != "complaint"
                or str(row.get("category") or "").strip() != category):
            continue
        try:
            other = store.read(str(row.get("id")), "ticket")
        except (UsageError, NotFound):
            continue
        candidates[other.id] = other
    batch = workflow.find_batch(doc, (r.doc for r in candidates.values()), settings.batch_threshold, duration.text,
                       within, lambda value: stored(str(value), tz))
    if batch is None:
        return
    at = fmt(now, tz)
    reason = batch.reason(settings.language)
    for tid in batch.ids:
        member = record if tid == record.id else candidates[tid]
        new_doc = workflow.batch_update(member.doc, batch, at, actor, reason)
        if new_doc != member.doc:
            tx.replace(member, new_doc)
    tx.notices.append(batch.notice())
    tx.summary += f"; batch complaint: {len(batch.ids)} urgent and linked"
