"""A command's change: the repository lock, the record files it writes, and the one commit that says so (or, when
anything fails, the files put back as they were)."""
from __future__ import annotations

import errno
import fcntl
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
                tx.commit_id = store.commit([p for p, _ in tx.changes], tx.message(), actor, now)
        except BaseException:
            tx.rollback()
            raise


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

    def create(self, kind: str, build: Callable[[str], dict], moment: datetime, record_id: str | None = None) -> Any:
        record = self.store.create(kind, build, moment, record_id)
        self.changes.append((record.path, None))
        self.records.append(record.id)
        return record

    def replace(self, record: Any, new_doc: dict) -> Any:
        updated = self.store.replace(record, new_doc)
        if updated.text != record.text:
            self.changes.append((record.path, record.text))
            if record.id not in self.records:
                self.records.append(record.id)
        return updated

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
