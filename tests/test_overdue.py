"""Overdue rows (ops.overdue), the clock lines of `cslog show` (render.record), policy and calendar from cslog.yaml."""
from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from conftest import around_the_clock

from cslog import config
from cslog.model import OVERDUE_ROW
from cslog.ops import overdue as ops
from cslog.ops.show import show
from cslog.render.overdue import late_words
from cslog.render.record import clock_lines
from cslog.durations import Duration
from cslog.errors import ConfigError, UsageError
from cslog.store import Store

NOW = datetime.fromisoformat("2026-11-22T14:30:00+08:00")  # a Sunday


@pytest.fixture(autouse=True)
def hotline(repo):
    """These tests were worked out on the wall clock: a 24-hour hotline's policy (the defaults count business
    time; tests/test_business_time.py holds them)."""
    around_the_clock(repo)


def iso(text: str) -> str:
    return text.replace(" ", "T") + ":00+08:00"


def ev(when: str, kind: str, **fields) -> dict:
    return {"at": iso(when), "by": "小明", "kind": kind, **fields}


def put(store: Store, received: str, *events: dict, priority: str = "urgent", status: str = "new",
        owner: str | None = "小丽", title: str = "无法登录系统", **fields) -> str:
    """Write a ticket file as it is given (no workflow rules), created at `received`."""
    moment = datetime.fromisoformat(iso(received))
    doc = {"title": title, "type": "fault", "priority": priority, "status": status, "channel": "phone",
           "customer": "C0001", "received_at": iso(received), "description": "提示账号异常", "owner": owner,
           "timeline": [ev(received, "created", status="new", owner=owner), *events], **fields}
    doc = {k: v for k, v in doc.items() if v is not None}
    with store.transaction("test", "测试员", moment) as tx:
        record = tx.create("ticket", lambda new_id: {"id": new_id, **doc}, moment)
    return record.id


@pytest.fixture
def store(repo) -> Store:
    return Store.open(repo)


def with_settings(store: Store, **changes) -> Store:
    return Store(root=store.root, settings=dataclasses.replace(store.settings, **changes))


def overdue(store: Store, at: datetime, **kw) -> list[dict]:
    return ops.find_overdue(store, at, **kw).rows


def lines(store: Store, ticket: str, at: datetime = NOW) -> list[str]:
    shown = show(store, ticket, at)
    return clock_lines(shown.clocks, shown.warn_until, store.settings.language, shown.problem)


def line_of_text(store: Store, needle: str) -> int:
    lines = (store.root / "cslog.yaml").read_text(encoding="utf-8").splitlines()
    return next(i for i, text in enumerate(lines, 1) if text.strip().startswith(needle))


# -- policy and calendar ------------------------------------------------------------------------------

def test_policy_and_calendar_come_from_cslog_yaml(store):
    assert store.policy().warn_within == Duration(1, "h") and store.calendar().country == "CN"
    assert with_settings(store, sla={**store.settings.sla, "claim": "30m"}).policy().claim == Duration(30, "m")


def test_a_bad_policy_becomes_a_config_error_with_its_line(store):
    bad = with_settings(store, sla={**store.settings.sla, "pause_in": ["wating"]})
    with pytest.raises(ConfigError) as caught:
        overdue(bad, NOW)
    assert caught.value.message == (f"cslog.yaml:{line_of_text(store, 'pause_in:')}: sla.pause_in: unknown status "
                                    "'wating': use new, in_progress, waiting, escalated, resolved, closed")
    assert caught.value.exit_code == 2


def test_a_bad_calendar_becomes_a_config_error_with_its_line(store):
    calendar = {**store.settings.calendar, "business_hours": [{"start": "19:00", "end": "18:00"}]}
    with pytest.raises(ConfigError) as caught:
        ticket = put(store, "2026-11-22 10:00")
        lines(with_settings(store, calendar=calendar), ticket)
    assert caught.value.message == (f"cslog.yaml:{line_of_text(store, 'business_hours:')}: calendar.business_hours[0]:"
                                    " window 19:00-18:00 must end after it starts")


def test_a_calendar_without_working_days_is_a_config_error(store):
    calendar = {**store.settings.calendar, "country": "", "weekdays": []}
    empty = with_settings(store, calendar=calendar)
    put(store, "2026-11-20 10:00", priority="normal")  # resolve 3bd needs a working day
    expected = (f"cslog.yaml:{line_of_text(store, 'calendar:')}: calendar: the calendar has no working days: "
                "check calendar.weekdays")
    with pytest.raises(ConfigError) as caught:
        overdue(empty, NOW)
    assert caught.value.message == expected
    from cslog import report  # the report says it the same way, instead of "not counting" every ticket

    with pytest.raises(ConfigError) as caught:
        report.build(empty, report.month_period("2026-11"), NOW)
    assert caught.value.message == expected


def test_config_problems_read_the_sla_and_calendar_sections_as_the_clocks_do():
    assert config.config_problems({"sla": {"pause_in": ["wating"]}}) == [
        (("sla", "pause_in"), "sla.pause_in: unknown status 'wating': use new, in_progress, waiting, escalated, "
                              "resolved, closed")]
    assert config.config_problems({"calendar": {"weekdays": ["mon", "funday"]}}) == [
        (("calendar", "weekdays"), "calendar.weekdays: unknown weekday 'funday': use mon, tue, wed, thu, fri, sat, sun")]
    assert config.config_problems({"calendar": {"business_hours": [{"start": "9", "end": "18:00"}]}}) == [
        (("calendar", "business_hours", 0, "start"), "calendar.business_hours[0].start: invalid time '9': write it "
                                                     "as a quoted 'HH:MM', e.g. '09:00'")]
    # the country needs the holiday library: `cslog check` and the SLA commands judge it
    assert config.config_problems({"calendar": {"country": "XX"}}) == []
    # a section already reported is not reported twice
    assert config.config_problems({"sla": {"claim": "2x", "pause_in": ["wating"]}}) == [
        (("sla", "claim"), "sla.claim: invalid duration '2x': use a number followed by m, h, d (wall clock), "
                           "bh (business hours) or bd (working days), e.g. 30m, 4h, 2d, 8bh, 3bd")]


def test_reading_cslog_yaml_does_not_load_the_holiday_library(repo):
    code = ("import sys; from cslog import config; "
            f"config.load(__import__('pathlib').Path({str(repo / 'cslog.yaml')!r})); "
            "print('holidays' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_setting_path():
    assert config.setting_path("calendar.business_hours[0].start: invalid time") == (
        "calendar", "business_hours", 0, "start")
    assert config.setting_path("sla.urgent.resolve: invalid duration") == ("sla", "urgent", "resolve")
    assert config.setting_path("the calendar has no working days") == ()


# -- overdue rows -------------------------------------------------------------------------------------

def test_overdue_rows_have_exactly_the_design_keys(store):
    ticket = put(store, "2026-11-22 10:00")
    rows = overdue(store, NOW, kinds=["response"])
    assert rows == [{"id": ticket, "kind": "response", "due": "2026-11-22T11:00:00+08:00", "overdue_minutes": 210,
                     "priority": "urgent", "status": "new", "owner": "小丽", "title": "无法登录系统"}]
    assert tuple(rows[0]) == OVERDUE_ROW == ("id", "kind", "due", "overdue_minutes", "priority", "status",
                                                  "owner", "title")


def test_due_is_written_in_the_configured_timezone(store):
    put(store, "2026-11-22 10:00")
    rows = overdue(with_settings(store, timezone="UTC"), NOW, kinds=["response"])
    assert rows[0]["due"] == "2026-11-22T03:00:00+00:00"


def test_ties_are_ordered_by_due_then_id_then_clock(store):
    first = put(store, "2026-11-22 10:00")
    second = put(store, "2026-11-22 10:00")
    assert [(r["id"], r["kind"]) for r in overdue(store, NOW)] == [
        (first, "response"), (second, "response"), (first, "update"), (first, "resolve"), (second, "update"),
        (second, "resolve")]


def test_within_takes_wall_and_business_durations_and_timedeltas(store):
    ticket = put(store, "2026-11-22 14:00", priority="important")  # response due 18:00
    assert overdue(store, NOW) == []
    assert [r["overdue_minutes"] for r in overdue(store, NOW, within=Duration(4, "h"))] == [-210]
    assert overdue(store, NOW, within=timedelta(hours=3)) == []
    # Sunday: the next business hour is Monday 09:00-10:00, long after 18:00 today
    assert [(r["id"], r["kind"]) for r in overdue(store, NOW, within=Duration(1, "bh"))] == [
        (ticket, "response")]


def test_soon_due_minutes_are_never_zero(store):
    put(store, "2026-11-22 13:30")  # response due 14:30:00
    almost = NOW - timedelta(seconds=20)
    assert [r["overdue_minutes"] for r in overdue(store, almost, within=Duration(1, "m"))] == [-1]


def test_stopped_late_clocks_are_history(store):
    put(store, "2026-11-22 10:00", ev("2026-11-22 12:00", "reply", text="正在排查"))  # response met late
    assert [r["kind"] for r in overdue(store, NOW)] == ["resolve"]


@pytest.mark.parametrize("use_cache", [True, False])
def test_a_ticket_whose_times_cannot_be_read_is_a_problem_not_a_crash(store, use_cache):
    good = put(store, "2026-11-22 10:00")
    bad = put(store, "2026-11-22 10:00", ev("2026-11-22 11:00", "reply", text="x"))
    path = next(store.root.glob(f"tickets/*/*/{bad}.yaml"))
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("'2026-11-22T11:00:00+08:00'", "'下午三点'"), encoding="utf-8")
    line = text.splitlines().index("  - at: '2026-11-22T11:00:00+08:00'") + 1
    found = ops.find_overdue(store, NOW, kinds=["response"], use_cache=use_cache)
    assert [r["id"] for r in found.rows] == [good]
    assert found.problems == [f"tickets/2026/11/{bad}.yaml:{line}: timeline.1.at: '下午三点' is not a time; "
                              "write it as '2026-11-22T14:30:00+08:00'"]


def test_filters_check_their_values(store):
    with pytest.raises(UsageError, match="unknown clock kind 'reply'"):
        overdue(store, NOW, kinds=["reply"])
    assert [ops.parse_kind(k) for k in ("认领", "Follow-up", "UPDATE", " 回访 ")] == [
        "claim", "followup", "update", "callback"]
    assert ops.parse_within(None) is None and ops.parse_within("2bh") == Duration(2, "bh")
    with pytest.raises(UsageError, match="^--within: invalid duration 'soon'"):
        ops.parse_within("soon")


def test_late_words():
    assert late_words(135, "zh") == "2小时15分"
    assert late_words(135, "en") == "2h15m"
    assert late_words(-30, "zh") == "还剩30分"
    assert late_words(-30, "en") == "30m left"
    assert late_words(0, "en") == "0m"


# -- clock lines --------------------------------------------------------------------------------------

def test_clock_lines_in_english(store):
    english = with_settings(store, language="en")
    ticket = put(store, "2026-11-20 10:00", ev("2026-11-20 10:30", "reply", text="已收到"),
                 ev("2026-11-20 11:00", "status", **{"from": "new", "to": "waiting"}), priority="normal",
                 status="waiting")
    assert lines(english, ticket) == [
        "SLA clocks:",
        "  claim     met     due 2026-11-20 12:00 Fri  done 2026-11-20 10:00 Fri",
        "  response  met     due 2026-11-21 10:00 Sat  done 2026-11-20 10:30 Fri",
        # paused since Fri 11:00: computed as if the pause ended now, 51.5 wall hours and 7 business hours later
        "  update    paused  due 2026-11-23 14:00 Mon  23h30m left",
        "  resolve   paused  due 2026-11-26 16:00 Thu  4d1h30m left",
    ]


def test_clock_lines_mark_running_clocks_due_within_warn_within(store):
    ticket = put(store, "2026-11-22 14:00", priority="urgent")
    assert lines(store, ticket)[2] == "  首次响应  计时中  截止 2026-11-22 15:00 周日  剩余 30分  即将超时"
    relaxed = with_settings(store, sla={**store.settings.sla, "warn_within": "15m"})
    assert lines(relaxed, ticket)[2] == (
        "  首次响应  计时中  截止 2026-11-22 15:00 周日  剩余 30分")


def test_clock_lines_of_a_followup(store):
    ticket = put(store, "2026-11-21 09:50", ev("2026-11-21 10:05", "reply", text="已重置"),
                 ev("2026-11-21 11:00", "status", **{"from": "new", "to": "resolved"}),
                 ev("2026-11-22 13:00", "rated", score=2), status="resolved")
    assert lines(store, ticket)[-1] == (
        "  跟进      已超时  截止 2026-11-22 13:00 周日  超时 1小时30分")


def test_no_clock_lines_before_the_ticket_was_received(store):
    ticket = put(store, "2026-11-22 16:00")
    assert lines(store, ticket) == []


def test_clock_lines_say_when_the_clocks_cannot_be_computed():
    assert clock_lines([], None, "zh", "CW202611220001: received_at: '昨天' is not a time") == [
        "服务时限 (SLA): 无法计算: CW202611220001: received_at: '昨天' is not a time"]
