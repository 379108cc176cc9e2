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
    names = [e["name"] for e in entries] + [e["id"] for e in entries if e["id"] != e["name"]]
    close = difflib.get_close_matches(value, names, n=1, cutoff=0.4)
    hint = f"did you mean '{close[0]}'?" if close else f"known {what}s: {', '.join(e['name'] for e in entries)}"
    raise UsageError(f"unknown {what} '{value}' (cslog.yaml lists the {what}s)", hint=hint)


def department_of(entries: tuple, name: str | None) -> str | None:
    for entry in entries:
        if name in (entry["id"], entry["name"]):
            return entry.get("department")
    return None
