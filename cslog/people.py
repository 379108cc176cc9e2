"""Agents and departments: free text, unless cslog.yaml lists them; then names must be on the list."""
from __future__ import annotations

import difflib

from cslog.errors import UsageError


def resolve(entries: tuple, value: str | None, what: str) -> str | None:
    """The listed name for `value` (matched by id or name); free text when nothing is listed."""
    if value is None or value == "":
        return value
    value = str(value).strip()
    if not entries:
        return value
    for entry in entries:
        if value in (entry["id"], entry["name"]):
            return entry["name"]
    raise UsageError(f"unknown {what} '{value}' (cslog.yaml lists the {what}s)", hint=suggest(entries, value, what))


def suggest(entries: tuple, value: str, what: str) -> str:
    """Every listed name as close to `value` as the closest (小莉: 小丽 and 小明 alike), else the list."""
    names = list(dict.fromkeys([e["name"] for e in entries] + [e["id"] for e in entries]))
    scores = {n: difflib.SequenceMatcher(None, value, n).ratio() for n in names}
    best = max(scores.values(), default=0.0)
    close = [n for n in names if scores[n] >= 0.4 and scores[n] >= best - 1e-9]
    if close:
        return "did you mean " + " or ".join(f"'{n}'" for n in close) + "?"
    return f"known {what}s: {', '.join(e['name'] for e in entries)}"


def actor(entries: tuple, name: str, source: str) -> str:
    """Who acts (--as, $CSLOG_AGENT, git's user.name...): when cslog.yaml lists the agents, one of them,
    whichever way the name came; `source` says which, for the message."""
    if not entries:
        return name
    try:
        return resolve(entries, name, "agent") or name
    except UsageError as exc:
        raise UsageError(f"{exc.message}: the actor, from {source}",
                         hint=f"{exc.hint}; say who acts with --as NAME or $CSLOG_AGENT") from None


def department_of(entries: tuple, name: str | None) -> str | None:
    for entry in entries:
        if name in (entry["id"], entry["name"]):
            return entry.get("department")
    return None
