"""`cslog import`: the seeds' tracking tables (xlsx, csv in GBK or UTF-8 with BOM) become records in one commit."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from conftest import commit_count, git

from cslog.yamlio import load_text

# Seed 002, 客户服务团队协作任务跟踪表: a title row, then the headers with their hints.
HEADERS_002 = ["客户名称/编号", "联系方式", "问题描述(含客户原话)", "问题类型(咨询/投诉/故障/需求)", "紧急程度(高/中/低)",
               "第一责任人", "协作部门/人", "任务开始时间", "预计完成时间", "实际完成时间", "进度更新(百分比+关键节点)",
               "处理结果(含解决方案)", "客户满意度(1-5分)", "归档状态(是/否)", "备注"]
ROW_A = ["A公司5678", None, "“无法登录系统，提示‘账号异常’，已尝试重置密码无效，影响今日订单处理。”", "故障", "高", "*明",
         "技术*强", datetime(2024, 5, 1, 9, 0), datetime(2024, 5, 1, 13, 0), datetime(2024, 5, 1, 12, 30),
         "50%:*强反馈为缓存问题(10:00);100%:清理缓存后恢复登录(12:30)",
         "协助客户清理浏览器缓存，指导重新登录，系统恢复正常，客户确认可用。", 5, "是", "订单已正常提交"]
ROW_B = ["B客户139", None, "“投诉上月账单多扣费200元，要求详细解释费用构成并退还。”", "投诉", "中", "*丽", "财务*雪",
         "2024-05-02 14:00", "2024-05-03 18:00", "2024-05-03 17:00",
         "30%:*雪提供费用明细(15:00);70%:与客户核对消费记录(16:30);100%:确认误扣并提交退款(17:00)",
         "财务核实为套餐叠加错误，已退款并致歉，客户接受处理结果。", "4", "否", "后续优化套餐自动提醒"]

# Seed 001, 工单记录模板: its fields as columns, with the template's example row.
HEADERS_001 = ["工单编号", "客户姓名", "联系方式", "账户类型", "问题类型", "问题等级", "问题描述", "处理人", "处理进度",
               "解决方案", "客户满意度", "回访记录"]
ROW_001 = ["2023901", "王先生", "5678", "个人客户", "售后投诉", "重要", "10月1日购买的空调制冷效果差，联系售后未解决",
           "技术部-赵工", "处理中", "已安排10月5日上门检修，更换零件", "满意", "客户反馈已解决，满意"]


def workbook(path: Path, headers: list, rows: list, title: str | None = None, sheet: str = "Sheet1") -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    if title:
        ws.append([title])
    ws.append(headers)
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def csv_text(headers: list, rows: list) -> str:
    def cell(v):
        v = "" if v is None else v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else str(v)
        return f'"{v}"' if any(c in v for c in ',"\n') else v
    return "\r\n".join(",".join(cell(v) for v in row) for row in [headers, *rows]) + "\r\n"


@pytest.fixture
def seed002(tmp_path) -> Path:
    return workbook(tmp_path / "协作任务跟踪表.xlsx", HEADERS_002, [ROW_A, ROW_B], title="客户服务团队协作任务跟踪表")


def record(repo: Path, rid: str) -> dict:
    path = next(repo.glob(f"**/{rid}.yaml"))
    return load_text(path.read_text(encoding="utf-8"))


def ids_from(out: str) -> list[str]:
    return [row["id"] for row in json.loads(out)]


def test_seed_002_tracking_table_becomes_tickets_in_one_commit(cli, repo, seed002):
    before = commit_count(repo)
    out = cli.ok("import", seed002, "--format", "json")
    rows = json.loads(out)
    assert [(r["row"], r["kind"], r["id"]) for r in rows] == [
        (3, "customer", "C0001"), (4, "customer", "C0002"),
        (3, "ticket", "CW202405010001"), (4, "ticket", "CW202405020001")]
    assert commit_count(repo) == before + 1
    assert git(repo, "status", "--porcelain") == ""
    assert cli("check").exit_code == 0

    a = record(repo, "CW202405010001")
    assert (a["type"], a["priority"], a["status"], a["customer"], a["customer_name"]) == (
        "fault", "urgent", "closed", "C0001", "A公司5678")
    assert a["title"] == "无法登录系统"
    assert a["owner"] == "*明" and a["collaborators"] == ["技术*强"]
    assert a["solution"].startswith("协助客户清理浏览器缓存")
    assert a["satisfaction"] == {"score": 5, "at": "2024-05-01T12:30:00+08:00"}
    steps = [(e["at"][11:16], e["kind"], e.get("to") or e.get("percent") or e.get("score")) for e in a["timeline"]]
    assert steps == [("09:00", "created", None), ("09:00", "status", "in_progress"), ("10:00", "note", 50),
                     ("12:30", "note", 100), ("12:30", "status", "resolved"), ("12:30", "status", "closed"),
                     ("12:30", "rated", 5)]
    # design 9.4: 备注 and 预计完成时间 have fields of their own (no longer turned into notes)
    assert a["remarks"] == "订单已正常提交"
    assert a["planned_at"] == "2024-05-01T13:00:00+08:00"

    b = record(repo, "CW202405020001")
    assert (b["type"], b["priority"], b["status"]) == ("complaint", "important", "resolved")
    resolved = next(e for e in b["timeline"] if e.get("to") == "resolved")
    assert resolved["at"] == "2024-05-03T17:00:00+08:00"
    # the 100% step happened at the completion time, the next day
    assert [e["at"] for e in b["timeline"] if e.get("percent") == 100] == ["2024-05-03T17:00:00+08:00"]
    assert record(repo, "C0002")["name"] == "B客户139"


def test_imported_timeline_drives_the_sla_clocks(cli, repo, seed002, tmp_path):
    cli.ok("import", seed002)
    # B is a resolved complaint nobody called back (回访): its callback clock fell due in 2024, before the
    # import, so the report judges it and `overdue` (cron) does not alert it (design 9.8)
    assert cli("overdue", "--format", "json").stdout.strip() in ("", "[]")
    assert json.loads(cli.ok("report", "--month", "2024-05", "--format", "json"))["sla"]["callback"]["breached"] == 1
    items = json.loads(cli("overdue", "--format", "json", "--at", "2024-05-10T10:00:00+08:00").stdout)
    assert [(i["id"], i["kind"]) for i in items] == []  # alerts begin at the import, whenever one asks

    called = workbook(tmp_path / "回访.xlsx", HEADERS_002 + ["回访记录"],
                      [ROW_B[:-1] + ["", "2024-05-05 10:00 电话回访，问题已解决，客户满意"]])
    tid = ids_from(cli.ok("import", called, "--format", "json"))[-1]
    callback = record(repo, tid)["callbacks"]
    assert callback == [{"at": "2024-05-05T10:00:00+08:00", "by": "*丽", "result": "2024-05-05 10:00 电话回访，问题已解决，"
                         "客户满意", "solved": True}]
    assert tid not in {i["id"] for i in json.loads(cli("overdue", "--format", "json").stdout)}


def test_seed_001_template_allocates_an_id_and_keeps_the_old_number(cli, repo, tmp_path):
    path = workbook(tmp_path / "工单记录.xlsx", HEADERS_001, [ROW_001])
    refused = cli("import", path)  # seed 001 has no start-time column: never the import's moment (design 9.8)
    assert refused.exit_code == 2 and "受理时间" in refused.stderr and "--mapping" in refused.stderr
    mapping = tmp_path / "m.yaml"
    mapping.write_text("defaults:\n  received_at: 2026-11-22 14:30\n", encoding="utf-8")
    result = cli("import", path, "--mapping", mapping, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert "工单记录.xlsx:2: 工单编号 (column A): 2023901 is not a ticket ID" in result.stderr
    (customer, ticket) = json.loads(result.stdout)
    assert ticket["id"] == "CW202611220001" and ticket["note"] == "原编号 2023901"
    t = record(repo, ticket["id"])
    assert (t["type"], t["priority"], t["status"], t["owner"]) == ("complaint", "important", "in_progress",
                                                                  "技术部-赵工")
    assert "原编号 2023901" in t["timeline"][0]["note"]
    assert t["satisfaction"]["score"] == 5
    # no 任务开始时间 column: the mapping's default start, and what the row tells happened then
    assert t["received_at"] == "2026-11-22T14:30:00+08:00"
    assert t["callbacks"] == [{"at": "2026-11-22T14:30:00+08:00", "by": "技术部-赵工", "result": "客户反馈已解决，满意",
                               "solved": True}]
    c = record(repo, customer["id"])
    assert c == {"id": "C0001", "name": "王先生", "type": "individual", "contacts": [{"phone": "5678"}]}
    assert cli("check").exit_code == 0


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8"])
def test_csv_exported_from_excel(cli, repo, tmp_path, encoding):
    path = tmp_path / "跟踪表.csv"
    path.write_bytes(csv_text(HEADERS_002, [ROW_A, ROW_B]).encode(encoding))
    rows = json.loads(cli.ok("import", path, "--format", "json"))
    assert [r["id"] for r in rows] == ["C0001", "C0002", "CW202405010001", "CW202405020001"]
    assert record(repo, "CW202405010001")["description"] == ROW_A[2]
    assert record(repo, "CW202405020001")["satisfaction"]["score"] == 4
    assert cli("check").exit_code == 0


def test_dry_run_writes_nothing_and_predicts_the_ids(cli, repo, seed002):
    before = commit_count(repo)
    listing = sorted(p for p in repo.rglob("*") if ".git" not in p.parts)
    dry = cli("import", seed002, "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "CW202405010001" in dry.stdout and "无法登录系统" in dry.stdout
    assert "would import 2 tickets, 2 new customers" in dry.stderr
    assert commit_count(repo) == before
    assert sorted(p for p in repo.rglob("*") if ".git" not in p.parts and ".cslog" not in p.parts) == [
        p for p in listing if ".cslog" not in p.parts]
    assert git(repo, "status", "--porcelain") == ""
    predicted = ids_from(cli.ok("import", seed002, "--dry-run", "--format", "json"))
    assert ids_from(cli.ok("import", seed002, "--format", "json")) == predicted


def test_invalid_rows_name_row_and_column_and_nothing_is_written(cli, repo, tmp_path):
    bad_level = list(ROW_B)
    bad_level[4] = "超急"
    bad_date = list(ROW_B)
    bad_date[0] = "C客户"
    bad_date[7] = "2024-13-45 25:00"
    path = workbook(tmp_path / "t.xlsx", HEADERS_002, [ROW_A, bad_level, bad_date], title="跟踪表")
    before = commit_count(repo)
    result = cli("import", path)
    assert result.exit_code == 2
    assert "t.xlsx:4: 紧急程度(高/中/低) (column E): unknown priority '超急'" in result.stderr
    assert "t.xlsx:5: 任务开始时间 (column H): '2024-13-45 25:00' is not a real date and time" in result.stderr
    assert "2 invalid row(s) in t.xlsx (rows 4, 5): nothing imported" in result.stderr
    assert "Traceback" not in result.output
    assert commit_count(repo) == before
    assert not list(repo.glob("tickets/*/*/*.yaml")) and not list(repo.glob("customers/*.yaml"))

    skipped = cli("import", path, "--skip-invalid", "--format", "json")
    assert skipped.exit_code == 0, skipped.stderr
    assert "skipped 2 invalid row(s): 4, 5" in skipped.stderr
    made = json.loads(skipped.stdout)
    assert [(r["kind"], r["title"]) for r in made] == [("customer", "A公司5678"), ("ticket", "无法登录系统")]
    assert commit_count(repo) == before + 1
    assert cli("check").exit_code == 0


def test_contradictions_in_a_row_are_errors(cli, repo, tmp_path):
    open_but_archived = list(ROW_B)
    open_but_archived[9] = None  # no completion time
    open_but_archived[13] = "是"
    headers = HEADERS_002 + ["处理进度"]
    path = workbook(tmp_path / "t.xlsx", headers, [open_but_archived + ["处理中"]])
    result = cli("import", path)
    assert result.exit_code == 2
    assert "t.xlsx:2: 归档状态(是/否) (column N): archived (是) but 处理进度 (column P) says 处理中" in result.stderr


def test_mapping_file_for_other_headers(cli, repo, tmp_path):
    path = workbook(tmp_path / "其他.xlsx", ["单号", "客户", "级别", "类别", "内容", "渠道来源", "内部代码", "日期"],
                    [["CW202611010007", "示例商贸", "P1", "咨询", "发票怎么开", "400热线", "x1", "2026-11-01 09:00"],
                     [None, "示例商贸", "P3", "报修", "打印机卡纸", None, "x2", "2026-11-22 14:00"]])
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("columns:\n  单号: id\n  客户: customer\n  级别: priority\n  类别: type\n  内容: description\n"
                       "  渠道来源: channel\n  内部代码: ~\n  日期: received_at\n"
                       "values:\n  priority: {P1: urgent, P2: important, P3: 一般}\n  channel: {400热线: phone}\n"
                       "defaults:\n  channel: email\n", encoding="utf-8")
    result = cli("import", path, "--mapping", mapping, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert "warning" not in result.stderr  # every column is mapped or ignored on purpose
    ids = [r["id"] for r in json.loads(result.stdout) if r["kind"] == "ticket"]
    assert ids == ["CW202611010007", "CW202611220001"]  # the sheet's own number is kept
    first, second = record(repo, ids[0]), record(repo, ids[1])
    assert (first["priority"], first["type"], first["channel"]) == ("urgent", "consultation", "phone")
    assert (second["priority"], second["type"], second["channel"]) == ("normal", "repair", "email")
    assert first["customer"] == second["customer"] == "C0001"  # one new customer for both rows


def test_bad_mapping_file_is_a_usage_error(cli, repo, tmp_path, seed002):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns:\n  单号: priorty\n", encoding="utf-8")
    result = cli("import", seed002, "--mapping", mapping)
    assert result.exit_code == 2
    assert "unknown field 'priorty' (did you mean 'priority'?)" in result.stderr
    mapping.write_text("columns: !!python/object/apply:os.system ['true']\n", encoding="utf-8")
    result = cli("import", seed002, "--mapping", mapping)
    assert result.exit_code == 2 and "refused YAML tag" in result.stderr


def test_existing_customer_is_reused_and_ids_are_kept_only_when_unique(cli, repo, tmp_path, customer):
    headers = ["工单编号", "客户名称", "问题类型", "问题等级", "问题描述", "受理时间"]
    rows = [["CW202611200003", "A公司", "咨询", "一般", "问发票", "2026-11-20 10:00"],
            ["CW202611200003", "A公司", "咨询", "一般", "又问发票", "2026-11-22 14:30"],
            ["../../etc/passwd", "A公司", "咨询", "一般", "路径", "2026-11-22 14:30"]]
    path = workbook(tmp_path / "t.xlsx", headers, rows)
    result = cli("import", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    made = json.loads(result.stdout)
    assert [r["kind"] for r in made] == ["ticket"] * 3  # A公司 exists: no new customer
    assert {r["customer"] for r in made} == {customer}
    assert made[0]["id"] == "CW202611200003"
    assert "appears again (row 2)" in result.stderr and "../../etc/passwd is not a ticket ID" in result.stderr
    assert [r["id"] for r in made[1:]] == ["CW202611220001", "CW202611220002"]  # received today: allocated so
    again = cli("import", path, "--format", "json")  # design 9.8: rows imported before are skipped, never doubled
    assert "skipped 3 row(s) imported before" in again.stderr and again.exit_code == 0
    assert cli("check").exit_code == 0


def test_personal_data_is_refused_per_row_unless_allowed(cli, repo, tmp_path):
    row = list(ROW_B)
    row[2] = "客户身份证 110101199003074477 要求退款"
    path = workbook(tmp_path / "t.xlsx", HEADERS_002, [ROW_A, row])
    result = cli("import", path)
    assert result.exit_code == 2
    assert "t.xlsx:3: 问题描述(含客户原话) (column C): looks like an identity-card number (1101" in result.stderr
    assert not list(repo.glob("tickets/*/*/*.yaml"))
    ok = cli("import", path, "--allow-pii", "--format", "json")
    assert ok.exit_code == 0, ok.stderr
    tid = json.loads(ok.stdout)[-1]["id"]
    assert record(repo, tid)["timeline"][0]["allow_pii"] is True
    assert cli("check").exit_code == 0


def test_customers_and_contacts_sheets(cli, repo, tmp_path):
    customers = workbook(tmp_path / "客户.xlsx", ["客户编号", "客户名称", "账户类型", "行业", "联系人", "联系方式"],
                         [["C0100", "示例科技", "企业客户", "制造", "李经理", "13812345678"],
                          [None, "王女士", "VIP", None, None, "wang@example.com"]])
    out = json.loads(cli.ok("import", customers, "--format", "json"))
    assert [r["id"] for r in out] == ["C0100", "C0101"]
    assert record(repo, "C0100")["contacts"] == [{"name": "李经理", "phone": "13812345678"}]
    assert record(repo, "C0101")["type"] == "vip"
    contacts = workbook(tmp_path / "沟通.xlsx", ["客户编号", "沟通渠道", "沟通时间", "核心诉求", "沟通协商要点"],
                        [["C0100", "电话", "2026-11-21 10:00", "要求换货", "三天内寄出；补偿运费"]])
    out = json.loads(cli.ok("import", contacts, "--format", "json"))
    doc = record(repo, out[0]["id"])
    assert out[0]["id"] == "GT202611210001"
    assert (doc["customer"], doc["channel"], doc["agreed"], doc["agent"]) == ("C0100", "phone",
                                                                           ["三天内寄出", "补偿运费"], "小明")
    assert cli("check").exit_code == 0


def test_unreadable_files_are_usage_errors(cli, repo, tmp_path):
    junk = tmp_path / "t.xlsx"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    result = cli("import", junk)
    assert result.exit_code == 2 and "cannot read t.xlsx as an Excel workbook" in result.stderr
    no_header = tmp_path / "t.csv"
    no_header.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    result = cli("import", no_header)
    assert result.exit_code == 2 and "no header row found" in result.stderr
    assert cli("import", tmp_path / "missing.csv").exit_code == 2


def test_skipped_rows_give_nothing_to_the_records_made(cli, repo, tmp_path):
    refused, kept = list(ROW_A), list(ROW_A)
    refused[1] = "110101199003074477"  # an identity-card number in 联系方式: the row is refused
    kept[1] = "5678"
    path = workbook(tmp_path / "t.xlsx", HEADERS_002, [refused, kept])
    result = cli("import", path, "--skip-invalid", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert "t.xlsx:2: 联系方式 (column B): looks like an identity-card number" in result.stderr
    made = json.loads(result.stdout)
    assert [(r["row"], r["kind"]) for r in made] == [(3, "customer"), (3, "ticket")]
    assert record(repo, made[0]["id"])["contacts"] == [{"phone": "5678"}]
    assert cli("check").exit_code == 0
