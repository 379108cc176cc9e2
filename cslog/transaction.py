"""A command's change: the repository lock, the record files it writes, and the one commit that says so (or, when
anything fails, the files put back as they were).

A writer killed mid-way (kill -9, a power cut) cannot put anything back itself. So every write is first noted in
a journal (.cslog/journal: the file, its text before, a digest of its text after), and whoever takes the lock
next puts back what the dead writer left uncommitted (`recover`), before doing anything else. What the dead
writer committed stays; a file changed again since is left alone and named."""
from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

from cslog.errors import LockTimeout, OperationalError, UsageError, cannot_write
from cslog.model import CACHE_DIR
from cslog.yamlio import write_atomic

# The store and its records are cslog.store's Store and Record (store uses this module: not imported here).

LOCK_WAIT_SECONDS = 120
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


@contextmanager
def repository_lock(store: Any) -> Iterator[None]:
    """One writer at a time per repository; others wait. The kernel frees it if the holder dies."""
    folder = store.root / CACHE_DIR
    store.guard_path(folder / "lock")  # the cache (lock, ids.json) is written too: never through a symlink
    try:
        folder.mkdir(exist_ok=True)
        fd = os.open(folder / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise cannot_write(folder / "lock", exc) from None
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
        recover(store)
        yield
    finally:
        os.close(fd)  # closing releases the flock


@contextmanager
def transaction(store: Any, op: str, actor: str | None, now: datetime, commit: bool = True
                ) -> Iterator["Transaction"]:
    """Lock, write, commit: all of it or nothing (files written are restored when anything fails). Nothing is
    written while a git operation waits in the clone (a rebase --abort would take the change away)."""
    refuse_during_git_operation(store)
    with repository_lock(store):
        tx = Transaction(store, op)
        try:
            yield tx
            if tx.changes and commit and store.settings.auto_commit:
                tx.commit_id = store.commit([p for p, _ in tx.changes], tx.message(), actor, now, tx.committed)
                if tx.commit_id is not None:
                    from cslog.mergedriver import ensure_driver

                    ensure_driver(store.root)
        except BaseException:
            if tx.commit_id is None:  # (a post-commit hook interrupted: the commit stands, and so do the files)
                tx.rollback()
            raise
        finally:
            tx.journal.close()


class Journal:
    """The writes of the lock's holder, each noted before it is made (see the module's docstring)."""

    def __init__(self, store: Any, op: str = ""):
        self.root = store.root
        self.path = store.root / CACHE_DIR / JOURNAL
        self.op = op
        self.out = None

    def note(self, path: Path, before: str | None, after: str | bytes | None) -> None:
        """About to turn `path` from `before` (None: absent) into `after` (None: removed; bytes: a file that is
        not a record, such as an attachment, which is only ever created)."""
        if self.out is None:
            self.out = open(self.path, "a", encoding="utf-8")
            self.out.write(json.dumps({"op": self.op}, ensure_ascii=False) + "\n")
        entry = {"path": os.path.relpath(path, self.root), "before": before, "after": _digest(after)}
        self._line(entry)

    def committed(self, commit: str) -> None:
        """The commit holds every write noted: from now on nothing is to be put back."""
        if self.out is not None:
            self._line({"committed": commit})

    def _line(self, entry: dict) -> None:
        self.out.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.out.flush()
        os.fsync(self.out.fileno())  # before the write it announces: a power cut too leaves it behind

    def close(self) -> None:
        """Done: committed, rolled back, or (--no-commit) meant to stay as written."""
        if self.out is not None:
            self.out.close()
            self.out = None
            self.path.unlink(missing_ok=True)


JOURNAL = "journal"


def recover(store: Any, quiet: bool = False) -> list[str]:
    """Under the lock: put back what a killed writer's journal says it wrote and did not commit, newest first;
    the paths put back. What it does is said on stderr (store.tell)."""
    path = store.root / CACHE_DIR / JOURNAL
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, UnicodeDecodeError):
        return []
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except ValueError:  # the last line, cut short by the kill: its write was never made
            pass
    if any("committed" in e for e in entries):  # killed after its commit: what it wrote stands
        path.unlink(missing_ok=True)
        return []
    op = next((str(e["op"]) for e in entries if e.get("op")), "")
    who = f"`cslog {op}`" if op else "a cslog command"
    entries = [e for e in entries if "path" in e]
    committed: set[str] = set()
    if entries and store.git_root is not None:
        from cslog import gitrepo

        if gitrepo.head(store.root):  # (killed between its commit and saying so in the journal)
            committed = gitrepo.same_as_head(store.root, sorted({e["path"] for e in entries}))
    undone: list[str] = []
    settled: set[str] = set()  # committed, or changed since: earlier entries of the path stay as they are
    changed: list[str] = []
    for entry in reversed(entries):
        rel = entry["path"]
        current = _current(store.root / rel)
        if rel in settled or _digest_bytes(current) == _digest(entry["before"]):
            continue  # never written, or already put back
        if _digest_bytes(current) != entry["after"] or rel in committed:
            settled.add(rel)
            if _digest_bytes(current) != entry["after"]:
                changed.append(rel)
            continue
        if entry["before"] is None:
            (store.root / rel).unlink(missing_ok=True)
        else:
            write_atomic(store.root / rel, entry["before"])
        undone.append(rel)
    path.unlink(missing_ok=True)
    undone = sorted(set(undone))
    if undone and not quiet:
        store.tell(f"cslog: {who} was killed before its commit; what it had written is put back "
                   f"({len(undone)} file(s): {', '.join(undone[:5])}{' ...' if len(undone) > 5 else ''})")
    if changed:
        store.tell(f"cslog: {who} was killed before its commit; these files it wrote were changed "
                   f"again since and are left as they are: {', '.join(sorted(changed))}")
    return undone


def recover_now(store: Any) -> None:
    """Put back what a killed writer left uncommitted, now (the next writer would do it as it takes the lock;
    a command that reads the repository before it writes, such as import's plan, asks first)."""
    with repository_lock(store):
        pass  # (repository_lock recovers as it is taken)


def _current(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _digest(text: str | bytes | None) -> str | None:
    return None if text is None else _digest_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))


def _digest_bytes(data: bytes | None) -> str | None:
    if data is None:
        return None
    import hashlib

    return hashlib.sha1(data).hexdigest()


def refuse_during_git_operation(store: Any) -> None:
    """UsageError while a merge, rebase, cherry-pick, revert, am or bisect is stopped half-way in the clone."""
    top = store.git_root
    if top is None:
        return
    from cslog import gitrepo

    stopped = gitrepo.unfinished(store.root, top)
    if stopped is not None:
        raise UsageError(f"{stopped[0]} is in progress in this clone: a change made now would be lost or mixed "
                         "into it; nothing was written",
                         hint=f"finish it, or undo it with `{stopped[1]}`; then run the command again")


class Transaction:
    """The records one command changes, and the commit that says so."""

    def __init__(self, store: Any, op: str):
        self.store = store
        self.op = op
        self.changes: list[tuple[Path, str | None]] = []  # (path, text before or None when created)
        self.records: list[str] = []
        self.summary = ""
        self.commit_id: str | None = None
        self.notices: list[str] = []  # what the command should tell the user (rules that fired)
        self.journal = Journal(store, op)

    def create(self, kind: str, build: Callable[[str], dict], moment: datetime, record_id: str | None = None) -> Any:
        record = self.store.create(kind, build, moment, record_id, on_write=self.journal.note)
        self.changes.append((record.path, None))
        self.records.append(record.id)
        return record

    def write_file(self, path: Path, before: str | None, data: str | bytes) -> None:
        """A file that is not a record, in the same change and commit: the handbook, a rewritten record
        (check --fix), an attachment (bytes: only ever created). Noted in the journal first, put back on failure."""
        self.store.guard_path(path)
        self.journal.note(path, before, data)
        self.changes.append((path, before))
        if isinstance(data, str):
            write_atomic(path, data)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())

    def replace(self, record: Any, new_doc: dict) -> Any:
        updated = self.store.replace(record, new_doc, on_write=self.journal.note)
        if updated.text != record.text:
            self.changes.append((record.path, record.text))
            if record.id not in self.records:
                self.records.append(record.id)
        return updated

    def committed(self, commit: str) -> None:
        """The commit is made (said before the post-commit hook runs: nothing may roll it back after this)."""
        self.commit_id = commit
        self.journal.committed(commit)

    def message(self) -> str:
        subject = (f"cslog: {self.records[0]} {self.summary or self.op}" if self.records
                   else f"cslog: {self.summary or self.op}")
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
