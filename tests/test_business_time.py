"""SLA figures a team can trust (design.md 9.2), through the commands: business-time defaults, callbacks that
happened, tickets closed without a resolution, years the calendar does not know, names typed by hand.

These tests use the defaults `cslog init` writes (business time); the other modules of clock arithmetic use
a 24-hour hotline's wall-clock policy (conftest.HOTLINE)."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import Cli, cslog_bin, git

FRIDAY_EVENING = "2026-11-20T17:30:00+08:00"
MONDAY_MORNING = "2026-11-23 09:00"
CONSULTATION = ["new", "ticket", "--type", "咨询", "--priority", "一般", "--channel", "电话",
                "--title", "发票抬头如何修改", "--description", "客户询问电子发票抬头修改流程"]
COMPLAINT = ["new", "ticket", "--type", "投诉", "--priority", "重要", "--channel", "电话",
             "--title", "安装师傅迟到", "--description", "约定上午上门,下午才到"]
SUGGESTION = ["new", "ticket", "--type", "建议", "--priority", "一般", "--channel", "在线",
              "--title", "希望增加夜间客服", "--description", "晚上下班后联系不上客服"]


def at(moment: str) -> dict:
    return {"CSLOG_NOW": moment}


def run(repo, *args: str, now: str) -> subprocess.CompletedProcess:
    """The installed cslog, as cron and agents run it."""
    env = {**os.environ, "CSLOG_NOW": now}
    return subprocess.run(cslog_bin() + ["-C", str(repo), *args], env=env, capture_output=True, text=True,
                          timeout=60)


def ticket_at(cli: Cli, customer: str, moment: str, *args: str) -> str:
    return cli.ok(*args, "--customer", customer, env=at(moment))


def set_config(repo, old: str, new: str) -> None:
    path = repo / "cslog.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    git(repo, "commit", "-q", "-m", "cslog.yaml", "--", "cslog.yaml")


def report(cli: Cli, month: str, now: str) -> dict:
    return json.loads(cli.ok("report", "--month", month, "--format", "json", env=at(now)))


# -- the Monday morning ---------------------------------------------------------------------------------------

def test_init_writes_the_business_time_policy_with_a_line_for_hotlines(repo):
    text = (repo / "cslog.yaml").read_text(encoding="utf-8")
    assert "normal:    {response: 1bd, update: 1bd, resolve: 3bd}" in text
    assert "urgent:    {response: 1bh, update: 4bh, resolve: 4bh}" in text
    assert "claim: 2bh" in text and "callback: {after: 2bd, types: [complaint, repair]}" in text
    assert "24-hour hotline" in text


def test_friday_evening_consultation_is_not_late_on_monday_morning(repo, cli, customer):
    tid = ticket_at(cli, customer, FRIDAY_EVENING, *CONSULTATION)
    monday = run(repo, "overdue", "--at", MONDAY_MORNING, now=MONDAY_MORNING)
    assert (monday.returncode, monday.stdout, monday.stderr) == (0, "", "")
    late = run(repo, "overdue", "--at", "2026-11-23 10:31", "--format", "json", now="2026-11-23T10:31:00+08:00")
    assert late.returncode == 1
    rows = json.loads(late.stdout)
    assert [(r["id"], r["kind"], r["due"]) for r in rows] == [(tid, "claim", "2026-11-23T10:30:00+08:00")]
    shown = run(repo, "show", tid, now=MONDAY_MORNING)
    assert shown.returncode == 0
    lines = shown.stdout.splitlines()
    assert any("认领" in line and "截止 2026-11-23 10:30 周一" in line for line in lines)
    assert any("首次响应" in line and "截止 2026-11-23 18:00 周一" in line for line in lines)
    assert any("解决" in line and "截止 2026-11-25 18:00 周三" in line for line in lines)


def test_national_day_counts_no_holiday(repo, cli, customer):
    ticket_at(cli, customer, "2026-09-30T16:00:00+08:00", *CONSULTATION, "--owner", "小明")
    after = run(repo, "overdue", "--at", "2026-10-08 09:00", now="2026-10-08T09:00:00+08:00")
    assert (after.returncode, after.stdout) == (0, "")
    due = run(repo, "overdue", "--at", "2026-10-10 18:01", "--kind", "resolve", "--format", "json",
              now="2026-10-10T18:01:00+08:00")
    assert [r["due"] for r in json.loads(due.stdout)] == ["2026-10-10T18:00:00+08:00"]  # a make-up Saturday


def test_the_reports_rates_follow_working_time(cli, customer):
    tid = ticket_at(cli, customer, FRIDAY_EVENING, *CONSULTATION)
    cli.ok("claim", tid, env=at("2026-11-23T09:30:00+08:00"))
    cli.ok("reply", tid, "已告知修改流程", env=at("2026-11-23T10:00:00+08:00"))
    cli.ok("status", tid, "resolved", "--category", "发票", env=at("2026-11-23T11:00:00+08:00"))
    sla = report(cli, "2026-11", "2026-12-01T09:00:00+08:00")["sla"]
    assert {k: (sla[k]["met"], sla[k]["breached"]) for k in ("claim", "response", "resolve")} == {
        "claim": (1, 0), "response": (1, 0), "resolve": (1, 0)}


# -- callbacks that happened ----------------------------------------------------------------------------------

def resolved_complaint(cli: Cli, customer: str, moment: str) -> str:
    tid = ticket_at(cli, customer, moment, *COMPLAINT, "--owner", "小明")
    cli.ok("status", tid, "resolved", "--solution", "致歉并赠送优惠券", "--category", "上门服务",
           env=at(moment.replace("T10:", "T11:")))
    return tid


def test_closing_a_complaint_needs_a_callback_or_a_recorded_reason(repo, cli, customer):
    tid = resolved_complaint(cli, customer, "2026-11-02T10:00:00+08:00")
    refused = cli("status", tid, "closed", env=at("2026-11-02T12:00:00+08:00"))
    assert refused.exit_code == 2 and "--skip-callback --reason" in refused.stderr
    skipped = cli("status", tid, "closed", "--skip-callback", "--reason", "客户拒绝回访",
                  env=at("2026-11-02T12:00:00+08:00"))
    assert skipped.exit_code == 0, skipped.stderr
    doc = json.loads(cli.ok("show", tid, "--format", "json"))
    last = doc["timeline"][-1]
    assert (last["to"], last["skip_callback"], last["reason"]) == ("closed", True, "客户拒绝回访")
    assert any("回访" in line and "不计" in line for line in cli.ok("show", tid).splitlines())
    other = resolved_complaint(cli, customer, "2026-11-03T10:00:00+08:00")
    cli.ok("callback", other, "--result", "客户满意", "--solved", "--score", "5", env=at("2026-11-04T10:00:00+08:00"))
    cli.ok("status", other, "closed", env=at("2026-11-04T11:00:00+08:00"))
    figures = report(cli, "2026-11", "2026-12-01T09:00:00+08:00")
    assert (figures["sla"]["callback"]["met"], figures["sla"]["callback"]["breached"]) == (1, 0)
    assert figures["callbacks"]["tickets"] == 1


def test_a_callback_clock_is_met_only_by_a_callback(cli, customer):
    tid = resolved_complaint(cli, customer, "2026-11-02T10:00:00+08:00")
    late = cli("overdue", "--kind", "callback", "--format", "json", env=at("2026-11-05T09:00:00+08:00"))
    assert late.exit_code == 1 and [r["id"] for r in json.loads(late.stdout)] == [tid]  # due Wed 11-04 18:00


def test_a_callback_not_solved_reopens_the_ticket(cli, customer):
    tid = resolved_complaint(cli, customer, "2026-11-02T10:00:00+08:00")
    out = cli("callback", tid, "--result", "问题仍未解决", "--not-solved", env=at("2026-11-03T10:00:00+08:00"))
    assert out.exit_code == 0 and "已解决 → 处理中" in out.stderr
    doc = json.loads(cli.ok("show", tid, "--format", "json"))
    assert doc["status"] == "in_progress"
    assert (doc["timeline"][-1]["to"], doc["timeline"][-1]["reason"]) == ("in_progress", "回访未解决")
    assert any("解决" in line and "计时中" in line for line in cli.ok("show", tid, env=at("2026-11-03T10:30:00+08:00"))
               .splitlines() if line.strip().startswith("解决"))
    figures = report(cli, "2026-11", "2026-12-01T09:00:00+08:00")
    assert figures["reopened"] == 1 and figures["callbacks"]["not_solved"] == 1


# -- closed without a resolution ------------------------------------------------------------------------------

def test_a_duplicate_closed_unresolved_is_counted_apart(cli, customer):
    kept = ticket_at(cli, customer, "2026-11-02T10:00:00+08:00", *SUGGESTION)
    cli.ok("status", kept, "resolved", "--category", "服务时间", "--adopted",
           "--reason", "下季度试行", env=at("2026-11-04T10:00:00+08:00"))
    dup = ticket_at(cli, customer, "2026-11-02T10:05:00+08:00", *SUGGESTION)
    cli.ok("status", dup, "closed", "--reason", "重复提交", "--category", "服务时间",
           env=at("2026-11-02T10:35:00+08:00"))
    figures = report(cli, "2026-11", "2026-12-01T09:00:00+08:00")
    assert figures["closed_unresolved"] == 1 and figures["handling"]["resolved"] == 1
    assert figures["handling"]["hours"]["mean"] == 48.0  # the duplicate's half hour is not handling time
    assert (figures["sla"]["resolve"]["met"], figures["sla"]["resolve"]["breached"]) == (1, 0)
    assert any(line.strip().startswith("解决") and "不计" in line for line in cli.ok("show", dup).splitlines())


def test_closing_a_new_ticket_says_everything_it_needs_at_once(cli, customer):
    tid = ticket_at(cli, customer, "2026-11-02T10:00:00+08:00", *SUGGESTION)
    refused = cli("status", tid, "closed")
    assert refused.exit_code == 2 and "--reason" in refused.stderr and "category" in refused.stderr


# -- years the calendar does not know -------------------------------------------------------------------------

def test_an_unofficial_year_is_warned_once_per_command(repo, cli, customer):
    tid = ticket_at(cli, customer, "2027-09-29T10:00:00+08:00", *CONSULTATION)
    for args in (["overdue", "--at", "2027-10-09 10:00"], ["show", tid], ["check"]):
        done = run(repo, *args, now="2027-10-09T10:00:00+08:00")
        assert done.returncode in (0, 1), done.stderr
        warned = [line for line in done.stderr.splitlines() if line.startswith("warning: 2027:")]
        assert len(warned) == 1 and "calendar.extra_workdays" in warned[0], (args, done.stderr)
    shown = json.loads(run(repo, "calendar", "2027", "--format", "json", now="2027-10-09T10:00:00+08:00").stdout)
    assert (shown["year"], shown["country"], shown["official"]) == (2027, "CN", False)
    set_config(repo, "extra_workdays: []", "extra_workdays: ['2027-09-26', '2027-10-09']")
    quiet = run(repo, "overdue", "--at", "2027-10-09 10:00", now="2027-10-09T10:00:00+08:00")
    assert "warning: 2027" not in quiet.stderr
    days = json.loads(run(repo, "calendar", "2027", "--format", "json", now="2027-10-09T10:00:00+08:00").stdout)["days"]
    assert {"date": "2027-10-09", "weekday": "sat", "kind": "workday", "name": "公司上班日",
            "source": "cslog.yaml"} in days


def test_a_known_year_is_not_warned(repo, cli, ticket):
    done = run(repo, "show", ticket, now="2026-11-22T15:00:00+08:00")
    assert done.returncode == 0 and "warning" not in done.stderr


def test_calendar_shows_the_libraries_make_up_saturday(repo):
    table = run(repo, "calendar", "2026", now="2026-11-22T15:00:00+08:00")
    assert table.returncode == 0 and table.stderr == ""
    row = next(line for line in table.stdout.splitlines() if line.startswith("2026-10-10"))
    assert row.split()[:3] == ["2026-10-10", "周六", "上班"] and row.split()[-1] == "节假日库"
    shown = json.loads(run(repo, "calendar", "2026", "--format", "json", now="2026-11-22T15:00:00+08:00").stdout)
    assert shown["official"] is True
    by_date = {d["date"]: d for d in shown["days"]}
    assert (by_date["2026-10-10"]["kind"], by_date["2026-10-10"]["source"]) == ("workday", "library")
    assert (by_date["2026-10-01"]["kind"], by_date["2026-10-01"]["name"]) == ("holiday", "国庆节")
    default = run(repo, "calendar", now="2026-11-22T15:00:00+08:00")
    assert default.stdout == table.stdout  # this year
    wrong = run(repo, "calendar", "20266", now="2026-11-22T15:00:00+08:00")
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr


# -- a paused ticket that was already late --------------------------------------------------------------------

def test_a_late_ticket_waiting_on_the_customer_is_listed_and_marked(cli, customer):
    tid = ticket_at(cli, customer, "2026-11-23T09:00:00+08:00", *CONSULTATION, "--priority", "紧急")
    cli.ok("status", tid, "waiting", "--note", "等客户提供截图", env=at("2026-11-23T14:00:00+08:00"))
    out = cli("overdue", "--kind", "resolve", env=at("2026-11-23T15:00:00+08:00"))
    assert out.exit_code == 1
    assert tid in out.stdout and "(等待客户)" in out.stdout  # resolve 4bh was due at 13:00


# -- names typed by hand, small things ------------------------------------------------------------------------

@pytest.fixture
def listed(repo, cli):
    set_config(repo, "agents: []", "agents: [小丽, 小明, 老王]")
    return cli


def test_a_typo_gets_every_close_name(listed, ticket):
    out = listed("assign", ticket, "小莉")
    assert out.exit_code == 2 and "did you mean '小丽' or '小明'?" in out.stderr


def test_list_owner_typo_is_refused_like_overdue(listed, ticket):
    for command in (["list", "--owner", "小名"], ["overdue", "--owner", "小名"]):
        out = listed(*command)
        assert out.exit_code == 2 and "did you mean" in out.stderr and "'小明'" in out.stderr, command


def test_status_takes_what_people_type(listed, customer):
    tid = ticket_at(listed, customer, "2026-11-22T10:00:00+08:00", *SUGGESTION)
    assert listed("status", tid, "关闭", "--reason", "客户撤回", "--category", "其他").exit_code == 0
    assert json.loads(listed.ok("show", tid, "--format", "json"))["status"] == "closed"


def test_praised_must_be_a_listed_agent(listed, customer):
    out = listed("new", "ticket", "--customer", customer, "--type", "表扬", "--priority", "一般", "--channel", "电话",
                 "--title", "表扬客服", "--description", "耐心解答", "--praised", "小莉")
    assert out.exit_code == 2 and "did you mean '小丽' or '小明'?" in out.stderr


def test_an_actor_from_git_is_checked_like_as(listed, ticket):
    env = {"CSLOG_AGENT": ""}  # git's user.name is 测试员 (conftest), not on the list
    out = listed("claim", ticket, env=env)
    assert out.exit_code == 2 and "git's user.name" in out.stderr
    named = listed("--as", "小名", "claim", ticket)
    assert named.exit_code == 2 and "--as" in named.stderr


def test_a_future_received_at_is_warned(cli, customer):
    out = cli(*CONSULTATION, "--customer", customer, "--received-at", "2026-11-23 09:00")
    assert out.exit_code == 0 and "in the future" in out.stderr
    soon = cli(*CONSULTATION, "--customer", customer, "--received-at", "2026-11-22 14:35")
    assert soon.exit_code == 0 and "in the future" not in soon.stderr  # clocks on two desks differ a little


def test_a_title_is_one_line(repo, cli, customer):
    before = git(repo, "rev-parse", "HEAD")
    out = cli("new", "ticket", "--customer", customer, "--type", "咨询", "--priority", "一般", "--channel", "电话",
              "--title", "第一行\n第二行", "--description", "d")
    assert out.exit_code == 2 and "one line" in out.stderr
    assert git(repo, "rev-parse", "HEAD") == before


# -- hand edits and second thoughts (what a review of the above found) ----------------------------------------

def edit(repo, tid: str, change) -> None:
    """Edit a ticket's file by hand, as a person with an editor would."""
    import yaml

    path = next(repo.glob(f"tickets/*/*/{tid}.yaml"))
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def clock_line(cli: Cli, tid: str, label: str, now: str) -> str:
    return next(line for line in cli.ok("show", tid, env=at(now)).splitlines() if line.strip().split(" ")[0] == label)


def test_a_close_written_by_hand_without_a_callback_is_no_skip(repo, cli, customer):
    tid = resolved_complaint(cli, customer, "2026-11-02T10:00:00+08:00")

    def close(doc):
        doc["status"] = "closed"
        doc["timeline"].append({"at": "2026-11-02T12:00:00+08:00", "by": "小明", "kind": "status",
                                "from": "resolved", "to": "closed"})
    edit(repo, tid, close)
    line = clock_line(cli, tid, "回访", "2026-11-20T10:00:00+08:00")
    assert "已超时" in line and "关闭时未完成" in line and "不计" not in line
    assert report(cli, "2026-11", "2026-12-01T09:00:00+08:00")["sla"]["callback"]["breached"] == 1


def test_closing_a_late_ticket_unresolved_keeps_the_breach(cli, customer):
    tid = ticket_at(cli, customer, "2026-11-02T10:00:00+08:00", *CONSULTATION, "--priority", "紧急")
    before = report(cli, "2026-11", "2026-11-09T10:00:00+08:00")["sla"]["resolve"]
    cli.ok("status", tid, "closed", "--reason", "客户撤回", "--category", "其他", env=at("2026-11-09T10:00:00+08:00"))
    after = report(cli, "2026-11", "2026-11-09T11:00:00+08:00")
    assert before["breached"] == after["sla"]["resolve"]["breached"] == 1
    assert after["closed_unresolved"] == 1 and after["handling"]["resolved"] == 0
    assert "已超时" in clock_line(cli, tid, "解决", "2026-11-09T11:00:00+08:00")


def test_a_callback_written_in_one_place_counts_everywhere(repo, cli, customer):
    listed = resolved_complaint(cli, customer, "2026-11-02T10:00:00+08:00")
    edit(repo, listed, lambda doc: doc.setdefault("callbacks", []).append(
        {"at": "2026-11-03T10:00:00+08:00", "by": "小明", "result": "客户满意", "solved": True}))
    timed = resolved_complaint(cli, customer, "2026-11-04T10:00:00+08:00")
    edit(repo, timed, lambda doc: doc["timeline"].append(
        {"at": "2026-11-05T10:00:00+08:00", "by": "小明", "kind": "callback", "result": "客户满意", "solved": True}))
    for tid in (listed, timed):
        assert "已达成" in clock_line(cli, tid, "回访", "2026-11-06T10:00:00+08:00")
        cli.ok("status", tid, "closed", env=at("2026-11-06T10:00:00+08:00"))
    figures = report(cli, "2026-11", "2026-12-01T09:00:00+08:00")
    assert figures["callbacks"]["tickets"] == 2 and figures["sla"]["callback"]["met"] == 2


def test_skip_callback_hints_and_refusals(cli, customer):
    tid = resolved_complaint(cli, customer, "2026-11-02T10:00:00+08:00")
    first = cli("status", tid, "closed", env=at("2026-11-02T12:00:00+08:00"))
    assert first.exit_code == 2 and f"cslog callback {tid} --result" in first.stderr and " ID " not in first.stderr
    bare = cli("status", tid, "closed", "--skip-callback", env=at("2026-11-02T12:00:00+08:00"))
    assert bare.exit_code == 2 and f"cslog status {tid} closed --skip-callback --reason TEXT" in bare.stderr
    cli.ok("callback", tid, "--result", "客户满意", "--solved", env=at("2026-11-03T10:00:00+08:00"))
    twice = cli("status", tid, "closed", "--skip-callback", "--reason", "不需要", env=at("2026-11-03T11:00:00+08:00"))
    assert twice.exit_code == 2 and "was called back" in twice.stderr


def test_no_callback_on_a_ticket_closed_unresolved(cli, customer):
    tid = ticket_at(cli, customer, "2026-11-02T10:00:00+08:00", *COMPLAINT)
    cli.ok("status", tid, "closed", "--reason", "重复提交", "--solution", "见原工单", "--category", "上门服务",
           env=at("2026-11-02T10:30:00+08:00"))
    out = cli("callback", tid, "--result", "未解决", "--not-solved", env=at("2026-11-03T10:00:00+08:00"))
    assert out.exit_code == 2 and "closed without being resolved" in out.stderr


def test_calendar_json_says_a_year_is_guessed_and_check_looks_a_month_ahead(repo, cli, customer):
    shown = json.loads(cli.ok("calendar", "2027", "--format", "json"))
    assert (shown["official"], shown["guessed"]) == (False, True)
    assert json.loads(cli.ok("calendar", "2050", "--format", "json"))["guessed"] is False  # nothing to guess from
    assert json.loads(cli.ok("calendar", "2026", "--format", "json"))["guessed"] is False
    done = run(repo, "check", now="2026-12-31T17:00:00+08:00")
    assert done.returncode == 0 and "warning: 2027:" in done.stderr


def test_a_title_with_any_line_break_is_refused(cli, customer):
    for title in ("第一行\u2028第二行", "一行\n"):
        out = cli("new", "ticket", "--customer", customer, "--type", "咨询", "--priority", "一般", "--channel", "电话",
                  "--title", title, "--description", "d")
        assert out.exit_code == 2 and "one line" in out.stderr, repr(title)
