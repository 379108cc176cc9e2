"""The clone's own policy for a commit cslog makes through git's plumbing: the hooks `git commit` would run
(pre-commit, prepare-commit-msg, commit-msg, post-commit), run with `git hook run`, and a signature when
commit.gpgsign asks for one. A clone without hooks spends nothing: their folder is looked at once per commit.

A hook refusing the commit is an OperationalError (exit 3): the transaction puts the files back, no commit.
What a hook prints goes to stderr, as with `git commit`. cslog's own pre-commit hook (`setup-git --hook`) is
not run: it checks the record files a commit adds, and cslog's writes have just passed the same gate."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any, Callable

from cslog.errors import GitError

OWN_HOOK_MARK = "installed by `cslog setup-git --hook`"
NAMES = ("pre-commit", "prepare-commit-msg", "commit-msg", "post-commit")
_TRUE = frozenset({"", "true", "yes", "on", "1"})


class Hooks:
    """The hooks of one clone (`folder`: `git rev-parse --git-path hooks`) that a commit runs."""

    def __init__(self, folder: Path, top: Path, gdir: Path, git: Callable[..., Any]):
        self.top = top
        self.gdir = gdir
        self.folder = folder
        self.git = git  # gitrepo.run (handed in: gitrepo is what calls the hooks)
        self.names = {name for name in NAMES if _runnable(folder / name)}

    def __bool__(self) -> bool:
        return bool(self.names)

    def pre_commit(self, tree: str, env: dict) -> str:
        """Run pre-commit on the index of what is about to be committed (as `git commit -- PATHS` does, a
        private one); the tree to commit, with whatever the hook added to that index."""
        if "pre-commit" not in self.names:
            return tree
        index = self.gdir / f"cslog-index.{os.getpid()}"
        ienv = {**env, "GIT_INDEX_FILE": str(index)}
        try:
            self.git(self.top, "read-tree", tree, env=ienv)
            self._run("pre-commit", [], ienv)
            return self.git(self.top, "write-tree", env=ienv).stdout.strip()
        finally:
            index.unlink(missing_ok=True)

    def message(self, text: str, env: dict) -> str:
        """The commit message after prepare-commit-msg and commit-msg (either may edit it, as in `git commit`)."""
        if not self.names & {"prepare-commit-msg", "commit-msg"}:
            return text
        path = self.gdir / "COMMIT_EDITMSG"
        path.write_text(text, encoding="utf-8")
        if "prepare-commit-msg" in self.names:
            self._run("prepare-commit-msg", [str(path), "message"], env)
        if "commit-msg" in self.names:
            self._run("commit-msg", [str(path)], env)
        edited = path.read_text(encoding="utf-8", errors="replace")
        if not edited.strip():
            raise GitError("a commit-msg hook left the commit message empty: nothing was committed, the files "
                           "are as they were")
        return edited

    def post_commit(self, env: dict) -> None:
        """post-commit: told, not asked (git ignores its exit status too)."""
        if "post-commit" in self.names:
            self._run("post-commit", [], env, check=False)

    def _run(self, name: str, args: list[str], env: dict, check: bool = True) -> None:
        full = {**os.environ, **env}
        argv = ["git", "hook", "run", name, "--", *args] if _git_runs_hooks() else [str(self.folder / name), *args]
        proc = subprocess.run(argv, cwd=self.top, env=full, stdin=subprocess.DEVNULL, stdout=2, stderr=2)
        if check and proc.returncode != 0:
            raise GitError(f"the clone's {name} hook refused the commit (exit {proc.returncode}): nothing was "
                           "committed and the files are as they were",
                           hint="its own words are above; fix what it asks for and run the command again "
                                "(or change the hook, if it should allow cslog's commits)")


def signs(config: dict[str, str]) -> bool:
    """Does the clone ask for signed commits (commit.gpgsign)? `config`: lower-cased keys to values."""
    value = config.get("commit.gpgsign")
    return value is not None and value.strip().lower() in _TRUE


def _git_runs_hooks() -> bool:
    """Has git `git hook run` (2.36 and later)? Older git: cslog runs the hook itself, as git would (in the
    work tree's top folder, hook output on stderr)."""
    global _HOOK_RUN
    if _HOOK_RUN is None:
        out = subprocess.run(["git", "version"], capture_output=True, text=True).stdout
        words = out.split()  # git version 2.39.5 (Apple Git-145)
        digits = [int(p) for p in words[2].split(".")[:2] if p.isdigit()] if len(words) > 2 else []
        _HOOK_RUN = len(digits) == 2 and tuple(digits) >= (2, 36)
    return _HOOK_RUN


_HOOK_RUN: bool | None = None


def _runnable(path: Path) -> bool:
    if not (path.is_file() and os.access(path, os.X_OK)):
        return False
    if path.name == "pre-commit":
        try:
            return OWN_HOOK_MARK not in path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return True
    return True


