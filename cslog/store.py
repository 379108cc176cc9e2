"""The data repository: where records live, reading them, and writing them under a lock, one commit each."""
from __future__ import annotations

import dataclasses
import errno
import fcntl
import json
import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

from cslog import config as config_mod
from cslog import gitrepo
from cslog.errors import ConfigError, LockTimeout, NotFound, OperationalError, UsageError
from cslog.ids import id_format, is_safe
from cslog.model import KIND_FOLDERS, KINDS, SHARDED, kind_label
from cslog.schemas import key_order, modeline, shape_problems
from cslog.yamlio import (TEMP_SUFFIX, YamlSyntaxError, create_exclusive, line_of, load_text, read_text, render,
                          update_text, write_atomic)

CACHE_DIR = ".cslog"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
LOCK_WAIT_SECONDS = 120


@dataclass
class Record:
    kind: str
    id: str
    path: Path
    text: str
    doc: dict


@dataclass
class Store:
    root: Path
    settings: config_mod.Settings
    _git_root: Path | None = field(default=None, repr=False)
    _swept: set = field(default_factory=set, repr=False)  # folders cleared of dead writers' temp files

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
        found_kind, path = self.locate(record_id)
        if kind and found_kind != kind:
            raise UsageError(f"{record_id} is a {kind_label(found_kind, 'en')}, not a {kind_label(kind, 'en')}")
        return self.read_path(found_kind, path)

    def read_path(self, kind: str, path: Path, text: str | None = None) -> Record:
        """The record in a file (its `text` when already read); UsageError saying where it is wrong."""
        if text is None:
            text = read_text(path)
        try:
            doc = load_text(text)
        except YamlSyntaxError as exc:
            raise UsageError(f"{self.rel(path)}:{exc.line or 1}: {exc}",
                             hint="fix the file by hand, then `cslog check` it") from None
        if not isinstance(doc, dict):
            raise UsageError(f"{self.rel(path)}:1: a record must be a mapping of fields")
        shape = shape_problems(doc, kind)
        if shape:  # a field of the wrong type would break whatever reads it: a file to fix, not to act on
            where, message = shape[0]
            raise UsageError(f"{self.rel(path)}:{line_of(text, where) or 1}: {message}",
                             hint="fix the file by hand, then `cslog check` it")
        return Record(kind=kind, id=str(doc.get("id") or path.stem), path=path, text=text, doc=doc)

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

    def iter_records(self, kind: str) -> Iterator[Record]:
        for path in self.record_paths(kind):
            try:
                yield self.read_path(kind, path)
            except UsageError:
                continue  # a broken file never hides the others; `check` reports it

    # --- locking ----------------------------------------------------------------------------------

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One writer at a time per repository; others wait. The kernel frees it if the holder dies."""
        folder = self.root / CACHE_DIR
        self.guard_path(folder / "lock")  # the cache (lock, ids.json) is written too: never through a symlink
        folder.mkdir(exist_ok=True)
        fd = os.open(folder / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + LOCK_WAIT_SECONDS
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise OperationalError(f"cannot lock {folder / 'lock'}: {exc.strerror}") from exc
                    if time.monotonic() > deadline:
                        raise LockTimeout(f"another cslog process has held {folder / 'lock'} for "
                                          f"{LOCK_WAIT_SECONDS}s", hint="see which cslog is still running") from None
                    time.sleep(0.02)
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            yield
        finally:
            os.close(fd)  # closing releases the flock

    # --- writing ----------------------------------------------------------------------------------

    def render_new(self, kind: str, doc: dict) -> str:
        return render(doc, key_order(kind), modeline(kind))

    def render_update(self, record: Record, new_doc: dict) -> str:
        return update_text(record.text, record.doc, new_doc, key_order(record.kind), modeline(record.kind))

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

    def create(self, kind: str, build: Callable[[str], dict], moment: datetime,
               record_id: str | None = None) -> Record:
        """Allocate an ID (unless given), build the record for it and create its file exclusively."""
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
            text = self.render_new(kind, doc)
            if create_exclusive(path, text):
                if series:
                    self._remember(series, seq)
                return Record(kind=kind, id=new_id, path=path, text=text, doc=doc)
            if record_id is not None:
                raise UsageError(f"{new_id} already exists ({self.rel(path)})", hint="choose another ID or leave it out")
            if series:
                self._remember(series, seq)
        raise OperationalError(f"could not allocate a new {kind} ID")

    def replace(self, record: Record, new_doc: dict) -> Record:
        self.guard_path(record.path)
        self.sweep(record.path.parent)
        text = self.render_update(record, new_doc)
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

    @contextmanager
    def transaction(self, op: str, actor: str | None, now: datetime, commit: bool = True) -> Iterator["Transaction"]:
        """Lock, write, commit: all of it or nothing (files written are restored when anything fails)."""
        with self.lock():
            tx = Transaction(self, op)
            try:
                yield tx
                if tx.changes and commit and self.settings.auto_commit:
                    tx.commit_id = self.commit([p for p, _ in tx.changes], tx.message(), actor, now)
            except BaseException:
                tx.rollback()
                raise

    # --- committing -------------------------------------------------------------------------------

    def commit(self, paths: list[Path], message: str, actor: str | None, when: datetime | None) -> str | None:
        if self.git_root is None:
            return None
        rel = [os.path.relpath(p, self.root) for p in paths]
        return gitrepo.commit_paths(self.root, rel, message, actor=actor, when=when)


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


class Transaction:
    """The records one command changes, and the commit that says so."""

    def __init__(self, store: Store, op: str):
        self.store = store
        self.op = op
        self.changes: list[tuple[Path, str | None]] = []  # (path, text before or None when created)
        self.records: list[str] = []
        self.summary = ""
        self.commit_id: str | None = None
        self.notices: list[str] = []  # what the command should tell the user (rules that fired)

    def create(self, kind: str, build: Callable[[str], dict], moment: datetime, record_id: str | None = None) -> Record:
        record = self.store.create(kind, build, moment, record_id)
        self.changes.append((record.path, None))
        self.records.append(record.id)
        return record

    def replace(self, record: Record, new_doc: dict) -> Record:
        updated = self.store.replace(record, new_doc)
        if updated.text != record.text:
            self.changes.append((record.path, record.text))
            if record.id not in self.records:
                self.records.append(record.id)
        return updated

    def message(self) -> str:
        subject = f"cslog: {self.records[0]} {self.summary or self.op}" if self.records else f"cslog: {self.op}"
        # a summary quotes what the user typed: git refuses NUL, and a line break would end the subject
        subject = " ".join(_CONTROL.sub(" ", subject).split())
        trailers = "".join(f"Cslog-Record: {rid}\n" for rid in self.records)
        return f"{subject}\n\n{trailers}Cslog-Op: {self.op}\n"

    def rollback(self) -> None:
        for path, before in reversed(self.changes):
            try:
                if before is None:
                    path.unlink(missing_ok=True)
                else:
                    write_atomic(path, before)
            except OSError:
                pass
