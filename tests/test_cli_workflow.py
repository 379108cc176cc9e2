"""The workflow commands through the command line: status, assign, claim, reply, note, escalate, review, rate,
callback, link, history; refusals that change nothing; batch complaints."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from conftest import Cli, commit_count, git, head

from cslog import history
from cslog.ops import tickets as actions
from cslog.store import Store

PROJECT = Path(__file__).resolve().parent.parent


def path_of(repo: Path, tid: str) -> Path:
    return repo / "tickets" / tid[2:6] / tid[6:8] / f"{tid}.yaml"


def load(repo: Path, tid: str) -> dict:
    return yaml.safe_load(path_of(repo, tid).read_text(encoding="utf-8"))


def subject(repo: Path) -> str:
    return git(repo, "log", "-1", "--format=%s").strip()


def schema_check(repo: Path) -> None:
    """Every ticket cslog wrote passes the third-party validator."""
    tool = Path(sys.executable).parent / "check-jsonschema"
    if not tool.exists():
        pytest.skip("check-jsonschema is not installed")
    files = sorted(str(p) for p in (repo / "tickets").glob("*/*/*.yaml"))
    proc = subprocess.run([str(tool), "--schemafile", str(PROJECT / "schemas/ticket.schema.json"), *files],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


class Walk:
    """Runs one step per call at its own time and checks it made exactly one commit."""

    def __init__(self, cli: Cli, repo: Path, tid: str):
        self.cli, self.repo, self.tid = cli, repo, tid

    def __call__(self, when: str, *args: str, actor: str = "小明") -> str:
        before = commit_count(self.repo)
        result = self.cli(*args, env={"CSLOG_NOW": when, "CSLOG_AGENT": actor})
        assert result.exit_code == 0, f"{args} -> {result.exit_code}\n{result.stderr}"
        assert commit_count(self.repo) == before + 1, args
        assert git(self.repo, "status", "--porcelain") == ""
        message = git(self.repo, "log", "-1", "--format=%B")
        assert f"Cslog-Record: {self.tid}\n" in message and f"Cslog-Op: {args[0]}\n" in message
        return result.stdout.strip()


# --- acceptance 1: two seeds' tickets from new to closed --------------------------------------------

def test_seed_002_login_fault_from_new_to_closed(cli, repo, customer):
    tid = cli.ok("new", "ticket", "--customer", customer, "--type", "故障", "--priority", "高", "--channel", "电话",
                 "--title", "无法登录系统", "--description", "无法登录系统,提示'账号异常',已尝试重置密码无效",
                 "--attempted", "已尝试重置密码", env={"CSLOG_NOW": "2026-05-06T09:00:00+08:00"})
    step = Walk(cli, repo, tid)
    assert step("2026-05-06T09:10:00+08:00", "claim", tid) == ""
    assert subject(repo) == f"cslog: {tid} claim 小明"
    step("2026-05-06T09:12:00+08:00", "assign", tid, "小明", "--collaborator", "技术小强", "--cc", "主管小华",
         actor="小华")
    assert subject(repo) == f"cslog: {tid} assign 小明"
    assert step("2026-05-06T09:15:00+08:00", "status", tid, "处理中") == "in_progress"
    assert subject(repo) == f"cslog: {tid} status new -> in_progress"
    step("2026-05-06T10:00:00+08:00", "note", tid, "技术小强反馈为缓存问题", "--percent", "50")
    assert step("2026-05-06T10:05:00+08:00", "status", tid, "waiting", "--note", "请客户清理浏览器缓存") == "waiting"
    step("2026-05-06T10:20:00+08:00", "reply", tid, "已指导客户清理缓存,请重新登录")
    assert step("2026-05-06T12:25:00+08:00", "status", tid, "in_progress") == "in_progress"
    assert step("2026-05-06T12:30:00+08:00", "status", tid, "resolved", "--solution",
                "协助客户清理浏览器缓存,指导重新登录,系统恢复正常,客户确认可用。") == "resolved"
    step("2026-05-06T12:40:00+08:00", "rate", tid, "5", "--comment", "订单已正常提交")
    step("2026-05-08T10:00:00+08:00", "callback", tid, "--result", "客户确认登录正常", "--solved", "--score", "5")
    assert step("2026-05-08T10:05:00+08:00", "status", tid, "closed", "--category", "技术故障-登录") == "closed"
    assert subject(repo) == f"cslog: {tid} status resolved -> closed"

    doc = load(repo, tid)
    assert {k: doc[k] for k in ("status", "owner", "collaborators", "cc", "category", "solution")} == {
        "status": "closed", "owner": "小明", "collaborators": ["技术小强"], "cc": ["主管小华"],
        "category": "技术故障-登录", "solution": "协助客户清理浏览器缓存,指导重新登录,系统恢复正常,客户确认可用。"}
    assert doc["satisfaction"] == {"score": 5, "comment": "订单已正常提交", "at": "2026-05-06T12:40:00+08:00"}
    assert doc["callbacks"] == [{"at": "2026-05-08T10:00:00+08:00", "by": "小明", "result": "客户确认登录正常",
                                 "solved": True, "score": 5}]
    timeline = doc["timeline"]
    assert [e["kind"] for e in timeline] == ["created", "claimed", "assigned", "status", "note", "status", "reply",
                                             "status", "status", "rated", "callback", "status"]
    assert timeline[1] == {"at": "2026-05-06T09:10:00+08:00", "by": "小明", "kind": "claimed", "owner": "小明"}
    assert timeline[2] == {"at": "2026-05-06T09:12:00+08:00", "by": "小华", "kind": "assigned", "owner": "小明",
                           "collaborators": ["技术小强"], "cc": ["主管小华"]}
    assert timeline[4] == {"at": "2026-05-06T10:00:00+08:00", "by": "小明", "kind": "note",
                           "text": "技术小强反馈为缓存问题", "percent": 50}
    assert [(e.get("from"), e.get("to")) for e in timeline if e["kind"] == "status"] == [
        ("new", "in_progress"), ("in_progress", "waiting"), ("waiting", "in_progress"), ("in_progress", "resolved"),
        ("resolved", "closed")]
    assert timeline[5]["note"] == "请客户清理浏览器缓存"
    assert timeline[8]["solution"] == doc["solution"]
    assert timeline[-1] == {"at": "2026-05-08T10:05:00+08:00", "by": "小明", "kind": "status", "from": "resolved",
                            "to": "closed", "category": "技术故障-登录"}
    assert commit_count(repo) == 3 + 11  # init, customer, ticket, then one per step
    schema_check(repo)

    # history: one entry per commit of the file, oldest first, with field changes and appended events
    entries = history.history(Store.open(repo), tid)
    assert len(entries) == 12
    assert entries[0].subject.endswith("new fault ticket: 无法登录系统")
    assert [e["kind"] for e in entries[0].events] == ["created"]
    moved = entries[3]
    assert moved.subject == f"cslog: {tid} status new -> in_progress" and moved.author == "小明"
    assert moved.date == "2026-05-06T09:15:00+08:00"
    assert [(c.field, c.old, c.new) for c in moved.changes] == [("status", "new", "in_progress")]
    assert moved.events == [timeline[3]]
    rated = entries[9]
    assert [(c.field, c.old, c.new) for c in rated.changes] == [
        ("satisfaction", None, {"score": 5, "comment": "订单已正常提交", "at": "2026-05-06T12:40:00+08:00"})]
    closed = entries[-1]
    assert [(c.field, c.old, c.new) for c in closed.changes] == [
        ("status", "resolved", "closed"), ("category", None, "技术故障-登录")]
    as_json = json.loads(cli.ok("history", tid, "--format", "json"))
    assert as_json == [e.to_dict() for e in entries]
    text = cli.ok("history", tid)
    assert "status: 待受理 → 处理中" in text and "+ 2026-05-06 09:15  小明  [状态] 待受理 → 处理中" in text


def test_seed_000_wristband_exchange_from_new_to_closed(cli, repo):
    customer = cli.ok("new", "customer", "--name", "客户王先生", "--type", "个人客户")
    tid = cli.ok("new", "ticket", "--customer", customer, "--type", "投诉", "--priority", "重要", "--channel", "电话",
                 "--title", "智能手环无法充电",
                 "--description", "购买的智能手环,使用3天后出现无法充电问题,要求换货并补偿运费。",
                 "--expectation", "换货并补偿运费", "--emotion", "焦虑", "--category", "产品质量-充电故障",
                 env={"CSLOG_NOW": "2024-06-03T14:30:00+08:00"})
    step = Walk(cli, repo, tid)
    step("2024-06-03T14:50:00+08:00", "claim", tid, actor="售后专员小李")
    step("2024-06-03T14:55:00+08:00", "status", tid, "in_progress", actor="售后专员小李")
    step("2024-06-03T15:00:00+08:00", "status", tid, "waiting", "--note", "等待客户寄回故障手环",
         actor="售后专员小李")
    step("2024-06-04T10:00:00+08:00", "status", tid, "in_progress", "--note", "已收到退回商品",
         actor="售后专员小李")
    step("2024-06-05T16:00:00+08:00", "status", tid, "resolved", "--solution", "换货+运费补偿20元",
         "--compensation", "运费补偿20元", "--cause", "充电模块质量缺陷", actor="售后专员小李")
    step("2024-06-06T10:00:00+08:00", "rate", tid, "4", "--comment", "换货速度比预期快,感谢处理。",
         "--efficiency", "5", "--attitude", "4", "--solution", "4", actor="售后专员小李")
    step("2024-06-07T10:00:00+08:00", "callback", tid, "--result", "新手环充电正常", "--solved",
         actor="售后专员小李")
    step("2024-06-07T10:05:00+08:00", "status", tid, "closed", actor="售后专员小李")

    doc = load(repo, tid)
    assert doc["status"] == "closed" and doc["owner"] == "售后专员小李"
    assert (doc["solution"], doc["compensation"], doc["cause"]) == ("换货+运费补偿20元", "运费补偿20元",
                                                                     "充电模块质量缺陷")
    assert doc["satisfaction"] == {"score": 4, "comment": "换货速度比预期快,感谢处理。", "efficiency": 5,
                                   "attitude": 4, "solution": 4, "at": "2024-06-06T10:00:00+08:00"}
    rated = next(e for e in doc["timeline"] if e["kind"] == "rated")
    assert rated == {"at": "2024-06-06T10:00:00+08:00", "by": "售后专员小李", "kind": "rated", "score": 4,
                     "comment": "换货速度比预期快,感谢处理。", "efficiency": 5, "attitude": 4, "solution_score": 4}
    resolved = next(e for e in doc["timeline"] if e.get("to") == "resolved")
    assert resolved["solution"] == "换货+运费补偿20元" and resolved["compensation"] == "运费补偿20元"
    assert [e["kind"] for e in doc["timeline"]] == ["created", "claimed", "status", "status", "status", "status",
                                                    "rated", "callback", "status"]
    assert len(history.history(Store.open(repo), tid)) == 9
    schema_check(repo)
    shown = cli.ok("show", tid)
    assert "[状态] 处理中 → 已解决; 解决方案: 换货+运费补偿20元" in shown
    assert "[满意度] 评价: 换货速度比预期快,感谢处理。; 评分: 4; 处理效率: 5; 服务态度: 4; 方案评分: 4" in shown


# --- acceptance 2: refusals change nothing ----------------------------------------------------------

LATER = datetime.fromisoformat("2026-11-22T15:00:00+08:00")


def at_status(store: Store, tid: str, status: str) -> None:
    """Walk a fresh fault ticket to `status` through the library."""
    kw = dict(actor="小明", now=LATER)
    path = {"new": [], "in_progress": ["in_progress"], "waiting": ["waiting"], "escalated": ["escalated"],
            "resolved": ["resolved"], "closed": ["resolved", "closed"]}[status]
    for to in path:
        actions.change_status(store, tid, to, solution="重启", category="技术故障", reason="r", **kw)


STATUSES = ("new", "in_progress", "waiting", "escalated", "resolved", "closed")
ALLOWED = {"new": {"in_progress", "waiting", "escalated", "resolved", "closed"},
           "in_progress": {"waiting", "escalated", "resolved"}, "waiting": {"in_progress", "escalated", "resolved"},
           "escalated": {"in_progress", "waiting", "resolved"}, "resolved": {"closed", "in_progress"},
           "closed": {"in_progress"}}


def assert_refused(cli: Cli, repo: Path, tid: str, *args: str, message: str | None = None) -> str:
    before_bytes = path_of(repo, tid).read_bytes() if tid else None
    before_head, before_status = head(repo), git(repo, "status", "--porcelain")
    result = cli(*args)
    assert result.exit_code == 2, f"{args} -> {result.exit_code}\n{result.stdout}{result.stderr}"
    assert "Traceback" not in result.stderr and result.stdout == ""
    if tid:
        assert path_of(repo, tid).read_bytes() == before_bytes, args
    assert head(repo) == before_head and git(repo, "status", "--porcelain") == before_status, args
    if message is not None:
        assert result.stderr.splitlines()[0] == f"error: {message}"
    return result.stderr


def test_every_refused_transition_changes_nothing(cli, repo, customer):
    store = Store.open(repo)
    tickets = {}
    for status in STATUSES:
        tid = cli.ok("new", "ticket", "--customer", customer, "--type", "故障", "--priority", "一般", "--channel",
                     "phone", "--title", f"at {status}", "--description", "无法登录")
        at_status(store, tid, status)
        assert load(repo, tid)["status"] == status
        tickets[status] = tid
    for current, tid in tickets.items():
        for to in STATUSES:
            if to not in ALLOWED[current]:
                assert_refused(cli, repo, tid, "status", tid, to, "--reason", "r", "--solution", "s")
    assert_refused(cli, repo, tickets["resolved"], "status", tickets["resolved"], "等待客户", message=(
        f"cannot move {tickets['resolved']} from resolved (已解决) to waiting (等待客户); "
        "allowed next: closed (已关闭), in_progress (处理中)"))
    # escalate is a move to escalated: refused where the table says so
    for current in ("escalated", "resolved", "closed"):
        assert_refused(cli, repo, tickets[current], "escalate", tickets[current], "--reason", "客户要求主管处理")


def test_missing_requirements_change_nothing(cli, repo, customer, ticket):
    def new(*extra: str) -> str:
        return cli.ok("new", "ticket", "--customer", customer, "--priority", "一般", "--channel", "phone",
                      "--title", "t", "--description", "d", *extra)

    cli.ok("status", ticket, "in_progress")
    assert_refused(cli, repo, ticket, "status", ticket, "resolved", message=(
        f"resolving the fault (故障) {ticket} needs a solution (--solution, 解决方案)"))
    complaint = new("--type", "投诉")
    assert_refused(cli, repo, complaint, "status", complaint, "resolved", "--note", "已处理")
    assert_refused(cli, repo, complaint, "status", complaint, "closed", "--solution", "s", "--category", "c",
                   message=f"closing {complaint} needs a reason to close it straight from new (待受理) (--reason, "
                           "e.g. 重复工单)")
    cli.ok("status", ticket, "resolved", "--solution", "清理缓存")
    assert_refused(cli, repo, ticket, "status", ticket, "closed",
                   message=f"closing {ticket} needs category (问题分类) (close_requires in cslog.yaml)")
    cli.ok("status", ticket, "closed", "--category", "技术故障-登录")
    assert_refused(cli, repo, ticket, "status", ticket, "in_progress",
                   message=f"reopening the closed ticket {ticket} needs a reason (--reason)")
    cli.ok("status", ticket, "in_progress", "--reason", "客户再次来电:仍无法登录")
    # a consultation closes with a category alone, a fault needs its solution too (kept from before here)
    consultation = new("--type", "咨询")
    cli.ok("status", consultation, "resolved")
    assert_refused(cli, repo, consultation, "status", consultation, "closed")
    # escalating needs a reason, through either command
    assert_refused(cli, repo, consultation, "status", consultation, "in_progress", "--adopted", "--reason", "r",
                   message=f"--adopted/--rejected is for suggestions (建议); {consultation} is a consultation (咨询)")
    other = new("--type", "咨询")
    assert_refused(cli, repo, other, "status", other, "escalated",
                   message=f"escalating {other} needs a reason (--reason)")
    assert "Missing option '--reason'" in cli("escalate", other).stderr
    # values out of range and unknown things
    assert_refused(cli, repo, other, "status", other, "finished")
    assert_refused(cli, repo, None, "status", "CW209901010001", "in_progress")
    assert_refused(cli, repo, None, "status", "../../etc/passwd", "in_progress")
    assert_refused(cli, repo, None, "claim", customer, message=f"{customer} is a customer, not a ticket")
    assert_refused(cli, repo, other, "rate", other, "5", message=(
        f"rating follows the resolution, and {other} is new (待受理)"))
    assert_refused(cli, repo, other, "callback", other, "--result", "r")
    assert_refused(cli, repo, other, "review", other, "--approve",
                   message=f"only a resolved ticket can be reviewed; {other} is new (待受理)")
    cli.ok("status", other, "resolved")
    assert_refused(cli, repo, other, "rate", other, "6",
                   message="the score must be a whole number from 1 to 5, not 6")
    assert_refused(cli, repo, other, "rate", other, "3", "--attitude", "0")
    assert_refused(cli, repo, other, "callback", other, "--result", "r", "--score", "9")
    assert_refused(cli, repo, other, "review", other, "--return",
                   message="returning a ticket needs a comment saying what is missing (--comment)")
    assert_refused(cli, repo, other, "review", other, "--approve", "--return")
    assert_refused(cli, repo, other, "review", other)
    assert_refused(cli, repo, other, "note", other, "进度", "--percent", "101")
    assert_refused(cli, repo, other, "reply", other, "")


def test_personal_data_is_refused_unless_allowed(cli, repo, ticket):
    number = "4111111111111111"  # passes Luhn
    stderr = assert_refused(cli, repo, ticket, "reply", ticket, f"退款已打到卡号{number}")
    assert stderr.startswith("error: text: looks like an bank-card number (4111********1111)")
    assert_refused(cli, repo, ticket, "note", ticket, f"卡号{number}")
    assert_refused(cli, repo, ticket, "status", ticket, "in_progress", "--note", f"卡号{number}")
    assert_refused(cli, repo, ticket, "escalate", ticket, "--reason", f"卡号{number}")
    cli.ok("reply", ticket, f"退款已打到卡号{number}", "--allow-pii")
    event = load(repo, ticket)["timeline"][-1]
    assert event["kind"] == "reply" and event["allow_pii"] is True


def test_people_go_through_the_agents_list(cli, repo, ticket):
    config = repo / "cslog.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "agents: []", "agents: [{id: a01, name: 小明, department: 客服部}, {id: a02, name: 技术小强, department: 技术部}]"),
        encoding="utf-8")
    git(repo, "commit", "-qam", "agents")
    stderr = assert_refused(cli, repo, ticket, "assign", ticket, "小朋")
    assert "error: unknown agent '小朋' (cslog.yaml lists the agents)" in stderr and "did you mean '小明'?" in stderr
    result = cli("claim", ticket, env={"CSLOG_AGENT": "陌生人"})
    assert result.exit_code == 2 and "unknown agent '陌生人'" in result.stderr
    cli.ok("assign", ticket, "a02")
    doc = load(repo, ticket)
    assert doc["owner"] == "技术小强" and doc["department"] == "技术部"
    assert doc["timeline"][-1]["department"] == "技术部"
    assert_refused(cli, repo, ticket, "assign", ticket, "技术小强",
                   message=f"{ticket} is already assigned to 技术小强; nothing to change")
    assert_refused(cli, repo, ticket, "claim", ticket, message=f"{ticket} is owned by 技术小强, not by 小明")
    assert_refused(cli, repo, ticket, "escalate", ticket, "--reason", "r", "--to", "王经里")


# --- the other commands -------------------------------------------------------------------------

def test_claim_confirms_an_assignment_once(cli, repo, customer):
    tid = cli.ok("new", "ticket", "--customer", customer, "--type", "咨询", "--priority", "一般", "--channel", "chat",
                 "--title", "t", "--description", "d", "--owner", "小明")
    result = cli("claim", tid)
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == f"{tid}: owner 小明\n"
    assert_refused(cli, repo, tid, "claim", tid, message=f"{tid} is already claimed by 小明")


def test_escalate_and_back(cli, repo, ticket):
    assert cli.ok("escalate", ticket, "--reason", "客户坚持要求主管处理", "--to", "客服经理") == "escalated"
    assert subject(repo) == f"cslog: {ticket} escalate new -> escalated to 客服经理"
    event = load(repo, ticket)["timeline"][-1]
    assert event == {"at": "2026-11-22T14:30:00+08:00", "by": "小明", "kind": "escalated", "from": "new",
                     "to": "escalated", "to_agent": "客服经理", "reason": "客户坚持要求主管处理"}
    assert cli.ok("status", ticket, "in_progress") == "in_progress"
    cli.ok("status", ticket, "escalated", "--reason", "需技术部介入")
    assert load(repo, ticket)["timeline"][-1]["kind"] == "escalated"


def test_note_decision_and_suggestion_decisions(cli, repo, customer):
    tid = cli.ok("new", "ticket", "--customer", customer, "--type", "建议", "--priority", "一般", "--channel", "web",
                 "--title", "优化物流信息查询", "--description", "希望能在订单页看到物流进度")
    cli.ok("note", tid, "复盘会决定:纳入Q1产品优化计划", "--decision")
    assert subject(repo) == f"cslog: {tid} decision"
    assert load(repo, tid)["timeline"][-1]["kind"] == "decision"
    assert_refused(cli, repo, tid, "status", tid, "resolved", "--adopted", message=(
        f"deciding on the suggestion {tid} needs the reason (--reason, 采纳/不采纳的理由)"))
    cli.ok("status", tid, "resolved", "--adopted", "--reason", "已纳入Q1产品优化计划")
    doc = load(repo, tid)
    assert doc["decision"] == {"result": "adopted", "reason": "已纳入Q1产品优化计划"}
    assert doc["timeline"][-1]["decision"] == "adopted"
    assert "采纳情况: 采纳" in cli.ok("show", tid)
    cli.ok("status", tid, "in_progress")
    cli.ok("status", tid, "resolved", "--rejected", "--reason", "成本过高")
    assert load(repo, tid)["decision"] == {"result": "rejected", "reason": "成本过高"}
    schema_check(repo)


def test_review_returns_and_approves(cli, repo, ticket):
    config = repo / "cslog.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("review_required: false", "review_required: true"),
                      encoding="utf-8")
    git(repo, "commit", "-qam", "review required")
    cli.ok("status", ticket, "resolved", "--solution", "清理缓存", "--category", "技术故障-登录")
    assert_refused(cli, repo, ticket, "status", ticket, "closed")
    before = commit_count(repo)
    assert cli.ok("review", ticket, "--return", "--comment", "未向客户解释原因", "--allow-pii") == "in_progress"
    assert commit_count(repo) == before + 1
    assert subject(repo) == f"cslog: {ticket} review returned: resolved -> in_progress"
    tail = load(repo, ticket)["timeline"][-2:]
    assert [e["kind"] for e in tail] == ["reviewed", "status"]
    assert tail[0]["result"] == "returned" and tail[0]["comment"] == "未向客户解释原因" and "allow_pii" not in tail[0]
    assert (tail[1]["from"], tail[1]["to"], tail[1]["reason"]) == ("resolved", "in_progress", "未向客户解释原因")
    cli.ok("status", ticket, "resolved")
    assert cli.ok("review", ticket, "--approve") == "resolved"
    assert cli.ok("status", ticket, "closed") == "closed"


def test_low_scores_and_unsolved_callbacks_are_announced(cli, repo, ticket):
    cli.ok("status", ticket, "resolved", "--solution", "s")
    result = cli("rate", ticket, "2")
    assert result.exit_code == 0 and "score 2 (<= 2): `cslog overdue` lists it as followup" in result.stderr
    result = cli("callback", ticket, "--result", "仍无法登录", "--not-solved")
    # not solved: back to work (seeds 003 and 004: 若客户仍不满意,需重新启动处理流程)
    assert result.exit_code == 0 and f"{ticket}: 已解决 → 处理中" in result.stderr
    doc = load(repo, ticket)
    assert doc["callbacks"][0]["solved"] is False and doc["status"] == "in_progress"
    assert doc["timeline"][-1] == {"at": "2026-11-22T14:30:00+08:00", "by": "小明", "kind": "status",
                                   "from": "resolved", "to": "in_progress", "reason": "回访未解决"}
    assert subject(repo) == f"cslog: {ticket} callback not solved: reopened, resolved -> in_progress"


def test_link_both_ways_in_one_commit(cli, repo, customer, ticket):
    other = cli.ok("new", "ticket", "--customer", customer, "--type", "故障", "--priority", "一般", "--channel", "phone",
                   "--title", "t2", "--description", "d")
    third = cli.ok("new", "ticket", "--customer", customer, "--type", "故障", "--priority", "一般", "--channel", "phone",
                   "--title", "t3", "--description", "d")
    before = commit_count(repo)
    cli.ok("link", ticket, other)
    assert commit_count(repo) == before + 1 and subject(repo) == f"cslog: {ticket} link {other}"
    assert load(repo, ticket)["related"] == [other] and load(repo, other)["related"] == [ticket]
    cli.ok("link", third, ticket, other)
    assert commit_count(repo) == before + 2
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == sorted(
        str(path_of(repo, t).relative_to(repo)) for t in (ticket, other, third))
    assert load(repo, ticket)["related"] == [other, third]
    assert load(repo, third)["related"] == [ticket, other]
    assert load(repo, ticket)["timeline"][-1] == {"at": "2026-11-22T14:30:00+08:00", "by": "小明", "kind": "linked",
                                                  "related": [third]}
    assert_refused(cli, repo, ticket, "link", ticket, other,
                   message=f"{ticket}, {other} are already linked to each other")
    assert_refused(cli, repo, ticket, "link", ticket, ticket, message=f"{ticket} cannot be linked to itself")
    assert_refused(cli, repo, ticket, "link", ticket, "CW209901010001")
    assert_refused(cli, repo, ticket, "link", ticket, customer)
    schema_check(repo)


def test_no_commit_writes_without_committing(cli, repo, ticket):
    before = head(repo)
    cli.ok("--no-commit", "status", ticket, "in_progress")
    assert head(repo) == before and load(repo, ticket)["status"] == "in_progress"


def test_praise_carries_the_person_praised(cli, repo, customer):
    tid = cli.ok("new", "ticket", "--customer", customer, "--type", "表扬", "--priority", "一般", "--channel", "phone",
                 "--title", "表扬客服", "--description", "客服耐心解答", "--praised", "客服小丽")
    assert load(repo, tid)["praised"] == "客服小丽"
    result = cli("new", "ticket", "--customer", customer, "--type", "投诉", "--priority", "一般", "--channel", "phone",
                 "--title", "t", "--description", "d", "--praised", "客服小丽")
    assert result.exit_code == 2 and "--praised names the person a praise (表扬) ticket is about" in result.stderr
    result = cli("new", "customer", "--name", "x", "--praised", "y")
    assert result.exit_code == 2 and "--praised: not for a new customer" in result.stderr


def test_every_workflow_command_has_help_with_an_example(cli):
    for command in ("status", "assign", "claim", "reply", "note", "escalate", "review", "rate", "callback", "link",
                    "history"):
        result = cli(command, "--help", repo=False)
        assert result.exit_code == 0 and "Example: cslog " in result.stdout, command


# --- acceptance 3: batch complaints at the edges ----------------------------------------------------

NOW = "2026-11-22T14:30:00+08:00"


def complaint(cli: Cli, customer: str, received: str, category: str = "产品质量-物流延误", type: str = "投诉"):
    result = cli("new", "ticket", "--customer", customer, "--type", type, "--priority", "一般", "--channel", "phone",
                 "--title", "物流延误", "--description", "快递一周未到", "--category", category,
                 "--received-at", received)
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip(), result.stderr


def test_batch_below_threshold_does_nothing(cli, repo, customer):
    first, _ = complaint(cli, customer, "2026-11-21T14:30:00+08:00")  # exactly 24h before the last one
    second, said = complaint(cli, customer, NOW)
    assert said == ""
    assert all(load(repo, t)["priority"] == "normal" and "related" not in load(repo, t) for t in (first, second))


def test_batch_at_threshold_makes_all_urgent_and_linked_in_one_commit(cli, repo, customer):
    first, _ = complaint(cli, customer, "2026-11-21T14:30:00+08:00")
    second, _ = complaint(cli, customer, "2026-11-22T08:00:00+08:00")
    before = commit_count(repo)
    third, said = complaint(cli, customer, NOW)
    ids = [first, second, third]
    assert said == (f"batch complaint (批量客诉): 3 open complaints of 产品质量-物流延误 within 24h: "
                    f"{', '.join(ids)} are now urgent and linked\n")
    assert commit_count(repo) == before + 1
    assert subject(repo) == f"cslog: {third} new complaint ticket: 物流延误; batch complaint: 3 urgent and linked"
    assert sorted(git(repo, "show", "--name-only", "--format=", "HEAD").split()) == sorted(
        str(path_of(repo, t).relative_to(repo)) for t in ids)
    for tid in ids:
        doc = load(repo, tid)
        assert doc["priority"] == "urgent"
        assert doc["related"] == [t for t in ids if t != tid]
        priority, linked = doc["timeline"][-2:]
        assert priority == {"at": NOW, "by": "小明", "kind": "priority", "from": "normal", "to": "urgent",
                            "reason": "批量客诉: 24h内产品质量-物流延误未结投诉3件"}
        assert linked["kind"] == "linked" and linked["related"] == doc["related"]
    schema_check(repo)
    # a fourth joins: it is made urgent and linked; the others only gain the link
    fourth, said = complaint(cli, customer, NOW)
    assert "4 open complaints" in said
    assert load(repo, first)["related"] == [second, third, fourth]
    assert [e["kind"] for e in load(repo, first)["timeline"]] == ["created", "priority", "linked", "linked"]


def test_batch_ignores_outside_window_closed_and_other_categories(cli, repo, customer):
    outside, _ = complaint(cli, customer, "2026-11-21T14:29:59+08:00")  # 24h and 1s before
    closed, _ = complaint(cli, customer, "2026-11-22T09:00:00+08:00")
    actions.change_status(Store.open(repo), closed, "closed", reason="重复工单", solution="见另一工单", category="产品质量-物流延误",
                          actor="小明", now=LATER)
    other_category, _ = complaint(cli, customer, "2026-11-22T10:00:00+08:00", category="服务态度-响应慢")
    not_complaint, _ = complaint(cli, customer, "2026-11-22T11:00:00+08:00", type="咨询")
    counted, _ = complaint(cli, customer, "2026-11-22T12:00:00+08:00")
    last, said = complaint(cli, customer, NOW)
    assert said == ""
    for tid in (outside, closed, other_category, not_complaint, counted, last):
        assert "related" not in load(repo, tid) and load(repo, tid)["priority"] == "normal"
    # one more inside the window reaches the threshold: only the three counted ones change
    newest, said = complaint(cli, customer, NOW)
    assert f"{counted}, {last}, {newest} are now urgent" in said
    assert load(repo, outside)["priority"] == "normal" and load(repo, closed)["priority"] == "normal"
