"""A clone's git policy holds for cslog's commits (issue 15, item 5): the hooks `git commit` would run, run
(a refusing one leaves no commit and the files as they were, exit 3), and commit.gpgsign signs. Through the
installed cslog, so the hooks' own output is seen where a user sees it."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import cslog_bin, commit_count, git


def cslog(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*cslog_bin(), "-C", str(repo), *args], capture_output=True, text=True)


def hook(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(0o755)
    return path


def test_a_refusing_pre_commit_hook_leaves_no_commit_and_the_file_as_it_was(repo, ticket, tmp_path):
    seen = tmp_path / "staged.txt"
    hook(repo / ".git/hooks", "pre-commit",
         f'git diff --cached --name-only > "{seen}"\necho "pre-commit: 不许提交" >&2\nexit 1\n')
    path = repo / f"tickets/2026/11/{ticket}.yaml"
    before, commits = path.read_text(encoding="utf-8"), commit_count(repo)
    result = cslog(repo, "note", ticket, "钩子不许")
    assert result.returncode == 3, result.stderr
    assert "pre-commit: 不许提交" in result.stderr and "pre-commit hook refused the commit" in result.stderr
    assert "Traceback" not in result.stderr
    assert path.read_text(encoding="utf-8") == before and commit_count(repo) == commits
    assert git(repo, "status", "--porcelain") == ""
    assert seen.read_text(encoding="utf-8").split() == [f"tickets/2026/11/{ticket}.yaml"]  # what it was asked about
    (repo / ".git/hooks/pre-commit").unlink()
    assert cslog(repo, "note", ticket, "钩子走了").returncode == 0


def test_message_hooks_edit_the_message_and_post_commit_runs(repo, ticket, tmp_path):
    told = tmp_path / "post.txt"
    hooks = repo / ".git/hooks"
    hook(hooks, "prepare-commit-msg", 'test "$2" = message || exit 1\n')
    hook(hooks, "commit-msg", 'echo "Reviewed-by: 组长" >> "$1"\n')
    hook(hooks, "post-commit", f'git rev-parse HEAD > "{told}"\n')
    assert cslog(repo, "note", ticket, "有钩子").returncode == 0
    message = git(repo, "log", "-1", "--format=%B")
    assert message.startswith(f"cslog: {ticket} note") and "Reviewed-by: 组长" in message
    assert told.read_text(encoding="utf-8").strip() == git(repo, "rev-parse", "HEAD").strip()


def test_a_refusing_commit_msg_hook_under_core_hooks_path(repo, ticket):
    hook(repo / "team-hooks", "commit-msg", 'grep -q "^JIRA-" "$1" || { echo "commit-msg: 需要 JIRA 编号" >&2; exit 1; }\n')
    git(repo, "config", "core.hooksPath", "team-hooks")
    commits = commit_count(repo)
    result = cslog(repo, "assign", ticket, "小红")
    assert result.returncode == 3 and "需要 JIRA 编号" in result.stderr and "commit-msg hook" in result.stderr
    assert commit_count(repo) == commits
    assert git(repo, "status", "--porcelain", "--", "tickets") == ""


def test_cslogs_own_pre_commit_check_is_not_run_twice(repo, ticket):
    assert cslog(repo, "setup-git", "--hook").returncode == 0
    hook_text = (repo / ".git/hooks/pre-commit").read_text(encoding="utf-8")
    (repo / ".git/hooks/pre-commit").write_text(hook_text + "\nopen(os.path.join(top, 'ran'), 'w').close()\n")
    assert cslog(repo, "note", ticket, "自己的钩子").returncode == 0
    assert not (repo / "ran").exists()  # cslog's writes have passed the gate its hook runs


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is needed to make a signing key")
def test_commit_gpgsign_signs_cslogs_commits(repo, ticket, tmp_path):
    key = tmp_path / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "tester", "-f", str(key)], check=True)
    allowed = tmp_path / "allowed_signers"
    allowed.write_text("tester@example.com " + (tmp_path / "key.pub").read_text(encoding="utf-8"), encoding="utf-8")
    for name, value in [("gpg.format", "ssh"), ("user.signingkey", str(key)), ("commit.gpgsign", "true"),
                        ("gpg.ssh.allowedSignersFile", str(allowed))]:
        git(repo, "config", name, value)
    assert cslog(repo, "note", ticket, "签名").returncode == 0
    assert git(repo, "log", "-1", "--format=%G?").strip() == "G"
    git(repo, "config", "user.signingkey", str(tmp_path / "missing-key"))
    path = repo / f"tickets/2026/11/{ticket}.yaml"
    before, commits = path.read_text(encoding="utf-8"), commit_count(repo)
    failed = cslog(repo, "note", ticket, "签不了")
    assert failed.returncode == 3 and "Traceback" not in failed.stderr
    assert path.read_text(encoding="utf-8") == before and commit_count(repo) == commits


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGKILL"])
def test_a_command_stopped_in_its_post_commit_hook_keeps_its_commit_and_its_files(repo, ticket, tmp_path, signal_name):
    """The commit is made before post-commit runs: Ctrl-C or kill -9 then must not take the files back (the next
    write would commit the loss)."""
    import os
    import signal
    import time

    reached = tmp_path / "reached"
    hook(repo / ".git/hooks", "post-commit", f'touch "{reached}"\nsleep 30\n')
    # (no pipes: the hook's sleep may outlive cslog, in a process group of git's, and would hold them open)
    proc = subprocess.Popen([*cslog_bin(), "-C", str(repo), "note", ticket, "钩子里被打断"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not reached.exists():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    os.killpg(proc.pid, getattr(signal, signal_name))
    proc.wait(timeout=30)
    (repo / ".git/hooks/post-commit").unlink()
    assert "钩子里被打断" in git(repo, "show", f"HEAD:tickets/2026/11/{ticket}.yaml")
    assert git(repo, "status", "--porcelain", "--", "tickets") == ""
    after = cslog(repo, "note", ticket, "接着写")
    assert after.returncode == 0 and "put back" not in after.stderr
    committed = git(repo, "show", f"HEAD:tickets/2026/11/{ticket}.yaml")
    assert "钩子里被打断" in committed and "接着写" in committed
