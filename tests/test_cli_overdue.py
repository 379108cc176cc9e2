"""`cslog overdue`: the cron contract, filters, --within, --at, formats, and `cslog show`'s clocks."""
from __future__ import annotations

import copy
import json
import subprocess
from datetime import datetime, timezone

import pytest

from conftest import NOW, around_the_clock, cslog_bin

from cslog.ops import overdue as ops
from cslog.store import Store
from cslog.timeutil import parse_time, zone


@pytest.fixture(autouse=True)
def hotline(repo):
    """These tests were worked out on the wall clock: a 24-hour hotline's policy (the defaults count business
    time; tests/test_business_time.py holds them)."""
    around_the_clock(repo)


def iso(text: str) -> str:
    """'2026-11-22 10:00' -> '2026-11-22T10:00:00+08:00'."""
    return text.replace(" ", "T") + ":00+08:00"


def ev(when: str, kind: str, **fields) -> dict:
    return {"at": iso(when), "by": "小明", "kind": kind, **fields}


def move(when: str, frm: str, to: str) -> dict:
    return ev(when, "status", **{"from": frm, "to": to})


def make_ticket(cli, customer: str, received: str, *events: dict, priority: str = "urgent", type: str = "fault",
                owner: str | None = "小丽", title: str = "无法登录系统", department: str | None = None) -> str:
    """A ticket received (and created) at `received`, then the given timeline events written as they are."""
    args = ["new", "ticket", "--customer", customer, "--type", type, "--priority", priority, "--channel", "phone",
            "--title", title, "--description", "提示账号异常", "--received-at", iso(received)]
    if owner:
        args += ["--owner", owner]
    if department:
        args += ["--department", department]
    ticket_id = cli.ok(*args, env={"CSLOG_NOW": iso(received)})
    if events:
        append(cli.repo, ticket_id, *events)
    return ticket_id


def append(repo, ticket_id: str, *events: dict, **fields) -> None:
    store = Store.open(repo)
    record = store.read(ticket_id)
    doc = copy.deepcopy(record.doc)
    doc["timeline"] = doc["timeline"] + list(events)
    for e in events:
        if e["kind"] in ("status", "escalated"):
            doc["status"] = e["to"]
    doc.update(fields)
    with store.transaction("test", "测试员", datetime.now(timezone.utc)) as tx:
        tx.replace(record, doc)


def overdue(cli, *args: str, env: dict | None = None):
    return cli("overdue", *args, env=env)


def rows(result) -> list[dict]:
    return json.loads(result.stdout)


def brief(result) -> list[tuple]:
    return [(r["id"], r["kind"], r["overdue_minutes"]) for r in rows(result)]


def set_config(repo, old: str, new: str) -> None:
    path = repo / "cslog.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# -- the cron contract --------------------------------------------------------------------------------

def test_nothing_due_prints_nothing_and_exits_0(cli, customer):
    make_ticket(cli, customer, "2026-11-22 14:00")  # urgent: response due 15:00
    result = overdue(cli)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_nothing_due_in_json_is_an_empty_list_and_in_csv_the_header(cli):
    result = overdue(cli, "--format", "json")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "[]\n", "")
    result = overdue(cli, "--format", "csv")
    assert (result.exit_code, result.stdout) == (0, "id,kind,due,overdue_minutes,priority,status,owner,title\n")


def test_the_installed_command_is_silent_when_all_is_well(repo, cli, customer):
    make_ticket(cli, customer, "2026-11-22 14:00")
    done = subprocess.run([*cslog_bin(), "-C", str(repo), "overdue"], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_breached_clocks_are_listed_most_late_first_and_exit_1(cli, customer):
    late = make_ticket(cli, customer, "2026-11-22 10:00")
    older = make_ticket(cli, customer, "2026-11-21 09:00", priority="important", owner=None, title="物流延误")
    result = overdue(cli, "--format", "json")
    assert result.exit_code == 1
    assert rows(result) == [
        {"id": older, "kind": "claim", "due": "2026-11-21T11:00:00+08:00", "overdue_minutes": 1650,
         "priority": "important", "status": "new", "owner": None, "title": "物流延误"},
        {"id": older, "kind": "response", "due": "2026-11-21T13:00:00+08:00", "overdue_minutes": 1530,
         "priority": "important", "status": "new", "owner": None, "title": "物流延误"},
        {"id": older, "kind": "update", "due": "2026-11-22T09:00:00+08:00", "overdue_minutes": 330,
         "priority": "important", "status": "new", "owner": None, "title": "物流延误"},
        {"id": late, "kind": "response", "due": "2026-11-22T11:00:00+08:00", "overdue_minutes": 210,
         "priority": "urgent", "status": "new", "owner": "小丽", "title": "无法登录系统"},
        {"id": late, "kind": "update", "due": "2026-11-22T14:00:00+08:00", "overdue_minutes": 30,
         "priority": "urgent", "status": "new", "owner": "小丽", "title": "无法登录系统"},
        {"id": late, "kind": "resolve", "due": "2026-11-22T14:00:00+08:00", "overdue_minutes": 30,
         "priority": "urgent", "status": "new", "owner": "小丽", "title": "无法登录系统"},
    ]
    assert list(rows(result)[0]) == ["id", "kind", "due", "overdue_minutes", "priority", "status", "owner", "title"]


def test_table_says_how_late_in_words(cli, customer):
    late = make_ticket(cli, customer, "2026-11-22 10:00")
    result = overdue(cli)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "编号            时限      截止时间          超时       优先级    第一责任人    标题",
        "--------------  --------  ----------------  ---------  --------  ------------  ------------",
        f"{late}  首次响应  2026-11-22 11:00  3小时30分  紧急      小丽          无法登录系统",
        f"{late}  进度更新  2026-11-22 14:00  30分       紧急      小丽          无法登录系统",
        f"{late}  解决      2026-11-22 14:00  30分       紧急      小丽          无法登录系统",
    ]


def test_table_in_english(repo, cli, customer):
    set_config(repo, "language: zh", "language: en")
    late = make_ticket(cli, customer, "2026-11-22 10:00")
    result = overdue(cli, "--kind", "response", "--within", "2h")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "ID              Clock     Due               Late    Priority    Owner    Title",
        "--------------  --------  ----------------  ------  ----------  -------  ------------",
        f"{late}  response  2026-11-22 11:00  3h30m   urgent      小丽     无法登录系统",
    ]


def test_csv_has_the_json_keys_and_raw_values(cli, customer):
    late = make_ticket(cli, customer, "2026-11-22 10:00")
    result = overdue(cli, "--format", "csv", "--kind", "response")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "id,kind,due,overdue_minutes,priority,status,owner,title",
        f"{late},response,2026-11-22T11:00:00+08:00,210,urgent,new,小丽,无法登录系统",
    ]


def test_json_is_what_the_library_returns(repo, cli, customer):
    make_ticket(cli, customer, "2026-11-21 09:00", priority="important", owner=None)
    make_ticket(cli, customer, "2026-11-22 10:00")
    result = overdue(cli, "--format", "json", "--within", "3h")
    store = Store.open(repo)
    expected = ops.find_overdue(store, parse_time(NOW, zone("Asia/Shanghai")), within=ops.parse_within("3h")).rows
    assert rows(result) == expected and expected


# -- bad input ----------------------------------------------------------------------------------------

def test_bad_input_exits_2_with_a_message_and_no_traceback(cli, customer):
    make_ticket(cli, customer, "2026-11-22 10:00")
    cases = {
        ("--at", "yesterday"): "error: cannot read --at 'yesterday'",
        ("--within", "soon"): "error: --within: invalid duration 'soon'",
        ("--kind", "reply"): "error: unknown clock kind 'reply'",
    }
    for args, message in cases.items():
        result = overdue(cli, *args)
        assert result.exit_code == 2, args
        assert result.stdout == ""
        assert result.stderr.startswith(message), result.stderr
        assert "Traceback" not in result.stderr
    result = overdue(cli, "--format", "xml")
    assert result.exit_code == 2 and "Traceback" not in result.stderr


def test_unknown_kind_lists_the_kinds(cli):
    result = overdue(cli, "--kind", "reply")
    assert result.stderr.splitlines() == [
        "error: unknown clock kind 'reply'",
        "  hint: use one of: claim, response, update, resolve, callback, followup, reminder, action",
    ]


# -- filters ------------------------------------------------------------------------------------------

def test_kind_filter_takes_codes_and_labels(cli, customer):
    late = make_ticket(cli, customer, "2026-11-22 10:00")
    result = overdue(cli, "--format", "json", "--kind", "resolve", "--kind", "首次响应")
    assert brief(result) == [(late, "response", 210), (late, "resolve", 30)]


def test_owner_and_department_filters(cli, customer):
    mine = make_ticket(cli, customer, "2026-11-22 10:00", owner="小丽", department="客服部")
    theirs = make_ticket(cli, customer, "2026-11-22 09:00", owner="老王", department="技术部")
    result = overdue(cli, "--format", "json", "--owner", "小丽", "--kind", "response")
    assert brief(result) == [(mine, "response", 210)]
    result = overdue(cli, "--format", "json", "--department", "技术部", "--kind", "response")
    assert brief(result) == [(theirs, "response", 270)]
    result = overdue(cli, "--owner", "没有人")
    assert (result.exit_code, result.stdout) == (0, "")


def test_owner_typo_gets_a_did_you_mean_when_agents_are_listed(repo, cli):
    set_config(repo, "agents: []", "agents: [小丽, 老王]")
    result = overdue(cli, "--owner", "小李")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: unknown agent '小李' (cslog.yaml lists the agents)"


# -- --within and --at --------------------------------------------------------------------------------

def test_within_adds_clocks_due_soon_with_negative_minutes(cli, customer):
    soon = make_ticket(cli, customer, "2026-11-22 14:00", priority="important")  # response due 18:00
    assert overdue(cli).exit_code == 0
    result = overdue(cli, "--format", "json", "--within", "4h")
    assert result.exit_code == 1
    assert brief(result) == [(soon, "response", -210)]
    assert rows(result)[0]["due"] == "2026-11-22T18:00:00+08:00"
    assert overdue(cli, "--within", "3h").stdout == ""  # due later than that: not listed


def test_within_puts_the_late_before_the_soon(cli, customer):
    soon = make_ticket(cli, customer, "2026-11-22 14:00", priority="important")
    late = make_ticket(cli, customer, "2026-11-22 10:00")
    result = overdue(cli, "--format", "json", "--within", "4h", "--kind", "response")
    assert brief(result) == [(late, "response", 210), (soon, "response", -210)]
    table = overdue(cli, "--within", "4h", "--kind", "response").stdout
    assert "3小时30分" in table and "还剩3小时30分" in table


def test_within_in_business_hours_follows_the_calendar(cli, customer):
    # Sunday 14:30 is outside business hours: 1bh from now ends Monday 10:00.
    monday = make_ticket(cli, customer, "2026-11-21 09:30", priority="normal")  # update 24h: due Sun 09:30...
    append(cli.repo, monday, ev("2026-11-22 09:30", "reply", text="已在处理"))  # ...now Mon 09:30
    assert overdue(cli, "--within", "1h").stdout == ""
    result = overdue(cli, "--format", "json", "--within", "1bh", "--kind", "update")
    assert brief(result) == [(monday, "update", -1140)]


def test_at_judges_the_clocks_as_of_a_past_moment(cli, customer):
    late = make_ticket(cli, customer, "2026-11-22 10:00", ev("2026-11-22 12:00", "reply", text="正在排查"))
    assert overdue(cli, "--at", "2026-11-22 10:30").stdout == ""
    result = overdue(cli, "--format", "json", "--at", "2026-11-22 11:30")
    assert result.exit_code == 1
    assert brief(result) == [(late, "response", 30)]  # the 12:00 reply had not happened yet
    assert brief(overdue(cli, "--format", "json", "--at", "2026-11-22T15:00:00+08:00")) == [(late, "resolve", 60)]


def test_cslog_now_is_the_default_moment(cli, customer):
    make_ticket(cli, customer, "2026-11-22 14:00")
    assert overdue(cli, env={"CSLOG_NOW": "2026-11-22T15:30:00+08:00"}).exit_code == 1


# -- what is and is not listed ------------------------------------------------------------------------

def test_waiting_pauses_update_and_resolve(cli, customer):
    events = (ev("2026-11-20 10:30", "reply", text="已收到"), move("2026-11-20 11:00", "new", "waiting"))
    waiting = make_ticket(cli, customer, "2026-11-20 10:00", *events, priority="normal")
    working = make_ticket(cli, customer, "2026-11-20 10:00", ev("2026-11-20 10:30", "reply", text="已收到"),
                          move("2026-11-20 11:00", "new", "in_progress"), priority="normal")
    result = overdue(cli, "--format", "json")
    assert brief(result) == [(working, "update", 1680)]
    assert waiting not in result.stdout


def test_followup_is_listed_after_a_low_rating(cli, customer):
    events = (move("2026-11-21 10:00", "new", "in_progress"), ev("2026-11-21 10:05", "reply", text="已重置"),
              move("2026-11-21 11:00", "in_progress", "resolved"))
    unhappy = make_ticket(cli, customer, "2026-11-21 09:50", *events)
    happy = make_ticket(cli, customer, "2026-11-21 09:50", *events)
    append(cli.repo, unhappy, ev("2026-11-22 13:00", "rated", score=1), satisfaction={"score": 1})
    append(cli.repo, happy, ev("2026-11-22 13:00", "rated", score=5), satisfaction={"score": 5})
    result = overdue(cli, "--format", "json")
    assert result.exit_code == 1
    assert rows(result) == [{"id": unhappy, "kind": "followup", "due": "2026-11-22T13:00:00+08:00",
                             "overdue_minutes": 90, "priority": "urgent", "status": "resolved", "owner": "小丽",
                             "title": "无法登录系统"}]
    append(cli.repo, unhappy, move("2026-11-22 14:00", "resolved", "in_progress"))  # acted on: reopened
    assert brief(overdue(cli, "--format", "json", "--kind", "followup")) == []


def test_a_broken_ticket_file_is_named_on_stderr_and_hides_nothing(cli, customer):
    late = make_ticket(cli, customer, "2026-11-22 10:00")
    (cli.repo / "tickets" / "2026" / "11" / "CW202611229999.yaml").write_text("id: [oops\n", encoding="utf-8")
    result = overdue(cli, "--format", "json", "--kind", "response")
    assert result.exit_code == 1
    assert brief(result) == [(late, "response", 210)]
    assert result.stderr.startswith("warning: tickets/2026/11/CW202611229999.yaml:")


def test_a_bad_calendar_in_cslog_yaml_exits_2_with_its_line(repo, cli):
    set_config(repo, "business_hours: [{start: '09:00', end: '18:00'}]",
               "business_hours: [{start: '19:00', end: '18:00'}]")
    result = overdue(cli)
    assert result.exit_code == 2
    line = next(i for i, text in enumerate((repo / "cslog.yaml").read_text().splitlines(), 1) if "19:00" in text)
    assert result.stderr.splitlines()[0] == (f"error: {repo / 'cslog.yaml'}:{line}: calendar.business_hours[0]: "
                                             "window 19:00-18:00 must end after it starts")


def test_an_unknown_country_is_reported_by_check_and_by_overdue(repo, cli):
    set_config(repo, "country: CN", "country: XX")
    result = cli("check")
    assert result.exit_code == 1
    assert "calendar.country: unknown country code 'XX'" in result.stdout
    result = overdue(cli)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cslog.yaml:")
    assert "calendar.country: unknown country code 'XX'" in result.stderr


# -- show ---------------------------------------------------------------------------------------------

def test_show_lists_the_clocks(cli, customer):
    late = make_ticket(cli, customer, "2026-11-22 10:00", ev("2026-11-22 13:00", "reply", text="正在排查"))
    text = cli.ok("show", late)
    start = text.splitlines().index("服务时限 (SLA):")
    assert text.splitlines()[start:start + 5] == [
        "服务时限 (SLA):",
        "  认领      已达成  截止 2026-11-22 12:00 周日  完成于 2026-11-22 10:00 周日",
        "  首次响应  已超时  截止 2026-11-22 11:00 周日  超时 2小时 (完成于 2026-11-22 13:00 周日)",
        "  进度更新  计时中  截止 2026-11-22 17:00 周日  剩余 2小时30分",
        "  解决      已超时  截止 2026-11-22 14:00 周日  超时 30分",
    ]


def test_show_marks_a_clock_at_risk(cli, customer):
    soon = make_ticket(cli, customer, "2026-11-22 14:00")
    lines = cli.ok("show", soon).splitlines()
    assert "  首次响应  计时中  截止 2026-11-22 15:00 周日  剩余 30分  即将超时" in lines
    assert "  解决      计时中  截止 2026-11-22 18:00 周日  剩余 3小时30分" in lines


def test_overdue_reads_through_the_index_and_agrees_without_it():
    """The index answers from stored dues; --no-cache computes every clock from the files: same rows."""
    from conftest import PROJECT, Cli

    cli = Cli(PROJECT / "examples")
    for args in (["--at", "2026-11-20 17:00"], ["--at", "2026-11-20 17:00", "--within", "4h"],
                 ["--at", "2026-08-01 10:00"], ["--at", "2026-11-20 17:00", "--kind", "resolve"]):
        cached = cli("overdue", *args, "--format", "json")
        fresh = cli("overdue", *args, "--format", "json", "--no-cache")
        assert cached.exit_code == fresh.exit_code == 1
        assert cached.stdout == fresh.stdout
