"""What can go wrong: exit codes, operational errors, and problems found in data."""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FOUND = 1  # overdue items, invalid files: the command worked and found something
    USAGE = 2  # the user's input cannot be acted on
    OPERATIONAL = 3  # git failed, disk full, lock not obtained


class CslogError(Exception):
    """An error the user can act on; printed as `error: message` plus an optional hint."""

    exit_code = ExitCode.USAGE

    def __init__(self, message: str, hint: str | None = None, problems: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.problems = list(problems) if problems else [message]  # each on its own (the editor's lines)

    def __str__(self) -> str:
        return self.message


class UsageError(CslogError):
    """A bad value, a missing flag, a refused action."""


class NotFound(CslogError):
    """An unknown ID or a missing repository."""


class Refused(CslogError):
    """The workflow or a privacy rule does not allow this action."""


class ConfigError(CslogError):
    """cslog.yaml is damaged or holds a bad value."""


class OperationalError(CslogError):
    exit_code = ExitCode.OPERATIONAL


def cannot_write(path: object, exc: OSError) -> OperationalError:
    """A write refused by the file system: a read-only repository (a mounted backup) is said as such."""
    import errno

    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OperationalError(f"cannot write {path}: {exc.strerror}: this repository is read-only here",
                                hint="reading works as it is (list, show, overdue, report, check); "
                                     "to change records, use a writable clone")
    return OperationalError(f"cannot write {path}: {exc.strerror}")


class GitError(OperationalError):
    """git failed."""


class LockTimeout(OperationalError):
    """Another cslog process held the repository lock for too long."""


@dataclass(frozen=True)
class Problem:
    """A problem in one file, with where it is: printed as `path:line: message`."""

    path: str
    line: int | None
    message: str
    code: str = "invalid"
    field: str | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line or 1}: {self.message}"

    def to_dict(self) -> dict:
        return {"path": self.path, "line": self.line or 1, "code": self.code,
                "field": self.field, "message": self.message}
