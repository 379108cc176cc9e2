"""Commits of exactly the changed files, built from HEAD's trees on the changed paths only."""
from __future__ import annotations

import subprocess
from pathlib import Path

from cslog import gitrepo
from conftest import git


def tree_of_worktree(repo: Path) -> str:
    """What `git add -A` + write-tree would make, in a private index."""
    env = {"GIT_INDEX_FILE": str(repo / ".git" / "probe-index")}
    import os

    full = {**os.environ, **env}
    subprocess.run(["git", "read-tree", "HEAD"], cwd=repo, env=full, check=True)
    subprocess.run(["git", "add", "-A", "."], cwd=repo, env=full, check=True)
    tree = subprocess.run(["git", "write-tree"], cwd=repo, env=full, check=True, capture_output=True,
                          text=True).stdout.strip()
    (repo / ".git" / "probe-index").unlink()
    return tree


def test_new_folder_change_and_removal_in_one_commit(repo):
    (repo / "tickets/2027/01").mkdir(parents=True)
    (repo / "tickets/2027/01/CW202701010001.yaml").write_text("id: CW202701010001\n", encoding="utf-8")
    (repo / "customers/C0009.yaml").write_text("id: C0009\nname: 甲\n", encoding="utf-8")
    gitrepo.commit_paths(repo, ["tickets/2027/01/CW202701010001.yaml", "customers/C0009.yaml"], "add\n")
    (repo / "customers/C0009.yaml").write_text("id: C0009\nname: 乙\n", encoding="utf-8")
    (repo / "tickets/2027/01/CW202701010001.yaml").unlink()
    (repo / "contacts/2027/02").mkdir(parents=True)
    (repo / "contacts/2027/02/GT202702010001.yaml").write_text("id: GT202702010001\n", encoding="utf-8")
    (repo / "unrelated.txt").write_text("not for cslog\n", encoding="utf-8")
    head = gitrepo.commit_paths(repo, ["customers/C0009.yaml", "tickets/2027/01/CW202701010001.yaml",
                                       "contacts/2027/02/GT202702010001.yaml"], "change\n")
    changed = git(repo, "show", "--name-status", "--format=", head).split("\n")
    assert sorted(filter(None, changed)) == ["A\tcontacts/2027/02/GT202702010001.yaml", "D\ttickets/2027/01/CW202701010001.yaml",
                                             "M\tcustomers/C0009.yaml"]
    assert "tickets/2027" not in git(repo, "ls-tree", "-r", "-t", "--name-only", head)  # empty folders go
    assert git(repo, "status", "--porcelain") == "?? unrelated.txt\n"
    (repo / "unrelated.txt").unlink()
    assert tree_of_worktree(repo) == git(repo, "rev-parse", f"{head}^{{tree}}").strip()
    git(repo, "fsck", "--no-dangling")


def test_a_data_repository_in_a_subfolder(tmp_path):
    top = tmp_path / "top"
    (top / "desk" / "customers").mkdir(parents=True)
    git(top, "init", "-q")
    (top / "README").write_text("x\n")
    git(top, "add", "README")
    git(top, "commit", "-qm", "first")
    (top / "desk/customers/C0001.yaml").write_text("id: C0001\n", encoding="utf-8")
    head = gitrepo.commit_paths(top / "desk", ["customers/C0001.yaml"], "add\n")
    assert git(top, "show", "--name-only", "--format=", head).split() == ["desk/customers/C0001.yaml"]
    assert git(top, "status", "--porcelain") == ""
