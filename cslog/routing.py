"""Routing rules (seed 004: 根据问题类型分派至对应责任人; seed 003: 质量问题转品控部,服务问题转运营部): `routing:` in
cslog.yaml, a list of `{name, when: {type, category, channel, customer_type}, then: {department, owner}}`.

The first rule whose every `when` matches gives a new ticket without an owner or department what it lacks (an
`assigned` event by the rule's name); `cslog route ID` applies them to a ticket that exists. `category` matches by
prefix (产品质量 matches 产品质量-物流延误); the others take codes or labels.
"""
from __future__ import annotations

from typing import Any

from cslog.model import CHANNEL, CUSTOMER_TYPE, TICKET_TYPE

WHEN = {"type": TICKET_TYPE, "channel": CHANNEL, "customer_type": CUSTOMER_TYPE, "category": None}
THEN = ("department", "owner")


def rule_problems(rules: Any, agents: list, departments: list) -> list[tuple[tuple, str]]:
    """What is wrong with cslog.yaml's `routing:` (path, message): shapes, codes, unknown people."""
    from cslog import people
    from cslog.errors import UsageError

    if not isinstance(rules, list):
        return [(("routing",), "routing must be a list of rules {name, when: {...}, then: {...}}")]
    problems = []
    for i, rule in enumerate(rules):
        where = ("routing", i)
        if not isinstance(rule, dict) or not rule.get("name") or not isinstance(rule.get("then"), dict):
            problems.append((where, "a rule needs a name and then: {department, owner}"))
            continue
        when = rule.get("when") or {}
        if not isinstance(when, dict):
            problems.append((where + ("when",), "when must be a mapping (type, category, channel, customer_type)"))
            continue
        for key, value in when.items():
            if key not in WHEN:
                problems.append((where + ("when", key), f"unknown condition '{key}' (use {', '.join(WHEN)})"))
            elif WHEN[key] is not None:
                try:
                    WHEN[key].parse(value)
                except UsageError as exc:
                    problems.append((where + ("when", key), exc.message))
        then = rule["then"]
        for key in then:
            if key not in THEN:
                problems.append((where + ("then", key), f"unknown result '{key}' (use department, owner)"))
        for key, entries, what in (("owner", agents, "agent"), ("department", departments, "department")):
            if then.get(key) is not None:
                try:
                    people.resolve(tuple(entries), str(then[key]), what)
                except UsageError as exc:
                    problems.append((where + ("then", key), exc.message + (f" ({exc.hint})" if exc.hint else "")))
    return problems


def first_match(rules: list[dict], ticket: dict, customer_type: str | None) -> dict | None:
    """The first rule whose every condition the ticket meets, or None."""
    for rule in rules or []:
        when = rule.get("when") or {}
        if all(_meets(key, value, ticket, customer_type) for key, value in when.items()):
            return rule
    return None


def _meets(key: str, value: Any, ticket: dict, customer_type: str | None) -> bool:
    if key == "category":
        return str(ticket.get("category") or "").startswith(str(value))
    have = customer_type if key == "customer_type" else ticket.get(key)
    return have is not None and have == WHEN[key].parse(value)


def routed(rule: dict, ticket: dict, settings: Any, at: str, only_missing: bool = True) -> dict | None:
    """The `assigned` event the rule makes of the ticket (owner and department it gives that the ticket lacks,
    or all it gives), or None when it gives nothing new."""
    from cslog import people

    then = rule.get("then") or {}
    owner = people.resolve(settings.agents, then.get("owner"), "agent") if then.get("owner") else None
    department = people.resolve(settings.departments, then.get("department"), "department") \
        if then.get("department") else None
    if owner and not department:
        department = people.department_of(settings.agents, owner)
    if only_missing:
        owner = owner if not ticket.get("owner") else None
        department = department if not ticket.get("department") else None
    owner = owner if owner != ticket.get("owner") else None
    department = department if department != ticket.get("department") else None
    if not owner and not department:
        return None
    event = {"at": at, "by": str(rule.get("name")), "kind": "assigned", "owner": owner or ticket.get("owner"),
             "department": department or ticket.get("department"), "note": f"分派规则: {rule.get('name')}"}
    return {k: v for k, v in event.items() if v}


def apply(doc: dict, settings: Any, customer_type: str | None, at: str,
          only_missing: bool = True) -> tuple[dict | None, dict | None]:
    """(the rule that matched or None, its `assigned` event or None): the first matching rule's department and
    owner set on the ticket document (in place), the event appended to its timeline."""
    rule = first_match(list(settings.routing), doc, customer_type)
    event = routed(rule, doc, settings, at, only_missing) if rule else None
    if event is not None:
        doc.update(owner=event.get("owner"), department=event.get("department"))
        doc["timeline"] = list(doc.get("timeline") or []) + [event]
    return rule, event
