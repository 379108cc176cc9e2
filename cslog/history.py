"""A record's history from git: every commit that touched its file, and what each changed, field by field."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from cslog import gitrepo
from cslog.errors import NotFound
from cslog.store import Store
from cslog.yamlio import YamlSyntaxError, load_text

_RS, _US = "\x1e", "\x1f"


@dataclass(frozen=True)
class Change:
    """One field's value before and after a commit (None: absent); nested fields as `satisfaction.score`."""

    field: str
    old: Any
    new: Any


@dataclass
class Entry:
    """One commit of the record's file, oldest first; `events` are the timeline entries it appended."""

    commit: str
    date: str
    author: str
    subject: str
    changes: list[Change] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    problem: str | None = None  # the file could not be read as YAML at this commit

    def to_dict(self) -> dict:
        return asdict(self)


def history(store: Store, record_id: str) -> list[Entry]:
    """The commits of the record's file (following renames), oldest first, each with its changes."""
    _kind, path = store.locate(record_id)
    if store.git_root is None:
        raise NotFound(f"{store.root} is not in a git repository: there is no history to show")
    rel = str(path.relative_to(store.root))
    log = gitrepo.run(store.root, "log", "--follow", "--name-only", f"--format={_RS}%H{_US}%aI{_US}%an{_US}%s",
                      "--", rel).stdout
    commits = []
    for chunk in log.split(_RS)[1:]:
        header, _, names = chunk.partition("\n")
        sha, date, author, subject = header.split(_US, 3)
        files = [n for n in names.splitlines() if n.strip()]
        commits.append((sha, date, author, subject, files[0] if files else None))
    commits.reverse()
    entries: list[Entry] = []
    previous: dict = {}
    last_path = None
    for sha, date, author, subject, name in commits:
        name = name or last_path or rel
        last_path = name
        entry = Entry(commit=sha, date=date, author=author, subject=subject)
        shown = gitrepo.run(store.root, "show", f"{sha}:{name}", check=False)
        if shown.returncode != 0:
            doc: dict = {}  # the file was deleted (or renamed away) by this commit
        else:
            try:
                loaded = load_text(shown.stdout)
            except YamlSyntaxError as exc:
                entry.problem = f"not readable as YAML at this commit (line {exc.line or 1}): {exc}"
                entries.append(entry)
                continue
            doc = loaded if isinstance(loaded, dict) else {}
        entry.changes, entry.events = compare(previous, doc)
        entries.append(entry)
        previous = doc
    return entries


def compare(old: dict, new: dict) -> tuple[list[Change], list[dict]]:
    """Field changes from `old` to `new`, in the new document's order; timeline entries appended are
    returned apart, as events, and only entries edited or removed show as `timeline[i]` changes."""
    changes: list[Change] = []
    events: list[dict] = []
    keys = list(new) + [k for k in old if k not in new]
    for key in keys:
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if key == "timeline" and isinstance(after, list) and isinstance(before, (list, type(None))):
            before = before or []
            for i in range(max(len(before), len(after))):
                if i >= len(before):
                    events.append(after[i])
                elif i >= len(after):
                    changes.append(Change(f"timeline[{i}]", before[i], None))
                elif before[i] != after[i]:
                    changes.append(Change(f"timeline[{i}]", before[i], after[i]))
            continue
        changes.extend(_diff(str(key), before, after))
    return changes, events


def _diff(name: str, before: Any, after: Any) -> list[Change]:
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key in list(after) + [k for k in before if k not in after]:
            if before.get(key) != after.get(key):
                out.extend(_diff(f"{name}.{key}", before.get(key), after.get(key)))
        return out
    return [Change(name, before, after)]
