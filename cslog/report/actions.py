"""The improvement actions in the report (design 9.5; JSON key `actions`): the period's open, done and late
actions by department, and for each action done in an earlier period whether its problem's count fell after it.

What design.md leaves open, decided here:
- An action belongs to a period when it was open at some moment of it: created before the period ends, and
  not done or dropped before it began. Its status is judged at the period's end, or at `now` when that is
  earlier (a report of this month says what stands today).
- `done` and `dropped` count the actions done (dropped) within the period; `open` those still open at its
  end; `late` those open past their due at that moment, and those done within the period after their due.
- A problem counts the tickets of its category and of its sub-categories (model.in_category).
- `effects`: every action done by the end of the period (back to the report's lookback of 12 periods), with
  the count of its problem in the period in which it was done (`before`) and in each period since, up to `now`
  (`after`, oldest first, also past the report's period: the October report read in December says whether
  the problem fell in November; `partial` marks a period still running at `now`). `fell` is true when every
  whole period since counted fewer, false when one did not, null when no whole period has passed.
  `effective` is what the review said (`cslog action review`), null before a review.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any, Callable

from cslog.model import in_category
from cslog.period import Period
from cslog.timeutil import instant

LATER = 12  # periods after the report's that an action's effect is followed into (up to now)


def closed_at(doc: dict, tz) -> datetime | None:
    """When an action was done or dropped (done_at; the last `dropped` event, else its creation); None while
    it is open."""
    status = doc.get("status")
    if status == "done":
        return instant(str(doc["done_at"]), tz)
    if status == "dropped":
        when = next((e.get("at") for e in reversed(doc.get("timeline") or [])
                     if isinstance(e, dict) and e.get("kind") == "dropped" and e.get("at")), doc.get("created_at"))
        return instant(str(when), tz)
    return None


def status_at(doc: dict, moment: datetime, tz) -> str:
    """An action's status just before a moment (open until it was done or dropped): at a period's end, one done
    at 00:00 of the next month's first day belongs to the next month."""
    closed = closed_at(doc, tz)
    return str(doc.get("status")) if closed is not None and closed < moment else "open"


def is_late(doc: dict, moment: datetime, tz) -> bool:
    """Whether an action missed its due as things stood at a moment: still open past it, or done after it."""
    due = instant(str(doc["due_at"]), tz)
    status = status_at(doc, moment, tz)
    if status == "done":
        return closed_at(doc, tz) > due  # type: ignore[operator]
    return status == "open" and due < moment


def problem_count(counted: Counter, problem: str) -> int:
    return sum(n for category, n in counted.items() if in_category(category, problem))


def actions_figures(docs: list[dict], periods: list[Period], categories: list[Counter], now: datetime, tz,
                    count: Callable[[Period], Counter]) -> dict:
    """The `actions` key of the report of periods[-1]; `categories` counts each period's tickets by category
    (both oldest first), `count` those of a period after it. A period may still be running at `now`: its count
    is partial, and `fell` is judged on whole periods."""
    since, until = periods[-1].bounds(tz)
    end = min(until, now)
    items, by_department = [], defaultdict(lambda: {"open": 0, "done": 0, "dropped": 0, "late": 0})
    totals = Counter()
    for doc in docs:
        created, closed = instant(str(doc["created_at"]), tz), closed_at(doc, tz)
        if created >= end or (closed is not None and closed < since):
            continue
        status, late = status_at(doc, end, tz), is_late(doc, end, tz)
        department = str(doc.get("department") or "")
        for key, counts in (("open", status == "open"), ("done", status == "done"),
                            ("dropped", status == "dropped"), ("late", late)):
            by_department[department][key] += counts
            totals[key] += counts
        items.append(_item(doc, status, late))
    items.sort(key=lambda a: (a["department"] or "", a["due_at"], a["id"]))
    return {"total": len(items), **{k: totals[k] for k in ("open", "done", "dropped", "late")},
            "by_department": dict(sorted(by_department.items())), "items": items,
            "effects": _effects(docs, periods, categories, until, now, tz, count)}


def _item(doc: dict, status: str, late: bool) -> dict:
    review = doc.get("review") if isinstance(doc.get("review"), dict) else {}
    return {"id": doc.get("id"), "title": doc.get("title"), "problem": doc.get("problem"), "measure": doc.get("measure"),
            "owner": doc.get("owner"),
            "department": doc.get("department"), "due_at": doc.get("due_at"), "status": status,
            "done_at": doc.get("done_at") if status == "done" else None, "late": late,
            "tickets": list(doc.get("tickets") or []), "effective": review.get("effective")}


def _effects(docs: list[dict], periods: list[Period], categories: list[Counter], until: datetime, now: datetime,
             tz, count: Callable[[Period], Counter]) -> list[dict]:
    done_by = [d for d in docs if d.get("status") == "done" and closed_at(d, tz) < min(until, now)]  # type: ignore
    if not done_by:
        return []
    periods, categories = list(periods), list(categories)
    while len(periods) < len(categories) + LATER and periods[-1].shifted(-1).bounds(tz)[0] < now:  # (up to now)
        periods.append(periods[-1].shifted(-1))
        categories.append(count(periods[-1]))
    spans = [p.bounds(tz) for p in periods]
    out: list[dict[str, Any]] = []
    for doc in done_by:
        done = closed_at(doc, tz)
        if done < spans[0][0]:  # type: ignore[operator]
            continue
        i = next(k for k, (a, b) in enumerate(spans) if a <= done < b)
        problem = str(doc.get("problem") or "")
        before = problem_count(categories[i], problem)
        after = [{"label": periods[k].label, "count": problem_count(categories[k], problem),
                  "partial": spans[k][1] > now} for k in range(i + 1, len(periods))]
        whole = [a for a in after if not a["partial"]]
        review = doc.get("review") if isinstance(doc.get("review"), dict) else {}
        out.append({"id": doc.get("id"), "title": doc.get("title"), "problem": problem, "measure": doc.get("measure"),
                    "owner": doc.get("owner"), "department": doc.get("department"), "due_at": doc.get("due_at"),
                    "done_at": doc.get("done_at"), "done_in": periods[i].label, "tickets": list(doc.get("tickets") or []),
                    "late": done > instant(str(doc["due_at"]), tz),
                    "before": before, "after": after,
                    "fell": all(a["count"] < before for a in whole) if whole else None,
                    "effective": review.get("effective")})
    return sorted(out, key=lambda e: (str(e["done_at"]), str(e["id"])))
