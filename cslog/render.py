"""Turning results into text: CJK-aware tables, CSV, JSON, and the readable view of one record."""
from __future__ import annotations

import csv
import io
import json
from typing import Any

from cslog.model import FIELD_ENUMS, FIELD_LABELS, PRIORITY, STATUS, field_label

EVENT_LABELS = {
    "created": ("创建", "created"), "claimed": ("认领", "claimed"), "assigned": ("分派", "assigned"),
    "status": ("状态", "status"), "reply": ("回复客户", "reply"), "note": ("内部进度", "note"),
    "decision": ("关键决策", "decision"), "escalated": ("升级", "escalated"), "reviewed": ("主管审核", "reviewed"),
    "rated": ("满意度", "rated"), "callback": ("回访", "callback"), "linked": ("关联", "linked"),
    "priority": ("优先级", "priority"),
}
# Labels of event fields that are not record fields (or mean something else in an event).
EVENT_FIELD_LABELS = {
    "text": ("内容", "text"), "note": ("备注", "note"), "percent": ("进度", "progress"), "reason": ("原因", "reason"),
    "to_agent": ("升级至", "to"), "result": ("结果", "result"), "solved": ("已解决", "solved"),
    "score": ("评分", "score"), "comment": ("评价", "comment"), "efficiency": ("处理效率", "efficiency"),
    "attitude": ("服务态度", "attitude"), "solution_score": ("方案评分", "solution"),
    "decision": ("采纳情况", "decision"),
}
EVENT_VALUE_LABELS = {"approved": ("通过", "approved"), "returned": ("退回", "returned"),
                      "adopted": ("采纳", "adopted"), "rejected": ("不采纳", "rejected")}


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def cell(value: Any, field: str | None = None, language: str = "zh") -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(cell(v, None, language) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={cell(v, None, language)}" for k, v in value.items())
    if field in FIELD_ENUMS and isinstance(value, str):
        return FIELD_ENUMS[field].label(value, language)
    if isinstance(value, bool):
        return ("是" if value else "否") if language == "zh" else ("yes" if value else "no")
    text = str(value)
    if field and (field == "at" or field.endswith("_at")) and len(text) >= 16 and text[10] == "T":
        return text[:10] + " " + text[11:16]
    return text


def clip(text: str, width: int) -> str:
    """Shorten to `width` terminal columns (Chinese characters count two)."""
    from wcwidth import wcswidth, wcwidth

    text = " ".join(text.split())
    if wcswidth(text) <= width:
        return text
    out, used = "", 0
    for ch in text:
        w = max(wcwidth(ch), 0)
        if used + w > width - 1:
            break
        out += ch
        used += w
    return out + "…"


def table(rows: list[dict], columns: list[str], language: str = "zh", clip_at: dict | None = None,
          headers: dict | None = None) -> str:
    """A plain table whose columns line up with Chinese text in them."""
    import tabulate as tab

    tab.WIDE_CHARS_MODE = True
    clip_at = clip_at or {}
    body = []
    for row in rows:
        line = []
        for col in columns:
            text = cell(row.get(col), col, language)
            line.append(clip(text, clip_at[col]) if col in clip_at else " ".join(text.split()))
        body.append(line)
    heads = [(headers or {}).get(c) or field_label(c, language) for c in columns]
    return tab.tabulate(body, headers=heads, tablefmt="simple", disable_numparse=True)


def to_csv(rows: list[dict], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(c), None, "en") if isinstance(row.get(c), (list, dict)) else
                         ("" if row.get(c) is None else row.get(c)) for c in columns])
    return out.getvalue()


def record_view(kind: str, doc: dict, language: str = "zh", extra: list[str] | None = None) -> str:
    """A readable page for one record: labelled fields, then the timeline in order."""
    lines = []
    title = doc.get("title") or doc.get("name") or doc.get("request") or ""
    lines.append(f"{doc.get('id', '')}  {clip(str(title), 60)}")
    lines.append("")
    width = 12 if language == "zh" else 14
    for key, value in doc.items():
        if key in ("id", "timeline") or value in (None, "", [], {}):
            continue
        label = field_label(key, language)
        lines.extend(_field_lines(label, key, value, language, width))
    if extra:
        lines.append("")
        lines.extend(extra)
    timeline = doc.get("timeline") or []
    if timeline:
        lines.append("")
        lines.append(field_label("timeline", language) + ":")
        for event in sorted(timeline, key=lambda e: str(e.get("at", ""))):
            lines.append("  " + event_line(event, language))
    return "\n".join(lines) + "\n"


def _pad(label: str, width: int) -> str:
    from wcwidth import wcswidth

    return label + " " * max(width - wcswidth(label), 1)


def _field_lines(label: str, key: str, value: Any, language: str, width: int) -> list[str]:
    if isinstance(value, str) and "\n" in value:
        return [f"{label}:"] + [f"  {line}" for line in value.rstrip("\n").split("\n")]
    if key == "agreed" and isinstance(value, list):
        return [f"{label}:"] + [f"  {i}. {item}" for i, item in enumerate(value, 1)]
    if key == "emotion" and isinstance(value, dict):
        text = " → ".join(FIELD_ENUMS["emotion"].label(value[k], language) for k in ("before", "after") if value.get(k))
        return [_pad(label + ":", width) + text]
    if key == "callbacks" and isinstance(value, list):
        return [f"{label}:"] + ["  " + cell(v, None, language) for v in value]
    return [_pad(label + ":", width) + cell(value, key, language)]


def event_line(event: dict, language: str = "zh") -> str:
    zh, en = EVENT_LABELS.get(event.get("kind", ""), (event.get("kind", ""), event.get("kind", "")))
    at = cell(event.get("at"), "at", language)
    parts = []
    if event.get("kind") in ("status", "escalated") and event.get("from"):
        parts.append(f"{STATUS.label(event.get('from'), language)} → {STATUS.label(event.get('to'), language)}")
    if event.get("kind") == "priority" and event.get("to"):
        before = PRIORITY.label(event.get("from"), language) or "-"
        parts.append(f"{before} → {PRIORITY.label(event.get('to'), language)}")
    for key, value in event.items():
        if key in ("at", "by", "kind", "from", "to") or value in (None, "", [], {}):
            continue
        if key == "status" and event.get("kind") == "created":
            parts.append(STATUS.label(value, language))
            continue
        name = (EVENT_FIELD_LABELS.get(key) or FIELD_LABELS.get(key, (key, key)))[0 if language == "zh" else 1]
        if key == "percent":
            text = f"{value}%"
        elif key in ("result", "decision") and value in EVENT_VALUE_LABELS:
            text = EVENT_VALUE_LABELS[value][0 if language == "zh" else 1]
        else:
            text = cell(value, key, language)
        parts.append(f"{name}: {text}")
    return f"{at}  {event.get('by', '')}  [{zh if language == 'zh' else en}] " + "; ".join(parts)
