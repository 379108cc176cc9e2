"""An import that never doubles, loses or guesses (issue 20, design 9.8), through the commands, each on sheets
built here: re-imports skip what they brought before, a row without its start time is never dated by the import,
rows pasted twice are named, and history the import brings is not alerted by `overdue`."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import yaml

from conftest import commit_count, git

HEADERS = ["工单编号", "客户名称", "联系方式", "问题类型", "问题等级", "问题描述", "处理人", "处理进度", "受理时间"]


def sheet(path: Path, rows: list[list], headers: list[str] = HEADERS) -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def rows(n: int, start: int = 0) -> list[list]:
    return [["", f"客户{i}公司", f"1381234{i:04d}", "咨询", "一般", f"发票问题{i}", "", "", f"2026-10-{1 + i % 28:02d} 10:00"]
            for i in range(start, start + n)]


def tickets(repo: Path) -> list[dict]:
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(repo.glob("tickets/*/*/*.yaml"))]


def test_a_second_import_of_the_same_rows_skips_them_and_says_so(cli, repo, tmp_path):
    path = sheet(tmp_path / "十月.csv", rows(12))
    first = cli("import", path)
    assert first.exit_code == 0, first.stderr
    made = tickets(repo)
    assert len(made) == 12
    assert made[0]["source"]["file"] == "十月.csv" and made[0]["source"]["row"] in range(2, 14)
    assert len(made[0]["source"]["sha256"]) == 64
    before = commit_count(repo)
    again = cli("import", path)
    assert again.exit_code == 0, again.stderr
    assert "skipped 12 row(s) imported before" in again.stderr
    assert len(tickets(repo)) == 12 and commit_count(repo) == before
    dry = cli("import", path, "--dry-run")
    assert "skipped 12 row(s) imported before" in dry.stderr
    grown = sheet(tmp_path / "十月-更新.csv", rows(12) + rows(3, start=12))  # the sheet kept on growing
    more = cli("import", grown)
    assert more.exit_code == 0 and "imported 3 tickets" in more.stderr and "skipped 12 row(s)" in more.stderr
    assert len(tickets(repo)) == 15
    assert cli("check").exit_code == 0 and git(repo, "status", "--porcelain") == ""


def test_cslog_ids_in_the_sheet_are_not_doubled_either(cli, repo, tmp_path):
    listed = [["CW202610040001", "A公司", "13812345678", "故障", "高", "无法登录", "", "", "2026-10-04 09:00"]]
    path = sheet(tmp_path / "导出.csv", listed)
    cli.ok("import", path)
    again = cli("import", path)
    assert again.exit_code == 0 and "skipped 1 row(s)" in again.stderr and "a new ID is allocated" not in again.stderr
    assert [t["id"] for t in tickets(repo)] == ["CW202610040001"]


def test_a_row_without_its_start_time_is_never_dated_by_the_import(cli, repo, tmp_path):
    headers = HEADERS + ["发生时间"]
    listed = [["", "A公司", "", "故障", "高", "无法登录", "", "", "", "2026-10-03 08:00"],
              ["", "B公司", "", "咨询", "一般", "问发票", "", "", "", ""]]
    path = sheet(tmp_path / "缺时间.csv", listed, headers)
    refused = cli("import", path)
    assert refused.exit_code == 2 and not list(repo.glob("tickets/*/*/*.yaml"))
    assert "缺时间.csv:3:" in refused.stderr and "start time" in refused.stderr and "--mapping" in refused.stderr
    done = cli("import", path, "--skip-invalid")
    assert done.exit_code == 0, done.stderr
    assert "缺时间.csv:2: the ticket's start time (受理时间) is empty; took 发生时间" in done.stderr
    assert [t["received_at"] for t in tickets(repo)] == ["2026-10-03T08:00:00+08:00"]  # not the import's moment


def test_rows_pasted_twice_are_named_and_imported_once(cli, repo, tmp_path):
    listed = rows(3)
    path = sheet(tmp_path / "重复.csv", listed + [listed[1]])
    result = cli("import", path)
    assert result.exit_code == 0, result.stderr
    assert "重复.csv:5: the same as row 3, cell for cell (pasted twice?): skipped" in result.stderr
    assert len(tickets(repo)) == 3


def test_clocks_that_fell_due_before_the_import_are_not_alerted(cli, repo, tmp_path):
    old = [["", "A公司", "", "投诉", "高", "物流太慢", "小明", "处理中", "2025-10-04 09:00"]]
    cli.ok("import", sheet(tmp_path / "去年.csv", old))
    assert cli("overdue").exit_code == 0  # a year late, and history: the report judges it
    report = json.loads(cli.ok("report", "--month", "2025-10", "--format", "json"))
    assert report["sla"]["resolve"]["breached"] == 1
    recent = [["", "B公司", "", "投诉", "高", "刚才来电", "小明", "处理中", "2026-11-22 14:00"]]
    cli.ok("import", sheet(tmp_path / "今天.csv", recent))
    late = json.loads(cli("overdue", "--at", "2026-11-25T10:00:00+08:00", "--format", "json").stdout)
    assert {r["id"] for r in late} == {t["id"] for t in tickets(repo) if t["customer_name"] == "B公司"}
    no_cache = json.loads(cli("overdue", "--at", "2026-11-25T10:00:00+08:00", "--format", "json", "--no-cache").stdout)
    assert no_cache == late


def test_customers_are_matched_by_phone_first_and_no_number_is_lost(cli, repo, tmp_path):
    listed = [["", "王先生", "13812345678", "咨询", "一般", "问发票", "", "", "2026-10-01 10:00"],
              ["", "王先生", "139 1234 5678", "咨询", "一般", "问物流", "", "", "2026-10-01 11:00"],
              ["", "王先生", "+86 138-1234-5678", "咨询", "一般", "再问发票", "", "", "2026-10-02 10:00"],
              ["", "A公司", "021-62345678", "故障", "高", "无法登录", "", "", "2026-10-03 10:00"],
              ["", "A 公司", "13700001111", "故障", "高", "又无法登录", "", "", "2026-10-04 10:00"],
              ["", "Ａ公司", "", "咨询", "一般", "问价格", "", "", "2026-10-05 10:00"]]
    cli.ok("import", sheet(tmp_path / "来电.csv", listed))
    customers = {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in repo.glob("customers/C*.yaml")}
    by_name: dict = {}
    for doc in customers.values():
        by_name.setdefault(doc["name"], []).append(sorted(c.get("phone") for c in doc.get("contacts") or []))
    assert sorted(by_name["王先生"]) == [["13812345678"], ["13912345678"]]  # two callers, every number kept
    assert len(customers) == 3 and [k for k in by_name if "公司" in k] == ["A公司"]
    assert by_name["A公司"] == [["021-62345678", "13700001111"]]  # one company, its two numbers
    again = [["", "A有限公司", "13700002222", "咨询", "一般", "第三个号码", "", "", "2026-10-06 10:00"]]
    cli.ok("import", sheet(tmp_path / "补充.csv", again))
    company = next(d for d in (yaml.safe_load(p.read_text(encoding="utf-8")) for p in repo.glob("customers/C*.yaml"))
                   if d["name"] == "A公司")
    assert [c["phone"] for c in company["contacts"]] == ["021-62345678", "13700001111", "13700002222"]
    assert cli("check").exit_code == 0


def test_a_number_excel_rounded_is_refused_and_a_lost_zero_restored(cli, repo, tmp_path):
    rounded = [["", "B公司", "1.38123E+10", "咨询", "一般", "问发票", "", "", "2026-10-01 10:00"]]
    refused = cli("import", sheet(tmp_path / "窄列.csv", rounded))
    assert refused.exit_code == 2 and "Excel rounded" in refused.stderr and "文本" in refused.stderr
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(HEADERS)
    book.active.append(["", "C公司", 1078662748, "咨询", "一般", "座机", "", "", "2026-10-01 10:00"])
    book.save(tmp_path / "座机.xlsx")
    done = cli("import", tmp_path / "座机.xlsx")
    assert done.exit_code == 0 and "leading 0 restored" in done.stderr
    doc = yaml.safe_load(next(repo.glob("customers/C*.yaml")).read_text(encoding="utf-8"))
    assert doc["contacts"] == [{"phone": "010-78662748"}]


def test_a_name_slash_contact_person_column_is_split(cli, repo, tmp_path):
    headers = ["反馈编号", "客户名称/联系人", "反馈类型", "紧急程度", "反馈内容", "反馈时间"]
    listed = [["", "华信科技有限公司/黄女士", "投诉", "高", "物流延误", "2026-10-08 10:00"],
              ["", "华信科技有限公司/李先生", "投诉", "高", "又延误", "2026-10-09 10:00"]]
    cli.ok("import", sheet(tmp_path / "反馈.csv", listed, headers))
    customers = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in repo.glob("customers/C*.yaml")]
    assert len(customers) == 1 and customers[0]["name"] == "华信科技有限公司"
    assert customers[0]["contacts"] == [{"name": "黄女士"}, {"name": "李先生"}]  # each contact person kept


def test_every_sheet_with_the_tables_headers_is_imported(cli, repo, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "10月"
    for title, month, n in (("10月", "10", 4), ("9月", "09", 3)):
        ws = book.active if title == "10月" else book.create_sheet(title)
        ws.append(HEADERS)
        for i in range(n):
            ws.append(["", f"客户{month}{i}", f"1390000{month}{i:02d}", "咨询", "一般", f"问题{month}{i}", "", "",
                       f"2026-{month}-0{i + 1} 10:00"])
    book.create_sheet("说明").append(["本表由客服部维护"])
    book.save(tmp_path / "跟踪表.xlsx")
    result = cli("import", tmp_path / "跟踪表.xlsx")
    assert result.exit_code == 0, result.stderr
    assert "imported 7 tickets" in result.stderr
    assert "说明 have no header row" in result.stderr
    sheets = sorted({t["source"]["sheet"] for t in tickets(repo)})
    assert sheets == ["10月", "9月"]
    assert "skipped 7 row(s)" in cli("import", tmp_path / "跟踪表.xlsx").stderr


def test_messages_lead_to_the_fix(cli, repo, tmp_path):
    listed = [["A1", "A公司", "", "咨询", "一般", "问发票", "", "", "2026-10-01 10:00"],
              ["A2", "B公司", "", "咨询", "超急", "问物流", "", "", "2026-10-01 11:00"],
              ["A3", "C公司", "", "咨询", "一般", "问价格", "", "", "2026-10-01 12:00"],
              ["合计", "", "", "", "", "", "", "", ""], ["本月合计：3条", "", "", "", "", "", "", "", ""]]
    result = cli("import", sheet(tmp_path / "表.csv", listed))
    assert result.exit_code == 2
    assert "表.csv:5: a totals row (合计): left out" in result.stderr
    assert "表.csv:6: a totals row (本月合计：3条): left out" in result.stderr
    assert "unknown priority '超急'" in result.stderr and "--mapping" in result.stderr
    ok = cli("import", sheet(tmp_path / "表.csv", [listed[0], listed[2], listed[3]]))
    assert ok.exit_code == 0, ok.stderr
    assert ok.stderr.count("a new ID is allocated") == 1 and "2 rows in all (rows 2, 3)" in ok.stderr


def test_seed_000s_contact_sheet_imports_as_written(cli, repo, tmp_path):
    headers = ["客户名称", "联系方式", "沟通时间", "沟通方式", "沟通人员", "核心诉求", "问题描述细节", "沟通协商要点",
               "客户情绪状态", "解决方案", "处理部门/人员", "计划完成时间", "处理结果", "客户满意度", "客户评价/建议",
               "后续跟进事项"]
    listed = [["王先生", "5678", "2026年10月4日14:30-14:50", "电话沟通", "小明", "手环无法充电,要求换货", "充电指示灯不亮",
               "确认保修;三个工作日内寄出", "焦虑→沟通后转为平和", "换货+运费补偿20元", "售后专员", "2026年10月7日18:00前",
               "已完成换货发货", "□非常满意□满意□一般(勾选:满意)", "换货速度比预期快", ""],
              ["李女士", "13912345678", "10月13日9:00-9:20", "电话沟通", "小明", "催发票", "", "", "平和", "", "", "", "",
               "", "", "三天后回电"]]
    path = sheet(tmp_path / "沟通记录.csv", listed, headers)
    result = cli("import", path, "--kind", "contact")
    assert result.exit_code == 0, result.stderr
    assert "without a year (10月13日" in result.stderr and "taken as 2026" in result.stderr
    assert "not understood" not in result.stderr
    docs = sorted((yaml.safe_load(p.read_text(encoding="utf-8")) for p in repo.glob("contacts/*/*/*.yaml")),
                  key=lambda d: d["started_at"])
    first, second = docs
    assert (first["started_at"], first["ended_at"]) == ("2026-10-04T14:30:00+08:00", "2026-10-04T14:50:00+08:00")
    assert first["channel"] == "phone" and first["emotion"] == {"before": "anxious", "after": "calm"}
    assert first["result"] == ("已完成换货发货; 解决方案: 换货+运费补偿20元; 处理: 售后专员; 客户满意度: 满意; "
                               "客户评价: 换货速度比预期快")
    assert first["follow_up_at"] == "2026-10-07T18:00:00+08:00" and first["follow_up"] == "确认处理结果"
    assert second["started_at"] == "2026-10-13T09:00:00+08:00" and second["follow_up"] == "三天后回电"
    assert cli("check").exit_code == 0


def test_a_formula_without_a_saved_value_says_how_to_fix_it(cli, repo, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()  # written by a program: formulas carry no saved value until Excel or WPS saves
    book.active.append(HEADERS)
    book.active.append(["", "=\"A\"&\"公司\"", "", "咨询", "一般", "问发票", "", "", "2026-10-01 10:00"])
    book.save(tmp_path / "公式.xlsx")
    result = cli("import", tmp_path / "公式.xlsx")
    assert result.exit_code == 2
    assert "公式.xlsx:2: 客户名称 (column B): a formula without a saved value" in result.stderr
    assert "open the file in Excel or WPS, save it" in result.stderr and "no customer" not in result.stderr


# -- what the review of this issue found ----------------------------------------------------------------------------

def test_a_changed_row_with_its_sheet_number_is_found_again_not_doubled(cli, repo, tmp_path):
    listed = [["A002", "A公司", "13812345678", "故障", "高", "无法登录", "", "处理中", "2026-10-04 09:00"]]
    cli.ok("import", sheet(tmp_path / "表.csv", listed))
    listed[0][7] = "已完成"
    again = cli("import", sheet(tmp_path / "表.csv", listed))
    assert again.exit_code == 0 and "A002 was imported before as CW202610040001" in again.stderr
    assert "is not applied" in again.stderr and len(tickets(repo)) == 1


def test_a_new_layout_of_the_same_rows_is_still_the_same_rows(cli, repo, tmp_path):
    import openpyxl

    cli.ok("import", sheet(tmp_path / "原表.csv", rows(3)))
    book = openpyxl.Workbook()  # the columns in another order, an extra empty column, dates as real dates
    order = [8, 5, 1, 2, 3, 4, 0, 6, 7]
    book.active.append([HEADERS[i] for i in order] + ["备注"])
    from datetime import datetime
    for row in rows(3):
        cells = [row[i] for i in order]
        cells[0] = datetime.strptime(cells[0], "%Y-%m-%d %H:%M")
        book.active.append(cells + [None])
    book.save(tmp_path / "新表.xlsx")
    again = cli("import", tmp_path / "新表.xlsx")
    assert again.exit_code == 0 and "skipped 3 row(s)" in again.stderr and len(tickets(repo)) == 3


def test_skip_invalid_in_a_workbook_drops_only_the_bad_rows_of_their_sheet(cli, repo, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "6月"
    for title in ("6月", "9月"):
        ws = book.active if title == "6月" else book.create_sheet(title)
        ws.append(HEADERS)
        for i in range(3):
            bad = title == "6月" and i == 0
            ws.append(["", f"客户{title}{i}", "", "咨询", "超急" if bad else "一般", f"问题{title}{i}", "", "",
                       f"2026-{title[:-1].zfill(2)}-0{i + 1} 10:00"])
    book.save(tmp_path / "两月.xlsx")
    result = cli("import", tmp_path / "两月.xlsx", "--skip-invalid")
    assert result.exit_code == 0, result.stderr
    assert "skipped 1 invalid row(s): 6月:2" in result.stderr and len(tickets(repo)) == 5


def test_imported_follow_up_reminders_are_history_too(cli, repo, tmp_path):
    headers = ["客户名称", "沟通时间", "沟通方式", "沟通人员", "核心诉求", "计划完成时间"]
    old = [["A公司", "2025年10月4日14:30-14:50", "电话沟通", "小明", "换货", "2025年10月7日18:00前"]]
    cli.ok("import", sheet(tmp_path / "去年沟通.csv", old, headers), "--kind", "contact")
    assert cli("overdue").exit_code == 0


def test_a_known_number_under_another_name_is_said(cli, repo, customer, tmp_path):
    listed = [["", "B公司", "138 1234 5678", "咨询", "一般", "问发票", "", "", "2026-10-01 10:00"]]
    result = cli("import", sheet(tmp_path / "表.csv", listed))
    assert result.exit_code == 0 and "13812345678 is the number of A公司" in result.stderr


def test_a_customer_sheet_imported_again_skips_its_customers(cli, repo, tmp_path):
    path = sheet(tmp_path / "客户.csv", [["A公司", "13812345678"], ["B公司", "13912345678"]], ["客户名称", "联系电话"])
    cli.ok("import", path, "--kind", "customer")
    again = cli("import", path, "--kind", "customer")
    assert again.exit_code == 0 and "skipped 2 row(s)" in again.stderr
    assert len(list(repo.glob("customers/C*.yaml"))) == 2


def test_an_existing_customer_with_a_country_code_is_found_by_phone(cli, repo, tmp_path):
    cli.ok("new", "customer", "--name", "王先生", "--phone", "+86 138 1234 5678")
    listed = [["", "王先生", "13812345678", "咨询", "一般", "问发票", "", "", "2026-10-01 10:00"]]
    cli.ok("import", sheet(tmp_path / "表.csv", listed))
    assert len(list(repo.glob("customers/C*.yaml"))) == 1


def test_phone_forms_from_real_sheets(cli, repo, tmp_path):
    phones = {"D公司": ("+86-10-62345678", "010-62345678"), "E公司": ("０２１－６２３４５６７８", "021-62345678"),
              "F公司": ("021-12345678转808", "021-12345678-808"), "G公司": ("１３８ ００００ ０１１１", "13800000111")}
    listed = [["", name, raw, "咨询", "一般", f"{name}来电", "", "", "2026-10-01 10:00"] for name, (raw, _) in phones.items()]
    cli.ok("import", sheet(tmp_path / "电话.csv", listed))
    stored = {d["name"]: d["contacts"][0]["phone"] for d in
              (yaml.safe_load(p.read_text(encoding="utf-8")) for p in repo.glob("customers/C*.yaml"))}
    assert stored == {name: want for name, (_raw, want) in phones.items()}


def test_an_invalid_row_adds_no_number_to_an_existing_customer(cli, repo, customer, tmp_path):
    listed = [["", "A公司", "13900002222", "咨询", "超急", "号码", "", "", "2026-10-01 10:00"],
              ["", "B公司", "", "咨询", "一般", "问发票", "", "", "2026-10-01 11:00"]]
    cli.ok("import", sheet(tmp_path / "表.csv", listed), "--skip-invalid")
    doc = yaml.safe_load(next(repo.glob(f"customers/{customer}.yaml")).read_text(encoding="utf-8"))
    assert [c.get("phone") for c in doc["contacts"]] == ["13812345678"]
