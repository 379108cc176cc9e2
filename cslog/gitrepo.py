"""git through subprocess: find the work tree, and commit exactly the files cslog changed."""
from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from cslog.errors import GitError

_LOCK_WORDS = ("index.lock", ".lock': File exists", "cannot lock ref", "Unable to create")
_LOCK_FILE = re.compile(r"Unable to create '([^']+\.lock)': File exists")
STALE_LOCK_SECONDS = 5.0  # a git lock file this old, with no git process in the repository, was left by a killed git
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
            take_over_stale_lock(cwd, proc.stderr)
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
            continue
        break
    raise GitError(f"git {args[0]} failed: {proc.stderr.strip() or proc.stdout.strip()}", hint=lock_hint(proc.stderr))


def take_over_stale_lock(cwd: Path, stderr: str) -> None:
    """Remove the lock file git names in `stderr` when a killed git left it: every later git would fail on it.

    Only when it is older than STALE_LOCK_SECONDS and no git process works in the repository (read from
    /proc, so Linux only; elsewhere nothing is removed and the error says how to do it by hand)."""
    found = _LOCK_FILE.search(stderr)
    if not found:
        return
    lock = Path(found.group(1))
    try:
        age = time.time() - lock.stat().st_mtime
    except OSError:
        return
    if age >= STALE_LOCK_SECONDS and not git_running(Path(cwd)):
        lock.unlink(missing_ok=True)


def git_running(root: Path) -> bool:
    """Whether a git process has its working folder in this repository; True when that cannot be known."""
    proc = Path("/proc")
    if not (proc / "self" / "cwd").exists():
        return True
    top = str(Path(root).resolve())
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if not (entry / "comm").read_text().startswith("git"):
                continue
            where = os.readlink(entry / "cwd")
        except OSError:
            continue  # gone, a zombie, or not ours to read
        if where == top or where.startswith(top + os.sep):
            return True
    return False


def lock_hint(stderr: str) -> str | None:
    found = _LOCK_FILE.search(stderr)
    if not found:
        return None
    return (f"another git command holds {found.group(1)}; if none is running in this repository (a killed git "
            "leaves its lock behind), delete that file and try again")


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


def commit_config(cwd: Path) -> dict[str, str]:
    """What a commit needs of git's config (user.name, user.email, commit.gpgsign), in one call."""
    out = run(cwd, "config", "-z", "--get-regexp", r"^(user\.name|user\.email|commit\.gpgsign)$", check=False).stdout
    return {key.lower(): value for key, _, value in (item.partition("\n") for item in out.split("\0") if item)}


def identity_env(cwd: Path, actor: str | None, when: datetime | None, config: dict | None = None) -> dict:
    """The commit's author is the acting agent; a machine with no git identity still commits."""
    config = commit_config(cwd) if config is None else config
    name = config.get("user.name", "")
    email = config.get("user.email", "") or FALLBACK_EMAIL
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


# What git leaves in a clone's git folder while an operation waits for the user, and how to undo it.
_UNFINISHED = (("rebase-merge", "a rebase", "git rebase --abort"), ("rebase-apply", "a rebase or git am",
               "git rebase --abort (or git am --abort)"), ("MERGE_HEAD", "a merge", "git merge --abort"),
               ("CHERRY_PICK_HEAD", "a cherry-pick", "git cherry-pick --abort"),
               ("REVERT_HEAD", "a revert", "git revert --abort"), ("BISECT_LOG", "a bisect", "git bisect reset"))


def unfinished(cwd: Path, top: Path | None = None) -> tuple[str, str] | None:
    """(what, how to undo it) of a git operation stopped half-way in this clone (a merge with conflicts, a
    rebase, cherry-pick, revert, am or bisect), or None. `top`: the work tree's root, when known (its .git
    folder is then looked at without running git)."""
    folder = top / ".git" if top is not None and (top / ".git").is_dir() else git_dir(cwd)
    for name, what, undo in _UNFINISHED:
        if (folder / name).exists():
            return what, undo
    return None


def unmerged_paths(cwd: Path) -> list[str]:
    """The paths git holds as conflicted (both sides' versions in the index), relative to cwd."""
    out = run(cwd, "ls-files", "-u", "-z").stdout  # under cwd, relative to it
    return sorted({entry.split("\t", 1)[1] for entry in out.split("\0") if "\t" in entry})


def commit_paths(cwd: Path, paths: list[str], message: str, actor: str | None = None,
                 when: datetime | None = None, committed: Callable[[str], None] | None = None) -> str:
    """Commit these paths (relative to cwd) as they are in the work tree, and nothing else.

    The new tree is HEAD's with only these paths replaced: the trees on their way to the root are read
    and rewritten (git cat-file, mktree), so the cost does not grow with the repository, and whatever
    the user has staged stays out. HEAD moves with a compare-and-swap, so a commit made meanwhile by
    someone else is never lost (the tree is then built again on top of it).
    """
    from cslog import githooks

    config = commit_config(cwd)
    env = identity_env(cwd, actor, when, config)
    gdir, prefix, top, hooks_dir = _where(cwd)
    _sweep_private_indexes(gdir)
    hooks = githooks.Hooks(hooks_dir, top, gdir, run)
    sign = ["-S"] if githooks.signs(config) else []
    full = [_repo_path(prefix, p) for p in paths]
    for attempt in range(5):
        parent = head(cwd)
        tree = _tree_with(cwd, top, parent, full, paths) if parent else None
        if tree is None:
            tree = _tree_by_index(cwd, gdir, parent, paths, env)
        if hooks:
            tree = hooks.pre_commit(tree, env)
            message = hooks.message(message, env) if attempt == 0 else message
        args = ["commit-tree", tree, *sign, "-F", "-"] + (["-p", parent] if parent else [])
        commit = run(cwd, *args, env=env, input=message).stdout.strip()
        if _move_head(cwd, commit, parent):
            break
    else:
        raise GitError("HEAD kept moving while cslog committed; try again")
    if committed is not None:  # told before anything else can fail: the commit stands
        committed(commit)
    _refresh_index(cwd, gdir, paths)
    hooks.post_commit(env)
    return commit


def _move_head(cwd: Path, commit: str, parent: str | None) -> bool:
    """Compare-and-swap HEAD from parent to commit; False when HEAD moved meanwhile (build again on top).

    A held lock (HEAD.lock, the branch's lock) is waited for, and taken over when stale, as run() does."""
    delay = 0.05
    for _ in range(40):
        proc = run(cwd, "update-ref", "-m", "cslog: commit", "HEAD", commit, parent or "", check=False)
        if proc.returncode == 0:
            return True
        if "File exists" not in proc.stderr:
            return False
        take_over_stale_lock(cwd, proc.stderr)
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)
    raise GitError(f"git update-ref failed: {proc.stderr.strip()}", hint=lock_hint(proc.stderr))


def _where(cwd: Path) -> tuple[Path, str, Path, Path]:
    """The git directory, cwd's path inside the work tree ('' or 'sub/dir/'), the work tree, and the hooks'
    folder (core.hooksPath or the git directory's hooks/)."""
    lines = run(cwd, "rev-parse", "--absolute-git-dir", "--show-prefix", "--show-toplevel", "--git-path",
                "hooks").stdout.split("\n")
    return Path(lines[0].strip()), lines[1].strip(), Path(lines[2].strip()), cwd / lines[3].strip()


def _repo_path(prefix: str, path: str) -> str:
    return os.path.normpath(prefix + path).replace(os.sep, "/")


def _tree_by_index(cwd: Path, gdir: Path, parent: str | None, paths: list[str], env: dict) -> str:
    """The general way, for what the direct way leaves alone: a private index read from HEAD."""
    tmp_index = gdir / f"cslog-index.{os.getpid()}"
    ienv = {**env, "GIT_INDEX_FILE": str(tmp_index)}
    try:
        if parent:
            run(cwd, "read-tree", parent, env=ienv)
        else:
            run(cwd, "read-tree", "--empty", env=ienv)
        run(cwd, "update-index", "--add", "--remove", "--", *paths, env=ienv)
        return run(cwd, "write-tree", env=ienv).stdout.strip()
    finally:
        tmp_index.unlink(missing_ok=True)


def _sweep_private_indexes(gdir: Path) -> None:
    """Private indexes (and their locks) of cslog processes that were killed: nobody else will remove them."""
    for path in gdir.glob("cslog-index.*"):
        pid = path.name.split(".")[1]
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                path.unlink(missing_ok=True)
            except OSError:
                pass


def _tree_with(cwd: Path, top: Path, parent: str, full: list[str], paths: list[str]) -> str | None:
    """HEAD's tree with these files as they are in the work tree (absent ones removed); None when a path
    is not a plain file change (a symlink, a folder, a file where HEAD has a folder...)."""
    import stat

    wanted: dict[str, str | None] = {}  # repo path -> mode of the work-tree file, None when deleted
    for repo_path, rel in zip(full, paths):
        if repo_path.startswith("../") or repo_path in (".", ".."):
            return None
        try:
            st = os.lstat(Path(cwd) / rel)
        except FileNotFoundError:
            wanted[repo_path] = None
            continue
        if not stat.S_ISREG(st.st_mode):
            return None
        wanted[repo_path] = "100755" if st.st_mode & stat.S_IXUSR else "100644"
    existing = [(repo_path, rel) for repo_path, rel in zip(full, paths) if wanted.get(repo_path)]
    blobs: dict[str, str] = {}
    if existing:
        if any("\n" in repo_path for repo_path, _rel in existing):
            return None
        # --stdin-paths reads paths from the top of the work tree, and takes their attributes (eol...) there
        out = run(top, "hash-object", "-w", "--stdin-paths", input="".join(f"{p}\n" for p, _rel in existing))
        ids = out.stdout.split()
        if len(ids) != len(existing):
            return None
        blobs = {repo_path: oid for (repo_path, _rel), oid in zip(existing, ids)}
    folders = {""}
    for repo_path in wanted:
        parts = repo_path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            folders.add("/".join(parts[:i]))
    trees = _read_trees(cwd, parent, sorted(folders))
    if trees is None:
        return None
    for repo_path, mode in wanted.items():
        folder, _, name = repo_path.rpartition("/")
        entries = trees[folder]
        if name in entries and entries[name][0] == "040000":
            return None  # a file where HEAD has a folder
        if mode is None:
            entries.pop(name, None)
        else:
            entries[name] = (mode, blobs[repo_path])
    for folder in sorted(folders, key=lambda f: -f.count("/") if f else 1):
        if not folder:
            continue
        entries = trees[folder]
        up, _, name = folder.rpartition("/")
        if entries:
            trees[up][name] = ("040000", _make_tree(cwd, entries))
        else:
            trees[up].pop(name, None)
    return _make_tree(cwd, trees[""])


def _read_trees(cwd: Path, commit: str, folders: list[str]) -> dict[str, dict[str, tuple[str, str]]] | None:
    """{folder: {name: (mode, object id)}} of HEAD's trees at these folders (empty when missing)."""
    query = "".join(f"{commit}:{folder}\n" for folder in folders)
    try:
        proc = subprocess.run(["git", "cat-file", "--batch"], cwd=cwd, input=query.encode("utf-8"),
                              capture_output=True)
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH", hint="install git (https://git-scm.com)") from None
    if proc.returncode != 0:
        return None
    data = proc.stdout
    pos = 0
    trees: dict[str, dict[str, tuple[str, str]]] = {}
    for folder in folders:
        eol = data.index(b"\n", pos)
        header = data[pos:eol].decode("utf-8", "replace").split()
        pos = eol + 1
        if header[-1] == "missing":
            trees[folder] = {}
            continue
        if len(header) != 3 or header[1] != "tree":
            return None  # a file where a folder should be
        size = int(header[2])
        body = data[pos:pos + size]
        pos += size + 1
        width = len(header[0]) // 2
        entries: dict[str, tuple[str, str]] = {}
        i = 0
        while i < len(body):
            space = body.index(b" ", i)
            nul = body.index(b"\0", space)
            mode = body[i:space].decode().rjust(6, "0")
            try:
                name = body[space + 1:nul].decode("utf-8")
            except UnicodeDecodeError:
                return None  # names git stores as bytes: the general way keeps them as they are
            entries[name] = (mode, body[nul + 1:nul + 1 + width].hex())
            i = nul + 1 + width
        trees[folder] = entries
    return trees


def _make_tree(cwd: Path, entries: dict[str, tuple[str, str]]) -> str:
    kinds = {"040000": "tree", "160000": "commit"}
    lines = "".join(f"{mode} {kinds.get(mode, 'blob')} {oid}\t{name}\0" for name, (mode, oid) in entries.items())
    return run(cwd, "mktree", "-z", "--missing", input=lines).stdout.strip()


def _refresh_index(cwd: Path, gdir: Path, paths: list[str]) -> None:
    """Make the user's index agree with the new commit for our paths, so `git status` stays clean."""
    if (gdir / "index").exists():
        run(cwd, "update-index", "--add", "--remove", "--", *paths)
    else:
        run(cwd, "read-tree", "HEAD")


# -- what changed, as git sees it (the index's freshness check) ------------------------------------------

def changed_paths(cwd: Path, folders: list[str]) -> tuple[str, set[str]] | None:
    """(HEAD, paths) where paths are the tracked files under `folders` (relative to cwd, '/'-separated) that
    differ in any way between HEAD, git's index and the work tree: modified, added to git's index, deleted,
    unmerged. Files git does not track (untracked, ignored) are not among them: git finds those by reading
    every folder, which costs as much again (the index finds new files by the folders' mtimes). None when
    git cannot say: not a repository, no commit yet, git missing or failing.

    `git diff-files` (with the stat cache git keeps in its index: an unchanged work tree costs what stat'ing
    the files costs), `git diff-index --cached HEAD` and `git rev-parse HEAD`, run side by side."""
    return start_changed_paths(cwd, folders)()


def start_changed_paths(cwd: Path, folders: list[str]) -> Callable[[], tuple[str, set[str]] | None]:
    """changed_paths, started: git works while the caller goes on; calling the result waits for the answer."""
    names = ["--name-only", "-z", "--relative", "--no-renames"]
    try:
        work = subprocess.Popen(["git", "--no-optional-locks", *_one_thread(), "diff-files", *names, "--", *folders],
                                cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except OSError:
        return lambda: None

    def answer() -> tuple[str, set[str]] | None:
        try:
            try:
                commit = head(cwd)
                if not commit:  # no commit yet
                    return None
                # against that commit, not HEAD: a commit made meanwhile is then seen as HEAD moving
                staged = subprocess.run(["git", "--no-optional-locks", "diff-index", "--cached", *names, commit, "--",
                                         *folders], cwd=cwd, capture_output=True)
            finally:
                out, _ = work.communicate()
        except (OSError, GitError):  # (git missing)
            return None
        if work.returncode != 0 or staged.returncode != 0:
            return None
        return commit, {p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") + staged.stdout.split(b"\0")
                        if p}

    return answer


def _one_thread() -> list[str]:
    """git's options for stat'ing the work tree on one thread when this process may have only two cores:
    the caller works on the other meanwhile (git's threads would take both, and it waits for them)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return ["-c", "core.preloadIndex=false"] if cores <= 2 else []


def changed_between(cwd: Path, old: str, new: str, folders: list[str]) -> set[str] | None:
    """Files under `folders` (relative to cwd) that differ between two commits; None when git cannot say
    (a commit no longer exists, for one)."""
    try:
        proc = subprocess.run(["git", "diff-tree", "-r", "-z", "--no-renames", "--name-only", "--relative", old, new,
                               "--", *folders], cwd=cwd, capture_output=True)
    except OSError:
        return None
    if proc.returncode != 0:
        return None
    return {p.decode("utf-8", "surrogateescape") for p in proc.stdout.split(b"\0") if p}


def same_as_head(cwd: Path, paths: list[str]) -> set[str]:
    """The paths (relative to cwd) whose work-tree file is what HEAD holds, as git stores it (its filters and
    line endings applied: `hash-object --stdin-paths`), or that neither holds."""
    present = [p for p in paths if (cwd / p).is_file()]
    ids = run(cwd, "hash-object", "--stdin-paths", input="".join(f"{p}\n" for p in present)).stdout.split()
    work = dict(zip(present, ids)) if present else {}
    held = blob_ids(cwd, "HEAD", paths, sorted({p.split("/")[0] for p in paths})) or {}
    return {p for p in paths if work.get(p) == held.get(p)}


MANY_PATHS = 2000  # more paths than this: list the folders instead of naming each path on the command line


def blob_ids(cwd: Path, commit: str, paths: list[str] | None, folders: list[str]) -> dict[str, str] | None:
    """{path: blob id} in `commit` of these paths (relative to cwd) that it has, or (paths None) of every
    file under `folders`; None when git cannot say."""
    return start_blob_ids(cwd, commit, paths, folders)()


def start_blob_ids(cwd: Path, commit: str, paths: list[str] | None,
                   folders: list[str]) -> Callable[[], dict[str, str] | None]:
    """blob_ids, started: git lists while the caller goes on; calling the result waits for the answer."""
    import threading

    named = paths is not None and len(paths) <= MANY_PATHS
    try:
        proc = subprocess.Popen(["git", "ls-tree", "-r", "-z", commit, "--", *(paths if named else folders)],
                                cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except OSError:
        return lambda: None
    out: list[bytes] = []
    reader = threading.Thread(target=lambda: out.append(proc.communicate()[0]), daemon=True)
    reader.start()  # read as git writes: it would wait on a full pipe otherwise

    def answer() -> dict[str, str] | None:
        reader.join()
        if proc.returncode != 0 or not out:
            return None
        return _blob_lines(out[0], None if named else paths)

    return answer


def _blob_lines(out: bytes, paths: list[str] | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in out.split(b"\0"):
        if not entry:
            continue
        meta, _, name = entry.partition(b"\t")
        fields = meta.split()
        if len(fields) == 3 and fields[1] == b"blob":
            found[name.decode("utf-8", "surrogateescape")] = fields[2].decode("ascii")
    if paths is not None:  # more paths than could be named: listed by folder, kept if asked for
        wanted = set(paths)
        found = {p: oid for p, oid in found.items() if p in wanted}
    return found


def blob_id(data: bytes) -> str:
    """The id git gives a file of these bytes (SHA-1 object format)."""
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
