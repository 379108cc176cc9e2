"""The three-way merge of one record: the rules cslog sync and the merge driver rely on."""
from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cslog import schemas
from cslog.sync.merge import MERGE_AGENT, NotSameRecord, Unmergeable, merge_records, merge_texts, same_record
from cslog.schemas import key_order, modeline
from cslog.yamlio import load_text, render


def at(hour: int, minute: int = 0) -> str:
    return f"2026-11-22T{hour:02d}:{minute:02d}:00+08:00"


CREATED = {"at": at(9), "by": "小明", "kind": "created", "status": "new"}
BASE = {
    "id": "CW202611220001", "title": "无法登录系统", "type": "fault", "priority": "urgent", "status": "new",
    "channel": "phone", "customer": "C0001", "customer_name": "A公司", "received_at": at(9),
    "description": "提示账号异常", "tags": ["登录"], "timeline": [CREATED],
}


def side(**changes) -> dict:
    doc = copy.deepcopy(BASE)
    events = changes.pop("events", [])
    doc.update(changes)
    doc["timeline"] = doc["timeline"] + events
    return doc


def status_event(hour: int, to: str, by: str = "小明", frm: str = "new", minute: int = 0) -> dict:
    return {"at": at(hour, minute), "by": by, "kind": "status", "from": frm, "to": to}


def note_event(hour: int, text: str, by: str = "小红", minute: int = 0) -> dict:
    return {"at": at(hour, minute), "by": by, "kind": "note", "text": text}


def test_a_field_one_side_changed_takes_that_side():
    ours = side(status="in_progress", events=[status_event(10, "in_progress")])
    theirs = side(title="无法登录 APP")
    merged = merge_records("ticket", BASE, ours, theirs)
    assert merged.doc["status"] == "in_progress"
    assert merged.doc["title"] == "无法登录 APP"
    assert merged.notes == []


def test_both_sides_the_same_change_is_no_conflict():
    ours = side(priority="normal")
    assert merge_records("ticket", BASE, ours, copy.deepcopy(ours)).doc == ours


def test_timelines_are_united_by_time():
    ours = side(status="in_progress", events=[status_event(10, "in_progress"), note_event(12, "ours")])
    theirs = side(events=[note_event(11, "theirs")])
    timeline = merge_records("ticket", BASE, ours, theirs).doc["timeline"]
    assert [e.get("text") or e["kind"] for e in timeline] == ["created", "status", "theirs", "ours"]


def test_an_event_both_sides_hold_appears_once():
    shared = note_event(10, "both pulled this")
    ours = side(events=[shared, note_event(11, "a")])
    theirs = side(events=[shared, note_event(11, "b")])
    timeline = merge_records("ticket", BASE, ours, theirs).doc["timeline"]
    assert timeline.count(shared) == 1
    assert [e.get("text") for e in timeline[1:]] == ["both pulled this", "a", "b"]  # equal times: ours first


def test_times_with_different_offsets_order_by_instant():
    ours = side(events=[{"at": "2026-11-22T03:30:00+00:00", "by": "a", "kind": "note", "text": "11:30 Beijing"}])
    theirs = side(events=[note_event(11, "11:00 Beijing")])
    timeline = merge_records("ticket", BASE, ours, theirs).doc["timeline"]
    assert [e.get("text") for e in timeline[1:]] == ["11:00 Beijing", "11:30 Beijing"]


def test_status_changed_on_both_sides_the_later_event_wins_and_the_loser_is_noted():
    ours = side(status="resolved", solution="重置账号", events=[status_event(11, "resolved")])
    theirs = side(status="waiting", events=[status_event(10, "waiting", by="小红")])
    merged = merge_records("ticket", BASE, ours, theirs)
    assert merged.doc["status"] == "resolved"
    assert merged.doc["solution"] == "重置账号"
    assert merged.notes == ["kept status resolved; the other clone had waiting"]
    timeline = merged.doc["timeline"]
    note = {"at": at(11), "by": MERGE_AGENT, "kind": "note",
            "text": "merge: kept status resolved; the other clone had waiting"}
    # the note sits just before the event that decided, so the last event is still a person's
    assert timeline[-2:] == [note, status_event(11, "resolved")]
    # the current state agrees with the last status event
    last = [e for e in timeline if e["kind"] == "status"][-1]
    assert last["to"] == merged.doc["status"]


def test_the_decision_does_not_depend_on_which_side_is_ours():
    a = side(status="resolved", solution="重置账号", events=[status_event(11, "resolved")])
    b = side(status="waiting", events=[status_event(10, "waiting", by="小红")])
    assert merge_records("ticket", BASE, a, b).doc == merge_records("ticket", BASE, b, a).doc


def test_owner_goes_to_the_later_assignment():
    ours = side(owner="小李", events=[{"at": at(10), "by": "主管", "kind": "assigned", "owner": "小李"}])
    theirs = side(owner="小王", events=[{"at": at(10, 5), "by": "主管", "kind": "claimed", "owner": "小王"}])
    merged = merge_records("ticket", BASE, ours, theirs)
    assert merged.doc["owner"] == "小王"
    assert merged.notes == ["kept owner 小王; the other clone had 小李"]


def test_a_field_no_event_explains_goes_to_theirs():
    ours = side(title="登录失败(我们)")
    theirs = side(title="登录失败(他们)")
    merged = merge_records("ticket", BASE, ours, theirs)
    assert merged.doc["title"] == "登录失败(他们)"
    assert merged.notes == ["kept title 登录失败(他们); the other clone had 登录失败(我们)"]
    assert any(e["by"] == MERGE_AGENT and "登录失败(我们)" in e["text"] for e in merged.doc["timeline"])
    assert merged.doc["timeline"][-1]["by"] != MERGE_AGENT


def test_lists_are_united_and_removals_kept():
    base = side(tags=["登录", "旧"], related=["CW202611210001"])
    ours = side(tags=["登录", "新"], related=["CW202611210001", "CW202611220002"])
    theirs = side(tags=["登录", "旧", "VIP"], related=["CW202611210001", "CW202611220003"])
    merged = merge_records("ticket", base, ours, theirs).doc
    assert merged["tags"] == ["登录", "新", "VIP"]  # 旧 was removed by ours
    assert merged["related"] == ["CW202611210001", "CW202611220002", "CW202611220003"]


def test_callbacks_are_united_by_time():
    first = {"at": at(15), "by": "a", "result": "已恢复", "solved": True}
    second = {"at": at(14), "by": "b", "result": "客户未接", "solved": False}
    merged = merge_records("ticket", BASE, side(callbacks=[first]), side(callbacks=[second])).doc
    assert merged["callbacks"] == [second, first]


def test_satisfaction_is_one_rating_never_a_mix():
    rated_a = {"at": at(16), "by": "a", "kind": "rated", "score": 2, "comment": "太慢"}
    rated_b = {"at": at(17), "by": "b", "kind": "rated", "score": 5}
    ours = side(satisfaction={"score": 2, "comment": "太慢", "at": at(16)}, events=[rated_a])
    theirs = side(satisfaction={"score": 5, "at": at(17)}, events=[rated_b])
    merged = merge_records("ticket", BASE, ours, theirs).doc
    assert merged["satisfaction"] == {"score": 5, "at": at(17)}


def test_a_contacts_nested_fields_merge_field_by_field():
    base = {"id": "GT202611220001", "customer": "C0001", "channel": "phone", "request": "换货",
            "started_at": at(9), "emotion": {"before": "anxious"}}
    ours = {**base, "emotion": {"before": "anxious", "after": "calm"}}
    theirs = {**base, "emotion": {"before": "agitated"}, "agreed": ["三天内寄出"]}
    merged = merge_records("contact", base, ours, theirs)
    assert merged.doc["emotion"] == {"before": "agitated", "after": "calm"}
    assert merged.doc["agreed"] == ["三天内寄出"]
    assert merged.notes == []


def test_contact_conflict_is_reported_without_a_timeline():
    base = {"id": "GT202611220001", "customer": "C0001", "channel": "phone", "request": "换货", "started_at": at(9)}
    merged = merge_records("contact", base, {**base, "details": "A"}, {**base, "details": "B"})
    assert merged.doc["details"] == "B"
    assert merged.notes == ["kept details B; the other clone had A"]
    assert "timeline" not in merged.doc


def test_a_field_removed_on_one_side_and_kept_on_the_other():
    base = side(category="技术故障")
    ours = side()
    ours.pop("category", None)
    merged = merge_records("ticket", base, ours, side(category="技术故障", events=[note_event(10, "x")])).doc
    assert "category" not in merged


def test_two_different_records_under_one_id_are_not_merged():
    ours = side(title="A的单")
    theirs = side(title="B的单", timeline=[{**CREATED, "by": "小红", "at": at(9, 5)}])
    with pytest.raises(NotSameRecord):
        merge_records("ticket", None, ours, theirs)
    assert not same_record("ticket", ours, theirs)


def test_records_born_the_same_second_by_the_same_agent_are_still_two():
    ours = side(description="退款未到账")
    theirs = side(description="发票开错")
    assert not same_record("ticket", ours, theirs)
    with pytest.raises(NotSameRecord):
        merge_records("ticket", None, ours, theirs)


def test_two_customers_of_one_name_are_one_only_with_the_same_contacts():
    wang = {"id": "C0002", "name": "王先生", "type": "individual", "contacts": [{"phone": "13800000001"}]}
    other = {**wang, "contacts": [{"phone": "13900000002"}]}
    assert same_record("customer", wang, copy.deepcopy(wang))
    assert not same_record("customer", wang, other)


def test_one_record_created_on_both_sides_is_merged():
    ours = side(events=[note_event(10, "a")])
    theirs = side(events=[note_event(11, "b")])
    merged = merge_records("ticket", None, ours, theirs).doc
    assert [e.get("text") for e in merged["timeline"]] == [None, "a", "b"]


def _text(doc: dict, kind: str = "ticket") -> str:
    return render(doc, key_order(kind), modeline(kind))


def test_merged_text_is_canonical_valid_and_keeps_ours_lines():
    ours = side(status="in_progress", owner="小明", events=[status_event(10, "in_progress")])
    theirs = side(status="waiting",
                  events=[status_event(11, "waiting", by="小红"), note_event(12, "等客户回电")])
    result = merge_texts("ticket", _text(BASE), _text(ours), _text(theirs))
    assert result.text == _text(result.doc)  # canonical: what cslog itself would write
    assert schemas.validate(load_text(result.text), "ticket") == []
    assert result.text.startswith(_text(ours).split("status:")[0])  # unchanged lines kept
    assert "<<<<<<<" not in result.text


def test_unchanged_inputs_give_ours_byte_for_byte():
    text = _text(side(status="in_progress", events=[status_event(10, "in_progress")]))
    assert merge_texts("ticket", _text(BASE), text, _text(BASE)).text == text


def test_a_version_that_is_not_yaml_cannot_be_merged():
    with pytest.raises(Unmergeable):
        merge_texts("ticket", _text(BASE), _text(BASE), "id: [unclosed\n")
    with pytest.raises(Unmergeable):
        merge_texts("ticket", _text(BASE), _text(BASE), "- a list\n")


# --- property-style: whatever each side appends, every event survives once, in time order ---------

EVENTS = st.builds(
    lambda hour, minute, by, text: note_event(hour, text, by=by, minute=minute),
    st.integers(9, 20), st.integers(0, 59), st.sampled_from(["小明", "小红", "小李"]),
    st.text(alphabet="登录退款物流ab", min_size=1, max_size=4))


def _key(event: dict) -> str:
    return json.dumps(event, sort_keys=True, ensure_ascii=False)


def _events(max_size: int):
    return st.lists(EVENTS, max_size=max_size, unique_by=_key)


@settings(max_examples=150, deadline=None)
@given(common=_events(3), mine=_events(5), others=_events(5))
def test_every_event_survives_once_in_time_order(common, mine, others):
    # an event may be on both sides (both pulled it from a third clone), never twice on one side
    mine = [e for e in mine if e not in common]
    others = [e for e in others if e not in common]
    base = side()
    ours = side(events=sorted(common + mine, key=lambda e: e["at"]))  # each clone appends as time goes
    theirs = side(events=sorted(common + others, key=lambda e: e["at"]))
    timeline = merge_records("ticket", base, ours, theirs).doc["timeline"]
    keys = [_key(e) for e in timeline]
    assert set(keys) == {_key(e) for e in [CREATED, *common, *mine, *others]}
    assert len(keys) == len(set(keys))
    moments = [e["at"] for e in timeline]
    assert moments == sorted(moments)
    assert schemas.validate(merge_records("ticket", base, ours, theirs).doc, "ticket") == []


@settings(max_examples=100, deadline=None)
@given(mine=st.lists(EVENTS, max_size=4), others=st.lists(EVENTS, max_size=4),
       title=st.sampled_from(["甲", "乙"]), status=st.sampled_from(["new", "in_progress", "waiting"]))
def test_merging_with_an_unchanged_side_is_the_other_side(mine, others, title, status):
    changed = side(title=title, status=status, events=mine)
    assert merge_records("ticket", BASE, changed, copy.deepcopy(BASE)).doc == changed
    assert merge_records("ticket", BASE, copy.deepcopy(BASE), changed).doc == changed
    assert merge_records("ticket", BASE, changed, copy.deepcopy(changed)).doc == changed


STATUS_EVENTS = st.builds(
    lambda hour, minute, to, by: status_event(hour, to, by=by, minute=minute),
    st.integers(9, 20), st.integers(0, 59), st.sampled_from(["in_progress", "waiting", "escalated", "resolved"]),
    st.sampled_from(["小明", "小红"]))


@settings(max_examples=150, deadline=None)
@given(mine=st.lists(STATUS_EVENTS, min_size=1, max_size=4, unique_by=lambda e: e["at"]),
       others=st.lists(STATUS_EVENTS, min_size=1, max_size=4, unique_by=lambda e: e["at"]))
def test_the_status_always_agrees_with_the_last_status_event(mine, others):
    mine, others = sorted(mine, key=lambda e: e["at"]), sorted(others, key=lambda e: e["at"])
    ours = side(status=mine[-1]["to"], events=mine)
    theirs = side(status=others[-1]["to"], events=others)
    merged = merge_records("ticket", BASE, ours, theirs).doc
    moves = [e for e in merged["timeline"] if e["kind"] == "status"]
    assert merged["status"] == moves[-1]["to"]
    assert merged["timeline"][-1]["by"] != MERGE_AGENT
