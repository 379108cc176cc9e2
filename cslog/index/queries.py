"""The index of one repository (.cslog/index.sqlite): opened up to date with the files, and the questions
reading commands ask it.

Every open lists the record folders of the kinds asked for and stats each file (index.scan): what was added,
edited (by cslog, by hand, by git) or removed is read again, through the store's gate. The index is built
anew, with a warning, when its file is damaged or of another format, and quietly when what it depends on
changed (index.key). A repository that cannot be written to (a mounted backup) gets a private index in
memory. `Index.open(store, use_cache=False)` builds that private index on purpose.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Iterable, Iterator

from cslog.errors import OperationalError, cannot_write
from cslog.index import scan as scanning
from cslog.index.key import index_key
from cslog.index.tables import INDEXES, OVERDUE_FIELDS, SCHEMA, Batch, Context, forget, from_us, read_many, us
from cslog.model import KINDS, SUMMARY_FIELDS
from cslog.store import CACHE_DIR, Store

INDEX_FILE = "index.sqlite"

LOCK_WAIT = 600  # seconds a cslog waits for another that writes the index (a rebuild of many files)
SAY_INDEXING_AT = 2000  # files: a terminal is told why this command takes a while


class IndexDamaged(Exception):
    """The index file cannot be used; it is built anew."""


@dataclass
class Changes:
    """What bringing the index up to date found: files (relative paths) added, modified, removed."""

    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rebuilt: bool = False

    def __bool__(self) -> bool:
        return bool(self.added or self.modified or self.removed or self.rebuilt)


@dataclass
class Leftover:
    """A ticket whose clocks the index cannot give at some moment (events after it, or times it could not
    read): the caller computes them from `doc`."""

    path: str
    doc: dict


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


class Index:
    """The record index of one repository; open it with Index.open(store)."""

    def __init__(self, store: Store, db: sqlite3.Connection | None, path: str | None, warn: Callable[[str], None]):
        self.store, self.db, self.path, self.warn = store, db, path, warn
        self.root = str(store.root)
        self.changes = Changes()
        self.last_scan: scanning.Scan | None = None

    # -- opening ----------------------------------------------------------------------------------------

    @classmethod
    def open(cls, store: Store, use_cache: bool = True, kinds: Iterable[str] = KINDS,
             warn: Callable[[str], None] | None = None, strays: bool = False) -> "Index":
        """The index, up to date with the record files of these kinds (strays: also note, in .last_scan,
        the other files `cslog check` looks at). use_cache=False: a private index in memory."""
        warn = warn or _warn
        kinds = tuple(kinds)
        path = None
        if use_cache:
            folder = store.root / CACHE_DIR
            store.guard_path(folder / INDEX_FILE)
            try:
                folder.mkdir(exist_ok=True)
                if os.access(folder, os.W_OK):
                    path = str(folder / INDEX_FILE)
            except OSError:
                path = None  # a repository that cannot be written to: an index in memory
        index = cls(store, None, path, warn)
        try:
            index.db = _connect(path or ":memory:")
            index._bring_up_to_date(kinds, strays)
        except (sqlite3.DatabaseError, IndexDamaged) as exc:
            if isinstance(exc, sqlite3.OperationalError) and not _damage(exc):
                raise OperationalError(f"cannot use the index {path}: {exc}",
                                       hint="another cslog may be writing it; try again, or pass --no-cache") from None
            warn(f"the index {store.rel(Path(path or ''))} is damaged ({exc}); rebuilding it")
            if index.db is not None:
                index.db.close()
            _remove(path)
            index.db = _connect(path or ":memory:")
            index._bring_up_to_date(kinds, strays)
        return index

    def _bring_up_to_date(self, kinds: tuple[str, ...], strays: bool) -> None:
        key = index_key(self.store.settings)
        with _IndexLock(self.path):
            reason = self._stale(key)
            if reason:
                self._create(key)
        if not reason:
            self.refresh(kinds, strays)
            return
        # a rebuild writes every page once (a rollback journal; in WAL mode each page is written to the log,
        # then copied into the file), unsynced: a crash leaves a damaged cache, which is built anew
        journal = self._pragma("journal_mode=DELETE")
        self._pragma("synchronous=OFF")
        try:
            self.refresh(kinds, strays, rebuilt=True)
            self.db.executescript(f"BEGIN;{INDEXES}COMMIT;")  # (also when there was no file to read)
        finally:
            if journal == "delete":
                self._pragma("journal_mode=WAL")
            self._pragma("synchronous=NORMAL")

    def _pragma(self, setting: str) -> str | None:
        """Set a pragma of an index file (None when another connection's hold on the file refuses it)."""
        if self.path is None:
            return None
        try:
            row = self.db.execute(f"PRAGMA {setting}").fetchone()
        except sqlite3.OperationalError:
            return None
        return str(row[0]).lower() if row else ""

    def _stale(self, key: dict) -> str:
        """'' when the stored key matches; else why the index must be built anew."""
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            return "new"
        if "meta" not in tables:
            raise IndexDamaged("no meta table")
        row = self.db.execute("SELECT value FROM meta WHERE key = 'key'").fetchone()
        try:
            old = json.loads(row[0]) if row else None
        except ValueError:
            old = None
        if not isinstance(old, dict):
            raise IndexDamaged("unreadable key")
        if old.get("format") != key["format"]:
            self.warn(f"the index {INDEX_FILE} is of another format ({old.get('format')}, this cslog writes "
                      f"{key['format']}); rebuilding it")
            return "format"
        changed = [k for k in key if old.get(k) != key[k]]
        return f"changed: {', '.join(changed)}" if changed else ""

    def _create(self, key: dict) -> None:
        drop = "".join(f'DROP TABLE IF EXISTS "{name}";' for (name,) in
                       self.db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall())
        self.db.executescript(f"BEGIN IMMEDIATE;{drop}{SCHEMA}COMMIT;")
        self.db.execute("INSERT INTO meta VALUES ('key', ?)", (json.dumps(key, sort_keys=True),))

    # -- bringing it up to date -------------------------------------------------------------------------

    def refresh(self, kinds: Iterable[str] = KINDS, strays: bool = False, rebuilt: bool = False) -> Changes:
        """Compare the record files of these kinds with the index and read again what changed."""
        kinds = tuple(kinds)
        found = scanning.scan(self.root, kinds, strays, None if strays else self._stored_dirs(kinds))
        self.last_scan = found
        if not self._moved(found, kinds):
            self.changes = Changes(rebuilt=rebuilt)
            return self.changes
        with _IndexLock(self.path):  # another process may have brought it up to date meanwhile: compare again
            self.db.execute("BEGIN IMMEDIATE")
            try:
                changes = self._apply(found, kinds)
                changes.rebuilt = rebuilt
                for statement in INDEXES.strip().splitlines():  # (made once, after a rebuild's rows)
                    self.db.execute(statement)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        self.changes = changes
        return changes

    def _stored_dirs(self, kinds: tuple[str, ...]) -> dict[str, str]:
        return {d: digest for d, kind, digest in self.db.execute("SELECT dir, kind, digest FROM dirs")
                if kind in kinds}

    def _moved(self, found: scanning.Scan, kinds: tuple[str, ...]) -> bool:
        return self._stored_dirs(kinds) != found.digests

    def _apply(self, found: scanning.Scan, kinds: tuple[str, ...]) -> Changes:
        db = self.db
        stored = self._stored_dirs(kinds)
        changes = Changes()
        todo: list[tuple[str, str]] = []
        moved = [d for d in found.digests if stored.get(d) != found.digests[d]]
        for folder in moved:
            if folder not in found.listings:  # another process moved the index on since the scan
                scanning.relist(found, self.root, folder)
        for folder in moved:
            had = {row[0]: tuple(row[1:]) for row in db.execute(
                "SELECT path, mtime_ns, size, ctime_ns, ino FROM records WHERE dir = ?", (folder,))}
            kind = found.kinds[folder]
            for name, stamp in found.listings[folder].items():
                rel = f"{folder}/{name}"
                before = had.pop(rel, None)
                if before is None:
                    changes.added.append(rel)
                    todo.append((kind, rel))
                elif before != stamp:
                    changes.modified.append(rel)
                    todo.append((kind, rel))
            changes.removed += had
        for folder in set(stored) - set(found.digests):
            changes.removed += [p for (p,) in db.execute("SELECT path FROM records WHERE dir = ?", (folder,))]
            db.execute("DELETE FROM dirs WHERE dir = ?", (folder,))
        before = dict(db.execute("SELECT path, digest FROM records WHERE path IN (SELECT value FROM json_each(?))",
                                 (json.dumps(changes.modified),)))
        forget(db, changes.removed)
        forget(db, changes.modified, checked=False)
        if len(todo) >= SAY_INDEXING_AT and sys.stderr.isatty():
            print(f"cslog: indexing {len(todo)} files...", file=sys.stderr)
        batch = Batch(db)
        listings = {folder: found.listings[folder] for folder in moved}
        for rows in read_many(self._context(), todo):
            batch.add(rows)
            record = rows[0]
            folder, _, name = record[0].rpartition("/")
            listings[folder][name] = tuple(record[6:10])  # the stamp as read: a racy file is read again
            if record[0] in before and (record[10] is None or record[10] != before[record[0]]):
                db.execute("DELETE FROM checked WHERE path = ?", (record[0],))
        batch.flush()
        # read again only because they were written too recently to be trusted: the same bytes
        changes.modified = [p for p in changes.modified if before.get(p) is None or
                            db.execute("SELECT digest FROM records WHERE path = ?", (p,)).fetchone() != (before[p],)]
        for folder, listing in listings.items():
            db.execute("INSERT OR REPLACE INTO dirs VALUES (?, ?, ?)",
                       (folder, found.kinds[folder], scanning.digest(listing)))
        return changes

    def _context(self) -> Context:
        store = self.store
        try:
            policy, calendar = store.policy(), store.calendar()
        except Exception:  # noqa: BLE001 - a broken cslog.yaml: commands that compute clocks say what
            policy = calendar = None
        return Context(self.root, store.settings.tz, policy, calendar)

    # -- records ----------------------------------------------------------------------------------------

    def rows(self, kind: str, statuses: Iterable[str] | None = None) -> list[dict]:
        """The summaries (model.SUMMARY_FIELDS) of every record of a kind that passed the gate, in file
        order; statuses: only records in one of these."""
        sql = "SELECT path, summary FROM records WHERE kind = ? AND problem IS NULL"
        args: list = [kind]
        if statuses is not None:
            sql += " AND json_extract(summary, '$.status') IN (SELECT value FROM json_each(?))"
            args.append(json.dumps(sorted(statuses)))
        fields = SUMMARY_FIELDS[kind]
        return [{k: row.get(k) for k in fields} for row in (json.loads(summary) for _path, summary in
                                                            self._ordered(sql, args))]

    def docs_with_paths(self, kind: str, ids: Iterable[str] | None = None) -> list[tuple[str, dict]]:
        """(path, document) of the records of a kind that passed the gate (all, or those with these IDs), in
        file order. Tickets come without their long text: full_doc reads a file whole."""
        sql = "SELECT r.path, d.doc FROM records r JOIN docs d ON d.path = r.path WHERE r.kind = ? AND r.problem IS NULL"
        args: list = [kind]
        if ids is not None:
            sql += " AND r.id IN (SELECT value FROM json_each(?))"
            args.append(json.dumps(sorted(set(ids))))
        return [(path, json.loads(doc)) for path, doc in self._ordered(sql, args)]

    def attached(self) -> list[tuple[str, str, dict]]:
        """(path, kind, document) of the records that list attachments."""
        return self.marked("attachments")

    def marked(self, mark: str) -> list[tuple[str, str, dict]]:
        """(path, kind, document) of the records with this mark (tables.py: attachments, reminder, case)."""
        sql = ("SELECT r.path, r.kind, d.doc FROM marks m JOIN records r ON r.path = m.path JOIN docs d ON "
               "d.path = r.path WHERE m.mark = ? AND r.problem IS NULL")
        return [(path, kind, json.loads(doc)) for path, kind, doc in self._ordered(sql, [mark])]

    def reminders(self) -> list[tuple[str, dict]]:
        """(path, document) of the contacts whose follow-up has a time (follow_up_at) and is not done yet."""
        return [(path, doc) for path, _kind, doc in self.marked("reminder")]

    def docs(self, kind: str, ids: Iterable[str] | None = None) -> list[dict]:
        return [doc for _path, doc in self.docs_with_paths(kind, ids)]

    def dated(self, kind: str, since: datetime, until: datetime, summary: bool = False
              ) -> Iterator[tuple[str, datetime, dict]]:
        """(path, time, document) of the records of a kind received (contacts: started) in [since, until),
        by path: the time in the configured timezone; the document as docs() gives it, or with summary=True
        only the summary fields."""
        if summary:
            sql = ("SELECT path, when_us, summary FROM records WHERE kind = ? AND problem IS NULL "
                   "AND when_us >= ? AND when_us < ? ORDER BY path")
        else:
            sql = ("SELECT r.path, r.when_us, d.doc FROM records r JOIN docs d ON d.path = r.path WHERE r.kind = ? "
                   "AND r.problem IS NULL AND r.when_us >= ? AND r.when_us < ? ORDER BY r.path")
        tz = self.store.settings.tz
        for path, when_us, text in self.db.execute(sql, (kind, us(since), us(until))):
            yield path, from_us(when_us, tz), json.loads(text)

    def full_doc(self, kind: str, path: str) -> dict:
        """A record file's whole document, read now (UsageError when it no longer passes the gate)."""
        return self.store.read_path(kind, self.store.root / path).doc

    def undated(self, kind: str) -> list[str]:
        """Records of a kind (tickets, contacts) that passed the gate but have no received_at / started_at."""
        return [p for (p,) in self._ordered("SELECT path FROM records WHERE kind = ? AND problem IS NULL AND "
                                            "when_us IS NULL", (kind,))]

    def problems(self, kind: str) -> list[tuple[str, str]]:
        """(path, `path:line: message`) of the files of a kind that do not pass the gate, in file order."""
        return self._ordered("SELECT path, problem FROM records WHERE kind = ? AND problem IS NOT NULL", (kind,))

    def _ordered(self, sql: str, args) -> list:
        found = self.db.execute(sql, args).fetchall()
        found.sort(key=lambda r: r[0].replace("/", "\0"))  # file order: by path components
        return found

    # -- clocks -----------------------------------------------------------------------------------------

    def clocks_due(self, at: datetime, within: timedelta | None, kinds: Iterable[str] = ()
                   ) -> Iterator[tuple[dict, str, datetime]]:
        """(the ticket's OVERDUE_FIELDS, clock, due) of the clocks the index can answer for at `at`: running past their due,
        due within `within` of `at`, and followups; those of leftovers(at) are not among them."""
        at_us = us(at)
        args = {"at": at_us, "soon": at_us - 1 if within is None else at_us + within // timedelta(microseconds=1),
                "kinds": json.dumps(sorted(kinds))}
        picked = ", ".join(f"t.{name}" for name in OVERDUE_FIELDS)
        sql = (f"SELECT c.clock, c.due_us, {picked} FROM clocks c JOIN tickets t ON t.path = c.path "
               "WHERE c.t0_us <= :at AND (c.due_us < :at OR c.due_us <= :soon OR c.clock = 'followup')")
        if kinds:
            sql += " AND c.clock IN (SELECT value FROM json_each(:kinds))"
        tz = self.store.settings.tz
        for clock, due_us, *values in self.db.execute(sql, args):
            yield dict(zip(OVERDUE_FIELDS, values)), clock, from_us(due_us, tz)

    def leftovers(self, at: datetime) -> list[Leftover]:
        """The tickets whose clocks must be computed at `at`: events after it, or times the index could not
        read; in file order."""
        return [Leftover(path, json.loads(doc)) for path, doc in self._ordered(
            "SELECT t.path, d.doc FROM tickets t JOIN docs d ON d.path = t.path WHERE t.t0_us IS NULL OR t.t0_us > ?",
            (us(at),))]

    # -- `cslog check` ----------------------------------------------------------------------------------

    def unchecked(self, key: str) -> set[str]:
        """Files that have not passed every check of `cslog check` as they are now, under this key."""
        return {p for (p,) in self.db.execute(
            "SELECT r.path FROM records r LEFT JOIN checked c ON c.path = r.path "
            "WHERE r.problem IS NOT NULL OR c.key IS NULL OR c.key != ?", (key,))}

    def mark_checked(self, key: str, passed: Iterable[str], failed: Iterable[str]) -> None:
        """Remember which files passed every check under this key (and forget those that did not)."""
        passed, failed = list(passed), list(failed)
        if not passed and not failed:
            return
        with _IndexLock(self.path):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.executemany("DELETE FROM checked WHERE path = ?", [(p,) for p in failed])
                self.db.executemany("INSERT OR REPLACE INTO checked VALUES (?, ?)", [(p, key) for p in passed])
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def dangling_references(self) -> list[tuple[str, str, int, str, str]]:
        """References (path, field, position or -1, kind, ID) to no record file of that kind."""
        return self.db.execute(
            "SELECT f.path, f.field, f.pos, f.target, f.ref FROM refs f WHERE NOT EXISTS "
            "(SELECT 1 FROM records r WHERE r.kind = f.target AND r.stem = f.ref)").fetchall()

    def marks_from(self, prefix: str) -> dict[str, str]:
        """{mark: the ID of a record that carries it} for every mark starting with `prefix`."""
        return dict(self.db.execute("SELECT m.mark, r.id FROM marks m JOIN records r ON r.path = m.path WHERE "
                                    "m.mark >= ? AND m.mark < ?", (prefix, prefix + "\uffff")))

    def references_to(self, records: Iterable[tuple[str, str]]) -> list[tuple[str, str, int, str, str]]:
        """References (path, field, position or -1, kind, ID) to these (kind, ID) records."""
        return self.db.execute(
            "SELECT path, field, pos, target, ref FROM refs WHERE target || ' ' || ref IN (SELECT value FROM "
            "json_each(?))", (json.dumps(sorted(f"{kind} {rid}" for kind, rid in records)),)).fetchall()

    def shared_ids(self) -> dict[str, str]:
        """{path: id} of the records whose id another record holds too."""
        return dict(self.db.execute(
            "SELECT path, id FROM records WHERE id IN (SELECT id FROM records WHERE id IS NOT NULL "
            "GROUP BY id HAVING count(*) > 1)"))

    def holders(self, ids: Iterable[str]) -> dict[str, str]:
        """{path: id} of the records that hold these ids."""
        return dict(self.db.execute("SELECT path, id FROM records WHERE id IN (SELECT value FROM json_each(?))",
                                    (json.dumps(sorted(set(ids))),)))

    def stems(self) -> dict[str, set[str]]:
        """{kind: names of its record files}: what references resolve against."""
        out: dict[str, set[str]] = {kind: set() for kind in KINDS}
        for kind, stem in self.db.execute("SELECT kind, stem FROM records"):
            out[kind].add(stem)
        return out

    def close(self) -> None:
        self.db.close()


def rebuild(store: Store, full: bool = True, warn: Callable[[str], None] | None = None) -> Changes:
    """`cslog reindex`: build the index anew from the files (full), or only bring it up to date."""
    if full:
        path = store.root / CACHE_DIR / INDEX_FILE
        store.guard_path(path)
        (store.root / CACHE_DIR).mkdir(exist_ok=True)
        with _IndexLock(str(path)):
            _remove(str(path))
    index = Index.open(store, warn=warn)
    index.close()
    return index.changes


def _connect(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=LOCK_WAIT, isolation_level=None)
    if path != ":memory:":
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            # a rebuild under way (a rollback journal, see _bring_up_to_date) refuses the switch at once, busy
            # timeout or not: read the file as it is (reads wait for the rebuild); it goes back to WAL after
            if "locked" not in str(exc):
                raise
        db.execute("PRAGMA synchronous=NORMAL")
    return db


def _remove(path: str | None) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        if path:
            try:
                os.unlink(path + suffix)
            except FileNotFoundError:
                pass


def _damage(exc: Exception) -> bool:
    """An OperationalError that says the file is damaged (not busy, locked or unreachable)."""
    text = str(exc).lower()
    return not any(word in text for word in ("locked", "busy", "unable to open", "readonly", "disk i/o", "full"))


class _IndexLock:
    """One process at a time writes the index (another waits, then finds it up to date); re-entrant."""

    def __init__(self, path: str | None):
        self.path = None if path is None else path + ".lock"
        self.fd: int | None = None
        self.depth = 0

    def __enter__(self):
        self.depth += 1
        if self.path is None or self.depth > 1:
            return self
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            self.depth -= 1
            raise cannot_write(self.path, exc) from None
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                    os.close(self.fd)
                    self.fd, self.depth = None, self.depth - 1
                    raise
                time.sleep(0.05)

    def __exit__(self, *exc):
        self.depth -= 1
        if self.depth == 0 and self.fd is not None:
            os.close(self.fd)
            self.fd = None
        return False
