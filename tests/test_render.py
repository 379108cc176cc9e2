"""render.text: tables line up Chinese text (tabulate with wcwidth); JSON rows one per line."""
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from cslog.render.text import clip, table, text_width, to_json

TEXT = st.text(alphabet="ab Z09-.中文工单客诉：（）…", min_size=1, max_size=12).filter(lambda t: t.strip())


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 4).flatmap(lambda n: st.tuples(
    st.lists(TEXT, min_size=n, max_size=n), st.lists(st.lists(TEXT, min_size=n, max_size=n), min_size=1, max_size=5))))
def test_columns_line_up_by_terminal_width(case):
    heads, body = case
    lines = table(body, heads).splitlines()
    rule = lines[1]
    starts = [i for i, ch in enumerate(rule) if ch == "-" and (i == 0 or rule[i - 1] == " ")]
    assert len(starts) == len(heads)
    for line, cells in zip([lines[0]] + lines[2:], [heads] + body):
        for start, text in zip(starts, cells):  # each cell begins where its column does, counted in columns
            prefix = line[:len(line)]
            width = 0
            for i, ch in enumerate(prefix):
                if width == start:
                    assert prefix[i:].startswith(text.strip())
                    break
                width += text_width(ch)


def test_no_rows_no_table():
    assert table([], ["编号"]) == ""


def test_text_width_counts_chinese_twice():
    assert text_width("工单 A1") == 7
    assert clip("客户投诉处理进度跟进", 9) == "客户投诉…"


def test_rows_are_one_json_object_a_line():
    rows = [{"id": "T1", "tags": ["a"], "title": "中文"}, {"id": "T2", "tags": [], "title": None}]
    text = to_json(rows)
    assert text.splitlines()[1] == '  {"id": "T1", "tags": ["a"], "title": "中文"},'
    assert json.loads(text) == rows
    assert to_json([]) == "[]"
    assert json.loads(to_json({"a": [rows]})) == {"a": [rows]}
