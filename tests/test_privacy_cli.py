"""Personal data through the commands: `check` finds it in any text of any record; writes refuse it unless
--allow-pii, which leaves its trace in the record."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import TICKET, commit_count

from cslog.privacy import is_bank_card, is_id_card

ID_CARD = "11010519491231002X"  # GB 11643's example: a valid check digit
ID_CARD_2 = "440305199001011234"[:17]
BANK_CARD = "6222021234567890128"  # Luhn-valid, a UnionPay prefix
SPACED_CARD = "4111 1111 1111 1111"


def _check_digit(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights)) % 11]


ID_CARD_2 += _check_digit(ID_CARD_2)

# What customer-service text is full of, and must not be flagged.
NEGATIVES = [
    "订单号 DD20261122000123", "订单 202611220001234567", "京东订单 312345678901",
    "联系电话 13812345678", "座机 010-62345678", "400-820-8820",
    "顺丰 SF1234567890123", "圆通 YT7712345678901", "中通 75312345678901", "EMS 1180123456789",
    "退款 ¥1,280.00", "多扣费200元", "金额 2000000000000 元", "2026-11-22 14:30", "20261122143000",
    "工单 CW202611220001", "沟通记录 GT202611220001",
    ID_CARD[:17] + "1",  # an ID-card-shaped number with a wrong check digit
]


def test_the_sample_numbers_are_what_they_claim():
    assert is_id_card(ID_CARD) and is_id_card(ID_CARD_2)
    assert is_bank_card(BANK_CARD) and is_bank_card(SPACED_CARD.replace(" ", ""))


def edit(path: Path, change) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def pii_problems(cli) -> list[tuple[str, str]]:
    result = cli("check", "--format", "json")
    return sorted((p["path"], p["field"]) for p in json.loads(result.stdout)["problems"] if p["code"] == "pii")


@pytest.fixture
def contact(cli, customer) -> str:
    return cli.ok("new", "--customer", customer, "--channel", "phone", "--request", "要求换货", "--agreed", "三天内寄出")


def test_check_finds_numbers_in_nested_text_of_every_kind(cli, repo, customer, ticket, contact):
    ticket_file = next(repo.glob(f"tickets/*/*/{ticket}.yaml"))
    contact_file = next(repo.glob(f"contacts/*/*/{contact}.yaml"))
    customer_file = repo / "customers" / f"{customer}.yaml"
    edit(ticket_file, lambda d: d["timeline"].append(
        {"at": "2026-11-22T15:00:00+08:00", "by": "小明", "kind": "note", "text": f"客户报身份证 {ID_CARD} 核实"}))
    edit(ticket_file, lambda d: d.update(callbacks=[{"at": "2026-11-22T16:00:00+08:00", "result":
                                                     f"退款至 {SPACED_CARD}"}]))
    edit(contact_file, lambda d: d["agreed"].append(f"退款到卡号{BANK_CARD}"))
    edit(customer_file, lambda d: d["contacts"].append({"name": "王先生", "phone": ID_CARD_2}))
    assert cli("check").exit_code == 1
    rel = lambda p: str(p.relative_to(repo))  # noqa: E731
    assert pii_problems(cli) == sorted([
        (rel(ticket_file), "timeline.1.text"), (rel(ticket_file), "callbacks.0.result"),
        (rel(contact_file), "agreed.1"), (rel(customer_file), "contacts.1.phone")])
    text = cli("check").stdout
    assert f"timeline.1.text: personal data: identity-card number 1101{'*' * 10}002X" in text
    assert f"agreed.1: personal data: bank-card number 6222{'*' * 11}0128" in text


def test_realistic_negatives_are_not_flagged(cli, repo, customer, ticket, contact):
    ticket_file = next(repo.glob(f"tickets/*/*/{ticket}.yaml"))
    contact_file = next(repo.glob(f"contacts/*/*/{contact}.yaml"))
    for i, text in enumerate(NEGATIVES):
        edit(ticket_file, lambda d, t=text, i=i: d["timeline"].append(
            {"at": f"2026-11-22T15:{i:02d}:00+08:00", "by": "小明", "kind": "note", "text": t}))
    edit(ticket_file, lambda d: d.update(description="; ".join(NEGATIVES)))
    edit(contact_file, lambda d: d.update(agreed=NEGATIVES, references="、".join(NEGATIVES)))
    result = cli("check")
    assert result.exit_code == 0, result.stdout


@pytest.mark.parametrize("number", [ID_CARD, BANK_CARD, SPACED_CARD])
def test_writes_refuse_personal_data(cli, repo, customer, ticket, number):
    before = commit_count(repo)
    for args in ([*TICKET, "--customer", customer, "--expectation", f"退到 {number}"],
                 ["note", ticket, f"客户证件 {number}"], ["reply", ticket, f"已记录 {number}"],
                 ["new", "--customer", customer, "--channel", "phone", "--request", "退款", "--agreed", f"卡 {number}"],
                 ["new", "customer", "--name", "王先生", "--notes", f"证件 {number}"]):
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "严禁记录客户敏感信息" in result.stderr and number not in result.stderr
    assert commit_count(repo) == before


def test_allow_pii_is_recorded_in_the_record(cli, repo, customer, ticket):
    cli.ok("note", ticket, f"法务要求留存身份证 {ID_CARD}", "--allow-pii")
    doc = json.loads(cli.ok("show", ticket, "--format", "json"))
    assert doc["timeline"][-1]["allow_pii"] is True and doc["timeline"][-1]["by"] == "小明"

    new_ticket = cli.ok(*TICKET, "--customer", customer, "--expectation", f"退到 {BANK_CARD}", "--allow-pii")
    created = json.loads(cli.ok("show", new_ticket, "--format", "json"))["timeline"][0]
    assert created["kind"] == "created" and created["allow_pii"] is True

    contact = cli.ok("new", "--customer", customer, "--channel", "phone", "--request", "退款",
                     "--agreed", f"退到 {BANK_CARD}", "--allow-pii")
    assert json.loads(cli.ok("show", contact, "--format", "json"))["allow_pii"] == {
        "at": "2026-11-22T14:30:00+08:00", "by": "小明"}

    other = cli.ok("new", "customer", "--name", "王先生", "--notes", f"证件 {ID_CARD_2}", "--allow-pii")
    assert json.loads(cli.ok("show", other, "--format", "json"))["allow_pii"] == {
        "at": "2026-11-22T14:30:00+08:00", "by": "小明"}
    # what was allowed on purpose is not reported again
    assert cli("check").exit_code == 0, cli("check").stdout


def test_plain_records_carry_no_allowance(cli, repo, customer, ticket):
    assert "allow_pii" not in json.loads(cli.ok("show", customer, "--format", "json"))
    assert all("allow_pii" not in e for e in json.loads(cli.ok("show", ticket, "--format", "json"))["timeline"])
