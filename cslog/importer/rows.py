"""One spreadsheet row → a record and the customer it names, with the row's problems.

A ticket's timeline is rebuilt from the row (created at 任务开始时间, status moves up to 处理进度,
resolved at 实际完成时间, progress notes, a rating, a callback) so SLA clocks and reports work on
imported history.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Callable

from cslog import labels, people
from cslog.errors import CslogError, UsageError
from cslog.ids import is_safe
from cslog.importer.sheet import Column, Unsaved
from cslog.importer.values import (_contact_field, derive_title, enum_value, names, phone_value, progress_steps,
                                   score_value, seed_contact_cells, time_value, yes_no)
from cslog.importer.vocab import _SOLVED, _UNSOLVED, REQUIRED, STATUS_WORDS, TYPE_WORDS, Mapping
from cslog.model import (CHANNEL, CUSTOMER_TYPE, DONE_STATUSES, EMOTION, PRIORITY, STATUS, TICKET_TYPE, name_key,
                         phone_key)
from cslog.store import Store
from cslog.timeutil import fmt

_INLINE_TIME = re.compile(r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s*\d{1,2}\s*[:：]\s*\d{2})?")


# --- problems ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RowProblem:
    """A cell the importer cannot use: printed as `file:row: header (column X): message`."""

    source: str
    row: int
    column: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.row}: " + (f"{self.column}: " if self.column else "") + self.message


# --- one row -------------------------------------------------------------------------------------------

class _Skip(Exception):
    """A cell could not be used; the problem is already recorded."""


class Row:
    """The cells of one spreadsheet row by field, with the problems found in them."""

    def __init__(self, source: str, number: int, cells: list[Any], columns: list[Column], mapping: Mapping,
                 defaults: dict[str, Any]):
        self.source = source
        self.number = number
        self.problems: list[RowProblem] = []
        self.customer_ref: str | None = None  # an existing customer the row names
        self.new_customer: Entry | None = None  # or the customer the row would create
        self.added_phone: tuple[str, str] | None = None  # (existing customer, a number of it the sheet adds)
        self._values: dict[str, tuple[Any, Column | None]] = {}
        self._columns = {col.field: col for col in columns if col.field is not None}  # (empty cells too)
        for col in columns:
            if col.field is None:
                continue
            value = cells[col.index] if col.index < len(cells) else None
            if isinstance(value, Unsaved):
                self.problems.append(RowProblem(source, number, col.where, f"a formula without a saved value "
                                                f"({value[:40]}): open the file in Excel or WPS, save it, and import "
                                                "again"))
                value = None
            if value is None or col.field in self._values:
                continue
            table = mapping.values.get(col.field)
            if table and str(value).strip() in table:
                value = table[str(value).strip()]
            self._values[col.field] = (value, col)
        for fname, value in {**defaults, **mapping.defaults}.items():
            self._values.setdefault(fname, (value, None))
        self.cells = [(col, cells[col.index]) for col in columns
                      if col.field is not None and col.index < len(cells) and cells[col.index] is not None]

    def has(self, fname: str) -> bool:
        return fname in self._values

    def raw(self, fname: str) -> Any:
        return self._values.get(fname, (None, None))[0]

    def text(self, fname: str) -> str | None:
        value = self.raw(fname)
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M")
        if isinstance(value, bool):
            return "是" if value else "否"
        return str(value).strip() or None

    def where(self, fname: str) -> str:
        col = self._values.get(fname, (None, None))[1] or self._columns.get(fname)
        return col.where if col else f"{fname} (--mapping defaults)"

    def problem(self, fname: str | None, message: str) -> None:
        self.problems.append(RowProblem(self.source, self.number, self.where(fname) if fname else None, message))

    def parse(self, fname: str, parse: Callable[[Any], Any]) -> Any:
        """parse(value) for a filled cell, None for an empty one; a bad value is recorded and skips the row."""
        if fname not in self._values:
            return None
        try:
            return parse(self.raw(fname))
        except UsageError as exc:
            self.problem(fname, exc.message + (f" ({exc.hint})" if exc.hint else ""))
            raise _Skip() from None

    def get(self, fname: str, parse: Callable[[Any], Any] | None = None) -> Any:
        """Like parse, but carries on after a bad value so that every problem of the row is reported."""
        try:
            return self.parse(fname, parse or (lambda v: self.text(fname)))
        except _Skip:
            return None


# --- the records a row makes ---------------------------------------------------------------------------

@dataclass
class Entry:
    """One record the import makes."""

    row: int
    kind: str
    doc: dict  # the record without its id
    moment: datetime  # picks the ID's date and the month folder
    keep_id: str | None = None  # the sheet's own ID, kept when unique and safe
    customer_key: str | None = None  # a customer this import creates (its name)
    id: str | None = None  # filled by preview (predicted) or apply (final)
    note: str = ""
    source: str = ""  # the row's file (and sheet): with `row`, which row of which sheet


_SALUTATION = re.compile(r"^[\u4e00-\u9fff]{1,2}(先生|女士|小姐|老师|师傅)$")


class RowReader:
    """Turns one row into an Entry (and the customer it names), knowing the repository's customers; no writes."""

    def __init__(self, store: Store, *, actor: str, now: datetime, allow_pii: bool = False,
                 mapping: Mapping | None = None):
        self.store = store
        self.actor = actor
        self.now = now
        self.allow_pii = allow_pii
        self.mapping = mapping or Mapping()
        self.tz = store.settings.tz
        self.notes: list[str] = []  # what the import decided for a row, said as a warning
        self.year: int | None = None  # for dates written without one (10月13日): the sheet's other dates' year
        self._customers_by_id: dict[str, dict] = {}
        self._customers_by_name: dict[str, str] = {}  # by name_key (width, spaces, brackets, 有限公司)
        self._customers_by_phone: dict[str, str] = {}
        self._names_in_file: dict[str, int] = {}
        self.phones_added: dict[str, list[str]] = {}  # an existing customer -> numbers the sheet adds to it
        from cslog.index import Index

        self.index = Index.open(store)  # (the plan asks it too: what earlier imports brought)
        for doc in self.index.docs("customer"):  # every customer that passes the gate, as the index holds it
            rid = str(doc.get("id"))
            self._customers_by_id[rid] = doc
            name = str(doc.get("name") or "").strip()
            if name:
                self._customers_by_name.setdefault(name_key(name), rid)
            for contact in doc.get("contacts") or []:
                if isinstance(contact, dict) and contact.get("phone"):
                    self._customers_by_phone.setdefault(phone_key(contact["phone"]), rid)

    def accept(self, row: Row) -> None:
        """What a valid row adds to the customers it names: an existing customer's new number."""
        if row.added_phone is not None:
            existing, phone = row.added_phone
            if phone_key(phone) not in self._customers_by_phone:
                self.phones_added.setdefault(existing, []).append(phone)
                self._customers_by_phone[phone_key(phone)] = existing

    def _start(self, row: Row, key: str, others: tuple[str, ...], what: str) -> datetime | None:
        """The row's start time (received_at, started_at), or another date of the row, said so; never the
        import's own moment (design 9.8): without one, the row is refused."""
        when = time_value(self.tz, self.year)
        moment = row.get(key, when)
        if moment is not None or (row.has(key) and row.raw(key) not in (None, "")):
            return moment
        for other in others:
            value = row.get(other, when)
            if value is not None:
                self.notes.append(f"{row.source}:{row.number}: {what} is empty; took {row.where(other)}: {_show(value)}")
                return value
        row.problem(key if row.has(key) else None,
                    f"{what} is empty: the start time decides the period a record counts in, and cslog never takes "
                    "the import's own moment for it; fill it in, or give every row one with --mapping "
                    f"(defaults: {{{key}: 2026-10-01}})")
        return None

    def _exists(self, record_id: str) -> bool:
        try:
            self.store.locate(record_id)
        except CslogError:  # NotFound, or not even a safe ID
            return False
        return True

    # -- customers --

    def _customer_of(self, row: Row, new: dict[str, Entry], plan: Any) -> str | None:
        """Sets the row's customer: an existing one by ID, then by phone, then by name; else one this import
        creates. A salutation alone (王先生) with another number is another customer; a company's new number
        becomes another contact of it, never a lost number. Returns the key of a customer this import creates."""
        given_id = row.text("customer_id")
        combined = row.text("customer")
        name = row.text("customer_name")
        for candidate in (given_id, combined):
            if candidate and candidate in self._customers_by_id:
                row.customer_ref = candidate
                return None
        person = row.text("contact_name")
        if combined and not name and "联系人" in row.where("customer") and re.search(r"[/／]", combined):
            combined, person = (part.strip() or None for part in re.split(r"[/／]", combined, maxsplit=1))
        name = name or combined or given_id
        if not name:
            row.problem("customer_name" if row.has("customer_name") else None,
                        "no customer: every record needs the customer's name or ID (客户名称/编号)")
            return None
        phone = self._phone(row)
        contact = {k: v for k, v in (("name", person), *(_contact_field(phone) or {}).items()) if v}
        existing = self._customers_by_phone.get(phone_key(phone)) if phone else None
        alone = bool(_SALUTATION.match(name))
        if existing is None and not (alone and phone):
            existing = self._customers_by_name.get(name_key(name))
        if existing is not None:
            known = str(self._customers_by_id.get(existing, {}).get("name") or "")
            if phone and name_key(known) != name_key(name) and not alone:
                self.notes.append(f"{row.source}:{row.number}: {phone} is the number of {known} ({existing}): the "
                                  f"record goes to {known}, not to {name} (a wrong number? fix the row and import it)")
            row.customer_ref = existing
            if phone and phone_key(phone) not in self._customers_by_phone:
                row.added_phone = (existing, phone)  # kept once the row proves valid (plan.accept)
            return None
        key = f"{name_key(name)}|{phone_key(phone)}" if alone and phone else name_key(name)
        key = next((k for k, e in new.items() if phone and any(phone_key(c.get("phone")) == phone_key(phone)
                                                               for c in e.doc["contacts"])), key)
        if key in new:
            contacts = new[key].doc["contacts"]
            if contact and contact not in contacts and not (phone and any(phone_key(c.get("phone")) == phone_key(phone)
                                                                         for c in contacts)):
                contacts.append(contact)
            return key
        near = [n for k, n in ((name_key(d.get("name")), d.get("name")) for d in self._customers_by_id.values())
                if k and name_key(name) and (k in name_key(name) or name_key(name) in k)]
        if near:
            self.notes.append(f"{row.source}:{row.number}: {name} becomes a new customer; near {', '.join(near[:3])} "
                              "(the same? map it with --mapping values: {customer_name: {" + f"{name}: {near[0]}" + "}})")
        ctype = row.get("customer_type", enum_value(CUSTOMER_TYPE, strip=("客户",)))
        doc = {"name": name, "type": ctype, "contacts": [contact] if contact else []}
        keep = given_id if given_id and is_safe(given_id) and self.store.id_format("customer").parse(given_id) \
            and not self._exists(given_id) else None
        row.new_customer = Entry(row=row.number, kind="customer", doc=doc, moment=self.now, keep_id=keep,
                                 customer_key=key)
        return key

    def _phone(self, row: Row) -> str | None:
        """The row's phone in its normal form (a rounded number refuses the row; a restored zero is said)."""
        raw = row.raw("phone")
        if raw in (None, ""):
            return None
        try:
            phone, done = phone_value(raw)
        except UsageError as exc:
            row.problem("phone", exc.message + (f" ({exc.hint})" if exc.hint else ""))
            return None
        if done:
            self.notes.append(f"{row.source}:{row.number}: {row.where('phone')}: {raw} → {phone}: {done}")
        return phone

    def _customer_row(self, row: Row) -> Entry | None:
        name = row.text("name")
        if not name:
            row.problem("name" if row.has("name") else None, "a customer needs a name (客户名称)")
            return None
        if name_key(name) in self._customers_by_name:
            row.problem("name", f"customer '{name}' exists already ({self._customers_by_name[name_key(name)]})")
            return None
        if name in self._names_in_file:
            row.problem("name", f"customer '{name}' appears again (row {self._names_in_file[name]})")
            return None
        contact = {"name": row.text("contact_name"), **(_contact_field(self._phone(row)) or {})}
        if row.text("email"):
            contact["email"] = row.text("email")
        contact = {k: v for k, v in contact.items() if v}
        doc = {"name": name, "type": row.get("customer_type", enum_value(CUSTOMER_TYPE, strip=("客户",))),
               "industry": row.text("industry"), "contacts": [contact] if contact else [],
               "tags": row.get("tags", names) or [], "notes": row.text("notes")}
        self._names_in_file[name] = row.number
        return Entry(row=row.number, kind="customer", doc=doc, moment=self.now, customer_key=name)

    def _customer_ref(self, row: Row) -> tuple[str | None, str | None]:
        ref = row.customer_ref
        if ref:
            return ref, self._customers_by_id[ref].get("name")
        return None, row.text("customer_name") or row.text("customer") or row.text("customer_id")

    # -- tickets --

    def _ticket_row(self, row: Row) -> Entry | None:
        s = self.store.settings
        when = time_value(self.tz, self.year)
        ticket_type = row.get("type", enum_value(TICKET_TYPE, TYPE_WORDS, strip=("类", "问题")))
        priority = row.get("priority", enum_value(PRIORITY, strip=("问题", "优先级")))
        channel = row.get("channel", enum_value(CHANNEL))
        status = row.get("status", enum_value(STATUS, STATUS_WORDS))
        emotion = row.get("emotion", enum_value(EMOTION))
        received = self._start(row, "received_at", ("occurred_at", "resolved_at"), "the ticket's start time (受理时间)")
        resolved = row.get("resolved_at", when)
        due = row.get("planned_at", when)
        occurred = row.get("occurred_at", when)
        archived = row.get("archived", yes_no)
        rating = row.get("satisfaction", score_value)
        owner = row.get("owner", lambda v: people.resolve(s.agents, str(v), "agent"))
        department = row.get("department", lambda v: people.resolve(s.departments, str(v), "department"))
        description = row.text("description")
        for fname in REQUIRED["ticket"]:
            if row.raw(fname) in (None, ""):
                said = labels.say(labels.FIELDS.get(fname, (fname, fname)), "zh")
                row.problem(fname if fname in row._columns else None, f"{said} is empty; a ticket needs one")
        if row.problems:
            return None
        if resolved is not None and resolved < received:
            row.problem("resolved_at", f"{_show(resolved)} is before the start {_show(received)}")
        if due is not None and due < received:
            row.problem("planned_at", f"{_show(due)} is before the start {_show(received)}")
        department = department or people.department_of(s.agents, owner)
        if status is None:
            status = "resolved" if resolved else "in_progress" if owner or row.text("progress") else "new"
        if archived:
            if status == "resolved":
                status = "closed"
            elif status != "closed":
                row.problem("archived", f"archived (是) but {row.where('status')} says {STATUS.label(status)}; an "
                            "archived ticket is 已解决 or 已关闭")
        if resolved is not None and status not in DONE_STATUSES:
            row.problem("resolved_at", f"a completion time is given but {row.where('status')} says "
                        f"{STATUS.label(status)}; set it to 已解决 or clear the time")
        if row.problems:
            return None
        customer_id, customer_name = self._customer_ref(row)
        doc = {
            "title": row.text("title") or derive_title(description), "type": ticket_type, "priority": priority,
            "status": status, "channel": channel, "customer": customer_id, "customer_name": customer_name,
            "received_at": fmt(received, self.tz), "occurred_at": fmt(occurred, self.tz) if occurred else None,
            "description": description, "attempted": row.text("attempted"), "expectation": row.text("expectation"),
            "emotion": emotion, "category": row.text("category"), "tags": row.get("tags", names) or [],
            "owner": owner, "department": department, "collaborators": row.get("collaborators", names) or [],
            "cause": row.text("cause"), "solution": row.text("solution"),
            "compensation": row.text("compensation"), "praised": row.text("praised"),
            "planned_at": fmt(due, self.tz) if due else None, "remarks": row.text("remarks"),
            "involved": [people.checked_name(n, "involved person") for n in row.get("involved", names) or []],
            "caveats": row.text("caveats"),
        }
        doc["timeline"] = self._timeline(row, doc, received, resolved, due, rating)
        if rating:
            doc["satisfaction"] = {"score": rating[0], "comment": rating[1],
                                   "at": next(e["at"] for e in doc["timeline"] if e["kind"] == "rated")}
        callbacks = [{k: e.get(k) for k in ("at", "by", "result", "solved")} for e in doc["timeline"]
                     if e["kind"] == "callback"]
        doc["callbacks"] = [{k: v for k, v in c.items() if v is not None} for c in callbacks]
        return Entry(row=row.number, kind="ticket", doc=doc, moment=received)

    def _timeline(self, row: Row, doc: dict, received: datetime, resolved: datetime | None,
                  due: datetime | None, rating: tuple[int, str | None] | None) -> list[dict]:
        """The row's story as events, in time order, none before the start."""
        worker = doc["owner"] or self.actor
        status = doc["status"]
        note = f"导入自 {row.source} 第{row.number}行"
        events: list[tuple[datetime, dict]] = [(received, _drop_empty({
            "by": self.actor, "kind": "created", "status": "new", "owner": doc["owner"],
            "department": doc["department"], "collaborators": doc["collaborators"], "note": note}))]
        last = received
        if status != "new":
            events.append((received, {"by": worker, "kind": "status", "from": "new", "to": "in_progress"}))
        steps = progress_steps(row.text("progress") or "")
        for percent, text, hhmm in steps:
            at = last
            if hhmm is not None:
                at = datetime.combine(last.date(), time(*hhmm), last.tzinfo)
                if at < last:
                    at += timedelta(days=1)
                if resolved is not None and percent == 100 and (resolved.hour, resolved.minute) == hhmm:
                    at = resolved
                if resolved is not None and at > resolved:
                    at = resolved
            last = max(at, last)
            events.append((last, _drop_empty({"by": worker, "kind": "note", "text": text, "percent": percent})))
        done_at = max(resolved or last, last)
        if status in ("waiting", "escalated"):
            kind = "escalated" if status == "escalated" else "status"
            move = {"by": worker, "kind": kind, "from": "in_progress", "to": status}
            if status == "escalated":
                move["reason"] = f"导入时的状态: {STATUS.label('escalated', 'zh')}"
            events.append((last, move))
        elif status in DONE_STATUSES:
            events.append((done_at, _drop_empty({"by": worker, "kind": "status", "from": "in_progress",
                                                 "to": "resolved", "solution": doc["solution"]})))
            if status == "closed":
                events.append((done_at, {"by": worker, "kind": "status", "from": "resolved", "to": "closed"}))
            last = done_at
        if rating is not None:
            events.append((last, _drop_empty({"by": worker, "kind": "rated", "score": rating[0],
                                              "comment": rating[1]})))
        result = row.text("callback")
        if result:
            at = last
            found = _INLINE_TIME.search(result)
            if found:
                try:
                    at = max(time_value(self.tz)(found.group(0)), last)
                except UsageError:
                    pass
            solved = False if _UNSOLVED.search(result) else True if _SOLVED.search(result) else None
            events.append((at, _drop_empty({"by": worker, "kind": "callback", "result": result, "solved": solved})))
            last = max(last, at)
        events.sort(key=lambda pair: pair[0])  # stable: same-time events keep their order
        return [{"at": fmt(at, self.tz), **event} for at, event in events]

    # -- contacts --

    def _contact_row(self, row: Row) -> Entry | None:
        s = self.store.settings
        when = time_value(self.tz, self.year)
        seed_contact_cells(row._values)
        channel = row.get("channel", enum_value(CHANNEL))
        started = self._start(row, "started_at", ("ended_at",), "the contact's time (沟通时间)")
        ended = row.get("ended_at", when)
        before = row.get("emotion_before", enum_value(EMOTION))
        after = row.get("emotion_after", enum_value(EMOTION))
        agent = row.get("agent", lambda v: people.resolve(s.agents, str(v), "agent"))
        ticket = row.text("ticket")
        if ticket and not (is_safe(ticket) and self._exists(ticket)):
            row.problem("ticket", f"ticket {ticket} does not exist; import the tickets first")
        request = row.text("request")
        if not request:
            row.problem("request" if row.has("request") else None, "the request (核心诉求) is empty")
        if not agent:
            try:
                agent = people.resolve(s.agents, self.actor, "agent")
            except UsageError as exc:
                row.problem(None, f"no agent (沟通人员) column, and the acting agent: {exc.message}")
        if row.problems:
            return None
        if ended is not None and ended < started:
            row.problem("ended_at", f"{_show(ended)} is before the start {_show(started)}")
            return None
        follow_at = row.get("follow_up_at", when)
        follow_up = row.text("follow_up")
        if follow_at is not None and not follow_up:  # seed 000's 计划完成时间: the 提醒节点 to check on the result
            follow_up = "确认处理结果"
            self.notes.append(f"{row.source}:{row.number}: {row.where('follow_up_at')} becomes a follow-up reminder "
                              f"({_show(follow_at)}: {follow_up})")
        if row.problems:
            return None
        customer_id, customer_name = self._customer_ref(row)
        doc = {"customer": customer_id, "customer_name": customer_name, "channel": channel,
               "agent": agent,
               "started_at": fmt(started, self.tz), "ended_at": fmt(ended, self.tz) if ended else None,
               "request": request, "details": row.text("details"), "agreed": row.get("agreed", names) or [],
               "references": row.text("references"), "emotion": {"before": before, "after": after},
               "ticket": ticket, "follow_up": follow_up, "result": row.text("result"),
               "follow_up_at": fmt(follow_at, self.tz) if follow_at else None}
        return Entry(row=row.number, kind="contact", doc=doc, moment=started)


def _drop_empty(event: dict) -> dict:
    return {k: v for k, v in event.items() if v not in (None, "", [], {})}


def _show(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")
