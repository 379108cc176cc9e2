"""Personal data: identity-card and bank-card numbers found; order and phone numbers left alone; masking."""
from __future__ import annotations

import pytest

from cslog.privacy import find_pii, is_id_card, luhn_ok, mask

ID_CARD = "11010519491231002X"  # GB 11643 example number: valid check digit
BANK_CARD = "6222021234567890128"  # passes Luhn


def test_id_card_check_digit():
    assert is_id_card(ID_CARD)
    assert not is_id_card("110105194912310021")  # wrong check digit
    assert not is_id_card("110105194913310029")  # month 13


def test_luhn():
    assert luhn_ok(BANK_CARD) and luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")


@pytest.mark.parametrize("text,kind", [
    (f"客户身份证号{ID_CARD},要求核实", "id_card"),
    (f"退款到银行卡 {BANK_CARD}", "bank_card"),
    ("卡号 4111 1111 1111 1111 请退款", "bank_card"),
])
def test_found(text, kind):
    assert [f.kind for f in find_pii(text)] == [kind]


@pytest.mark.parametrize("text", [
    "联系电话 13812345678", "座机 010-62345678", "订单号 DD20261122000123", "物流单号 SF1234567890123",
    "订单 202611220001234567", "工单 CW202611220001", "金额 2000000000000 元?", "1234567890123",
    "快递 YT7712345678901", "时间 20261122143000",
])
def test_not_found(text):
    assert find_pii(text) == []


def test_mask():
    assert mask("电话 13812345678,邮箱 zhang.san@example.com") == "电话 138****5678,邮箱 z***@example.com"
    assert mask("座机 010-62345678") == "座机 010-****5678"
