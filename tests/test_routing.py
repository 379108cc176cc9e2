"""Routing rules (issue 19, first part; design 9.6): a new ticket without an owner or department gets them from
the first matching rule of cslog.yaml, recorded as `assigned` by the rule's name; `cslog route ID`; `check`."""
from __future__ import annotations

import pytest
import yaml

from conftest import commit_count

RULES = """routing:
  - {name: 质量问题转品控部, when: {type: complaint, category: 产品质量}, then: {department: 品控部}}
  - {name: VIP故障转技术部, when: {type: 故障, customer_type: vip}, then: {department: 技术部, owner: 小强}}
  - {name: 服务问题转运营部, when: {category: 服务}, then: {department: 运营部, owner: 老周}}
"""
PEOPLE = """agents:
  - {id: a1, name: 小明, department: 客服部}
  - {id: a2, name: 老周, department: 运营部}
  - {id: a3, name: 小强, department: 技术部}
departments: [客服部, 运营部, 品控部, 技术部]
"""


@pytest.fixture
def routed(repo, cli):
    path = repo / "cslog.yaml"
    text = path.read_text(encoding="utf-8").replace("agents: []\n", "").replace("departments: []\n", "")
    path.write_text(text.replace("routing: []\n", RULES + PEOPLE), encoding="utf-8")
    assert cli("check").exit_code == 0, cli("check").stdout
    return cli


def new(cli, *args: str) -> dict:
    tid = cli.ok("new", "ticket", "--priority", "重要", "--channel", "电话", "--title", "t", "--description", "d", *args)
    return yaml.safe_load(next(cli.repo.glob(f"tickets/*/*/{tid}.yaml")).read_text(encoding="utf-8"))


def test_a_new_ticket_takes_the_first_matching_rule(routed, customer):
    quality = new(routed, "--customer", customer, "--type", "投诉", "--category", "产品质量-物流延误")
    assert (quality["department"], quality.get("owner")) == ("品控部", None)
    assert quality["timeline"][-1] == {"at": "2026-11-22T14:30:00+08:00", "by": "质量问题转品控部", "kind": "assigned",
                                       "department": "品控部", "note": "分派规则: 质量问题转品控部"}
    service = new(routed, "--customer", customer, "--type", "投诉", "--category", "服务-态度")
    assert (service["department"], service["owner"]) == ("运营部", "老周")
    vip = routed.ok("new", "customer", "--name", "V公司", "--type", "vip")
    fault = new(routed, "--customer", vip, "--type", "故障")
    assert (fault["department"], fault["owner"]) == ("技术部", "小强")
    given = new(routed, "--customer", customer, "--type", "投诉", "--category", "服务-态度", "--owner", "小明")
    assert (given["owner"], given["department"]) == ("小明", "客服部")  # an owner given: nothing to route
    plain = new(routed, "--customer", customer, "--type", "咨询")
    assert not plain.get("department") and len(plain["timeline"]) == 1


def test_route_applies_the_rules_to_a_ticket_that_exists(routed, customer, repo):
    tid = routed.ok("new", "ticket", "--customer", customer, "--type", "咨询", "--priority", "一般", "--channel",
                    "电话", "--title", "态度", "--description", "d")
    before = commit_count(repo)
    none = routed("route", tid)
    assert none.exit_code == 2 and "no routing rule matches" in none.stderr and commit_count(repo) == before
    routed.ok("set", tid, "category=服务-态度")
    result = routed("route", tid)
    assert result.exit_code == 0 and "运营部 / 老周 (服务问题转运营部)" in result.stderr
    assert "[分派]" in routed.ok("history", tid)
    again = routed("route", tid)
    assert again.exit_code == 2 and "already" in again.stderr


def test_check_names_unknown_people_in_rules_with_a_suggestion(routed, repo):
    path = repo / "cslog.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("owner: 老周", "owner: 老舟"), encoding="utf-8")
    check = routed("check")
    assert check.exit_code == 1 and "unknown agent '老舟'" in check.stdout and "老周" in check.stdout
    path.write_text(path.read_text(encoding="utf-8").replace("type: 故障", "type: 坏了"), encoding="utf-8")
    assert "unknown" in routed("check").stdout
