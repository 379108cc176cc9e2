"""Setting a clone up (`cslog setup-git`): merge driver in .git/config, .gitattributes, pre-commit hook, station."""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cslog import gitrepo
from cslog.mergedriver import DRIVER, install_driver
from cslog.errors import UsageError
from cslog.githooks import OWN_HOOK_MARK
from cslog.model import KIND_FOLDERS, KINDS

if TYPE_CHECKING:
    from cslog.store import Store

RECORD_FOLDERS = tuple(KIND_FOLDERS[k] for k in KINDS)
ATTRIBUTE_LINES = [f"{folder}/** merge={DRIVER}" for folder in RECORD_FOLDERS]
ATTRIBUTES_HEADER = "# cslog: record files merge through `cslog merge-driver` (installed by `cslog setup-git`)"


def write_attributes(root: Path) -> bool:
    """Make `.gitattributes` route the record folders to the driver; True when the file changed."""
    path = root / ".gitattributes"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = text.splitlines()
    missing = [line for line in ATTRIBUTE_LINES if line not in [x.strip() for x in lines]]
    if not missing:
        return False
    from cslog.yamlio import write_atomic

    if lines and lines[-1].strip():
        lines.append("")
    if ATTRIBUTES_HEADER not in lines:
        lines.append(ATTRIBUTES_HEADER)
    write_atomic(path, "\n".join(lines + missing) + "\n")
    return True


def attributes_ok(root: Path) -> bool:
    path = root / ".gitattributes"
    lines = [x.strip() for x in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
    return all(line in lines for line in ATTRIBUTE_LINES)


def hook_text(root: Path) -> str:
    return f'''#!{sys.executable}
# {OWN_HOOK_MARK}: `cslog check` on the record files this commit adds or changes
# (as they are in the work tree). Remove this file to stop it.
import os, re, subprocess, sys
top = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True).stdout.strip()
root = os.path.join(top, {_prefix(root)!r})
names = subprocess.run(["git", "diff", "--cached", "--name-only", "--diff-filter=ACMR", "-z"], cwd=top,
                       capture_output=True, text=True, check=True).stdout.split("\\0")
wanted = re.compile(r"(^|/)({"|".join(RECORD_FOLDERS)})/.*\\.ya?ml$")
files = [os.path.join(top, n) for n in names if n and wanted.search(n)]
if files:
    sys.exit(subprocess.call([sys.executable, "-m", "cslog", "-C", root, "check", *files]))
'''


def install_hook(root: Path) -> Path:
    hooks = _git_path(root, "hooks")
    path = hooks / "pre-commit"
    if path.exists() and OWN_HOOK_MARK not in path.read_text(encoding="utf-8", errors="replace"):
        raise UsageError(f"{path} exists and is not cslog's; cslog leaves it alone",
                         hint="add `cslog check` to it yourself, or use pre-commit with the cslog-check hook")
    hooks.mkdir(parents=True, exist_ok=True)
    from cslog.yamlio import write_atomic

    write_atomic(path, hook_text(root))
    path.chmod(0o755)
    return path


@dataclass
class SetupResult:
    attributes_changed: bool
    commit: str | None
    hook: Path | None
    station: str | None


def setup_git(store: Store, *, actor: str, now: datetime, hook: bool = False, station: str | None = None,
              commit: bool = True) -> SetupResult:
    """Install the merge driver in this clone's .git/config, commit `.gitattributes` if it lacks the
    record rules, set the clone's station code, and (with `hook`) a pre-commit check."""
    root = _need_git(store)
    if station is not None:
        if not re.fullmatch(r"[A-Za-z0-9]{1,8}", station):
            raise UsageError(f"station code {station!r}: use 1 to 8 letters or digits (e.g. BJ, SH2)")
        gitrepo.run(root, "config", "cslog.station", station)
    install_driver(root)
    changed = write_attributes(root)
    commit_id = None
    if changed and commit and store.settings.auto_commit:
        commit_id = gitrepo.commit_paths(root, [".gitattributes"], "cslog: merge record files with cslog merge-driver"
                                         "\n\nCslog-Op: setup-git\n", actor=actor, when=now)
    hook_path = install_hook(root) if hook else None
    return SetupResult(attributes_changed=changed, commit=commit_id, hook=hook_path, station=station)


def _need_git(store: Store) -> Path:
    if store.git_root is None:
        raise UsageError(f"{store.root} is not in a git repository", hint="clone the team's repository, or `git init`")
    return store.root


def _git_path(root: Path, name: str) -> Path:
    path = Path(gitrepo.run(root, "rev-parse", "--git-path", name).stdout.strip())
    return path if path.is_absolute() else root / path


def _prefix(root: Path) -> str:
    """The data repository's folder inside the git work tree ('' at its top, else 'desk/')."""
    return gitrepo.run(root, "rev-parse", "--show-prefix").stdout.strip()
