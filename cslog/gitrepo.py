"""git through subprocess: find the work tree, and commit exactly the files cslog changed."""
from __future__ import annotations

import os
import subprocess
import time
from datetime import datetime
from pathlib import Path

from cslog.errors import GitError

_LOCK_WORDS = ("index.lock", ".lock': File exists", "cannot lock ref", "Unable to create")
FALLBACK_EMAIL = "cslog@localhost"


def run(cwd: Path, *args: str, env: dict | None = None, input: str | None = None, check: bool = True,
        retries: int = 40) -> subprocess.CompletedProcess:
    """Run git; retry while another git process holds a lock; raise GitError with git's own words."""
    full_env = None
    if env:
        full_env = dict(os.environ)
        full_env.update(env)
    delay = 0.05
    for attempt in range(retries + 1):
        try:
            proc = subprocess.run(["git", *args], cwd=cwd, env=full_env, input=input, capture_output=True,
                                  text=True, encoding="utf-8", errors="replace")
        except FileNotFoundError:
            raise GitError("git is not installed or not on PATH", hint="install git (https://git-scm.com)") from None
        if proc.returncode == 0 or not check:
            return proc
        if attempt < retries and any(w in proc.stderr for w in _LOCK_WORDS):
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
            continue
        break
    raise GitError(f"git {args[0]} failed: {proc.stderr.strip() or proc.stdout.strip()}")


def toplevel(path: Path) -> Path | None:
    try:
        proc = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=path, capture_output=True, text=True)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return Path(proc.stdout.strip()) if proc.returncode == 0 else None


def init(path: Path) -> None:
    run(path, "init", "-q")


def config_value(cwd: Path, key: str) -> str:
    proc = run(cwd, "config", "--get", key, check=False)
    return proc.stdout.strip()


def identity_env(cwd: Path, actor: str | None, when: datetime | None) -> dict:
    """The commit's author is the acting agent; a machine with no git identity still commits."""
    name = config_value(cwd, "user.name")
    email = config_value(cwd, "user.email") or FALLBACK_EMAIL
    env = {"GIT_AUTHOR_NAME": actor or name or "cslog", "GIT_AUTHOR_EMAIL": email,
           "GIT_COMMITTER_NAME": name or actor or "cslog", "GIT_COMMITTER_EMAIL": email}
    if when is not None:
        env["GIT_AUTHOR_DATE"] = when.isoformat()
    return env


def head(cwd: Path) -> str | None:
    proc = run(cwd, "rev-parse", "--verify", "-q", "HEAD", check=False)
    return proc.stdout.strip() or None


def git_dir(cwd: Path) -> Path:
    return Path(run(cwd, "rev-parse", "--absolute-git-dir").stdout.strip())


def commit_paths(cwd: Path, paths: list[str], message: str, actor: str | None = None,
                 when: datetime | None = None) -> str:
    """Commit these paths (relative to cwd) as they are in the work tree, and nothing else.

    A private index built from HEAD leaves whatever the user has staged untouched; HEAD moves with
    a compare-and-swap, so a commit made meanwhile by someone else is never lost.
    """
    env = identity_env(cwd, actor, when)
    gdir = git_dir(cwd)
    tmp_index = gdir / f"cslog-index.{os.getpid()}"
    try:
        for _ in range(5):
            parent = head(cwd)
            ienv = {**env, "GIT_INDEX_FILE": str(tmp_index)}
            if parent:
                run(cwd, "read-tree", parent, env=ienv)
            else:
                run(cwd, "read-tree", "--empty", env=ienv)
            run(cwd, "update-index", "--add", "--remove", "--", *paths, env=ienv)
            tree = run(cwd, "write-tree", env=ienv).stdout.strip()
            args = ["commit-tree", tree, "-F", "-"] + (["-p", parent] if parent else [])
            commit = run(cwd, *args, env=env, input=message).stdout.strip()
            swapped = run(cwd, "update-ref", "-m", "cslog: commit", "HEAD", commit, parent or "", check=False)
            if swapped.returncode == 0:
                break
        else:
            raise GitError("HEAD kept moving while cslog committed; try again")
    finally:
        tmp_index.unlink(missing_ok=True)
    _refresh_index(cwd, gdir, paths)
    return commit


def _refresh_index(cwd: Path, gdir: Path, paths: list[str]) -> None:
    """Make the user's index agree with the new commit for our paths, so `git status` stays clean."""
    if (gdir / "index").exists():
        run(cwd, "update-index", "--add", "--remove", "--", *paths)
    else:
        run(cwd, "read-tree", "HEAD")


def relpath_in_repo(cwd: Path, path: Path) -> str:
    return os.path.relpath(path, cwd)
