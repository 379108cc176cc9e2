"""The index learns what changed from git (the tracked files that differ, and what differs between the commit it
last saw and HEAD) and from the folders' mtimes (new files) instead of stat'ing every file; whatever happens to the
files, it must answer as reading them does."""
from __future__ import annotations

import json
import os
import random
import shutil
import time
from pathlib import Path

import pytest

from cslog import index as index_module
from cslog.index import Index
from cslog.store import Store
from conftest import TICKET, git


def open_index(repo: Path, **kw) -> Index:
    return Index.open(Store.open(repo), warn=lambda _m: None, progress=False, **kw)


def truth(repo: Path) -> dict:
    """What reading every file says: the index built in memory from the files."""
    idx = Index.open(Store.open(repo), use_cache=False, progress=False)
    return {kind: sorted(json.dumps(r, sort_keys=True, ensure_ascii=False) for r in idx.rows(kind))
            for kind in ("ticket", "contact", "customer")}


def answers(repo: Path) -> tuple[dict, Index]:
    idx = open_index(repo)
    got = {kind: sorted(json.dumps(r, sort_keys=True, ensure_ascii=False) for r in idx.rows(kind))
           for kind in ("ticket", "contact", "customer")}
    idx.close()
    return got, idx


def state(repo: Path, stamps: bool = False) -> dict:
    """The git way's state (stamps: with the folders' mtimes)."""
    idx = open_index(repo)
    row = idx.db.execute("SELECT value FROM meta WHERE key = 'git'").fetchone()
    idx.close()
    found = json.loads(row[0]) if row else {}
    if not stamps:
        found.pop("stamps", None)
    return found


def age_folders(repo: Path, seconds: float) -> None:
    """Set the record folders' mtimes (and those above them) that many seconds back: old enough to trust."""
    when = time.time() - seconds
    for top in ("tickets", "contacts", "customers"):
        for folder in [repo / top, *(repo / top).glob("*"), *(repo / top).glob("*/*")]:
            if folder.is_dir() and not folder.is_symlink():
                os.utime(folder, (when, when))


def ticket_file(repo: Path, tid: str) -> Path:
    return next(repo.glob(f"tickets/*/*/{tid}.yaml"))


def retitle(path: Path, title: str) -> None:
    """An edit by hand, in place (the folder's mtime does not move)."""
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition("\ntitle: ")
    with open(path, "r+", encoding="utf-8") as f:
        f.write(head + "\ntitle: " + title + "\n" + rest.partition("\n")[2])
        f.truncate()


def test_the_everyday_open_asks_git_and_stats_nothing(cli, repo, ticket):
    open_index(repo).close()
    idx = open_index(repo)
    assert not idx.changes and idx.last_scan is None  # no scan of the folders
    assert state(repo) == {"base": git(repo, "rev-parse", "HEAD").strip(), "dirty": []}


def test_folders_whose_mtime_did_not_move_are_not_listed(cli, repo, ticket, monkeypatch):
    """New files come without git reading every folder: a folder is listed only when its mtime moved."""
    age_folders(repo, 60)
    open_index(repo).close()
    assert state(repo, stamps=True)["stamps"]["tickets/2026/11"] != 0  # old enough to trust
    listed = []
    real = index_module._entries
    monkeypatch.setattr(index_module, "_entries", lambda path: listed.append(path) or real(path))
    idx = open_index(repo)
    assert not idx.changes and listed == []
    idx.close()
    new = ticket_file(repo, ticket).with_name("CW202611229998.yaml")  # untracked, made by hand
    shutil.copy(ticket_file(repo, ticket), new)
    got, idx = answers(repo)
    assert listed == [str(new.parent)]  # that folder alone
    assert idx.changes.added == [new.relative_to(repo).as_posix()] and got == truth(repo)


def test_a_month_folder_made_by_hand_is_seen(cli, repo, ticket):
    age_folders(repo, 60)
    open_index(repo).close()
    month = repo / "tickets" / "2027" / "01"
    month.mkdir(parents=True)
    shutil.copy(ticket_file(repo, ticket), month / "CW202701050001.yaml")
    got, idx = answers(repo)
    assert idx.changes.added == ["tickets/2027/01/CW202701050001.yaml"] and got == truth(repo)
    assert state(repo)["dirty"] == ["tickets/2027/01/CW202701050001.yaml"]
    (month / "CW202701050001.yaml").unlink()  # gone again: the dirty list says to look
    got, idx = answers(repo)
    assert idx.changes.removed == ["tickets/2027/01/CW202701050001.yaml"] and got == truth(repo)


def test_edits_by_hand_reverts_and_commits_are_seen(cli, repo, ticket):
    path = ticket_file(repo, ticket)
    rel = path.relative_to(repo).as_posix()
    open_index(repo).close()
    retitle(path, "手工修改的标题")
    got, idx = answers(repo)
    assert idx.changes.modified == [rel] and got == truth(repo)
    assert state(repo)["dirty"] == [rel]
    git(repo, "checkout", "--", rel)  # back to HEAD's bytes: only the dirty list says to look
    got, idx = answers(repo)
    assert idx.changes.modified == [rel] and got == truth(repo)
    assert state(repo)["dirty"] == []
    retitle(path, "再次修改")
    answers(repo)
    git(repo, "commit", "-qam", "hand edit")
    got, idx = answers(repo)
    assert not idx.changes and got == truth(repo)
    assert state(repo) == {"base": git(repo, "rev-parse", "HEAD").strip(), "dirty": []}


def test_cslog_commits_pulls_resets_and_history_rewrites(cli, repo, customer, tmp_path):
    first = cli.ok(*TICKET, "--customer", customer)
    open_index(repo).close()
    second = cli.ok(*TICKET, "--customer", customer)  # cslog's own commit moves HEAD
    got, idx = answers(repo)
    assert idx.changes.added == [ticket_file(repo, second).relative_to(repo).as_posix()] and got == truth(repo)
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(repo), str(other))
    retitle(ticket_file(other, first), "另一台电脑上的修改")
    git(other, "commit", "-qam", "elsewhere")
    git(repo, "pull", "-q", "--no-rebase", str(other), "main")
    got, idx = answers(repo)
    assert idx.changes.modified == [ticket_file(repo, first).relative_to(repo).as_posix()] and got == truth(repo)
    git(repo, "reset", "-q", "--hard", "HEAD~2")
    got, idx = answers(repo)
    assert got == truth(repo)
    # the commit the index last saw is rewritten away and pruned: git cannot say what changed since
    retitle(ticket_file(repo, first), "改写历史")
    git(repo, "commit", "-q", "--amend", "-am", "rewritten")
    git(repo, "reflog", "expire", "--expire=now", "--all")
    git(repo, "gc", "-q", "--prune=now")
    got, idx = answers(repo)
    assert got == truth(repo)
    assert state(repo)["base"] == git(repo, "rev-parse", "HEAD").strip()


def test_new_files_git_ignores_are_still_seen(cli, repo, ticket):
    open_index(repo).close()
    (repo / ".gitignore").write_text((repo / ".gitignore").read_text() + "tickets/**/*-draft.yaml\n")
    draft = ticket_file(repo, ticket).with_name("CW202611229999-draft.yaml")
    shutil.copy(ticket_file(repo, ticket), draft)
    got, idx = answers(repo)
    assert idx.changes.added == [draft.relative_to(repo).as_posix()] and got == truth(repo)


def test_symlinked_record_folders_go_the_scan_way(cli, repo, ticket, tmp_path):
    month = ticket_file(repo, ticket).parent
    elsewhere = tmp_path / "elsewhere"
    shutil.move(str(month), elsewhere)
    month.symlink_to(elsewhere)
    open_index(repo).close()
    assert state(repo) == {}
    retitle(elsewhere / f"{ticket}.yaml", "链接后面的修改")  # git sees only the link
    got, idx = answers(repo)
    assert idx.changes.modified and got == truth(repo)


def test_a_tree_git_cannot_read_goes_the_scan_way(cli, repo, ticket):
    open_index(repo).close()
    shutil.move(str(repo / ".git"), str(repo / "git-away"))
    try:
        retitle(ticket_file(repo, ticket), "没有 git 时的修改")
        got, idx = answers(repo)
        assert idx.changes.modified and got == truth(repo)
    finally:
        shutil.move(str(repo / "git-away"), str(repo / ".git"))


@pytest.mark.parametrize("seed", range(6))
def test_any_sequence_of_changes_reads_as_the_files_do(cli, repo, customer, seed):
    """Random edits, adds, deletes, commits, checkouts and resets, with the index opened in between."""
    rng = random.Random(seed)
    ids = [cli.ok(*TICKET, "--customer", customer) for _ in range(4)]
    files = [ticket_file(repo, t) for t in ids]
    commits = [git(repo, "rev-parse", "HEAD").strip()]
    for step in range(14):
        action = rng.choice(["edit", "edit", "add", "remove", "commit", "checkout", "reset", "revert", "new"])
        present = [p for p in files if p.exists()]
        if action == "edit" and present:
            retitle(rng.choice(present), f"第{step}次修改")
        elif action == "add" and present:
            copy = present[0].with_name(f"CW20261122{900 + step}.yaml")
            shutil.copy(present[0], copy)
            files.append(copy)
        elif action == "remove" and present:
            rng.choice(present).unlink()
        elif action == "commit":
            git(repo, "add", "-A", "tickets")
            git(repo, "commit", "-qm", f"step {step}", "--allow-empty")
            commits.append(git(repo, "rev-parse", "HEAD").strip())
        elif action == "checkout" and present:
            git(repo, "checkout", "-q", "--", "tickets")
        elif action == "reset":
            git(repo, "reset", "-q", "--hard", rng.choice(commits))
            git(repo, "clean", "-qfd", "tickets")
        elif action == "revert" and len(commits) > 1:
            git(repo, "checkout", "-q", rng.choice(commits), "--", "tickets")
        elif action == "new":  # cslog commits its file alone, whatever else is changed
            files.append(ticket_file(repo, cli.ok(*TICKET, "--customer", customer)))
            commits.append(git(repo, "rev-parse", "HEAD").strip())
        if rng.random() < 0.5:  # folders old enough that their mtimes are trusted (not moved: not listed)
            age_folders(repo, 100 - step)
        if rng.random() < 0.7:
            got, _idx = answers(repo)
            assert got == truth(repo), (seed, step, action)
    got, _idx = answers(repo)
    assert got == truth(repo)


def test_a_commit_made_while_git_is_asked_is_seen_as_head_moving(cli, repo, ticket, monkeypatch):
    """diff-index compares git's index with the commit rev-parse named, not with HEAD as it is by then: a
    commit in between (of a staged edit) shows as HEAD moving, not as nothing changed."""
    import subprocess

    from cslog import gitrepo

    store = Store.open(repo)
    Index.open(store).close()
    path = ticket_file(repo, ticket)
    retitle(path, "暂存后提交的修改")
    past = time.time() - 30
    os.utime(path, (past, past))
    git(repo, "add", str(path))
    real = subprocess.run

    def run(args, *a, **kw):
        if "diff-index" in args:
            real(["git", "commit", "-q", "-m", "elsewhere"], cwd=repo, check=True)
        return real(args, *a, **kw)

    monkeypatch.setattr(gitrepo.subprocess, "run", run)
    index = Index.open(store, defer=True)
    assert index.ask(lambda ix: ix.rows("ticket", ["title"])[0]["title"]) == "暂存后提交的修改"
    index.close()


@pytest.mark.slow
def test_a_reading_command_waits_for_a_rebuild_in_another_process(cli, repo, ticket):
    """A rebuild holds the index file (rollback journal) while the rows go in: a cron `overdue` meanwhile
    waits for it (design.md: cslog processes wait for each other instead of failing)."""
    import subprocess
    import sys

    slow = ("import sys, time; from cslog import index\n"
            "real = index.Index._insert\n"
            "def slow(self, *a):\n"
            "    time.sleep(3); real(self, *a)\n"
            "index.Index._insert = slow\n"
            "from pathlib import Path; from cslog.store import Store\n"
            f"index.rebuild(Store.open(Path({str(repo)!r})), progress=False)\n")
    rebuild = subprocess.Popen([sys.executable, "-c", slow], stderr=subprocess.PIPE)
    time.sleep(1.5)  # the rebuild is in its transaction
    started = time.monotonic()
    overdue = subprocess.run([sys.executable, "-m", "cslog", "-C", str(repo), "overdue", "--at",
                              "2026-12-31T18:00:00+08:00", "--format", "json"], capture_output=True, text=True)
    assert rebuild.wait(timeout=60) == 0, rebuild.stderr.read()
    assert overdue.returncode == 1, overdue.stderr
    assert json.loads(overdue.stdout)[0]["id"] == ticket and time.monotonic() - started > 0.5
