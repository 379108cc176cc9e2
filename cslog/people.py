"""Agents and departments: free text, unless cslog.yaml lists them; then names must be on the list."""
from __future__ import annotations

import difflib

from cslog.errors import UsageError


def resolve(entries: tuple, value: str | None, what: str) -> str | None:
    """The listed name for `value` (matched by id or name); free text when nothing is listed. Either way a
    name is one line of printable text without personal data (it reaches commits and git's author)."""
    if value is None or value == "":
        return value
    value = checked_name(str(value).strip(), what)
    if not entries:
        return value
    for entry in entries:
        if value in (entry["id"], entry["name"]):
            return entry["name"]
    raise UsageError(f"unknown {what} '{value}' (cslog.yaml lists the {what}s)", hint=suggest(entries, value, what))


def checked_name(name: str, what: str, source: str = "") -> str:
    """`name` when it is one line of printable text without an identity-card or bank-card number; UsageError
    otherwise (a name lands in the record, the timeline, the commit subject and git's author, for good)."""
    import unicodedata

    from cslog import privacy

    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
        raise UsageError(f"the {what} name{source} {name!r} holds a line break or a control character: a name "
                         "is one line of printable text")
    found = privacy.find_pii(name)
    if found:
        raise UsageError(f"the {what} name{source} holds what looks like an {found[0].label} "
                         f"({found[0].masked}): a name never holds personal data (严禁记录客户敏感信息)",
                         hint=f"give the {what}'s name alone")
    return name


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
        return checked_name(name, "acting agent", f" (from {source})")
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
