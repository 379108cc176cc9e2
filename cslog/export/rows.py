"""The workbook's rows: one per ticket and one per contact record of the period, in the order of their columns.

- Times are real Excel date-times in the configured timezone (naive local, `yyyy-mm-dd hh:mm`); scores,
  hours and rates are numbers (rates as fractions with a percent format).
- Phones and e-mail addresses in every text cell are masked (privacy.mask) unless mask=False.
- Text from records is never a formula: a value starting with = + - @ (or one Excel would read as an
  error code) is written as an explicit string cell with the quote-prefix style, the file format's
  apostrophe; characters XML cannot hold are dropped and text is cut at Excel's 32,767 characters.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cslog import report as rpt
from cslog.errors import UsageError
from cslog import labels
from cslog.model import CHANNEL, CUSTOMER_TYPE, DECISION, EMOTION, PRIORITY, SLA_CLOCKS, STATUS, TICKET_TYPE, callbacks
from cslog.store import Store
from cslog.timeutil import to_minute

MAX_CELL = 32767
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


# key, (zh header, en header), format (text | datetime | date | count | hours), and how wide a text
# column may grow. A number stands before a date (right-aligned too), never against text on its right.
TICKET_COLUMNS: tuple[tuple[str, tuple[str, str], str, int], ...] = (
    ("id", ("工单编号", "Ticket ID"), "text", 20),
    ("title", ("标题", "Title"), "text", 30),
    ("customer_name", ("客户名称", "Customer"), "text", 20),
    ("customer", ("客户编号", "Customer ID"), "text", 12),
    ("contact", ("联系方式", "Contact"), "text", 36),
    ("account_type", ("账户类型", "Account type"), "text", 12),
    ("type", ("问题类型", "Type"), "text", 12),
    ("priority", ("问题等级", "Priority"), "text", 10),
    ("channel", ("受理渠道", "Channel"), "text", 10),
    ("category", ("问题分类", "Category"), "text", 26),
    ("description", ("问题描述(客户原话)", "Description (customer's words)"), "text", 60),
    ("owner", ("第一责任人", "Owner"), "text", 12),
    ("collaboration", ("协作部门/人", "Department / collaborators"), "text", 24),
    ("status", ("处理进度", "Status"), "text", 10),
    ("progress", ("最新进度", "Latest progress"), "text", 36),
    ("solution", ("解决方案", "Solution"), "text", 50),
    ("callbacks", ("回访记录", "Callbacks"), "text", 60),
    ("score", ("客户满意度", "Satisfaction"), "count", 0),
    ("received", ("受理时间", "Received"), "datetime", 0),
    ("due", ("预计完成时间", "Due"), "datetime", 0),
    ("resolved", ("实际完成时间", "Resolved"), "datetime", 0),
    ("archived", ("归档状态", "Archived"), "text", 10),
    ("notes", ("备注", "Notes"), "text", 40),
    ("sla_claim", ("认领时限", "Claim SLA"), "text", 10),
    ("sla_response", ("响应时限", "Response SLA"), "text", 10),
    ("sla_update", ("更新时限", "Update SLA"), "text", 10),
    ("sla_resolve", ("解决时限", "Resolve SLA"), "text", 10),
    ("sla_callback", ("回访时限", "Callback SLA"), "text", 10),
    ("hours", ("处理时长(小时)", "Handling (h)"), "hours", 0),
    ("business_hours", ("处理时长(工作小时)", "Handling (business h)"), "hours", 0),
)
CONTACT_COLUMNS: tuple[tuple[str, tuple[str, str], str, int], ...] = (
    ("id", ("沟通编号", "Contact ID"), "text", 20),
    ("customer_name", ("客户名称", "Customer"), "text", 20),
    ("customer", ("客户编号", "Customer ID"), "text", 12),
    ("channel", ("沟通渠道", "Channel"), "text", 10),
    ("agent", ("沟通人员", "Agent"), "text", 12),
    ("minutes", ("时长(分钟)", "Minutes"), "count", 0),
    ("started", ("开始时间", "Started"), "datetime", 0),
    ("ended", ("结束时间", "Ended"), "datetime", 0),
    ("request", ("核心诉求(客户原话)", "Request (customer's words)"), "text", 60),
    ("details", ("问题描述细节", "Details"), "text", 40),
    ("agreed", ("沟通协商要点", "Agreed"), "text", 40),
    ("references", ("辅助信息", "References"), "text", 30),
    ("emotion", ("客户情绪", "Emotion"), "text", 14),
    ("ticket", ("关联工单", "Ticket"), "text", 20),
    ("follow_up", ("后续跟进事项", "Follow-up"), "text", 30),
)
CASE_COLUMNS: tuple[tuple[str, tuple[str, str], str, int], ...] = (
    ("id", ("工单编号", "Ticket ID"), "text", 20),
    ("category", ("问题分类", "Category"), "text", 26),
    ("title", ("标题", "Title"), "text", 30),
    ("description", ("问题(客户原话)", "Problem (customer's words)"), "text", 50),
    ("cause", ("原因", "Cause"), "text", 36),
    ("solution", ("解决方案", "Solution"), "text", 50),
    ("lessons", ("经验", "Lessons"), "text", 50),
)


# 改进措施: the period's actions, then those done earlier whose effect the period shows (report.actions).
ACTION_COLUMNS: tuple[tuple[str, tuple[str, str], str, int], ...] = (
    ("id", labels.field_pair("action", "id"), "text", 18),
    ("scope", ("范围", "Scope"), "text", 10),
    ("title", labels.field_pair("action", "title"), "text", 24),
    ("problem", labels.field_pair("action", "problem"), "text", 24),
    ("measure", labels.field_pair("action", "measure"), "text", 50),
    ("owner", labels.field_pair("action", "owner"), "text", 12),
    ("department", labels.field_pair("action", "department"), "text", 12),
    ("status", labels.field_pair("action", "status"), "text", 10),
    ("late", labels.ACTION_FIGURES["late"], "text", 8),
    ("tickets", labels.field_pair("action", "tickets"), "text", 30),
    ("before", labels.ACTION_FIGURES["before"], "count", 0),
    ("after", labels.ACTION_FIGURES["after"], "text", 30),
    ("fell", labels.ACTION_FIGURES["fell"], "text", 8),
    ("effective", labels.ACTION_FIGURES["effective"], "text", 8),
    ("due_at", labels.field_pair("action", "due_at"), "datetime", 0),
    ("done_at", labels.field_pair("action", "done_at"), "datetime", 0),
)
_TICKET_KEYS = tuple(c[0] for c in TICKET_COLUMNS)
_CONTACT_KEYS = tuple(c[0] for c in CONTACT_COLUMNS)
_STARTED = _CONTACT_KEYS.index("started")


_say = labels.say


# -- cell values --------------------------------------------------------------------------------------

def clean(text: str) -> str:
    """Text a worksheet can hold: no XML-illegal control characters, at most Excel's cell size."""
    text = _ILLEGAL.sub("", text)
    return text if len(text) <= MAX_CELL else text[:MAX_CELL - 1] + "…"


def naive(moment: datetime | None, tz) -> datetime | None:
    """An aware instant as the configured timezone's wall time, which is what a spreadsheet shows."""
    if moment is None:
        return None
    return moment.astimezone(tz).replace(tzinfo=None, microsecond=0)


class _Masker:
    def __init__(self, enabled: bool):
        from cslog.privacy import mask

        self.enabled = enabled
        self._mask = mask

    def __call__(self, value: Any) -> str | None:
        if value in (None, ""):
            return None
        text = value if isinstance(value, str) else str(value)
        return self._mask(text) if self.enabled else text


# -- rows ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Customer:
    type: str | None
    contact: str | None


def customers(store: Store, index) -> dict[str, Customer]:
    """Account type and first phone or e-mail of every customer (unmasked; cells are masked later)."""
    found = {}
    for path, doc in index.docs_with_paths("customer"):
        contact = None
        for entry in doc.get("contacts") or []:
            if isinstance(entry, Mapping):
                parts = [str(entry[k]) for k in ("name", "phone", "email") if entry.get(k)]
                if parts:
                    contact = " ".join(parts)
                    break
        found[str(doc.get("id") or path.rpartition("/")[2][:-5])] = Customer(doc.get("type"), contact)
    return found


def ticket_row(doc: Mapping[str, Any], facts: rpt.Facts, known: Mapping[str, Customer], mask: _Masker,
               language: str, tz) -> tuple:
    """One Tickets row, in the order of TICKET_COLUMNS."""
    zh = language == "zh"
    customer = known.get(str(doc.get("customer") or ""))
    people = ", ".join(str(p) for p in (doc.get("collaborators") or []) if p)
    dept = str(doc.get("department") or "")
    collaboration = f"{dept}: {people}" if dept and people else dept or people
    notes = [e for e in doc.get("timeline") or [] if isinstance(e, Mapping) and e.get("kind") == "note"]
    last_note = max(notes, key=lambda e: str(e.get("at") or ""), default=None)
    progress = None
    if last_note is not None:
        percent = last_note.get("percent")
        progress = " ".join(p for p in (f"{percent}%" if isinstance(percent, int) else "",
                                         str(last_note.get("text") or "")) if p)
    calls = []
    for c in callbacks(doc):
        solved = c.get("solved")
        said = "" if solved is None else (("已解决" if solved else "未解决") if zh else
                                          ("solved" if solved else "not solved"))
        score = f"{c['score']}分" if zh and c.get("score") else f"score {c['score']}" if c.get("score") else ""
        calls.append(" ".join(p for p in (to_minute(c.get("at")), said, score, str(c.get("result") or "")) if p))
    notes_text = []
    if doc.get("compensation"):
        notes_text.append(("补偿: " if zh else "Compensation: ") + str(doc["compensation"]))
    decision = doc.get("decision")
    if isinstance(decision, Mapping) and decision.get("result"):
        reason = f" ({decision['reason']})" if decision.get("reason") else ""
        notes_text.append(DECISION.label(decision["result"], language) + reason)
    if doc.get("praised"):
        notes_text.append(("表扬对象: " if zh else "Praised: ") + str(doc["praised"]))
    for key in ("involved", "remarks", "caveats", "attachments"):  # (design 9.4 fields; planned_at: 预计完成时间)
        value = doc.get(key)
        if value in (None, "", []):
            continue
        text = (", ".join(str(a.get("file")) if isinstance(a, Mapping) else str(a) for a in value)
                if isinstance(value, list) else str(value))
        notes_text.append(f"{_say(labels.FIELDS[key], language)}: {text}")
    resolve = facts.clocks.get("resolve")
    states = {k: labels.of(labels.CLOCK_STATES_SHORT, c.state, language) for k, c in facts.clocks.items()}
    row = {
        "id": facts.id, "title": mask(doc.get("title")), "customer_name": mask(doc.get("customer_name")),
        "customer": doc.get("customer"), "contact": mask(customer.contact) if customer else None,
        "account_type": CUSTOMER_TYPE.label(customer.type, language) if customer and customer.type else None,
        "type": TICKET_TYPE.label(facts.type, language) or None,
        "priority": PRIORITY.label(facts.priority, language) or None,
        "channel": CHANNEL.label(facts.channel, language) or None, "category": mask(facts.category),
        "description": mask(doc.get("description")), "owner": mask(facts.owner), "collaboration": mask(collaboration),
        "status": STATUS.label(facts.status, language) or None, "progress": mask(progress),
        "solution": mask(doc.get("solution")), "score": facts.score, "callbacks": mask("\n".join(calls)),
        "received": naive(facts.received, tz), "due": naive(_planned(doc, tz) or (resolve.due if resolve else None), tz),
        "resolved": naive(facts.done_at, tz),
        "archived": labels.yes_no(facts.status == "closed", language), "notes": mask("; ".join(notes_text)),
        **{f"sla_{kind}": states.get(kind) for kind in SLA_CLOCKS},
        "hours": None if facts.hours is None else round(facts.hours, 2),
        "business_hours": None if facts.business_hours is None else round(facts.business_hours, 2),
    }
    return tuple(row[key] for key in _TICKET_KEYS)


def _planned(doc: Mapping[str, Any], tz) -> datetime | None:
    """预计完成时间 as the seeds mean it: the time the agent planned (planned_at), else the SLA's resolve due."""
    from cslog.timeutil import instant

    try:
        return instant(str(doc["planned_at"]), tz) if doc.get("planned_at") else None
    except ValueError:
        return None


def _labelled(key: str, doc: Mapping[str, Any], language: str) -> str | None:
    return f"{_say(labels.FIELDS[key], language)}: {doc[key]}" if doc.get(key) else None


def contact_rows(store: Store, index, period: rpt.Period, now: datetime, mask: _Masker, language: str,
                 problems: list[str]) -> list[tuple]:
    """The Contacts rows of the period (by started_at), in time order."""
    tz = store.settings.tz
    start, end = period.bounds(tz)

    def slot(moment: datetime) -> int | None:
        return 0 if start <= moment < end and moment <= now else None

    rows = []
    rpt.unreadable(store, index, "contact", "started_at", slot, problems)
    for path, loaded in rpt.records_in(index, "contact", (start, end), slot):
        doc, started, _ = loaded
        ended = None
        if doc.get("ended_at"):
            from cslog.timeutil import parse_time

            try:
                ended = parse_time(str(doc["ended_at"]), tz, "ended_at")
            except UsageError:
                problems.append(f"{path}: cannot read ended_at '{doc['ended_at']}'")
        minutes = round((ended - started).total_seconds() / 60) if ended and ended >= started else None
        emotion = doc.get("emotion") if isinstance(doc.get("emotion"), Mapping) else {}
        feeling = " → ".join(EMOTION.label(emotion[k], language) for k in ("before", "after") if emotion.get(k))
        agreed = doc.get("agreed")
        agreed_text = "; ".join(str(a) for a in agreed) if isinstance(agreed, list) else agreed
        row = {"id": str(doc.get("id") or path.rpartition("/")[2][:-5]), "customer_name": mask(doc.get("customer_name")),
               "customer": doc.get("customer"), "channel": CHANNEL.label(doc.get("channel"), language) or None,
               "agent": mask(doc.get("agent")), "minutes": minutes, "started": naive(started, tz),
               "ended": naive(ended, tz), "request": mask(doc.get("request")), "details": mask(doc.get("details")),
               "agreed": mask("; ".join(p for p in (agreed_text, _labelled("result", doc, language)) if p) or None),
               "references": mask(doc.get("references")), "emotion": feeling or None, "ticket": doc.get("ticket"),
               "follow_up": mask(" ".join(p for p in (doc.get("follow_up"), to_minute(doc.get("follow_up_at")) or None)
                                          if p) or None)}
        rows.append(tuple(row[key] for key in _CONTACT_KEYS))
    rows.sort(key=lambda r: (r[_STARTED], r[0]))
    return rows


# -- the workbook's contents --------------------------------------------------------------------------

@dataclass
class Contents:
    """Everything the workbook shows: the report's figures and the rows of the two listings."""

    report: dict
    tickets: list[tuple]
    contacts: list[tuple]
    problems: list[str] = field(default_factory=list)
    cases: list[tuple] = field(default_factory=list)  # the period's typical cases (ops/cases.py)
    actions: list[tuple] = field(default_factory=list)  # ACTION_COLUMNS


_RECEIVED = _TICKET_KEYS.index("received")


def collect(store: Store, period: rpt.Period, now: datetime, mask: bool = True,
            streak: int = rpt.STREAK_DEFAULT, use_cache: bool = True) -> Contents:
    """The figures and rows of the period's workbook, from the index (report.build hands each ticket of
    the period over with its whole document, read from its file)."""
    from cslog.index import Index

    language = store.settings.language
    tz = store.settings.tz
    masker = _Masker(mask)
    index = Index.open(store, use_cache=use_cache)
    known = customers(store, index)
    tickets: list[tuple] = []

    def on_ticket(doc: Mapping[str, Any], facts: rpt.Facts) -> None:
        tickets.append(ticket_row(doc, facts, known, masker, language, tz))

    built = rpt.build(store, period, now, streak=streak, on_ticket=on_ticket, index=index)
    tickets.sort(key=lambda r: (r[_RECEIVED], r[0]))
    problems = list(built.problems)
    contacts = contact_rows(store, index, period, now, masker, language, problems)
    from cslog.ops.cases import cases_in

    cases = [(c.id, c.category, c.title, c.description or None, c.cause or None, c.solution or None,
              "\n".join(f"{item['text']} ({item.get('by')}, {str(item.get('at'))[:10]})" for item in c.lessons))
             for c in cases_in(store, period, index, mask)]
    actions = action_rows(built.data["actions"], masker, language, tz)
    return Contents(built.data, tickets, contacts, problems, cases, actions)


_SCOPES = {False: ("本期", "This period"), True: ("效果跟踪", "Effect")}  # (an action of the period, or done before it)


def action_rows(figures: dict, mask: _Masker, language: str, tz) -> list[tuple]:
    """The 改进措施 sheet: the period's actions (report.actions items), then the earlier ones whose effect the
    period shows; an action in both is one row."""
    from cslog.model import ACTION_STATUS
    from cslog.timeutil import instant

    def yes_no(value: Any) -> str | None:
        return labels.yes_no(value, language) or None

    def when(value: Any) -> datetime | None:
        return naive(instant(str(value), tz), tz) if value else None

    effects = {e["id"]: e for e in figures["effects"]}
    mine = {i["id"] for i in figures["items"]}
    rows = []
    for a in figures["items"] + [e for e in figures["effects"] if e["id"] not in mine]:
        e = effects.get(a["id"], {})
        status = a.get("status") or "done"
        scope = _say(_SCOPES[a["id"] not in mine], language)
        rows.append((a["id"], scope, mask(a["title"]), a["problem"], mask(a.get("measure")), a.get("owner"), a["department"],
                     ACTION_STATUS.label(status, language), yes_no(a.get("late")), ", ".join(a.get("tickets") or []) or None,
                     e.get("before"), rpt.after_text(e.get("after") or [], language) or None,
                     yes_no(e.get("fell")), yes_no(a.get("effective")), when(a.get("due_at")), when(a.get("done_at"))))
    return rows
