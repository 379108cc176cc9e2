"""`cslog overdue` as text: the rows as a table for cron's mail (nothing at all when nothing is due), JSON, CSV."""
from __future__ import annotations

from typing import Collection, Iterator

from cslog import labels
from cslog.durations import format_minutes
from cslog.model import OVERDUE_ROW, PRIORITY, STATUS, field_label
from cslog.render.text import clip, csv_pieces, json_pieces, table

TABLE_COLUMNS = ("id", "kind", "due", "late", "priority", "owner", "title")


def late_words(minutes: int, language: str) -> str:
    """How late in words (`2小时15分` / `2h15m`); a soon-due item says what is left (`还剩30分` / `30m left`)."""
    if minutes >= 0:
        return format_minutes(minutes, language)  # type: ignore[arg-type]
    before, after = labels.LEFT_WORDS["zh" if language == "zh" else "en"]
    return before + format_minutes(-minutes, language) + after  # type: ignore[arg-type]


def late_phrase(minutes: int, language: str) -> str:
    """How late, said whole (`超时 2小时15分` / `2h15m late`); a soon-due item what is left (late_words)."""
    if minutes < 0:
        return late_words(minutes, language)
    words, late = format_minutes(minutes, language), labels.say(labels.LATE, language)  # type: ignore[arg-type]
    return f"{late} {words}" if language == "zh" else f"{words} {late}"


def overdue_table(rows: list[dict], language: str, paused: Collection[str] = ()) -> str:
    """The rows as a CJK-aware table; '' when there are none (cron mails nothing). A row of a ticket in a
    `paused` status (it was late before it began to wait) says so beside how late it is."""
    def late(r: dict) -> str:
        words = late_words(r["overdue_minutes"], language)
        return f"{words} ({STATUS.label(r['status'], language)})" if r["status"] in paused else words

    body = [[str(r["id"] or ""), labels.of(labels.CLOCKS, r["kind"], language), f"{r['due'][:10]} {r['due'][11:16]}",
             late(r), PRIORITY.label(r["priority"], language),
             clip(str(r["owner"] or ""), 16), clip(str(r["title"] or ""), 40)] for r in rows]
    heads = [labels.say(labels.OVERDUE_COLUMNS[c], language) if c in labels.OVERDUE_COLUMNS
             else field_label(c, language) for c in TABLE_COLUMNS]
    return table(body, heads)


def overdue_text(rows: list[dict], format: str, language: str, paused: Collection[str] = (),
                 raw: bool = False) -> Iterator[str]:
    """What `cslog overdue --format FORMAT` prints, in pieces (JSON and CSV a row at a time; CSV cells a
    spreadsheet would run are neutralised unless raw)."""
    if format == "json":
        return json_pieces(rows)
    if format == "csv":
        return csv_pieces(rows, OVERDUE_ROW, raw)
    return iter([overdue_table(rows, language, paused)])
