"""Typical cases and the 《服务经验手册》 (issue 18, design 9.5), through the commands; and praise by person for HR."""
from __future__ import annotations

import json

import openpyxl
import yaml

from conftest import TICKET, commit_count, git

OCT = {"CSLOG_NOW": "2026-10-20T10:00:00+08:00"}
REVIEW = {"CSLOG_NOW": "2026-10-31T16:00:00+08:00"}


def resolved(cli, customer, title, category, description, cause=None) -> str:
    args = ["new", "ticket", *TICKET[2:8], "--title", title, "--description", description, "--customer", customer,
            "--category", category]
    tid = cli.ok(*args, env=OCT)
    extra = ["--cause", cause] if cause else []
    cli.ok("status", tid, "resolved", "--solution", f"{title}: 已处理", *extra, env=OCT)
    return tid


def test_case_marks_a_resolved_ticket_with_lessons(cli, repo, customer, ticket):
    refused = cli("case", ticket, "--lesson", "还没解决")
    assert refused.exit_code == 2 and "resolved" in refused.stderr
    tid = resolved(cli, customer, "物流延误", "产品质量-物流延误", "快递一周没到")
    before = commit_count(repo)
    cli.ok("case", tid, "--lesson", "先核对单号", env=REVIEW)
    cli.ok("--as", "小红", "case", tid, "--lesson", "主动告知预计到达时间", env=REVIEW)
    assert commit_count(repo) == before + 2
    doc = yaml.safe_load(next(repo.glob(f"tickets/*/*/{tid}.yaml")).read_text(encoding="utf-8"))
    assert doc["lessons"] == [{"text": "先核对单号", "by": "小明", "at": "2026-10-31T16:00:00+08:00"},
                              {"text": "主动告知预计到达时间", "by": "小红", "at": "2026-10-31T16:00:00+08:00"}]
    assert [e["kind"] for e in doc["timeline"]][-2:] == ["case", "case"]
    assert "[典型案例]" in cli.ok("history", tid) and "经验:" in cli.ok("show", tid)
    pii = cli("case", tid, "--lesson", "客户身份证11010519491231002X")
    assert pii.exit_code == 2 and commit_count(repo) == before + 2
    assert cli("check").exit_code == 0


def test_the_handbook_by_category_masked_and_filed(cli, repo, customer, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the draft goes to the current folder
    late = resolved(cli, customer, "手环无法充电", "产品质量-充电", "充不进电,客户电话13812345678", cause="充电口进水")
    first = resolved(cli, customer, "物流延误", "产品质量-物流延误", "快递一周没到")
    old = resolved(cli, customer, "发票错误", "财务-发票", "抬头写错")
    cli.ok("case", late, "--lesson", "先问是否进水", env=REVIEW)
    cli.ok("case", first, "--lesson", "先核对单号", env=REVIEW)
    cli.ok("case", old, "--lesson", "九月的经验", env={"CSLOG_NOW": "2026-09-30T10:00:00+08:00"})
    text = cli.ok("handbook", "--month", "2026-10", "-o", "-")
    assert text.startswith("# 服务经验手册 2026-10")
    assert text.index("## 产品质量-充电") < text.index("## 产品质量-物流延误")  # by category
    assert f"### {late} 手环无法充电" in text and "**原因**: 充电口进水" in text and "**解决方案**:" in text
    assert "- **问题(客户原话)**: 充不进电,客户电话138****5678" in text and "13812345678" not in text
    assert "  - 先问是否进水 (小明, 2026-10-31)" in text
    assert old not in text and "九月的经验" not in text  # its lesson is September's
    assert "13812345678" in cli.ok("handbook", "--month", "2026-10", "-o", "-", "--no-mask")
    draft = cli("handbook", "--month", "2026-10")  # a draft in the current folder
    assert draft.exit_code == 0 and (tmp_path / "cslog-2026-10.md").read_text(encoding="utf-8") == text + "\n"
    before = commit_count(repo)
    filed = cli("-C", str(repo), "handbook", "--month", "2026-10", "--commit", env={"CSLOG_NOW": REVIEW["CSLOG_NOW"]})
    assert filed.exit_code == 0, filed.stderr
    assert (repo / "handbook/2026-10.md").read_text(encoding="utf-8").startswith("# 服务经验手册 2026-10")
    assert commit_count(repo) == before + 1 and git(repo, "status", "--porcelain") == ""
    assert "handbook 2026-10" in git(repo, "log", "-1", "--format=%s")
    again = cli("handbook", "--month", "2026-10", "--commit", env={"CSLOG_NOW": REVIEW["CSLOG_NOW"]})
    assert again.exit_code == 2 and "already says this" in again.stderr
    empty = cli.ok("handbook", "--month", "2026-08", "-o", "-")
    assert "本期没有典型案例" in empty


def test_the_workbook_has_a_typical_cases_sheet_when_there_are_cases(cli, repo, customer, tmp_path):
    tid = resolved(cli, customer, "物流延误", "产品质量-物流延误", "快递一周没到,电话13812345678")
    plain = tmp_path / "plain.xlsx"
    cli.ok("export", "--month", "2026-10", "-o", str(plain))
    assert openpyxl.load_workbook(plain).sheetnames == ["汇总", "工单明细", "沟通记录", "趋势"]
    cli.ok("case", tid, "--lesson", "先核对单号", env=REVIEW)
    book = tmp_path / "book.xlsx"
    cli.ok("export", "--month", "2026-10", "-o", str(book))
    sheet = openpyxl.load_workbook(book)["典型案例"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["工单编号", "问题分类", "标题"]
    assert rows[1][0] == tid and rows[1][1] == "产品质量-物流延误" and "138****5678" in rows[1][3]
    assert rows[1][-1].startswith("先核对单号 (小明, 2026-10-31)")


def test_praise_by_person_with_the_tickets_for_hr(cli, repo, customer):
    praise = ["new", "ticket", "--type", "表扬", "--priority", "一般", "--channel", "电话", "--customer", customer,
              "--description", "服务很好"]
    one = cli.ok(*praise, "--title", "表扬小丽", "--praised", "小丽", env=OCT)
    two = cli.ok(*praise, "--title", "再次表扬小丽", "--praised", "小丽", env=OCT)
    data = json.loads(cli.ok("report", "--month", "2026-10", "--format", "json"))
    assert data["praise"]["by_person"] == {"小丽": 2} and data["praise"]["tickets"] == {"小丽": sorted([one, two])}
    assert one in cli.ok("report", "--month", "2026-10")
