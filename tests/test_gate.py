"""The one gate (design.md 9.1): every command reads a record through store.load, which reads labels and aliases
as codes and never reads a record that fails its schema with defaults; every write is checked before the
rename. Through the commands, as a team that edits files by hand meets it."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from cslog import schemas
from cslog.model import PRIORITY, STATUS
from cslog.store import Store, checked_text, load, to_codes
from conftest import PROJECT, TICKET, commit_count, git

LATE = "2026-11-23T18:00:00+08:00"  # the next day: every clock of a new urgent ticket has run out


def ticket_file(repo: Path, tid: str) -> Path:
    return next(repo.glob(f"tickets/*/*/{tid}.yaml"))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def normal(cli, customer) -> str:
    """A 一般 ticket, hand-edited to 紧急 (what the `new --edit` template invites)."""
    tid = cli.ok("new", "ticket", "--customer", customer, "--type", "故障", "--priority", "一般", "--channel", "电话",
                 "--title", "无法登录系统", "--description", "提示账号异常")
    edit(ticket_file(cli.repo, tid), "priority: normal", "priority: 紧急")
    return tid


# -- a label written by hand is its code everywhere ------------------------------------------------------

def test_a_hand_written_label_counts_as_its_code_everywhere(cli, normal):
    rows = json.loads(cli("overdue", "--at", LATE, "--format", "json").stdout)
    assert {r["priority"] for r in rows} == {"urgent"}
    assert [r["due"] for r in rows if r["kind"] == "resolve"] == ["2026-11-23T13:00:00+08:00"]  # 紧急 4bh, not 3bd
    assert json.loads(cli.ok("list", "--format", "json"))[0]["priority"] == "urgent"
    assert json.loads(cli.ok("list", "--priority", "urgent", "--format", "json"))[0]["id"] == normal
    assert "优先级:" in cli.ok("show", normal) and "紧急" in cli.ok("show", normal)
    assert json.loads(cli.ok("show", normal, "--format", "json"))["priority"] == "urgent"
    report = json.loads(cli.ok("report", "--month", "2026-11", "--format", "json"))
    assert report["by_priority"]["urgent"] == 1 and report["by_priority"]["normal"] == 0
    assert json.loads(cli("overdue", "--at", LATE, "--format", "json", "--no-cache").stdout) == rows


def test_check_says_not_canonical_and_fix_rewrites_in_one_commit(cli, repo, normal):
    path = ticket_file(repo, normal)
    edit(path, "status: new", "status: 待受理")  # a second label, and a timestamp written by hand
    edit(path, "received_at: '2026-11-22T14:30:00+08:00'", "received_at: 2026-11-22 14:30")
    result = cli("check")
    assert result.exit_code == 1
    assert f"{path.relative_to(repo)}:5: priority: '紧急' is a label, not canonical: the file should hold the code 'urgent'" in \
        result.stdout
    assert "status: '待受理' is a label" in result.stdout
    commits = commit_count(repo)
    fixed = cli("check", "--fix")
    assert fixed.exit_code == 0, fixed.stdout + fixed.stderr
    assert "rewrote 1 file(s) in canonical form" in fixed.stderr
    assert commit_count(repo) == commits + 1
    assert git(repo, "status", "--porcelain") == ""
    text = path.read_text(encoding="utf-8")
    assert "priority: urgent\n" in text and "status: new\n" in text
    assert "received_at: '2026-11-22T14:30:00+08:00'\n" in text
    assert cli("check").exit_code == 0
    assert "rewrote 0 file(s)" in cli("check", "--fix").stderr and commit_count(repo) == commits + 1


def test_a_write_rewrites_the_labels_of_the_fields_it_touches_no_others(cli, repo, normal):
    path = ticket_file(repo, normal)
    cli.ok("reply", normal, "已转技术部")
    text = path.read_text(encoding="utf-8")
    assert "priority: urgent\n" in text  # read as urgent, written as urgent: the file holds codes again
    assert load("ticket", "x", text).relabelled == []


# -- a record that fails its schema is never read with defaults ------------------------------------------

@pytest.fixture
def broken(cli, repo, ticket) -> Path:
    path = ticket_file(repo, ticket)
    edit(path, "received_at: '2026-11-22T14:30:00+08:00'", "received_at: 2026/10/13 9:00")
    return path


def test_write_commands_refuse_a_broken_record_and_commit_nothing(cli, repo, ticket, broken):
    before, commits = broken.read_bytes(), commit_count(repo)
    for args in (["reply", ticket, "已联系"], ["note", ticket, "x"], ["status", ticket, "in_progress"],
                 ["assign", ticket, "小丽"], ["claim", ticket]):
        result = cli(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert f"{broken.relative_to(repo)}:10: received_at: '2026/10/13 9:00' is not a time" in result.stderr
    assert broken.read_bytes() == before and commit_count(repo) == commits


def test_reading_commands_leave_a_broken_record_out_with_one_warning(cli, repo, customer, broken):
    other = cli.ok(*TICKET, "--customer", customer)
    where = f"{broken.relative_to(repo)}:10: received_at: '2026/10/13 9:00' is not a time"
    listed = cli("list", "--format", "json")
    assert [r["id"] for r in json.loads(listed.stdout)] == [other]
    assert listed.stderr.count(where) == 1 and listed.exit_code == 0
    late = cli("overdue", "--at", LATE, "--format", "json")
    assert late.exit_code == 1 and late.stderr.count(where) == 1
    assert {r["id"] for r in json.loads(late.stdout)} == {other}
    # nothing else due: still exit 1, since a file needs a look
    quiet = cli("overdue", "--at", "2026-11-22T14:31:00+08:00")
    assert quiet.exit_code == 1 and quiet.stdout == "" and where in quiet.stderr
    assert cli("show", broken.stem).exit_code == 2
    assert cli("check").exit_code == 1


def test_a_mistyped_date_that_is_no_day_is_caught(cli, repo, ticket):
    path = ticket_file(repo, ticket)
    edit(path, "received_at: '2026-11-22T14:30:00+08:00'", "received_at: '2026-11-31T14:30:00+08:00'")
    result = cli("check")
    assert result.exit_code == 1 and "received_at: '2026-11-31T14:30:00+08:00' is not a real moment" in result.stdout
    assert cli("reply", ticket, "x").exit_code == 2


def test_a_duplicate_key_is_an_error_with_its_line(cli, repo, ticket):
    path = ticket_file(repo, ticket)
    edit(path, "status: new\n", "status: new\nstatus: closed\n")
    result = cli("check")
    assert result.exit_code == 1
    assert f"{path.relative_to(repo)}:7: YAML error: duplicate key 'status' (also on line 6)" in result.stdout


# -- every write is checked -----------------------------------------------------------------------------

def test_no_write_can_produce_a_file_that_fails_its_schema(repo, ticket):
    store = Store.open(repo)
    record = store.read(ticket)
    with pytest.raises(Exception) as refused:
        with store.transaction("test", "测试员", None) as tx:
            tx.replace(record, {**record.doc, "priority": "very"})
    assert "refusing to write" in str(refused.value) and "priority: 'very' is not allowed" in str(refused.value)
    assert store.read(ticket).doc == record.doc


def relabel(text: str, field: str, enum) -> str:
    """The file with a top-level enum field written as its Chinese label."""
    code = re.search(rf"(?m)^{field}: (\S+)$", text).group(1)
    return re.sub(rf"(?m)^{field}: \S+$", f"{field}: {enum.label(code, 'zh')}", text, count=1)


def test_checked_text_refuses_labels_and_schema_problems():
    text = next((PROJECT / "examples").glob("tickets/*/*/*.yaml")).read_text(encoding="utf-8")
    assert checked_text("ticket", text, "t.yaml") == text
    with pytest.raises(Exception, match="enum fields must hold codes"):
        checked_text("ticket", relabel(text, "status", STATUS), "t.yaml")
    with pytest.raises(Exception, match="refusing to write t.yaml: line 2: record: 'id' is required"):
        checked_text("ticket", re.sub(r"(?m)^id: .*\n", "", text), "t.yaml")


def test_the_merge_driver_writes_nothing_a_reader_would_refuse(repo, tmp_path):
    from cslog.sync.driver import run_driver

    source = next((PROJECT / "examples").glob("tickets/*/*/*.yaml"))
    text = source.read_text(encoding="utf-8")
    base, ours, theirs = (tmp_path / n for n in ("base", "ours", "theirs"))
    base.write_text(text, encoding="utf-8")
    ours.write_text(text.replace("\ntitle: ", "\ntitle: 我们改的", 1), encoding="utf-8")
    theirs.write_text(relabel(text, "priority", PRIORITY), encoding="utf-8")
    outcome = run_driver(base, ours, theirs, str(source.relative_to(PROJECT / "examples")), cwd=PROJECT / "examples")
    assert outcome.exit_code == 0, outcome.messages
    merged = load("ticket", "m", ours.read_text(encoding="utf-8"))
    assert merged.ok and merged.relabelled == [] and merged.doc == load("ticket", "t", text).doc | {
        "title": merged.doc["title"]}
    assert merged.doc["title"].startswith("我们改的")


# -- the gate itself ---------------------------------------------------------------------------------------

def test_labels_and_aliases_become_codes_and_say_where():
    doc = {"priority": "高", "status": "处理中", "type": "投诉", "channel": "微信", "emotion": "生气",
           "decision": {"result": "采纳"},
           "timeline": [{"kind": "status", "from": "待受理", "to": "已解决", "status": "new"},
                        {"kind": "priority", "from": "一般", "to": "紧急"}]}
    coded, found = to_codes("ticket", doc)
    assert coded["priority"] == "urgent" and coded["status"] == "in_progress" and coded["type"] == "complaint"
    assert coded["channel"] == "social" and coded["emotion"] == "agitated" and coded["decision"]["result"] == "adopted"
    assert coded["timeline"][0]["from"] == "new" and coded["timeline"][0]["to"] == "resolved"
    assert coded["timeline"][1]["to"] == "urgent"
    assert (("priority",), "高", "urgent") in found and doc["priority"] == "高"  # the original is untouched
    assert to_codes("customer", {"type": "企业客户"})[0]["type"] == "enterprise"
    assert to_codes("ticket", {"priority": "very"}) == ({"priority": "very"}, [])


def _mutations(doc):
    """The document with one value replaced by each odd JSON value, everywhere, one at a time."""
    odd = [None, True, 3, "x", "", [], {}, [1, "a"], {"k": 1}, "2026-11-31", "2026-11-22T25:00"]
    yield doc
    if isinstance(doc, dict):
        for key in list(doc):
            for value in odd:
                yield {**doc, key: value}
            for sub in _mutations(doc[key]):
                yield {**doc, key: sub}
        yield {**doc, "extra": 1}
    elif isinstance(doc, list):
        for i, item in enumerate(doc[:3]):
            for sub in _mutations(item):
                yield doc[:i] + [sub] + doc[i + 1:]
        yield []


def test_the_compiled_validator_agrees_with_jsonschema():
    """schemas.is_valid (fastjsonschema, for speed) says yes exactly when validate (jsonschema) finds nothing."""
    for kind, pattern in (("ticket", "tickets/*/*/*.yaml"), ("contact", "contacts/*/*/*.yaml"),
                          ("customer", "customers/*.yaml")):
        for path in sorted((PROJECT / "examples").glob(pattern))[:8]:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            doc = json.loads(json.dumps(doc, default=str))
            for variant in _mutations(doc):
                assert schemas.is_valid(variant, kind) == (not schemas.validate(variant, kind)), (path, variant)


def test_the_gate_never_raises_on_any_file_and_names_it():
    for raw in (b"", b"\xff\xfe", b"- a\n", b"a: [\n", b"<<<<<<< HEAD\na: 1\n", b"id: x\n", "id: 中文\n".encode()):
        item = load("ticket", "tickets/2026/11/X.yaml", raw)
        assert not item.ok and item.problems and all(p.path == "tickets/2026/11/X.yaml" for p in item.problems)


def test_a_mistyped_status_in_the_timeline_is_caught(cli, repo, ticket):
    """The clocks follow the timeline's moves: a move to a status that does not exist would be skipped in silence."""
    cli.ok("status", ticket, "in_progress")
    path = ticket_file(repo, ticket)
    edit(path, "    to: in_progress", "    to: 处理中")  # a label: read as its code
    assert json.loads(cli.ok("show", ticket, "--format", "json"))["timeline"][-1]["to"] == "in_progress"
    edit(path, "    to: 处理中", "    to: 进行中")  # no status at all
    result = cli("check")
    assert result.exit_code == 1 and "timeline.1.to: '进行中' is not allowed" in result.stdout
