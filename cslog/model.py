"""The records: kinds, folders, references, enums (codes, reading labels and aliases), the statuses and
thresholds rules share, and the field lists commands show; no I/O.

The JSON Schemas (schemas/*.schema.json) say which field holds which enum; the words each code reads as
live in cslog.labels.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Iterator

from cslog import labels
from cslog.errors import UsageError

KINDS = ("ticket", "contact", "customer", "action")
KIND_FOLDERS = {"ticket": "tickets", "contact": "contacts", "customer": "customers", "action": "actions"}
# What `cslog import` reads from a sheet (an improvement action is decided at the review meeting, not imported).
IMPORT_KINDS = ("ticket", "contact", "customer")
CACHE_DIR = ".cslog"  # beside them: the local cache (index, lock, holidays), git-ignored, always rebuildable
# Record kinds whose files are sharded by month: <folder>/YYYY/MM/<id>.yaml
SHARDED = frozenset({"ticket", "contact", "action"})
# Fields naming other records, by kind: (field, kind referred to).
REFERENCES: dict[str, tuple[tuple[str, str], ...]] = {
    "ticket": (("customer", "customer"), ("related", "ticket"), ("contacts", "contact")),
    "contact": (("customer", "customer"), ("ticket", "ticket")),
    "customer": (),
    "action": (("tickets", "ticket"),),
}
# The moment a record happened at: what --since/--until and periods select by.
WHEN = {"ticket": "received_at", "contact": "started_at", "customer": None, "action": "created_at"}


def references(doc: dict, kind: str) -> Iterator[tuple[str, int, str, str]]:
    """(field, position in its list or -1, kind referred to, ID) of every reference a record makes."""
    for field_name, target in REFERENCES[kind]:
        value = doc.get(field_name)
        if isinstance(value, list):
            for i, ref in enumerate(value):
                if isinstance(ref, str):
                    yield field_name, i, target, ref
        elif isinstance(value, str) and value:
            yield field_name, -1, target, value


def kind_label(kind: str, language: str) -> str:
    return labels.say(labels.KINDS[kind], language)


def field_label(field: str, language: str, kind: str | None = None) -> str:
    """A field's label; a kind may name a field its own way (an action's owner is its 负责人)."""
    pair = labels.field_pair(kind, field)
    return labels.say(pair, language) if pair else field


# -- enums ------------------------------------------------------------------------------------------------

def _fold(text: str) -> str:
    return text.strip().lower().replace("-", "_").replace(" ", "_")


@dataclass(frozen=True)
class Enum:
    """A closed set of codes, named as in the schemas' $defs; reads its codes, both labels and aliases."""

    key: str  # the schemas' $defs name, and the table in labels.ENUMS
    name: str  # as messages say it
    aliases: dict[str, str]

    @property
    def codes(self) -> dict[str, labels.Pair]:
        return labels.ENUMS[self.key]

    def label(self, code: str | None, language: str = "zh") -> str:
        return labels.of(self.codes, code, language)

    def code(self, value: Any) -> str | None:
        """The code a value stands for (a code, either label or an alias, case-insensitive); None if none."""
        if not isinstance(value, str):
            return None
        if value in self.codes:
            return value
        key, folded = value.strip(), _fold(value)
        if folded in self.codes:
            return folded
        for code, (zh, en) in self.codes.items():
            if key == zh or folded == _fold(en):
                return code
        return self.aliases.get(key) or self.aliases.get(folded)

    def parse(self, value: Any) -> str:
        """code(), or UsageError naming the choices."""
        code = self.code(value)
        if code is None:
            raise UsageError(f"unknown {self.name} '{value}'", hint=f"use one of: {self.choices()}")
        return code

    def choices(self, language: str = "zh") -> str:
        return ", ".join(f"{code} ({zh})" if language == "zh" else code for code, (zh, _en) in self.codes.items())


PRIORITY = Enum("priority", "priority", {
    "高": "urgent", "high": "urgent", "中": "important", "medium": "important", "低": "normal", "low": "normal",
    "普通": "normal"})
STATUS = Enum("status", "status", {
    "待处理": "new", "open": "new", "已升级": "escalated", "升级": "escalated", "已完成": "resolved",
    "解决": "resolved", "关闭": "closed", "已归档": "closed", "等待": "waiting", "pending": "waiting"})
TICKET_TYPE = Enum("type", "type", {
    "产品咨询": "consultation", "业务咨询": "consultation", "售后投诉": "complaint", "技术支持": "fault",
    "建议反馈": "suggestion", "紧急报修": "repair", "维修": "repair", "question": "consultation"})
CHANNEL = Enum("channel", "channel", {
    "电话沟通": "phone", "热线": "phone", "邮箱": "email", "在线": "chat", "微信": "social", "门店": "store"})
CUSTOMER_TYPE = Enum("customer_type", "customer type", {"个人": "individual", "企业": "enterprise", "VIP": "vip"})
EMOTION = Enum("emotion", "emotion", {"焦急": "anxious", "生气": "agitated", "愤怒": "agitated"})
DECISION = Enum("decision", "decision", {"adopt": "adopted", "已采纳": "adopted", "reject": "rejected",
                                         "未采纳": "rejected"})
# An improvement action's status (改进措施, design 9.5).
ACTION_STATUS = Enum("action_status", "action status", {"进行中": "open", "待完成": "open", "完成": "done",
                                                         "已落实": "done", "取消": "dropped", "已取消": "dropped"})

# By the schemas' $defs name: a field whose schema refers to #/$defs/<key> holds that enum's codes.
ENUMS: dict[str, Enum] = {e.key: e for e in (PRIORITY, STATUS, TICKET_TYPE, CHANNEL, CUSTOMER_TYPE, EMOTION,
                                             DECISION, ACTION_STATUS)}
# Timeline events whose `from`/`to` hold codes (free text in the schema: which enum depends on the event).
EVENT_MOVES = {"status": STATUS, "escalated": STATUS, "priority": PRIORITY}


# -- statuses, clocks and thresholds the rules share ------------------------------------------------------

OPEN_STATUSES = frozenset({"new", "in_progress", "waiting", "escalated"})
# The status enum and the open statuses of each kind that has a status.
STATUS_OF = {"ticket": STATUS, "action": ACTION_STATUS}
OPEN_OF = {"ticket": OPEN_STATUSES, "action": frozenset({"open"})}
DONE_STATUSES = frozenset({"resolved", "closed"})
# SLA clocks, in the order they run (design.md section 4); followup has no budget: reports leave it out.
SLA_CLOCKS = ("claim", "response", "update", "resolve", "callback")
# What `cslog overdue` lists: the SLA clocks, a ticket's pending followup, a contact's follow-up reminder (提醒节点),
# an improvement action past its due (改进措施).
CLOCK_KINDS = SLA_CLOCKS + ("followup", "reminder", "action")
# Timeline events that set a ticket's owner (the claim clock stops at the first).
OWNER_EVENTS = frozenset({"created", "claimed", "assigned"})
# Satisfaction and callback scores: 1 (very dissatisfied) to 5; 4 and 5 count as satisfied (design.md section 5),
# and a score at or below LOW_SCORE needs a follow-up (section 3).
SCORES = range(1, 6)
SATISFIED_SCORE = 4
LOW_SCORE = 2
# Resolving these types means telling the customer what was done about it.
SOLUTION_TYPES = frozenset({"complaint", "fault", "repair"})

# -- what commands show of a record -----------------------------------------------------------------------

# A record's summary: what `cslog list` prints (json/csv), filters on, and the index keeps per record.
SUMMARY_FIELDS: dict[str, tuple[str, ...]] = {
    "ticket": ("id", "title", "type", "priority", "status", "channel", "customer", "customer_name", "received_at",
               "owner", "department", "category", "tags"),
    "contact": ("id", "customer", "customer_name", "channel", "agent", "started_at", "ended_at", "request",
                "ticket"),
    "customer": ("id", "name", "type", "industry", "tags"),
    "action": ("id", "title", "problem", "status", "owner", "department", "created_at", "due_at", "done_at",
               "tickets"),
}
# The JSON keys of one `cslog overdue` row (design.md section 5), in this order.
OVERDUE_ROW = ("id", "kind", "due", "overdue_minutes", "priority", "status", "owner", "title")
# Free text a ticket may carry at length: what the index leaves out of its copy of a ticket.
LONG_TEXT = frozenset({"description", "attempted", "expectation", "cause", "solution", "compensation"})
ENTRY_TEXT = frozenset({"text", "note", "reason", "result", "comment", "solution", "cause", "compensation"})



# `cslog callback` writes a callback twice, with one `at`: in the `callbacks` list and as a timeline event; a
# hand edit may write one place only. Both are read, matched by `at`.
def callbacks(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A ticket's callbacks (回访): its `callbacks` list, then the timeline's callback events the list lacks."""
    listed = [c for c in doc.get("callbacks") or [] if isinstance(c, Mapping)]
    known = {str(c.get("at")) for c in listed}
    return listed + [{k: v for k, v in e.items() if k in ("at", "by", "result", "solved", "score")}
                     for e in _timeline_callbacks(doc) if str(e.get("at")) not in known]


def callbacks_off_timeline(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The `callbacks` entries that have no timeline event (imported or hand-written records)."""
    known = {str(e.get("at")) for e in _timeline_callbacks(doc)}
    return [c for c in doc.get("callbacks") or [] if isinstance(c, Mapping) and str(c.get("at")) not in known]


def _timeline_callbacks(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [e for e in doc.get("timeline") or [] if isinstance(e, Mapping) and e.get("kind") == "callback"]


def one_line(title: str, rest: str) -> str:
    """A title as given, when it is one line (no \\n, \\r, U+2028...); UsageError saying where the rest goes."""
    if "".join(str(title).splitlines()) != title:
        raise UsageError(f"--title: a title is one line ({rest} holds the rest)")
    return title


def in_category(category: Any, problem: Any) -> bool:
    """Whether a ticket's category is the problem or one of its sub-categories (产品质量-物流延误 is in 产品质量 and
    in 产品质量-物流延误, and 产品质量-物流延误-仓库 too): what `list --category` and an action's problem select."""
    have, want = str(category or ""), str(problem or "")
    return bool(want) and (have == want or have.startswith(want + "-"))


def inconsistencies(kind: str, doc: Mapping[str, Any]) -> list[tuple[tuple, str]]:
    """What a record that passes its schema may still get wrong between its fields, as (path, message): an
    action done before it was decided, reviewed before it was done, or carrying a done action's fields while it
    is not done (a due before the decision is allowed: a meeting written down later). Times without an offset compare as UTC here (the gate knows no timezone)."""
    if kind != "action":
        return []
    from cslog.timeutil import instant, zone

    utc = zone("UTC")

    def at(value: Any):
        try:
            return instant(str(value), utc) if value else None
        except ValueError:
            return None

    found = []
    created, done = at(doc.get("created_at")), at(doc.get("done_at"))
    review = doc.get("review") if isinstance(doc.get("review"), Mapping) else None
    if doc.get("status") != "done":
        for name in ("done_at", "result"):
            if doc.get(name):
                found.append(((name,), f"{name}: only a done action has one (status is {doc.get('status')}); "
                                       "remove it, or set status: done"))
        if review:
            found.append((("review",), f"review: only a done action is reviewed (status is {doc.get('status')})"))
    if created and done and done < created:
        found.append((("done_at",), f"done_at {doc['done_at']} is before created_at {doc['created_at']}"))
    if review and done and at(review.get("at")) and at(review.get("at")) < done:
        found.append((("review", "at"), f"review.at {review['at']} is before done_at {doc['done_at']}"))
    return found


def imported_at(doc: dict) -> str | None:
    """When an imported record was imported (its `source.at`); None for a record made here."""
    source = doc.get("source")
    return source.get("at") if isinstance(source, dict) else None


# What a customer's name may carry that says nothing about who it is (A公司 is A有限公司 is （A）公司).
_NOISE = re.compile(r"[\s()（）\[\]【】·.,，、-]|(有限责任|股份有限|有限)?公司$")


def fold(text: Any) -> str:
    """Text as a search compares it: full-width as half-width, case folded."""
    import unicodedata

    return unicodedata.normalize("NFKC", str(text or "")).casefold()


def name_key(name: Any) -> str:
    """A customer's name as matching compares it: its spaces, brackets and company suffix taken off."""
    return _NOISE.sub("", fold(name))


_PHONE_SEPARATORS = re.compile(r"[\s\-()（）.]")
_EXTENSION = re.compile(r"^\(?(0\d{2,3})\)?[-\s]?(\d{7,8})\s*(?:-|转|分机|ext\.?|x|#)\s*(\d{1,5})$", re.IGNORECASE)


def phone_normal(phone: object) -> str:
    """A phone number in its one stored form: mobiles as 11 digits (13812345678), landlines as area code, dash,
    number (010-62345678, an extension after another dash); China's country code (+86, 0086, 86) taken off,
    full-width digits as half-width; anything else as typed."""
    import unicodedata

    text = unicodedata.normalize("NFKC", str(phone or "")).strip()
    if "@" in text:
        return text
    extension = _EXTENSION.match(text)
    if extension:
        return "-".join(extension.groups())
    digits = _PHONE_SEPARATORS.sub("", text)
    national = digits.startswith(("+86", "0086"))
    if national:
        digits = digits[3:] if digits.startswith("+86") else digits[4:]
    elif digits.startswith("86") and len(digits) == 13 and digits[2] == "1":
        digits = digits[2:]
    if not digits.isdigit():
        return text
    if len(digits) == 11 and digits.startswith("1"):
        return digits
    if national and not digits.startswith("0") and 9 <= len(digits) <= 11:
        digits = "0" + digits  # +86 10 6234 5678: the area code without its trunk 0
    if digits.startswith("0") and 10 <= len(digits) <= 12:
        area = 3 if digits[1] in "12" else 4
        return f"{digits[:area]}-{digits[area:]}"
    return digits if len(digits) >= 7 else text


def phone_key(phone: object) -> str:
    """A phone as matching compares it: the digits of its stored form (+86 10 6234 5678 is 010-6234 5678)."""
    return re.sub(r"\D", "", phone_normal(phone))


def number_mark(number: object, customer_name: object) -> str:
    """What finds an imported row again after it changed: the sheet's own number for this customer
    (the index marks records with it; the importer looks it up)."""
    return f"num:{str(number).strip()}|{name_key(customer_name)}"
