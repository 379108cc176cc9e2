"""init, new, show, list, check through the command line (in-process)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import TICKET, Cli, commit_count, git, head

from cslog.store import Store


def test_init_layout(repo):
    names = {p.name for p in repo.iterdir()}
    assert {"cslog.yaml", "schemas", "tickets", "contacts", "customers", "actions", ".gitignore", ".git"} <= names
    assert ".cslog/" in (repo / ".gitignore").read_text().splitlines()
    assert sorted(p.name for p in (repo / "schemas").iterdir()) == [
        "action.schema.json", "config.schema.json", "contact.schema.json", "customer.schema.json",
        "ticket.schema.json"]
    config = (repo / "cslog.yaml").read_text(encoding="utf-8")
    for key in ("sla:", "calendar:", "close_requires:", "batch:", "ids:", "warn_within", "extra_workdays"):
        assert key in config
    assert git(repo, "status", "--porcelain") == ""
    assert "Cslog-Op: init" in git(repo, "log", "-1", "--format=%B")


def test_init_of_a_new_folder_inside_a_git_repo_makes_a_repository_of_its_own(tmp_path):
    """design.md 9.7: `cslog init desk` from a checkout of anything must not commit the team's records there."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    cli = Cli(tmp_path / "desk")
    result = cli("init", str(tmp_path / "desk"), repo=False)
    assert result.exit_code == 0 and "(new git repository)" in result.stderr
    assert (tmp_path / "desk" / ".git").is_dir()
    assert "cslog: init" in git(tmp_path / "desk", "log", "-1", "--format=%s")
    assert subprocess.run(["git", "log"], cwd=tmp_path, capture_output=True).returncode != 0  # no commit there


def test_init_in_an_existing_folder_of_a_git_repo_joins_it_and_says_so(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "desk").mkdir()
    result = Cli(tmp_path / "desk")("init", str(tmp_path / "desk"), repo=False)
    assert result.exit_code == 0 and f"joins the git repository at {tmp_path}" in result.stderr
    assert not (tmp_path / "desk" / ".git").exists()
    assert "cslog: init" in git(tmp_path, "log", "-1", "--format=%s")


def test_init_keeps_workbooks_and_drafts_out_of_git(cli, repo, ticket):
    assert {".cslog/", "/cslog-*.xlsx", "/cslog-*.md"} <= set((repo / ".gitignore").read_text().splitlines())
    (repo / "cslog-2026-11.xlsx").write_bytes(b"x")
    (repo / "cslog-2026-11.md").write_text("# 手册\n", encoding="utf-8")
    assert git(repo, "status", "--porcelain") == ""


def test_init_refuses_an_existing_repository(cli, repo):
    result = cli("init", str(repo), repo=False)
    assert result.exit_code == 2 and "already exists" in result.stderr


def test_new_ticket_file_and_commit(cli, repo, customer):
    before = commit_count(repo)
    tid = cli.ok(*TICKET, "--customer", customer, "--category", "技术故障-登录", "--tag", "登录")
    assert tid == "CW202611220001"
    path = repo / "tickets/2026/11/CW202611220001.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../../../schemas/ticket.schema.json\n")
    assert "type: fault\npriority: urgent\nstatus: new\nchannel: phone\n" in text
    assert "customer_name: A公司" in text and "received_at: '2026-11-22T14:30:00+08:00'" in text
    assert commit_count(repo) == before + 1
    message = git(repo, "log", "-1", "--format=%B")
    assert message.startswith("cslog: CW202611220001 ")
    assert "Cslog-Record: CW202611220001\nCslog-Op: new" in message
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == ["tickets/2026/11/CW202611220001.yaml"]
    assert git(repo, "status", "--porcelain") == ""
    assert cli.ok(*TICKET, "--customer", customer) == "CW202611220002"


def test_ids_follow_the_day_and_restart_daily(cli, customer):
    assert cli.ok(*TICKET, "--customer", customer) == "CW202611220001"
    assert cli.ok(*TICKET, "--customer", customer, env={"CSLOG_NOW": "2026-11-23T09:00:00+08:00"}) == "CW202611230001"


def test_ids_are_never_reused_after_a_delete(cli, repo, customer):
    first = cli.ok(*TICKET, "--customer", customer)
    (repo / f"tickets/2026/11/{first}.yaml").unlink()
    assert cli.ok(*TICKET, "--customer", customer) == "CW202611220002"


def test_chinese_labels_and_aliases_are_accepted(cli, repo, customer):
    tid = cli.ok("new", "ticket", "--customer", customer, "--type", "投诉", "--priority", "高", "--channel",
                 "在线客服", "--title", "t", "--description", "d", "--emotion", "焦急")
    doc = Store.open(repo).read(tid).doc
    assert (doc["type"], doc["priority"], doc["channel"], doc["emotion"]) == ("complaint", "urgent", "chat", "anxious")


def test_contact_with_open_ticket_links_both_ways(cli, repo, customer):
    before = commit_count(repo)
    out = cli("new", "--customer", customer, "--channel", "电话", "--request", "手环无法充电,要求换货并补偿运费",
              "--agreed", "确认在保修期内", "--agreed", "3个工作日内寄出新机", "--emotion-before", "焦虑",
              "--emotion-after", "平和", "--open-ticket", "--type", "投诉", "--priority", "重要", "--title", "手环换货")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.strip() == "GT202611220001"  # the new ID alone on stdout
    store = Store.open(repo)
    contact, ticket = store.read("GT202611220001").doc, store.read("CW202611220001").doc
    assert contact["ticket"] == "CW202611220001" and ticket["contacts"] == ["GT202611220001"]
    assert contact["emotion"] == {"before": "anxious", "after": "calm"} and ticket["emotion"] == "anxious"
    assert commit_count(repo) == before + 1
    assert sorted(git(repo, "show", "--name-only", "--format=", "HEAD").split()) == [
        "contacts/2026/11/GT202611220001.yaml", "tickets/2026/11/CW202611220001.yaml"]


def test_contact_for_an_existing_ticket_links_back(cli, repo, ticket):
    gid = cli.ok("new", "contact", "--customer", "C0001", "--channel", "phone", "--request", "催办", "--ticket", ticket)
    assert Store.open(repo).read(ticket).doc["contacts"] == [gid]


def test_new_customer_with_own_id_and_duplicate(cli):
    assert cli.ok("new", "customer", "--name", "B客户", "--id", "VIP001") == "VIP001"
    result = cli("new", "customer", "--name", "C", "--id", "VIP001")
    assert result.exit_code == 2 and "already exists" in result.stderr


def test_missing_flags_are_listed_and_nothing_is_written(cli, repo, customer):
    before = head(repo)
    result = cli("new", "ticket", "--customer", customer, "--title", "x")
    assert result.exit_code == 2
    assert "missing --type, --priority, --channel, --description" in result.stderr
    assert head(repo) == before and not list((repo / "tickets").rglob("*.yaml"))


def test_terminal_prompts_for_missing_fields(cli, repo, customer, monkeypatch):
    monkeypatch.delenv("CSLOG_NO_PROMPT")
    monkeypatch.setattr("cslog.cli.records.interactive", lambda: True)
    result = cli("new", "ticket", "--customer", customer, "--title", "x", "--description", "y",
                 input="紧\n故障\n紧急\n电话\n")
    assert result.exit_code == 0, result.stderr
    assert "urgent (紧急)" in result.stderr  # the allowed values, in the configured language
    assert "unknown type '紧'" in result.stderr  # a bad answer is asked again
    assert Store.open(repo).read(result.stdout.strip().splitlines()[-1]).doc["priority"] == "urgent"


def test_personal_data_is_refused_unless_allowed(cli, repo, customer):
    before = head(repo)
    args = ["new", "ticket", "--customer", customer, "--type", "咨询", "--priority", "一般", "--channel", "phone",
            "--title", "核实身份", "--description", "客户身份证号 11010519491231002X"]
    result = cli(*args)
    assert result.exit_code == 2 and "identity-card number" in result.stderr and "--allow-pii" in result.stderr
    assert head(repo) == before
    tid = cli.ok(*args, "--allow-pii")
    doc = Store.open(repo).read(tid).doc
    assert doc["timeline"][0]["allow_pii"] is True
    assert cli("check").exit_code == 0  # recorded allowance: check does not report it


@pytest.mark.parametrize("args,needle", [
    (["show", "CW209901010001"], "unknown ID CW209901010001"),
    (["show", "../../etc/passwd"], "invalid ID"),
    (["new", "ticket", "--customer", "C0001", "--type", "故障", "--priority", "urgnt", "--channel", "phone",
      "--title", "t", "--description", "d"], "unknown priority 'urgnt'"),
    (["new", "ticket", "--customer", "C0001", "--type", "故障", "--priority", "urgent", "--channel", "phone",
      "--title", "t", "--description", "d", "--received-at", "yesterday"], "cannot read --received-at"),
    (["new", "ticket", "--customer", "C9999", "--type", "故障", "--priority", "urgent", "--channel", "phone",
      "--title", "t", "--description", "d"], "unknown customer C9999"),
    (["new", "customer", "--name", "x", "--id", "../x"], "invalid ID"),
    (["new", "customer", "--title", "x", "--name", "y"], "--title: not for a new customer"),
    (["list", "widgets"], "unknown record kind"),
    (["list", "--format", "xml"], "xml"),
])
def test_bad_input_exit_2_no_write_no_traceback(cli, repo, customer, args, needle):
    before = head(repo)
    result = cli(*args)
    assert result.exit_code == 2, result.stdout
    assert needle in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert head(repo) == before and git(repo, "status", "--porcelain") == ""


def test_no_repository_found(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = Cli(tmp_path)("list", repo=False)
    assert result.exit_code == 2 and "no cslog repository here" in result.stderr and "cslog init" in result.stderr


def test_damaged_config(cli, repo):
    (repo / "cslog.yaml").write_text("language: zh\nsla:\n  urgent: {resolve: 4x}\n", encoding="utf-8")
    result = cli("list")
    assert result.exit_code == 2
    assert "cslog.yaml:3:" in result.stderr and "invalid duration" in result.stderr
    (repo / "cslog.yaml").write_text("language: [zh\n", encoding="utf-8")
    result = cli("list")
    assert result.exit_code == 2 and "YAML syntax error" in result.stderr
    (repo / "cslog.yaml").write_text("langauge: en\n", encoding="utf-8")
    result = cli("list")
    assert result.exit_code == 2 and "did you mean 'language'" in result.stderr


def test_show_formats(cli, repo, ticket):
    text = cli.ok("show", ticket)
    assert "无法登录系统" in text and "紧急" in text and "处理过程" in text
    assert json.loads(cli.ok("show", ticket, "--format", "json"))["id"] == ticket
    assert cli.ok("show", ticket, "--format", "yaml") == (repo / f"tickets/2026/11/{ticket}.yaml").read_text(
        encoding="utf-8").strip()


def test_list_filters_and_formats(cli, customer):
    a = cli.ok(*TICKET, "--customer", customer, "--category", "技术故障-登录", "--tag", "vip")
    b = cli.ok("new", "ticket", "--customer", customer, "--type", "投诉", "--priority", "一般", "--channel", "邮件",
               "--title", "账单多扣费200元", "--description", "投诉上月账单多扣费200元", "--category", "账单-多扣费",
               "--owner", "小丽", env={"CSLOG_NOW": "2026-11-23T10:00:00+08:00"})
    rows = json.loads(cli.ok("list", "--format", "json"))
    assert [r["id"] for r in rows] == [a, b]
    assert [r["id"] for r in json.loads(cli.ok("list", "--priority", "紧急", "--format", "json"))] == [a]
    assert [r["id"] for r in json.loads(cli.ok("list", "--owner", "小丽", "--format", "json"))] == [b]
    assert [r["id"] for r in json.loads(cli.ok("list", "--category", "技术故障", "--format", "json"))] == [a]
    assert [r["id"] for r in json.loads(cli.ok("list", "--tag", "vip", "--format", "json"))] == [a]
    assert [r["id"] for r in json.loads(cli.ok("list", "--since", "2026-11-23", "--format", "json"))] == [b]
    assert [r["id"] for r in json.loads(cli.ok("list", "--until", "2026-11-23", "--format", "json"))] == [a]
    assert [r["id"] for r in json.loads(cli.ok("list", "--open", "--type", "complaint", "--format", "json"))] == [b]
    csv_text = cli.ok("list", "--format", "csv")
    assert csv_text.splitlines()[0].startswith("id,title,type,priority,status")
    table = cli.ok("list").splitlines()
    # CJK-aware: every row's status column starts at the same display column
    from wcwidth import wcswidth

    starts = {wcswidth(line[: line.index(" ")]) for line in table[2:]}
    assert len(starts) == 1
    assert cli.ok("list", "customers").splitlines()[2].startswith("C0001")


def test_changing_one_field_rewrites_only_its_lines(cli, repo, ticket):
    """A change of one field shows in `git diff --numstat` as that field's line plus the appended event."""
    from cslog.timeutil import parse_time

    store = Store.open(repo)
    now = parse_time("2026-11-22T15:00:00+08:00", store.settings.tz)
    with store.transaction("priority", "小丽", now) as tx:
        record = store.read(ticket)
        doc = dict(record.doc)
        doc["priority"] = "important"
        doc["timeline"] = doc["timeline"] + [{"at": "2026-11-22T15:00:00+08:00", "by": "小丽", "kind": "priority",
                                              "from": "urgent", "to": "important"}]
        tx.replace(record, doc)
    numstat = git(repo, "diff", "--numstat", "HEAD~1", "HEAD").split()
    assert numstat[:2] == ["6", "1"], numstat  # +priority line, +5 event lines; -old priority line


def test_no_commit_and_auto_commit_off(cli, repo, customer):
    before = head(repo)
    tid = cli.ok("--no-commit", *TICKET, "--customer", customer)
    assert head(repo) == before and (repo / f"tickets/2026/11/{tid}.yaml").exists()


def test_commit_leaves_the_users_staged_work_alone(cli, repo, customer):
    (repo / "notes.txt").write_text("mine\n")
    git(repo, "add", "notes.txt")
    cli.ok(*TICKET, "--customer", customer)
    assert "notes.txt" not in git(repo, "show", "--name-only", "--format=", "HEAD")
    assert git(repo, "status", "--porcelain").strip() == "A  notes.txt"


def test_from_file_and_edit(cli, repo, customer, tmp_path, monkeypatch):
    f = tmp_path / "t.yaml"
    f.write_text(f"customer: {customer}\ntype: 报修\npriority: 重要\nchannel: 电话\ntitle: 空调不制冷\n"
                 "description: |\n  10月1日购买的空调制冷效果差\n  联系售后未解决\n", encoding="utf-8")
    tid = cli.ok("new", "ticket", "--from-file", str(f))
    assert Store.open(repo).read(tid).doc["description"] == "10月1日购买的空调制冷效果差\n联系售后未解决\n"
    f.write_text("customer: C0001\ntitel: x\n", encoding="utf-8")
    result = cli("new", "ticket", "--from-file", str(f))
    assert result.exit_code == 2 and "did you mean 'title'" in result.stderr
    # --edit: the first save is invalid, the editor reopens with the text kept, the second save fixes it
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[1]); text = p.read_text(encoding='utf-8')\n"
        "if '# cslog error:' not in text:\n"
        "    text = text.replace('customer:  ', 'customer: C0001  ', 1).replace('title:  ', 'title: 无法开机  ', 1)\n"
        "else:\n"
        "    assert 'customer: C0001' in text\n"
        "    text = text.replace('type:  ', 'type: 故障  ', 1).replace('priority:  ', 'priority: 一般  ', 1)\n"
        "    text = text.replace('channel:  ', 'channel: 电话  ', 1).replace('description: |', 'description: 开不了机', 1)\n"
        "p.write_text(text, encoding='utf-8')\n", encoding="utf-8")
    import sys

    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    result = cli("new", "ticket", "--edit")
    assert result.exit_code == 0, result.stderr
    assert "reopening the editor" in result.stderr
    assert Store.open(repo).read(result.stdout.strip()).doc["title"] == "无法开机"


# --- check ---------------------------------------------------------------------------------------

def _write(repo: Path, rel: str, text: str) -> Path:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_check_clean_repository(cli, ticket):
    result = cli("check")
    assert result.exit_code == 0 and "no problems" in result.stderr


def test_check_reports_every_problem_of_every_file(cli, repo, ticket):
    good = (repo / f"tickets/2026/11/{ticket}.yaml").read_text(encoding="utf-8")
    _write(repo, "tickets/2026/11/CW202611220002.yaml",
           good.replace(ticket, "CW202611220002").replace("priority: urgent", "priority: urgnt"))
    _write(repo, "tickets/2026/11/CW202611220003.yaml", good.replace(ticket, "CW202611220009"))
    _write(repo, "tickets/2026/10/CW202611220004.yaml", good.replace(ticket, "CW202611220004"))
    _write(repo, "tickets/2026/11/CW202611220005.yaml", good.replace(ticket, "CW202611220005")
           .replace("customer: C0001", "customer: C0404"))
    _write(repo, "tickets/2026/11/CW202611220006.yaml", "id: [broken\n")
    _write(repo, "tickets/2026/11/CW202611220007.yaml", good.replace(ticket, "CW202611220007").replace(
        "status: new\n", "<<<<<<< HEAD\nstatus: new\n=======\nstatus: closed\n>>>>>>> other\n"))
    _write(repo, "tickets/2026/11/CW202611220008.yaml", good.replace(ticket, "CW202611220008").replace(
        "title: 无法登录系统", "title: 退款到 6222021234567890128"))
    _write(repo, "tickets/2026/12/CW202612010001.yaml", good.replace(ticket, "CW202612010001").replace(
        "status: new", "status: new\nprioity: urgent", 1))  # (the first: the created event holds one too)
    _write(repo, "tickets/2026/11/CW202611220010.yaml", good.replace(ticket, "CW202611220010").replace(
        "received_at: '2026-11-22T14:30:00+08:00'", "received_at: 'tomorrow'"))
    result = cli("check")
    assert result.exit_code == 1
    out = result.stdout
    expect = [
        "tickets/2026/11/CW202611220002.yaml:5: priority: 'urgnt' is not allowed; use one of: urgent, important, normal",
        "tickets/2026/11/CW202611220003.yaml:2: id CW202611220009 does not match the file name",
        "tickets/2026/10/CW202611220004.yaml:2: id CW202611220004 is from 2026-11 but the file is in 2026/10",
        "tickets/2026/11/CW202611220005.yaml:8: customer: customer C0404 does not exist",
        "tickets/2026/11/CW202611220006.yaml:2: YAML syntax error",
        "tickets/2026/11/CW202611220007.yaml:6: git conflict markers",
        "tickets/2026/11/CW202611220008.yaml:3: title: personal data: bank-card number 6222***********0128",
        "tickets/2026/12/CW202612010001.yaml:7: prioity: unknown field (did you mean 'priority'?)",
        "tickets/2026/11/CW202611220010.yaml:10: received_at: 'tomorrow' is not a time",
    ]
    for line in expect:
        assert line in out, f"missing: {line}\n--- got:\n{out}"
    data = json.loads(cli("check", "--format", "json").stdout)
    assert data["files"] == 11 and {p["code"] for p in data["problems"]} >= {
        "schema", "id_mismatch", "folder", "reference", "yaml", "conflict", "pii"}


def test_check_duplicate_ids_and_paths(cli, repo, ticket):
    src = repo / f"tickets/2026/11/{ticket}.yaml"
    dup = repo / f"tickets/2026/12/{ticket}.yaml"
    dup.parent.mkdir(parents=True)
    shutil.copyfile(src, dup)
    result = cli("check", str(src))
    assert result.exit_code == 1 and f"duplicate id {ticket}: also in tickets/2026/12/{ticket}.yaml" in result.stdout
    assert cli("check", "nowhere.yaml").exit_code == 2


def test_check_flags_leftover_temp_files(cli, repo, ticket):
    (repo / "tickets/2026/11" / f".{ticket}.yaml.123.abcd.cslog-tmp").write_text("id: x")
    result = cli("check")
    assert result.exit_code == 1 and "left-over temporary file" in result.stdout
    assert cli.ok("list", "--format", "json").count('"id"') == 1  # list is not confused by it


def test_check_reports_a_damaged_config_instead_of_refusing(cli, repo):
    (repo / "cslog.yaml").write_text("language: zh\nsla:\n  urgent: {resolve: 4x}\nlangauge: en\n", encoding="utf-8")
    result = cli("check")
    assert result.exit_code == 1
    assert "cslog.yaml:3: sla.urgent.resolve: invalid duration '4x'" in result.stdout
    assert "cslog.yaml:4: unknown setting 'langauge' (did you mean 'language'?)" in result.stdout


def test_a_contact_for_a_ticket_keeps_what_others_wrote_to_it_meanwhile(repo, ticket, monkeypatch):
    """The ticket is read again under the lock: a note committed between the first read and the lock stays."""
    from datetime import datetime

    from cslog.ops import records as ops
    from cslog.ops import tickets as actions

    now = datetime.fromisoformat("2026-11-22T15:00:00+08:00")
    original = Store.transaction

    def someone_else_first(self, *args, **kwargs):
        monkeypatch.setattr(Store, "transaction", original)
        actions.note(self, ticket, "同事先写的进度", actor="小王", now=now)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Store, "transaction", someone_else_first)
    store = Store.open(repo)
    made = ops.new_contact(store, actor="小李", now=now, customer="C0001", channel="phone", request="催办",
                           ticket=ticket)
    doc = Store.open(repo).read(ticket).doc
    assert doc["contacts"] == [made[0].id]
    assert [e.get("text") for e in doc["timeline"] if e["kind"] == "note"] == ["同事先写的进度"]
