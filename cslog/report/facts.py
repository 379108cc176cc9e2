"""The facts of one ticket that a period's figures are counted from, and the reading of a period's records.

What design.md section 5 leaves open, decided here:

- Handling time runs from received_at until the ticket was resolved or closed (the start of its
  current resolved/closed spell: a reopened ticket counts to its final resolution), only for tickets
  resolved by `now`; wall clock in `handling_hours`, business hours of the working calendar in
  `handling_business_hours`.
- Satisfaction is the ticket's `satisfaction.score` (`cslog rate`); callback scores are reported under
  `callbacks`, from the latest callback of each ticket.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cslog.errors import UsageError
from cslog.model import DONE_STATUSES, OPEN_STATUSES, SCORES, callbacks
from cslog.store import Store


# -- one ticket ---------------------------------------------------------------------------------------

@dataclass(slots=True)
class Facts:
    """What the figures need of one ticket, judged at `now` (the file itself is not kept)."""

    id: str
    received: datetime
    type: str | None
    priority: str | None
    status: str | None
    channel: str | None
    category: str | None
    owner: str | None
    department: str | None
    clocks: dict  # clock kind -> sla.Clock
    done_at: datetime | None  # resolved at (the start of its current resolved spell); None when not resolved
    closed_unresolved: bool  # closed without having been resolved (a duplicate, a withdrawn request)
    reopened: bool  # went back to work after a resolution or a close, at least once
    hours: float | None
    business_hours: float | None
    score: int | None
    callback_solved: bool | None
    callback_score: int | None
    called_back: bool
    decision: str | None
    praised: str | None

    def state(self, kind: str) -> str | None:
        clock = self.clocks.get(kind)
        return clock.state if clock is not None else None


def ticket_facts(doc: Mapping[str, Any], received: datetime, policy, cal, now: datetime) -> Facts:
    """The facts of one ticket; ValueError when its times cannot be read (sla says which)."""
    from cslog.sla import closed_unresolved, clocks

    found = {c.kind: c for c in clocks(doc, policy, cal, now)}
    resolve = found.get("resolve")
    unresolved = closed_unresolved(doc, cal, now)  # no handling time
    done = resolve.stopped if resolve is not None and not unresolved else None
    hours = business = None
    if done is not None:
        hours = max((done - received).total_seconds(), 0) / 3600
        business = cal.business_between(received, done).total_seconds() / 3600
    satisfaction = doc.get("satisfaction")
    score = satisfaction.get("score") if isinstance(satisfaction, Mapping) else None
    calls = callbacks(doc)
    last_call = max(calls, key=lambda c: str(c.get("at") or ""), default=None)
    decision = doc.get("decision")
    return Facts(
        id=str(doc.get("id") or ""), received=received, type=doc.get("type"), priority=doc.get("priority"),
        status=doc.get("status"), channel=doc.get("channel"), category=_text(doc.get("category")),
        owner=_text(doc.get("owner")), department=_text(doc.get("department")), clocks=found, done_at=done,
        closed_unresolved=unresolved, reopened=_reopened(doc),
        hours=hours, business_hours=business, score=score if _is_score(score) else None,
        callback_solved=last_call.get("solved") if last_call and isinstance(last_call.get("solved"), bool) else None,
        callback_score=last_call.get("score") if last_call and _is_score(last_call.get("score")) else None,
        called_back=last_call is not None,
        decision=decision.get("result") if isinstance(decision, Mapping) else None,
        praised=_text(doc.get("praised")),
    )


def _reopened(doc: Mapping[str, Any]) -> bool:
    """Whether the timeline moves the ticket from resolved or closed back to an open status."""
    return any(isinstance(e, Mapping) and e.get("kind") == "status" and e.get("from") in DONE_STATUSES
               and e.get("to") in OPEN_STATUSES for e in doc.get("timeline") or [])


def _text(value: Any) -> str | None:
    return str(value).strip() or None if value not in (None, "") else None


def _is_score(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in SCORES


# -- the period's records -----------------------------------------------------------------------------

_TIME_LINE = {name: re.compile(rf"^{name}:[ \t]*['\"]?([0-9][0-9T:. +\-Z]*?)['\"]?[ \t]*(?:#.*)?$", re.M)
              for name in ("received_at", "started_at")}


def records_in(index, kind: str, window: tuple[datetime, datetime],
               slot: Callable[[datetime], int | None],
               summary: bool = False) -> Iterator[tuple[str, tuple[dict, datetime, int]]]:
    """(path, (document, its received_at / started_at, slot)) of the records of a kind (tickets: compact
    documents; summary=True: only the summary fields) received within `window` and in a slot, by path,
    from the index."""
    for path, moment, doc in index.dated(kind, window[0], window[1], summary):
        i = slot(moment)
        if i is not None:
            yield path, (doc, moment, i)


def unreadable(store: Store, index, kind: str, when: str, slot: Callable[[datetime], int | None],
               problems: list[str]) -> None:
    """The records of a kind the index could not read or date, read again (load_in): those whose `when`
    time may fall in a slot go to `problems`, with what is wrong."""
    for path in sorted([p for p, _m in index.problems(kind)] + index.undated(kind), key=lambda p: p.split("/")):
        try:
            if load_in(store, kind, store.root / path, when, store.settings.tz, slot) is not None:
                raise ValueError(f"{when} changed since it was indexed")
        except (UsageError, ValueError) as exc:
            problems.append(str(exc) if isinstance(exc, UsageError) else f"{path}: {exc}")


def load_in(store: Store, kind: str, path: Path, when: str, tz, slot: Callable[[datetime], int | None]):
    """(doc, time, slot) of a record file whose `when` time falls in a slot, else None. The time line is
    read before the YAML, so records of other periods cost a file read only. UsageError for a file
    that is not YAML, ValueError for one whose time is missing or unreadable."""
    from cslog.timeutil import parse_time
    from cslog.yamlio import read_text

    text = read_text(path)
    quick = _TIME_LINE[when].search(text)
    if quick:
        try:
            if slot(parse_time(quick.group(1), tz)) is None:
                return None
        except UsageError:
            pass  # let the full read below say what is wrong
    doc = store.read_path(kind, path).doc
    if doc.get(when) in (None, ""):
        raise ValueError(f"{when} is missing")
    try:
        moment = parse_time(str(doc[when]), tz, when)
    except UsageError as exc:
        raise ValueError(exc.message) from None
    i = slot(moment)
    return None if i is None else (doc, moment.astimezone(tz), i)
