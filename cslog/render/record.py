"""Records as people read them: `cslog show` (fields, SLA clocks, timeline), `cslog list` tables, and
`cslog history`; every code shown by its label in the configured language."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, Sequence

from cslog import labels, schemas
from cslog.durations import format_minutes
from cslog.model import ENUMS, EVENT_MOVES, field_label
from cslog.render.overdue import late_phrase
from cslog.render.text import clip, pad, table, text_width
from cslog.timeutil import to_minute

# What `cslog list --format table` shows of each kind (json and csv show model.SUMMARY_FIELDS).
LIST_COLUMNS = {
    "ticket": ("id", "status", "priority", "type", "title", "customer_name", "owner", "received_at"),
    "contact": ("id", "customer_name", "channel", "agent", "started_at", "request", "ticket"),
    "customer": ("id", "name", "type", "industry", "tags"),
    "action": ("id", "status", "title", "problem", "owner", "department", "due_at", "done_at"),
}
CLIP_AT = {"title": 40, "request": 40, "customer_name": 20, "name": 30, "problem": 20}


@lru_cache(maxsize=None)
def _enums(kind: str) -> dict[str, Any]:
    """Top-level field -> the enum its codes belong to, for a kind."""
    return {path[0]: ENUMS[key] for path, key in schemas.enum_fields(kind) if len(path) == 1 and key in ENUMS}


def cell(value: Any, field: str | None = None, language: str = "zh", kind: str = "ticket") -> str:
    """A value as one cell of text: codes by their labels, times to the minute, lists joined."""
    if isinstance(value, str):
        if field is None:
            return value
        enum = _enums(kind).get(field)
        if enum is None or value not in enum.codes:  # (a `changed` event does not say its record's kind)
            enum = next((e for k in ("ticket", "contact", "customer") for e in [_enums(k).get(field.split(".")[0])]
                         if e is not None and value in e.codes), enum)
        return enum.label(value, language) if enum else _minute(value, field)
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(cell(v, None, language) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={cell(v, None, language)}" for k, v in value.items())
    if isinstance(value, bool):
        return labels.yes_no(value, language)
    return str(value)


def _minute(text: str, field: str) -> str:
    """A timestamp field (`at`, `*_at`) to the minute: 2026-11-22 14:30."""
    return to_minute(text) if (field == "at" or field.endswith("_at")) and text[10:11] == "T" else text


def records_table(kind: str, rows: list[dict], language: str) -> str:
    """`cslog list`'s table: LIST_COLUMNS of each row, long text clipped; '' when there are no rows."""
    columns = LIST_COLUMNS[kind]
    body = [[clip(cell(row.get(col), col, language, kind), CLIP_AT.get(col, 200)) for col in columns] for row in rows]
    return table(body, [field_label(c, language, kind) for c in columns])


def record_view(kind: str, doc: dict, language: str = "zh", clocks: list[str] | None = None,
                customer: dict | None = None) -> str:
    """A readable page for one record: labelled fields (a ticket's customer with its account type and masked
    contact, `customer`), its SLA clocks, then the timeline in order."""
    lines = []
    title = doc.get("title") or doc.get("name") or doc.get("request") or ""
    lines.append(f"{doc.get('id', '')}  {clip(str(title), 60)}")
    lines.append("")
    width = 12 if language == "zh" else 14
    for key, value in doc.items():
        if key in ("id", "timeline") or value in (None, "", [], {}):
            continue
        lines.extend(_field_lines(kind, field_label(key, language, kind), key, value, language, width))
        if key == "customer_name" and customer:
            for name, text in customer.items():
                label = labels.say(labels.CUSTOMER_OF_TICKET[name], language)
                lines.append(label + ":" + " " * max(width - text_width(label) - 1, 1) + text)
    if clocks:
        lines.append("")
        lines.extend(clocks)
    timeline = doc.get("timeline") or []
    if timeline:
        lines.append("")
        lines.append(field_label("timeline", language) + ":")
        for event in sorted(timeline, key=lambda e: str(e.get("at", ""))):
            lines.append("  " + event_line(event, language))
    return "\n".join(lines) + "\n"


def _field_lines(kind: str, label: str, key: str, value: Any, language: str, width: int) -> list[str]:
    head = label + ":" + " " * max(width - text_width(label) - 1, 1)
    if isinstance(value, str) and "\n" in value:
        return [f"{label}:"] + [f"  {line}" for line in value.rstrip("\n").split("\n")]
    if key == "agreed" and isinstance(value, list):
        return [f"{label}:"] + [f"  {i}. {item}" for i, item in enumerate(value, 1)]
    if key == "emotion" and isinstance(value, dict):
        return [head + " → ".join(ENUMS["emotion"].label(value[k], language) for k in ("before", "after")
                                  if value.get(k))]
    if key == "callbacks" and isinstance(value, list):
        return [f"{label}:"] + ["  " + _parts(v, language) for v in value if isinstance(v, dict)]
    if key in ("satisfaction", "decision", "review") and isinstance(value, dict):
        return [head + _parts(value, language)]
    if key == "contacts" and kind == "customer" and isinstance(value, list):
        label = field_label("contact_person", language)
        return [f"{label}:"] + ["  " + "  ".join(str(c[k]) for k in ("name", "phone", "email") if c.get(k))
                                for c in value if isinstance(c, dict)]
    if key == "lessons" and isinstance(value, list):
        return [f"{label}:"] + [f"  - {item.get('text')} ({item.get('by')}, {cell(item.get('at'), 'at', language)})"
                                for item in value if isinstance(item, dict)]
    if key == "attachments" and isinstance(value, list):
        return [f"{label}:"] + ["  " + _attachment(a, language) for a in value if isinstance(a, dict)]
    return [head + cell(value, key, language, kind)]


def _parts(value: dict, language: str) -> str:
    """A small mapping (satisfaction, a callback, the decision) in words: its time first, then labelled parts."""
    out = [cell(value["at"], "at", language)] if value.get("at") else []
    out += [str(value["by"])] if value.get("by") else []
    for key, item in value.items():
        if key in ("at", "by") or item in (None, "", [], {}):
            continue
        name = labels.say(labels.EVENT_FIELDS.get(key) or labels.FIELDS.get(key) or (key, key), language)
        text = (ENUMS["decision"].label(item, language) if key in ("result", "decision") and item in ENUMS["decision"].codes
                else cell(item, key, language))
        out.append(f"{name}: {text}")
    return "  ".join(out)


def _attachment(item: dict, language: str) -> str:
    size = int(item.get("bytes") or 0)
    shown = f"{size / 1048576:.1f} MB" if size >= 1048576 else f"{size / 1024:.0f} KB" if size >= 1024 else f"{size} B"
    return "  ".join(x for x in (str(item.get("file") or ""), shown, str(item.get("sha256") or "")[:12],
                                str(item.get("note") or "")) if x)


def event_line(event: dict, language: str = "zh") -> str:
    """One timeline event: when, who, what kind, and its fields by their labels."""
    kind = event.get("kind", "")
    at = cell(event.get("at"), "at", language)
    parts = []
    moves = EVENT_MOVES.get(kind)
    if moves is not None and event.get("to"):
        parts.append(f"{moves.label(event.get('from'), language) or '-'} → {moves.label(event.get('to'), language)}")
    if kind == "changed":  # one field: its label, before → after
        name = str(event.get("field") or "")
        parts.append(f"{field_label(name, language)}: {cell(event.get('from'), name, language) or '-'} → "
                     f"{cell(event.get('to'), name, language) or '-'}")
    for key, value in event.items():
        if key in ("at", "by", "kind", "from", "to") or value in (None, "", [], {}):
            continue
        if key == "field" and kind == "changed":
            continue
        if key == "status" and kind == "created":
            parts.append(ENUMS["status"].label(value, language))
            continue
        name = labels.say(labels.EVENT_FIELDS.get(key) or labels.FIELDS.get(key) or (key, key), language)
        if key == "percent":
            text = f"{value}%"
        elif key == "result" and value in labels.ENUMS["review"]:
            text = labels.of(labels.ENUMS["review"], value, language)
        elif key == "decision":
            text = ENUMS["decision"].label(value, language)
        else:
            text = cell(value, key, language)
        parts.append(f"{name}: {text}")
    return f"{at}  {event.get('by', '')}  [{labels.of(labels.EVENTS, kind, language)}] " + "; ".join(parts)


# -- SLA clocks (`cslog show`) ----------------------------------------------------------------------------

def clock_lines(clocks: Sequence[Any], warn_until: datetime | None, language: str,
                problem: str | None = None) -> list[str]:
    """Every clock of a ticket: due, state, time left or late, and an at-risk mark for a running clock due
    by warn_until; or why they cannot be computed. No lines for no clocks."""
    say = labels.say
    title = say(labels.SLA_TITLE, language)
    if problem is not None:
        return [f"{title} {say(labels.CANNOT_COMPUTE, language)}: {problem}"]
    if not clocks:
        return []
    kind_width = max(text_width(labels.of(labels.CLOCKS, c.kind, language)) for c in clocks)
    state_width = max(text_width(labels.of(labels.CLOCK_STATES, c.state, language)) for c in clocks)
    lines = [title]
    for c in clocks:
        parts = [pad(labels.of(labels.CLOCKS, c.kind, language), kind_width),
                 pad(labels.of(labels.CLOCK_STATES, c.state, language), state_width),
                 f"{say(labels.DUE, language)} {when(c.due, language)}", _detail(c, language)]
        if c.state == "running" and c.due is not None and warn_until is not None and c.due <= warn_until:
            parts.append(say(labels.AT_RISK, language))
        lines.append("  " + "  ".join(p for p in parts if p))
    return lines


def _detail(c: Any, language: str) -> str:
    say = labels.say
    done = f"{say(labels.DONE_AT, language)} {when(c.stopped, language)}" if c.stopped is not None else ""
    if c.state in ("met", "skipped"):
        return done
    if c.state == "breached" and c.late_minutes is None:  # the ticket was closed before its due, without it
        return say(labels.CLOSED_WITHOUT, language) + (f" ({done})" if done else "")
    if c.state == "breached":
        return late_phrase(c.late_minutes, language) + (f" ({done})" if done else "")  # type: ignore[arg-type]
    left = format_minutes(c.left_minutes or 0, language)  # type: ignore[arg-type]
    return f"{say(labels.LEFT, language)} {left}" if language == "zh" else f"{left} {say(labels.LEFT, language)}"


def when(t: datetime | None, language: str) -> str:
    """A moment to the minute with its weekday: 2026-11-23 09:00 周一."""
    if t is None:
        return ""
    days = labels.WEEKDAYS["zh" if language == "zh" else "en"]
    return f"{t:%Y-%m-%d %H:%M} {days[t.weekday()]}"


# -- import -------------------------------------------------------------------------------------------------

IMPORT_COLUMNS: dict[str, labels.Pair] = {
    "row": ("行", "Row"), "kind": ("类别", "Kind"), "id": ("编号", "ID"), "customer": ("客户", "Customer"),
    "title": ("标题/名称", "Title/name"), "status": ("状态", "Status"), "note": ("说明", "Note")}


def import_table(rows: list[dict], language: str) -> str:
    """`cslog import`'s table: one line per record made (or to be made)."""
    body = [[str(row.get("row") or ""), labels.of(labels.KINDS, row.get("kind"), language), str(row.get("id") or ""),
             str(row.get("customer") or ""), clip(str(row.get("title") or ""), 40),
             ENUMS["status"].label(row.get("status"), language),
             str(row.get("note") or "")] for row in rows]
    return table(body, [labels.say(pair, language) for pair in IMPORT_COLUMNS.values()])


# -- history ----------------------------------------------------------------------------------------------

def history_text(entries: list[Any], language: str = "zh") -> str:
    """A record's history as a reader wants it: one block per commit, `field: old → new`, `+ event` lines."""
    lines: list[str] = []
    for entry in entries:
        lines.append(f"{entry.commit[:10]}  {cell(entry.date, 'at', language)}  {entry.author}  {entry.subject}")
        if entry.problem:
            lines.append(f"    ! {entry.problem}")
        for change in entry.changes:
            leaf = change.field.split(".")[0].split("[")[0]
            if change.old is None:
                lines.append(f"    {change.field}: {_value(change.new, leaf, language)}")
            elif change.new is None:
                lines.append(f"    {change.field}: {_value(change.old, leaf, language)} → (removed)")
            else:
                lines.append(f"    {change.field}: {_value(change.old, leaf, language)} → "
                             f"{_value(change.new, leaf, language)}")
        for event in entry.events:
            lines.append("    + " + (event_line(event, language) if isinstance(event, dict) else str(event)))
    # a text's own line breaks stay, indented: no line of a note can pass for a commit's header or trailer
    return "".join("\n        ".join(line.splitlines() or [""]) + "\n" for line in lines)


def _value(value: Any, field_name: str, language: str) -> str:
    text = " ".join(cell(value, field_name, language).split())
    return text if len(text) <= 120 else text[:119] + "…"
