"""Fuzzing: random YAML, bytes, Unicode and argument lists never make cslog crash.

A crash is a traceback or cslog's "internal error" (exit 3); bad input must give exit 2 and a message,
and one bad file must never hide the good ones. CSLOG_FUZZ_EXAMPLES=500 runs a longer search.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import TICKET, Cli

from cslog import checks
from cslog.store import Store
from cslog.yamlio import YamlSyntaxError, load_text

EXAMPLES = int(os.environ.get("CSLOG_FUZZ_EXAMPLES", "0"))
FUZZ = settings(deadline=None, database=None, derandomize=not EXAMPLES, print_blob=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])  # examples share one repository on purpose


def examples(n: int) -> settings:
    return settings(FUZZ, max_examples=EXAMPLES or n)


def sane(result, allowed=(0, 1, 2)) -> None:
    """No traceback, no internal error, an expected exit code, and a message with every refusal."""
    output = result.output
    assert "Traceback" not in output, output
    assert "internal error" not in result.stderr, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in allowed, (result.exit_code, output)
    if result.exit_code == 2:
        assert result.stderr.strip(), "a refusal must say why"


# --- values ----------------------------------------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
                    st.text(max_size=30),
                    st.sampled_from(["", "new", "resolved", "closed", "urgent", "紧急", "complaint", "C0001",
                                     "CW202611220001", "2026-11-22", "2026-11-22T14:30:00+08:00", "2026-13-45",
                                     "2026-11-22 25:00", "0000-00-00", "9999-12-31T23:59:59+14:00", "4h", "3bd",
                                     "-1h", "nan", "11010519491231002X"]))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.text(max_size=8), st.sampled_from(
        ["at", "by", "kind", "to", "from", "score", "status", "owner", "text", "percent", "solved", "result"])),
        inner, max_size=4)), max_leaves=12)

TICKET_DOC = {
    "id": "CW202611220009", "title": "无法登录", "type": "fault", "priority": "urgent", "status": "in_progress",
    "channel": "phone", "customer": "C0001", "customer_name": "A公司", "received_at": "2026-11-22T09:00:00+08:00",
    "description": "提示账号异常", "owner": "小明",
    "satisfaction": {"score": 4, "at": "2026-11-22T12:00:00+08:00"},
    "callbacks": [{"at": "2026-11-22T13:00:00+08:00", "result": "已解决", "solved": True}],
    "timeline": [{"at": "2026-11-22T09:00:00+08:00", "by": "小明", "kind": "created", "status": "new"},
                 {"at": "2026-11-22T09:30:00+08:00", "by": "小明", "kind": "status", "from": "new",
                  "to": "in_progress"},
                 {"at": "2026-11-22T10:00:00+08:00", "by": "小明", "kind": "reply", "text": "在查"}],
}
EVENT_KEYS = ["at", "by", "kind", "status", "from", "to", "owner", "text", "percent", "score", "solved", "result"]


@st.composite
def mutated_tickets(draw) -> dict:
    """A valid ticket with some fields (top-level or in the timeline) replaced by random values."""
    doc = json.loads(json.dumps(TICKET_DOC))
    for key in draw(st.lists(st.sampled_from(sorted(TICKET_DOC) + ["related", "contacts", "tags", "x"]),
                             max_size=4)):
        doc[key] = draw(json_values)
    if isinstance(doc.get("timeline"), list) and doc["timeline"] and draw(st.booleans()):
        event = draw(st.sampled_from([e for e in doc["timeline"] if isinstance(e, dict)] or [{}]))
        event[draw(st.sampled_from(EVENT_KEYS))] = draw(json_values)
    if draw(st.booleans()):
        doc["timeline"] = (doc.get("timeline") if isinstance(doc.get("timeline"), list) else []) + [
            draw(st.dictionaries(st.sampled_from(EVENT_KEYS), json_values, max_size=5))]
    return doc


yaml_tokens = st.sampled_from([
    "id: ", "title: ", "timeline:", "- ", "  ", "    ", ": ", "\n", "&a ", "*a", "!!str ", "!!int ", "!!binary ",
    "!!set ", "!!python/object:os.system ", "!foo ", "|", ">", "'", '"', "{", "}", "[", "]", ",", "? ", "#", "---",
    "...", "%YAML 1.1\n", "<<: *a", "~", "null", "true", "0x1F", "1e999", ".nan", "2026-11-22", "\t", "\ufeff",
    "\x00", "\x85", "\u2028", "CW202611220001", "紧急"])
yaml_like = st.lists(st.one_of(yaml_tokens, st.text(max_size=5)), max_size=30).map("".join)


# --- the loader ------------------------------------------------------------------------------------------

@examples(300)
@given(st.one_of(st.text(), yaml_like))
def test_loader_returns_json_data_or_a_yaml_error(text):
    try:
        data = load_text(text)
    except YamlSyntaxError as exc:
        assert str(exc)
        assert exc.line is None or exc.line >= 1
        return
    json.dumps(data, ensure_ascii=False)  # every value a command meets can be printed as JSON


@pytest.fixture
def store(repo) -> Store:
    return Store.open(repo)


@examples(150)
@given(raw=st.one_of(st.binary(max_size=300), yaml_like.map(lambda t: t.encode("utf-8", "surrogatepass")),
                     st.builds(lambda d: yaml.safe_dump(d, allow_unicode=True).encode("utf-8"), mutated_tickets())))
def test_the_gate_and_the_checks_never_raise(store, raw):
    path = store.root / "tickets" / "2026" / "11" / "CW202611220009.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    item, problems = checks.check_file(store, "ticket", path)
    assert (item.doc is None) == bool(item.problems)  # a record passes the gate, or it says why not
    for problem in problems:
        assert problem.path == "tickets/2026/11/CW202611220009.yaml" and problem.message


# --- the commands on a bad file --------------------------------------------------------------------------

@pytest.fixture
def desk(cli, customer, ticket) -> Cli:
    return cli


def run_readers(cli: Cli, bad_id: str, good_id: str, tmp: Path) -> None:
    """Every command that reads a bad record: no crash; and the good records still listed."""
    listed = cli("list", "--format", "json")
    sane(listed, (0,))
    assert good_id in [r["id"] for r in json.loads(listed.stdout)]
    sane(cli("check"), (0, 1))
    sane(cli("check", "--format", "json"), (0, 1))
    for fmt in ("text", "json", "yaml"):
        sane(cli("show", bad_id, "--format", fmt))
    sane(cli("overdue", "--format", "json"), (0, 1))
    sane(cli("overdue"), (0, 1))
    sane(cli("report", "--month", "2026-11", "--format", "json"))
    sane(cli("export", "--month", "2026-11", "-o", tmp / "x.xlsx"))
    sane(cli("list", "--open", "--since", "2026-11-01", "--status", "处理中", "--format", "csv"), (0,))


def run_writers(cli: Cli, bad_id: str, good_id: str) -> None:
    for args in (["status", bad_id, "resolved", "--solution", "好了", "--category", "x"], ["note", bad_id, "进展"],
                 ["assign", bad_id, "小丽"], ["rate", bad_id, "5"], ["callback", bad_id, "--result", "好"],
                 ["link", good_id, bad_id], ["reply", bad_id, "在查"], ["claim", bad_id], ["history", bad_id]):
        sane(cli(*args))


def test_commands_survive_a_random_ticket_document(desk, repo, ticket, tmp_path):
    path = repo / "tickets" / "2026" / "11" / "CW202611220009.yaml"

    @examples(12)
    @given(doc=mutated_tickets())
    def bad_document(doc):
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
        run_readers(desk, "CW202611220009", ticket, tmp_path)
        run_writers(desk, "CW202611220009", ticket)

    bad_document()


def test_commands_survive_random_bytes_in_a_record_file(desk, repo, ticket, tmp_path):
    path = repo / "tickets" / "2026" / "11" / "CW202611220009.yaml"

    @examples(8)
    @given(raw=st.one_of(st.binary(max_size=200), yaml_like.map(lambda t: t.encode("utf-8", "surrogatepass"))))
    def bad_bytes(raw):
        path.write_bytes(raw)
        run_readers(desk, "CW202611220009", ticket, tmp_path)
        sane(desk("note", "CW202611220009", "进展"))

    bad_bytes()


# --- random arguments ------------------------------------------------------------------------------------

COMMANDS = ["new", "show", "list", "check", "status", "assign", "claim", "reply", "note", "escalate", "review",
            "rate", "callback", "link", "history", "overdue", "report", "import"]
TOKENS = ["ticket", "contact", "customer", "tickets", "CW202611220001", "C0001", "GT202611220001", "--customer",
          "--type", "--priority", "--channel", "--title", "--description", "--name", "--id", "--status", "--format",
          "json", "csv", "table", "yaml", "--since", "--until", "--at", "--within", "--kind", "--owner", "--month",
          "--quarter", "--from", "--solution", "--reason", "--percent", "--score", "--result", "--solved",
          "--not-solved", "--comment", "--approve", "--return", "--to", "--open", "--request", "--open-ticket",
          "--received-at", "--dry-run", "--mapping", "--allow-pii", "--tag", "in_progress", "resolved", "closed",
          "紧急", "一般", "投诉", "故障", "phone", "电话", "5", "0", "-1", "101", "2026-11", "2026-Q4", "2026-13",
          "2026-11-22", "2026-11-22 25:00", "1h", "-3bd", "", " ", "\x00", "../../etc/passwd", "-", "--", "--help"]
argv = st.tuples(st.sampled_from(COMMANDS),
                 st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=8)), max_size=7)).map(
    lambda t: [t[0], *t[1]])


def test_random_argument_lists(desk, repo):
    @examples(120)
    @given(args=argv)
    def arguments(args):
        if args[0] == "import" and len(args) > 1 and not args[1].startswith("-"):
            args[1] = str(repo / "no-such-file.csv")  # never read files outside the test
        sane(desk(*args))

    arguments()


# --- random text through the commands -------------------------------------------------------------------

# What terminals and spreadsheets send: any Unicode, control characters, and bytes that were not UTF-8
# (Python hands those over as lone surrogates).
typed = st.text(alphabet=st.one_of(st.characters(), st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF),
                                   st.sampled_from("\x00\r\n\t\x85\u2028\ufeff:#-'\"|>&*!%@`{}[]")),
                min_size=1, max_size=30)


def test_random_unicode_is_stored_as_given_or_refused(desk, repo, ticket):
    @examples(30)
    @given(text=typed)
    def stored(text):
        result = desk("note", ticket, text)
        sane(result)
        if result.exit_code == 0:
            desk.ok("note", ticket, "下一步")  # the next update must find the file as readable as before
            timeline = json.loads(desk.ok("show", ticket, "--format", "json"))["timeline"]
            assert [e["text"] for e in timeline[-2:]] == [text, "下一步"]
        made = desk("new", "customer", "--name", text)
        sane(made)
        if made.exit_code == 0:
            assert json.loads(desk.ok("show", made.stdout.strip(), "--format", "json"))["name"] == text

    stored()
    sane(desk("check"), (0,))  # whatever was accepted was written so that it reads back


@pytest.mark.parametrize("text", ["0\x85", "行\u2028分隔", "a\u2029b", "x\n\n", "a\n", "x\n\n\n", " x\n\n", "x\r\ny",
                                  "\ufeff开头", "列表:\n- 一", "# 注释", "key: value", "'", '"', "\x00", "\t缩进"])
def test_text_that_broke_the_writer_reads_back_after_later_updates(desk, ticket, text):
    """Found by fuzzing: NEL/LS/PS read back as spaces; trailing blank lines ended the YAML document."""
    desk.ok("note", ticket, text)
    desk.ok("note", ticket, "下一步")
    timeline = json.loads(desk.ok("show", ticket, "--format", "json"))["timeline"]
    assert [e["text"] for e in timeline[-2:]] == [text, "下一步"]
    assert json.loads(desk.ok("show", desk.ok("new", "customer", "--name", text), "--format", "json"))["name"] == text
    sane(desk("check"), (0,))


# --- import ----------------------------------------------------------------------------------------------

SEED_HEADERS = ["工单编号", "客户名称/编号", "联系方式", "问题描述(含客户原话)", "问题类型", "紧急程度(高/中/低)",
                "第一责任人", "协作部门/人", "处理进度", "任务开始时间", "实际完成时间", "进度更新(百分比+关键节点)",
                "处理结果(含解决方案)", "客户满意度(1-5分)", "回访记录", "归档状态(是/否)", "备注"]
cell_text = st.one_of(st.text(max_size=12), st.sampled_from(
    ["", "故障", "投诉", "高", "中", "低", "紧急", "已解决", "处理中", "已关闭", "是", "否", "满意", "不满意：太慢", "5",
     "6", "2024-05-01 09:00", "2024-05-0109:00", "2024/5/1", "2024-02-30", "50%:查(10:00);100%:好(25:61)",
     "CW202405010001", "../x", "A公司5678", "=cmd()", "11010519491231002X"]))


def csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def test_import_of_random_cells_never_crashes(desk, repo, tmp_path):
    path = tmp_path / "t.csv"

    @examples(40)
    @given(rows=st.lists(st.lists(cell_text, min_size=len(SEED_HEADERS), max_size=len(SEED_HEADERS)), max_size=4),
           encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
    def cells(rows, encoding):
        lines = [",".join(SEED_HEADERS)] + [",".join(csv_cell(c) for c in row) for row in rows]
        path.write_bytes("\r\n".join(lines).encode(encoding, "replace"))
        sane(desk("import", path, "--dry-run"))
        sane(desk("import", path, "--dry-run", "--skip-invalid", "--format", "json"))

    cells()


def test_import_of_random_bytes_is_a_usage_error(desk, repo, tmp_path):
    @examples(30)
    @given(raw=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".xlsx", ".xls", ".txt"]))
    def junk(raw, suffix):
        path = tmp_path / f"t{suffix}"
        path.write_bytes(raw)
        sane(desk("import", path, "--dry-run"), (2,))

    junk()


# --- the configuration -----------------------------------------------------------------------------------

CONFIG_PATHS = [("language",), ("timezone",), ("ids", "ticket"), ("agents",), ("departments",), ("sla", "urgent"),
                ("sla", "urgent", "resolve"), ("sla", "claim"), ("sla", "callback"), ("sla", "pause_in"),
                ("calendar", "business_hours"), ("calendar", "weekdays"), ("calendar", "extra_holidays"),
                ("calendar", "country"), ("close_requires",), ("batch", "threshold"), ("batch", "window"),
                ("git", "auto_commit"), ("review_required",), ("org",)]


def test_a_damaged_configuration_is_a_message(desk, repo, ticket):
    config = repo / "cslog.yaml"
    original = config.read_text(encoding="utf-8")

    @examples(20)
    @given(path=st.sampled_from(CONFIG_PATHS), value=json_values)
    def damaged(path, value):
        data = yaml.safe_load(original)
        node = data
        for key in path[:-1]:
            node = node.setdefault(key, {}) if isinstance(node, dict) else node
        node[path[-1]] = value
        config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        try:
            for args in (["list"], ["show", ticket], ["overdue"], ["check"], ["note", ticket, "进展"],
                         [*TICKET, "--customer", "C0001"], ["report", "--month", "2026-11", "--format", "json"]):
                sane(desk(*args))
        finally:
            config.write_text(original, encoding="utf-8")

    damaged()
