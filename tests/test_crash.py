"""Crashes: the installed cslog killed with SIGKILL at random moments during 200 writes (and its git children with
it). Afterwards no record is half-written, nothing a command reported as done is lost, and the next command works."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time

import pytest

from conftest import TICKET, cslog_bin, git

from cslog.yamlio import load_text

SEED = 20261122
WRITES = 200
WORKERS = 4  # writers at once: they queue on the repository lock, and are killed while queued too
KILL_SHARE = 0.5
LONGEST_KILL_DELAY = 0.6  # seconds after the start; a command takes about 0.3 s


def start(repo, args) -> subprocess.Popen:
    # a session of its own: the kill takes cslog's git children too, which may leave git's lock files behind
    return subprocess.Popen(cslog_bin() + [str(a) for a in args], cwd=repo, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def run(repo, *args) -> subprocess.CompletedProcess:
    return subprocess.run(cslog_bin() + [str(a) for a in args], cwd=repo, capture_output=True, text=True,
                          timeout=60)


def writer(repo, rng: random.Random, name: str, tickets: list[str], lock: threading.Lock, results: list) -> None:
    for i in range(WRITES // WORKERS):
        token = f"{name}-{i}"
        with lock:
            target = rng.choice(tickets)
        op = rng.choice(["ticket", "contact", "note", "note", "status"])
        args = {"ticket": [*TICKET[:-4], "--title", token, "--description", "无法登录", "--customer", "C0001"],
                "contact": ["new", "--customer", "C0001", "--channel", "phone", "--request", token],
                "note": ["note", target, token],
                "status": ["status", target, rng.choice(["waiting", "in_progress"]), "--note", token]}[op]
        proc = start(repo, args)
        killed = False
        if rng.random() < KILL_SHARE:
            time.sleep(rng.uniform(0, LONGEST_KILL_DELAY))
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
        out, err = proc.communicate(timeout=120)
        if killed and proc.returncode == -signal.SIGKILL:
            continue
        assert proc.returncode in (0, 2), f"{args}: exit {proc.returncode}\n{err}"
        assert "Traceback" not in err and "internal error" not in err, err
        if proc.returncode == 0:
            results.append((op, token, target, out.strip()))
            if op == "ticket":
                with lock:
                    tickets.append(out.strip())


def every_record(repo):
    for pattern in ("tickets/*/*/*.yaml", "contacts/*/*/*.yaml", "customers/*.yaml"):
        yield from repo.glob(pattern)


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing_reported(repo):
    assert run(repo, "new", "customer", "--name", "A公司").returncode == 0
    tickets = [run(repo, *TICKET, "--customer", "C0001").stdout.strip() for _ in range(3)]
    results: list = []
    lock = threading.Lock()
    threads = [threading.Thread(target=writer, args=(repo, random.Random(SEED + n), f"w{n}", tickets, lock, results))
               for n in range(WORKERS)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) > WRITES * (1 - KILL_SHARE) / 2, "too few writes completed to mean anything"

    # the next commands work: the dead processes' flocks are gone, git's stale locks are taken over
    final = run(repo, "note", tickets[0], "after the storm")
    assert final.returncode == 0, final.stderr
    made = run(repo, *TICKET, "--customer", "C0001")
    assert made.returncode == 0, made.stderr
    for lock_file in (".git/index.lock", ".git/HEAD.lock", ".git/refs/heads/main.lock"):
        assert not (repo / lock_file).exists(), lock_file
    assert not list((repo / ".git").glob("cslog-index.*"))

    # no record is half-written: every file reads and validates; check reports at most left-over temp files
    for path in every_record(repo):
        assert isinstance(load_text(path.read_text(encoding="utf-8")), dict), path
    check = run(repo, "check", "--format", "json")
    problems = json.loads(check.stdout)["problems"]
    assert {p["code"] for p in problems} <= {"temp_file"}, problems
    listed = run(repo, "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    listed_ids = {r["id"] for r in json.loads(listed.stdout)}

    # everything reported as done is there, and committed
    head_text: dict[str, str] = {}

    def committed(path) -> str:
        rel = str(path.relative_to(repo))
        if rel not in head_text:
            head_text[rel] = git(repo, "show", f"HEAD:{rel}")
        return head_text[rel]

    for op, token, target, out in results:
        if op in ("ticket", "contact"):
            path = next(repo.glob(f"*s/*/*/{out}.yaml"))
            doc = load_text(path.read_text(encoding="utf-8"))
            assert token in (doc.get("title"), doc.get("request"))
            assert token in committed(path)
            if op == "ticket":
                assert out in listed_ids
        else:
            path = next(repo.glob(f"tickets/*/*/{target}.yaml"))
            timeline = load_text(path.read_text(encoding="utf-8"))["timeline"]
            assert any(token in (e.get("text"), e.get("note")) for e in timeline), (op, token, target)
            assert token in committed(path)
    assert subprocess.run(["git", "fsck", "--no-dangling"], cwd=repo, capture_output=True).returncode == 0
    assert time.monotonic() - began < 120


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_what_a_killed_writer_leaves_is_taken_over(repo, cli, ticket):
    """git's lock files (old, no git running), a private index and temp files of dead processes."""
    gdir = repo / ".git"
    old = time.time() - 60
    stale = [gdir / "index.lock", gdir / "HEAD.lock", gdir / "refs/heads/main.lock",
             gdir / f"cslog-index.{dead_pid()}", gdir / f"cslog-index.{dead_pid()}.lock"]
    month = next(repo.glob(f"tickets/*/*/{ticket}.yaml")).parent
    temp = month / f".{ticket}.yaml.{dead_pid()}.0a1b2c3d.cslog-tmp"
    live_temp = month / f".{ticket}.yaml.{os.getpid()}.0a1b2c3d.cslog-tmp"
    elsewhere = repo / "contacts/2026/11/.GT202611220001.yaml.1.0a1b2c3d.cslog-tmp"
    elsewhere.parent.mkdir(parents=True)
    for path in stale + [temp, live_temp, elsewhere]:
        path.write_text("half", encoding="utf-8")
        os.utime(path, (old, old))
    listed = run(repo, "list", "--format", "json")
    assert [r["id"] for r in json.loads(listed.stdout)] == [ticket]  # temp files are not records
    check = json.loads(run(repo, "check", "--format", "json").stdout)["problems"]
    assert {p["code"] for p in check} == {"temp_file"}
    assert "left-over temporary file of an interrupted write" in check[0]["message"]

    began = time.monotonic()
    result = run(repo, "note", ticket, "接着处理")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - began < 10
    assert [p for p in stale if p.exists()] == []
    assert not temp.exists() and live_temp.exists()  # only a dead writer's temp file is removed
    assert elsewhere.exists()  # a folder nobody wrote to is left to `check`
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""


def test_a_fresh_git_lock_is_waited_for_then_taken_over(repo, ticket):
    lock = repo / ".git/index.lock"
    lock.write_text("", encoding="utf-8")
    began = time.monotonic()
    result = run(repo, "note", ticket, "接着处理")
    assert result.returncode == 0, result.stderr
    assert 4 < time.monotonic() - began < 30  # STALE_LOCK_SECONDS: a live git would have finished by then
    assert not lock.exists()


def test_a_lock_held_by_a_running_git_is_not_taken(repo, ticket, tmp_path):
    """A git process working in the repository (here: `git commit` waiting for its editor) keeps its lock."""
    from cslog import gitrepo

    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsleep 3\necho message > \"$1\"\n", encoding="utf-8")
    editor.chmod(0o755)
    (repo / "notes.txt").write_text("x", encoding="utf-8")
    git(repo, "add", "notes.txt")
    user = subprocess.Popen(["git", "commit", "-q"], cwd=repo, env={**os.environ, "GIT_EDITOR": str(editor)})
    time.sleep(1)
    try:
        if not gitrepo.git_running(repo):
            pytest.skip("no /proc here: cslog never removes git's locks by itself")
        lock = repo / ".git/index.lock"
        lock.write_text("", encoding="utf-8")
        os.utime(lock, (time.time() - 60,) * 2)
        gitrepo.take_over_stale_lock(repo, f"fatal: Unable to create '{lock}': File exists.")
        assert lock.exists()
        lock.unlink()
    finally:
        user.wait(timeout=30)
    assert not gitrepo.git_running(repo)


def test_an_import_killed_half_way_is_put_back_and_a_rerun_commits_everything(repo, tmp_path):
    """issue 15, item 3: a kill -9 leaves no uncommitted customers for a re-run to reuse, and a fresh clone has
    every record its tickets refer to."""
    sheet = tmp_path / "跟踪表.csv"
    rows = ["工单编号,客户名称,联系方式,问题类型,紧急程度,问题描述,处理人,处理进度,任务开始时间"]
    rows += [f"A{i:03d},客户{i}公司,1381234{i:04d},故障,高,无法登录系统{i},小明,处理中,2026-11-20 09:00"
             for i in range(300)]
    sheet.write_text("\n".join(rows) + "\n", encoding="utf-8")
    journal = repo / ".cslog/journal"
    proc = start(repo, ["import", sheet])
    deadline = time.monotonic() + 60
    while not (journal.exists() and journal.read_text(encoding="utf-8").count("\n") >= 20):
        assert proc.poll() is None and time.monotonic() < deadline, "the import ended before it could be killed"
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    left = git(repo, "status", "--porcelain", "--untracked-files=all", "--", "customers", "tickets")
    assert left  # what a killed import leaves: files nobody committed

    again = run(repo, "import", sheet)
    assert again.returncode == 0, again.stderr
    assert "`cslog import` was killed before its commit" in again.stderr and "put back" in again.stderr
    assert "imported 300 tickets, 300 new customers" in again.stderr
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    clone = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    assert len(list((clone / "customers").glob("*.yaml"))) == 300
    check = run(clone, "check")
    assert check.returncode == 0, check.stdout


@pytest.mark.parametrize("cache", [[], ["--no-cache"]], ids=["index", "no index"])
def test_check_reports_an_untracked_record_that_committed_records_refer_to(repo, cache):
    assert run(repo, "--no-commit", "new", "customer", "--name", "未提交公司").returncode == 0
    customer = git(repo, "status", "--porcelain", "--untracked-files=all").split()[-1]
    ticket = run(repo, *TICKET, "--customer", customer.rpartition("/")[2][:-5])
    assert ticket.returncode == 0, ticket.stderr
    check = run(repo, "check", *cache)
    assert check.returncode == 1
    assert f"{customer}:" in check.stdout and "git does not track this file" in check.stdout
    assert f"git add {customer}" in check.stdout
    git(repo, "add", customer)
    git(repo, "commit", "-q", "-m", "the customer too")
    assert run(repo, "check", *cache).returncode == 0
