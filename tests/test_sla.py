"""SLA clocks: claim, response, update, resolve, callback, followup; pauses, reopen, overdue items."""
from datetime import datetime, timedelta

import pytest

from cslog.calendar import WorkCalendar
from cslog.durations import Duration
from cslog.sla import Clock, SlaPolicy, Targets, clocks, overdue_items
from conftest import HOTLINE

CAL = WorkCalendar.from_config({}, "Asia/Shanghai")
# The hand-worked cases below count a 24-hour hotline's wall clock (test_default_policy: the business-time
# defaults, which tests/test_business_time.py works through).
POLICY = SlaPolicy.from_config(HOTLINE)
DEFAULT = SlaPolicy.from_config({})
FORMS = ("use a number followed by m, h, d (wall clock), bh (business hours) or bd (working days), "
         "e.g. 30m, 4h, 2d, 8bh, 3bd")


def iso(text: str) -> str:
    return text.replace(" ", "T") + ":00+08:00"


def at(text: str) -> datetime:
    return datetime.fromisoformat(iso(text))


def ev(when: str, kind: str, **fields) -> dict:
    return {"at": iso(when), "by": "agent", "kind": kind, **fields}


def move(when: str, frm: str, to: str, **fields) -> dict:
    return ev(when, "status", **{"from": frm, "to": to}, **fields)


def ticket(received: str, *events: dict, priority: str = "normal", type: str = "consultation",
           created: dict | None = None, **fields) -> dict:
    """A ticket received at `received`; it has an owner from the start unless owner=None is given."""
    fields.setdefault("owner", "li")
    timeline = [created or ev(received, "created", status="new"), *events]
    status = "new"
    for e in timeline:
        if e["kind"] in ("status", "escalated"):
            status = e["to"]
    return {"id": "CW202611020001", "type": type, "priority": priority, "status": status,
            "received_at": iso(received), "timeline": timeline, **fields}


def clock(t: dict, kind: str, now: str, policy: SlaPolicy = POLICY) -> Clock | None:
    return {c.kind: c for c in clocks(t, policy, CAL, at(now))}.get(kind)


def overdue(t: dict, now: str, within: timedelta | None = None, policy: SlaPolicy = POLICY) -> list[tuple[str, str]]:
    return [(c.kind, c.state) for c in overdue_items(t, policy, CAL, at(now), within)]


def check(c: Clock | None, state: str, due: str | None, stopped: str | None = None,
          late: int | None = None, left: int | None = None) -> None:
    assert c is not None
    assert (c.state, c.due, c.stopped, c.late_minutes, c.left_minutes) == (
        state, at(due) if due else None, at(stopped) if stopped else None, late, left)


# -- policy -------------------------------------------------------------------------------------------

def test_default_policy():
    """design.md 9.2: business time."""
    assert DEFAULT.urgent == Targets(Duration(1, "bh"), Duration(4, "bh"), Duration(4, "bh"))
    assert DEFAULT.important == Targets(Duration(4, "bh"), Duration(1, "bd"), Duration(2, "bd"))
    assert DEFAULT.normal == Targets(Duration(1, "bd"), Duration(1, "bd"), Duration(3, "bd"))
    assert DEFAULT.claim == Duration(2, "bh")
    assert DEFAULT.callback_after == Duration(2, "bd")
    assert DEFAULT.callback_types == {"complaint", "repair"}
    assert DEFAULT.pause_in == {"waiting"}
    assert DEFAULT.warn_within == Duration(1, "h")
    assert SlaPolicy.from_config(None) == DEFAULT


def test_partial_policy_keeps_the_other_defaults():
    policy = SlaPolicy.from_config({"urgent": {"resolve": "8BH"}, "callback": {"types": ["fault"]}})
    assert policy.urgent == Targets(Duration(1, "bh"), Duration(4, "bh"), Duration(8, "bh"))
    assert policy.callback_after == Duration(2, "bd") and policy.callback_types == {"fault"}
    assert policy.normal == DEFAULT.normal


def test_unknown_priority_gets_normal_targets():
    assert POLICY.targets("sky-high") == POLICY.normal
    assert POLICY.targets(None) == POLICY.normal


@pytest.mark.parametrize("sla, message", [
    ({"urgent": {"resolve": "4x"}}, f"sla.urgent.resolve: invalid duration '4x': {FORMS}"),
    ({"claim": 2}, f"sla.claim: invalid duration 2: {FORMS}"),
    ({"callback": {"after": "0h"}}, "sla.callback.after: invalid duration '0h': the number must be between 1 and 100000"),
    ({"warn_within": "soon"}, f"sla.warn_within: invalid duration 'soon': {FORMS}"),
    ({"urgnet": {}}, "sla: unknown key 'urgnet': use urgent, important, normal, claim, callback, pause_in, warn_within"),
    ({"normal": {"respond": "1h"}}, "sla.normal: unknown key 'respond': use response, update, resolve"),
    ({"normal": "24h"}, "sla.normal: expected keys response, update, resolve"),
    ({"pause_in": ["wait"]},
     "sla.pause_in: unknown status 'wait': use new, in_progress, waiting, escalated, resolved, closed"),
    ({"pause_in": "waiting"}, "sla.pause_in: give a list, e.g. [new]"),
    ({"callback": {"types": ["complain"]}},
     "sla.callback.types: unknown type 'complain': use consultation, complaint, suggestion, praise, fault, repair, "
     "requirement, info_change, other"),
])
def test_bad_policy(sla, message):
    with pytest.raises(ValueError) as err:
        SlaPolicy.from_config(sla)
    assert str(err.value) == message


# -- claim ---------------------------------------------------------------------------------------------

def test_claim_met():
    t = ticket("2026-11-02 10:00", ev("2026-11-02 10:30", "claimed", owner="li"), owner=None)
    check(clock(t, "claim", "2026-11-02 15:00"), "met", "2026-11-02 12:00", "2026-11-02 10:30")


def test_claim_breached_when_assigned_late():
    t = ticket("2026-11-02 10:00", ev("2026-11-02 13:00", "assigned", owner="li", department="售后"), owner=None)
    check(clock(t, "claim", "2026-11-02 15:00"), "breached", "2026-11-02 12:00", "2026-11-02 13:00", late=60)
    assert overdue(t, "2026-11-02 15:00") == []  # history, not an action


def test_claim_running_then_breached():
    t = ticket("2026-11-02 10:00", ev("2026-11-02 10:20", "assigned", department="售后"), owner=None)
    check(clock(t, "claim", "2026-11-02 11:00"), "running", "2026-11-02 12:00", left=60)
    check(clock(t, "claim", "2026-11-02 12:30"), "breached", "2026-11-02 12:00", late=30)
    assert ("claim", "breached") in overdue(t, "2026-11-02 12:30")


def test_claim_met_at_creation_when_the_owner_was_given():
    created = ev("2026-11-02 10:05", "created", status="new", owner="li")
    t = ticket("2026-11-02 10:00", created=created, owner=None)
    check(clock(t, "claim", "2026-11-02 15:00"), "met", "2026-11-02 12:00", "2026-11-02 10:05")
    # an owner field with no event that gave it: set at creation too
    t = ticket("2026-11-02 10:00", owner="li")
    check(clock(t, "claim", "2026-11-02 15:00"), "met", "2026-11-02 12:00", "2026-11-02 10:00")


# -- response ------------------------------------------------------------------------------------------

def test_response_stops_at_the_first_reply_or_status_change():
    t = ticket("2026-11-02 10:00", move("2026-11-02 10:20", "new", "in_progress"),
               ev("2026-11-02 10:40", "reply", text="在处理"), priority="urgent")
    check(clock(t, "response", "2026-11-02 12:00"), "met", "2026-11-02 11:00", "2026-11-02 10:20")
    t = ticket("2026-11-02 10:00", ev("2026-11-02 11:30", "reply", text="收到"), priority="urgent")
    check(clock(t, "response", "2026-11-02 12:00"), "breached", "2026-11-02 11:00", "2026-11-02 11:30", late=30)
    t = ticket("2026-11-02 10:00", ev("2026-11-02 10:50", "escalated", **{"from": "new", "to": "escalated"},
                                      reason="需要技术部"), priority="urgent")
    check(clock(t, "response", "2026-11-02 12:00"), "met", "2026-11-02 11:00", "2026-11-02 10:50")


def test_response_running_and_due_soon():
    t = ticket("2026-11-02 10:00", priority="urgent")
    check(clock(t, "response", "2026-11-02 10:45"), "running", "2026-11-02 11:00", left=15)
    assert overdue(t, "2026-11-02 10:45") == []
    assert ("response", "running") in overdue(t, "2026-11-02 10:45", within=timedelta(minutes=30))
    assert ("response", "running") not in overdue(t, "2026-11-02 10:45", within=timedelta(minutes=10))


def test_response_normal_ticket_uses_the_wall_clock():
    t = ticket("2026-09-30 16:00")  # 24h straight through the National Day holiday
    check(clock(t, "response", "2026-10-01 17:30"), "breached", "2026-10-01 16:00", late=90)


# -- update --------------------------------------------------------------------------------------------

def test_update_runs_from_the_last_reply():
    t = ticket("2026-11-02 10:00", ev("2026-11-02 11:00", "reply", text="a"), ev("2026-11-02 14:00", "reply", text="b"),
               ev("2026-11-02 15:00", "note", text="internal, not an update"), priority="urgent")
    check(clock(t, "update", "2026-11-02 17:00"), "running", "2026-11-02 18:00", left=60)
    check(clock(t, "update", "2026-11-02 18:30"), "breached", "2026-11-02 18:00", late=30)


def test_update_runs_from_received_without_replies():
    t = ticket("2026-11-02 10:00", move("2026-11-02 10:10", "new", "in_progress"))
    check(clock(t, "update", "2026-11-03 11:00"), "breached", "2026-11-03 10:00", late=60)
    assert overdue(t, "2026-11-03 11:00") == [("update", "breached")]


def test_update_of_a_resolved_ticket_is_the_interval_the_resolution_ended():
    replied = ev("2026-11-02 11:00", "reply", text="a")
    t = ticket("2026-11-02 10:00", replied, move("2026-11-02 14:30", "new", "resolved"), priority="urgent")
    check(clock(t, "update", "2026-11-03 12:00"), "met", "2026-11-02 15:00", "2026-11-02 14:30")
    t = ticket("2026-11-02 10:00", replied, move("2026-11-02 15:30", "new", "resolved"),
               move("2026-11-02 16:00", "resolved", "closed"), priority="urgent")
    check(clock(t, "update", "2026-11-03 12:00"), "breached", "2026-11-02 15:00", "2026-11-02 15:30", late=30)
    assert overdue(t, "2026-11-03 12:00") == []


def test_update_after_a_reopen_runs_from_the_reopen():
    t = ticket("2026-11-02 10:00", ev("2026-11-02 11:00", "reply", text="a"), move("2026-11-02 12:00", "new", "resolved"),
               move("2026-11-03 09:00", "resolved", "in_progress", reason="客户不满意"), priority="urgent")
    check(clock(t, "update", "2026-11-03 10:00"), "running", "2026-11-03 13:00", left=180)


def test_update_paused_while_waiting():
    t = ticket("2026-11-02 10:00", move("2026-11-02 10:10", "new", "in_progress"),
               move("2026-11-02 16:00", "in_progress", "waiting"))
    # 24h paused so far: the deadline 11-03 10:00 moves to 11-04 10:00, as if the customer answered now
    check(clock(t, "update", "2026-11-03 16:00"), "paused", "2026-11-04 10:00", left=18 * 60)
    assert overdue(t, "2026-11-03 16:00", within=timedelta(days=1)) == []


def test_a_pause_after_the_deadline_does_not_save_the_clock():
    t = ticket("2026-11-02 10:00", move("2026-11-03 12:00", "new", "waiting"))
    check(clock(t, "update", "2026-11-03 15:00"), "breached", "2026-11-03 10:00", late=300)
    assert ("update", "breached") in overdue(t, "2026-11-03 15:00")


# -- resolve -------------------------------------------------------------------------------------------

NATIONAL_DAY = [move("2026-09-28 10:30", "new", "in_progress"),
                move("2026-09-30 10:00", "in_progress", "waiting"),
                move("2026-10-09 10:00", "waiting", "in_progress")]


def test_resolve_3bd_paused_over_national_day():
    # Without the pause: Sep 29, Sep 30, Oct 8 -> due Oct 8 18:00. Paused business time:
    # Sep 30 10-18 (8h) + Oct 8 (9h) + Oct 9 9-10 (1h) = 18h, added to Oct 8 18:00: Oct 9 (9h), Sat Oct 10 (9h).
    t = ticket("2026-09-28 10:00", *NATIONAL_DAY)
    check(clock(t, "resolve", "2026-10-09 12:00"), "running", "2026-10-10 18:00", left=30 * 60)
    resolved = ticket("2026-09-28 10:00", *NATIONAL_DAY, move("2026-10-10 17:00", "in_progress", "resolved"))
    check(clock(resolved, "resolve", "2026-10-12 12:00"), "met", "2026-10-10 18:00", "2026-10-10 17:00")
    late = ticket("2026-09-28 10:00", *NATIONAL_DAY, move("2026-10-12 09:00", "in_progress", "resolved"))
    check(clock(late, "resolve", "2026-10-12 12:00"), "breached", "2026-10-10 18:00", "2026-10-12 09:00", late=39 * 60)


def test_resolve_3bd_without_the_pause():
    t = ticket("2026-09-28 10:00", move("2026-09-28 10:30", "new", "in_progress"),
               move("2026-10-10 17:00", "in_progress", "resolved"))
    check(clock(t, "resolve", "2026-10-12 12:00"), "breached", "2026-10-08 18:00", "2026-10-10 17:00", late=47 * 60)


def test_resolve_paused_during_the_holiday():
    t = ticket("2026-09-28 10:00", *NATIONAL_DAY[:2])
    # paused business time so far: Sep 30 10-18 = 8h; Oct 8 18:00 + 8bh = Oct 9 17:00
    check(clock(t, "resolve", "2026-10-05 10:00"), "paused", "2026-10-09 17:00", left=103 * 60)


def test_resolve_wall_clock_pause():
    t = ticket("2026-11-02 10:00", move("2026-11-02 10:05", "new", "in_progress"),
               move("2026-11-03 10:00", "in_progress", "waiting"), move("2026-11-03 22:00", "waiting", "in_progress"),
               priority="important")
    check(clock(t, "resolve", "2026-11-04 21:00"), "running", "2026-11-04 22:00", left=60)
    # no reply for 24h (plus the 12h paused): the update clock is late as well
    assert overdue(t, "2026-11-04 21:00", within=timedelta(hours=1)) == [("update", "breached"), ("resolve", "running")]
    assert overdue(t, "2026-11-04 21:00") == [("update", "breached")]


def test_resolve_business_hours_pause_over_a_make_up_sunday():
    policy = SlaPolicy.from_config({"urgent": {"resolve": "8bh"}})
    # 8bh from Fri 17:00 is Sun 16:00; paused Fri 17:30-18:00 and Sun 09:00-10:00 = 1.5bh -> Sun 17:30
    t = ticket("2026-09-18 17:00", move("2026-09-18 17:05", "new", "in_progress"),
               move("2026-09-18 17:30", "in_progress", "waiting"), move("2026-09-20 10:00", "waiting", "in_progress"),
               move("2026-09-20 17:20", "in_progress", "resolved"), priority="urgent")
    check(clock(t, "resolve", "2026-09-21 09:00", policy), "met", "2026-09-20 17:30", "2026-09-20 17:20")


def test_more_statuses_can_pause():
    policy = SlaPolicy.from_config({"pause_in": ["waiting", "escalated"]})
    t = ticket("2026-11-02 10:00", ev("2026-11-02 11:00", "escalated", **{"from": "new", "to": "escalated"},
                                      reason="x"),
               move("2026-11-02 12:00", "escalated", "waiting"), move("2026-11-02 13:00", "waiting", "in_progress"),
               priority="urgent")
    check(clock(t, "resolve", "2026-11-02 15:00", policy), "running", "2026-11-02 16:00", left=60)


def test_resolve_after_a_reopen_keeps_its_original_deadline():
    events = [move("2026-11-02 12:00", "new", "resolved"), move("2026-11-03 09:00", "resolved", "in_progress")]
    t = ticket("2026-11-02 10:00", *events[:1], priority="urgent")
    check(clock(t, "resolve", "2026-11-02 13:00"), "met", "2026-11-02 14:00", "2026-11-02 12:00")
    t = ticket("2026-11-02 10:00", *events, priority="urgent")
    check(clock(t, "resolve", "2026-11-03 10:00"), "breached", "2026-11-02 14:00", late=20 * 60)
    assert ("resolve", "breached") in overdue(t, "2026-11-03 10:00")
    t = ticket("2026-11-02 10:00", *events, move("2026-11-03 11:00", "in_progress", "resolved"), priority="urgent")
    check(clock(t, "resolve", "2026-11-03 12:00"), "breached", "2026-11-02 14:00", "2026-11-03 11:00", late=21 * 60)


def test_closing_without_resolution_stops_the_clocks():
    """Closed unresolved (a duplicate, a withdrawn request): its resolve clock is neither met nor breached."""
    t = ticket("2026-11-02 10:00", move("2026-11-02 10:30", "new", "closed", reason="重复工单"), type="complaint",
               owner=None)
    now = "2026-11-09 10:00"
    check(clock(t, "resolve", now), "skipped", "2026-11-05 18:00", "2026-11-02 10:30")
    check(clock(t, "claim", now), "met", "2026-11-02 12:00", "2026-11-02 10:30")
    assert clock(t, "callback", now) is None
    assert overdue(t, now) == []


# -- callback ------------------------------------------------------------------------------------------

RESOLVED = [move("2026-11-02 10:30", "new", "in_progress"), move("2026-11-02 12:00", "in_progress", "resolved",
                                                                  solution="换货")]


def test_callback_breached_running_and_met():
    t = ticket("2026-11-02 10:00", *RESOLVED, type="complaint")
    check(clock(t, "callback", "2026-11-03 12:00"), "running", "2026-11-04 12:00", left=24 * 60)
    check(clock(t, "callback", "2026-11-04 13:00"), "breached", "2026-11-04 12:00", late=60)
    assert overdue(t, "2026-11-04 13:00") == [("callback", "breached")]
    t = ticket("2026-11-02 10:00", *RESOLVED, ev("2026-11-03 10:00", "callback", result="已解决", solved=True),
               type="repair")
    check(clock(t, "callback", "2026-11-05 13:00"), "met", "2026-11-04 12:00", "2026-11-03 10:00")


def test_closing_stops_the_callback_clock_but_never_meets_it():
    """A closed ticket is archived: a callback not made by then is never listed by overdue again. Only a
    callback meets the clock (design.md 9.2): a close after the due breached it; one before it that says why
    no callback is made (skip_callback) leaves it not counted, one that does not (a hand edit) breaches it
    with no minutes late; a skip after the due does not undo the breach."""
    late = ticket("2026-11-02 10:00", *RESOLVED, move("2026-11-05 09:00", "resolved", "closed"), type="complaint")
    check(clock(late, "callback", "2026-11-20 10:00"), "breached", "2026-11-04 12:00", "2026-11-05 09:00",
          late=21 * 60)
    assert overdue(late, "2026-11-20 10:00") == []
    early = ticket("2026-11-02 10:00", *RESOLVED, move("2026-11-03 09:00", "resolved", "closed"), type="complaint")
    check(clock(early, "callback", "2026-11-20 10:00"), "breached", "2026-11-04 12:00", "2026-11-03 09:00")
    assert overdue(early, "2026-11-20 10:00") == []
    skipped = ticket("2026-11-02 10:00", *RESOLVED, move("2026-11-03 09:00", "resolved", "closed",
                                                         skip_callback=True, reason="客户拒绝回访"), type="complaint")
    check(clock(skipped, "callback", "2026-11-20 10:00"), "skipped", "2026-11-04 12:00", "2026-11-03 09:00")
    too_late = ticket("2026-11-02 10:00", *RESOLVED, move("2026-11-05 09:00", "resolved", "closed",
                                                          skip_callback=True, reason="客户拒绝回访"), type="complaint")
    check(clock(too_late, "callback", "2026-11-20 10:00"), "breached", "2026-11-04 12:00", "2026-11-05 09:00",
          late=21 * 60)


def test_callback_only_for_configured_types_and_resolved_tickets():
    assert clock(ticket("2026-11-02 10:00", *RESOLVED), "callback", "2026-11-05 13:00") is None
    assert clock(ticket("2026-11-02 10:00", *RESOLVED[:1], type="repair"), "callback", "2026-11-05 13:00") is None
    policy = SlaPolicy.from_config({"callback": {"types": ["consultation"], "after": "1bd"}})
    check(clock(ticket("2026-11-02 10:00", *RESOLVED), "callback", "2026-11-03 10:00", policy),
          "running", "2026-11-03 18:00", left=480)


def test_callback_counts_from_the_latest_resolution():
    t = ticket("2026-11-02 10:00", *RESOLVED, ev("2026-11-02 15:00", "callback", result="还是坏的", solved=False),
               move("2026-11-02 16:00", "resolved", "in_progress", reason="回访未解决"),
               move("2026-11-03 10:00", "in_progress", "resolved", solution="上门维修"), type="repair")
    check(clock(t, "callback", "2026-11-03 11:00"), "running", "2026-11-05 10:00", left=47 * 60)
    assert clock(t, "followup", "2026-11-03 11:00") is None  # the reopen acted on the unsolved callback


def test_callbacks_field_stands_in_for_missing_events():
    t = ticket("2026-11-02 10:00", *RESOLVED, type="complaint",
               callbacks=[{"at": iso("2026-11-03 09:00"), "result": "满意", "solved": True}])
    check(clock(t, "callback", "2026-11-05 13:00"), "met", "2026-11-04 12:00", "2026-11-03 09:00")


# -- followup ------------------------------------------------------------------------------------------

def test_followup_after_a_low_rating():
    t = ticket("2026-11-02 10:00", *RESOLVED, ev("2026-11-02 13:00", "rated", score=1, comment="太慢"))
    check(clock(t, "followup", "2026-11-02 14:30"), "breached", "2026-11-02 13:00", late=90)
    assert overdue(t, "2026-11-02 14:30") == [("followup", "breached")]


def test_followup_ends_with_the_next_status_change_or_a_better_score():
    rated = ev("2026-11-02 13:00", "rated", score=2)
    assert clock(ticket("2026-11-02 10:00", *RESOLVED, rated, move("2026-11-02 15:00", "resolved", "closed")),
                 "followup", "2026-11-03 10:00") is None
    assert clock(ticket("2026-11-02 10:00", *RESOLVED, rated, ev("2026-11-02 16:00", "rated", score=5)),
                 "followup", "2026-11-03 10:00") is None
    # a low score given while the ticket was still open is acted on by resolving it
    assert clock(ticket("2026-11-02 10:00", RESOLVED[0], ev("2026-11-02 11:00", "rated", score=1), RESOLVED[1]),
                 "followup", "2026-11-03 10:00") is None


def test_followup_after_an_unsolved_callback():
    t = ticket("2026-11-02 10:00", *RESOLVED, move("2026-11-02 13:00", "resolved", "closed"),
               ev("2026-11-03 10:00", "callback", result="问题依旧", solved=False), type="repair")
    check(clock(t, "followup", "2026-11-03 10:00"), "breached", "2026-11-03 10:00", late=0)
    check(clock(t, "callback", "2026-11-03 10:00"), "met", "2026-11-04 12:00", "2026-11-03 10:00")
    assert overdue(t, "2026-11-03 12:00") == [("followup", "breached")]
    solved_but_unhappy = ticket("2026-11-02 10:00", *RESOLVED,
                                ev("2026-11-03 10:00", "callback", result="修好了但很慢", solved=True, score=2))
    check(clock(solved_but_unhappy, "followup", "2026-11-03 11:00"), "breached", "2026-11-03 10:00", late=60)


def test_followup_from_the_satisfaction_field():
    t = ticket("2026-11-02 10:00", *RESOLVED, satisfaction={"score": 2, "at": iso("2026-11-02 13:00")})
    check(clock(t, "followup", "2026-11-02 14:00"), "breached", "2026-11-02 13:00", late=60)
    t = ticket("2026-11-02 10:00", *RESOLVED, satisfaction={"score": 1})  # no time: taken as the last event's
    check(clock(t, "followup", "2026-11-02 14:00"), "breached", "2026-11-02 12:00", late=120)
    t = ticket("2026-11-02 10:00", *RESOLVED, satisfaction={"score": 4})
    assert clock(t, "followup", "2026-11-02 14:00") is None


# -- reading tickets -----------------------------------------------------------------------------------

def test_clock_order_and_timezone():
    t = ticket("2026-11-02 10:00", *RESOLVED, ev("2026-11-02 13:00", "rated", score=1), type="complaint")
    found = clocks(t, POLICY, CAL, at("2026-11-02 14:00"))
    assert [c.kind for c in found] == ["claim", "response", "update", "resolve", "callback", "followup"]
    assert found[3].due.isoformat() == "2026-11-05T18:00:00+08:00"
    utc_now = datetime.fromisoformat("2026-11-02T06:00:00+00:00")
    assert clocks(t, POLICY, CAL, utc_now) == found
    with pytest.raises(AttributeError):
        found[0].state = "met"  # type: ignore[misc]


def test_timeline_is_sorted_and_events_after_now_are_ignored():
    events = [move("2026-11-02 12:00", "in_progress", "resolved"), move("2026-11-02 10:30", "new", "in_progress")]
    t = ticket("2026-11-02 10:00", *events, priority="urgent")
    check(clock(t, "resolve", "2026-11-02 13:00"), "met", "2026-11-02 14:00", "2026-11-02 12:00")
    check(clock(t, "resolve", "2026-11-02 11:00"), "running", "2026-11-02 14:00", left=180)  # as it stood then
    assert clocks(t, POLICY, CAL, at("2026-11-02 09:00")) == []  # not received yet


def test_imported_record_without_status_events():
    t = {"id": "CW202611020009", "type": "consultation", "priority": "normal", "status": "resolved",
         "received_at": "2026-11-02T10:00:00+08:00",
         "timeline": [ev("2026-11-02 10:00", "created", status="new"), ev("2026-11-03 15:00", "note", text="导入")]}
    check(clock(t, "resolve", "2026-11-09 10:00"), "met", "2026-11-05 18:00", "2026-11-03 15:00")


@pytest.mark.parametrize("change, message", [
    ({"received_at": None}, "CW202611020001: received_at is missing"),
    ({"received_at": "soon"}, "CW202611020001: received_at: 'soon' is not a time; write it as '2026-11-22T14:30:00+08:00'"),
    ({"timeline": [{"at": "yesterday", "by": "a", "kind": "created"}]},
     "CW202611020001: timeline[0].at: 'yesterday' is not a time; write it as '2026-11-22T14:30:00+08:00'"),
    ({"received_at": "2026-02-30T10:00"}, "CW202611020001: received_at: '2026-02-30T10:00' is not a real moment (no "
                                          "such day or hour)"),
])
def test_unreadable_tickets(change, message):
    with pytest.raises(ValueError) as err:
        clocks({**ticket("2026-11-02 10:00"), **change}, POLICY, CAL, at("2026-11-03 10:00"))
    assert str(err.value) == message


def test_now_must_be_aware():
    with pytest.raises(ValueError, match="'now' must carry a timezone"):
        clocks(ticket("2026-11-02 10:00"), POLICY, CAL, datetime(2026, 11, 3, 10, 0))


def test_hand_written_timestamps_load():
    t = ticket("2026-11-02 10:00", move("2026-11-02 12:00", "new", "resolved"), priority="urgent")
    t["received_at"] = datetime(2026, 11, 2, 10, 0)  # an unquoted YAML timestamp without offset: local time
    t["timeline"][1]["at"] = "2026-11-02 12:00"
    check(clock(t, "resolve", "2026-11-02 13:00"), "met", "2026-11-02 14:00", "2026-11-02 12:00")
