"""What the index holds of each record file, and how a file becomes those rows: through the store's gate, with
the ticket's clocks as sla.standing gives them; many files at once in two processes.

The index holds data only: summary fields, a copy of the document, references, and per ticket the moment
from which its clocks stand still with the dues of those still running, as instants. How a row is printed is
decided when it is printed (cslog.render).
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

from cslog import sla
from cslog.index.scan import RACY, stamp_of
from cslog.model import ENTRY_TEXT, LONG_TEXT, OVERDUE_ROW, SUMMARY_FIELDS, WHEN, imported_at, number_mark, references
from cslog.store import load
from cslog.timeutil import instant

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE dirs (dir TEXT PRIMARY KEY, kind TEXT NOT NULL, digest TEXT NOT NULL);
CREATE TABLE records (
    path TEXT PRIMARY KEY,  -- relative to the repository, '/'-separated
    dir TEXT NOT NULL,
    kind TEXT NOT NULL,
    stem TEXT NOT NULL,     -- the file name without .yaml (what references resolve against)
    id TEXT,                -- the document's id
    problem TEXT,           -- why the file does not pass the gate (`path:line: message`), else NULL
    mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, ino INTEGER NOT NULL,
    digest TEXT,            -- of the bytes read: a file read again only because it was racy has not changed
    when_us INTEGER,        -- received_at / started_at, microseconds since 1970 UTC
    summary TEXT            -- JSON object of the record's SUMMARY_FIELDS (NULL with a problem)
);
CREATE TABLE docs (path TEXT PRIMARY KEY, doc TEXT NOT NULL);  -- JSON document (tickets without long text)
CREATE TABLE refs (path TEXT NOT NULL, field TEXT NOT NULL, pos INTEGER NOT NULL, target TEXT NOT NULL,
                   ref TEXT NOT NULL);
-- what few records carry and a command asks about across all of them: 'attachments' (it lists files),
-- 'reminder' (a contact's follow-up with a time, not done), 'case' (a typical case: a ticket with lessons),
-- 'row:<sha256>' (imported from a sheet's row with this fingerprint)
CREATE TABLE marks (path TEXT NOT NULL, mark TEXT NOT NULL);
-- per ticket: t0_us from when its clocks stand still (sla.Standing; NULL when they cannot be computed), and
-- what an overdue row shows of it and filters on (OVERDUE_FIELDS)
CREATE TABLE tickets (path TEXT PRIMARY KEY, t0_us INTEGER, id, priority, status, owner, title, department,
                      imported_at);
-- the clocks still running at t0, with their dues
CREATE TABLE clocks (path TEXT NOT NULL, clock TEXT NOT NULL, due_us INTEGER NOT NULL, t0_us INTEGER NOT NULL);
-- files that passed every check of `cslog check` under a key (schemas, cslog.yaml...) as they are now
CREATE TABLE checked (path TEXT PRIMARY KEY, key TEXT NOT NULL);
"""
# Made after a rebuild's rows are in (faster than keeping them up to date row by row).
INDEXES = """
CREATE INDEX IF NOT EXISTS records_dir ON records (dir);
CREATE INDEX IF NOT EXISTS records_stem ON records (stem, kind);
CREATE INDEX IF NOT EXISTS records_id ON records (id);
CREATE INDEX IF NOT EXISTS records_problem ON records (kind) WHERE problem IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_when ON records (kind, when_us) WHERE problem IS NULL;
CREATE INDEX IF NOT EXISTS records_status ON records (kind, json_extract(summary, '$.status')) WHERE problem IS NULL;
CREATE INDEX IF NOT EXISTS refs_path ON refs (path);
CREATE INDEX IF NOT EXISTS marks_mark ON marks (mark);
CREATE INDEX IF NOT EXISTS tickets_t0 ON tickets (t0_us);
CREATE INDEX IF NOT EXISTS clocks_due ON clocks (due_us);
CREATE INDEX IF NOT EXISTS clocks_path ON clocks (path);
"""
# What an overdue row shows of its ticket (model.OVERDUE_ROW's record fields), and what overdue filters on.
OVERDUE_FIELDS = tuple(k for k in OVERDUE_ROW if k in SUMMARY_FIELDS["ticket"]) + ("department", "imported_at")
TABLES = ("records", "docs", "refs", "tickets", "clocks", "marks")  # (and `checked`, which outlives a same-bytes reading)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = timedelta(microseconds=1)


def us(moment: datetime) -> int:
    """A moment as microseconds since 1970 (UTC)."""
    return (moment - _EPOCH) // _US


def from_us(value: int, tz) -> datetime:
    seconds, micro = divmod(value, 1_000_000)
    return datetime.fromtimestamp(seconds, tz).replace(microsecond=micro)


@dataclass
class Context:
    """What reading a file needs besides the file; forked workers inherit it."""

    root: str
    tz: Any
    policy: Any  # sla.SlaPolicy, or None when cslog.yaml's SLA settings cannot be read
    calendar: Any  # calendar.WorkCalendar, or None likewise


Rows = tuple[tuple, str | None, list, list, tuple | None, list]


def read_file(ctx: Context, kind: str, rel: str) -> Rows:
    """(record row, JSON document or None, reference rows, clock rows, ticket row or None) of one file."""
    folder, _, name = rel.rpartition("/")
    stem = name[:-5] if name.endswith(".yaml") else name
    try:
        with open(f"{ctx.root}/{rel}", "rb") as f:
            raw = f.read()
            stamp = stamp_of(os.fstat(f.fileno()), time.time_ns())
    except OSError as exc:
        return ((rel, folder, kind, stem, None, f"{rel}: cannot read: {exc.strerror}", *RACY, None, None, None), None,
                [], [], None, [])
    digest = hashlib.blake2b(raw, digest_size=16).hexdigest()
    item = load(kind, rel, raw)
    if not item.ok:
        more = f" (and {len(item.problems) - 1} more problem(s))" if len(item.problems) > 1 else ""
        return ((rel, folder, kind, stem, None, str(item.problems[0]) + more, *stamp, digest, None, None), None, [], [],
                None, [])
    doc = item.doc
    rid = doc.get("id")
    when = WHEN[kind]
    when_us = us(instant(doc[when], ctx.tz)) if when and doc.get(when) else None
    summary = json.dumps({k: doc[k] for k in SUMMARY_FIELDS[kind] if k in doc}, ensure_ascii=False,
                         separators=(",", ":"))
    stored = json.dumps(compact(doc) if kind == "ticket" else doc, ensure_ascii=False, separators=(",", ":"))
    refs = [(rel, *ref) for ref in references(doc, kind)]
    clocks: list = []
    ticket = None
    if kind == "ticket":
        shown = tuple(imported_at(doc) if k == "imported_at" else doc.get(k) for k in OVERDUE_FIELDS)
        ticket = (rel, None, *shown)
        if ctx.policy is not None and ctx.calendar is not None:
            try:
                standing = sla.standing(doc, ctx.policy, ctx.calendar)
            except Exception:  # noqa: BLE001 - computed again when asked, which says what is wrong
                standing = None
            if standing is not None:
                t0 = us(standing.t0)
                ticket = (rel, t0, *shown)
                clocks = [(rel, clock, us(due), t0) for clock, due in standing.running]
    marks = [(rel, "attachments")] if doc.get("attachments") else []
    if kind == "ticket" and doc.get("lessons"):
        marks.append((rel, "case"))
    source = doc.get("source") if isinstance(doc.get("source"), dict) else {}
    if source.get("sha256"):  # what a re-import skips: the same row, or the same sheet number for the customer
        marks.append((rel, "row:" + str(source["sha256"])))
    if source.get("number"):
        marks.append((rel, number_mark(source["number"], doc.get("customer_name") or doc.get("name"))))
    if kind == "contact" and doc.get("follow_up_at") and not doc.get("followed_up_at"):
        marks.append((rel, "reminder"))
    return (rel, folder, kind, stem, rid, None, *stamp, digest, when_us, summary), stored, refs, clocks, ticket, marks


def compact(doc: dict) -> dict:
    """A ticket without its long free text: what SLA clocks and the report need."""
    out = {}
    for key, value in doc.items():
        if key in LONG_TEXT:
            continue
        if key in ("timeline", "callbacks"):
            value = [{k: v for k, v in e.items() if k not in ENTRY_TEXT} for e in value]
        elif key in ("satisfaction", "decision"):
            # (a decision's result is adopted/rejected, which the report counts: not free text)
            value = {k: v for k, v in value.items() if k not in ENTRY_TEXT or (key, k) == ("decision", "result")}
        out[key] = value
    return out


def read_many(ctx: Context, todo: list[tuple[str, str]]) -> Iterator[Rows]:
    """read_file of each (kind, path), in two processes when there are many."""
    from cslog import parallel

    return parallel.each(_read, ctx, todo)


def _read(ctx: Context, item: tuple[str, str]) -> Rows:
    return read_file(ctx, *item)


class Batch:
    """Rows on their way into the tables, inserted a thousand files at a time."""

    def __init__(self, db):
        self.db = db
        self.records: list = []
        self.docs: list = []
        self.refs: list = []
        self.clocks: list = []
        self.tickets: list = []
        self.marks: list = []

    def add(self, rows: Rows) -> None:
        record, doc, refs, clocks, ticket, marks = rows
        self.marks += marks
        self.records.append(record)
        if doc is not None:
            self.docs.append((record[0], doc))
        self.refs += refs
        self.clocks += clocks
        if ticket is not None:
            self.tickets.append(ticket)
        if len(self.records) >= 1000:
            self.flush()

    def flush(self) -> None:
        db = self.db
        db.executemany("INSERT OR REPLACE INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", self.records)
        db.executemany("INSERT OR REPLACE INTO docs VALUES (?,?)", self.docs)
        db.executemany("INSERT INTO refs VALUES (?,?,?,?,?)", self.refs)
        db.executemany("INSERT INTO clocks VALUES (?,?,?,?)", self.clocks)
        db.executemany(f"INSERT OR REPLACE INTO tickets VALUES (?,?,{','.join('?' * len(OVERDUE_FIELDS))})",
                       self.tickets)
        db.executemany("INSERT INTO marks VALUES (?,?)", self.marks)
        for rows in (self.records, self.docs, self.refs, self.clocks, self.tickets, self.marks):
            rows.clear()


def forget(db, paths: list[str], checked: bool = True) -> None:
    """Drop every row of these files (checked=False: but whether they passed `cslog check`)."""
    for i in range(0, len(paths), 500):
        chunk = paths[i:i + 500]
        marks = ",".join("?" * len(chunk))
        for table in TABLES + (("checked",) if checked else ()):
            db.execute(f"DELETE FROM {table} WHERE path IN ({marks})", chunk)
