"""Whatever happens to the files (cslog's commits, edits by hand in place, pulls, resets, history rewrites,
files git ignores, symlinked folders, no git at all), the index answers as reading every file does."""
from __future__ import annotations

import json
import random
import shutil
import time
from pathlib import Path

import pytest

from cslog.index import Index, scan
from cslog.store import Store
from conftest import TICKET, git


def truth(repo: Path) -> dict:
    """What reading every file says: an index built in memory from the files."""
    idx = Index.open(Store.open(repo), use_cache=False)
    return {kind: sorted(json.dumps(r, sort_keys=True, ensure_ascii=False) for r in idx.rows(kind))
            for kind in ("ticket", "contact", "customer")}


def answers(repo: Path) -> tuple[dict, Index]:
    idx = Index.open(Store.open(repo), warn=lambda _m: None)
    got = {kind: sorted(json.dumps(r, sort_keys=True, ensure_ascii=False) for r in idx.rows(kind))
           for kind in ("ticket", "contact", "customer")}
    idx.close()
    return got, idx


def ticket_file(repo: Path, tid: str) -> Path:
    return next(repo.glob(f"tickets/*/*/{tid}.yaml"))


def retitle(path: Path, title: str) -> None:
    """An edit by hand, in place (the folder's mtime does not move)."""
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition("\ntitle: ")
    with open(path, "r+", encoding="utf-8") as f:
        f.write(head + "\ntitle: " + title + "\n" + rest.partition("\n")[2])
        f.truncate()


def test_cslog_commits_pulls_resets_and_history_rewrites(cli, repo, customer, tmp_path):
    first = cli.ok(*TICKET, "--customer", customer)
    answers(repo)
    second = cli.ok(*TICKET, "--customer", customer)
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
    retitle(ticket_file(repo, first), "改写历史")
    git(repo, "commit", "-q", "--amend", "-am", "rewritten")
    git(repo, "reflog", "expire", "--expire=now", "--all")
    git(repo, "gc", "-q", "--prune=now")
    got, idx = answers(repo)
    assert got == truth(repo)


def test_new_files_git_ignores_are_still_seen(cli, repo, ticket):
    answers(repo)
    (repo / ".gitignore").write_text((repo / ".gitignore").read_text() + "tickets/**/*-draft.yaml\n")
    draft = ticket_file(repo, ticket).with_name("CW202611229999-draft.yaml")
    shutil.copy(ticket_file(repo, ticket), draft)
    got, idx = answers(repo)
    assert idx.changes.added == [draft.relative_to(repo).as_posix()] and got == truth(repo)


def test_edits_behind_a_symlinked_record_folder_are_seen(cli, repo, ticket, tmp_path):
    month = ticket_file(repo, ticket).parent
    elsewhere = tmp_path / "elsewhere"
    shutil.move(str(month), elsewhere)
    month.symlink_to(elsewhere)
    answers(repo)
    retitle(elsewhere / f"{ticket}.yaml", "链接后面的修改")
    got, idx = answers(repo)
    assert idx.changes.modified and got == truth(repo)


def test_a_repository_without_git_is_followed_too(cli, repo, ticket):
    answers(repo)
    shutil.move(str(repo / ".git"), str(repo / "git-away"))
    try:
        retitle(ticket_file(repo, ticket), "没有 git 时的修改")
        got, idx = answers(repo)
        assert idx.changes.modified and got == truth(repo)
    finally:
        shutil.move(str(repo / "git-away"), str(repo / ".git"))


@pytest.mark.parametrize("seed, forked", [(seed, seed % 2 == 1) for seed in range(6)])
def test_any_sequence_of_changes_reads_as_the_files_do(cli, repo, customer, seed, forked, monkeypatch):
    """Random edits, adds, deletes, commits, checkouts and resets, with the index opened in between (forked:
    the folders listed by two processes, as in a repository of many months)."""
    if forked:
        monkeypatch.setattr(scan, "FORK_AT", 1)
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
            folder = present[0].parent if rng.random() < 0.7 else repo / "tickets" / "2026" / f"{rng.randint(1, 9):02d}"
            folder.mkdir(parents=True, exist_ok=True)
            copy = folder / f"CW20261122{900 + step}.yaml"
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
        if rng.random() < 0.7:
            got, _idx = answers(repo)
            assert got == truth(repo), (seed, step, action)
    got, _idx = answers(repo)
    assert got == truth(repo)


@pytest.mark.slow
def test_a_reading_command_waits_for_a_rebuild_in_another_process(cli, repo, ticket):
    """A rebuild holds the index's write lock while the rows go in: a cron `overdue` meanwhile waits for it
    (design.md: cslog processes wait for each other instead of failing)."""
    import subprocess
    import sys

    slow = ("import sys, time; from cslog.index import tables, queries\n"
            "real = tables.Batch.flush\n"
            "def slow(self):\n"
            "    time.sleep(3); real(self)\n"
            "tables.Batch.flush = slow\n"
            "from pathlib import Path; from cslog.store import Store\n"
            f"queries.rebuild(Store.open(Path({str(repo)!r})))\n")
    rebuild = subprocess.Popen([sys.executable, "-c", slow], stderr=subprocess.PIPE)
    time.sleep(1.5)  # the rebuild is under way
    started = time.monotonic()
    overdue = subprocess.run([sys.executable, "-m", "cslog", "-C", str(repo), "overdue", "--at",
                              "2026-12-31T18:00:00+08:00", "--format", "json"], capture_output=True, text=True)
    assert rebuild.wait(timeout=60) == 0, rebuild.stderr.read()
    assert overdue.returncode == 1, overdue.stderr
    assert json.loads(overdue.stdout)[0]["id"] == ticket and time.monotonic() - started > 0.5
