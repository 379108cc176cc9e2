"""Typical cases and the 《服务经验手册》 (seed 002: 团队每月召开复盘会,针对典型案例提炼《服务经验手册》,更新至知识库).

`cslog case ID --lesson TEXT` marks a resolved ticket as a typical case: a lesson {text, by, at} and a `case`
event; several lessons allowed. `cslog handbook [period]` writes the handbook in Markdown: by category, each case's
problem (the customer's words), cause, solution, lessons and ticket ID, with phones and e-mails masked as in the
workbook; `--commit` files it as handbook/<period>.md, the team's knowledge base in the repository.

A case belongs to the period in which one of its lessons was recorded (the review meeting that chose it).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cslog import labels, privacy
from cslog.errors import Refused, UsageError
from cslog.model import DONE_STATUSES, STATUS
from cslog.period import Period
from cslog.store import Record, Store
from cslog.timeutil import fmt, instant, to_minute

FOLDER = "handbook"
_WORDS = labels.HANDBOOK


def mark_case(store: Store, ticket_id: str, lesson: str, *, actor: str, now: datetime, commit: bool = True) -> Record:
    """A lesson for a resolved (or closed) ticket: it becomes a typical case; one commit."""
    lesson = (lesson or "").strip()
    if not lesson:
        raise UsageError("say what the team learns from it: --lesson TEXT")
    privacy.guard({"lesson": lesson}, False)
    at = fmt(now, store.settings.tz)
    with store.transaction("case", actor, now, commit) as tx:
        record = store.read(ticket_id, "ticket")
        if record.doc.get("status") not in DONE_STATUSES:
            raise Refused(f"{record.id} is {STATUS.label(record.doc.get('status'))}: a typical case is a ticket "
                          "that was resolved", hint=f"cslog status {record.id} resolved --solution TEXT")
        doc = copy.deepcopy(record.doc)
        doc["lessons"] = list(doc.get("lessons") or []) + [{"text": lesson, "by": actor, "at": at}]
        doc["timeline"] = list(doc.get("timeline") or []) + [{"at": at, "by": actor, "kind": "case", "text": lesson}]
        tx.summary = "typical case"
        written = tx.replace(record, doc)
    return written


@dataclass
class Case:
    """A typical case as the handbook and the workbook show it (text masked)."""

    id: str
    category: str | None
    title: str
    description: str
    cause: str
    solution: str
    lessons: list[dict]


def cases_in(store: Store, period: Period, index=None, mask: bool = True) -> list[Case]:
    """The typical cases of a period (a lesson recorded in it), by category then ID."""
    if index is None:
        from cslog.index import Index

        index = Index.open(store, kinds=("ticket",))
    tz = store.settings.tz
    since, until = period.bounds(tz)
    hide = privacy.mask if mask else (lambda text: text)
    found = []
    for rel, _kind, compact in index.marked("case"):
        if not any(since <= instant(str(item.get("at")), tz) < until for item in compact.get("lessons") or []):
            continue
        doc = store.read_path("ticket", store.root / rel).doc  # whole: the index leaves long text out
        found.append(Case(str(doc.get("id")), doc.get("category"), hide(str(doc.get("title") or "")),
                          hide(str(doc.get("description") or "")), hide(str(doc.get("cause") or "")),
                          hide(str(doc.get("solution") or "")),
                          [{**item, "text": hide(str(item.get("text") or ""))} for item in doc.get("lessons") or []]))
    return sorted(found, key=lambda c: (c.category is None, c.category or "", c.id))


def handbook_text(store: Store, period: Period, cases: list[Case], now: datetime) -> str:
    """The handbook in Markdown, in the repository's language."""
    language = store.settings.language
    say = lambda pair: labels.say(pair, language)  # noqa: E731
    org = store.settings.org
    lines = [f"# {say(_WORDS['title'])} {period.label}", "",
             f"{org + ' · ' if org else ''}{say(_WORDS['cases'])}: {len(cases)} · {to_minute(fmt(now, store.settings.tz))}",
             ""]
    if not cases:
        lines += [say(_WORDS["none"]), ""]
    category: Any = object()
    for case in cases:
        if case.category != category:
            category = case.category
            lines += [f"## {category or say(_WORDS['uncategorised'])}", ""]
        lines += [f"### {case.id} {case.title}", ""]
        for key in ("description", "cause", "solution"):
            text = getattr(case, key)
            if text:
                lines.append(f"- **{say(_WORDS[key])}**: " + _one_paragraph(text))
        lines.append(f"- **{say(_WORDS['lessons'])}**:")
        lines += [f"  - {_one_paragraph(item['text'])} ({item.get('by')}, {str(item.get('at'))[:10]})"
                  for item in case.lessons]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _one_paragraph(text: str) -> str:
    """A text's own line breaks kept inside its list item (indented), so they never start a heading."""
    return "\n    ".join(line.strip() for line in str(text).strip().splitlines())


def write_handbook(store: Store, period: Period, now: datetime, *, output: Path | None = None, commit_as: str | None = None,
                   mask: bool = True, commit: bool = True) -> tuple[int, str, list[str]]:
    """`cslog handbook`: how many typical cases, the handbook's text, and the files written: `output` (a draft; the default
    cslog-<period>.md in the current folder unless it is filed), and with `commit_as` (the actor) the repository's
    handbook/<period>.md in one commit. `output` '-' writes no draft (the caller prints the text)."""
    from cslog.yamlio import write_atomic

    found = cases_in(store, period, mask=mask)
    text = handbook_text(store, period, found, now)
    written: list[str] = []
    if str(output) != "-" and (output is not None or commit_as is None):
        draft = output if output is not None else Path.cwd() / f"cslog-{period.slug}.md"
        write_atomic(draft, text)
        written.append(str(draft))
    if commit_as is not None:
        path = store.root / FOLDER / f"{period.slug}.md"
        with store.transaction("handbook", commit_as, now, commit) as tx:
            before = path.read_text(encoding="utf-8") if path.is_file() else None
            if before == text:
                raise Refused(f"{store.rel(path)} already says this", hint="nothing to file")
            tx.write_file(path, before, text)
            tx.summary = f"handbook {period.label}"
        written.append(str(path))
    return len(found), text, written
