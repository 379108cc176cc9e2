"""`cslog sync`: fetch, renumber ID collisions, merge, check what would go out, push; again while others push.

`sync` integrates by merging (not rebasing): one `git merge` of the remote branch, with record files
merged by `cslog merge-driver` (cslog.sync.merge's rules). A merge keeps each clone's commits as they were
made, which is the audit trail; a rebase would rewrite them and could stop once per commit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from cslog import gitrepo
from cslog.errors import GitError, NotFound, Problem, UsageError
from cslog.model import CACHE_DIR, KINDS, REFERENCES
from cslog.store import Store
from cslog.sync.driver import _RECORD_FILE, NOTE_PREFIX, kind_of_path
from cslog.mergedriver import DRIVER, driver_command
from cslog.sync.setup import ATTRIBUTE_LINES, RECORD_FOLDERS, _git_path, _need_git, _prefix, attributes_ok

PUSH_ATTEMPTS = 5
RUNNING = "sync-running"  # .cslog/sync-running: 'when target' while sync's git merge runs; left behind, it was killed


@dataclass
class SyncResult:
    remote: str
    branch: str
    incoming: list[str] = field(default_factory=list)  # IDs of records added or changed on the remote
    outgoing: list[str] = field(default_factory=list)  # IDs of records the push added or changed there
    renumbered: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # fields both sides changed, and how they were decided
    problems: list[Problem] = field(default_factory=list)  # when not empty, nothing was pushed
    pushed: bool = False
    attempts: int = 0


@dataclass(frozen=True)
class Target:
    remote: str
    branch: str  # the branch on the remote
    adopt: bool = False  # the local branch has no upstream yet: this one becomes it once pushed

    @property
    def ref(self) -> str:
        return f"refs/remotes/{self.remote}/{self.branch}"

    @property
    def label(self) -> str:
        return f"{self.remote}/{self.branch}"


def sync(store: Store, *, actor: str, now: datetime, remote: str | None = None,
         notify: Callable[[str], None] | None = None, on_renumber: Callable[[str, str], None] | None = None,
         attempts: int = PUSH_ATTEMPTS) -> SyncResult:
    """Fetch, renumber local records whose IDs the remote took meanwhile, merge, check what would go
    out, push; when someone pushed in between, do it again (up to `attempts` times).

    `notify` hears progress; `on_renumber(old, new)` hears each renumbering as soon as it is committed.
    """
    root = _need_git(store)
    tell = notify or (lambda _m: None)
    with store.lock():  # (a killed sync's uncommitted renumbering is put back as the lock is taken)
        target = find_target(root, remote)
        running = store.root / CACHE_DIR / RUNNING
        interrupted = _interrupted(running)
        _refuse_unfinished(root, interrupted)
        _refuse_uncommitted_records(root, interrupted)
        if interrupted:
            tell(f"the last `cslog sync` (started {interrupted.partition(' ')[0]}) was interrupted before it was "
                 "done; this one takes up from where the clone is")
            running.unlink(missing_ok=True)
        _ensure_driver(root)
        return _rounds(store, target, actor, now, tell, on_renumber, attempts)


def _rounds(store: Store, target: Target, actor: str, now: datetime, tell: Callable[[str], None],
            on_renumber: Callable[[str, str], None] | None, attempts: int) -> SyncResult:
    """sync's work once the clone is ready: fetch, renumber, merge, check, push, again while others push."""
    root = store.root
    result = SyncResult(remote=target.remote, branch=target.branch)
    for attempt in range(1, attempts + 1):
        result.attempts = attempt
        theirs = fetch(root, target)
        if theirs is not None:
            base = _merge_base(root, theirs, target)
            for rid in _record_ids(_changed(root, base, theirs)):
                if rid not in result.incoming:
                    result.incoming.append(rid)
            for old, new in renumber_collisions(store, base, theirs, actor, now):
                result.renumbered.append((old, new))
                if on_renumber:
                    on_renumber(old, new)
            running = store.root / CACHE_DIR / RUNNING  # while git merges: killed then, it is left behind
            running.write_text(f"{now.isoformat()} {target.label}\n", encoding="utf-8")
            try:
                result.notes += integrate(root, theirs, target, actor, now)
            finally:
                running.unlink(missing_ok=True)
        head = gitrepo.head(root)
        if head is None or head == theirs:
            return result
        outgoing = _changed(root, theirs, head)
        result.problems = check_outgoing(store, theirs, head, outgoing)
        if result.problems:
            return result
        result.outgoing = _record_ids(outgoing)
        if push(root, target, head):
            result.pushed = True
            return result
        tell(f"{target.label} moved while pushing; fetching again (attempt {attempt + 1} of {attempts})")
    raise GitError(f"{target.label} kept moving: {attempts} pushes were rejected because others pushed "
                   "first", hint="run `cslog sync` again")


def find_target(root: Path, remote: str | None) -> Target:
    """The remote and branch to sync with: the branch's upstream, or `remote` with the same branch name."""
    branch = gitrepo.run(root, "symbolic-ref", "--short", "-q", "HEAD", check=False).stdout.strip()
    if not branch:
        raise UsageError("HEAD is detached: sync works on a branch", hint="git switch main")
    remotes = gitrepo.run(root, "remote").stdout.split()
    up_remote = gitrepo.config_value(root, f"branch.{branch}.remote")
    up_merge = gitrepo.config_value(root, f"branch.{branch}.merge").removeprefix("refs/heads/")
    if remote:
        if remote not in remotes:
            raise NotFound(f"no remote named {remote!r}" + (f" (remotes: {', '.join(remotes)})" if remotes else ""),
                           hint="git remote add NAME URL")
        tracked = up_remote == remote and bool(up_merge)
        return Target(remote, up_merge if tracked else branch, adopt=not up_remote)
    if up_remote and up_merge and up_remote != ".":
        return Target(up_remote, up_merge)
    if len(remotes) == 1:
        return Target(remotes[0], branch, adopt=True)
    if not remotes:
        raise UsageError("this repository has no remote to sync with",
                         hint="git remote add origin URL (the team's shared repository)")
    raise UsageError(f"{branch} has no upstream and there are several remotes ({', '.join(remotes)})",
                     hint="cslog sync --remote NAME")


def _interrupted(running: Path) -> str | None:
    """'when target' of a sync that was killed (or lost its machine) before it was done, else None. Read
    under the lock: a sync's mark that is still there belongs to a sync that is gone."""
    try:
        return running.read_text(encoding="utf-8").strip() or "?"
    except (FileNotFoundError, UnicodeDecodeError):
        return None


def _refuse_unfinished(root: Path, interrupted: str | None) -> None:
    stopped = gitrepo.unfinished(root)
    label = (interrupted or "").partition(" ")[2]
    if stopped is None:
        return
    message = (gitrepo.git_dir(root) / "MERGE_MSG")
    ours = stopped[0] == "a merge" and (interrupted is not None or (
        message.exists() and message.read_text(encoding="utf-8", errors="replace").startswith("cslog: sync with")))
    if ours:
        raise UsageError("the last `cslog sync` was interrupted in the middle of its merge"
                         + (f" with {label}" if label else "") + ": the merge is not committed",
                         hint="undo it with `git merge --abort`, then run `cslog sync` again (or, when `git status` "
                              "names no conflict, finish it with `git commit --no-edit`, then `cslog sync` to push)")
    raise UsageError(f"{stopped[0]} is unfinished in this clone",
                     hint=f"finish it, or undo it with `{stopped[1]}`, then `cslog sync`")


def _refuse_uncommitted_records(root: Path, interrupted: str | None = None) -> None:
    status = gitrepo.run(root, "status", "--porcelain", "-z", "--untracked-files=all", "--",
                         *RECORD_FOLDERS).stdout
    entries = [entry for entry in status.split("\0") if len(entry) > 3 and _RECORD_FILE.search(entry)]
    dirty = [entry[3:] for entry in entries]
    if not dirty:
        return
    shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
    merged = [entry[3:] for entry in entries if entry[0] not in " ?"]  # what git's merge staged
    if interrupted and merged and len(merged) == len(dirty):
        # killed while git merged: git leaves the merged files in place, and no merge to abort
        when, _, label = interrupted.partition(" ")
        raise UsageError(f"the last `cslog sync` (started {when}) was interrupted while it merged {label or 'the remote'}:"
                         f" it left a half-done merge in the record files: {shown}",
                         hint="undo it with `git reset --merge` (changes of your own that git did not stage stay), "
                              "then run `cslog sync` again")
    raise UsageError(f"uncommitted changes in record files: {shown}",
                     hint="commit them (git add FILE && git commit) or discard them, then `cslog sync`")


def _ensure_driver(root: Path) -> None:
    """Sync works in a clone nobody ran `setup-git` in: `integrate` names the driver on git's command
    line, and the rules go to .git/info/attributes (local, uncommitted) when .gitattributes lacks them."""
    if attributes_ok(root):
        return
    info = _git_path(root, "info/attributes")
    prefix = _prefix(root)
    lines = info.read_text(encoding="utf-8").splitlines() if info.exists() else []
    wanted = [f"/{prefix}{line}" for line in ATTRIBUTE_LINES]
    if not all(w in lines for w in wanted):
        info.parent.mkdir(parents=True, exist_ok=True)
        info.write_text("\n".join(lines + [w for w in wanted if w not in lines]) + "\n", encoding="utf-8")


def fetch(root: Path, target: Target) -> str | None:
    """The remote branch's commit after fetching it; None when the remote has no such branch yet."""
    proc = gitrepo.run(root, "fetch", "--quiet", "--no-tags", target.remote,
                       f"+refs/heads/{target.branch}:{target.ref}", check=False)
    if proc.returncode != 0:
        if "couldn't find remote ref" in proc.stderr:
            return None
        raise GitError(f"git fetch {target.remote} failed: {proc.stderr.strip()}",
                       hint="check the network and `git remote -v`")
    return gitrepo.run(root, "rev-parse", "--verify", "-q", target.ref).stdout.strip() or None


def _merge_base(root: Path, theirs: str, target: Target) -> str | None:
    if gitrepo.head(root) is None:
        return None
    proc = gitrepo.run(root, "merge-base", "HEAD", theirs, check=False)
    if proc.returncode != 0:
        raise UsageError(f"this clone and {target.label} share no history (two separate `cslog init`s?)",
                         hint="clone the team's repository (git clone URL) and run `cslog setup-git` in it")
    return proc.stdout.strip()


def _tree(root: Path, commit: str | None) -> dict[str, str]:
    """Record files of a commit, relative to the data repository: path -> blob id."""
    if commit is None:
        return {}
    found = gitrepo.blob_ids(root, commit, None, list(RECORD_FOLDERS))
    if found is None:
        raise GitError(f"git ls-tree {commit} failed: cannot read that commit's record files")
    return {path: oid for path, oid in found.items() if _RECORD_FILE.search(path)}


def _changed(root: Path, old: str | None, new: str) -> list[str]:
    """Record files added or changed from `old` to `new`, relative to the data repository."""
    if old is None:
        return list(_tree(root, new))
    out = gitrepo.run(root, "diff", "--name-only", "-z", "--relative", "--no-renames", "--diff-filter=ACMR",
                      old, new, "--", *RECORD_FOLDERS).stdout
    return [p for p in out.split("\0") if p and _RECORD_FILE.search(p)]


def _record_ids(paths: list[str]) -> list[str]:
    return list(dict.fromkeys(Path(p).stem for p in paths))


# --- ID collisions ---------------------------------------------------------------------------------

def renumber_collisions(store: Store, base: str | None, theirs: str, actor: str,
                        now: datetime) -> list[tuple[str, str]]:
    """Records this clone created that the remote also created, as different records, under the same ID:
    each local one gets the next free ID of its series; references in the records this clone changed
    follow; one commit. Returns (old, new) pairs."""
    from cslog.sync import merge

    root = store.root
    head = gitrepo.head(root)
    if head is None:
        return []
    ours_tree, theirs_tree = _tree(root, head), _tree(root, theirs)
    base_tree = _tree(root, base)
    theirs_ids = {Path(p).stem: p for p in theirs_tree}
    collisions = []
    for path, blob in ours_tree.items():
        rid = Path(path).stem
        if path in base_tree or rid not in theirs_ids:
            continue
        other = theirs_ids[rid]
        if theirs_tree[other] == blob:
            continue
        kind = kind_of_path(path)
        ours_doc, theirs_doc = _doc(root, blob), _doc(root, theirs_tree[other])
        if other == path and kind and ours_doc and theirs_doc and merge.same_record(kind, ours_doc, theirs_doc):
            continue  # one record both sides hold: the merge driver unites it
        collisions.append((kind, rid, path))
    if not collisions:
        return []
    taken = {Path(p).stem for p in theirs_tree} | {Path(p).stem for p in ours_tree}
    for kind in KINDS:
        taken |= {p.stem for p in store.record_paths(kind)}
    mapping: dict[str, str] = {}
    for kind, rid, _path in collisions:
        mapping[rid] = _next_free(store, kind, rid, taken, now)
        taken.add(mapping[rid])
    message = (f"cslog: sync renumbered {', '.join(f'{o} -> {n}' for o, n in mapping.items())}\n\n"
               "IDs taken meanwhile on the remote by other records.\n\n"
               + "".join(f"Cslog-Record: {n}\n" for n in mapping.values()) + "Cslog-Op: sync\n")
    from cslog.transaction import Journal, recover

    journal = Journal(store, "sync")  # killed before the commit: the next lock holder puts the files back
    try:
        store.commit(_rewrite(store, base, head, mapping, journal.note), message, actor, now, journal.committed)
    except BaseException:
        recover(store, quiet=True)  # a refusing hook, a failing git: the files as they were
        raise
    finally:
        journal.close()
    return list(mapping.items())


def _doc(root: Path, blob: str) -> dict | None:
    from cslog.yamlio import YamlSyntaxError, load_text

    try:
        doc = load_text(gitrepo.run(root, "cat-file", "blob", blob).stdout)
    except YamlSyntaxError:
        return None
    return doc if isinstance(doc, dict) else None


def _next_free(store: Store, kind: str, old: str, taken: set[str], now: datetime) -> str:
    """The next ID of the old one's series (same day, same station) that nobody holds."""
    fmt = store.id_format(kind)
    parsed = fmt.parse(old)
    day = parsed.day if parsed and parsed.day else now.date()
    station = parsed.station if parsed and parsed.station else store.settings.station
    best = 0
    for name in taken:
        other = fmt.parse(name)
        if other and other.station == station and (not fmt.has_date or other.day == day):
            best = max(best, other.seq)
    try:
        candidate = fmt.render(best + 1, day, station)
    except ValueError as exc:
        raise UsageError(f"cannot renumber {old}: {exc}") from None
    while candidate in taken:
        best += 1
        candidate = fmt.render(best + 1, day, station)
    return candidate


def _rewrite(store: Store, base: str | None, head: str, mapping: dict[str, str],
             note: Callable[[Path, str | None, str | None], None]) -> list[Path]:
    """Move each renamed record to its new file, with its new id, and rewrite references to it in the
    records this clone changed since `base` (no other record can know an ID that was never pushed)."""
    from cslog.yamlio import write_atomic

    root = store.root
    local = [root / p for p in _changed(store.root, base, head)]
    touched: list[Path] = []
    for path in local:
        kind = kind_of_path(str(path.relative_to(root)))
        if kind is None or not path.is_file():
            continue
        record = store.read_path(kind, path)
        doc = _renamed_refs(kind, record.doc, mapping)
        new_path = path
        if record.id in mapping and path.stem in mapping:
            doc["id"] = mapping[record.id]
            new_path = path.with_name(f"{doc['id']}{path.suffix}")  # same series, same day: same folder
        if doc == record.doc:
            continue
        text = store.render_update(record, doc)
        if new_path != path:
            store.guard_path(new_path)
            note(new_path, None, text)
            write_atomic(new_path, text)
            note(path, record.text, None)
            path.unlink()
            touched += [path, new_path]
        else:
            note(path, record.text, text)
            write_atomic(path, text)
            touched.append(path)
    return list(dict.fromkeys(touched))


def _renamed_refs(kind: str, doc: dict, mapping: dict[str, str]) -> dict:
    out = dict(doc)
    for name, _target in REFERENCES[kind]:
        value = out.get(name)
        if isinstance(value, str) and value in mapping:
            out[name] = mapping[value]
        elif isinstance(value, list):
            out[name] = [mapping.get(v, v) if isinstance(v, str) else v for v in value]
    timeline = out.get("timeline")
    if isinstance(timeline, list):
        out["timeline"] = [
            {**e, "related": [mapping.get(v, v) for v in e["related"]]}
            if isinstance(e, dict) and isinstance(e.get("related"), list) else e
            for e in timeline]
    return out


# --- merging, checking, pushing --------------------------------------------------------------------

def integrate(root: Path, theirs: str, target: Target, actor: str, now: datetime) -> list[str]:
    """Bring the remote's commits in: nothing, a fast-forward, or a merge through the record driver.
    Returns the driver's notes (fields both sides changed). A merge that stops is undone."""
    if _is_ancestor(root, theirs, "HEAD"):
        return []
    if gitrepo.head(root) is None or _is_ancestor(root, "HEAD", theirs):
        gitrepo.run(root, "merge", "--ff-only", "--quiet", theirs)
        return []
    env = gitrepo.identity_env(root, actor, now)
    proc = gitrepo.run(root, "-c", f"merge.{DRIVER}.driver={driver_command()}", "merge", "--no-ff", "--no-edit",
                       "-m", f"cslog: sync with {target.label}", theirs, env=env, check=False)
    notes = [line[len(NOTE_PREFIX):] for line in (proc.stdout + proc.stderr).splitlines()
             if line.startswith(NOTE_PREFIX)]
    if proc.returncode == 0:
        return notes
    said = [line.strip() for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    if not (gitrepo.git_dir(root) / "MERGE_HEAD").exists():  # git refused to start (local changes in the way)
        raise GitError(f"git merge {target.label} failed: {' '.join(said[-3:])}",
                       hint="commit or set aside the changes git names, then `cslog sync`")
    stuck = [p for p in gitrepo.run(root, "diff", "--name-only", "-z", "--relative", "--diff-filter=U").stdout
             .split("\0") if p]
    gitrepo.run(root, "merge", "--abort", check=False)
    detail = "; ".join(notes) or (said[-1] if said else "")
    raise GitError(f"merging {target.label} stopped on {', '.join(stuck) or 'a conflict'}; the merge was undone"
                   + (f" ({detail})" if detail else ""),
                   hint="files that are not records (cslog.yaml, schemas) changed on both sides: "
                        "`git pull`, settle them by hand, commit, then `cslog sync`")


def _is_ancestor(root: Path, a: str, b: str) -> bool:
    return gitrepo.run(root, "merge-base", "--is-ancestor", a, b, check=False).returncode == 0


def check_outgoing(store: Store, theirs: str | None, head: str, paths: list[str]) -> list[Problem]:
    """`cslog check` on the record files the push would add or change (`paths`, from `theirs` to `head`), and
    on cslog.yaml if it changed."""
    from cslog import checks

    files = [str(store.root / p) for p in paths if (store.root / p).is_file()]
    problems = checks.run_check(store, files).problems if files else []
    if theirs is None or gitrepo.run(store.root, "diff", "--quiet", theirs, head, "--", "cslog.yaml",
                                     check=False).returncode:
        problems = checks.check_config(store.root) + problems
    return problems


_RACE = ("[rejected]", "non-fast-forward", "fetch first", "failed to update ref", "cannot lock ref",
         "failed to lock", "stale info", "incorrect old value")


def push(root: Path, target: Target, head: str) -> bool:
    """True when pushed; False when the remote moved meanwhile (fetch and merge again); GitError otherwise."""
    proc = gitrepo.run(root, "push", "--porcelain", "--quiet", target.remote, f"{head}:refs/heads/{target.branch}",
                       check=False, retries=0)
    if proc.returncode == 0:
        if target.adopt:
            gitrepo.run(root, "branch", f"--set-upstream-to={target.label}", check=False)
        return True
    said = proc.stdout + proc.stderr
    if any(word in said for word in _RACE):
        return False
    raise GitError(f"git push to {target.label} failed: {proc.stderr.strip() or proc.stdout.strip()}")
