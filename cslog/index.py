"""A disposable cache of every record in .cslog/index.sqlite, so that reading commands stay instant on years of data.

What it holds, per record file (tickets/YYYY/MM/*.yaml, contacts/YYYY/MM/*.yaml, customers/*.yaml, as
Store.record_paths finds them): the summary fields that list, overdue, report and export show (FIELDS), a
compact JSON copy of the document (tickets without their long free text), the IDs it refers to and a digest
of its bytes; per ticket, the SLA clocks someone may have to act on, computed when the file is indexed. The
files stay the truth: commands that write re-read them, and `Index.open(store, use_cache=False)` builds a
private in-memory index from the files without touching .cslog/.

Freshness. Every open lists the record folders with os.scandir and compares each file's name, mtime_ns and
size with what was indexed (one marshal'd listing per month folder, compared as bytes first); what was added,
edited (by cslog, by hand, by git pull or checkout) or removed is read again. A file whose mtime is within
RACY_NS of the moment it was read is read again next time: a same-size write in the same clock tick would
otherwise go unseen (git's "racy" rule). The whole index is rebuilt when its key changes -- the index format,
cslog's version, the JSON Schemas, cslog.yaml, the clone's station, the holidays package -- and, with a
warning, when the file is damaged or of another format. A rebuild of many files parses them in WORKERS
forked processes.

Clocks. A ticket's clocks are computed at T0, just after the latest moment its file mentions (received_at,
timeline, callbacks, satisfaction). For any `at` >= T0 the due of a clock that is neither stopped nor paused at T0 no
longer depends on `at` (no event is left to stop it, no open pause to move it), a paused clock stays paused
(a pause that began before the due moves the due along with `at`), and a followup stays due at the moment
it arose. So `overdue` at `at` needs only the stored dues: breached when at > due, due soon when
due - at <= within; the stored due is kept as overdue prints it, so a row comes straight from SQL. Tickets
with T0 > at (a past `at`, or events in the future), or whose clocks could not be computed, are handed back
with their cached document for the caller to compute (Leftover).

YAML. The rebuild reads plain-YAML record files with a loader built on libyaml's events that makes the same
values as cslog.yamlio.load_text (checked by tests) at half the cost; anything outside that plain subset
(tags, anchors, aliases, merge keys, several documents, syntax errors, deep nesting) goes to load_text.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import marshal
import os
import stat
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Iterator

from pathlib import Path

from cslog import __version__, gitrepo
from cslog.calendar import holidays_version
from cslog.errors import CslogError
from cslog.model import KIND_FOLDERS, KINDS, SHARDED, references
from cslog.schemas import shape_problems
from cslog.store import CACHE_DIR, Store
from cslog.yamlio import MAX_DEPTH, TEMP_SUFFIX, YamlSyntaxError, load_text

INDEX_FILE = "index.sqlite"
FORMAT = 8  # bump when the tables or what goes into them change: older files are rebuilt with a warning
RACY_NS = 2_000_000_000
WORKERS = 2
LOCK_WAIT = 600  # seconds a cslog waits for another that writes the index (a rebuild of many files)
MEND_AT = 100  # records changed since the index was brought up to date: up to this many, Index.ask mends
PARALLEL_AT = 3000  # files to read: from here on a rebuild forks WORKERS processes
CHUNK = 400
PROGRESS_AFTER = 1.0  # seconds: a terminal sees a progress bar when indexing takes longer

# What a row holds: the summary fields of `cslog list` (ops.SUMMARY_FIELDS), the fields its filters read
# (ops.matches), and what overdue, report and export pick from them; a test keeps these in step with ops.
_FILTERED = ("status", "priority", "type", "owner", "agent", "department", "customer", "category", "tags",
             "received_at", "started_at")
_SUMMARY = {
    "ticket": ("id", "title", "type", "priority", "status", "channel", "customer", "customer_name", "received_at",
               "owner", "department", "category", "tags"),
    "contact": ("id", "customer", "customer_name", "channel", "agent", "started_at", "ended_at", "request",
                "ticket"),
    "customer": ("id", "name", "type", "industry", "tags"),
}
FIELDS = {kind: fields + tuple(f for f in _FILTERED if f not in fields) for kind, fields in _SUMMARY.items()}
# Left out of a ticket's cached document (docs(full=True) reads the files for them).
LONG_TEXT = frozenset({"description", "attempted", "expectation", "cause", "solution", "compensation"})
ENTRY_TEXT = frozenset({"text", "note", "reason", "result", "comment", "solution", "cause", "compensation"})
TICKET_COLUMNS = ("id", "priority", "status", "owner", "department", "title")  # what an overdue row shows
# what the clocks table keeps of a plain clock's row as printed, by name (slaview.row_pieces makes them)
PIECES = ("jh", "jt", "ta", "id_w", "kind_w", "tb", "prio_w", "oc", "owner_w", "tc", "title_w")
# a listed clock's late minutes at :at, rounded up; a followup not yet due: 0; due soon: minus the minutes left
_LATE = ("(CASE WHEN :at > due_us THEN (:at - due_us + 59999999) / 60000000 WHEN clock = 'followup' THEN 0 "
         "ELSE -((due_us - :at + 59999999) / 60000000) END)")
# what Index.overdue_runs may read of a clock, by name; the pieces put together (as UTF-8 bytes: what is
# printed is never decoded): json, the row's JSON text; ta; tail, the table's cells after the late one, the
# owner padded to :owner_w (slaview.table_tail)
_RUN_COLUMNS = {c: c for c in ("path", "clock", "due_text", "plain", *TICKET_COLUMNS, *PIECES)} | {
    "json": f"CAST(jh || {_LATE} || jt AS BLOB)", "ta": "CAST(ta AS BLOB)",
    "tail": "CAST(CASE WHEN tc = '' THEN rtrim(tb || oc) ELSE tb || oc || substr(:spaces, 1, :owner_w - owner_w) || "
            "'  ' || tc END AS BLOB)"}
_INSERT_CLOCKS = f"INSERT OR REPLACE INTO clocks VALUES ({','.join('?' * (8 + len(TICKET_COLUMNS) + len(PIECES)))})"
CLOCK_ORDER = ("claim", "response", "update", "resolve", "callback", "followup")
_CLOCK_RANK = {kind: i for i, kind in enumerate(CLOCK_ORDER)}


def overdue_order(row: dict) -> tuple:
    """The order of `cslog overdue` rows: most late first, then by due (the moment), ID and clock order (as far
    as a row tells: its due is printed to the second, order_key has it to the microsecond)."""
    return -row["overdue_minutes"], datetime.fromisoformat(row["due"]), str(row["id"]), _CLOCK_RANK[row["kind"]]


def order_key(due: int | datetime, rid: Any, clock: str, path: str) -> bytes:
    """An overdue row's place among the rows as late as it (see overdue_order): by due (a moment, or its
    microseconds since 1970), ID (as text), clock order, then file; bytes that compare as that tuple (the
    clocks table is indexed by them)."""
    due_us = due if isinstance(due, int) else _us(due)
    ident = str(rid).encode("utf-8", "surrogatepass").replace(b"\0", b"\0\1")  # \0\0 ends it: a prefix first
    return b"".join(((due_us + (1 << 63)).to_bytes(8, "big"), ident, b"\0\0", bytes((_CLOCK_RANK[clock],)),
                     path.encode("utf-8", "surrogatepass")))
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = timedelta(microseconds=1)
_MINUTE_US = 60_000_000

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE dirs (dir TEXT PRIMARY KEY, listing BLOB NOT NULL);
CREATE TABLE records (
    path TEXT PRIMARY KEY,  -- relative to the repository, '/'-separated
    dir TEXT NOT NULL,
    kind TEXT NOT NULL,
    stem TEXT NOT NULL,     -- the file name without .yaml (what references resolve against)
    id TEXT,                -- the document's id when it is a string
    problem TEXT,           -- why the file cannot be read as a record (as Store.read_path says it), else NULL
    digest TEXT NOT NULL,   -- git's blob id (SHA-1) of the bytes ('' when unreadable)
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    when_us INTEGER,        -- received_at / started_at in microseconds since 1970 (NULL: none or unreadable)
    summary BLOB            -- JSON object (UTF-8) of FIELDS present in the document; NULL when JSON cannot hold them
);
CREATE TABLE docs (path TEXT PRIMARY KEY, doc BLOB);  -- JSON document, UTF-8 (tickets: compact), NULL as summary
CREATE INDEX records_kind ON records (kind, path);
CREATE INDEX records_dir ON records (dir);
CREATE INDEX records_stem ON records (stem, kind);
CREATE INDEX records_id ON records (id);
CREATE INDEX records_problem ON records (kind) WHERE problem IS NOT NULL;
CREATE INDEX records_when ON records (kind, when_us) WHERE problem IS NULL;  -- report, export: a period's
CREATE INDEX records_undated ON records (kind) WHERE problem IS NULL AND when_us IS NULL;
CREATE TABLE refs (path TEXT NOT NULL, field TEXT NOT NULL, pos INTEGER NOT NULL, target TEXT NOT NULL,
                   ref TEXT NOT NULL);
CREATE INDEX refs_path ON refs (path);
CREATE TABLE tickets (path TEXT PRIMARY KEY, t0_us INTEGER, computed INTEGER NOT NULL);
CREATE INDEX tickets_t0 ON tickets (t0_us);  -- leftovers: a ticket whose last event is after `at`
CREATE INDEX tickets_uncomputed ON tickets (path) WHERE computed = 0;  -- or whose clocks were not computed
-- the clocks of a computed ticket that may be listed, with what an overdue row shows (one table, no join):
-- due_text as overdue prints it (timeutil.fmt); TICKET_COLUMNS when they are all text (plain), else NULL;
-- when plain, the row as printed but its late minutes (PIECES, slaview.row_pieces); skey: order_key
CREATE TABLE clocks (path TEXT NOT NULL, ord INTEGER NOT NULL, clock TEXT NOT NULL, due_us INTEGER NOT NULL,
                     due_text TEXT NOT NULL, t0_us INTEGER NOT NULL, plain INTEGER NOT NULL,
                     id, priority, status, owner, department, title,
                     jh, jt, ta, id_w, kind_w, tb, prio_w, oc, owner_w, tc, title_w,
                     skey BLOB PRIMARY KEY) WITHOUT ROWID;  -- stored in skey order: read in order, no sorting
CREATE INDEX clocks_path ON clocks (path);
CREATE INDEX clocks_odd ON clocks (path) WHERE plain = 0;
-- what overdue_pieces' widths and check read, without the rows' text (half the time)
CREATE INDEX clocks_widths ON clocks (t0_us, clock, due_us, plain, owner, department, id_w, kind_w, prio_w, owner_w,
                                      title_w);
CREATE TABLE checked (path TEXT PRIMARY KEY, key TEXT NOT NULL);
"""


class IndexDamaged(Exception):
    """The index file cannot be used; it is rebuilt."""


@dataclass
class Changes:
    """What a refresh found: files (relative paths) added, modified, removed; or a full rebuild and why."""

    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rebuilt: bool = False
    reason: str = ""

    def __bool__(self) -> bool:
        return bool(self.added or self.modified or self.removed or self.rebuilt)


@dataclass
class _GitState:
    """What the git way keeps (see Index._refresh_by_git)."""

    base: str
    dirty: set[str]
    stamps: dict[str, int]


@dataclass
class Leftover:
    """A ticket whose overdue clocks the index cannot give at some `at` (see Index.overdue): compute them from
    `doc` (the cached document, or the file's). problem is set (and the rest empty) when the file cannot be
    read as a record."""

    path: str
    fields: dict  # TICKET_COLUMNS: what an overdue row shows and filters on
    doc: dict | None = None
    problem: str | None = None


# --- the key -----------------------------------------------------------------------------------------

def _files_digest(paths: Iterable[str]) -> str:
    """One digest of these files' names and bytes (a missing file counts as such)."""
    h = hashlib.blake2b(digest_size=16)
    for path in paths:
        h.update(os.path.basename(path).encode())
        try:
            with open(path, "rb") as f:
                h.update(f.read())
        except OSError:
            h.update(b"-")
    return h.hexdigest()


def _schema_hash() -> str:
    from cslog.schemas import SCHEMA_FILES, schema_dir

    return _files_digest(str(schema_dir() / name) for name in sorted(SCHEMA_FILES.values()))


# The modules whose code decides what a row, a clock or a clean check is: a change to them (a new cslog
# in development as much as an upgrade) rebuilds the index.
_CODE = ("index.py", "yamlio.py", "schemas.py", "store.py", "sla.py", "calendar.py", "durations.py", "slaview.py",
         "timeutil.py", "config.py", "checker.py", "privacy.py", "ids.py", "model.py", "render.py")


def _code_hash() -> str:
    return _files_digest(os.path.join(os.path.dirname(os.path.abspath(__file__)), name) for name in _CODE)


def index_key(store: Store) -> dict:
    """Everything the cached rows depend on besides the files: any change rebuilds the index."""
    return {"format": FORMAT, "cslog": __version__, "code": _code_hash(), "schemas": _schema_hash(),
            "config": store.settings.digest, "station": store.settings.station, "holidays": holidays_version(),
            "python": f"{sys.version_info[0]}.{sys.version_info[1]}"}


def check_key(store: Store) -> str:
    """What a clean `cslog check` of one file depends on besides its bytes (see Index.clean_files)."""
    return f"{_schema_hash()}:{store.settings.digest}:{store.settings.station}"


GIT_FOLDERS = [KIND_FOLDERS[kind] for kind in KINDS]
_TOPS = {KIND_FOLDERS[kind]: kind for kind in KINDS}


def _record_kind(rel: str) -> str | None:
    """The kind of record a relative path names as scan() finds them (tickets/YYYY/MM/X.yaml,
    customers/X.yaml ...), else None."""
    top, _, rest = rel.partition("/")
    kind = _TOPS.get(top)
    if kind is None:
        return None
    parts = rest.split("/")
    name = parts[-1]
    if len(parts) != (3 if kind in SHARDED else 1) or "" in parts or not name.endswith(".yaml") or name[0] == ".":
        return None
    return kind


# --- finding the files ---------------------------------------------------------------------------------

@dataclass
class Scan:
    """The record files on disk, per folder: {dir: {name: (mtime_ns, size)}}; and other files under the
    record folders (`strays`, relative paths: misplaced records, .yml, temp files) for `cslog check`."""

    listings: dict[str, dict[str, tuple[int, int]]]
    kinds: dict[str, str]
    strays: list[tuple[str, str]]
    symlinks: bool = False  # a record file or folder is a symlink (git cannot see changes behind it)
    stamps: dict[str, int] = field(default_factory=dict)  # the folders' mtimes before they were listed (_stamp)

    def files(self) -> Iterator[tuple[str, str]]:
        for folder, listing in self.listings.items():
            kind = self.kinds[folder]
            for name in listing:
                yield kind, f"{folder}/{name}"


def _is_checked_name(name: str) -> bool:
    """The files `cslog check` looks at besides records: .yaml/.yml (pathlib suffix rules) and temp files."""
    dot = name.rfind(".")
    return (dot > 0 and name[dot:] in (".yaml", ".yml") or name.endswith(TEMP_SUFFIX)) and name != ".gitkeep"


def scan(root: str, stats: bool = True) -> Scan:
    """One pass over the record folders (as Store.record_paths sees them), stat'ing the record files (not
    stats: their listings say (0, -1), for a rebuild that reads every file and notes its stat as read)."""
    folders: list[tuple[str, str, str]] = []  # (kind, path, relative path) of the folders holding records
    strays: list[tuple[str, str]] = []
    stamps: dict[str, int] = {}
    links = False
    for kind in KINDS:
        top = KIND_FOLDERS[kind]
        links = links or os.path.islink(f"{root}/{top}")
        _stamp(stamps, top, f"{root}/{top}")
        if kind in SHARDED:
            for year in _entries(f"{root}/{top}"):
                rel_year = f"{top}/{year.name}"
                if not _is_dir(year):
                    if _is_file(year) and _is_checked_name(year.name):
                        strays.append((kind, rel_year))
                    continue
                links = links or year.is_symlink()
                _stamp(stamps, rel_year, year.path)
                for month in _entries(year.path):
                    rel_month = f"{rel_year}/{month.name}"
                    if _is_dir(month):
                        links = links or month.is_symlink()
                        _stamp(stamps, rel_month, month.path)
                        folders.append((kind, month.path, rel_month))
                    elif _is_file(month) and _is_checked_name(month.name):
                        strays.append((kind, rel_month))
        else:
            folders.append((kind, f"{root}/{top}", top))
    listings: dict[str, dict[str, tuple[int, int]]] = {}
    kinds: dict[str, str] = {}
    for kind, path, rel in folders:
        listings[rel], linked = _listing(kind, path, rel, strays, stats)
        kinds[rel] = kind
        links = links or linked
    return Scan(listings, kinds, strays, links, stamps)


def _record_names(path: str) -> list[str] | None:
    """The names of a folder's record files (as _listing finds them); None when one is a symlink."""
    names = []
    for entry in _entries(path):
        name = entry.name
        if name.endswith(".yaml") and name[0] != ".":
            if entry.is_symlink():
                return None
            names.append(name)
    return names


def _stamp(stamps: dict[str, int], rel: str, path: str) -> int | None:
    """Note a folder's mtime in stamps, 0 when too recent to trust (a file may come within the same tick);
    the mtime, or None when it is not a folder."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return None
    stamps[rel] = st.st_mtime_ns if time.time_ns() - st.st_mtime_ns >= RACY_NS else 0
    return st.st_mtime_ns


def folders_moved(root: str, stamps: dict[str, int]) -> tuple[dict[str, int], list[str]] | None:
    """Where record files may have come or gone since the record folders (and those above them) had these
    mtimes: (the stamps now, the record folders whose mtime moved or that are new); a folder whose mtime did
    not move is not listed. None when a record folder is a symlink (nothing sees behind it)."""
    below: dict[str, list[str]] = {}
    for rel in stamps:
        below.setdefault(rel.rpartition("/")[0], []).append(rel)
    now: dict[str, int] = {}
    moved: list[str] = []
    todo = [(KIND_FOLDERS[kind], kind in SHARDED) for kind in KINDS]
    while todo:
        rel, sharded = todo.pop()
        path = f"{root}/{rel}"
        if os.path.islink(path):
            return None
        mtime = _stamp(now, rel, path)
        if mtime is None:
            continue
        same = stamps.get(rel) == mtime
        if not sharded or rel.count("/") == 2:  # a record folder
            if not same:
                moved.append(rel)
            continue
        if same:
            subs = below.get(rel, [])
        else:
            subs = [f"{rel}/{entry.name}" for entry in _entries(path) if _is_dir(entry)]
        todo.extend((sub, True) for sub in subs)
    return now, moved


def _entries(path: str) -> list:
    try:
        with os.scandir(path) as it:
            return sorted(it, key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return []


def _is_dir(entry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_file(entry) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _listing(kind: str, path: str, rel: str, strays: list,
             stats: bool = True) -> tuple[dict[str, tuple[int, int]], bool]:
    """{name: (mtime_ns, size)} of a folder's record files (not stats: (0, -1)), and whether one of them is a
    symlink; the other files `cslog check` looks at go to strays."""
    found: dict[str, tuple[int, int]] = {}
    linked = False
    try:
        it = os.scandir(path)
    except (FileNotFoundError, NotADirectoryError):
        return found, linked
    with it:
        for entry in it:
            name = entry.name
            if name.endswith(".yaml") and name[0] != ".":
                if stats:
                    try:
                        st = entry.stat()
                    except OSError:
                        continue
                    regular, stamp = st.st_mode & 0o170000 == 0o100000, (st.st_mtime_ns, st.st_size)
                else:
                    regular, stamp = _is_file(entry), (0, -1)  # from the folder's listing alone
                if regular:  # a regular file (through symlinks)
                    found[name] = stamp
                    linked = linked or entry.is_symlink()
                    continue
            if _is_dir(entry) and not entry.is_symlink():
                _strays_below(kind, entry.path, f"{rel}/{name}", strays)
            elif _is_checked_name(name) and _is_file(entry):
                strays.append((kind, f"{rel}/{name}"))
    return found, linked  # found in directory order: stable while the folder is unchanged, so listings compare as bytes


def _strays_below(kind: str, path: str, rel: str, strays: list) -> None:
    for entry in _entries(path):
        if _is_dir(entry) and not entry.is_symlink():
            _strays_below(kind, entry.path, f"{rel}/{entry.name}", strays)
        elif _is_checked_name(entry.name) and _is_file(entry):
            strays.append((kind, f"{rel}/{entry.name}"))


# --- reading one file --------------------------------------------------------------------------------

class _Fallback(Exception):
    pass


def _constructors():
    from cslog.yamlio import Loader

    loader = Loader("")
    table = Loader.yaml_implicit_resolvers
    build = {tag: fn.__get__(loader) for tag, fn in Loader.yaml_constructors.items()
             if tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
                        "tag:yaml.org,2002:float")}
    return table, build


_RESOLVE: tuple | None = None


def _plain(value: str) -> Any:
    """A plain scalar as the loader resolves it (timestamps stay strings)."""
    global _RESOLVE
    if _RESOLVE is None:
        _RESOLVE = _constructors()
    table, build = _RESOLVE
    resolvers = table.get(value[0] if value else "")
    wild = table.get(None)
    if not resolvers and not wild:
        return value
    import yaml

    for tag, rx in (resolvers or []) + (wild or []):
        if rx.match(value):
            if tag == "tag:yaml.org,2002:str":
                return value
            fn = build.get(tag)
            if fn is None:
                raise _Fallback  # merge keys, `=`, anything the plain subset leaves to the full loader
            return fn(yaml.ScalarNode(tag, value))
    return value


def load_record_text(text: str) -> Any:
    """The document of a record file: exactly what cslog.yamlio.load_text returns (or raises)."""
    return _load_record(text)[0]


def _load_record(text: str) -> tuple[Any, bool]:
    """(load_record_text's document, whether JSON is known to hold it as it is: text keys, finite numbers;
    False: not known, ask _json_exact)."""
    try:
        return _load_plain(text)
    except _Fallback:
        return load_text(text), False


def _load_plain(text: str) -> tuple[Any, bool]:
    import yaml
    from yaml._yaml import CParser

    scalar_t, map_t, seq_t = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent
    map_end, seq_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
    cache = _PLAIN_CACHE
    try:
        parser = CParser(text)
        get = parser.get_event
        if type(get()) is not yaml.StreamStartEvent:
            raise _Fallback
        event = get()
        if type(event) is yaml.StreamEndEvent:
            return None, True
        if type(event) is not yaml.DocumentStartEvent:
            raise _Fallback
        stack: list = []  # open containers: [container, pending key or _NO_KEY]
        result: Any = None
        done = False
        exact = True  # for JSON: no key but text, no number but finite ones
        while not done:
            event = get()
            kind = type(event)
            if kind is scalar_t:
                if event.anchor is not None or event.tag is not None:
                    raise _Fallback
                value = event.value
                if event.implicit[0]:
                    known = cache.get(value, _NO_KEY)
                    if known is _NO_KEY:
                        known = _plain(value)
                        if len(value) < 24 and len(cache) < 8192:
                            cache[value] = known
                    value = known
                    if type(value) is float and not -_INF < value < _INF:
                        exact = False
            elif kind is map_t or kind is seq_t:
                if event.anchor is not None or event.tag is not None or len(stack) >= MAX_DEPTH:
                    raise _Fallback
                stack.append([{} if kind is map_t else [], _NO_KEY])
                continue
            elif kind is map_end or kind is seq_end:
                value = stack.pop()[0]
            else:
                raise _Fallback  # aliases, anything unexpected
            if not stack:
                result = value
                done = True
                continue
            top = stack[-1]
            container = top[0]
            if type(container) is list:
                container.append(value)
            elif top[1] is _NO_KEY:
                if type(value) is not str:
                    if type(value) is dict or type(value) is list:
                        raise _Fallback  # complex keys
                    exact = False
                top[1] = value
            else:
                container[top[1]] = value
                top[1] = _NO_KEY
        if type(get()) is not yaml.DocumentEndEvent or type(get()) is not yaml.StreamEndEvent:
            raise _Fallback
        return result, exact
    except yaml.YAMLError:
        raise _Fallback from None
    except (TypeError, RecursionError):
        raise _Fallback from None  # an unhashable key, or anything odd: the full loader says what it is


_NO_KEY = object()
_INF = float("inf")
_PLAIN_CACHE: dict[str, Any] = {}  # short plain scalars (keys, codes, names) as resolved: immutable values


def _compact(doc: dict) -> dict:
    """A ticket without its long free text: what SLA clocks and the report need."""
    out = {}
    for key, value in doc.items():
        if key in LONG_TEXT and isinstance(value, str):
            continue
        if key in ("timeline", "callbacks") and isinstance(value, list):
            value = [{k: v for k, v in e.items() if not (k in ENTRY_TEXT and isinstance(v, str))}
                     if isinstance(e, dict) else e for e in value]
        elif key in ("satisfaction", "decision") and isinstance(value, dict):
            # (a decision's result is adopted/rejected, which the report counts: not free text)
            value = {k: v for k, v in value.items()
                     if not (k in ENTRY_TEXT and isinstance(v, str)) or (key, k) == ("decision", "result")}
        out[key] = value
    return out


def _json(value: Any, exact: bool = False) -> bytes | None:
    """JSON text, in UTF-8, that loads back to exactly `value` (int keys, NaN, lone surrogates cannot): else
    None. exact: the loader found text keys and finite numbers only. (Bytes: a rebuild hands them from its
    workers to SQLite without decoding and encoding them.)"""
    if not (exact or _json_exact(value)):
        return None
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError, RecursionError):
        return None


def _json_exact(value: Any) -> bool:
    """Whether JSON holds this YAML value as it is: text keys only, finite numbers."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            for key, sub in item.items():
                if type(key) is not str:
                    return False
                stack.append(sub)
        elif kind is list:
            stack.extend(item)
        elif kind is float:
            if item != item or item in (float("inf"), float("-inf")):
                return False
        elif kind not in (str, int, bool, type(None)):
            return False
    return True


# --- the shape check of Store.read_path, compiled: a quick yes for the usual well-formed record ------------

_SHAPES: dict[str, Any] = {}
_TYPES = {"object": (dict,), "array": (list,), "string": (str,), "boolean": (bool,), "null": (type(None),),
          "integer": (int,), "number": (int, float)}


def _shape_ok(doc: Any, kind: str) -> bool:
    """True only when schemas.shape_problems(doc, kind) finds nothing (False: ask it what)."""
    compiled = _SHAPES.get(kind)
    if compiled is None:
        from cslog import schemas

        try:
            root = schemas.schema(kind)
            compiled = _SHAPES[kind] = _compile_shape(root, root, 0)
        except (KeyError, TypeError, ValueError, RecursionError):
            compiled = _SHAPES[kind] = False
    return bool(compiled) and _shape_walk(compiled, doc)


def _compile_shape(root: dict, node: dict, depth: int) -> tuple:
    """(accepted types or None, bool accepted, {property: compiled}, compiled items or None)."""
    if depth > 24:
        raise RecursionError("schema too deep")
    from cslog import schemas

    node = schemas._resolve(root, node)
    expected = node.get("type") or sorted({type(v).__name__.replace("str", "string") for v in node.get("enum", [])})
    names = [expected] if isinstance(expected, str) else list(expected)
    if names and any(name not in _TYPES for name in names):
        types = None  # an unknown type name accepts anything, as schemas._has_type does
    elif names:
        types = tuple(t for name in names for t in _TYPES[name])
    else:
        types = None
    props = {key: _compile_shape(root, sub, depth + 1) for key, sub in (node.get("properties") or {}).items()}
    items = node.get("items")
    return (types, "boolean" in names or types is None, props,
            _compile_shape(root, items, depth + 1) if isinstance(items, dict) else None)


def _shape_walk(compiled: tuple, value: Any) -> bool:
    types, bool_ok, props, items = compiled
    if types is not None and (not isinstance(value, types) or (isinstance(value, bool) and not bool_ok)):
        return False
    if isinstance(value, dict):
        get = props.get
        for key, sub in value.items():  # the document's few keys, not every property the schema names
            if not isinstance(key, str):
                return False
            spec = get(key)
            if spec is not None and not _shape_walk(spec, sub):
                return False
    elif isinstance(value, list) and items is not None:
        for item in value:
            if not _shape_walk(items, item):
                return False
    return True


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // _US


def _from_us(us: int, tz) -> datetime:
    seconds, micro = divmod(us, 1_000_000)
    moment = datetime.fromtimestamp(seconds, tz)
    return moment.replace(microsecond=micro) if micro else moment


@dataclass
class _Context:
    """What reading a file needs besides the file; forked workers inherit it."""

    root: str
    tz: Any
    setup: Any  # slaview.SlaSetup, or None when cslog.yaml's SLA settings cannot be read
    language: str = "zh"


_CTX: _Context | None = None


def _read_file(ctx: _Context, kind: str, rel: str) -> tuple:
    """(record row, clock rows, reference rows, ticket row) of one file."""
    full = f"{ctx.root}/{rel}"
    folder, _, name = rel.rpartition("/")
    stem = name[:-5] if name.endswith(".yaml") else name
    problem = summary = doc_json = rid = when = None
    clocks: list = []
    refs: list = []
    ticket_row = None
    try:
        with open(full, "rb") as f:
            raw = f.read()
            st = os.fstat(f.fileno())
        mtime, size = st.st_mtime_ns, st.st_size
    except OSError as exc:
        row = (rel, folder, kind, stem, None, f"{rel}: cannot read: {exc.strerror}", "", 0, -1, None, None)
        return row, None, clocks, refs, ticket_row
    if time.time_ns() - mtime < RACY_NS:
        mtime = 0  # read again next time: a same-size write within this clock tick would go unseen
    digest = gitrepo.blob_id(raw)
    doc = None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = f"{full}: not UTF-8 text (byte {exc.start})"
    else:
        if text.startswith("\ufeff"):
            text = text[1:]
        try:
            doc, exact = _load_record(text)
        except YamlSyntaxError as exc:
            problem = f"{rel}:{exc.line or 1}: {exc}"
        else:
            if not isinstance(doc, dict):
                problem, doc = f"{rel}:1: a record must be a mapping of fields", None
            elif not _shape_ok(doc, kind):
                shape = shape_problems(doc, kind)
                if shape:  # as Store.read_path: a field of the wrong type makes the file unreadable
                    from cslog.yamlio import line_of

                    where, message = shape[0]
                    problem, doc = f"{rel}:{line_of(text, where) or 1}: {message}", None
    if doc is not None:
        rid = doc.get("id") if isinstance(doc.get("id"), str) else None
        stored = _compact(doc) if kind == "ticket" else doc  # values of doc: as exact for JSON as it
        doc_json = _json(stored, exact)
        if doc_json is not None:
            summary = json.dumps({k: doc[k] for k in FIELDS[kind] if k in doc}, ensure_ascii=False,
                                 separators=(",", ":")).encode("utf-8")
        when = _when_us(kind, doc, ctx.tz)
        refs = [(rel, *ref) for ref in references(doc, kind)]
        if kind == "ticket":
            t0, found = _clocks_at_t0(ctx, doc)
            shown = [doc.get(k) for k in TICKET_COLUMNS]
            plain = all(v is None or type(v) is str for v in shown)
            if plain:
                from cslog.slaview import row_pieces

                fields = dict(zip(TICKET_COLUMNS, shown))
                clocks = [(rel, *clock, t0, 1, *shown,
                           *row_pieces({**fields, "kind": clock[1], "due": clock[3]}, ctx.language),
                           order_key(clock[2], fields["id"], clock[1], rel))
                          for clock in found]
            else:
                clocks = [(rel, *clock, t0, 0, *[None] * (len(TICKET_COLUMNS) + len(PIECES)),
                           order_key(clock[2], doc.get("id"), clock[1], rel)) for clock in found]
            ticket_row = (rel, t0, 1 if t0 is not None else 0)
    row = (rel, folder, kind, stem, rid, problem, digest, mtime, size, when, summary)
    return row, doc_json, clocks, refs, ticket_row


def _when_us(kind: str, doc: dict, tz) -> int | None:
    raw = doc.get("received_at") if kind == "ticket" else doc.get("started_at") if kind == "contact" else None
    if not raw:
        return None
    from cslog.errors import UsageError
    from cslog.timeutil import parse_time

    try:
        return _us(parse_time(raw, tz))
    except (UsageError, OverflowError, ValueError):
        return None


def _clocks_at_t0(ctx: _Context, doc: dict) -> tuple[int | None, list]:
    """The ticket's clocks that are neither stopped nor paused at T0 (its latest moment), as (order, kind,
    due_us, due as printed), or (None, []) when they cannot be computed here: the caller then computes
    them itself."""
    if ctx.setup is None:
        return None, []
    from cslog import sla
    from cslog.timeutil import fmt

    cal = ctx.setup.calendar
    try:
        moments = [sla._instant(doc["received_at"], cal, "received_at")]  # same reading as the clocks
        last_change = None  # (moment, position, status) of the latest status change
        for group in ("timeline", "callbacks"):
            for i, entry in enumerate(doc.get(group) or []):
                if isinstance(entry, dict) and entry.get("at") is not None:
                    moment = sla._instant(entry["at"], cal, "at")
                    moments.append(moment)
                    if group == "timeline" and entry.get("kind") in ("status", "escalated"):
                        target = entry.get("to") or ("escalated" if entry.get("kind") == "escalated" else None)
                        if target in sla.STATUSES and (last_change is None or moment >= last_change[0]):
                            last_change = (moment, i, target)
        satisfaction = doc.get("satisfaction")
        if isinstance(satisfaction, dict) and satisfaction.get("at") is not None:
            moments.append(sla._instant(satisfaction["at"], cal, "at"))
        # just after the last moment: a pause that began exactly at a clock's due then shows as the breach
        # it becomes, instead of `paused` (at T0 itself the clock is not yet past its due)
        t0 = max(moments) + _US
        if _settled(doc, ctx.setup.policy, last_change):
            return _us(t0), []
        found = sla.clocks(doc, ctx.setup.policy, cal, t0)
    except Exception:  # noqa: BLE001 - whatever it is, the caller's own computation reports it
        return None, []
    rows = []
    for c in found:
        if c.stopped is None and c.state != "paused":
            rows.append((CLOCK_ORDER.index(c.kind), c.kind, _us(c.due), fmt(c.due, cal.tz)))
    return _us(t0), rows


def _settled(doc: dict, policy, last_change) -> bool:
    """A ticket none of whose clocks can ever be listed again, known without computing them: resolved or
    closed by its latest status change, so claim, response, update and resolve have stopped; of a type
    without a callback clock; and no score <= 2 or unsolved callback anywhere that could raise a followup.
    (Two thirds of a team's tickets: computing their clocks would be most of a rebuild's time.)"""
    if last_change is None or last_change[2] not in ("resolved", "closed") or doc.get("status") not in (
            "resolved", "closed") or doc.get("type") in policy.callback_types:
        return False
    satisfaction = doc.get("satisfaction")
    entries = list(doc.get("timeline") or []) + list(doc.get("callbacks") or [])
    if isinstance(satisfaction, dict):
        entries.append(satisfaction)
    for entry in entries:
        if not isinstance(entry, dict):
            return False
        score = entry.get("score")
        if (score is not None and not (isinstance(score, int) and score > 2)) or entry.get("solved") is False:
            return False
    return True


def _read_chunk(items: list[tuple[str, str]]) -> bytes:
    """_read_file's rows of these files, marshalled (plain tuples, text, bytes and numbers: marshal loads them
    in the parent in about half the time pickle takes)."""
    assert _CTX is not None
    return marshal.dumps([_read_file(_CTX, kind, rel) for kind, rel in items])


# --- the index -----------------------------------------------------------------------------------------

def _default_warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


class _Progress:
    """A one-line progress bar on stderr, only on a terminal and only once indexing takes a while."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.enabled = total, enabled
        self.started = time.monotonic()
        self.shown = False
        self.last = 0.0

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.started < PROGRESS_AFTER or now - self.last < 0.1:
            return
        self.last = now
        width = 30
        filled = int(width * done / max(self.total, 1))
        sys.stderr.write(f"\rcslog: indexing [{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} files")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


class Index:
    """The record index of one repository; open it with Index.open(store)."""

    def __init__(self, store: Store, db, path: str | None, warn: Callable[[str], None],
                 progress: bool | None):
        self.store = store
        self.db = db
        self.path = path
        self.warn = warn
        self.progress = sys.stderr.isatty() if progress is None else progress
        self.root = str(store.root)
        self.changes = Changes()
        self.last_scan: Scan | None = None
        self._setup: Any = False
        self._lock = _IndexLock(path)
        self._pending: Callable[[], Any] | None = None  # git's answer to come (open with defer)
        self._head_blobs: tuple[str, Callable[[], Any]] | None = None  # started by a rebuild (_establish_git)

    # -- opening ------------------------------------------------------------------------------------

    @classmethod
    def open(cls, store: Store, use_cache: bool = True, warn: Callable[[str], None] | None = None,
             progress: bool | None = None, full_scan: bool = False, defer: bool = False) -> "Index":
        """The index, brought up to date with the files. use_cache=False: a private in-memory index built
        from the files (nothing read from or written to .cslog/). full_scan: stat every file instead of
        asking git what changed (and keep the scan in .last_scan). defer: only start asking git; the index
        must then be read through ask()."""
        warn = warn or _default_warn
        if not use_cache:
            index = cls(store, cls._connect(":memory:"), None, warn, progress)
            index._create(index_key(store))
            index.refresh()
            return index
        folder = store.root / CACHE_DIR
        store.guard_path(folder / INDEX_FILE)
        folder.mkdir(exist_ok=True)
        index = cls(store, None, str(folder / INDEX_FILE), warn, progress)
        index._start(index_key(store), full_scan, defer)
        return index

    def _start(self, key: dict, full_scan: bool, defer: bool) -> None:
        """Open the file and bring it up to date (defer: start asking git); rebuilt when damaged."""
        import sqlite3

        try:
            self.db = self._connect(self.path)
            reason = self._check_key(key)
            if reason:
                self._rebuild(key, reason)
            elif not (defer and self._ask_git_later()):
                self.refresh(full_scan=full_scan)
        except (sqlite3.DatabaseError, IndexDamaged) as exc:
            self._recover(exc, key)

    def _recover(self, exc: Exception, key: dict) -> None:
        """After an error from the index file: rebuild it when it is damaged; else the error, in cslog's words."""
        import sqlite3

        if isinstance(exc, sqlite3.OperationalError) and not _damage(exc):
            raise _busy(self.path, exc) from None
        self.warn(f"the index {self.store.rel(Path(self.path))} is damaged ({exc}); rebuilding it")
        if self.db is not None:
            self.db.close()
        self._remove(self.path)
        self.db = self._connect(self.path)
        self._rebuild(key, "damaged")

    def ask(self, question: Callable[..., Any]) -> Any:
        """question(self), answered from an index that is up to date with the files.

        Opened with defer, the question is asked in a thread, in one read snapshot, while `git status`
        works (on the other core). git's answer is then checked against that snapshot: in the everyday case
        no record changed since the index was last brought up to date, and the answer stands.

        When a few records changed (an edit by hand, cslog's own commits since the last look: up to MEND_AT)
        and the question can mend its answer, only they are asked about again: question(index, paths)
        answers for those files alone, and question.mend(answer, old, new) returns the answer with the old
        share of those files replaced by the new (or None: ask again). The index is brought up to date in
        between. Otherwise the question is interrupted, the index brought up to date, and the question asked
        again, so a change costs what it costs without the thread. A question must only read."""
        pending, self._pending = self._pending, None
        if pending is None:
            return question(self)
        import sqlite3
        import threading

        mend = getattr(question, "mend", None)
        outcome: dict[str, Any] = {}
        told = threading.Event()

        def speculate() -> None:
            try:
                self.db.execute("BEGIN")  # one snapshot for the answer and the check
                try:
                    answer = question(self)
                    told.wait()
                    changed = self._changed_since(outcome["seen"])
                    if changed is not None and not changed[0]:
                        outcome["answer"], outcome["stale"] = answer, changed[1]
                    elif changed is not None and mend is not None:
                        outcome["mend"] = answer, changed[0], question(self, changed[0])
                finally:
                    self.db.execute("COMMIT")
            except BaseException as exc:  # noqa: BLE001 - handed to the asking thread
                outcome["error"] = exc

        worker = threading.Thread(target=speculate, name="cslog-index-ask", daemon=True)
        worker.start()
        try:
            outcome["seen"] = seen = pending()
            if mend is None and self._changed(seen):
                self.db.interrupt()
        finally:
            told.set()
            worker.join()
        if "answer" in outcome:
            if outcome["stale"]:  # no record changed, but HEAD or a folder did: note it for the next time
                try:
                    self.refresh(seen=seen)
                except (sqlite3.DatabaseError, IndexDamaged):
                    pass  # the answer stands; the next open finds the damage
            return outcome["answer"]
        error = outcome.get("error")
        if error is not None and not (isinstance(error, sqlite3.OperationalError) and "interrupt" in str(error)):
            if isinstance(error, (sqlite3.DatabaseError, IndexDamaged)):
                self._recover(error, index_key(self.store))
                return question(self)
            if "mend" not in outcome and not self._changed(seen):
                raise error  # the files are as the snapshot had them: the question's own error
            # else asked of a snapshot git shows stale (a file it reads may be gone): ask again below
        if self.db.in_transaction:  # a COMMIT that the interruption reached
            self.db.execute("ROLLBACK")
        try:
            self.refresh(seen=seen)
        except (sqlite3.DatabaseError, IndexDamaged) as exc:
            self._recover(exc, index_key(self.store))
            return question(self)
        if "mend" in outcome:
            answer, paths, old = outcome["mend"]
            mended = question.mend(answer, old, question(self, paths))
            if mended is not None:
                return mended
        return question(self)

    def _changed_since(self, seen: tuple[str, set[str]] | None, db=None) -> tuple[set[str], bool] | None:
        """The record paths whose files differ from what the index holds (as read through db, else self.db:
        in ask, the snapshot), by git's answer `seen`, and whether the git state kept should move on (HEAD or
        a folder's mtime moved); None when that cannot be told, or for more than MEND_AT files."""
        state = self._git_state(db)
        found = self._candidates(seen, state, db)
        if found is None or state is None or seen is None:
            return None
        candidates, stamps = found
        changes = self._compare(candidates, db)[0] if candidates else Changes()
        paths = {*changes.added, *changes.modified, *changes.removed}
        if len(paths) > MEND_AT:
            return None
        return paths, seen[0] != state.base or stamps != state.stamps

    def _changed(self, seen: tuple[str, set[str]] | None) -> bool:
        """Whether git's answer shows that a record differs from what the index holds (asked beside a
        question, through a connection of its own)."""
        import sqlite3

        db = self._connect(self.path)
        try:
            changed = self._changed_since(seen, db)
            return changed is None or bool(changed[0])
        except sqlite3.Error:
            return True
        finally:
            db.close()

    @staticmethod
    def _connect(path: str):
        import sqlite3

        # as long as _IndexLock waits: a rebuild (rollback journal) holds the file for its whole length
        db = sqlite3.connect(path, timeout=LOCK_WAIT, isolation_level=None, check_same_thread=False)
        if path != ":memory:":
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                try:
                    db.execute("PRAGMA journal_mode=WAL")
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc):
                        raise
                    # a rebuild under way (rollback journal, _rebuild) refuses the switch at once, busy
                    # timeout or not: read the file as it is; the rebuild puts it back in WAL mode
            db.execute("PRAGMA synchronous=NORMAL")
        return db

    @staticmethod
    def _remove(path: str) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.unlink(path + suffix)
            except FileNotFoundError:
                pass

    def _check_key(self, key: dict) -> str:
        """'' when the stored key matches; else why the index must be rebuilt."""
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            return "new"
        if "meta" not in tables:
            raise IndexDamaged("no meta table")
        stored = dict(self.db.execute("SELECT key, value FROM meta"))
        try:
            old = json.loads(stored.get("key", ""))
        except ValueError:
            raise IndexDamaged("unreadable key") from None
        if not isinstance(old, dict):
            raise IndexDamaged("unreadable key")
        if old.get("format") != key["format"]:
            self.warn(f"the index {INDEX_FILE} is of another format ({old.get('format')}, this cslog writes "
                      f"{key['format']}); rebuilding it")
            return "format"
        changed = [k for k in key if old.get(k) != key[k]]
        return f"changed: {', '.join(changed)}" if changed else ""

    def _create(self, key: dict) -> None:
        db = self.db
        drop = "".join(f'DROP TABLE IF EXISTS "{name}";' for (name,) in
                       db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall())
        db.executescript(f"BEGIN IMMEDIATE;{drop}{_SCHEMA}COMMIT;")
        db.execute("INSERT INTO meta VALUES ('key', ?)", (json.dumps(key, sort_keys=True),))

    # -- bringing it up to date ---------------------------------------------------------------------

    def _rebuild(self, key: dict, reason: str) -> None:
        import sqlite3

        with self._writing():
            # a rollback journal while the rows go in: in WAL mode every page would be written twice (to
            # the WAL, then copied into the file when the commit ends: ~1 s at 100,000 tickets)
            journal = None
            if self.path is not None:
                try:
                    journal = self.db.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
                except sqlite3.OperationalError:
                    journal = None  # another connection has it open: stay in WAL
            self._head_blobs = self._start_head_blobs()  # git lists HEAD's blobs while the files are read
            try:
                self._create(key)
                self.refresh(rebuilt=True, reason=reason)
            finally:
                started, self._head_blobs = self._head_blobs, None
                if started is not None:  # not used (the scan way stays): let git finish, not hang on its pipe
                    started[1]()
                if journal == "delete":
                    self.db.execute("PRAGMA journal_mode=WAL")

    def refresh(self, rebuilt: bool = False, reason: str = "", full_scan: bool = False,
                seen: tuple[str, set[str]] | None = None) -> Changes:
        """Compare the files with the index and re-read what changed; returns (and keeps) what changed.

        Asks git first (see _refresh_by_git; seen: git's answer when already asked); stats every record file
        when git cannot answer, when asked to (full_scan: `cslog check` also wants the files that are not
        records), and on a rebuild."""
        if not full_scan and not rebuilt and self.path is not None:
            changes = self._refresh_by_git(seen)
            if changes is not None:
                self.changes = changes
                return changes
        changes = self._refresh_by_scan(rebuilt, reason)
        self.changes = changes
        return changes

    # The git way. Kept in meta 'git': {"base": a commit B, "dirty": paths D, "stamps": the record folders'
    # mtimes}, such that every record path outside D is indexed with exactly B's bytes for it (or is in
    # neither), and no record file came into a folder since its stamp. Then, with H the HEAD now, a record
    # can only have changed if it is in D, in what git lists (tracked files that differ between H, git's
    # index and the work tree: gitrepo.changed_paths), in what differs between B and H, or is a new file
    # in a folder whose mtime moved (folders_moved: untracked files without git reading every folder): only
    # those are stat'ed, and read again when their (mtime_ns, size) moved. The new D keeps those of them
    # whose indexed bytes (their git blob id) differ from H's. Symlinked record files or folders (git sees
    # the link, not the file) and repositories git cannot answer for go the scan way.

    def _refresh_by_git(self, seen: tuple[str, set[str]] | None = None) -> Changes | None:
        """What changed, learnt from git (seen: its answer, when already asked); None when git cannot answer
        (then scan)."""
        state = self._git_state()
        if state is None:
            return None
        root = Path(self.root)
        seen = seen or gitrepo.changed_paths(root, GIT_FOLDERS)
        found = self._candidates(seen, state)
        if found is None or seen is None:
            return self._cannot_say()  # base is gone (history rewritten and pruned), or a symlink
        candidates, stamps = found
        if seen[0] == state.base and stamps == state.stamps and not (candidates and self._compare(candidates)[0]):
            return Changes()  # the everyday case
        head = seen[0]
        with self._writing():
            now = self._git_state()  # another process may have moved it on while this one waited
            if now is None:
                return None
            if now != state:
                found = self._candidates(seen, now)
                if found is None:
                    return self._cannot_say()
                candidates, stamps = found
            changes, todo, stored = self._compare(candidates)
            blobs = gitrepo.blob_ids(root, head, sorted(candidates), GIT_FOLDERS) if candidates else {}
            if blobs is None:
                return self._cannot_say()
            listings = {}
            for folder in {p.rpartition("/")[0] for p in changes.added + changes.modified + changes.removed}:
                row = self.db.execute("SELECT listing FROM dirs WHERE dir = ?", (folder,)).fetchone()
                listings[folder] = _unmarshal(row[0] if row else None)
            for path in changes.removed:
                folder, _, name = path.rpartition("/")
                listings[folder].pop(name, None)

            def state_after(touched: dict[str, str | None]) -> dict:
                digests = {**{p: d for p, (_m, _s, d) in stored.items()}, **touched}
                return {"base": head, "dirty": sorted(p for p in candidates if digests.get(p) != blobs.get(p)),
                        "stamps": stamps}

            self._apply(changes, todo, listings, [], state_after)
        return changes

    def _candidates(self, seen: tuple[str, set[str]] | None, state: "_GitState | None",
                    db=None) -> tuple[set[str], dict[str, int]] | None:
        """The record paths that may differ from what the index holds in git state `state`, by git's answer
        `seen` (HEAD, tracked files that differ): those, the dirty ones, those that differ between the base
        and HEAD, and the files the index does not hold in record folders whose mtime moved; with the
        folders' stamps now. None when that cannot be told (then scan)."""
        if seen is None or state is None:
            return None
        folders = folders_moved(self.root, state.stamps)
        if folders is None:
            return None
        stamps, moved = folders
        head, listed = seen
        candidates = listed | state.dirty
        if head != state.base:
            between = gitrepo.changed_between(Path(self.root), state.base, head, GIT_FOLDERS)
            if between is None:
                return None
            candidates |= between
        for folder in moved:
            names = _record_names(f"{self.root}/{folder}")
            if names is None:
                return None
            known = {p for (p,) in (db or self.db).execute("SELECT path FROM records WHERE dir = ?", (folder,))}
            candidates.update(p for p in (f"{folder}/{name}" for name in names) if p not in known)
        return {p for p in candidates if _record_kind(p)}, stamps

    def _ask_git_later(self) -> bool:
        """Start `git status` for ask(); False when the index does not go the git way (refresh it now)."""
        if self._git_state() is None:
            return False
        self._pending = gitrepo.start_changed_paths(Path(self.root), GIT_FOLDERS)
        return True

    def _cannot_say(self) -> None:
        """git cannot answer from the stored state: forget it; the scan that follows starts it again."""
        with self._writing():
            self._forget_git()

    def _compare(self, candidates: set[str], db=None) -> tuple[Changes, list[tuple[str, str]], dict[str, tuple]]:
        """Which of these record paths were added, modified or removed since they were indexed (by stat);
        also what to read, and what the index holds for them: {path: (mtime_ns, size, digest)}."""
        stored: dict[str, tuple] = {}
        ordered = sorted(candidates, key=lambda p: p.replace("/", "\0"))
        for chunk in _chunks(ordered, 500):
            for path, mtime, size, digest in (db or self.db).execute(
                    f"SELECT path, mtime_ns, size, digest FROM records WHERE path IN ({','.join('?' * len(chunk))})",
                    chunk):
                stored[path] = (mtime, size, digest)
        changes = Changes()
        todo = []
        for path in ordered:
            try:
                st = os.stat(f"{self.root}/{path}")
            except OSError:
                st = None
            before = stored.get(path)
            if st is None or st.st_mode & 0o170000 != 0o100000:  # gone, or not a regular file: not a record
                if before is not None:
                    changes.removed.append(path)
            elif before is None:
                changes.added.append(path)
                todo.append((_record_kind(path), path))
            elif (before[0], before[1]) != (st.st_mtime_ns, st.st_size):
                changes.modified.append(path)
                todo.append((_record_kind(path), path))
        return changes, todo, stored

    def _git_state(self, db=None) -> "_GitState | None":
        row = (db or self.db).execute("SELECT value FROM meta WHERE key = 'git'").fetchone()
        if row is None:
            return None
        try:
            value = json.loads(row[0])
            return _GitState(str(value["base"]), set(value["dirty"]), dict(value["stamps"]))
        except (ValueError, KeyError, TypeError):
            return None

    def _start_head_blobs(self) -> tuple[str, Callable[[], dict[str, str] | None]] | None:
        """(HEAD, its record files' blob ids to come: one `git ls-tree`, started); None without a commit."""
        if self.path is None:
            return None
        root = Path(self.root)
        try:
            head = gitrepo.head(root)
        except CslogError:
            return None
        if not head or len(head) != 40:  # no commit yet, or a SHA-256 repository (blob ids are SHA-1 here)
            return None
        return head, gitrepo.start_blob_ids(root, head, None, GIT_FOLDERS)

    def _establish_git(self, stamps: dict[str, int]) -> None:
        """Start the git way from what the index holds now, read from folders with these stamps: D = the
        records whose indexed bytes differ from HEAD's (one `git ls-tree` of the record folders, started
        with a rebuild)."""
        started, self._head_blobs = self._head_blobs or self._start_head_blobs(), None
        if started is None:
            return
        head, answer = started
        blobs = answer()
        if blobs is None:
            return
        db = self.db
        with self._writing():
            db.execute("BEGIN IMMEDIATE")
            try:
                stored = dict(db.execute("SELECT path, digest FROM records"))
                dirty = {p for p, digest in stored.items() if blobs.get(p) != digest}
                dirty.update(p for p in blobs if p not in stored and _record_kind(p))
                db.execute("INSERT OR REPLACE INTO meta VALUES ('git', ?)",
                           (json.dumps({"base": head, "dirty": sorted(dirty), "stamps": stamps}),))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    # The scan way: every record folder listed, every record file stat'ed.

    def _refresh_by_scan(self, rebuilt: bool, reason: str) -> Changes:
        found = scan(self.root, stats=not rebuilt)
        self.last_scan = found
        stored = dict(self.db.execute("SELECT dir, listing FROM dirs"))
        changed_dirs = []
        for folder, listing in found.listings.items():
            blob = stored.pop(folder, None)
            # equal bytes: the usual case, decided without building the stored listing again
            if blob is None or (blob != marshal.dumps(listing) and _unmarshal(blob) != listing):
                changed_dirs.append(folder)
        gone_dirs = list(stored)
        changes = Changes(rebuilt=rebuilt, reason=reason)
        git_way = self.path is not None and not found.symlinks
        if not changed_dirs and not gone_dirs:
            if git_way and self._git_state() is None:
                self._establish_git(found.stamps)
            elif not git_way and self._git_state() is not None:
                self._forget_git()
            return changes
        with self._writing():
            # another process may have brought the index up to date while this one waited
            stored = dict(self.db.execute("SELECT dir, listing FROM dirs"))
            todo: list[tuple[str, str]] = []
            for folder in changed_dirs:
                listing = found.listings[folder]
                old = _unmarshal(stored.get(folder))
                if old == listing:
                    continue
                kind = found.kinds[folder]
                for name, stat in listing.items():
                    before = old.get(name)
                    if before is None:
                        changes.added.append(f"{folder}/{name}")
                        todo.append((kind, f"{folder}/{name}"))
                    elif before != stat:
                        changes.modified.append(f"{folder}/{name}")
                        todo.append((kind, f"{folder}/{name}"))
                changes.removed += [f"{folder}/{name}" for name in old if name not in listing]
            for folder in gone_dirs:
                if folder in stored:
                    changes.removed += [f"{folder}/{name}" for name in _unmarshal(stored[folder])]
            state = self._git_state() if git_way else None

            def state_after(touched: dict[str, str | None]) -> dict | None:
                # the same base, with what was read or removed now among the paths to look at; many of
                # them (a rebuild, a large pull): start again from HEAD (below)
                if state is None or len(touched) > gitrepo.MANY_PATHS:
                    return None
                return {"base": state.base, "dirty": sorted(state.dirty | set(touched)), "stamps": found.stamps}

            listings = {folder: dict(found.listings[folder]) for folder in changed_dirs}
            self._apply(changes, todo, listings, gone_dirs, state_after)
            if git_way and self._git_state() is None:
                self._establish_git(found.stamps)
        return changes

    def _forget_git(self) -> None:
        self.db.execute("DELETE FROM meta WHERE key = 'git'")

    def _apply(self, changes: Changes, todo: list[tuple[str, str]], listings: dict[str, dict],
               gone_dirs: list[str], state_after: Callable[[dict[str, str | None]], dict | None]) -> None:
        """In one transaction: drop the rows of removed and modified files, read and add todo, store the
        folders' new listings (with the stats as read), and the git state state_after gives for the
        paths touched ({path: digest as now indexed, None when removed}; None: no git state)."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            before: dict[str, str] = {}
            for chunk in _chunks(changes.modified, 500):
                before.update(db.execute(f"SELECT path, digest FROM records WHERE path IN "
                                         f"({','.join('?' * len(chunk))})", chunk))
            same: set[str] = set()
            gone = changes.removed + changes.modified
            for chunk in _chunks(gone, 500):
                marks = ",".join("?" * len(chunk))
                for table in ("records", "docs", "refs", "tickets", "clocks"):
                    db.execute(f"DELETE FROM {table} WHERE path IN ({marks})", chunk)
            touched: dict[str, str | None] = dict.fromkeys(changes.removed)
            batch: tuple[list, list, list, list, list] = ([], [], [], [], [])
            records, docs, all_clocks, all_refs, tickets = batch
            for row, doc, clocks, refs, ticket in self._read_all(todo):
                if row[6] and before.get(row[0]) == row[6]:
                    same.add(row[0])  # read again only because its mtime was too recent to trust
                touched[row[0]] = row[6]
                records.append(row)
                if row[5] is None:
                    docs.append((row[0], doc))
                all_clocks += clocks
                all_refs += refs
                if ticket:
                    tickets.append(ticket)
                folder, _, name = row[0].rpartition("/")
                listings[folder][name] = (row[7], row[8])  # as read: a racy file keeps mtime 0 until next time
                if len(records) >= 1000:
                    self._insert(*batch)
            self._insert(*batch)
            for folder, listing in listings.items():
                # the bytes a fresh scan of the same folder makes: objects referenced once (marshal marks
                # shared ones), so that the next open compares bytes
                fresh = marshal.loads(marshal.dumps(listing))
                blob = marshal.dumps(fresh)  # (held by a name, as a scan's listing is: same reference marks)
                db.execute("INSERT OR REPLACE INTO dirs VALUES (?, ?)", (folder, blob))
            for folder in gone_dirs:
                db.execute("DELETE FROM dirs WHERE dir = ?", (folder,))
            state = state_after(touched)
            if state is None:
                self._forget_git()
            else:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('git', ?)", (json.dumps(state),))
            db.execute("COMMIT")
            changes.modified = [p for p in changes.modified if p not in same]
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _insert(self, records: list, docs: list, clocks: list, refs: list, tickets: list) -> None:
        """Add these rows (as _read_file makes them), and empty the lists."""
        db = self.db
        db.executemany("INSERT OR REPLACE INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?)", records)
        db.executemany("INSERT OR REPLACE INTO docs VALUES (?,?)", docs)
        db.executemany(_INSERT_CLOCKS, clocks)
        db.executemany("INSERT INTO refs VALUES (?,?,?,?,?)", refs)
        db.executemany("INSERT OR REPLACE INTO tickets VALUES (?,?,?)", tickets)
        for rows in (records, docs, clocks, refs, tickets):
            rows.clear()

    def _read_all(self, todo: list[tuple[str, str]]) -> Iterator[tuple]:
        global _CTX
        ctx = _Context(self.root, self.store.settings.tz, self.sla_setup(), self.store.settings.language)
        bar = _Progress(len(todo), self.progress)
        done = 0
        try:
            if len(todo) >= PARALLEL_AT and WORKERS > 1 and hasattr(os, "fork"):
                import multiprocessing

                _CTX = ctx
                chunks = list(_chunks(todo, CHUNK))
                with multiprocessing.get_context("fork").Pool(WORKERS) as pool:
                    for blob in pool.imap_unordered(_read_chunk, chunks):
                        results = marshal.loads(blob)
                        yield from results
                        done += len(results)
                        bar.update(done)
            else:
                for kind, rel in todo:
                    yield _read_file(ctx, kind, rel)
                    done += 1
                    if done % 256 == 0:
                        bar.update(done)
        finally:
            _CTX = None
            bar.close()

    def sla_setup(self):
        """The SLA policy and calendar the clocks are computed with (None when cslog.yaml's are broken)."""
        if self._setup is False:
            from cslog.errors import CslogError

            try:
                from cslog import slaview

                self._setup = slaview.sla_setup(self.store)
            except (CslogError, ImportError, ValueError):
                self._setup = None
        return self._setup

    def _writing(self) -> "_IndexLock":
        return self._lock

    # -- reading ------------------------------------------------------------------------------------

    def rows(self, kind: str, fields: Iterable[str] | None = None) -> list[dict]:
        """Summary rows of every readable record of a kind, in file order: {field: value or None}."""
        return [row for _path, row in self.rows_with_paths(kind, fields)]

    def rows_with_paths(self, kind: str, fields: Iterable[str] | None = None) -> list[tuple[str, dict]]:
        """(relative path, row) of every readable record of a kind, in file order: to pick the few files a
        rule must read (batch complaints: the open complaints of one category) without reading them all."""
        wanted = tuple(fields or FIELDS[kind])
        out = []
        for path, summary in self._ordered(
                "SELECT path, summary FROM records WHERE kind = ? AND problem IS NULL", (kind,)):
            values = self._doc(kind, path, summary)
            out.append((path, {k: values.get(k) for k in wanted}))
        return out

    def docs(self, kind: str, ids: Iterable[str] | None = None) -> list[dict]:
        """Documents of readable records, in file order: all, or those with these IDs. Tickets are compact
        (no LONG_TEXT, no entry text); full_doc reads a file whole."""
        return [doc for _path, doc in self.docs_with_paths(kind, ids)]

    def docs_with_paths(self, kind: str, ids: Iterable[str] | None = None) -> list[tuple[str, dict]]:
        """(relative path, document) of the records docs() gives."""
        sql = "SELECT r.path, d.doc FROM records r JOIN docs d ON d.path = r.path WHERE r.kind = ? AND r.problem IS NULL"
        args: list = [kind]
        if ids is not None:
            sql += " AND r.id IN (SELECT value FROM json_each(?))"
            args.append(json.dumps(sorted(set(ids))))
        return [(path, self._doc(kind, path, doc)) for path, doc in self._ordered(sql, args)]

    def dated(self, kind: str, since: datetime, until: datetime, summary: bool = False
              ) -> Iterator[tuple[str, datetime, dict]]:
        """(path, time, document) of the readable records of a kind received (contacts: started) in
        [since, until), by path, read as they come: the time in the configured timezone; the document
        compact (tickets), or with summary=True only the summary fields (FIELDS)."""
        if summary:
            sql = ("SELECT path, when_us, summary FROM records WHERE kind = ? AND problem IS NULL "
                   "AND when_us >= ? AND when_us < ? ORDER BY path")
        else:
            sql = ("SELECT r.path, r.when_us, d.doc FROM records r JOIN docs d ON d.path = r.path WHERE r.kind = ? "
                   "AND r.problem IS NULL AND r.when_us >= ? AND r.when_us < ? ORDER BY r.path")
        tz = self.store.settings.tz
        for path, when_us, text in self.db.execute(sql, (kind, _us(since), _us(until))):
            yield path, _from_us(when_us, tz), self._doc(kind, path, text)

    def full_doc(self, kind: str, path: str) -> dict:
        """The record file's whole document, read now (UsageError, as Store.read_path, when it cannot be)."""
        from cslog.yamlio import read_text

        try:
            doc = load_record_text(read_text(self.store.root / path))
        except (OSError, UnicodeDecodeError, YamlSyntaxError, CslogError):
            doc = None
        if isinstance(doc, dict) and _shape_ok(doc, kind):
            return doc
        return self.store.read_path(kind, self.store.root / path).doc  # its own words for what is wrong

    def _doc(self, kind: str, path: str, cached: bytes | None) -> dict:
        """A cached JSON document, or (when JSON could not hold it) the file's."""
        return json.loads(cached) if cached is not None else self.full_doc(kind, path)

    def undated(self, kind: str) -> list[str]:
        """Readable records of a kind (tickets, contacts) without a readable received_at / started_at."""
        return [p for (p,) in self._ordered("SELECT path FROM records WHERE kind = ? AND problem IS NULL AND "
                                            "when_us IS NULL", (kind,))]

    def problems(self, kind: str) -> list[tuple[str, str]]:
        """(path, message) of the files of a kind that cannot be read as records, in file order."""
        return self._ordered("SELECT path, problem FROM records WHERE kind = ? AND problem IS NOT NULL", (kind,))

    def _ordered(self, sql: str, args) -> list:
        found = self.db.execute(sql, args).fetchall()
        found.sort(key=lambda r: r[0].replace("/", "\0"))  # file order: by path components, as sorted(pathlib paths)
        return found

    def shown_fields(self, path: str) -> dict:
        """TICKET_COLUMNS of a ticket, as its document has them (for clocks that are not plain)."""
        (summary,) = self.db.execute("SELECT summary FROM records WHERE path = ?", (path,)).fetchone()
        values = self._doc("ticket", path, summary)
        return {k: values.get(k) for k in TICKET_COLUMNS}

    def overdue(self, at: datetime, within: timedelta | None = None, kinds: Iterable[str] = (),
                owner: str | None = None, department: str | None = None) -> tuple[list[dict], list[Leftover]]:
        """What `cslog overdue` lists at `at`: (overdue_rows(...), leftovers(at))."""
        return self.overdue_rows(at, within, kinds, owner, department), self.leftovers(at)

    def overdue_rows(self, at: datetime, within: timedelta | None = None, kinds: Iterable[str] = (),
                     owner: str | None = None, department: str | None = None, keys: bool = False,
                     paths: Iterable[str] | None = None, plain: bool | None = None) -> list:
        """The breached clocks, the followups and, with `within`, the running clocks due that soon, of the
        tickets the index answers for at `at` (all but leftovers(at)), as `cslog overdue` rows (slaview.ROW_KEYS)
        exactly as slaview makes them from sla.overdue_items(doc, policy, calendar, at, within); most late
        first, then in order_key order (overdue_order, with dues to the microsecond). Only clocks of `kinds`
        (all when empty), tickets of `owner`/`department`. keys: (order_key, row) pairs. paths, plain: as
        overdue_runs."""
        runs = self.overdue_runs(at, within, kinds, owner, department,
                                 ("id", "clock", "due_text", "priority", "status", "owner", "title", "plain", "path"),
                                 paths, plain)
        rows = []
        append = rows.append
        for run in runs:
            for key, late, rid, kind, due, priority, status, own, title, plain, path in run:
                if not plain:  # a summary field that is not text: the row shows the document's own values
                    shown = self.shown_fields(path)
                    if (owner is not None and shown["owner"] != owner) or (
                            department is not None and shown["department"] != department):
                        continue
                    rid, priority, status, own, title = (shown[k] for k in ("id", "priority", "status", "owner",
                                                                            "title"))
                row = {"id": rid, "kind": kind, "due": due, "overdue_minutes": late, "priority": priority,
                       "status": status, "owner": own, "title": title}
                append((key, row) if keys else row)
        return rows

    def overdue_runs(self, at: datetime, within: timedelta | None, kinds: Iterable[str], owner: str | None,
                     department: str | None, columns: Iterable[str], paths: Iterable[str] | None = None,
                     plain: bool | None = None, owner_w: int = 0) -> tuple[list[tuple], list[tuple], list[tuple]]:
        """The clocks overdue_rows lists, as (order_key, late minutes, *columns) tuples in three runs: late
        (minutes > 0), late 0 (followups not yet due), due soon (< 0); each in order_key order, so that the
        runs one after the other are in overdue_order. No sorting: the rows late at `at` are those whose due,
        so order_key, comes before `at`'s, and they are read in that order.

        columns: of the clocks table, or the pieces put together (see _RUN_COLUMNS; owner_w: the owner
        column's width in tail). paths: only these files' clocks. plain: only the plain (True) or only the
        other (False) clocks. owner and department filter the plain clocks only (the others' fields are not
        in the table: shown_fields has them)."""
        picked = ", ".join(_RUN_COLUMNS[c] for c in columns)
        where, args = self._overdue_where(at, within, kinds, owner, department, paths, plain)
        args.update(owner_w=owner_w, spaces=" " * owner_w)
        args["key"] = (args["at"] + (1 << 63)).to_bytes(8, "big")  # order_key of a clock due at `at`, less
        table = "clocks INDEXED BY clocks_odd" if plain is False else "clocks"  # few, or none
        sql = f"SELECT skey, {_LATE}, {picked} FROM {table} WHERE skey {{}} :key AND {where} ORDER BY skey"
        before = self.db.execute(sql.format("<"), args).fetchall()
        after = self.db.execute(sql.format(">="), args).fetchall()
        return before, [r for r in after if r[1] == 0], [r for r in after if r[1] != 0]

    def overdue_widths(self, at: datetime, within: timedelta | None, kinds: Iterable[str], owner: str | None,
                       department: str | None, paths: Iterable[str] | None = None,
                       usual: tuple[int, int, int] = (0, 0, 0)) -> tuple[int, ...]:
        """Of the plain clocks overdue_runs lists: the widest ID, clock, priority, owner and title cells
        (slaview.row_pieces' id_w, kind_w, prio_w, owner_w, title_w; 0 when there are none), and how many of
        their ID, clock and priority cells are as wide as `usual`."""
        where, args = self._overdue_where(at, within, kinds, owner, department, paths, True)
        args.update(zip(("id_u", "kind_u", "prio_u"), usual))
        found = self.db.execute("SELECT max(id_w), max(kind_w), max(prio_w), max(owner_w), max(title_w), "
                                "total(id_w = :id_u), total(kind_w = :kind_u), total(prio_w = :prio_u) "
                                f"FROM clocks WHERE {where}", args).fetchone()
        return tuple(int(w or 0) for w in found)

    @staticmethod
    def _overdue_where(at: datetime, within: timedelta | None, kinds: Iterable[str], owner: str | None,
                       department: str | None, paths: Iterable[str] | None, plain: bool | None) -> tuple[str, dict]:
        if at.tzinfo is None:
            raise ValueError("'at' must carry a timezone")
        args = {"at": _us(at), "limit": _us(at) - 1 if within is None else _us(at) + within // _US,
                "kinds": json.dumps(sorted(kinds)), "owner": owner, "department": department}
        where = "t0_us <= :at AND (clock = 'followup' OR due_us <= :limit)"
        if kinds:
            where += " AND clock IN (SELECT value FROM json_each(:kinds))"
        if owner is not None:
            where += " AND (plain = 0 OR owner = :owner)"
        if department is not None:
            where += " AND (plain = 0 OR department = :department)"
        if plain is not None:
            where += f" AND plain = {int(plain)}"
        if paths is not None:
            where += " AND path IN (SELECT value FROM json_each(:paths))"
            args["paths"] = json.dumps(sorted(paths))
        return where, args

    def leftovers(self, at: datetime, paths: Iterable[str] | None = None) -> list[Leftover]:
        """The tickets the index cannot answer for at this `at`: compute them from .doc; and the unreadable
        files (.problem). In file order. paths: only these files."""
        rest: dict[str, Leftover] = {}
        wanted = None if paths is None else set(paths)
        sql = ("SELECT t.path, d.doc FROM tickets t JOIN docs d ON d.path = t.path WHERE t.computed = 0 UNION ALL "
               "SELECT t.path, d.doc FROM tickets t JOIN docs d ON d.path = t.path WHERE t.t0_us > ? AND t.computed")
        for path, doc in self.db.execute(sql, (_us(at),)):
            if wanted is None or path in wanted:
                whole = self._doc("ticket", path, doc)
                rest[path] = Leftover(path, {k: whole.get(k) for k in TICKET_COLUMNS}, whole)
        for path, problem in self.problems("ticket"):
            if wanted is None or path in wanted:
                rest[path] = Leftover(path, {}, None, problem)
        return sorted(rest.values(), key=lambda t: t.path.replace("/", "\0"))  # file order

    # -- cslog check --------------------------------------------------------------------------------

    def unchecked(self, key: str) -> set[str]:
        """Files that did not pass every per-file check with their current bytes under this key."""
        return {p for (p,) in self.db.execute(
            "SELECT r.path FROM records r LEFT JOIN checked c ON c.path = r.path "
            "WHERE r.problem IS NOT NULL OR c.key IS NULL OR c.key != r.digest || '|' || ?", (key,))}

    def dangling_references(self) -> list[tuple[str, str, int, str, str]]:
        """References (path, field, position or -1, kind, ID) to no record file of that kind."""
        return self.db.execute(
            "SELECT f.path, f.field, f.pos, f.target, f.ref FROM refs f WHERE NOT EXISTS "
            "(SELECT 1 FROM records r WHERE r.kind = f.target AND r.stem = f.ref)").fetchall()

    def shared_ids(self) -> dict[str, str]:
        """{path: id} of the readable records whose id another readable record holds too."""
        return dict(self.db.execute(
            "SELECT path, id FROM records WHERE id IN (SELECT id FROM records WHERE id IS NOT NULL "
            "GROUP BY id HAVING count(*) > 1)"))

    def holders(self, ids: list[str]) -> dict[str, str]:
        """{path: id} of the readable records holding these ids."""
        out: dict[str, str] = {}
        for chunk in _chunks(ids, 500):
            out.update(self.db.execute(f"SELECT path, id FROM records WHERE id IN ({','.join('?' * len(chunk))})",
                                       chunk))
        return out

    def ids_of(self, paths: list[str]) -> dict[str, str | None]:
        """{path: id} of these files (None: no readable id)."""
        out: dict[str, str | None] = {}
        for chunk in _chunks(paths, 500):
            out.update(self.db.execute(f"SELECT path, id FROM records WHERE path IN ({','.join('?' * len(chunk))})",
                                       chunk))
        return out

    def files_named(self, stem: str) -> list[str]:
        """Record files (any kind) whose name is this ID."""
        return [p for (p,) in self.db.execute("SELECT path FROM records WHERE stem = ?", (stem,))]

    def stems(self) -> dict[str, set[str]]:
        """{kind: names of its record files}: what references resolve against."""
        out: dict[str, set[str]] = {kind: set() for kind in KINDS}
        for kind, stem in self.db.execute("SELECT kind, stem FROM records"):
            out[kind].add(stem)
        return out

    def digest(self, path: str) -> str | None:
        row = self.db.execute("SELECT digest FROM records WHERE path = ?", (path,)).fetchone()
        return row[0] if row else None

    def clean_files(self, key: str, paths: Iterable[str] | None = None) -> dict[str, str]:
        """{path: digest} of the files (all, or these) the last check under this key found clean."""
        suffix = "|" + key
        out = {}
        if paths is None:
            found = self.db.execute("SELECT path, key FROM checked")
        else:
            found = [row for chunk in _chunks(list(paths), 500) for row in self.db.execute(
                f"SELECT path, key FROM checked WHERE path IN ({','.join('?' * len(chunk))})", chunk)]
        for path, stored in found:
            if stored.endswith(suffix):
                out[path] = stored[: -len(suffix)]
        return out

    def mark_clean(self, key: str, digests: dict[str, str], dirty: Iterable[str] = ()) -> None:
        """Remember that these files (path: digest) passed every per-file check under this key."""
        dirty = list(dirty)
        if not digests and not dirty:
            return
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            for chunk in _chunks(dirty, 500):
                db.execute(f"DELETE FROM checked WHERE path IN ({','.join('?' * len(chunk))})", chunk)
            db.executemany("INSERT OR REPLACE INTO checked VALUES (?, ?)",
                           [(p, f"{d}|{key}") for p, d in digests.items()])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.db.close()


def rebuild(store: Store, full: bool = True, warn: Callable[[str], None] | None = None,
            progress: bool | None = None) -> Changes:
    """`cslog reindex`: build the index anew from the files (full), or only bring it up to date."""
    if full:
        path = str(store.root / CACHE_DIR / INDEX_FILE)
        store.guard_path(store.root / CACHE_DIR / INDEX_FILE)
        (store.root / CACHE_DIR).mkdir(exist_ok=True)
        with _IndexLock(path):
            Index._remove(path)
    index = Index.open(store, warn=warn, progress=progress, full_scan=True)
    index.close()
    return index.changes


def _damage(exc: Exception) -> bool:
    """An OperationalError that says the file is damaged (not busy, locked or unreachable)."""
    text = str(exc).lower()
    return not any(word in text for word in ("locked", "busy", "unable to open", "readonly", "disk i/o", "full"))


def _busy(path: str, exc: Exception):
    from cslog.errors import OperationalError

    return OperationalError(f"cannot use the index {path}: {exc}",
                            hint="another cslog may be rebuilding it; try again, or pass --no-cache")


def _unmarshal(blob) -> dict:
    if blob is None:
        return {}
    try:
        value = marshal.loads(blob)
    except (EOFError, ValueError, TypeError):
        raise IndexDamaged("unreadable folder listing") from None
    if not isinstance(value, dict):
        raise IndexDamaged("unreadable folder listing")
    return value


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


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
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
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
