"""The record commands' use-cases (cli/records.py): init, new, show, list, check, history. Each takes the store
(and the actor and `now` when it writes) and returns what happened, for the command to render."""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable

from cslog import defaults, gitrepo, people, privacy
from cslog.errors import ConfigError, UsageError
from cslog.model import (CHANNEL, CUSTOMER_TYPE, EMOTION, KIND_FOLDERS, KINDS, OPEN_OF, OPEN_STATUSES, PRIORITY,
                         STATUS, STATUS_OF, SUMMARY_FIELDS, TICKET_TYPE, WHEN, in_category, one_line)
from cslog.schemas import schema_dir
from cslog.store import CACHE_DIR, Record, Store
from cslog.timeutil import fmt, parse_time
from cslog.yamlio import write_atomic

# The flags each kind cannot do without (field, flag); the CLI prompts for them on a terminal.
REQUIRED = {
    "customer": [("name", "--name")],
    "ticket": [("customer", "--customer"), ("type", "--type"), ("priority", "--priority"), ("channel", "--channel"),
               ("title", "--title"), ("description", "--description")],
    "contact": [("customer", "--customer"), ("channel", "--channel"), ("request", "--request")],
}
# Which enum a prompt lists the values of.
FIELD_CHOICES = {"type": TICKET_TYPE, "priority": PRIORITY, "channel": CHANNEL, "customer_type": CUSTOMER_TYPE}


def new_kind(kind: str) -> str:
    """A kind `cslog new` makes (contact, ticket, customer); an improvement action has its own command."""
    if kind not in REQUIRED:
        raise UsageError(f"`cslog new` makes contacts, tickets and customers, not {kind}s",
                         hint="cslog action new --title T --problem CATEGORY --measure TEXT --owner A --department D "
                              "--due TIME")
    return kind


def missing(kind: str, given: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f, flag) for f, flag in REQUIRED[kind] if given.get(f) in (None, "")]


# What git leaves out of a data repository: the cache, and the workbooks and handbook drafts that commands write
# into the current folder (cslog-<period>.xlsx / .md) unless they were filed on purpose.
IGNORED = (f"{CACHE_DIR}/", "/cslog-*.xlsx", "/cslog-*.md")


# --- init ----------------------------------------------------------------------------------------

@dataclass
class InitResult:
    root: Path
    git_initialised: bool
    commit: str | None
    joined: Path | None = None  # the repository an existing folder belongs to, which the data joined


def init_repo(target: Path, org: str, language: str, actor: str | None, now: datetime,
              station: str | None = None, commit: bool = True) -> InitResult:
    if language not in ("zh", "en"):
        raise UsageError(f"unknown language '{language}'", hint="use zh or en")
    target = target.expanduser()
    new_folder = not target.exists()  # a new folder is a repository of its own, even inside another one
    if (target / defaults.CONFIG_FILE).exists():
        raise UsageError(f"{target / defaults.CONFIG_FILE} already exists: this is a cslog repository already")
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} exists and is not a folder")
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    written: list[Path] = []
    config_path = root / defaults.CONFIG_FILE
    write_atomic(config_path, defaults.config_text(org, language))
    written.append(config_path)
    (root / "schemas").mkdir(exist_ok=True)
    for src in sorted(schema_dir().glob("*.schema.json")):
        dst = root / "schemas" / src.name
        shutil.copyfile(src, dst)
        written.append(dst)
    for folder in KIND_FOLDERS.values():
        (root / folder).mkdir(exist_ok=True)
        keep = root / folder / ".gitkeep"
        keep.touch()
        written.append(keep)
    ignore = root / ".gitignore"
    lines = ignore.read_text(encoding="utf-8").splitlines() if ignore.exists() else []
    missing_lines = [line for line in IGNORED if line not in lines]
    if missing_lines:
        write_atomic(ignore, "\n".join(lines + missing_lines) + "\n")
    written.append(ignore)
    git_initialised = False
    joined = None if new_folder else gitrepo.toplevel(root)
    if joined is None:
        gitrepo.init(root)
        git_initialised = True
    if station:
        gitrepo.run(root, "config", "cslog.station", station)
    from cslog import sync  # several clones: records merge through `cslog merge-driver`

    sync.write_attributes(root)
    written.append(root / ".gitattributes")
    sync.install_driver(root)
    commit_id = None
    if commit:
        rel = [str(p.relative_to(root)) for p in written]
        message = (f"cslog: init {org or root.name}\n\nCslog-Op: init\n")
        commit_id = gitrepo.commit_paths(root, rel, message, actor=actor, when=now)
    return InitResult(root=root, git_initialised=git_initialised, commit=commit_id, joined=joined)


# --- creating records ----------------------------------------------------------------------------

def _opt(parse, value):
    return parse(value) if value not in (None, "") else None


def _time(value, store: Store, what: str) -> str | None:
    if value in (None, ""):
        return None
    moment = value if isinstance(value, datetime) else parse_time(str(value), store.settings.tz, what)
    return fmt(moment, store.settings.tz)


def _customer(store: Store, customer: str) -> Record:
    """--customer: an ID, or a name or phone that names one customer (ops/find.py)."""
    from cslog.ops.find import customer_id

    return store.read(customer_id(store, customer), "customer")


def new_customer(store: Store, *, actor: str, now: datetime, name: str, id: str | None = None,
                 type: str | None = None, phone: str | None = None, email: str | None = None,
                 contact_name: str | None = None, industry: str | None = None, tags: Iterable[str] = (),
                 notes: str | None = None, allow_pii: bool = False, commit: bool = True) -> Record:
    if not name:
        raise UsageError("a customer needs a name (--name)")
    contact = {"name": contact_name, "phone": phone, "email": email}
    doc = {"name": name, "type": _opt(CUSTOMER_TYPE.parse, type), "industry": industry,
           "contacts": [contact] if any(contact.values()) else [], "tags": list(tags), "notes": notes}
    if privacy.guard(doc, allow_pii):
        doc["allow_pii"] = {"at": fmt(now), "by": actor}
    with store.transaction("new", actor, now, commit) as tx:
        record = tx.create("customer", lambda new_id: {"id": new_id, **doc}, now, record_id=id)
        tx.summary = f"new customer {name}"
    return record


def _ticket_doc(store: Store, actor: str, now: datetime, f: dict, allow_pii: bool) -> dict:
    """A new ticket's fields (without its ID) from raw values: enums by code or label, times parsed."""
    s = store.settings
    customer = _customer(store, f["customer"])
    owner = people.resolve(s.agents, f.get("owner"), "agent")
    department = people.resolve(s.departments, f.get("department"), "department")
    if owner and not department:
        department = people.department_of(s.agents, owner)
    received = _time(f.get("received_at"), store, "--received-at") or fmt(now, s.tz)
    created = {"at": fmt(now, s.tz), "by": actor, "kind": "created", "status": "new",
               "owner": owner, "department": department}
    doc = {
        "title": f["title"], "type": TICKET_TYPE.parse(f["type"]), "priority": PRIORITY.parse(f["priority"]),
        "status": "new", "channel": CHANNEL.parse(f["channel"]), "customer": customer.id,
        "customer_name": customer.doc.get("name"), "received_at": received,
        "occurred_at": _time(f.get("occurred_at"), store, "--occurred-at"), "description": f["description"],
        "attempted": f.get("attempted"), "expectation": f.get("expectation"),
        "emotion": _opt(EMOTION.parse, f.get("emotion")), "category": f.get("category"),
        "tags": list(f.get("tags") or ()), "owner": owner, "department": department,
        "contacts": list(f.get("contacts") or ()), "praised": people.resolve(s.agents, f.get("praised"), "agent"),
        "planned_at": _time(f.get("planned_at"), store, "--planned-at"), "remarks": f.get("remarks"),
        "involved": [people.checked_name(n, "involved person") for n in f.get("involved") or ()],
        "caveats": f.get("caveats"), "timeline": [created],
    }
    one_line(doc["title"], "the description")
    if not (owner and department) and s.routing:  # 分派规则: what the first matching rule gives
        from cslog import routing

        routing.apply(doc, s, customer.doc.get("type"), created["at"])
    if doc["praised"] and doc["type"] != "praise":
        raise UsageError("--praised names the person a praise (表扬) ticket is about; this ticket is a "
                         f"{doc['type']} ({TICKET_TYPE.label(doc['type'])})")
    if privacy.guard(doc, allow_pii):
        created["allow_pii"] = True
    return doc


def new_ticket(store: Store, *, actor: str, now: datetime, commit: bool = True, allow_pii: bool = False,
               notify: Callable[[str], None] | None = None, **fields: Any) -> Record:
    gaps = missing("ticket", fields)
    if gaps:
        raise UsageError("missing " + ", ".join(flag for _f, flag in gaps))
    doc = _ticket_doc(store, actor, now, fields, allow_pii)
    with store.transaction("new", actor, now, commit) as tx:
        record = tx.create("ticket", lambda new_id: {"id": new_id, **doc}, now)
        tx.summary = f"new {doc['type']} ticket: {doc['title']}"
        after_new_ticket(store, tx, record, actor, now)
    _tell(notify, _received_later(store, doc, now) + tx.notices)
    return record


FUTURE_SLACK_MINUTES = 10  # clocks on two desks differ a little: later than this is a typo, or the wrong day


def _received_later(store: Store, doc: dict, now: datetime) -> list[str]:
    """A warning when a ticket is received after `now` (its clocks start only then)."""
    from cslog.timeutil import instant

    received = instant(doc["received_at"], store.settings.tz)
    if received - now <= timedelta(minutes=FUTURE_SLACK_MINUTES):
        return []
    return [f"warning: received_at {doc['received_at']} is in the future (now {fmt(now, store.settings.tz)}): "
            "its SLA clocks start only then; a typo? correct received_at in the ticket's file"]


def _tell(notify: Callable[[str], None] | None, notices: list[str]) -> None:
    """Pass on what the rules did (batch complaints), once the change is committed."""
    if notify is not None:
        for notice in notices:
            notify(notice)


def after_new_ticket(store: Store, tx, record: Record, actor: str, now: datetime) -> None:
    """Rules that run when a ticket is created, in its transaction (batch complaints)."""
    from cslog.ops.tickets import batch_complaints

    batch_complaints(store, tx, record, actor, now)


def new_contact(store: Store, *, actor: str, now: datetime, commit: bool = True, allow_pii: bool = False,
                open_ticket: dict | None = None, notify: Callable[[str], None] | None = None,
                **f: Any) -> list[Record]:
    """A contact record; with `open_ticket` also a ticket, the two linked both ways. Returns what was made."""
    gaps = missing("contact", f)
    if gaps:
        raise UsageError("missing " + ", ".join(flag for _f, flag in gaps))
    s = store.settings
    customer = _customer(store, f["customer"])
    started = _time(f.get("started_at"), store, "--started-at") or fmt(now, s.tz)
    emotion = {"before": _opt(EMOTION.parse, f.get("emotion_before")),
               "after": _opt(EMOTION.parse, f.get("emotion_after"))}
    doc = {"customer": customer.id, "customer_name": customer.doc.get("name"), "channel": CHANNEL.parse(f["channel"]),
           "agent": people.resolve(s.agents, f.get("agent") or actor, "agent"), "started_at": started,
           "ended_at": _time(f.get("ended_at"), store, "--ended-at"), "request": f["request"],
           "details": f.get("details"), "agreed": list(f.get("agreed") or ()), "result": f.get("result"),
           "references": f.get("references"), "emotion": emotion, "ticket": f.get("ticket"),
           "follow_up": f.get("follow_up"), "follow_up_at": _time(f.get("follow_up_at"), store, "--follow-up-at")}
    if doc["follow_up_at"] and not doc["follow_up"]:
        raise UsageError("--follow-up-at needs --follow-up TEXT: what is to be done then")
    if privacy.guard(doc, allow_pii):
        doc["allow_pii"] = {"at": fmt(now, s.tz), "by": actor}
    linked = store.read(f["ticket"], "ticket") if f.get("ticket") else None
    ticket_doc = None
    if open_ticket is not None:
        if linked:
            raise UsageError("use either --ticket ID (an existing ticket) or --open-ticket, not both")
        spec = {"customer": customer.id, "channel": doc["channel"], "description": f["request"],
                "emotion": f.get("emotion_before"), **{k: v for k, v in open_ticket.items() if v not in (None, "")}}
        gaps = [flag for field, flag in REQUIRED["ticket"] if spec.get(field) in (None, "")]
        if gaps:
            raise UsageError("--open-ticket needs " + ", ".join(gaps))
        ticket_doc = _ticket_doc(store, actor, now, spec, allow_pii)
    made: list[Record] = []
    with store.transaction("new", actor, now, commit) as tx:
        ticket_id = store.peek_id("ticket", now) if ticket_doc else None
        if ticket_id:
            doc["ticket"] = ticket_id
        contact = tx.create("contact", lambda new_id: {"id": new_id, **doc}, now)
        made.append(contact)
        tx.summary = f"new contact with {doc['customer_name'] or doc['customer']}"
        if ticket_doc is not None:
            ticket_doc["contacts"] = [contact.id]
            ticket = tx.create("ticket", lambda new_id: {"id": new_id, **ticket_doc}, now, record_id=ticket_id)
            made.append(ticket)
            tx.summary += f", opened ticket {ticket.id}"
            after_new_ticket(store, tx, ticket, actor, now)
        elif linked is not None:
            linked = store.read(linked.id, "ticket")  # again, under the lock: it may have changed since
            contacts = list(linked.doc.get("contacts") or [])
            if contact.id not in contacts:
                tx.replace(linked, {**linked.doc, "contacts": contacts + [contact.id]})
            tx.summary += f", for ticket {linked.id}"
    _tell(notify, (_received_later(store, ticket_doc, now) if ticket_doc else []) + tx.notices)
    return made


def new_from_document(store: Store, kind: str, doc: dict, *, actor: str, now: datetime, commit: bool = True,
                      allow_pii: bool = False) -> list[Record]:
    """A record from a YAML document (`--from-file`, `--edit`): fields by name, enums by code or label."""
    if not isinstance(doc, dict):
        raise UsageError("the file must hold a mapping of fields (name: value)")
    doc = {k: v for k, v in doc.items() if v not in (None, "", [], {})}
    if kind == "customer":
        contacts = doc.get("contacts") or [{}]
        first = contacts[0] if isinstance(contacts, list) and contacts and isinstance(contacts[0], dict) else {}
        extra = {k: doc.get(k) for k in ("name", "id", "type", "industry", "tags", "notes")}
        _check_schema_subset("customer", doc)
        return [new_customer(store, actor=actor, now=now, commit=commit, allow_pii=allow_pii,
                             phone=first.get("phone"), email=first.get("email"), contact_name=first.get("name"),
                             **{k: v for k, v in extra.items() if k != "tags"}, tags=extra.get("tags") or ())]
    if kind == "ticket":
        _check_schema_subset("ticket", doc)
        fields = {k: doc.get(k) for k in ("customer", "type", "priority", "channel", "title", "description",
                                           "category", "owner", "department", "expectation", "emotion",
                                           "received_at", "occurred_at", "attempted")}
        fields["tags"] = doc.get("tags") or ()
        return [new_ticket(store, actor=actor, now=now, commit=commit, allow_pii=allow_pii, **fields)]
    _check_schema_subset("contact", doc)
    emotion = doc.get("emotion") if isinstance(doc.get("emotion"), dict) else {}
    fields = {k: doc.get(k) for k in ("customer", "channel", "request", "details", "references", "started_at",
                                       "ended_at", "ticket", "follow_up", "agent")}
    fields.update(agreed=doc.get("agreed") or (), emotion_before=emotion.get("before"),
                  emotion_after=emotion.get("after"))
    return new_contact(store, actor=actor, now=now, commit=commit, allow_pii=allow_pii, **fields)


_MANAGED = {"ticket": {"id", "status", "timeline", "customer_name", "satisfaction", "callbacks", "decision",
                       "related", "contacts", "solution", "cause", "compensation", "collaborators", "cc", "praised"},
            "contact": {"id", "customer_name"}, "customer": {"id"}}


def _check_schema_subset(kind: str, doc: dict) -> None:
    """Reject unknown fields and fields a new record cannot set, naming each."""
    from cslog.schemas import schema

    known = set(schema(kind)["properties"])
    unknown = [k for k in doc if k not in known]
    if unknown:
        import difflib

        parts = []
        for k in unknown:
            close = difflib.get_close_matches(str(k), sorted(known), n=1)
            parts.append(f"'{k}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        raise UsageError(f"unknown field {', '.join(parts)} in the {kind}",
                         hint=f"known fields: {', '.join(schema(kind)['properties'])}")
    managed = [k for k in doc if k in _MANAGED[kind] and not (kind == "customer" and k == "id")]
    if managed:
        raise UsageError(f"{', '.join(managed)}: set by cslog, not in a new {kind}",
                         hint="leave these out; use the workflow commands (cslog status, assign, rate...) later")


# --- reading -------------------------------------------------------------------------------------

@dataclass
class Filters:
    status: tuple = ()
    priority: tuple = ()
    type: tuple = ()
    owner: str | None = None
    department: str | None = None
    customer: str | None = None
    category: str | None = None
    tag: tuple = ()
    since: datetime | None = None
    until: datetime | None = None
    open: bool = False

    @classmethod
    def parse(cls, tz, *, kind: str = "ticket", status=(), priority=(), type=(), since=None, until=None,
              **rest) -> "Filters":
        statuses = STATUS_OF.get(kind, STATUS)  # (an action is open, done or dropped)
        for flag, given, kinds in (("--priority", priority, ("ticket",)), ("--type", type, ("ticket",)),
                                   ("--status", status, tuple(STATUS_OF)), ("--open", rest.get("open"), tuple(STATUS_OF))):
            if given and kind not in kinds:
                raise UsageError(f"{flag} filters {' and '.join(k + 's' for k in kinds)}, not {kind}s")
        return cls(status=tuple(statuses.parse(v) for v in status), priority=tuple(PRIORITY.parse(v) for v in priority),
                   type=tuple(TICKET_TYPE.parse(v) for v in type),
                   since=parse_time(since, tz, "--since") if since else None,
                   until=parse_time(until, tz, "--until") if until else None, **rest)


def _when(kind: str, doc: dict) -> str | None:
    return doc.get(WHEN[kind]) if WHEN[kind] else None


def matches(kind: str, doc: dict, f: Filters, tz) -> bool:
    if f.status and doc.get("status") not in f.status:
        return False
    if f.open and doc.get("status") not in OPEN_OF.get(kind, OPEN_STATUSES):
        return False
    if f.priority and doc.get("priority") not in f.priority:
        return False
    if f.type and doc.get("type") not in f.type:
        return False
    if f.owner and f.owner not in (doc.get("owner"), doc.get("agent")):
        return False
    if f.department and doc.get("department") != f.department:
        return False
    if f.customer and doc.get("customer") != f.customer:
        return False
    if f.category and not in_category(doc.get("problem" if kind == "action" else "category"), f.category):
        return False
    if f.tag and not set(f.tag) <= set(doc.get("tags") or ()):
        return False
    if f.since or f.until:
        raw = _when(kind, doc)
        if not raw:
            return False
        try:
            moment = parse_time(raw, tz)
        except UsageError:
            return False
        if f.since and moment < f.since:
            return False
        if f.until and moment >= f.until:
            return False
    return True


def list_records(store: Store, kind: str, filters: Filters, use_cache: bool = True,
                 warn: Callable[[str], None] | None = None) -> list[dict]:
    """The summaries (model.SUMMARY_FIELDS) of the records that pass the filters, oldest first; from the index
    unless use_cache is False (then every file is read). Files that do not pass the gate go to warn."""
    if kind not in KINDS:
        raise UsageError(f"unknown record kind '{kind}'", hint="use tickets, contacts, customers or actions")
    warn = warn or (lambda _message: None)
    filters.owner = people.resolve(store.settings.agents, filters.owner, "agent")
    filters.department = people.resolve(store.settings.departments, filters.department, "department")
    if filters.customer and kind != "customer":
        from cslog.ops.find import customer_id

        filters.customer = customer_id(store, filters.customer)
    statuses = set(filters.status) if filters.status else None
    if filters.open:
        open_ = OPEN_OF.get(kind, OPEN_STATUSES)
        statuses = (statuses & open_) if statuses is not None else set(open_)
    if use_cache:
        from cslog.index import Index

        index = Index.open(store, kinds=(kind,))
        docs: Iterable[dict] = index.rows(kind, statuses if kind in STATUS_OF else None)
        for _path, problem in index.problems(kind):
            warn(problem)
    else:
        docs = (record.doc for record in store.iter_records(kind, warn=lambda p: warn(str(p))))
    rows = []
    for doc in docs:
        if matches(kind, doc, filters, store.settings.tz):
            rows.append({k: doc.get(k) for k in SUMMARY_FIELDS[kind]})
    rows.sort(key=lambda r: (_sortable(_when(kind, r), store.settings.tz), str(r.get("id"))))
    return rows


def _sortable(value: Any, tz) -> str:
    """A time as it sorts: written by cslog (2026-10-30T16:30:00+08:00) it sorts as it is; written by hand
    (2026-10-30 16:30, another offset) as cslog would write it."""
    text = str(value or "")
    if not text or (len(text) == 25 and text[10] == "T"):
        return text
    from cslog.timeutil import instant

    try:
        return fmt(instant(text, tz), tz)
    except ValueError:
        return text


def check(store: Store, now: datetime, paths: list[str] | None = None, use_cache: bool = True):
    """`cslog check`: every problem of the record files (all, or under paths) and of cslog.yaml; and, as
    warnings, the years (now's and a month on, the tickets') whose make-up working days the calendar guesses."""
    from cslog import checks

    result = checks.run_check(store, paths, use_cache)
    try:
        calendar = store.calendar()
    except ConfigError:  # a broken calendar section is one of the problems found already
        return result
    soon = {calendar.local(now).year, calendar.local(now + timedelta(days=31)).year}  # deadlines a month ahead
    result.warnings = calendar.unofficial_warnings(soon | store.years("ticket"))
    return result


def check_config(root: Path):
    """The problems of a cslog.yaml too damaged for the repository to open."""
    from cslog import checks

    return checks.CheckResult(files=0, problems=checks.check_config(root))


def fix(store: Store, *, actor: str, now: datetime, paths: list[str] | None = None, commit: bool = True):
    """`cslog check --fix`: non-canonical record files written anew canonically, one commit."""
    from cslog import checks

    return checks.fix(store, actor=actor, now=now, paths=paths, commit=commit)


def history(store: Store, record_id: str):
    """`cslog history`: the record's changes from git, commit by commit."""
    from cslog import history as history_mod

    return history_mod.history(store, record_id)
