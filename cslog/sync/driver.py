"""The merge driver git calls once per record file both sides changed: run_driver and the outcome it returns."""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path

from cslog.errors import UsageError
from cslog.model import KIND_FOLDERS

NOTE_PREFIX = "cslog merge: "
_FOLDER_KIND = {folder: kind for kind, folder in KIND_FOLDERS.items()}
_RECORD_FILE = re.compile(r"\.ya?ml$")


@dataclass
class DriverOutcome:
    exit_code: int
    messages: list[str] = field(default_factory=list)


def kind_of_path(name: str) -> str | None:
    """The record kind of a repository path such as tickets/2026/11/CW202611220001.yaml; None otherwise."""
    parts = Path(name).parts
    if not parts or not _RECORD_FILE.search(parts[-1]):
        return None
    for part in parts[:-1]:
        if part in _FOLDER_KIND:
            return _FOLDER_KIND[part]
    return None


def run_driver(base: Path, ours: Path, theirs: Path, name: str, cwd: Path | None = None) -> DriverOutcome:
    """Git's merge-driver contract: merge into `ours` (%A); 0 when merged. Never writes conflict markers
    into a record: when it cannot merge, `ours` is left as it was and the exit code says so."""
    from cslog.sync import merge

    kind = kind_of_path(name)
    if kind is None:  # not a record (a note beside them): git's own line merge
        proc = subprocess.run(["git", "merge-file", "-L", "ours", "-L", "base", "-L", "theirs",
                               str(ours), str(base), str(theirs)], capture_output=True, text=True)
        return DriverOutcome(min(proc.returncode, 1) if proc.returncode >= 0 else 1,
                             [proc.stderr.strip()] if proc.stderr.strip() else [])
    try:
        texts = [_read(p) for p in (base, ours, theirs)]
    except (OSError, UnicodeDecodeError) as exc:
        return DriverOutcome(1, [f"{NOTE_PREFIX}{name}: cannot read a version: {exc}"])
    tz = _data_timezone(Path(cwd or Path.cwd()) / name)
    try:
        result = merge.merge_texts(kind, texts[0], texts[1], texts[2], tz)
    except merge.NotSameRecord as exc:
        # never one side alone: a `git commit -a` now would lose the other record for good. Both stay in the
        # file, between conflict markers, which every cslog command and `cslog check` refuse to read.
        from cslog.yamlio import write_atomic

        write_atomic(ours, both_sides(texts[1], texts[2]))
        return DriverOutcome(1, [f"{NOTE_PREFIX}{name}: {exc}: an ID collision; both are kept in the file, "
                                 "between conflict markers",
                                 "  run `git merge --abort`, then `cslog sync`: it renumbers the record not yet "
                                 "pushed"])
    except merge.Unmergeable as exc:
        return DriverOutcome(1, [f"{NOTE_PREFIX}{name}: cannot merge: {exc}; our version is left in place"])
    from cslog.store import checked_text
    from cslog.yamlio import write_atomic

    try:
        text = checked_text(kind, result.text, name)
    except UsageError as exc:  # the merge of two valid versions that would not be valid: a person decides
        return DriverOutcome(1, [f"{NOTE_PREFIX}{name}: cannot merge: {exc.message}; our version is left in place"])
    write_atomic(ours, text)
    rid = result.doc.get("id") or Path(name).stem
    return DriverOutcome(0, [f"{NOTE_PREFIX}{rid}: {note}" for note in result.notes])


def both_sides(ours: str, theirs: str) -> str:
    """Two versions of a file between git's conflict markers, whole."""
    def ended(text: str) -> str:
        return text if text.endswith("\n") or not text else text + "\n"

    return f"<<<<<<< ours\n{ended(ours)}=======\n{ended(theirs)}>>>>>>> theirs\n"


def _read(path: Path) -> str:
    text = path.read_bytes().decode("utf-8")
    return text[1:] if text.startswith("\ufeff") else text


def _data_timezone(record_path: Path) -> tzinfo:
    """The data repository's timezone, for hand-written times without an offset."""
    from cslog.timeutil import zone
    from cslog.yamlio import YamlSyntaxError, load_text

    from cslog.defaults import CONFIG_FILE, DEFAULTS

    for folder in record_path.parents:
        config = folder / CONFIG_FILE
        if config.is_file():
            try:
                data = load_text(config.read_text(encoding="utf-8-sig")) or {}
                return zone(str(data.get("timezone") or DEFAULTS["timezone"]))
            except (OSError, YamlSyntaxError, UsageError, AttributeError):
                break
    return zone(DEFAULTS["timezone"])
