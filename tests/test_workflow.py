"""Workflow rules without a repository: transitions, what resolve/close/reopen need, batch complaints."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from cslog import config, workflow
from cslog.errors import Refused, UsageError
from cslog.timeutil import parse_time, zone

SETTINGS = config.parse("")
STATUSES = ("new", "in_progress", "waiting", "escalated", "resolved", "closed")
TZ = zone("Asia/Shanghai")


def ticket(status: str = "new", type: str = "consultation", **fields) -> dict:
    return {"id": "CW202611220001", "type": type, "status": status, "timeline": [], **fields}


def test_the_table_of_design_section_3():
    assert workflow.TRANSITIONS == {
        "new": ("in_progress", "waiting", "escalated", "resolved", "closed"),
        "in_progress": ("waiting", "escalated", "resolved"),
        "waiting": ("in_progress", "escalated", "resolved"),
        "escalated": ("in_progress", "waiting", "resolved"),
        "resolved": ("closed", "in_progress"),
        "closed": ("in_progress",),
    }
    assert workflow.allowed_next("resolved") == ("closed", "in_progress")
    assert workflow.allowed_next("nonsense") == ()


ALLOWED = [(a, b) for a in STATUSES for b in workflow.allowed_next(a)]
REFUSED = [(a, b) for a in STATUSES for b in STATUSES if b not in workflow.allowed_next(a)]


@pytest.mark.parametrize("current, to", ALLOWED)
def test_allowed_moves_pass_with_what_they_need(current, to):
    doc = ticket(current, category="账户-登录")
    workflow.check_transition(doc, to, settings=SETTINGS, reason="客户要求")


@pytest.mark.parametrize("current, to", REFUSED)
def test_other_moves_are_refused_naming_the_allowed_ones(current, to):
    with pytest.raises(Refused) as caught:
        workflow.check_transition(ticket(current, category="x"), to, settings=SETTINGS, reason="r", solution="s")
    message = caught.value.message
    if current == to:
        assert message == f"CW202611220001 is already {workflow.both(to)}"
    else:
        assert message.startswith(f"cannot move CW202611220001 from {workflow.both(current)} to {workflow.both(to)}; "
                                  "allowed next: ")
        for allowed in workflow.allowed_next(current):
            assert workflow.both(allowed) in message


def test_refusal_message_in_english_with_chinese_labels():
    with pytest.raises(Refused) as caught:
        workflow.check_transition(ticket("resolved"), "waiting", settings=SETTINGS)
    assert caught.value.message == ("cannot move CW202611220001 from resolved (已解决) to waiting (等待客户); "
                                    "allowed next: closed (已关闭), in_progress (处理中)")
    assert caught.value.hint == "e.g. cslog status CW202611220001 closed"


@pytest.mark.parametrize("kind", ["complaint", "fault", "repair"])
def test_resolving_a_complaint_fault_or_repair_needs_a_solution(kind):
    with pytest.raises(Refused, match=r"needs a solution \(--solution, 解决方案\)"):
        workflow.check_transition(ticket("in_progress", kind), "resolved", settings=SETTINGS)
    workflow.check_transition(ticket("in_progress", kind), "resolved", settings=SETTINGS, solution="换货")
    # a solution already on the ticket (resolved before, then reopened) is enough
    workflow.check_transition(ticket("in_progress", kind, solution="换货"), "resolved", settings=SETTINGS)


@pytest.mark.parametrize("kind", ["consultation", "suggestion", "praise", "requirement", "info_change", "other"])
def test_other_types_resolve_without_a_solution(kind):
    workflow.check_transition(ticket("in_progress", kind), "resolved", settings=SETTINGS)


def test_close_requires_defaults():
    with pytest.raises(Refused) as caught:
        workflow.check_transition(ticket("resolved", "fault"), "closed", settings=SETTINGS)
    assert caught.value.message == ("closing CW202611220001 needs solution (解决方案), category (问题分类) "
                                    "(close_requires in cslog.yaml)")
    assert caught.value.hint == "cslog status CW202611220001 closed --solution TEXT --category TEXT"
    with pytest.raises(Refused, match=r"needs category \(问题分类\)"):
        workflow.check_transition(ticket("resolved", "consultation", solution="答复"), "closed", settings=SETTINGS)
    with pytest.raises(Refused, match=r"needs category"):  # blank text is not a category
        workflow.check_transition(ticket("resolved", category="  "), "closed", settings=SETTINGS)
    workflow.check_transition(ticket("resolved", "fault", category="故障"), "closed", settings=SETTINGS, solution="重启")
    workflow.check_transition(ticket("resolved", category="咨询-保修"), "closed", settings=SETTINGS)


def test_close_requires_from_the_configuration():
    settings = config.parse("close_requires:\n  suggestion: [category, cause]\n  default: []\n")
    workflow.check_transition(ticket("resolved"), "closed", settings=settings)
    with pytest.raises(Refused, match=r"needs cause \(原因分析\)"):
        workflow.check_transition(ticket("resolved", "suggestion", category="产品"), "closed", settings=settings)
    assert workflow.close_requirements("complaint", settings) == []


def test_closing_a_new_ticket_needs_a_reason_and_the_close_requirements():
    with pytest.raises(Refused, match=r"closing CW202611220001 needs a reason to close it straight from new \(待受理\)"):
        workflow.check_transition(ticket("new", category="无效"), "closed", settings=SETTINGS)
    with pytest.raises(Refused, match="needs category"):
        workflow.check_transition(ticket("new"), "closed", settings=SETTINGS, reason="重复工单")
    with pytest.raises(Refused) as both_missing:  # everything that is missing, at once
        workflow.check_transition(ticket("new"), "closed", settings=SETTINGS)
    assert both_missing.value.message == ("closing CW202611220001 needs a reason to close it straight from new "
                                          "(待受理) (--reason, e.g. 重复工单); and category (问题分类) (close_requires "
                                          "in cslog.yaml)")
    assert both_missing.value.hint == "cslog status CW202611220001 closed --reason TEXT --category TEXT"
    workflow.check_transition(ticket("new", category="无效"), "closed", settings=SETTINGS, reason="重复工单")


def test_reopening_a_closed_ticket_needs_a_reason_a_resolved_one_does_not():
    with pytest.raises(Refused, match="reopening the closed ticket CW202611220001 needs a reason"):
        workflow.check_transition(ticket("closed"), "in_progress", settings=SETTINGS)
    workflow.check_transition(ticket("closed"), "in_progress", settings=SETTINGS, reason="客户再次来电")
    workflow.check_transition(ticket("resolved"), "in_progress", settings=SETTINGS)


def ev(kind: str, **fields) -> dict:
    return {"at": "2026-11-22T10:00:00+08:00", "by": "小华", "kind": kind, **fields}


def test_review_required_wants_an_approval_after_the_last_resolution():
    settings = dataclasses.replace(SETTINGS, review_required=True)
    resolved = ev("status", **{"from": "in_progress", "to": "resolved"})
    approved, returned = ev("reviewed", result="approved"), ev("reviewed", result="returned")
    reopened = ev("status", **{"from": "resolved", "to": "in_progress"})

    def close(*events):
        workflow.check_transition(ticket("resolved", category="c", timeline=list(events)), "closed", settings=settings)

    with pytest.raises(Refused, match="needs a supervisor's approval") as caught:
        close(resolved)
    assert caught.value.hint == "cslog review CW202611220001 --approve"
    with pytest.raises(Refused, match="approval"):
        close(resolved, returned)
    with pytest.raises(Refused, match="approval"):  # an approval of an earlier resolution does not count
        close(resolved, approved, reopened, resolved)
    close(resolved, approved)
    close(resolved, returned, reopened, resolved, approved)
    # without review_required nobody has to approve
    workflow.check_transition(ticket("resolved", category="c", timeline=[resolved]), "closed", settings=SETTINGS)
    # a new ticket closed with a reason has no resolution to review
    workflow.check_transition(ticket("new", category="c"), "closed", settings=settings, reason="重复工单")


def test_decisions_are_for_suggestions_with_a_reason():
    assert workflow.parse_decision("采纳") == "adopted" and workflow.parse_decision("不采纳") == "rejected"
    assert workflow.parse_decision("Rejected") == "rejected"
    with pytest.raises(UsageError, match="unknown decision 'maybe'"):
        workflow.parse_decision("maybe")
    workflow.check_decision(ticket("in_progress", "suggestion"), "adopted", "纳入Q1优化计划")
    with pytest.raises(Refused, match=r"needs the reason \(--reason"):
        workflow.check_decision(ticket("in_progress", "suggestion"), "rejected", None)
    with pytest.raises(Refused, match=r"is for suggestions \(建议\); CW202611220001 is a complaint \(投诉\)"):
        workflow.check_decision(ticket("in_progress", "complaint"), "adopted", "r")


def test_followup_reason():
    def done(*events, status="resolved"):
        return workflow.followup_reason(ticket(status, timeline=list(events)))

    assert done(ev("rated", score=2)) == "score 2 (<= 2)"
    assert done(ev("rated", score=3)) is None
    assert done(ev("callback", result="仍无法充电", solved=False), status="closed") == "the callback says not solved"
    assert done(ev("callback", result="好了", solved=True, score=1)) == "score 1 (<= 2)"
    assert workflow.followup_reason(ticket("in_progress", timeline=[ev("rated", score=1)])) is None


# --- batch complaints --------------------------------------------------------------------------------

NEW_AT = "2026-11-22T14:30:00+08:00"


def complaint(tid: str, received: str, status: str = "new", category: str = "产品质量-物流延误",
              type: str = "complaint", **fields) -> dict:
    return {"id": tid, "type": type, "status": status, "priority": "normal", "category": category,
            "received_at": received, **fields}


def wall(hours: int):
    return lambda early, late: late - early <= timedelta(hours=hours)


def batch(new: dict, others: list[dict], threshold: int = 3):
    return workflow.find_batch(new, others, threshold, "24h", wall(24), lambda v: parse_time(v, TZ))


def hours_before(hours: float) -> str:
    return (datetime.fromisoformat(NEW_AT) - timedelta(hours=hours)).isoformat()


def test_batch_threshold_edges():
    new = complaint("CW202611220009", NEW_AT)
    one = complaint("CW202611220001", hours_before(1))
    two = complaint("CW202611220002", hours_before(23))
    assert batch(new, [one]) is None  # threshold - 1
    found = batch(new, [two, one])
    assert found == workflow.Batch("产品质量-物流延误", ("CW202611220001", "CW202611220002", "CW202611220009"), "24h")
    assert batch(new, [two, one], threshold=4) is None


def test_batch_window_edges_both_ways():
    new = complaint("CW202611220009", NEW_AT)
    at_edge = complaint("CW202611220001", hours_before(24))
    outside = complaint("CW202611220002", (datetime.fromisoformat(NEW_AT) - timedelta(hours=24, seconds=1)).isoformat())
    later = complaint("CW202611220003", (datetime.fromisoformat(NEW_AT) + timedelta(hours=24)).isoformat())
    assert batch(new, [at_edge, outside]) is None
    assert batch(new, [at_edge, later]).ids == ("CW202611220001", "CW202611220003", "CW202611220009")


def test_batch_counts_only_open_complaints_of_the_same_non_empty_category():
    new = complaint("CW202611220009", NEW_AT)
    one = complaint("CW202611220001", hours_before(1))
    not_counted = [
        complaint("CW202611220002", hours_before(2), status="closed"),
        complaint("CW202611220003", hours_before(2), status="resolved"),
        complaint("CW202611220004", hours_before(2), category="服务态度-响应慢"),
        complaint("CW202611220005", hours_before(2), type="consultation"),
        complaint("CW202611220006", "not a time"),
    ]
    assert batch(new, [one, *not_counted]) is None
    assert batch(complaint("CW202611220009", NEW_AT, category=""), [one, one]) is None
    assert batch(complaint("CW202611220009", NEW_AT, type="fault"), [one, one]) is None
    waiting = complaint("CW202611220007", hours_before(3), status="waiting")
    assert batch(new, [one, waiting, *not_counted]).ids == ("CW202611220001", "CW202611220007", "CW202611220009")


def test_batch_update_makes_urgent_and_links_once():
    found = workflow.Batch("物流", ("CW1", "CW2", "CW3"), "24h")
    doc = {"id": "CW2", "priority": "important", "related": ["CW9"], "timeline": [ev("created")]}
    new = workflow.batch_update(doc, found, "2026-11-22T14:30:00+08:00", "小丽", "批量客诉")
    assert new["priority"] == "urgent" and new["related"] == ["CW9", "CW1", "CW3"]
    assert new["timeline"][1:] == [
        {"at": "2026-11-22T14:30:00+08:00", "by": "小丽", "kind": "priority", "from": "important", "to": "urgent",
         "reason": "批量客诉"},
        {"at": "2026-11-22T14:30:00+08:00", "by": "小丽", "kind": "linked", "related": ["CW1", "CW3"],
         "reason": "批量客诉"},
    ]
    assert doc["priority"] == "important" and len(doc["timeline"]) == 1  # the input is not changed
    assert workflow.batch_update(new, found, "x", "y", "z") == new  # nothing left to do
