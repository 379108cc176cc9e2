"""The agent's desk (issue 17, design 9.4) through the commands: set and edit, find, show a customer's records,
--customer by name or phone, the new fields, attach, follow-up reminders, and `show` in words."""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import openpyxl
import pytest
import yaml

from conftest import TICKET, commit_count, git

AT = "2026-11-22T14:30:00+08:00"


def doc(repo: Path, record_id: str) -> dict:
    path = next(repo.glob(f"**/{record_id}.yaml"))
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def changed(d: dict) -> list[tuple]:
    return [(e["field"], e.get("from"), e.get("to"), e.get("reason")) for e in d.get("timeline") or []
            if e["kind"] == "changed"]


# -- set ----------------------------------------------------------------------------------------------------

def test_set_changes_ticket_fields_in_one_commit_each_a_changed_event(cli, repo, ticket):
    before = commit_count(repo)
    result = cli("set", ticket, "priority=一般", "tags=登录,账号", "planned_at=2026-11-25 18:00", "remarks=客户要求当天回电",
                 "involved=张工,李工", "caveats=下次先核对账号", "--reason", "主管调整")
    assert result.exit_code == 0, result.stderr
    assert commit_count(repo) == before + 1
    d = doc(repo, ticket)
    assert (d["priority"], d["tags"], d["planned_at"]) == ("normal", ["登录", "账号"], "2026-11-25T18:00:00+08:00")
    assert (d["remarks"], d["involved"], d["caveats"]) == ("客户要求当天回电", ["张工", "李工"], "下次先核对账号")
    assert changed(d)[0] == ("priority", "urgent", "normal", "主管调整")
    assert [c[0] for c in changed(d)] == ["priority", "tags", "planned_at", "remarks", "involved", "caveats"]
    assert "优先级 紧急 → 一般" in result.stderr
    cli.ok("set", ticket, "tags+=投诉", "tags-=账号")
    assert doc(repo, ticket)["tags"] == ["登录", "投诉"]
    history = cli.ok("history", ticket)
    assert "[修改] 优先级: 紧急 → 一般" in history and "原因: 主管调整" in history
    shown = cli.ok("show", ticket)
    assert "预计完成时间: 2026-11-25 18:00" in shown and "备注:" in shown and "涉及人员:" in shown
    assert git(repo, "log", "-1", "--format=%s").startswith(f"cslog: {ticket} set tags")


@pytest.mark.parametrize("args, words", [
    (["status=closed"], "cslog status ID STATUS"),
    (["owner=小红"], "cslog assign"),
    (["color=red"], "has no field 'color'"),
    (["priority=超急"], "unknown priority"),
    (["planned_at=明天"], "planned_at"),
    (["priority"], "is not FIELD=VALUE"),
    (["priority=紧急"], "already says that"),
    (["remarks=身份证11010519491231002X"], "personal data"),
    (["title=两行\n标题"], "line"),
])
def test_set_refuses_what_it_cannot_do_and_writes_nothing(cli, repo, ticket, args, words):
    before, text = commit_count(repo), next(repo.glob(f"tickets/*/*/{ticket}.yaml")).read_text(encoding="utf-8")
    result = cli("set", ticket, *args)
    assert result.exit_code == 2, result.stdout
    assert words in result.stderr
    assert commit_count(repo) == before
    assert next(repo.glob(f"tickets/*/*/{ticket}.yaml")).read_text(encoding="utf-8") == text


def test_set_a_customers_phone_and_contact_person_and_a_contacts_details(cli, repo, customer):
    cli.ok("set", customer, "phone=13912345678", "contact_person=王经理", "type=vip")
    d = doc(repo, customer)
    assert d["contacts"] == [{"name": "王经理", "phone": "13912345678"}] and d["type"] == "vip"
    assert ("phone", "13812345678", "13912345678", None) in changed(d)
    contact = cli.ok("new", "--customer", customer, "--channel", "phone", "--request", "要求换货")
    cli.ok("set", contact, "ended_at=2026-11-22 14:50", "details=补充: 包装破损", "result=同意换货", "emotion.after=满意")
    c = doc(repo, contact)
    assert (c["ended_at"], c["details"], c["result"]) == ("2026-11-22T14:50:00+08:00", "补充: 包装破损", "同意换货")
    assert c["emotion"]["after"] == "satisfied"
    assert cli("check").exit_code == 0


def test_a_priority_set_later_moves_the_clocks_counted_from_received_at(cli, repo, ticket):
    late = json.loads(cli("overdue", "--at", "2026-11-23T12:00:00+08:00", "--format", "json").stdout or "[]")
    assert {r["kind"] for r in late if r["id"] == ticket} >= {"response"}
    cli.ok("set", ticket, "priority=一般")
    late = json.loads(cli("overdue", "--at", "2026-11-23T12:00:00+08:00", "--format", "json").stdout or "[]")
    assert not [r for r in late if r["id"] == ticket and r["kind"] == "response"]


# -- edit -----------------------------------------------------------------------------------------------------

EDITOR = '''import pathlib, sys
path = pathlib.Path(sys.argv[-1])
state = pathlib.Path({state!r})
rounds = int(state.read_text()) if state.exists() else 0
state.write_text(str(rounds + 1))
text = path.read_text(encoding="utf-8")
pathlib.Path({seen!r}).write_text(text, encoding="utf-8")
steps = {steps!r}
for old, new in steps[min(rounds, len(steps) - 1)]:
    text = text.replace(old, new)
path.write_text(text, encoding="utf-8")
'''


def editor(tmp_path: Path, *steps: list[tuple[str, str]]) -> tuple[str, Path]:
    """An $EDITOR that makes each round's replacements (the last round's again after that)."""
    script = tmp_path / "editor.py"
    seen = tmp_path / "seen.yaml"
    script.write_text(EDITOR.format(state=str(tmp_path / "rounds"), seen=str(seen), steps=list(steps)),
                      encoding="utf-8")
    return f"{sys.executable} {script}", seen


def test_edit_saves_a_valid_change_as_changed_events(cli, repo, ticket, tmp_path):
    command, _seen = editor(tmp_path, [("priority: urgent", "priority: important")])
    before = commit_count(repo)
    result = cli("edit", ticket, "--reason", "电话确认", env={"EDITOR": command})
    assert result.exit_code == 0, result.stderr
    assert commit_count(repo) == before + 1
    assert changed(doc(repo, ticket)) == [("priority", "urgent", "important", "电话确认")]


def test_edit_comes_back_with_the_problems_on_top_until_valid(cli, repo, ticket, tmp_path):
    command, seen = editor(tmp_path, [("priority: urgent", "priority: 超急")],
                           [("priority: 超急", "priority: urgent"), ("status: new", "status: closed")],
                           [("status: closed", "status: new"), ("priority: urgent", "priority: important")])
    result = cli("edit", ticket, env={"EDITOR": command})
    assert result.exit_code == 0, result.stderr
    assert "reopening the editor" in result.stderr
    assert (tmp_path / "rounds").read_text() == "3"
    assert seen.read_text(encoding="utf-8").startswith("# cslog error: status cannot be changed here")
    assert doc(repo, ticket)["priority"] == "important" and doc(repo, ticket)["status"] == "new"


def test_edit_left_unchanged_writes_nothing(cli, repo, ticket, tmp_path):
    command, _seen = editor(tmp_path, [("no such text", "x")])
    before = commit_count(repo)
    result = cli("edit", ticket, env={"EDITOR": command})
    assert result.exit_code == 0 and "no change" in result.stderr
    assert commit_count(repo) == before


# -- find, show, --customer -----------------------------------------------------------------------------------

def test_find_by_name_phone_tail_id_and_title_words(cli, repo, customer, ticket):
    other = cli.ok("new", "customer", "--name", "B有限公司", "--phone", "13700009999")
    by_phone = json.loads(cli.ok("find", "5678", "--format", "json"))
    assert [(r["kind"], r["id"]) for r in by_phone] == [("customer", customer)]
    assert by_phone[0]["phone"] == "13812345678" and by_phone[0]["match"] == "phone"
    assert [r["id"] for r in json.loads(cli.ok("find", "B公司", "--format", "json"))] == []  # a name's words
    assert [r["id"] for r in json.loads(cli.ok("find", "B有限", "--format", "json"))] == [other]
    assert [r["id"] for r in json.loads(cli.ok("find", ticket[:8], "--format", "json"))] == [ticket]
    assert [r["id"] for r in json.loads(cli.ok("find", "无法登录", "--format", "json"))] == [ticket]
    table = cli.ok("find", "无法登录")
    assert "●" in table and ticket in table
    assert "nothing matches" in cli("find", "没有这个").stderr


def test_show_a_customer_lists_its_records_newest_first_open_marked(cli, repo, customer, ticket):
    cli.ok("status", ticket, "in_progress")
    later = cli.ok(*TICKET, "--customer", customer, env={"CSLOG_NOW": "2026-11-23T09:00:00+08:00"})
    cli.ok("status", later, "closed", "--reason", "重复", "--category", "重复工单", "--solution", "合并处理",
           env={"CSLOG_NOW": "2026-11-23T09:10:00+08:00"})
    contact = cli.ok("new", "--customer", customer, "--channel", "phone", "--request", "催进度",
                     env={"CSLOG_NOW": "2026-11-22T16:00:00+08:00"})
    shown = cli.ok("show", customer)
    section = shown.split("工单与沟通记录")[1]
    assert section.index(later) < section.index(contact) < section.index(ticket)  # newest first
    assert [line for line in section.splitlines() if ticket in line][0].startswith("●")  # open
    assert not [line for line in section.splitlines() if later in line][0].startswith("●")  # closed


def test_customer_given_by_name_or_phone_when_it_names_one(cli, repo, customer):
    cli.ok("new", "customer", "--name", "A有限公司分部", "--phone", "13600005678")
    made = cli.ok(*TICKET, "--customer", "A公司")
    assert doc(repo, made)["customer"] == customer
    assert doc(repo, cli.ok(*TICKET, "--customer", "138 1234 5678"))["customer"] == customer
    many = cli(*TICKET, "--customer", "5678")
    assert many.exit_code == 2 and "2 customers match" in many.stderr and customer in many.stderr
    unknown = cli(*TICKET, "--customer", "C公司")
    assert unknown.exit_code == 2 and "unknown customer" in unknown.stderr
    listed = json.loads(cli.ok("list", "tickets", "--customer", "A公司", "--format", "json"))
    assert {r["customer"] for r in listed} == {customer}


# -- attach -----------------------------------------------------------------------------------------------------

def test_attach_copies_lists_and_commits_the_files(cli, repo, ticket, tmp_path):
    video = tmp_path / "故障视频.mp4"
    video.write_bytes(b"\x00video" * 1000)
    shot = tmp_path / "截图.png"
    shot.write_bytes(b"\x89PNG...")
    before = commit_count(repo)
    result = cli("attach", ticket, str(video), str(shot), "--note", "客户提供")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == [f"attachments/{ticket}/故障视频.mp4", f"attachments/{ticket}/截图.png"]
    assert commit_count(repo) == before + 1
    assert git(repo, "status", "--porcelain") == ""
    listed = doc(repo, ticket)["attachments"]
    assert listed[0]["file"] == "故障视频.mp4" and listed[0]["bytes"] == 6000
    assert listed[0]["sha256"] == hashlib.sha256(video.read_bytes()).hexdigest() and listed[0]["note"] == "客户提供"
    assert (repo / f"attachments/{ticket}/截图.png").read_bytes() == shot.read_bytes()
    assert "故障视频.mp4" in cli.ok("show", ticket)
    again = cli("attach", ticket, str(shot))
    assert again.exit_code == 2 and "already" in again.stderr
    shot.write_bytes(b"another picture")
    cli.ok("attach", ticket, str(shot))
    assert doc(repo, ticket)["attachments"][-1]["file"] == "截图-2.png"
    assert cli("check").exit_code == 0
    (repo / f"attachments/{ticket}/截图.png").write_bytes(b"changed")
    (repo / f"attachments/{ticket}/故障视频.mp4").unlink()
    check = cli("check")
    assert check.exit_code == 1
    assert "故障视频.mp4 is missing" in check.stdout and "截图.png changed since it was attached" in check.stdout
    git(repo, "checkout", "-q", "--", "attachments")
    book = tmp_path / "book.xlsx"
    cli.ok("export", "--month", "2026-11", "-o", str(book))
    notes = [c.value for row in openpyxl.load_workbook(book)["工单明细"].iter_rows() for c in row]
    assert any(isinstance(v, str) and "附件: 故障视频.mp4" in v for v in notes)


def test_attach_refuses_a_file_over_the_limit_with_the_lfs_hint(cli, repo, ticket, tmp_path):
    config = repo / "cslog.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("max_mb: 20", "max_mb: 0.001"), encoding="utf-8")
    big = tmp_path / "录音.wav"
    big.write_bytes(b"x" * 5000)
    before = commit_count(repo)
    result = cli("attach", ticket, str(big))
    assert result.exit_code == 2 and "attachments.max_mb" in result.stderr and "git LFS" in result.stderr
    assert commit_count(repo) == before and not (repo / "attachments").exists()


# -- follow-up reminders ---------------------------------------------------------------------------------------

def test_a_missed_follow_up_is_a_reminder_in_overdue_until_followed(cli, repo, customer):
    contact = cli.ok("new", "--customer", customer, "--channel", "phone", "--request", "要求换货",
                     "--follow-up", "回电确认收货", "--follow-up-at", "2026-11-22 17:00", "--result", "同意换货")
    assert cli("overdue", "--at", "2026-11-22T16:00:00+08:00").exit_code == 0
    late = cli("overdue", "--at", "2026-11-22T18:00:00+08:00", "--format", "json")
    assert late.exit_code == 1
    rows = [r for r in json.loads(late.stdout) if r["kind"] == "reminder"]
    assert rows == [{"id": contact, "kind": "reminder", "due": "2026-11-22T17:00:00+08:00", "overdue_minutes": 60,
                     "priority": None, "status": None, "owner": "小明", "title": "回电确认收货"}]
    assert "提醒" in cli("overdue", "--at", "2026-11-22T18:00:00+08:00").stdout
    assert cli("overdue", "--at", "2026-11-22T18:00:00+08:00", "--kind", "reminder", "--no-cache").exit_code == 1
    cli.ok("followed", contact, "--note", "已回电", env={"CSLOG_NOW": "2026-11-22T18:05:00+08:00"})
    assert cli("overdue", "--at", "2026-11-22T18:10:00+08:00").exit_code == 0
    assert doc(repo, contact)["followed_up_at"] == "2026-11-22T18:05:00+08:00"
    twice = cli("followed", contact)
    assert twice.exit_code == 2 and "already" in twice.stderr
    alone = cli("new", "--customer", customer, "--channel", "phone", "--request", "x", "--follow-up-at", "2026-11-22 18:00")
    assert alone.exit_code == 2 and "--follow-up TEXT" in alone.stderr


# -- show in words -------------------------------------------------------------------------------------------------

def test_show_says_every_value_in_words(cli, repo, customer, ticket):
    cli.ok("set", customer, "type=vip", "contact_person=王经理")
    cli.ok("status", ticket, "resolved", "--solution", "重置密码", "--category", "账号")
    cli.ok("rate", ticket, "2", "--comment", "太慢")
    cli.ok("callback", ticket, "--result", "客户确认可以登录", "--solved")
    shown = cli.ok("show", ticket)
    assert "score=" not in shown and "comment=" not in shown and "at=" not in shown
    assert "评分: 2" in shown and "评价: 太慢" in shown and "客户确认可以登录" in shown
    assert "账户类型:" in shown and "VIP客户" in shown and "138****5678" in shown
    customer_page = cli.ok("show", customer)
    assert "联系人:" in customer_page and "王经理  13812345678" in customer_page and "沟通记录:" not in customer_page
    assert "VIP客户" in customer_page and "vip" not in customer_page


# -- import ------------------------------------------------------------------------------------------------------

def test_import_maps_the_seeds_columns_to_the_new_fields(cli, repo, tmp_path):
    sheet = tmp_path / "跟踪表.csv"
    sheet.write_text("工单编号,客户名称,问题类型,紧急程度,问题描述,任务开始时间,预计完成时间,备注,涉及人员,后续注意事项\n"
                     "A1,A公司,故障,高,无法登录,2026-11-20 09:00,2026-11-21 18:00,VIP客户,张工、李工,先核对账号\n",
                     encoding="utf-8")
    cli.ok("import", str(sheet))
    d = doc(repo, "CW202611200001")
    assert (d["planned_at"], d["remarks"], d["involved"], d["caveats"]) == (
        "2026-11-21T18:00:00+08:00", "VIP客户", ["张工", "李工"], "先核对账号")
    assert not [e for e in d["timeline"] if "备注" in str(e.get("text"))]


# -- what the review of this issue found --------------------------------------------------------------------------

def test_edit_a_tickets_emotion(cli, repo, ticket, tmp_path):
    cli.ok("set", ticket, "emotion=焦虑")
    command, _seen = editor(tmp_path, [("emotion: anxious", "emotion: agitated")])
    result = cli("edit", ticket, env={"EDITOR": command})
    assert result.exit_code == 0, result.stderr
    assert changed(doc(repo, ticket))[-1] == ("emotion", "anxious", "agitated", None)
    assert git(repo, "log", "-1", "--format=%s").strip().endswith("edit emotion")


def test_edit_left_as_it_was_after_an_error_gives_up(cli, repo, ticket, tmp_path):
    command, _seen = editor(tmp_path, [("priority: urgent", "priority: 超急")], [])
    result = cli("edit", ticket, env={"EDITOR": command})
    assert result.exit_code == 0 and "no change" in result.stderr
    assert (tmp_path / "rounds").read_text() == "2"


@pytest.mark.parametrize("name, words", [("身份证11010519491231002X.jpg", "personal data"),
                                         ("两行\n名字.jpg", "one line"), ])
def test_attach_refuses_names_that_would_leak_or_break_lines(cli, repo, ticket, tmp_path, name, words):
    path = tmp_path / name
    path.write_bytes(b"x")
    result = cli("attach", ticket, str(path))
    assert result.exit_code == 2 and words in result.stderr
    assert not (repo / "attachments").exists()


def test_attach_shortens_a_long_name_and_refuses_a_folder(cli, repo, ticket, tmp_path):
    long = tmp_path / ("x" * 200 + ".png")
    long.write_bytes(b"one")
    cli.ok("attach", ticket, str(long))
    long.write_bytes(b"two")
    cli.ok("attach", ticket, str(long))
    names = [a["file"] for a in doc(repo, ticket)["attachments"]]
    assert all(len(n) <= 120 and n.endswith(".png") for n in names) and len(set(names)) == 2
    folder = cli("attach", ticket, str(tmp_path))
    assert folder.exit_code == 2 and "is a folder" in folder.stderr


def test_set_keeps_what_closing_required(cli, repo, ticket):
    cli.ok("status", ticket, "resolved", "--solution", "重置密码", "--category", "账号")
    cli.ok("status", ticket, "closed")
    for field in ("solution=", "category="):
        result = cli("set", ticket, field)
        assert result.exit_code == 2 and "closing needed it" in result.stderr
    cli.ok("set", ticket, "solution=重置密码并清理缓存")


def test_a_renamed_customer_is_renamed_in_its_records(cli, repo, customer, ticket):
    cli.ok("set", customer, "name=A科技有限公司")
    listed = json.loads(cli.ok("list", "tickets", "--format", "json"))
    assert [r["customer_name"] for r in listed] == ["A科技有限公司"]
    assert git(repo, "status", "--porcelain") == "" and cli("check").exit_code == 0


def test_a_contact_moved_to_another_ticket_moves_in_both_lists(cli, repo, customer, ticket):
    other = cli.ok(*TICKET, "--customer", customer)
    contact = cli.ok("new", "--customer", customer, "--channel", "phone", "--request", "催", "--ticket", ticket)
    assert doc(repo, ticket)["contacts"] == [contact]
    cli.ok("set", contact, f"ticket={other}")
    assert not doc(repo, ticket).get("contacts") and doc(repo, other)["contacts"] == [contact]


def test_a_follow_up_time_needs_its_text_and_a_new_time_is_a_new_reminder(cli, repo, customer):
    contact = cli.ok("new", "--customer", customer, "--channel", "phone", "--request", "r", "--follow-up", "回电",
                     "--follow-up-at", "2026-11-22 17:00")
    assert cli("set", contact, "follow_up=").exit_code == 2
    cli.ok("followed", contact)
    cli.ok("set", contact, "follow_up_at=2026-11-23 10:00")
    assert "followed_up_at" not in doc(repo, contact)
    late = json.loads(cli("overdue", "--at", "2026-11-23T11:00:00+08:00", "--format", "json").stdout)
    assert [r["id"] for r in late if r["kind"] == "reminder"] == [contact]


def test_find_a_phone_given_with_the_country_code(cli, repo, customer):
    assert [r["id"] for r in json.loads(cli.ok("find", "+86 138 1234 5678", "--format", "json"))] == [customer]
    assert "138****5678" in cli.ok("find", "5678")  # a screen shows it masked
    assert cli("find", "x", "--limit", "0").exit_code == 2


def test_a_landline_is_one_number_however_it_is_written(cli):
    """+86 10 6234 5678, 010-6234 5678 and 01062345678 are one phone (model.phone_normal, for find and import)."""
    office = cli.ok("new", "customer", "--name", "B公司", "--phone", "+86 10 6234 5678")
    for written in ("010-6234 5678", "01062345678", "+86 10 62345678"):
        assert [r["id"] for r in json.loads(cli.ok("find", written, "--format", "json"))] == [office], written
    assert cli.ok(*TICKET, "--customer", "010-62345678")


def test_the_workbooks_planned_time_is_the_agents_when_given(cli, repo, ticket, tmp_path):
    cli.ok("set", ticket, "planned_at=2026-11-26 18:00")
    book = tmp_path / "book.xlsx"
    cli.ok("export", "--month", "2026-11", "-o", str(book))
    sheet = openpyxl.load_workbook(book)["工单明细"]
    heads = [c.value for c in sheet[1]]
    assert sheet.cell(2, heads.index("预计完成时间") + 1).value.strftime("%Y-%m-%d %H:%M") == "2026-11-26 18:00"


def test_edit_keeps_a_problem_whose_words_hold_a_semicolon_on_one_line(cli, repo, tmp_path):
    """A problem is one `# cslog error:` line even when its message has `; ` in it (an action's rules do)."""
    aid = cli.ok("action", "new", "--title", "预警", "--problem", "物流", "--measure", "m", "--owner", "老周",
                 "--department", "运营部", "--due", "2026-12-31")
    command, seen = editor(tmp_path, [("status: open", "status: open\nresult: 已做")],
                           [("result: 已做\n", ""), ("measure: m", "measure: 每日推送")])
    result = cli("edit", aid, env={"EDITOR": command})
    assert result.exit_code == 0, result.stderr
    errors = [line for line in seen.read_text(encoding="utf-8").splitlines() if line.startswith("# cslog error:")]
    assert len(errors) == 1 and "only a done action has one" in errors[0] and "remove it" in errors[0]
