"""The index (.cslog/index.sqlite): it notices every change to the files (also edits that put the modification
time back, git checkouts, pulls and resets), rebuilds itself when it must, and answers list, check, overdue and
report exactly as reading the files does."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from cslog import checks
from cslog.index import Index, queries, scan
from cslog.index.key import FORMAT
from cslog.ops.overdue import find_overdue
from cslog.store import Store
from cslog.yamlio import YamlSyntaxError, _Fallback, _load_full, _load_plain, load_text
from conftest import PROJECT, TICKET, git


def open_index(repo: Path, **kw) -> tuple[Index, list[str]]:
    warnings: list[str] = []
    idx = Index.open(Store.open(repo), warn=warnings.append, **kw)
    return idx, warnings


def ticket_path(repo: Path, tid: str) -> Path:
    return next(repo.glob(f"tickets/*/*/{tid}.yaml"))


def rel(repo: Path, path: Path) -> str:
    return path.relative_to(repo).as_posix()


def test_notices_added_edited_and_removed_files(cli, repo, customer):
    first = cli.ok(*TICKET, "--customer", customer)
    idx, warnings = open_index(repo)
    assert idx.changes.rebuilt and warnings == []
    assert [r["id"] for r in idx.rows("ticket")] == [first]
    second = cli.ok(*TICKET, "--customer", customer)
    idx, _ = open_index(repo)
    assert idx.changes.added == [rel(repo, ticket_path(repo, second))] and not idx.changes.rebuilt
    path = ticket_path(repo, first)
    path.write_text(path.read_text(encoding="utf-8").replace("title: 无法登录系统", "title: 改过的标题"), encoding="utf-8")
    idx, _ = open_index(repo)
    assert idx.changes.modified == [rel(repo, path)]
    assert [r["title"] for r in idx.rows("ticket")] == ["改过的标题", "无法登录系统"]
    path.unlink()
    idx, _ = open_index(repo)
    assert idx.changes.removed == [rel(repo, path)]
    assert [r["id"] for r in idx.rows("ticket")] == [second]
    idx, _ = open_index(repo)
    assert not idx.changes


def test_a_same_size_edit_in_the_same_clock_tick_is_still_seen(cli, repo, ticket):
    path = ticket_path(repo, ticket)
    open_index(repo)  # just written: too recent to trust its mtime
    before = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("无法登录系统", "无法登陆系统"), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    idx, _ = open_index(repo)
    assert idx.changes.modified == [rel(repo, path)]
    assert idx.rows("ticket")[0]["title"] == "无法登陆系统"


def test_an_edit_that_puts_the_modification_time_back_is_seen(cli, repo, ticket, monkeypatch):
    """touch -d, cp -p, rsync -t, a restore: same size, same mtime; only the change time tells."""
    monkeypatch.setattr(scan, "RACY_NS", 0)
    path = ticket_path(repo, ticket)
    open_index(repo)
    before = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("priority: urgent", "priority: normal"),
                    encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    idx, _ = open_index(repo)
    assert idx.changes.modified == [rel(repo, path)]
    assert idx.rows("ticket")[0]["priority"] == "normal"
    assert json.loads(cli.ok("list", "--format", "json"))[0]["priority"] == "normal"


def test_git_checkout_of_another_commit(cli, repo, customer):
    first = cli.ok(*TICKET, "--customer", customer)
    older = git(repo, "rev-parse", "HEAD").strip()
    second = cli.ok(*TICKET, "--customer", customer)
    cli.ok("reply", first, "已联系客户")
    idx, _ = open_index(repo)
    assert {r["id"] for r in idx.rows("ticket")} == {first, second}
    git(repo, "checkout", "-q", older)
    idx, _ = open_index(repo)
    assert idx.changes.removed == [rel(repo, ticket_path(repo, first).with_name(f"{second}.yaml"))]
    assert idx.changes.modified == [rel(repo, ticket_path(repo, first))]
    assert [r["id"] for r in idx.rows("ticket")] == [first]
    assert [e["kind"] for e in idx.docs("ticket", [first])[0]["timeline"]] == ["created"]
    git(repo, "checkout", "-q", "main")
    idx, _ = open_index(repo)
    assert len(idx.changes.added) == 1 and len(idx.changes.modified) == 1
    assert [e["kind"] for e in idx.docs("ticket", [first])[0]["timeline"]] == ["created", "reply"]


def test_a_damaged_index_is_rebuilt_with_a_warning(cli, repo, ticket):
    open_index(repo)[0].close()  # (an open connection in this process would still see the old pages)
    (repo / ".cslog" / "index.sqlite").write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        (repo / ".cslog" / f"index.sqlite{suffix}").unlink(missing_ok=True)
    idx, warnings = open_index(repo)
    assert len(warnings) == 1 and "damaged" in warnings[0] and "rebuilding" in warnings[0]
    assert [r["id"] for r in idx.rows("ticket")] == [ticket]
    result = cli("list")
    assert result.exit_code == 0 and ticket in result.stdout


def test_an_index_of_an_older_format_is_rebuilt_with_a_warning(repo, ticket):
    idx, _ = open_index(repo)
    key = json.loads(idx.db.execute("SELECT value FROM meta WHERE key = 'key'").fetchone()[0])
    key["format"] = FORMAT - 1
    idx.db.execute("UPDATE meta SET value = ? WHERE key = 'key'", (json.dumps(key),))
    idx.close()
    idx, warnings = open_index(repo)
    assert idx.changes.rebuilt and "another format" in warnings[0]
    assert [r["id"] for r in idx.rows("ticket")] == [ticket]


def test_a_rebuild_beside_an_open_reader(repo, ticket):
    """The index stays in WAL mode, where readers never wait for a writer."""
    path = repo / ".cslog" / "index.sqlite"
    queries.rebuild(Store.open(repo))
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    reader = sqlite3.connect(path)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM records").fetchone()[0] > 0
    idx, warnings = open_index(repo)
    key = json.loads(idx.db.execute("SELECT value FROM meta WHERE key = 'key'").fetchone()[0])
    key["format"] = FORMAT - 1  # rebuilt while `reader` reads
    idx.db.execute("UPDATE meta SET value = ? WHERE key = 'key'", (json.dumps(key),))
    idx.close()
    idx, warnings = open_index(repo)
    assert idx.changes.rebuilt and [r["id"] for r in idx.rows("ticket")] == [ticket]
    reader.execute("COMMIT")
    assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reader.close()


def test_a_config_change_rebuilds_quietly(repo, ticket):
    open_index(repo)
    config = repo / "cslog.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("resolve: 4h}", "resolve: 8h}"), encoding="utf-8")
    idx, warnings = open_index(repo)
    assert idx.changes.rebuilt and warnings == []
    idx, _ = open_index(repo)
    assert not idx.changes


def test_no_cache_touches_nothing_under_cslog(repo, ticket):
    shutil.rmtree(repo / ".cslog", ignore_errors=True)
    idx, _ = open_index(repo, use_cache=False)
    assert [r["id"] for r in idx.rows("ticket")] == [ticket]
    assert not (repo / ".cslog" / "index.sqlite").exists()


def test_unreadable_files_are_problems_not_rows(cli, repo, ticket):
    broken = ticket_path(repo, ticket).with_name("CW202611220099.yaml")
    broken.write_text("id: [unclosed\n", encoding="utf-8")
    idx, _ = open_index(repo)
    assert [r["id"] for r in idx.rows("ticket")] == [ticket]
    assert [p for p, _m in idx.problems("ticket")] == [rel(repo, broken)]


def test_list_is_the_same_with_and_without_the_index(cli, repo, customer):
    cli.ok(*TICKET, "--customer", customer, "--category", "技术故障-登录", "--tag", "VIP", "--owner", "小明")
    cli.ok("new", "ticket", "--customer", customer, "--type", "投诉", "--priority", "一般", "--channel", "email",
           "--title", "账单多扣费", "--description", "上月多扣费200元", "--received-at", "2026-11-20 09:00")
    tid = cli.ok(*TICKET, "--customer", customer)
    cli.ok("status", tid, "in_progress")
    cli.ok("new", "--customer", customer, "--channel", "phone", "--request", "咨询保修")
    hand = repo / "tickets/2026/11/CW202611229999.yaml"  # hand-written: odd values stay as they are
    hand.write_text("id: CW202611229999\ntitle: 手写\ntype: fault\npriority: 紧急\nstatus: new\nchannel: phone\n"
                    "customer: C0001\nreceived_at: 2026-11-21 08:00\ndescription: x\ntags: [a, b]\n"
                    "timeline: [{at: 2026-11-21 08:00, by: 小明, kind: created}]\n", encoding="utf-8")
    odd = repo / "tickets/2026/11/CW202611229998.yaml"  # a field of the wrong type: unreadable either way
    odd.write_text(hand.read_text(encoding="utf-8").replace("title: 手写", "title: 123"), encoding="utf-8")
    for args in (["list"], ["list", "--open"], ["list", "--status", "处理中"], ["list", "--category", "技术故障"],
                 ["list", "--tag", "VIP"], ["list", "--since", "2026-11-21"], ["list", "--until", "2026-11-21"],
                 ["list", "contacts"], ["list", "customers"], ["list", "--owner", "小明"]):
        for fmt in ("json", "csv", "table"):
            cached = cli(*args, "--format", fmt)
            plain = cli(*args, "--format", fmt, "--no-cache")
            assert (cached.exit_code, cached.stdout) == (plain.exit_code, plain.stdout), args
    rows = json.loads(cli("list", "--format", "json").stdout)
    # a label is read as its code; a file that fails its schema is left out (with a warning)
    assert [(r["priority"], r["received_at"]) for r in rows if r["id"].startswith("CW20261122999")] == [
        ("urgent", "2026-11-21 08:00")]
    assert "CW202611229998.yaml" in cli("list").stderr


def test_check_validates_only_what_changed(cli, repo, customer):
    first = cli.ok(*TICKET, "--customer", customer)
    cli.ok(*TICKET, "--customer", customer)
    store = Store.open(repo)
    result = checks.run_check(store)
    assert result.ok and result.validated == result.files == 3
    # the files are younger than the racy window: they are read and validated once more
    scan.RACY_NS, racy = 0, scan.RACY_NS
    try:
        checks.run_check(store)
        assert checks.run_check(store).validated == 0
        path = ticket_path(repo, first)
        path.write_text(path.read_text(encoding="utf-8").replace("priority: urgent", "priority: 特急"),
                        encoding="utf-8")
        result = checks.run_check(store)
        assert result.validated == 1
        assert [p.code for p in result.problems] == ["schema"]
        assert checks.run_check(store).validated == 1  # a file with problems is validated every time
    finally:
        scan.RACY_NS = racy


def test_check_still_finds_duplicates_and_references_across_files(cli, repo, customer):
    first = cli.ok(*TICKET, "--customer", customer)
    second = cli.ok(*TICKET, "--customer", customer)
    store = Store.open(repo)
    scan.RACY_NS, racy = 0, scan.RACY_NS
    try:
        checks.run_check(store)
        assert checks.run_check(store).validated == 0
        # a copy under another name: a duplicate id in a file that is new, against one that is clean
        copy = ticket_path(repo, second).with_name("CW202611220050.yaml")
        shutil.copy(ticket_path(repo, second), copy)
        # the customer disappears: clean tickets now refer to nothing
        (repo / f"customers/{customer}.yaml").unlink()
        cached = checks.run_check(store)
        plain = checks.run_check(store, use_cache=False)
        assert cached.problems == plain.problems
        codes = sorted(p.code for p in cached.problems)
        assert codes.count("reference") == 3 and codes.count("duplicate") == 2 and "id_mismatch" in codes
        assert cached.validated == 1
        partial = checks.run_check(store, [str(ticket_path(repo, first))])
        assert partial.problems == checks.run_check(store, [str(ticket_path(repo, first))], use_cache=False).problems
    finally:
        scan.RACY_NS = racy
    out = cli("check", "--format", "json")
    plain = cli("check", "--format", "json", "--no-cache")
    assert out.exit_code == plain.exit_code == 1 and out.stdout == plain.stdout


def test_reindex_command(cli, repo, ticket):
    shutil.rmtree(repo / ".cslog")  # also in a repository that has no cache folder yet
    result = cli("reindex")
    assert result.exit_code == 0 and "indexed 2 file(s)" in result.stderr
    result = cli("reindex", "--changes")
    assert result.exit_code == 0 and "0 added, 0 changed, 0 removed" in result.stderr


YAML_CASES = [
    "", "# only a comment\n", "---\n", "a: 1\nb: 1.5\nc: true\nd: ~\ne: null\nf: ''\ng:\n", "x: 0o17\ny: 0x1F\nz: 1_000\n",
    "t: 2026-11-22T14:30:00+08:00\nd: 2026-11-22\n", "k: yes\nl: No\nm: off\nn: .inf\no: -.Inf\np: .nan\n",
    "q: '123'\nr: \"true\"\ns: |\n  two\n  lines\n", "1: a\n2.5: b\ntrue: c\n~: d\n", "a: 1\na: 2\nb: 3\n",
    "- a\n- [1, 2]\n- {x: y}\n", "just a scalar\n", "a: &x 1\nb: *x\n", "a: !!str 1\n", "<<: {a: 1}\nb: 2\n",
    "a: [1, 2\n", "a: 1\n---\nb: 2\n", "? [a, b]\n: c\n", "a: !!python/object:os.system x\n", "a: !!binary aGk=\n",
    "a: !!int x\n", "a: =\n", "id: CW202611220001\ntitle: 无法登录,提示‘账号异常’\ntags:\n  - 登录\n  - VIP\n",
    "x: " + "[" * 70 + "]" * 70 + "\n",
]


@pytest.mark.parametrize("text", YAML_CASES)
def test_the_fast_loader_reads_yaml_as_the_full_loader_does(text):
    """yamlio reads plain YAML from libyaml's events, the rest with PyYAML's constructors: the same values."""
    try:
        expected = _load_full(text)
    except YamlSyntaxError as exc:
        with pytest.raises(YamlSyntaxError) as raised:
            load_text(text)
        assert (str(raised.value), raised.value.line) == (str(exc), exc.line)
        return
    try:
        fast = _load_plain(text)
    except _Fallback:
        return
    assert json.dumps(fast, default=repr, sort_keys=False) == json.dumps(expected, default=repr, sort_keys=False)


def test_every_example_file_reads_the_same():
    for path in sorted((PROJECT / "examples").glob("*/**/*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert _load_plain(text) == _load_full(text), path


@pytest.mark.parametrize("at", ["2026-11-22T14:30:00+08:00", "2026-11-25T09:00:00+08:00", "2027-02-01T00:00:00+08:00",
                                "2026-08-15T10:00:00+08:00", "2026-11-20T18:00:00+08:00"])
@pytest.mark.parametrize("within", [None, timedelta(hours=2), timedelta(days=3)])
def test_overdue_rows_are_those_of_sla(at, within, tmp_path):
    """On the examples: the rows from the index (stored dues, and the tickets it hands back to compute) equal
    those computed from every ticket file."""
    shutil.copytree(PROJECT / "examples", tmp_path / "ex", ignore=shutil.ignore_patterns(".cslog"))
    store = Store.open(tmp_path / "ex")
    now = datetime.fromisoformat(at)
    assert find_overdue(store, now, within) == find_overdue(store, now, within, use_cache=False)


def test_paused_and_reopened_tickets_keep_their_clocks(cli, repo, customer):
    """Waiting (paused) from before the due, and a pause that begins right at the due."""
    waiting = cli.ok(*TICKET, "--customer", customer, env={"CSLOG_NOW": "2026-11-20T10:00:00+08:00"})
    cli.ok("status", waiting, "waiting", env={"CSLOG_NOW": "2026-11-20T10:30:00+08:00"})
    at_due = cli.ok(*TICKET, "--customer", customer, env={"CSLOG_NOW": "2026-11-20T10:00:00+08:00"})
    cli.ok("claim", at_due, env={"CSLOG_NOW": "2026-11-20T10:10:00+08:00"})
    cli.ok("status", at_due, "waiting", env={"CSLOG_NOW": "2026-11-20T14:00:00+08:00"})
    reopened = cli.ok(*TICKET, "--customer", customer, env={"CSLOG_NOW": "2026-11-19T10:00:00+08:00"})
    cli.ok("status", reopened, "resolved", "--solution", "已修复", env={"CSLOG_NOW": "2026-11-19T11:00:00+08:00"})
    cli.ok("status", reopened, "in_progress", env={"CSLOG_NOW": "2026-11-19T15:00:00+08:00"})
    store = Store.open(repo)
    for at in ("2026-11-20T14:00:00+08:00", "2026-11-20T14:00:01+08:00", "2026-11-21T09:00:00+08:00",
               "2026-12-20T09:00:00+08:00"):
        now = datetime.fromisoformat(at)
        for within in (None, timedelta(hours=1)):
            assert find_overdue(store, now, within) == find_overdue(store, now, within, use_cache=False), at


def test_the_index_file_is_git_ignored_and_never_committed(cli, repo, ticket):
    cli.ok("list")
    assert (repo / ".cslog" / "index.sqlite").exists()
    assert git(repo, "status", "--porcelain") == ""
    assert ".cslog/index.sqlite" not in git(repo, "ls-files")


def test_a_busy_index_is_not_mistaken_for_a_damaged_one(repo, ticket):
    assert not queries._damage(sqlite3.OperationalError("database is locked"))
    assert queries._damage(sqlite3.OperationalError("no such table: dirs"))


def test_a_partial_check_finds_a_file_named_after_a_checked_id(cli, repo, customer):
    first = cli.ok(*TICKET, "--customer", customer)
    second = cli.ok(*TICKET, "--customer", customer)
    store = Store.open(repo)
    checks.run_check(store)
    # a third file carries the ID `second` in its name but another ID inside
    other = ticket_path(repo, second).with_name(f"{second}.yaml")
    text = ticket_path(repo, first).read_text(encoding="utf-8")
    stray = repo / "tickets/2026/12"
    stray.mkdir()
    (stray / f"{second}.yaml").write_text(text, encoding="utf-8")
    target = [str(other)]
    assert checks.run_check(store, target).problems == checks.run_check(store, target, use_cache=False).problems
    assert checks.run_check(store).problems == checks.run_check(store, use_cache=False).problems


def test_check_looks_at_cslog_yaml_again_when_it_changes(repo, ticket):
    store = Store.open(repo)
    assert checks.run_check(store).ok and checks.run_check(store).ok
    config = repo / "cslog.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("country: CN", "country: XX"), encoding="utf-8")
    store = Store.open(repo)  # the country is checked by `cslog check` only
    for _ in range(2):
        assert [(p.path, p.code) for p in checks.run_check(store).problems] == [("cslog.yaml", "config")]


@pytest.mark.parametrize("period", ["2026-06", "2026-09", "2026-10", "2026-11", "2026-Q3"])
def test_the_report_from_compact_documents_is_the_report_from_whole_files(period, monkeypatch, tmp_path):
    """report.build reads the index's compact tickets (no long text): nothing it counts may be lost."""
    from cslog import report

    shutil.copytree(PROJECT / "examples", tmp_path / "ex", ignore=shutil.ignore_patterns(".cslog"))
    store = Store.open(tmp_path / "ex")
    now = datetime.fromisoformat("2026-11-30T18:00:00+08:00")
    chosen = report.quarter_period(period) if "Q" in period else report.month_period(period)
    compact = report.build(store, chosen, now)
    original = Index.dated

    def whole_files(self, kind, since, until, summary=False):
        for path, moment, doc in original(self, kind, since, until, summary):
            yield path, moment, (doc if summary else self.full_doc(kind, path))

    monkeypatch.setattr(Index, "dated", whole_files)
    whole = report.build(store, chosen, now)
    assert compact.data == whole.data and compact.problems == whole.problems == []
    assert compact.data["tickets"] > 0


def test_overdue_rows_come_in_order_and_filtered_as_asked(tmp_path):
    shutil.copytree(PROJECT / "examples", tmp_path / "ex", ignore=shutil.ignore_patterns(".cslog"))
    store = Store.open(tmp_path / "ex")
    now = datetime.fromisoformat("2026-11-25T09:00:00+08:00")
    every = find_overdue(store, now, timedelta(days=2)).rows
    assert len(every) > 20
    assert [-r["overdue_minutes"] for r in every] == sorted(-r["overdue_minutes"] for r in every)
    owner = every[0]["owner"]
    assert find_overdue(store, now, timedelta(days=2), owner=owner).rows == [r for r in every if r["owner"] == owner]
    assert find_overdue(store, now, timedelta(days=2), kinds=["resolve", "followup"]).rows == [
        r for r in every if r["kind"] in ("resolve", "followup")]
    departments = {row["id"]: row["department"] for kind in ("ticket", "action")
                   for row in Index.open(store).rows(kind)}  # (an improvement action has its department)
    # a contact's follow-up reminder belongs to its agent's department (cslog.yaml's agents)
    of_agent = {a["name"]: a.get("department") for a in store.settings.agents}
    departments.update({r["id"]: of_agent.get(r["owner"]) for r in every if r["kind"] == "reminder"})
    some = departments[every[0]["id"]]
    assert some and find_overdue(store, now, timedelta(days=2), department=some).rows == [
        r for r in every if departments[r["id"]] == some]


def test_a_file_with_a_byte_order_mark_is_validated_once(cli, repo, ticket):
    path = next(repo.glob(f"tickets/*/*/{ticket}.yaml"))
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    store = Store.open(repo)
    assert checks.run_check(store).validated >= 1
    assert checks.run_check(store).validated == 0


def test_many_files_are_read_and_checked_alike_by_two_processes(cli, repo, customer, monkeypatch):
    """parallel.each shares files out when there are many: the index and check say the same as one process."""
    from cslog import parallel

    first = cli.ok(*TICKET, "--customer", customer)
    second = cli.ok(*TICKET, "--customer", customer)
    edit = ticket_path(repo, first)
    edit.write_text(edit.read_text(encoding="utf-8").replace("priority: urgent", "priority: 紧急"), encoding="utf-8")
    shutil.copy(ticket_path(repo, second), ticket_path(repo, second).with_name("CW202611220077.yaml"))
    store = Store.open(repo)
    serial = checks.run_check(store, use_cache=False)
    rows = Index.open(store, use_cache=False).rows("ticket")
    monkeypatch.setattr(parallel, "AT", 1)
    assert checks.run_check(store, use_cache=False).problems == serial.problems
    assert checks.run_check(store).problems == serial.problems
    assert Index.open(store, use_cache=False).rows("ticket") == rows
    assert {p.code for p in serial.problems} >= {"not_canonical", "duplicate", "id_mismatch"}
