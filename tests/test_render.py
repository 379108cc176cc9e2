"""render: tables line up Chinese text as tabulate's "simple" format does; JSON rows one per line."""
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from cslog import render

TEXT = st.text(alphabet="ab Z09-.中文工单客诉：（）…", max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 4).flatmap(lambda n: st.tuples(
    st.lists(TEXT.filter(lambda t: t.strip()), min_size=n, max_size=n),
    st.lists(st.lists(TEXT, min_size=n, max_size=n), max_size=5),
    st.lists(st.sampled_from(["left", "right"]), min_size=n, max_size=n))))
def test_grid_is_tabulates_simple_format(case):
    import tabulate

    heads, body, aligns = case
    tabulate.WIDE_CHARS_MODE = True
    expected = tabulate.tabulate(body, headers=heads, tablefmt="simple", disable_numparse=True, colalign=aligns)
    assert render.grid(body, heads, aligns) == expected


def test_text_width_counts_chinese_twice():
    assert render.text_width("工单 A1") == 7
    assert render.clip("客户投诉处理进度跟进", 9) == "客户投诉…"


def test_rows_are_one_json_object_a_line():
    rows = [{"id": "T1", "tags": ["a"], "title": "中文"}, {"id": "T2", "tags": [], "title": None}]
    text = render.to_json(rows)
    assert text.splitlines()[1] == '  {"id": "T1", "tags": ["a"], "title": "中文"},'
    assert json.loads(text) == rows
    assert render.to_json([]) == "[]"
    assert json.loads(render.to_json({"a": [rows]})) == {"a": [rows]}
