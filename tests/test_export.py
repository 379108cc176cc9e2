"""cslog export: the workbook read back with openpyxl (and, when installed, converted by LibreOffice)."""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.chart import BarChart, LineChart, PieChart

from conftest import Cli, around_the_clock
from test_report import NOW_DT, at, month_of_tickets, put

from cslog import export, report
from cslog.defaults import config_text as default_config_text
from cslog.store import Store

DANGEROUS = {
    "title": "+1234",
    "description": '=HYPERLINK("http://x","y")',
    "category": "-x",
    "solution": "@SUM(A1)",
    "customer_name": "=1+1",
}


def make_desk(root: Path, language: str = "zh") -> Store:
    root.mkdir(parents=True)
    (root / "cslog.yaml").write_text(default_config_text("示例科技有限公司", language), encoding="utf-8")
    around_the_clock(root)  # the figures were worked out on the wall clock
    store = Store.open(root)
    customer = {"id": "C0001", "name": "A公司", "type": "enterprise",
                "contacts": [{"name": "张经理", "phone": "13812345678", "email": "zhang@example.com"}]}
    contact = {"id": "GT202610120001", "customer": "C0001", "customer_name": "A公司", "channel": "phone",
               "agent": "小明", "started_at": at("10-12 08:50"), "ended_at": at("10-12 09:05"),
               "request": "无法登录系统,请回电 13912345678", "details": "邮箱 li.si@example.com",
               "agreed": ["1小时内回电", "=cmd|' /C calc'!A0"], "emotion": {"before": "anxious", "after": "calm"},
               "ticket": "CW202610120001"}
    with store.transaction("test", "测试员", NOW_DT, commit=False) as tx:
        tx.create("customer", lambda _id: customer, NOW_DT, record_id="C0001")
        tx.create("contact", lambda _id: contact, NOW_DT, record_id="GT202610120001")
    month_of_tickets(store)
    put(store, "CW202610280001", "10-28 09:00", "complaint", "normal", "phone", "new", [],
        compensation="退款\x07200元", **DANGEROUS)
    put(store, "CW202610290001", "10-29 09:00", "consultation", "normal", "phone", "new", [],
        description="请回电 13700001234 或发邮件 wang.wu@example.com")
    return store


@pytest.fixture(scope="module")
def desk(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("export") / "desk"
    make_desk(root)
    return root


@pytest.fixture(scope="module")
def store(desk) -> Store:
    return Store.open(desk)


@pytest.fixture(scope="module")
def written(store, tmp_path_factory) -> export.Written:
    path = tmp_path_factory.mktemp("out") / "october.xlsx"
    return export.export(store, report.month_period("2026-10"), NOW_DT, path)


@pytest.fixture(scope="module")
def book(written):
    return openpyxl.load_workbook(written.path)


def rows(ws) -> list[tuple]:
    return list(ws.iter_rows(values_only=True))


def column(ws, header: str) -> list:
    table = rows(ws)
    i = table[0].index(header)
    return [r[i] for r in table[1:]]


def test_sheets_and_rows(book, written):
    assert book.sheetnames == ["汇总", "工单明细", "沟通记录", "趋势"]
    tickets = book["工单明细"]
    assert written.tickets == 11 and tickets.max_row == 12  # header + T1..T9 + two more October tickets
    ids = column(tickets, "工单编号")
    assert rows(tickets)[0][0] == "工单编号"
    assert ids[:3] == ["CW202610120001", "CW202610120002", "CW202610130001"]  # in the order received
    assert "CW202611010001" not in ids and "CW202609100001" not in ids
    assert rows(tickets)[0][:6] == ("工单编号", "标题", "客户名称", "客户编号", "联系方式", "账户类型")
    for header in ("问题类型", "问题等级", "问题描述(客户原话)", "第一责任人", "协作部门/人", "处理进度", "解决方案",
                   "客户满意度", "回访记录", "受理时间", "预计完成时间", "实际完成时间", "归档状态", "备注", "解决时限",
                   "处理时长(小时)", "处理时长(工作小时)"):
        assert header in rows(tickets)[0]
    assert tickets.freeze_panes == "B2"
    assert tickets.auto_filter.ref == "A1:AD12"
    contacts = book["沟通记录"]
    assert written.contacts == 1 and contacts.max_row == 2
    assert rows(contacts)[1][0] == "GT202610120001"
    assert contacts.freeze_panes == "B2" and contacts.auto_filter.ref == "A1:O2"
    assert [r[0] for r in rows(book["趋势"])] == ["周期", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09",
                                                "2026-10"]


def test_real_dates_and_numbers(book):
    tickets = book["工单明细"]
    table = rows(tickets)
    t1 = dict(zip(table[0], table[1]))
    assert t1["受理时间"] == datetime(2026, 10, 12, 9, 0)  # naive, Shanghai wall time
    assert t1["预计完成时间"] == datetime(2026, 10, 12, 13, 0)  # urgent: 4h
    assert t1["实际完成时间"] == datetime(2026, 10, 12, 12, 0)
    assert t1["客户满意度"] == 5 and t1["处理时长(小时)"] == 3 and t1["处理时长(工作小时)"] == 3
    assert t1["归档状态"] == "是" and t1["解决时限"] == "达成" and t1["回访时限"] is None
    assert t1["协作部门/人"] == "技术部" and t1["处理进度"] == "已关闭"
    cell = tickets.cell(row=2, column=table[0].index("受理时间") + 1)
    assert cell.is_date and cell.number_format == "yyyy-mm-dd hh:mm"
    assert tickets.cell(row=2, column=table[0].index("处理时长(小时)") + 1).data_type == "n"
    t4 = dict(zip(table[0], table[4]))
    assert t4["工单编号"] == "CW202610140001"
    assert t4["实际完成时间"] is None and t4["归档状态"] == "否" and t4["解决时限"] == "超时"
    assert t4["预计完成时间"] == datetime(2026, 10, 19, 18, 0)  # 3bd: Thu, Fri, Mon
    t2 = dict(zip(table[0], table[2]))
    assert t2["回访记录"] == "2026-10-13 10:00 已解决 4分 已收到退款"
    trends = rows(book["趋势"])
    assert trends[-1][1:4] == (datetime(2026, 10, 1), datetime(2026, 10, 31), 11)


def test_phones_and_emails_are_masked(book, store, tmp_path):
    tickets = book["工单明细"]
    assert set(column(tickets, "联系方式")) == {"张经理 138****5678 z***@example.com"}
    assert "请回电 137****1234 或发邮件 w***@example.com" in column(tickets, "问题描述(客户原话)")
    contact = dict(zip(rows(book["沟通记录"])[0], rows(book["沟通记录"])[1]))
    assert contact["核心诉求(客户原话)"] == "无法登录系统,请回电 139****5678"
    assert contact["问题描述细节"] == "邮箱 l***@example.com"
    everything = json.dumps([rows(ws) for ws in book], default=str, ensure_ascii=False)
    for secret in ("13812345678", "13912345678", "13700001234", "zhang@", "li.si@", "wang.wu@"):
        assert secret not in everything

    full = export.export(store, report.month_period("2026-10"), NOW_DT, tmp_path / "full.xlsx", mask=False)
    unmasked = openpyxl.load_workbook(full.path)["工单明细"]
    assert set(column(unmasked, "联系方式")) == {"张经理 13812345678 zhang@example.com"}


def test_customer_text_never_becomes_a_formula(book):
    for ws in book:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} holds a formula: {cell.value!r}"
    tickets = book["工单明细"]
    table = rows(tickets)
    i = column(tickets, "工单编号").index("CW202610280001")
    found = dict(zip(table[0], table[i + 1]))
    assert found["标题"] == DANGEROUS["title"]
    assert found["问题描述(客户原话)"] == DANGEROUS["description"]
    assert found["问题分类"] == DANGEROUS["category"]
    assert found["解决方案"] == DANGEROUS["solution"]
    assert found["客户名称"] == DANGEROUS["customer_name"]
    assert found["备注"] == "补偿: 退款200元"  # a control character XML cannot hold is dropped
    for header in ("标题", "问题描述(客户原话)", "问题分类", "解决方案", "客户名称"):
        cell = tickets.cell(row=i + 2, column=table[0].index(header) + 1)
        assert cell.data_type == "s" and cell.quotePrefix, header
    contact = dict(zip(rows(book["沟通记录"])[0], rows(book["沟通记录"])[1]))
    assert contact["沟通协商要点"] == "1小时内回电; =cmd|' /C calc'!A0"  # joined: starts safely
    top = [r[0] for r in rows(book["汇总"])]
    assert "-x" in top  # a category in the Summary's top list, written as text too


def test_charts(book):
    summary = book["汇总"]
    kinds = sorted(type(c).__name__ for c in summary._charts)
    assert kinds == ["BarChart", "PieChart"]
    bar = next(c for c in summary._charts if isinstance(c, BarChart))
    assert len(bar.series) == 2  # this period and the previous one
    assert any(isinstance(c, PieChart) for c in summary._charts)
    trends = book["趋势"]
    assert len(trends._charts) == 2 and all(isinstance(c, LineChart) for c in trends._charts)


def summary_blocks(ws) -> dict[str, list[tuple]]:
    """The Summary's sections by title: the rows under each title, header first."""
    blocks: dict[str, list[tuple]] = {}
    current = None
    for row in rows(ws)[2:]:
        values = tuple(v for v in row)
        if not any(v is not None for v in values):
            current = None
            continue
        if current is None:
            current = values[0]
            blocks[current] = []
        else:
            blocks[current].append(values)
    return blocks


def test_summary_is_the_reports_numbers(book, written):
    data = written.report
    blocks = summary_blocks(book["汇总"])
    for section in report.sections(data, "zh"):
        block = blocks[section.title]
        assert block[0][:len(section.headers)] == section.headers
        body = [r[:len(section.headers)] for r in block[1:]]
        assert body == [tuple(report.row_values(section, r)) for r in section.rows], section.title
    overview = {r[0]: r[1:4] for r in blocks["概况"][1:]}
    assert overview["工单总数"] == (data["tickets"], data["previous"]["tickets"], data["change"]["tickets"])
    assert overview["解决时限达成率"] == (data["sla"]["resolve"]["rate"], data["previous"]["sla"]["resolve"]["rate"],
                                   data["change"]["sla"]["resolve"])
    assert overview["满意度均分"][0] == data["satisfaction"]["mean"]
    sla = {r[0]: r[1:4] for r in blocks["服务时限(SLA)达成"][1:]}
    assert sla["首次响应"] == tuple(data["sla"]["response"][k] for k in ("met", "breached", "rate"))
    types = {r[0]: r[1] for r in blocks["问题类型"][1:]}
    assert types["投诉"] == data["by_type"]["complaint"]
    departments = {r[0]: r[1:] for r in blocks["协作部门响应率"][1:]}
    assert departments["客服部"][4] == data["departments"]["客服部"]["response_rate"]
    assert blocks["连续TOP1问题"][1][0] == "产品质量-物流延误"


def test_summary_equals_cli_json(cli, tmp_path, book):
    data = json.loads(cli.ok("report", "--month", "2026-10", "--format", "json"))
    path = tmp_path / "again.xlsx"
    assert cli.ok("export", "--month", "2026-10", "-o", str(path)) == str(path)
    again = summary_blocks(openpyxl.load_workbook(path)["汇总"])
    overview = {r[0]: r[1] for r in again["概况"][1:]}
    assert overview["工单总数"] == data["tickets"] == 11
    assert overview["首次响应达成率"] == data["sla"]["response"]["rate"]
    assert overview["平均处理时长(小时)"] == data["handling"]["hours"]["mean"]


@pytest.fixture
def cli(desk) -> Cli:
    return Cli(desk)


def test_default_file_name_in_the_current_folder(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("export")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "cslog-2026-10.xlsx")
    assert (tmp_path / "cslog-2026-10.xlsx").is_file()
    assert oct(os.stat(tmp_path / "cslog-2026-10.xlsx").st_mode & 0o777) != oct(0o600)
    assert cli.ok("export", "--quarter", "2026-Q4") == str(tmp_path / "cslog-2026-Q4.xlsx")
    assert cli.ok("export", "--from", "2026-10-12", "--until", "2026-10-13") == str(
        tmp_path / "cslog-2026-10-12_2026-10-13.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cslog-2026-10-12_2026-10-13.xlsx", "cslog-2026-10.xlsx",
                                                          "cslog-2026-Q4.xlsx"]  # no temp files left


def test_bad_output_and_period(cli, tmp_path):
    result = cli("export", "--month", "2026-10", "-o", str(tmp_path / "x.csv"))
    assert result.exit_code == 2 and "must be an .xlsx file" in result.stderr
    result = cli("export", "--month", "2026-10", "-o", str(tmp_path / "missing" / "x.xlsx"))
    assert result.exit_code == 2 and "no such folder" in result.stderr
    result = cli("export", "--from", "2026-10-31", "--until", "2026-10-01")
    assert result.exit_code == 2 and "is before --from" in result.stderr


def test_empty_period(store, tmp_path):
    written = export.export(store, report.month_period("2026-01"), NOW_DT, tmp_path / "empty.xlsx")
    assert written.tickets == 0 and written.contacts == 0
    book = openpyxl.load_workbook(written.path)
    summary = [r[0] for r in rows(book["汇总"])]
    assert "本期没有受理工单。" in summary[:4]
    assert book["汇总"]._charts == []
    assert book["工单明细"].max_row == 1 and rows(book["工单明细"])[0][0] == "工单编号"
    assert book["沟通记录"].max_row == 1


def test_english_workbook(tmp_path):
    store = make_desk(tmp_path / "desk", language="en")
    written = export.export(store, report.month_period("2026-10"), NOW_DT, tmp_path / "en.xlsx")
    book = openpyxl.load_workbook(written.path)
    assert book.sheetnames == ["Summary", "Tickets", "Contacts", "Trends"]
    header = rows(book["Tickets"])[0]
    assert header[:2] == ("Ticket ID", "Title") and "Received" in header and "Resolve SLA" in header
    assert "complaint" in column(book["Tickets"], "Type")
    assert rows(book["Summary"])[0][0].startswith("示例科技有限公司 Customer-service report 2026-10")
    blocks = summary_blocks(book["Summary"])
    assert {r[0]: r[1] for r in blocks["Overview"][1:]}["Tickets"] == 11


def test_cells_and_widths():
    assert export.needs_guard("=1") and export.needs_guard("@x") and export.needs_guard("#N/A")
    assert not export.needs_guard("1+1") and not export.needs_guard("正常文本")
    assert export.clean("a\x00b\x0bc\td") == "abc\td"
    assert len(export.clean("长" * 40000)) == export.MAX_CELL
    assert export.display_width("问题描述") == 8 and export.display_width("ab\n问题") == 4


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def _soffice(tmp_path: Path, target: str, source: Path, outdir: Path) -> subprocess.CompletedProcess:
    home = tmp_path / "lo-home"
    home.mkdir(exist_ok=True)
    env = dict(os.environ, HOME=str(home))
    return subprocess.run([SOFFICE, "--headless", "--norestore", f"-env:UserInstallation={home.as_uri()}",
                           "--convert-to", target, "--outdir", str(outdir), str(source)],
                          capture_output=True, text=True, env=env, timeout=180)


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_the_workbook(written, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    # filter options: comma, quote, UTF-8, from line 1, ..., cells as shown (true), no formulas, sheet 2 = Tickets
    done = _soffice(tmp_path, "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,2",
                    written.path, out)
    assert done.returncode == 0, done.stderr
    produced = list(out.glob("*.csv"))
    assert len(produced) == 1, (done.stdout, done.stderr)
    with produced[0].open(encoding="utf-8") as f:
        table = list(csv.reader(f))
    assert table[0][0] == "工单编号"
    assert len(table) == 12
    ids = [r[0] for r in table[1:]]
    assert ids[0] == "CW202610120001" and "CW202610310001" in ids
    row = table[1 + ids.index("CW202610280001")]
    assert DANGEROUS["description"] in row and DANGEROUS["title"] in row  # shown as text, not computed
    assert row[table[0].index("受理时间")] == "2026-10-28 09:00"

    done = _soffice(tmp_path, "pdf", written.path, out)
    assert done.returncode == 0, done.stderr
    pdf = out / "october.pdf"
    assert pdf.is_file() and pdf.read_bytes()[:5] == b"%PDF-"
