"""The data repository and its one gate: where records live, reading them (load: every reader's one way in)
and writing them (every write checked against the schema before the rename), under a lock, one commit each.

The gate, for every record file whoever reads it (a command, the index, `cslog check`, sync):
- the bytes must be UTF-8 YAML without conflict markers, a mapping of fields;
- enum fields may hold a code, a label or an alias (`priority: 紧急`, what a hand edit writes): they are read
  as the code (the file is then not canonical: `cslog check` says so, `cslog check --fix` rewrites it);
- the document must then pass its JSON Schema, and its times must be real moments.
A record that fails is never read with defaults: `load` says why, with the line, and the caller leaves it
out (reading commands, with a warning) or refuses to act on it (`read`: exit 2).
"""
from __future__ import annotations

import copy
import dataclasses
import json
import os
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

from cslog import config as config_mod
from cslog import gitrepo, schemas
from cslog.errors import ConfigError, NotFound, OperationalError, Problem, UsageError
from cslog.ids import id_format, is_safe
from cslog.model import CACHE_DIR, ENUMS, EVENT_MOVES, KIND_FOLDERS, KINDS, SHARDED, inconsistencies, kind_label
from cslog.yamlio import (TEMP_SUFFIX, YamlSyntaxError, create_exclusive, line_of, load_text, render, update_text,
                          write_atomic)

HOLIDAYS_FILE = "holidays.json"  # in CACHE_DIR: the country's holidays by year (calendar.HolidayData)
_CONFLICT = re.compile(r"^(<{7}|={7}|>{7}|\|{7})( |$)", re.M)
FIX_HINT = "fix the file by hand, then `cslog check` it (`cslog check --fix` rewrites labels as codes)"


@dataclass
class Record:
    kind: str
    id: str
    path: Path
    text: str
    doc: dict  # through the gate: enum fields hold codes
    original: dict | None = field(default=None, repr=False)  # as the file has it, when labels were read as codes

    @property
    def as_written(self) -> dict:
        return self.doc if self.original is None else self.original


# -- the gate ---------------------------------------------------------------------------------------------

@dataclass
class Loaded:
    """What the gate made of one record file: the document (None unless it passed), every problem found,
    and the labels it read as codes ((path, label, code): the file is not canonical)."""

    kind: str
    rel: str
    text: str = ""
    doc: dict | None = None
    problems: list[Problem] = field(default_factory=list)
    relabelled: list[tuple[tuple, str, str]] = field(default_factory=list)
    original: dict | None = None  # the document as written, when labels were read as codes

    @property
    def ok(self) -> bool:
        return self.doc is not None


def load(kind: str, rel: str, raw: bytes | str) -> Loaded:
    """The one way a record file is read: its bytes (or text) through the gate. Never raises for bad data."""
    item = Loaded(kind=kind, rel=rel)
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            item.problems.append(Problem(rel, None, f"not UTF-8 text (byte {exc.start}); save the file as UTF-8",
                                         code="encoding"))
            return item
    text = item.text = raw[1:] if raw.startswith("\ufeff") else raw
    marker = _CONFLICT.search(text)
    if marker:
        item.problems.append(Problem(rel, text.count("\n", 0, marker.start()) + 1,
                                     "git conflict markers: finish the merge (keep one side, or run `cslog sync`)",
                                     code="conflict"))
        return item
    try:
        doc = load_text(text)
    except YamlSyntaxError as exc:
        item.problems.append(Problem(rel, exc.line, str(exc), code="yaml"))
        return item
    if not isinstance(doc, dict):
        item.problems.append(Problem(rel, 1, "a record must be a mapping of fields (name: value)", code="yaml"))
        return item
    coded, item.relabelled = to_codes(kind, doc)
    if schemas.is_valid(coded, kind):
        broken = inconsistencies(kind, coded)  # (fields that contradict each other: actions only)
        if not broken:
            item.doc = coded
            item.original = doc if item.relabelled else None
            return item
        found, code = broken, "rule"
    else:
        found, code = schemas.validate(coded, kind), "schema"
    for path, message in found:
        item.problems.append(Problem(rel, line_of(text, path), message, code=code,
                                     field=".".join(str(p) for p in path) or None))
    return item


def to_codes(kind: str, doc: dict) -> tuple[dict, list[tuple[tuple, str, str]]]:
    """The document with every label or alias in an enum field read as its code (a copy, when any is), and
    what was read so. A value that is no word of its enum is left as it is: the schema says what is wrong."""
    found: list[tuple[tuple, str, str]] = []
    for field_path, key in schemas.enum_fields(kind):
        enum = ENUMS.get(key)
        if enum is not None:
            for path, value in schemas.values_at(doc, field_path):
                code = enum.code(value)
                if code is not None and code != value:
                    found.append((path, value, code))
    if kind == "ticket":
        for i, event in enumerate(doc.get("timeline") or ()):
            kind_of = event.get("kind") if isinstance(event, dict) else None
            enum = EVENT_MOVES.get(kind_of) if isinstance(kind_of, str) else None
            for end in ("from", "to") if enum else ():
                code = enum.code(event.get(end))
                if code is not None and code != event[end]:
                    found.append((("timeline", i, end), event[end], code))
    if not found:
        return doc, found
    doc = copy.deepcopy(doc)
    for path, _label, code in found:
        target = doc
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = code
    return doc, found


def checked_text(kind: str, text: str, where: str) -> str:
    """`text` when it is a record of this kind that passes the gate as it is (no labels to read as codes);
    else UsageError saying what is wrong: the last look before a record file is written."""
    item = load(kind, where, text)
    if not item.ok or item.relabelled:
        first = item.problems[0] if item.problems else Problem(where, None, "enum fields must hold codes")
        raise UsageError(f"refusing to write {where}: line {first.line or 1}: {first.message}",
                         hint="the record would not pass its schema (schemas/" + schemas.SCHEMA_FILES[kind] + ")")
    return text


@dataclass
class Store:
    root: Path
    settings: config_mod.Settings
    _git_root: Path | None = field(default=None, repr=False)
    _swept: set = field(default_factory=set, repr=False)  # folders cleared of dead writers' temp files
    _policy: object = field(default=None, repr=False)
    _calendar: object = field(default=None, repr=False)
    tell: Callable[[str], None] = field(default=lambda text: print(text, file=sys.stderr), repr=False)  # rare news

    # --- finding the repository -----------------------------------------------------------------

    @classmethod
    def discover(cls, explicit: str | None = None, start: Path | None = None) -> "Store":
        """`-C DIR`, else $CSLOG_REPO, else the nearest parent folder holding cslog.yaml."""
        return cls.open(cls.find_root(explicit, start))

    @staticmethod
    def find_root(explicit: str | None = None, start: Path | None = None) -> Path:
        if explicit:
            root = Path(explicit).expanduser()
            if not (root / config_mod.CONFIG_FILE).is_file():
                raise NotFound(f"no cslog repository at {root} (no {config_mod.CONFIG_FILE} there)",
                               hint="create one with `cslog init DIR`, or pass the right folder to -C")
            return root
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / config_mod.CONFIG_FILE).is_file():
                return folder
        raise NotFound(f"no cslog repository here ({here} and its parents have no {config_mod.CONFIG_FILE})",
                       hint="run `cslog init DIR` to create one, or use -C DIR / $CSLOG_REPO")

    @classmethod
    def open(cls, root: Path) -> "Store":
        root = root.resolve()
        settings = config_mod.load(root / config_mod.CONFIG_FILE)
        if not settings.station and any("{station" in f for f in settings.ids.values()):
            settings = dataclasses.replace(settings, station=local_station(root))
        return cls(root=root, settings=settings)

    @property
    def where(self) -> Path:
        """The repository's cslog.yaml (where configuration messages point)."""
        return self.root / config_mod.CONFIG_FILE

    def policy(self):
        """The SLA policy of cslog.yaml (sla.SlaPolicy)."""
        if self._policy is None:
            self._policy = self.settings.policy(self.where)
        return self._policy

    def calendar(self):
        """The working calendar of cslog.yaml (calendar.WorkCalendar), the country's holidays cached in
        .cslog/ (read-only repositories: not cached)."""
        if self._calendar is None:
            folder = self.root / CACHE_DIR
            cache = str(folder / HOLIDAYS_FILE) if os.access(folder, os.W_OK) else None
            self._calendar = self.settings.work_calendar(cache, self.where)
        return self._calendar

    @property
    def git_root(self) -> Path | None:
        if self._git_root is None:
            self._git_root = gitrepo.toplevel(self.root)
        return self._git_root

    # --- IDs and paths ----------------------------------------------------------------------------

    def id_format(self, kind: str):
        return id_format(self.settings.ids[kind])

    def kind_of(self, record_id: str) -> str | None:
        for kind in KINDS:
            if self.id_format(kind).parse(record_id):
                return kind
        return None

    def path_for(self, kind: str, record_id: str, created: datetime | None = None) -> Path:
        check_id(record_id)
        folder = self.root / KIND_FOLDERS[kind]
        if kind not in SHARDED:
            return folder / f"{record_id}.yaml"
        parsed = self.id_format(kind).parse(record_id)
        day = parsed.day if parsed and parsed.day else (created.date() if created else None)
        if day is None:
            raise UsageError(f"cannot tell the month folder of {record_id}")
        return folder / f"{day:%Y}" / f"{day:%m}" / f"{record_id}.yaml"

    def locate(self, record_id: str) -> tuple[str, Path]:
        """The kind and file of an existing record; NotFound otherwise."""
        check_id(record_id)
        kind = self.kind_of(record_id)
        kinds = [kind] if kind else list(KINDS)
        for k in kinds:
            parsed = self.id_format(k).parse(record_id)
            if k not in SHARDED or (parsed and parsed.day):
                try:
                    path = self.path_for(k, record_id)
                except UsageError:
                    path = None
                if path is not None and path.is_file():
                    return k, path
            else:
                for path in (self.root / KIND_FOLDERS[k]).glob(f"*/*/{record_id}.yaml"):
                    return k, path
        raise NotFound(f"unknown ID {record_id}: no such record in {self.root}",
                       hint="`cslog list` shows the records; IDs look like "
                            + ", ".join(self.settings.ids[k].split("{")[0] + "…" for k in KINDS))

    def read(self, record_id: str, kind: str | None = None) -> Record:
        """A record to act on; UsageError (exit 2) when it does not pass the gate."""
        found_kind, path = self.locate(record_id)
        if kind and found_kind != kind:
            a = {k: ("an " if k == "action" else "a ") + kind_label(k, "en") for k in (found_kind, kind)}
            raise UsageError(f"{record_id} is {a[found_kind]}, not {a[kind]}")
        return self.read_path(found_kind, path)

    def load(self, kind: str, path: Path) -> Loaded:
        """The gate's word on one file (see load); an unreadable file is a problem too."""
        rel = self.rel(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            return Loaded(kind, rel, problems=[Problem(rel, None, f"cannot read: {exc.strerror}", code="io")])
        return load(kind, rel, raw)

    def read_path(self, kind: str, path: Path) -> Record:
        """The record in a file; UsageError saying where it is wrong when it does not pass the gate."""
        item = self.load(kind, path)
        if not item.ok:
            raise UsageError(str(item.problems[0]) + _more(item.problems), hint=FIX_HINT)
        doc = item.doc
        return Record(kind=kind, id=str(doc.get("id") or path.stem), path=path, text=item.text, doc=doc,
                      original=item.original)

    def rel(self, path: Path) -> str:
        try:
            return os.path.relpath(path, self.root)
        except ValueError:
            return str(path)

    def record_paths(self, kind: str) -> list[Path]:
        """Every record file of a kind, in ID order within each month (cheap: directory listings only)."""
        folder = self.root / KIND_FOLDERS[kind]
        if not folder.is_dir():
            return []
        pattern = "*/*/*.yaml" if kind in SHARDED else "*.yaml"
        return sorted(p for p in folder.glob(pattern) if not p.name.startswith("."))

    def years(self, kind: str) -> set[int]:
        """The years that have a folder of records of a (sharded) kind: one directory listing."""
        folder = self.root / KIND_FOLDERS[kind]
        if kind not in SHARDED or not folder.is_dir():
            return set()
        return {int(p.name) for p in folder.iterdir() if p.name.isdigit() and len(p.name) == 4 and p.is_dir()}

    def iter_records(self, kind: str, warn: Callable[[Problem], None] | None = None) -> Iterator[Record]:
        """Every record of a kind that passes the gate; the others go to warn (a broken file never hides the
        others; `cslog check` says everything that is wrong with it)."""
        for path in self.record_paths(kind):
            item = self.load(kind, path)
            if item.ok:
                yield Record(kind=kind, id=str(item.doc.get("id") or path.stem), path=path, text=item.text,
                             doc=item.doc, original=item.original)
            elif warn is not None:
                warn(item.problems[0])

    # --- locking ----------------------------------------------------------------------------------

    def lock(self):
        """One writer at a time per repository; others wait (transaction.repository_lock)."""
        from cslog.transaction import repository_lock

        return repository_lock(self)

    # --- writing ----------------------------------------------------------------------------------

    def render_new(self, kind: str, doc: dict, path: Path) -> str:
        """A new record's file text, checked by the gate before it may be written."""
        text = render(doc, schemas.key_order(kind), schemas.modeline(kind))
        return checked_text(kind, text, self.rel(path))

    def render_update(self, record: Record, new_doc: dict) -> str:
        """A record's new file text: unchanged fields keep their lines (fields whose labels were read as codes
        are written anew, as codes); checked by the gate before it may be written."""
        text = update_text(record.text, record.as_written, new_doc, schemas.key_order(record.kind),
                           schemas.modeline(record.kind))
        return checked_text(record.kind, text, self.rel(record.path))

    def next_seq(self, kind: str, moment: datetime) -> tuple[str, int]:
        """The next free sequence number for IDs made now; call under the lock."""
        fmt = self.id_format(kind)
        station = self.settings.station
        series = f"{kind}:{moment:%Y%m%d}:{station}" if fmt.has_date else f"{kind}::{station}"
        if fmt.has_date and kind in SHARDED:
            folder = self.root / KIND_FOLDERS[kind] / f"{moment:%Y}" / f"{moment:%m}"
            try:  # (a listing, not a glob: this month may hold thousands of tickets)
                names = [n[:-5] for n in os.listdir(folder) if n.endswith(".yaml")]
            except (FileNotFoundError, NotADirectoryError):
                names = []
        elif kind in SHARDED:
            names = [p.stem for p in (self.root / KIND_FOLDERS[kind]).glob("*/*/*.yaml")]
        else:
            names = [p.stem for p in (self.root / KIND_FOLDERS[kind]).glob("*.yaml")]
        best = 0
        for name in names:
            parsed = fmt.parse(name)
            if parsed and parsed.station == station and (not fmt.has_date or parsed.day == moment.date()):
                best = max(best, parsed.seq)
        marks = self._high_water()
        best = max(best, marks.get(series, 0))
        return series, best + 1

    def _high_water(self) -> dict:
        try:
            return json.loads((self.root / CACHE_DIR / "ids.json").read_text())
        except (OSError, ValueError):
            return {}

    def _remember(self, series: str, seq: int) -> None:
        marks = self._high_water()
        if marks.get(series, 0) < seq:
            marks[series] = seq
            write_atomic(self.root / CACHE_DIR / "ids.json", json.dumps(marks, sort_keys=True))

    def create(self, kind: str, build: Callable[[str], dict], moment: datetime, record_id: str | None = None,
               on_write: Callable[[Path, str | None, str], None] | None = None) -> Record:
        """Allocate an ID (unless given), build the record for it and create its file exclusively (on_write
        hears of it first: the transaction's journal)."""
        fmt = self.id_format(kind)
        for _ in range(1000):
            series = None
            if record_id is None:
                series, seq = self.next_seq(kind, moment)
                try:
                    new_id = fmt.render(seq, moment, self.settings.station)
                except ValueError as exc:
                    raise ConfigError(str(exc)) from None
            else:
                new_id = record_id
            doc = build(new_id)
            path = self.path_for(kind, new_id, moment)
            self.guard_path(path)
            self.sweep(path.parent)
            text = self.render_new(kind, doc, path)
            if on_write is not None:
                on_write(path, None, text)
            if create_exclusive(path, text):
                if series:
                    self._remember(series, seq)
                return Record(kind=kind, id=new_id, path=path, text=text, doc=doc)
            if record_id is not None:
                raise UsageError(f"{new_id} already exists ({self.rel(path)})", hint="choose another ID or leave it out")
            if series:
                self._remember(series, seq)
        raise OperationalError(f"could not allocate a new {kind} ID")

    def replace(self, record: Record, new_doc: dict,
                on_write: Callable[[Path, str | None, str], None] | None = None) -> Record:
        self.guard_path(record.path)
        self.sweep(record.path.parent)
        text = self.render_update(record, new_doc)
        if on_write is not None and text != record.text:
            on_write(record.path, record.text, text)
        write_atomic(record.path, text)
        return Record(kind=record.kind, id=record.id, path=record.path, text=text, doc=new_doc)

    def sweep(self, folder: Path | None) -> None:
        """Remove the temp files that writers killed mid-write left in a folder about to be written.

        Called under the lock, so no live cslog writes here; a file is removed only when the process
        named in it (.NAME.PID.RANDOM.cslog-tmp) is gone. Once per folder per command."""
        if folder is None or folder in self._swept:
            return
        self._swept.add(folder)
        try:
            names = [n for n in os.listdir(folder) if n.endswith(TEMP_SUFFIX)]
        except OSError:
            return
        for name in names:
            parts = name.rsplit(".", 3)
            if len(parts) == 4 and parts[1].isdigit() and not pid_alive(int(parts[1])):
                try:
                    os.unlink(folder / name)
                except OSError:
                    pass

    def guard_path(self, path: Path) -> None:
        """Never write outside the repository, whatever symlinks inside it say."""
        real_root = os.path.realpath(self.root)
        real_parent = os.path.realpath(path.parent)
        if os.path.commonpath([real_root, real_parent]) != real_root or (path.is_symlink()):
            raise UsageError(f"refusing to write {self.rel(path)}: it leads outside the repository (symlink)")

    def peek_id(self, kind: str, moment: datetime) -> str:
        """The ID the next `create` of this kind would get; only meaningful under the lock."""
        _series, seq = self.next_seq(kind, moment)
        try:
            return self.id_format(kind).render(seq, moment, self.settings.station)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    def transaction(self, op: str, actor: str | None, now: datetime, commit: bool = True):
        """Lock, write, commit: all of it or nothing (transaction.Transaction)."""
        from cslog.transaction import transaction

        return transaction(self, op, actor, now, commit)

    # --- committing -------------------------------------------------------------------------------

    def commit(self, paths: list[Path], message: str, actor: str | None, when: datetime | None,
               committed: Callable[[str], None] | None = None) -> str | None:
        if self.git_root is None:
            return None
        rel = [os.path.relpath(p, self.root) for p in paths]
        return gitrepo.commit_paths(self.root, rel, message, actor=actor, when=when, committed=committed)


def check_id(record_id: str) -> None:
    if not is_safe(record_id):
        raise UsageError(f"invalid ID {record_id!r}: IDs are letters, digits, '-' and '_' (e.g. CW202611220001)")


def local_station(root: Path) -> str:
    """A clone's own station code lives in the clone's git config, never in the shared cslog.yaml."""
    return gitrepo.config_value(root, "cslog.station") if gitrepo.toplevel(root) else ""


def is_temp_file(path: Path) -> bool:
    return path.name.endswith(TEMP_SUFFIX)


def pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process: alive
    return True


def _more(problems: list[Problem]) -> str:
    return f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
