"""cslog report: a month with known outcomes, every figure checked against values worked out by hand.

The timelines below run on the default policy and the Chinese calendar of 2026 (business hours
09:00-18:00; 2026-10-01..07 National Day, 2026-10-10 a make-up working day). The clocks are judged at
the fixed now of conftest: 2026-11-22 14:30 (+08:00).
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from conftest import NOW, Cli, around_the_clock

from cslog import report
from cslog.model import SLA_CLOCKS
from cslog.render.report import report_text
from cslog.defaults import config_text as default_config_text
from cslog.errors import UsageError
from cslog.store import Store
from cslog.timeutil import parse_time, zone

TZ = zone("Asia/Shanghai")
NOW_DT = parse_time(NOW, TZ)


def at(text: str) -> str:
    """'10-12 09:00' -> '2026-10-12T09:00:00+08:00'."""
    day, hm = text.split()
    return f"2026-{day}T{hm}:00+08:00"


def ev(when: str, kind: str, **fields) -> dict:
    return {"at": at(when), "by": "小华", "kind": kind, **fields}


def put(store: Store, tid: str, received: str, type: str, priority: str, channel: str, status: str,
        events: list[dict], owner: str | None = None, department: str | None = None, **fields) -> None:
    """A ticket file written through the library, timeline as given (the created event first)."""
    created = {"at": at(received), "by": "小明", "kind": "created", "status": "new"}
    if owner and fields.pop("owner_at_creation", True):
        created.update(owner=owner, department=department)
    doc = {"id": tid, "title": f"工单 {tid}", "type": type, "priority": priority, "status": status,
           "channel": channel, "customer": "C0001", "customer_name": "A公司", "received_at": at(received),
           "description": fields.pop("description", "客户原话"), **fields}
    if owner:
        doc["owner"], doc["department"] = owner, department
    doc["timeline"] = [created, *events]
    with store.transaction("test", "测试员", NOW_DT, commit=False) as tx:
        tx.create("ticket", lambda _id: doc, NOW_DT, record_id=tid)


def assigned(when: str, owner: str, department: str) -> dict:
    return ev(when, "assigned", owner=owner, department=department)


def move(when: str, a: str, b: str, **kw) -> dict:
    return ev(when, "status", **{"from": a, "to": b}, **kw)


def rated(score: int, when: str) -> dict:
    return {"score": score, "at": at(when)}


def month_of_tickets(store: Store) -> None:
    """July..November 2026: nine October tickets (T1..T9), two in September, one each in July and August,
    one on the first minute of November."""
    # T1: urgent fault, everything in time; closed after being resolved (handling stops at the resolution)
    put(store, "CW202610120001", "10-12 09:00", "fault", "urgent", "phone", "closed", [
        assigned("10-12 09:30", "小强", "技术部"), ev("10-12 09:40", "reply", text="正在处理"),
        move("10-12 09:45", "new", "in_progress"), move("10-12 12:00", "in_progress", "resolved", solution="清理缓存"),
        ev("10-12 12:30", "rated", score=5), move("10-12 13:00", "resolved", "closed")],
        owner="小强", department="技术部", owner_at_creation=False, category="技术故障-登录异常",
        solution="清理缓存", satisfaction=rated(5, "10-12 12:30"))
    # T2: urgent complaint, claimed late (3h), answered late, resolved late (6h), called back in time
    put(store, "CW202610120002", "10-12 10:00", "complaint", "urgent", "phone", "resolved", [
        assigned("10-12 13:00", "小丽", "客服部"), ev("10-12 13:10", "reply", text="已核实"),
        move("10-12 13:10", "new", "in_progress"), move("10-12 16:00", "in_progress", "resolved", solution="退款"),
        ev("10-12 17:00", "rated", score=2),
        ev("10-13 10:00", "callback", result="已收到退款", solved=True, score=4)],
        owner="小丽", department="客服部", owner_at_creation=False, category="产品质量-物流延误",
        solution="退款", satisfaction=rated(2, "10-12 17:00"),
        callbacks=[{"at": at("10-13 10:00"), "by": "小丽", "result": "已收到退款", "solved": True, "score": 4}])
    # T3: important complaint with an owner from the start; 24h waiting for the customer (paused);
    # resolve met thanks to the pause, update breached; never called back (callback breached)
    put(store, "CW202610130001", "10-13 14:00", "complaint", "important", "social", "resolved", [
        ev("10-13 15:00", "reply", text="请提供照片"), move("10-13 15:00", "new", "waiting"),
        move("10-14 15:00", "waiting", "in_progress"), move("10-15 20:00", "in_progress", "resolved", solution="换货")],
        owner="小丽", department="客服部", category="产品质量-物流延误", solution="换货",
        satisfaction=rated(4, "10-16 09:00"))
    # T4: normal consultation nobody took: still new, every clock breached by now
    put(store, "CW202610140001", "10-14 16:00", "consultation", "normal", "email", "new", [],
        category="产品咨询-保修政策")
    # T5: normal suggestion, adopted; answered by its resolution exactly 24h after it came in (met)
    put(store, "CW202610150001", "10-15 10:00", "suggestion", "normal", "web", "resolved", [
        move("10-16 10:00", "new", "resolved", solution="已纳入计划")],
        owner="小雪", department="财务部", category="建议反馈-发票", solution="已纳入计划",
        decision={"result": "adopted", "reason": "成本低"}, satisfaction=rated(5, "10-16 11:00"))
    # T6: normal praise of 小明, closed six days later: update and resolve (3bd) breached
    put(store, "CW202610160001", "10-16 11:00", "praise", "normal", "phone", "closed", [
        ev("10-16 11:10", "reply", text="感谢您的表扬"), move("10-22 11:30", "new", "closed", reason="已转达")],
        owner="小明", department="客服部", category="服务表扬-态度", praised="小明")
    # T7: important suggestion, rejected; first reply after 4.5h (response breached)
    put(store, "CW202610200001", "10-20 09:00", "suggestion", "important", "email", "resolved", [
        assigned("10-20 10:00", "小雪", "财务部"), ev("10-20 13:30", "reply", text="已评估"),
        move("10-21 09:00", "new", "resolved", solution="暂不采纳")],
        owner="小雪", department="财务部", owner_at_creation=False, category="产品质量-物流延误",
        solution="暂不采纳", decision={"result": "rejected", "reason": "与现有流程冲突"},
        satisfaction=rated(3, "10-21 10:00"))
    # T8: important repair: update breached (25h after the reply), callback late and not solved
    put(store, "CW202610260001", "10-26 09:00", "repair", "important", "store", "resolved", [
        assigned("10-26 09:30", "赵工", "售后部"), ev("10-26 10:00", "reply", text="已安排上门"),
        move("10-26 10:00", "new", "in_progress"), move("10-27 11:00", "in_progress", "resolved", solution="更换零件"),
        ev("10-30 10:00", "callback", result="又坏了", solved=False, score=2)],
        owner="赵工", department="售后部", owner_at_creation=False, category="售后维修-空调",
        solution="更换零件", satisfaction=rated(4, "10-27 12:00"),
        callbacks=[{"at": at("10-30 10:00"), "by": "小明", "result": "又坏了", "solved": False, "score": 2}])
    # T9: received on the last evening of October (a Saturday), no category, closed on Monday
    put(store, "CW202610310001", "10-31 23:30", "other", "normal", "chat", "closed", [
        move("11-02 10:00", "new", "closed", reason="重复工单")], owner="小明", department="客服部")
    # November's first minute belongs to November
    put(store, "CW202611010001", "11-01 00:00", "complaint", "urgent", "phone", "new", [],
        category="产品质量-物流延误")
    # September: P1 in time, P2 late everywhere but the callback
    put(store, "CW202609100001", "09-10 10:00", "fault", "urgent", "phone", "resolved", [
        ev("09-10 10:30", "reply", text="处理中"), assigned("09-10 11:00", "小强", "技术部"),
        move("09-10 13:00", "new", "resolved", solution="重启服务")],
        owner="小强", department="技术部", owner_at_creation=False, category="产品质量-物流延误",
        solution="重启服务", satisfaction=rated(4, "09-10 14:00"))
    put(store, "CW202609110001", "09-11 10:00", "complaint", "important", "phone", "closed", [
        assigned("09-11 13:00", "小丽", "客服部"), ev("09-11 15:00", "reply", text="核实中"),
        move("09-14 10:00", "new", "resolved", solution="补发"), move("09-14 11:00", "resolved", "closed"),
        ev("09-15 10:00", "callback", result="满意", solved=True, score=5)],
        owner="小丽", department="客服部", owner_at_creation=False, category="产品质量-物流延误",
        solution="补发", satisfaction=rated(1, "09-14 12:00"),
        callbacks=[{"at": at("09-15 10:00"), "by": "小丽", "result": "满意", "solved": True, "score": 5}])
    # August: the same category on top, alone; July: another category
    put(store, "CW202608100001", "08-10 10:00", "fault", "normal", "phone", "new", [], category="产品质量-物流延误")
    put(store, "CW202607130001", "07-13 10:00", "complaint", "normal", "phone", "new", [], category="账单-多扣费")


@pytest.fixture(scope="module")
def desk(tmp_path_factory) -> Path:
    """A data repository holding month_of_tickets(), shared by the tests that only read it (no git needed)."""
    root = tmp_path_factory.mktemp("report") / "desk"
    root.mkdir()
    (root / "cslog.yaml").write_text(default_config_text("示例科技有限公司", "zh"), encoding="utf-8")
    around_the_clock(root)  # the figures below were worked out on the wall clock
    month_of_tickets(Store.open(root))
    return root


@pytest.fixture(scope="module")
def store(desk) -> Store:
    return Store.open(desk)


@pytest.fixture
def cli(desk) -> Cli:
    return Cli(desk)


@pytest.fixture(scope="module")
def october(store) -> dict:
    built = report.build(store, report.month_period("2026-10"), NOW_DT)
    assert built.problems == []
    return built.data


def sla(met: int, breached: int, rate) -> dict:
    return {"met": met, "breached": breached, "rate": rate}


def test_period_counts(october):
    assert october["period"] == {"from": "2026-10-01", "until": "2026-10-31"}
    assert october["label"] == "2026-10"
    assert october["tickets"] == 9
    assert october["by_type"] == {"consultation": 1, "complaint": 2, "suggestion": 2, "praise": 1, "fault": 1,
                                  "repair": 1, "requirement": 0, "info_change": 0, "other": 1}
    assert october["by_priority"] == {"urgent": 2, "important": 3, "normal": 4}
    assert october["by_status"] == {"new": 1, "in_progress": 0, "waiting": 0, "escalated": 0, "resolved": 5,
                                    "closed": 3}
    assert october["by_channel"] == {"phone": 3, "email": 2, "chat": 1, "web": 1, "social": 1, "store": 1,
                                     "portal": 0, "other": 0}
    assert october["type_shares"] == {"consultation": 0.1111, "complaint": 0.2222, "suggestion": 0.2222,
                                      "praise": 0.1111, "fault": 0.1111, "repair": 0.1111, "requirement": 0.0,
                                      "info_change": 0.0, "other": 0.1111}
    assert (october["resolved"], october["open"], october["unassigned"]) == (6, 1, 1)
    # T6 and T9 were closed without being resolved (design.md 9.2): counted as such, not as handled
    assert (october["closed_unresolved"], october["reopened"]) == (2, 0)


def test_sla(october):
    assert october["sla"] == {
        "claim": sla(7, 2, 0.7778),      # T2 claimed after 3h, T4 never
        "response": sla(5, 4, 0.5556),   # T2, T4, T7 (4.5h), T9 (first move after 34.5h)
        "update": sla(4, 5, 0.4444),     # T3, T4, T6, T8, T9
        "resolve": sla(5, 3, 0.625),     # T2 (6h), T4 (open past due), T6 (closed unresolved after its due: the
                                         # breach stays); T9 closed unresolved in time: neither
        "callback": sla(1, 2, 0.3333),   # T2 met; T3 never called back, T8 late
    }
    assert october["sla_by_priority"] == {
        "urgent": {"claim": sla(1, 1, 0.5), "response": sla(1, 1, 0.5), "update": sla(2, 0, 1.0),
                   "resolve": sla(1, 1, 0.5), "callback": sla(1, 0, 1.0)},
        "important": {"claim": sla(3, 0, 1.0), "response": sla(2, 1, 0.6667), "update": sla(1, 2, 0.3333),
                      "resolve": sla(3, 0, 1.0), "callback": sla(0, 2, 0.0)},
        "normal": {"claim": sla(3, 1, 0.75), "response": sla(2, 2, 0.5), "update": sla(1, 3, 0.25),
                   "resolve": sla(1, 2, 0.3333), "callback": sla(0, 0, None)},  # T6 breached
    }


def test_handling_time(october):
    # wall hours: T1 3, T2 6 | T3 54, T7 24, T8 26 | T5 24 (T4 is open; T6 and T9 were closed unresolved,
    # which is no handling time: a duplicate closed in 30 minutes would flatter the mean)
    assert october["handling_hours"] == {"urgent": {"mean": 4.5, "median": 4.5},
                                         "important": {"mean": 34.67, "median": 26.0},
                                         "normal": {"mean": 24.0, "median": 24.0}}
    # business hours: T3 4+9+9, T7 9, T8 9+2 | T5 8+1
    assert october["handling_business_hours"] == {"urgent": {"mean": 4.5, "median": 4.5},
                                                  "important": {"mean": 14.0, "median": 11.0},
                                                  "normal": {"mean": 9.0, "median": 9.0}}
    assert october["handling"] == {"resolved": 6, "hours": {"mean": 22.83, "median": 24.0},
                                   "business_hours": {"mean": 10.0, "median": 9.0}}


def test_satisfaction_categories_departments(october):
    assert october["satisfaction"] == {"responses": 6, "mean": 3.83, "satisfied_rate": 0.6667,
                                       "distribution": {"1": 0, "2": 1, "3": 1, "4": 2, "5": 2}}
    ones = sorted(["产品咨询-保修政策", "售后维修-空调", "建议反馈-发票", "技术故障-登录异常", "服务表扬-态度"])
    assert october["top_categories"] == ([{"category": "产品质量-物流延误", "count": 3}]
                                         + [{"category": c, "count": 1} for c in ones])
    assert october["by_category"] == {"产品质量-物流延误": 3, **{c: 1 for c in ones}}
    assert october["uncategorised"] == 1
    assert october["departments"] == {
        "客服部": {"tickets": 4, "resolved": 2, "claimed_in_time": 3, "claimed_late": 1, "response_rate": 0.75,
                "resolve_rate": 0.3333, "handling_hours_mean": 30.0},
        "财务部": {"tickets": 2, "resolved": 2, "claimed_in_time": 2, "claimed_late": 0, "response_rate": 1.0,
                "resolve_rate": 1.0, "handling_hours_mean": 24.0},
        "售后部": {"tickets": 1, "resolved": 1, "claimed_in_time": 1, "claimed_late": 0, "response_rate": 1.0,
                "resolve_rate": 1.0, "handling_hours_mean": 26.0},
        "技术部": {"tickets": 1, "resolved": 1, "claimed_in_time": 1, "claimed_late": 0, "response_rate": 1.0,
                "resolve_rate": 1.0, "handling_hours_mean": 3.0},
    }
    assert october["by_department"] == {"客服部": 4, "财务部": 2, "售后部": 1, "技术部": 1}
    assert october["by_owner"] == {
        "小丽": {"tickets": 2, "resolved": 2, "resolve_met": 1, "resolve_breached": 1, "resolve_rate": 0.5,
               "handling_hours_mean": 30.0, "satisfaction_mean": 3.0},
        # T6 and T9, both closed unresolved: no resolution to time; T6's resolve clock was breached before
        "小明": {"tickets": 2, "resolved": 0, "resolve_met": 0, "resolve_breached": 1, "resolve_rate": 0.0,
               "handling_hours_mean": None, "satisfaction_mean": None},
        "小雪": {"tickets": 2, "resolved": 2, "resolve_met": 2, "resolve_breached": 0, "resolve_rate": 1.0,
               "handling_hours_mean": 24.0, "satisfaction_mean": 4.0},
        "小强": {"tickets": 1, "resolved": 1, "resolve_met": 1, "resolve_breached": 0, "resolve_rate": 1.0,
               "handling_hours_mean": 3.0, "satisfaction_mean": 5.0},
        "赵工": {"tickets": 1, "resolved": 1, "resolve_met": 1, "resolve_breached": 0, "resolve_rate": 1.0,
               "handling_hours_mean": 26.0, "satisfaction_mean": 4.0},
    }


def test_callbacks_suggestions_praise(october):
    assert october["callbacks"] == {"tickets": 2, "solved": 1, "not_solved": 1, "solved_rate": 0.5,
                                    "mean_score": 3.0}
    assert october["suggestions"] == {"total": 2, "adopted": 1, "rejected": 1, "pending": 0, "adoption_rate": 0.5}
    assert october["praise"] == {"total": 1, "by_person": {"小明": 1}, "tickets": {"小明": ["CW202610160001"]}}


def test_previous_period_and_change(october):
    prev = october["previous"]
    assert prev["period"] == {"from": "2026-09-01", "until": "2026-09-30"}
    assert prev["tickets"] == 2
    assert prev["by_type"]["fault"] == 1 and prev["by_type"]["complaint"] == 1
    assert prev["by_priority"] == {"urgent": 1, "important": 1, "normal": 0}
    assert prev["by_status"]["resolved"] == 1 and prev["by_status"]["closed"] == 1
    assert prev["sla"] == {"claim": sla(1, 1, 0.5), "response": sla(1, 1, 0.5), "update": sla(1, 1, 0.5),
                           "resolve": sla(1, 1, 0.5), "callback": sla(1, 0, 1.0)}
    assert prev["handling_hours"] == {"urgent": {"mean": 3.0, "median": 3.0},
                                      "important": {"mean": 72.0, "median": 72.0},
                                      "normal": {"mean": None, "median": None}}
    assert prev["handling_business_hours"]["important"] == {"mean": 9.0, "median": 9.0}  # Fri 8h + Mon 1h
    assert prev["satisfaction"] == {"responses": 2, "mean": 2.5, "satisfied_rate": 0.5,
                                    "distribution": {"1": 1, "2": 0, "3": 0, "4": 1, "5": 0}}
    assert prev["top_categories"] == [{"category": "产品质量-物流延误", "count": 2}]
    assert "previous" not in prev and "change" not in prev

    change = october["change"]
    assert change["tickets"] == 7
    assert change["tickets_ratio"] == 3.5
    assert change["by_priority"] == {"urgent": 1, "important": 2, "normal": 4}
    assert change["sla"] == {"claim": 0.2778, "response": 0.0556, "update": -0.0556, "resolve": 0.125,
                             "callback": -0.6667}
    assert change["satisfaction"] == {"mean": 1.33, "satisfied_rate": 0.1667}
    assert change["handling_hours"] == {"urgent": {"mean": 1.5, "median": 1.5},
                                        "important": {"mean": -37.33, "median": -46.0},
                                        "normal": {"mean": None, "median": None}}
    assert change["resolved"] == 4 and change["open"] == 1 and change["unassigned"] == 1
    assert change["closed_unresolved"] == 2 and change["reopened"] == 0


def test_trend_covers_the_last_six_months(october):
    trend = october["trend"]
    assert [t["label"] for t in trend] == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    assert [t["tickets"] for t in trend] == [0, 0, 1, 1, 2, 9]
    assert trend[0] == {"label": "2026-05", "from": "2026-05-01", "until": "2026-05-31", "tickets": 0,
                        "sla_response_rate": None, "sla_resolve_rate": None, "satisfaction_mean": None,
                        "satisfied_rate": None}
    assert (trend[3]["sla_response_rate"], trend[3]["sla_resolve_rate"]) == (0.0, 0.0)
    assert trend[4] == {"label": "2026-09", "from": "2026-09-01", "until": "2026-09-30", "tickets": 2,
                        "sla_response_rate": 0.5, "sla_resolve_rate": 0.5, "satisfaction_mean": 2.5,
                        "satisfied_rate": 0.5}
    assert trend[5]["sla_response_rate"] == october["sla"]["response"]["rate"]
    assert trend[5]["satisfaction_mean"] == october["satisfaction"]["mean"]


def test_streak_of_top_category(store, october):
    # 产品质量-物流延误 leads August (1), September (2) and October (3); July was 账单-多扣费
    assert october["streak_periods"] == 3
    assert october["streaks"] == [{"category": "产品质量-物流延误", "periods": 3, "since": "2026-08-01"}]
    period = report.month_period("2026-10")
    assert report.build(store, period, NOW_DT, streak=4).data["streaks"] == []
    assert report.build(store, period, NOW_DT, streak=2).data["streaks"] == october["streaks"]
    # September alone: only two months in a row
    assert report.build(store, report.month_period("2026-09"), NOW_DT).data["streaks"] == []


def test_streak_rule_ties_share_the_top():
    from collections import Counter

    periods = [report.month_period(m) for m in ("2026-08", "2026-09", "2026-10")]
    counts = [Counter({"a": 2, "b": 2}), Counter({"a": 3, "b": 1}), Counter({"a": 1, "c": 1})]
    assert report.streaks(counts, periods, 3) == [{"category": "a", "periods": 3, "since": "2026-08-01"}]
    counts[1] = Counter({"b": 3, "a": 1})
    assert report.streaks(counts, periods, 3) == []
    assert report.streaks([Counter(), Counter(), Counter()], periods, 1) == []


def test_cli_json_equals_the_library(cli, october):
    out = cli.ok("report", "--month", "2026-10", "--format", "json")
    assert json.loads(out) == october


def test_default_period_is_the_last_full_month(cli, october):
    result = cli("report", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["period"] == october["period"]
    assert "2026-10" in result.stderr


def test_table_shows_the_figures(cli):
    out = cli.ok("report", "--month", "2026-10")
    assert "客户服务工单报告 2026-10 (2026-10-01 ~ 2026-10-31)" in out
    assert "[高频问题]" in out and "产品质量-物流延误" in out
    assert "[连续TOP1问题]" in out and "连续3个月TOP1 (自2026-08-01起)" in out
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    assert lines["工单总数"] == ["9", "2", "+7"]
    assert lines["解决时限达成率"] == ["62.5%", "50.0%", "+12.5pp"]
    assert lines["未解决即关闭"] == ["2", "0", "+2"]
    assert lines["满意度均分"] == ["3.83", "2.50", "+1.33"]


def test_quarter_and_ranges(store):
    q4 = report.build(store, report.quarter_period("2026-Q4"), NOW_DT).data
    assert q4["period"] == {"from": "2026-10-01", "until": "2026-12-31"}
    assert q4["tickets"] == 10  # October's nine and November's first
    assert q4["previous"]["period"] == {"from": "2026-07-01", "until": "2026-09-30"}
    assert q4["previous"]["tickets"] == 4
    assert [t["label"] for t in q4["trend"]][-2:] == ["2026-Q3", "2026-Q4"]

    day = report.parse_period(NOW_DT, since="2026-10-12", until="2026-10-12")  # --until is included
    figures = report.build(store, day, NOW_DT).data
    assert figures["period"] == {"from": "2026-10-12", "until": "2026-10-12"}
    assert figures["tickets"] == 2
    assert figures["previous"]["period"] == {"from": "2026-10-11", "until": "2026-10-11"}
    assert figures["label"] == "2026-10-12~2026-10-12"

    open_ended = report.parse_period(NOW_DT, since="2026-11-01")
    assert open_ended.to_json() == {"from": "2026-11-01", "until": "2026-11-22"}


def test_tickets_received_after_now_do_not_count_yet(store):
    earlier = datetime(2026, 10, 12, 9, 35, tzinfo=TZ)
    figures = report.build(store, report.month_period("2026-10"), earlier).data
    assert figures["tickets"] == 1  # T1 only; T2 came in at 10:00
    assert figures["by_priority"]["urgent"] == 1


@pytest.mark.parametrize("options, message", [
    ({"month": "2026-13"}, "--month: cannot read '2026-13'"),
    ({"month": "11/2026"}, "--month: cannot read '11/2026'"),
    ({"quarter": "2026-Q5"}, "--quarter: cannot read '2026-Q5'"),
    ({"since": "2026-11-31"}, "--from: cannot read '2026-11-31' as a date"),
    ({"since": "2026-11-10", "until": "2026-11-01"}, "--until 2026-11-01 is before --from 2026-11-10"),
    ({"until": "2026-11-01"}, "--until needs --from"),
    ({"month": "2026-10", "quarter": "2026-Q4"}, "give one period: --month or --quarter, not both"),
])
def test_bad_periods_are_refused(options, message):
    with pytest.raises(UsageError) as caught:
        report.parse_period(NOW_DT, **options)
    assert caught.value.message == message


def test_bad_period_exits_2(cli):
    result = cli("report", "--month", "2026-13")
    assert result.exit_code == 2
    assert "error: --month: cannot read '2026-13'" in result.stderr
    assert cli("export", "--quarter", "Q4").exit_code == 2


def test_period_arithmetic():
    assert report.month_period("2026-01").previous().label == "2025-12"
    assert report.quarter_period("2026-q1").previous().to_json() == {"from": "2025-10-01", "until": "2025-12-31"}
    assert report.month_period("2026-03").shifted(14).label == "2025-01"
    assert report.parse_period(datetime(2026, 1, 5, tzinfo=TZ)).label == "2025-12"


def test_a_broken_file_is_reported_not_fatal(repo):
    store = Store.open(repo)
    month_of_tickets(store)
    folder = Path(repo) / "tickets" / "2026" / "10"
    (folder / "CW202610300001.yaml").write_text("id: CW202610300001\nreceived_at: [\n", encoding="utf-8")
    (folder / "CW202610300002.yaml").write_text("id: CW202610300002\nreceived_at: 'soon'\n", encoding="utf-8")
    built = report.build(store, report.month_period("2026-10"), NOW_DT)
    assert built.data["tickets"] == 9
    assert len(built.problems) == 2
    assert built.problems[0].startswith("tickets/2026/10/CW202610300001.yaml:")


def test_empty_period(store):
    figures = report.build(store, report.month_period("2026-01"), NOW_DT).data
    assert figures["tickets"] == 0
    assert figures["sla"]["resolve"] == sla(0, 0, None)
    assert figures["satisfaction"] == {"responses": 0, "mean": None, "satisfied_rate": None,
                                       "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}}
    assert figures["type_shares"]["complaint"] is None
    assert figures["top_categories"] == [] and figures["departments"] == {} and figures["streaks"] == []
    assert "本期没有受理工单。" in report_text(figures, "", "zh")


def test_every_key_and_the_rest_of_the_previous_period(october):
    assert list(october) == [
        "period", "label", "tickets", "by_type", "by_priority", "by_status", "by_channel", "sla", "handling_hours",
        "handling_business_hours", "satisfaction", "top_categories", "departments", "type_shares", "resolved",
        "open", "unassigned", "closed_unresolved", "reopened", "handling", "sla_by_priority", "by_category", "uncategorised", "by_department",
        "by_owner", "callbacks", "suggestions", "praise", "previous", "change", "trend", "streak_periods", "streaks",
        "actions", "generated_at"]
    assert october["generated_at"] == "2026-11-22T14:30:00+08:00"
    prev = october["previous"]
    assert list(prev) == list(october)[:28]
    assert prev["label"] == "2026-09"
    assert prev["by_type"] == {"consultation": 0, "complaint": 1, "suggestion": 0, "praise": 0, "fault": 1,
                               "repair": 0, "requirement": 0, "info_change": 0, "other": 0}
    assert prev["by_status"] == {"new": 0, "in_progress": 0, "waiting": 0, "escalated": 0, "resolved": 1, "closed": 1}
    assert prev["by_channel"] == {"phone": 2, "email": 0, "chat": 0, "web": 0, "social": 0, "store": 0, "portal": 0,
                                  "other": 0}
    assert prev["type_shares"]["fault"] == 0.5 and prev["type_shares"]["praise"] == 0.0
    assert (prev["resolved"], prev["open"], prev["unassigned"]) == (2, 0, 0)
    assert prev["handling"] == {"resolved": 2, "hours": {"mean": 37.5, "median": 37.5},
                                "business_hours": {"mean": 6.0, "median": 6.0}}
    assert prev["handling_business_hours"]["urgent"] == {"mean": 3.0, "median": 3.0}
    assert prev["sla_by_priority"] == {
        "urgent": {"claim": sla(1, 0, 1.0), "response": sla(1, 0, 1.0), "update": sla(1, 0, 1.0),
                   "resolve": sla(1, 0, 1.0), "callback": sla(0, 0, None)},
        "important": {"claim": sla(0, 1, 0.0), "response": sla(0, 1, 0.0), "update": sla(0, 1, 0.0),
                      "resolve": sla(0, 1, 0.0), "callback": sla(1, 0, 1.0)},
        "normal": {k: sla(0, 0, None) for k in SLA_CLOCKS},
    }
    assert prev["departments"] == {
        "客服部": {"tickets": 1, "resolved": 1, "claimed_in_time": 0, "claimed_late": 1, "response_rate": 0.0,
                "resolve_rate": 0.0, "handling_hours_mean": 72.0},
        "技术部": {"tickets": 1, "resolved": 1, "claimed_in_time": 1, "claimed_late": 0, "response_rate": 1.0,
                "resolve_rate": 1.0, "handling_hours_mean": 3.0},
    }
    assert prev["by_department"] == {"客服部": 1, "技术部": 1}
    assert prev["by_owner"] == {
        "小丽": {"tickets": 1, "resolved": 1, "resolve_met": 0, "resolve_breached": 1, "resolve_rate": 0.0,
               "handling_hours_mean": 72.0, "satisfaction_mean": 1.0},
        "小强": {"tickets": 1, "resolved": 1, "resolve_met": 1, "resolve_breached": 0, "resolve_rate": 1.0,
               "handling_hours_mean": 3.0, "satisfaction_mean": 4.0},
    }
    assert prev["by_category"] == {"产品质量-物流延误": 2} and prev["uncategorised"] == 0
    assert prev["callbacks"] == {"tickets": 1, "solved": 1, "not_solved": 0, "solved_rate": 1.0, "mean_score": 5.0}
    assert prev["suggestions"] == {"total": 0, "adopted": 0, "rejected": 0, "pending": 0, "adoption_rate": None}
    assert prev["praise"] == {"total": 0, "by_person": {}, "tickets": {}}

    change = october["change"]
    assert change["by_type"] == {"consultation": 1, "complaint": 1, "suggestion": 2, "praise": 1, "fault": 0,
                                 "repair": 1, "requirement": 0, "info_change": 0, "other": 1}
    assert change["by_status"] == {"new": 1, "in_progress": 0, "waiting": 0, "escalated": 0, "resolved": 4,
                                   "closed": 2}
    assert change["by_channel"] == {"phone": 1, "email": 2, "chat": 1, "web": 1, "social": 1, "store": 1,
                                    "portal": 0, "other": 0}
    assert change["handling_business_hours"] == {"urgent": {"mean": 1.5, "median": 1.5},
                                                 "important": {"mean": 5.0, "median": 2.0},
                                                 "normal": {"mean": None, "median": None}}
    assert change["handling"] == {"hours": {"mean": -14.67, "median": -13.5},
                                  "business_hours": {"mean": 4.0, "median": 3.0}}
    assert october["trend"][2] == {"label": "2026-07", "from": "2026-07-01", "until": "2026-07-31", "tickets": 1,
                                   "sla_response_rate": 0.0, "sla_resolve_rate": 0.0, "satisfaction_mean": None,
                                   "satisfied_rate": None}
