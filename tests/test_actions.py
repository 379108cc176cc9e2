"""Improvement actions (改进措施, issue 18, design 9.5), through the commands: each transition, `overdue` kind
`action`, the report's effect figures on a hand-made history, the workbook's sheet, hand edits and merges."""
from __future__ import annotations

import json
import subprocess

import openpyxl
import yaml

from conftest import TICKET, cslog_bin, commit_count, git

REVIEW = {"CSLOG_NOW": "2026-10-31T16:00:00+08:00"}
NEW = ["action", "new", "--title", "物流延误预警", "--problem", "产品质量-物流延误", "--measure",
       "超48小时未更新的运单每日推送运营部跟进", "--owner", "老周", "--department", "运营部"]


def action_file(repo, action_id):
    return next(repo.glob(f"actions/*/*/{action_id}.yaml"))


def doc_of(repo, action_id) -> dict:
    return yaml.safe_load(action_file(repo, action_id).read_text(encoding="utf-8"))


def test_new_done_review_and_what_each_refuses(cli, repo, ticket):
    before = commit_count(repo)
    missing = cli("action", "new", "--title", "物流延误预警", env=REVIEW)
    assert missing.exit_code == 2 and "--problem" in missing.stderr and "--due" in missing.stderr
    unknown = cli(*NEW, "--due", "2026-11-30", "--ticket", "CW209901010001", env=REVIEW)
    assert unknown.exit_code != 0 and commit_count(repo) == before
    aid = cli.ok(*NEW, "--due", "2026-11-30", "--ticket", ticket, env=REVIEW)
    assert aid == "GJ202610310001" and commit_count(repo) == before + 1
    assert action_file(repo, aid).relative_to(repo).as_posix() == f"actions/2026/10/{aid}.yaml"
    doc = doc_of(repo, aid)
    assert doc["status"] == "open" and doc["tickets"] == [ticket]
    assert doc["due_at"] == "2026-11-30T23:59:59+08:00"  # a date alone: the end of that day
    assert doc["created_at"] == "2026-10-31T16:00:00+08:00" and doc["timeline"][0]["kind"] == "created"

    early = cli("action", "review", aid, "--effective", env=REVIEW)
    assert early.exit_code == 2 and "only a done action" in early.stderr
    assert cli("action", "done", aid, env=REVIEW).exit_code == 2  # what was done, --result, is needed
    assert cli.ok("action", "done", aid, "--result", "预警上线", env={"CSLOG_NOW": "2026-11-20T10:00:00+08:00"}) == "done"
    doc = doc_of(repo, aid)
    assert doc["status"] == "done" and doc["done_at"] == "2026-11-20T10:00:00+08:00" and doc["result"] == "预警上线"
    again = cli("action", "done", aid, "--result", "再次")
    assert again.exit_code == 2 and "already" in again.stderr
    assert cli("action", "drop", aid, "--reason", "x").exit_code == 2
    assert cli("action", "review", aid).exit_code == 2  # --effective or --not-effective
    assert cli.ok("action", "review", aid, "--not-effective", "--note", "没降") == "not-effective"
    assert cli.ok("--as", "小红", "action", "review", aid, "--effective", "--note", "12月降了") == "effective"
    doc = doc_of(repo, aid)
    assert doc["review"]["effective"] is True and doc["review"]["by"] == "小红"
    assert [e["kind"] for e in doc["timeline"]] == ["created", "done", "evaluated", "evaluated"]
    history = cli.ok("history", aid)
    assert "[完成]" in history and "[效果评估]" in history and "status: open → done" in history
    assert "针对问题:" in cli.ok("show", aid) and "已完成" in cli.ok("show", aid)
    assert json.loads(cli.ok("show", aid, "--format", "json"))["review"]["note"] == "12月降了"
    assert commit_count(repo) == before + 4 and git(repo, "status", "--porcelain") == ""
    assert cli("check").exit_code == 0


def test_drop_list_and_set(cli, repo):
    first = cli.ok(*NEW, "--due", "2026-11-30", env=REVIEW)
    second = cli.ok("action", "new", "--title", "账单核对", "--problem", "账单", "--measure", "每月核对套餐叠加",
                    "--owner", "小丽", "--department", "财务部", "--due", "2026-11-15 18:00", env=REVIEW)
    assert second == "GJ202610310002"
    assert cli("action", "drop", second).exit_code == 2  # --reason
    assert cli.ok("action", "drop", second, "--reason", "套餐已下线", env=REVIEW) == "dropped"
    assert cli("action", "review", second, "--effective").exit_code == 2
    rows = json.loads(cli.ok("list", "actions", "--format", "json"))
    assert [(r["id"], r["status"]) for r in rows] == [(first, "open"), (second, "dropped")]
    assert [r["id"] for r in json.loads(cli.ok("list", "actions", "--open", "--format", "json"))] == [first]
    assert [r["id"] for r in json.loads(cli.ok("list", "actions", "--status", "已取消", "--format", "json"))] == [second]
    assert [r["id"] for r in json.loads(cli.ok("list", "改进措施", "--category", "产品质量", "--format", "json"))] == [first]
    table = cli.ok("list", "actions")
    assert "进行中" in table and "已取消" in table and "针对问题" in table
    cli.ok("set", first, "due_at=2026-12-15", "owner=小明", "--reason", "供应商延期", env=REVIEW)
    doc = doc_of(repo, first)
    assert doc["due_at"] == "2026-12-15T23:59:59+08:00" and doc["owner"] == "小明"
    minutes = repo.parent / "复盘会纪要.txt"
    minutes.write_text("10月复盘会", encoding="utf-8")
    cli.ok("attach", first, str(minutes), "--note", "会议纪要", env=REVIEW)  # what the meeting decided, beside it
    assert (repo / "attachments" / first / "复盘会纪要.txt").is_file() and doc_of(repo, first)["attachments"]
    assert cli("set", first, "status=done").exit_code == 2
    assert cli("new", "action").exit_code == 2  # its own command says how
    sheet = repo.parent / "actions.csv"
    sheet.write_text("标题,问题分类\n物流,产品质量\n", encoding="utf-8")
    imported = cli("import", str(sheet), "--kind", "actions")
    assert imported.exit_code == 2 and "cslog action new" in imported.stderr
    assert cli("check").exit_code == 0


def test_overdue_lists_actions_past_their_due(cli, repo, ticket):
    aid = cli.ok(*NEW, "--due", "2026-11-10 18:00", env=REVIEW)
    cli.ok("action", "new", "--title", "以后", "--problem", "账单", "--measure", "m", "--owner", "小丽",
           "--department", "财务部", "--due", "2026-12-31", env=REVIEW)
    at = {"CSLOG_NOW": "2026-11-11T18:00:00+08:00"}
    def overdue(*args, env=at):  # (exit 1 when something is listed)
        result = cli("overdue", *args, "--format", "json", env=env)
        assert result.exit_code == (1 if json.loads(result.stdout) else 0), result.stderr
        return json.loads(result.stdout)

    rows = overdue("--kind", "action")
    assert rows == [{"id": aid, "kind": "action", "due": "2026-11-10T18:00:00+08:00", "overdue_minutes": 1440,
                     "priority": None, "status": "open", "owner": "老周", "title": "物流延误预警"}]
    assert overdue("--kind", "action", "--no-cache") == rows
    assert "改进措施" in cli("overdue", env=at).stdout  # beside the tickets' clocks, in the same table
    assert overdue("--kind", "action", "--owner", "小丽") == []
    assert overdue("--kind", "action", "--department", "运营部") == rows
    soon = overdue("--kind", "改进措施", "--within", "2d", env={"CSLOG_NOW": "2026-11-09T18:00:00+08:00"})
    assert [(r["id"], r["overdue_minutes"]) for r in soon] == [(aid, -1440)]
    cli.ok("action", "done", aid, "--result", "上线", env=at)
    assert overdue("--kind", "action") == []
    # the installed command, as cron runs it
    done = subprocess.run([*cslog_bin(), "-C", str(repo), "overdue", "--kind", "action", "--format", "json"],
                          capture_output=True, text=True, env={**__import__("os").environ,
                                                               "CSLOG_NOW": "2027-01-02T09:00:00+08:00"})
    assert done.returncode == 1 and [r["title"] for r in json.loads(done.stdout)] == ["以后"]


def _tickets(cli, customer, month: str, category: str, count: int) -> None:
    for day in range(1, count + 1):
        cli.ok(*TICKET, "--customer", customer, "--category", category,
               "--received-at", f"{month}-{day + 1:02d} 10:00", env={"CSLOG_NOW": f"{month}-{day + 1:02d}T10:05:00+08:00"})


def test_the_report_shows_the_actions_and_their_effect(cli, repo, customer, tmp_path):
    """A hand-made history: 物流延误 4 → 2 → 1 after its action (done in October); 账单 2 → 3 after its."""
    _tickets(cli, customer, "2026-10", "产品质量-物流延误", 3)
    _tickets(cli, customer, "2026-10", "产品质量-物流延误-仓库", 1)  # a sub-category counts for its problem
    _tickets(cli, customer, "2026-10", "账单-多扣费", 2)
    _tickets(cli, customer, "2026-11", "产品质量-物流延误", 2)
    _tickets(cli, customer, "2026-11", "账单-多扣费", 3)
    _tickets(cli, customer, "2026-12", "产品质量-物流延误", 1)
    logistics = cli.ok(*NEW, "--due", "2026-10-25", env={"CSLOG_NOW": "2026-10-10T10:00:00+08:00"})
    cli.ok("action", "done", logistics, "--result", "预警上线", env={"CSLOG_NOW": "2026-10-20T10:00:00+08:00"})
    billing = cli.ok("action", "new", "--title", "账单核对", "--problem", "账单", "--measure", "核对套餐叠加",
                     "--owner", "小丽", "--department", "财务部", "--due", "2026-10-28",
                     env={"CSLOG_NOW": "2026-10-12T10:00:00+08:00"})
    cli.ok("action", "done", billing, "--result", "已核对", env={"CSLOG_NOW": "2026-10-30T10:00:00+08:00"})  # late
    late = cli.ok("action", "new", "--title", "发票提醒", "--problem", "建议反馈-发票", "--measure", "开票提醒",
                  "--owner", "小丽", "--department", "财务部", "--due", "2026-12-10",
                  env={"CSLOG_NOW": "2026-12-01T10:00:00+08:00"})
    now = {"CSLOG_NOW": "2026-12-20T10:00:00+08:00"}
    cli.ok("action", "review", logistics, "--effective", env=now)

    december = json.loads(cli.ok("report", "--month", "2026-12", "--format", "json", env=now))["actions"]
    assert (december["total"], december["open"], december["done"], december["late"]) == (1, 1, 0, 1)
    assert december["by_department"] == {"财务部": {"open": 1, "done": 0, "dropped": 0, "late": 1}}
    assert [i["id"] for i in december["items"]] == [late]
    effects = {e["id"]: e for e in december["effects"]}
    assert effects[logistics]["before"] == 4 and effects[logistics]["done_in"] == "2026-10"
    assert effects[logistics]["after"] == [{"label": "2026-11", "count": 2, "partial": False},
                                           {"label": "2026-12", "count": 1, "partial": True}]  # (December runs on)
    assert effects[logistics]["fell"] is True and effects[logistics]["effective"] is True
    assert effects[billing]["before"] == 2 and [a["count"] for a in effects[billing]["after"]] == [3, 0]
    assert effects[billing]["fell"] is False and effects[billing]["effective"] is None

    october = json.loads(cli.ok("report", "--month", "2026-10", "--format", "json", env=now))["actions"]
    assert (october["total"], october["done"], october["late"]) == (2, 2, 1)
    # the October report read in December: did the problems fall in November (and December so far)?
    assert [(e["id"], e["before"], [a["count"] for a in e["after"]], e["fell"]) for e in october["effects"]] == [
        (logistics, 4, [2, 1], True), (billing, 2, [3, 0], False)]
    assert {i["id"]: i["late"] for i in october["items"]} == {logistics: False, billing: True}
    november = json.loads(cli.ok("report", "--month", "2026-11", "--format", "json", env=now))["actions"]
    assert november["total"] == 0 and [e["fell"] for e in november["effects"]] == [True, False]

    table = cli.ok("report", "--month", "2026-12", "--format", "table", env=now)
    assert "[改进措施]" in table and "[改进措施效果]" in table and "2026-11: 2, 2026-12: 1 (至今)" in table
    assert "[改进措施明细]" in table and "发票提醒" in table

    book = tmp_path / "book.xlsx"
    cli.ok("export", "--month", "2026-12", "-o", str(book), env=now)
    sheet = openpyxl.load_workbook(book)["改进措施"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:5] == ["编号", "范围", "措施名称", "针对问题", "改进措施"]
    assert [r[0] for r in rows[1:]] == [late, logistics, billing]
    assert [r[1] for r in rows[1:]] == ["本期", "效果跟踪", "效果跟踪"]  # the month's action, then the effects
    assert rows[1][7:9] == ["进行中", "是"] and rows[2][12:14] == ["是", "是"] and rows[3][12] == "否"


def test_a_hand_edit_goes_through_the_gate(cli, repo):
    aid = cli.ok(*NEW, "--due", "2026-11-30", env=REVIEW)
    path = action_file(repo, aid)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("status: open", "status: 已完成"), encoding="utf-8")  # a label, without done_at
    checked = cli("check")
    assert checked.exit_code == 1 and f"actions/2026/10/{aid}.yaml:" in checked.stderr + checked.stdout
    assert "done_at" in checked.stderr + checked.stdout
    path.write_text(text.replace("status: open", "status: 已完成\ndone_at: 2026-11-02 10:00"), encoding="utf-8")
    rows = json.loads(cli.ok("list", "actions", "--status", "done", "--format", "json"))
    assert [r["id"] for r in rows] == [aid]  # the label is read as its code
    labelled = cli("check")
    assert labelled.exit_code == 1 and "not canonical" in labelled.stderr + labelled.stdout
    cli.ok("check", "--fix")
    assert "status: done" in path.read_text(encoding="utf-8") and cli("check").exit_code == 0
    path.write_text(text.replace("due_at: '2026-11-30T23:59:59+08:00'", "due_at: 2026-11-31"), encoding="utf-8")
    broken = cli("overdue", env={"CSLOG_NOW": "2026-12-05T10:00:00+08:00"})
    assert broken.exit_code == 1 and f"actions/2026/10/{aid}.yaml:" in broken.stderr


def test_what_probing_found(cli, repo, customer):
    """An action done at 00:00 of the 1st is the new month's; times never run backwards; hints name the
    commands that work."""
    aid = cli.ok(*NEW, "--due", "2026-09-30", env={"CSLOG_NOW": "2026-08-25T10:00:00+08:00"})
    cli.ok("action", "done", aid, "--result", "r", env={"CSLOG_NOW": "2026-09-01T00:00:00+08:00"})
    now = {"CSLOG_NOW": "2026-10-05T10:00:00+08:00"}
    august = json.loads(cli.ok("report", "--month", "2026-08", "--format", "json", env=now))["actions"]
    september = json.loads(cli.ok("report", "--month", "2026-09", "--format", "json", env=now))["actions"]
    assert (august["open"], august["done"], september["done"]) == (1, 0, 1)
    october = json.loads(cli.ok("report", "--month", "2026-10", "--format", "json", env=now))["actions"]
    assert october["effects"][0]["done_in"] == "2026-09" and october["effects"][0]["fell"] is None  # October runs on
    assert september["effects"][0]["after"] == [{"label": "2026-10", "count": 0, "partial": True}]

    later = cli.ok(*NEW, "--due", "2026-12-31", env={"CSLOG_NOW": "2026-11-20T10:00:00+08:00"})
    early = cli("action", "done", later, "--result", "r", env={"CSLOG_NOW": "2026-11-01T10:00:00+08:00"})
    assert early.exit_code == 2 and "before created_at" in early.stderr
    past = cli(*NEW, "--due", "2026-11-13", env={"CSLOG_NOW": "2026-11-21T10:00:00+08:00"})  # written down late
    assert past.exit_code == 0 and "before now" in past.stderr
    assert json.loads(cli("overdue", "--kind", "action", "--format", "json",
                          env={"CSLOG_NOW": "2026-11-21T10:00:00+08:00"}).stdout)[0]["id"] == past.stdout.strip()
    both = cli("action", "review", aid, "--effective", "--not-effective")
    assert both.exit_code == 2 and "one of them" in both.stderr
    status = cli("set", later, "status=done")
    assert status.exit_code == 2 and "cslog action done" in status.stderr
    assert cli("list", "actions", "--priority", "紧急").exit_code == 2  # a ticket's filter, said so
    wrong = cli("show", aid)
    assert wrong.exit_code == 0 and cli("case", aid, "--lesson", "x").exit_code == 2

    path = action_file(repo, later)
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "review:\n  effective: true\n", encoding="utf-8")  # a review of an open action
    checked = cli("check")
    out = checked.stdout + checked.stderr
    assert checked.exit_code == 1 and f"actions/2026/11/{later}.yaml:" in out and "only a done action" in out
