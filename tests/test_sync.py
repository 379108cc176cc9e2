"""Teams with several clones: a bare remote, three clones, cslog sync, the merge driver, setup-git."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Cli, commit_count, git, head

from cslog import sync as sync_mod
from cslog.yamlio import load_text

DAY = "2026-11-22"
TICKET = ["new", "ticket", "--customer", "C0001", "--type", "投诉", "--priority", "重要", "--channel", "电话",
          "--description", "物流延误"]


class Clone:
    """One agent's clone: runs cslog in it as that agent, at the times given."""

    def __init__(self, path: Path, agent: str):
        self.path = path
        self.agent = agent
        self.cli = Cli(path)

    def run(self, *args: str, at: str = "10:00"):
        return self.cli(*args, env={"CSLOG_AGENT": self.agent, "CSLOG_NOW": f"{DAY}T{at}:00+08:00"})

    def ok(self, *args: str, at: str = "10:00") -> str:
        result = self.run(*args, at=at)
        assert result.exit_code == 0, f"{self.agent}: cslog {' '.join(args)} -> {result.exit_code}\n{result.stderr}"
        return result.stdout.strip()

    def sync(self, *args: str, at: str = "18:00"):
        result = self.run("sync", *args, at=at)
        assert result.exit_code == 0, f"{self.agent}: cslog sync -> {result.exit_code}\n{result.stdout}{result.stderr}"
        return result

    def ticket(self, title: str, at: str = "10:00") -> str:
        return self.ok(*TICKET, "--title", title, at=at)

    def doc(self, record_id: str) -> dict:
        found = list(self.path.glob(f"*/**/{record_id}.yaml"))
        assert len(found) == 1, found
        return load_text(found[0].read_text(encoding="utf-8"))

    def files(self) -> dict[str, str]:
        return {str(p.relative_to(self.path)): p.read_text(encoding="utf-8")
                for folder in ("tickets", "contacts", "customers", "actions") for p in (self.path / folder).rglob("*.yaml")}


@pytest.fixture
def remote(repo, tmp_path) -> Path:
    """The team's shared repository, made from a fresh `cslog init` with one customer in it."""
    Cli(repo).ok("new", "customer", "--name", "A公司")
    bare = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    return bare


def make_clone(remote: Path, name: str, agent: str, *setup: str) -> Clone:
    path = remote.parent / name
    git(remote.parent, "clone", "-q", str(remote), str(path))
    clone = Clone(path, agent)
    clone.ok("setup-git", *setup)
    return clone


@pytest.fixture
def team(remote) -> tuple[Clone, Clone, Clone]:
    return (make_clone(remote, "a", "小明"), make_clone(remote, "b", "小红"), make_clone(remote, "c", "小李"))


def settle(*clones: Clone) -> None:
    """Sync every clone until they all hold the same commit: the last of one round holds everything."""
    for clone in clones:
        clone.sync()
    for clone in clones[:-1]:
        clone.sync()
    heads = {head(c.path) for c in clones}
    assert len(heads) == 1, "clones did not converge"


def assert_consistent(*clones: Clone) -> None:
    """Same files everywhere, no conflict markers, `cslog check` clean, a clean work tree."""
    first = clones[0].files()
    for clone in clones:
        assert clone.files() == first
        assert git(clone.path, "status", "--porcelain") == ""
        assert clone.run("check").exit_code == 0, clone.run("check").stdout
    for text in first.values():
        assert "<<<<<<<" not in text and ">>>>>>>" not in text


def all_events(clone: Clone) -> list[str]:
    return [json.dumps(e, sort_keys=True, ensure_ascii=False)
            for p in sorted((clone.path / "tickets").rglob("*.yaml"))
            for e in load_text(p.read_text(encoding="utf-8"))["timeline"]]


# --- setting clones up -------------------------------------------------------------------------------

def test_init_sets_up_attributes_and_the_driver(repo):
    attributes = (repo / ".gitattributes").read_text(encoding="utf-8")
    for folder in ("tickets", "contacts", "customers"):
        assert f"{folder}/** merge=cslog" in attributes
    assert git(repo, "ls-files", ".gitattributes").strip() == ".gitattributes"  # committed with init
    driver = git(repo, "config", "merge.cslog.driver").strip()
    assert driver == f"{sys.executable} -m cslog merge-driver %O %A %B %P"


def test_setup_git_in_a_fresh_clone(remote):
    path = remote.parent / "fresh"
    git(remote.parent, "clone", "-q", str(remote), str(path))
    assert subprocess.run(["git", "config", "merge.cslog.driver"], cwd=path).returncode == 1
    before = commit_count(path)
    Cli(path).ok("setup-git", "--station", "SH")
    assert git(path, "config", "merge.cslog.driver").strip().endswith("-m cslog merge-driver %O %A %B %P")
    assert git(path, "config", "cslog.station").strip() == "SH"
    assert commit_count(path) == before  # .gitattributes was already right: nothing to commit


def test_setup_git_commits_missing_attributes(remote):
    path = remote.parent / "old"
    git(remote.parent, "clone", "-q", str(remote), str(path))
    git(path, "rm", "-q", ".gitattributes")
    git(path, "commit", "-q", "-m", "an older repository")
    Cli(path).ok("setup-git")
    assert "tickets/** merge=cslog" in git(path, "show", "HEAD:.gitattributes")
    assert git(path, "status", "--porcelain") == ""


def test_attributes_are_added_to_an_existing_file(tmp_path):
    (tmp_path / ".gitattributes").write_text("*.xlsx binary\ntickets/** merge=cslog\n", encoding="utf-8")
    assert sync_mod.write_attributes(tmp_path)
    lines = (tmp_path / ".gitattributes").read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ["*.xlsx binary", "tickets/** merge=cslog"]
    assert lines[-3:] == ["contacts/** merge=cslog", "customers/** merge=cslog", "actions/** merge=cslog"]
    assert not sync_mod.write_attributes(tmp_path)  # nothing more to add


def test_setup_git_refuses_a_bad_station(remote, team):
    result = team[0].run("setup-git", "--station", "北京")
    assert result.exit_code == 2
    assert "station code" in result.stderr


def test_the_pre_commit_hook_checks_staged_records(team):
    a = team[0]
    a.ok("setup-git", "--hook")
    hook = a.path / ".git/hooks/pre-commit"
    assert "cslog setup-git --hook" in hook.read_text()
    bad = a.path / "tickets/2026/11/CW202611229999.yaml"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text("id: CW202611229999\ntitle: 缺字段\n", encoding="utf-8")
    git(a.path, "add", str(bad))
    refused = subprocess.run(["git", "commit", "-q", "-m", "bad"], cwd=a.path, capture_output=True, text=True)
    assert refused.returncode != 0
    assert "CW202611229999.yaml" in refused.stdout + refused.stderr
    git(a.path, "reset", "-q", "--", str(bad))
    bad.unlink()
    # a commit touching no record passes
    (a.path / "NOTES.txt").write_text("x", encoding="utf-8")
    git(a.path, "add", "NOTES.txt")
    git(a.path, "commit", "-q", "-m", "notes")


def test_the_hook_leaves_someone_elses_hook_alone(team):
    a = team[0]
    (a.path / ".git/hooks/pre-commit").write_text("#!/bin/sh\nexit 0\n")
    result = a.run("setup-git", "--hook")
    assert result.exit_code == 2
    assert "is not cslog's" in result.stderr


def test_pre_commit_hooks_manifest_runs_cslog_check():
    manifest = load_text((Path(__file__).resolve().parent.parent / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in manifest if h["id"] == "cslog-check")
    assert hook["entry"] == "cslog check"
    assert hook["language"] == "python"
    import re

    pattern = re.compile(hook["files"])
    assert pattern.search("tickets/2026/11/CW202611220001.yaml")
    assert pattern.search("customers/C0001.yml")
    assert not pattern.search("cslog.yaml")


# --- sync ------------------------------------------------------------------------------------------

def test_concurrent_new_records_on_three_clones(team):
    a, b, c = team
    made = {clone.agent: [clone.ticket(f"{clone.agent}的工单{i}", at=f"1{i}:00") for i in range(2)]
            for clone in team}
    contact = c.ok("new", "contact", "--customer", "C0001", "--channel", "phone", "--request", "催单",
                   "--ticket", made["小李"][0], at="12:30")
    # all three allocated the same IDs offline
    assert made["小明"] == made["小红"] == made["小李"] == ["CW202611220001", "CW202611220002"]
    first = a.sync()
    assert first.stdout == ""  # the first to push keeps its IDs
    assert "out: 2 record(s)" in first.stderr
    second = b.sync()
    assert second.stdout.splitlines() == ["CW202611220001 -> CW202611220003", "CW202611220002 -> CW202611220004"]
    assert "in:  2 record(s)" in second.stderr
    third = c.sync()
    assert third.stdout.splitlines() == ["CW202611220001 -> CW202611220005", "CW202611220002 -> CW202611220006"]
    settle(a, b, c)
    assert_consistent(a, b, c)
    titles = {a.doc(f"CW20261122{n:04d}")["title"] for n in range(1, 7)}
    assert titles == {f"{agent}的工单{i}" for agent in ("小明", "小红", "小李") for i in range(2)}
    # the contact follows its ticket's new ID, both ways
    assert a.doc(contact)["ticket"] == "CW202611220005"
    assert a.doc("CW202611220005")["contacts"] == [contact]
    assert a.doc("CW202611220005")["title"] == "小李的工单0"


def test_an_id_collision_renumbers_the_unpushed_record_and_its_references(team):
    a, b, _c = team
    ta = a.ticket("A的投诉")
    ca = a.ok("new", "customer", "--name", "B公司")
    tb = b.ticket("B的投诉", at="10:05")
    cb = b.ok("new", "customer", "--name", "C公司", at="10:06")
    other = b.ticket("B的第二单", at="10:07")
    b.ok("link", tb, other, at="10:08")
    contact = b.ok("new", "contact", "--customer", cb, "--channel", "phone", "--request", "退款", "--ticket", tb,
                   at="10:09")
    assert (ta, ca) == (tb, cb) == ("CW202611220001", "C0002")
    a.sync()
    result = b.sync()
    # B's second ticket took an ID A never had: it stays; the renumbered one skips it
    assert result.stdout.splitlines() == ["C0002 -> C0003", "CW202611220001 -> CW202611220003"]
    settle(a, b)
    assert_consistent(a, b)
    assert a.doc("CW202611220001")["title"] == "A的投诉"
    assert a.doc("C0002")["name"] == "B公司"
    assert a.doc("C0003")["name"] == "C公司"
    renamed = a.doc("CW202611220003")
    assert renamed["title"] == "B的投诉"
    assert renamed["related"] == ["CW202611220002"]
    assert renamed["contacts"] == [contact]
    linked = [e for e in a.doc("CW202611220002")["timeline"] if e["kind"] == "linked"]
    assert linked[0]["related"] == ["CW202611220003"]  # the `linked` event follows too
    assert a.doc("CW202611220002")["related"] == ["CW202611220003"]
    assert a.doc(contact)["ticket"] == "CW202611220003"
    assert a.doc(contact)["customer"] == "C0003"
    # one commit for the renumbering, and `history` follows the file
    log = git(b.path, "log", "--format=%s")
    assert log.count("sync renumbered") == 1
    assert "C0002 -> C0003, CW202611220001 -> CW202611220003" in log


def test_the_same_ticket_changed_on_two_clones(team):
    a, b, c = team
    tid = a.ticket("无法登录", at="09:00")
    settle(a, b, c)
    a.ok("status", tid, "in_progress", at="10:00")
    b.ok("note", tid, "已联系客户,等待回电", at="10:30")
    c.ok("reply", tid, "正在处理", at="10:45")
    settle(a, b, c)
    assert_consistent(a, b, c)
    doc = a.doc(tid)
    assert doc["status"] == "in_progress"
    assert [(e["kind"], e["by"]) for e in doc["timeline"]] == [
        ("created", "小明"), ("status", "小明"), ("note", "小红"), ("reply", "小李")]


def test_the_same_field_changed_on_two_clones(team):
    a, b, c = team
    tid = a.ticket("无法登录", at="09:00")
    settle(a, b, c)
    a.ok("status", tid, "in_progress", at="10:00")
    a.ok("assign", tid, "小明", at="10:01")
    b.ok("status", tid, "waiting", at="11:00")
    b.ok("assign", tid, "小红", at="09:30")
    a.sync()
    result = b.sync()
    assert "merged " + tid + ": kept status waiting; the other clone had in_progress" in result.stderr
    settle(a, b, c)
    assert_consistent(a, b, c)
    doc = c.doc(tid)
    assert doc["status"] == "waiting"  # the later status event wins
    assert doc["owner"] == "小明"  # the later assignment wins
    notes = [e["text"] for e in doc["timeline"] if e["by"] == "cslog"]
    assert notes == ["merge: kept owner 小明; the other clone had 小红",
                     "merge: kept status waiting; the other clone had in_progress"]
    assert doc["timeline"][-1]["by"] != "cslog"
    moments = [e["at"] for e in doc["timeline"]]
    assert moments == sorted(moments)


def test_every_event_from_every_clone_arrives_once(team):
    a, b, c = team
    tid = a.ticket("批量事件", at="09:00")
    settle(a, b, c)
    expected = set(all_events(a))
    for n, clone in enumerate(team):
        for i in range(2):
            clone.ok("note", tid, f"{clone.agent} 第{i}条", at=f"1{i}:{n}5")
        expected |= set(all_events(clone))
        clone.ticket(f"{clone.agent}的新单", at="12:00")
    settle(a, b, c)
    assert_consistent(a, b, c)
    events = all_events(a)
    assert len(events) == len(set(events))
    assert expected <= set(events)
    assert len(a.doc(tid)["timeline"]) == 1 + 6


def test_a_push_race_is_retried(team):
    a, b, _c = team
    b.ticket("B抢先", at="10:00")
    # A's pre-push hook makes B push first, once: A's push is rejected and A must fetch and merge again
    hook = a.path / ".git/hooks/pre-push"
    hook.write_text(f"""#!{sys.executable}
import os, pathlib, subprocess, sys
marker = pathlib.Path({str(a.path / '.git/raced')!r})
if not marker.exists():
    marker.write_text("1")
    env = {{k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k.startswith("GIT_CONFIG")}}
    env.update(CSLOG_AGENT="小红", CSLOG_NOW="{DAY}T10:30:00+08:00")
    subprocess.run([sys.executable, "-m", "cslog", "-C", {str(b.path)!r}, "sync"], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
""")
    hook.chmod(0o755)
    a.ticket("A在后", at="10:10")
    result = a.sync()
    assert "moved while pushing" in result.stderr
    assert result.stdout.strip() == "CW202611220001 -> CW202611220002"
    assert (a.path / ".git/raced").exists()
    settle(a, b)
    assert_consistent(a, b)
    assert {a.doc("CW202611220001")["title"], a.doc("CW202611220002")["title"]} == {"B抢先", "A在后"}


def test_sync_with_a_named_remote(team, remote, tmp_path):
    a, b, _c = team
    other = tmp_path / "mirror.git"
    git(tmp_path, "clone", "-q", "--bare", str(remote), str(other))
    git(a.path, "remote", "add", "team", str(other))
    a.ticket("走另一个远程")
    result = a.sync("--remote", "team")
    assert "out: 1 record(s) to team/main" in result.stderr
    assert git(other, "log", "-1", "--format=%s").startswith("cslog: CW202611220001")
    assert git(remote, "log", "-1", "--format=%s").startswith("cslog: C0001")  # origin untouched
    assert git(a.path, "rev-parse", "--abbrev-ref", "main@{upstream}").strip() == "origin/main"  # still
    unknown = a.run("sync", "--remote", "nowhere")
    assert unknown.exit_code == 2 and "no remote named 'nowhere'" in unknown.stderr


def test_the_first_sync_fills_an_empty_remote_and_adopts_it(repo, tmp_path):
    empty = tmp_path / "empty.git"
    git(tmp_path, "init", "-q", "--bare", str(empty))
    git(repo, "remote", "add", "origin", str(empty))
    cli = Cli(repo)
    cli.ok("new", "customer", "--name", "A公司")
    result = cli("sync")
    assert result.exit_code == 0, result.stderr
    assert "out: 1 record(s) to origin/main: C0001" in result.stderr
    assert git(empty, "rev-parse", "main") == git(repo, "rev-parse", "HEAD")
    assert git(repo, "rev-parse", "--abbrev-ref", "main@{upstream}").strip() == "origin/main"


def test_sync_merges_records_in_clones_nobody_set_up(remote, repo):
    git(repo, "rm", "-q", ".gitattributes")  # a repository from before cslog had a merge driver
    git(repo, "commit", "-q", "-m", "older layout")
    git(repo, "push", "-q", str(remote), "main")
    clones = []
    for name, agent in (("x", "小明"), ("y", "小红")):
        git(remote.parent, "clone", "-q", str(remote), str(remote.parent / name))
        clones.append(Clone(remote.parent / name, agent))
    x, y = clones
    tid = x.ticket("老仓库", at="09:00")
    x.sync()
    y.sync()
    x.ok("status", tid, "in_progress", at="10:00")
    y.ok("note", tid, "老仓库也能合并", at="10:30")
    x.sync()
    y.sync()
    settle(x, y)
    assert_consistent(x, y)
    assert [e["kind"] for e in y.doc(tid)["timeline"]] == ["created", "status", "note"]
    assert not (y.path / ".gitattributes").exists()  # nothing committed behind the team's back


def test_sync_up_to_date_says_so(team):
    result = team[0].sync()
    assert result.stdout == ""
    assert "up to date with origin/main" in result.stderr


def test_sync_refuses_to_push_records_that_fail_check(team, remote):
    a = team[0]
    bad = a.path / "tickets/2026/11/CW202611220009.yaml"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text("id: CW202611220009\ntitle: 手写的\nstatus: 已完成\n", encoding="utf-8")
    git(a.path, "add", str(bad))
    git(a.path, "commit", "-q", "-m", "hand-written")
    before = git(remote, "rev-parse", "main")
    result = a.run("sync")
    assert result.exit_code == 1
    assert "tickets/2026/11/CW202611220009.yaml:" in result.stdout
    assert "not pushed" in result.stderr
    assert git(remote, "rev-parse", "main") == before


def test_sync_refuses_uncommitted_record_files(team):
    a = team[0]
    a.ok("--no-commit", *TICKET, "--title", "未提交")
    result = a.run("sync")
    assert result.exit_code == 2
    assert "uncommitted changes in record files" in result.stderr


def test_a_plain_git_pull_merges_records_through_the_driver(team):
    a, b, _c = team
    tid = a.ticket("用 git pull", at="09:00")
    a.sync()
    b.sync()
    a.ok("status", tid, "in_progress", at="10:00")
    a.sync()
    b.ok("note", tid, "B的备注", at="10:30")
    pulled = subprocess.run(["git", "pull", "--no-rebase", "--no-edit", "-q"], cwd=b.path, capture_output=True,
                            text=True)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    doc = b.doc(tid)
    assert doc["status"] == "in_progress"
    assert [e["kind"] for e in doc["timeline"]] == ["created", "status", "note"]
    assert "<<<<<<<" not in (b.path / f"tickets/2026/11/{tid}.yaml").read_text()
    assert b.run("check").exit_code == 0


def test_a_data_repository_in_a_subfolder_of_the_git_repository(tmp_path):
    top = tmp_path / "top"
    top.mkdir()
    git(top, "init", "-q")
    (top / "README.txt").write_text("the team's other files\n", encoding="utf-8")
    git(top, "add", "README.txt")
    git(top, "commit", "-q", "-m", "start")
    (top / "desk").mkdir()  # an existing folder of the repository: the data joins it
    Cli(top / "desk").ok("init", str(top / "desk"), repo=False)
    Cli(top / "desk").ok("new", "customer", "--name", "A公司")
    bare = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(top), str(bare))
    clones = []
    for name, agent in (("a", "小明"), ("b", "小明")):  # one agent at two desks, the same second
        git(tmp_path, "clone", "-q", str(bare), str(tmp_path / name))
        clones.append(Clone(tmp_path / name / "desk", agent))
        clones[-1].ok("setup-git")
    a, b = clones
    assert a.ticket("A的单") == b.ticket("B的单") == "CW202611220001"
    a.sync()
    assert b.sync().stdout.strip() == "CW202611220001 -> CW202611220002"
    settle(a, b)
    assert_consistent(a, b)
    assert {a.doc(f"CW20261122000{n}")["title"] for n in (1, 2)} == {"A的单", "B的单"}


def test_station_codes_give_each_clone_its_own_series(remote, repo):
    cli = Cli(repo)
    config = repo / "cslog.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "ticket: 'CW{date:%Y%m%d}{seq:04d}'", "ticket: 'CW{station}{date:%Y%m%d}{seq:03d}'"), encoding="utf-8")
    git(repo, "commit", "-q", "-am", "station series")
    git(repo, "push", "-q", str(remote), "main")
    assert cli("check").exit_code == 0
    a = make_clone(remote, "bj", "小明", "--station", "BJ")
    b = make_clone(remote, "sh", "小红", "--station", "SH")
    assert [a.ticket("北京单", at=f"10:0{i}") for i in range(2)] == ["CWBJ20261122001", "CWBJ20261122002"]
    assert b.ticket("上海单") == "CWSH20261122001"
    assert a.sync().stdout == ""
    assert b.sync().stdout == ""  # nothing to renumber
    settle(a, b)
    assert_consistent(a, b)


# --- the merge driver on its own ---------------------------------------------------------------------

def _driver(tmp_path: Path, base: str, ours: str, theirs: str, name: str = "tickets/2026/11/CW202611220001.yaml"):
    files = []
    for label, text in (("O", base), ("A", ours), ("B", theirs)):
        path = tmp_path / label
        path.write_text(text, encoding="utf-8")
        files.append(str(path))
    proc = subprocess.run([sys.executable, "-m", "cslog", "merge-driver", *files, name], capture_output=True,
                          text=True, cwd=tmp_path)
    return proc, (tmp_path / "A").read_text(encoding="utf-8")


def test_the_driver_keeps_both_records_of_an_id_collision(tmp_path, team):
    """design.md 9.3: two different records at one path are never resolved by taking one side."""
    a, b, _c = team
    ours = (a.path / f"tickets/2026/11/{a.ticket('我们的')}.yaml").read_text(encoding="utf-8")
    theirs = (b.path / f"tickets/2026/11/{b.ticket('他们的', at='10:30')}.yaml").read_text(encoding="utf-8")
    proc, result = _driver(tmp_path, "", ours, theirs)
    assert proc.returncode == 1
    assert "ID collision" in proc.stderr and "git merge --abort" in proc.stderr and "cslog sync" in proc.stderr
    assert result == f"<<<<<<< ours\n{ours}=======\n{theirs}>>>>>>> theirs\n"


def test_a_plain_git_pull_after_an_id_collision_loses_nothing(team):
    a, b, _c = team
    mine = a.ticket("A的工单", at="09:00")
    a.sync()
    theirs = b.ticket("B的工单", at="09:30")
    assert mine == theirs  # the same ID, given out on two clones
    path = b.path / f"tickets/2026/11/{mine}.yaml"
    pulled = subprocess.run(["git", "pull", "--no-rebase", "--no-edit"], cwd=b.path, capture_output=True, text=True)
    assert pulled.returncode != 0 and "git merge --abort" in pulled.stdout + pulled.stderr
    text = path.read_text(encoding="utf-8")
    assert "A的工单" in text and "B的工单" in text and text.startswith("<<<<<<<")
    check = b.run("check")
    assert check.exit_code == 1
    assert f"tickets/2026/11/{mine}.yaml:1: git conflict markers" in check.stdout
    assert "unmerged" in check.stdout and "a merge is in progress" in check.stdout
    refused = b.run("note", mine, "合并中写入")
    assert refused.exit_code == 2 and "a merge is in progress" in refused.stderr
    assert path.read_text(encoding="utf-8") == text  # nothing written
    git(b.path, "commit", "-q", "-am", "merge")  # what a hurried user does: both records are still in the file
    committed = git(b.path, "show", f"HEAD:tickets/2026/11/{mine}.yaml")
    assert "A的工单" in committed and "B的工单" in committed
    assert b.run("check").exit_code == 1


def test_a_write_during_a_stopped_rebase_is_refused(team):
    a = team[0]
    tid = a.ticket("变基", at="09:00")
    (a.path / "notes.txt").write_text("one\n", encoding="utf-8")
    git(a.path, "add", "notes.txt")
    git(a.path, "commit", "-q", "-m", "notes")
    git(a.path, "checkout", "-q", "-b", "side", "HEAD~1")
    (a.path / "notes.txt").write_text("two\n", encoding="utf-8")
    git(a.path, "add", "notes.txt")
    git(a.path, "commit", "-q", "-m", "other notes")
    stopped = subprocess.run(["git", "rebase", "main"], cwd=a.path, capture_output=True, text=True)
    assert stopped.returncode != 0  # stops on the conflict in notes.txt
    before = a.files()
    refused = a.run("note", tid, "变基中的备注", at="10:00")
    assert refused.exit_code == 2 and "a rebase is in progress" in refused.stderr and "git rebase --abort" in refused.stderr
    assert a.files() == before
    git(a.path, "rebase", "--abort")
    git(a.path, "checkout", "-q", "main")
    assert a.run("note", tid, "变基后的备注", at="10:05").exit_code == 0


def test_the_driver_refuses_broken_yaml_and_leaves_ours(tmp_path, team):
    a = team[0]
    ours = (a.path / f"tickets/2026/11/{a.ticket('我们的')}.yaml").read_text(encoding="utf-8")
    proc, result = _driver(tmp_path, ours, ours + "\ntags: [登录\n", "<<<<<<< HEAD\n")
    assert proc.returncode == 1
    assert "cannot merge" in proc.stderr
    assert "<<<<<<<" not in result


def test_the_driver_merges_other_files_like_git(tmp_path):
    proc, result = _driver(tmp_path, "a\nb\nc\n", "A\nb\nc\n", "a\nb\nC\n", name="tickets/README.txt")
    assert proc.returncode == 0
    assert result == "A\nb\nC\n"


def test_kind_of_path():
    assert sync_mod.kind_of_path("tickets/2026/11/CW202611220001.yaml") == "ticket"
    assert sync_mod.kind_of_path("desk/contacts/2026/11/GT202611220001.yml") == "contact"
    assert sync_mod.kind_of_path("customers/C0001.yaml") == "customer"
    assert sync_mod.kind_of_path("customers/.gitkeep") is None
    assert sync_mod.kind_of_path("cslog.yaml") is None


# -- a sync killed half-way (issue 15, item 4) ---------------------------------------------------------------

def _killed_at_hook(clone: Clone, hook: str, *args: str) -> None:
    """Run the installed `cslog sync` in the clone with a git hook that waits, and kill it (and its git) there."""
    import os
    import signal
    import time

    from conftest import cslog_bin

    mark = clone.path.parent / f"{clone.path.name}-{hook}.reached"
    path = clone.path / ".git/hooks" / hook
    path.write_text(f'#!/bin/sh\ntouch "{mark}"\nsleep 60\n', encoding="utf-8")
    path.chmod(0o755)
    env = {**os.environ, "CSLOG_AGENT": clone.agent, "CSLOG_NOW": f"{DAY}T18:00:00+08:00"}
    proc = subprocess.Popen([*cslog_bin(), "-C", str(clone.path), "sync", *args], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not mark.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the hook was never reached"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    path.unlink()


def test_a_sync_killed_while_committing_its_renumbering_is_put_back_and_taken_up(team):
    a, b, _c = team
    mine = a.ticket("A的工单", at="09:00")
    a.sync()
    assert b.ticket("B的工单", at="09:30") == mine  # the same ID on two clones: B's sync renumbers its own
    _killed_at_hook(b, "pre-commit")  # cslog commits the renumbering through the clone's hooks
    assert (b.path / ".cslog/journal").exists()
    again = b.run("sync", at="18:05")
    assert again.exit_code == 0, again.stderr
    assert "`cslog sync` was killed before its commit" in again.stderr and "put back" in again.stderr
    settle(a, b)
    assert_consistent(a, b)
    titles = sorted(a.doc(p.stem)["title"] for p in (a.path / "tickets").rglob("*.yaml"))
    assert titles == ["A的工单", "B的工单"]


def test_a_sync_killed_in_the_middle_of_its_merge_says_how_to_undo_it(team):
    a, b, _c = team
    a.ticket("A的工单", at="09:00")
    a.sync()
    b.ok("new", "customer", "--name", "B公司", at="09:30")  # no collision: B's sync merges
    _killed_at_hook(b, "pre-merge-commit")
    stopped = b.run("sync", at="18:05")
    assert stopped.exit_code == 2
    assert "the last `cslog sync`" in stopped.stderr and "interrupted while it merged origin/main" in stopped.stderr
    assert "git reset --merge" in stopped.stderr  # git is killed in its hook: the files merged, no merge to abort
    git(b.path, "reset", "--merge")
    b.sync(at="18:10")
    settle(a, b)
    assert_consistent(a, b)


def test_improvement_actions_merge_and_renumber_like_the_other_records(team):
    a, b, c = team
    new = ["action", "new", "--problem", "产品质量-物流延误", "--measure", "每日推送", "--owner", "老周",
           "--department", "运营部", "--due", "2026-12-31"]
    aid = a.ok(*new, "--title", "物流延误预警", at="09:00")
    settle(a, b, c)
    a.ok("action", "done", aid, "--result", "预警上线", at="11:00")
    b.ok("set", aid, "due_at=2027-01-15", "--reason", "延期", at="10:30")
    first = b.ok(*new, "--title", "B的措施", at="12:00")  # the same new ID on two clones
    second = c.ok(*new, "--title", "C的措施", at="12:05")
    assert first == second
    settle(a, b, c)
    assert_consistent(a, b, c)
    doc = c.doc(aid)
    assert doc["status"] == "done" and doc["result"] == "预警上线" and doc["due_at"].startswith("2027-01-15")
    assert [e["kind"] for e in doc["timeline"]] == ["created", "changed", "done"]
    titles = sorted(load_text(p.read_text(encoding="utf-8"))["title"] for p in (c.path / "actions").rglob("*.yaml"))
    assert titles == ["B的措施", "C的措施", "物流延误预警"]
    a.ok("action", "done", first, "--result", "做完了", at="13:00")  # done on one clone, dropped later on another
    b.ok("action", "drop", first, "--reason", "不需要了", at="14:00")
    settle(a, b, c)
    assert_consistent(a, b, c)  # (check passes: no done_at or result on a dropped action)
    doc = a.doc(first)
    assert doc["status"] == "dropped" and "done_at" not in doc and "result" not in doc
    assert [e["kind"] for e in doc["timeline"]] == ["created", "done", "dropped"]


def test_a_plain_clone_merges_records_with_plain_git_after_its_first_cslog_write(remote):
    """Nobody ran `cslog setup-git` in it: the first cslog write installs the driver in .git/config."""
    a = make_clone(remote, "a", "小明")
    tid = a.ticket("用 git clone 的同事", at="09:00")
    a.sync()
    git(remote.parent, "clone", "-q", str(remote), str(remote.parent / "plain"))
    b = Clone(remote.parent / "plain", "小红")
    b.ok("note", tid, "B的备注", at="10:30")
    a.ok("status", tid, "in_progress", at="10:00")
    a.sync()
    pulled = subprocess.run(["git", "pull", "--no-rebase", "--no-edit", "-q"], cwd=b.path, capture_output=True,
                            text=True)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert [e["kind"] for e in b.doc(tid)["timeline"]] == ["created", "status", "note"]
    assert b.run("check").exit_code == 0
