"""Ticket workflow rules: which status may follow which, what resolving and closing need, batch complaints.

Pure rules over ticket documents and the settings (ops.tickets applies them to the store).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable

from cslog.errors import Refused, UsageError
from cslog.model import (DECISION, DONE_STATUSES, LOW_SCORE, OPEN_STATUSES, SOLUTION_TYPES, STATUS, TICKET_TYPE,
                         callbacks, field_label)

# design.md section 3: from -> allowed next statuses, in the order a team usually takes them.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("in_progress", "waiting", "escalated", "resolved", "closed"),
    "in_progress": ("waiting", "escalated", "resolved"),
    "waiting": ("in_progress", "escalated", "resolved"),
    "escalated": ("in_progress", "waiting", "resolved"),
    "resolved": ("closed", "in_progress"),
    "closed": ("in_progress",),
}


def both(status: str) -> str:
    """A status as `code (标签)`: messages are in English, the team reads the Chinese label."""
    return f"{status} ({STATUS.label(status, 'zh')})"


def allowed_next(status: str) -> tuple[str, ...]:
    """The statuses a ticket in `status` may move to (none for an unknown status)."""
    return TRANSITIONS.get(status, ())


def check_transition(doc: dict, to: str, *, settings: Any, solution: str | None = None,
                     reason: str | None = None, skip_callback: bool = False) -> None:
    """Raise Refused unless the ticket `doc` may move to `to` with what is given (everything a close
    still needs is said at once).

    `doc` is the ticket as it will be apart from its status (fields set by the same command, such as
    a category, already in it); `solution`, `reason` and `skip_callback` are the ones given with the move.
    """
    tid = doc.get("id", "the ticket")
    current = doc.get("status") or "new"
    if to == current:
        raise Refused(f"{tid} is already {both(to)}")
    allowed = allowed_next(current)
    if to not in allowed:
        raise Refused(f"cannot move {tid} from {both(current)} to {both(to)}; allowed next: "
                      + (", ".join(both(s) for s in allowed) or "nothing"),
                      hint=f"e.g. cslog status {tid} {allowed[0]}" if allowed else None)
    if skip_callback and to != "closed":
        raise UsageError("--skip-callback goes with closing a ticket", hint=f"cslog status {tid} closed "
                                                                         "--skip-callback --reason TEXT")
    if current == "closed" and not reason:
        raise Refused(f"reopening the closed ticket {tid} needs a reason (--reason)",
                      hint=f"cslog status {tid} {to} --reason TEXT")
    if to == "escalated" and not reason:
        raise Refused(f"escalating {tid} needs a reason (--reason)",
                      hint=f"cslog escalate {tid} --reason TEXT [--to AGENT]")
    ticket_type = doc.get("type")
    if to == "resolved" and ticket_type in SOLUTION_TYPES and not (solution or doc.get("solution")):
        raise Refused(f"resolving the {ticket_type} ({TICKET_TYPE.label(ticket_type, 'zh')}) {tid} needs a "
                      "solution (--solution, 解决方案)",
                      hint=f"cslog status {tid} resolved --solution TEXT")
    if to == "closed":
        _check_close(doc, tid, settings, solution, reason, skip_callback)


def close_requirements(ticket_type: str | None, settings: Any) -> list[str]:
    """The top-level fields `close_requires` wants filled before a ticket of this type is closed."""
    rules = settings.close_requires or {}
    return list(rules.get(ticket_type, rules.get("default", [])) or [])


def _check_close(doc: dict, tid: str, settings: Any, solution: str | None, reason: str | None,
                 skip_callback: bool) -> None:
    needs: list[str] = []  # what is missing, in words
    flags: list[str] = []  # and the flags that give it
    current = doc.get("status") or "new"
    if current == "new" and not reason:
        needs.append(f"a reason to close it straight from {both('new')} (--reason, e.g. 重复工单)")
        flags.append("--reason TEXT")
    given = {"solution": solution}
    gaps = [f for f in close_requirements(doc.get("type"), settings) if _empty(given.get(f) or doc.get(f))]
    if gaps:
        needs.append(", ".join(f"{f} ({field_label(f, 'zh')})" for f in gaps) + " (close_requires in cslog.yaml)")
        flags += [f"--{f} TEXT" for f in gaps if f in ("solution", "category", "cause", "compensation")]
    ticket_type = doc.get("type")
    wants_callback = current == "resolved" and ticket_type in settings.policy().callback_types
    if skip_callback and not wants_callback:
        raise UsageError(f"--skip-callback is for closing a resolved ticket whose type asks for a callback (回访: "
                         f"sla.callback.types); {tid} is a {ticket_type} ({TICKET_TYPE.label(ticket_type, 'zh')}), "
                         f"{both(current)}")
    called_back = wants_callback and called_back_since_resolved(doc, settings.tz)
    if skip_callback and called_back:
        raise UsageError(f"{tid} was called back (回访) since it was resolved: close it without --skip-callback",
                         hint=f"cslog status {tid} closed")
    if wants_callback and not called_back:
        if not skip_callback:
            needs.append(f"a callback (回访) first, only a callback meets its clock (cslog callback {tid} --result "
                         "TEXT --solved); or, to close without one, --skip-callback --reason TEXT")
        elif not reason:
            needs.append("the reason the callback is skipped (--reason)")
            flags.append("--skip-callback --reason TEXT")
    hints = [f"cslog status {tid} closed {' '.join(dict.fromkeys(flags))}"] if flags else []
    if settings.review_required and current == "resolved" and not approved_since_resolved(doc):
        needs.append("a supervisor's approval since it was resolved (review_required in cslog.yaml; 主管审核)")
        hints.insert(0, f"cslog review {tid} --approve")
    if needs:
        raise Refused(f"closing {tid} needs " + "; and ".join(needs), hint="; then ".join(hints) or None)


def called_back_since_resolved(doc: dict, tz: Any) -> bool:
    """Whether a callback (回访, from the list or the timeline: model.callbacks) was made at or after the last
    move to resolved (or, for an imported record whose timeline tells no resolution, whether it has any)."""
    from cslog.timeutil import instant

    calls = callbacks(doc)
    resolved = [e.get("at") for e in doc.get("timeline") or [] if isinstance(e, dict) and e.get("kind") == "status"
                and e.get("to") == "resolved" and e.get("at") is not None]
    if not resolved:
        return bool(calls)
    since = instant(resolved[-1], tz)
    return any(c.get("at") is not None and instant(c["at"], tz) >= since for c in calls)


def approved_since_resolved(doc: dict) -> bool:
    """Whether an approving `reviewed` event follows the last move to resolved."""
    timeline = doc.get("timeline") or []
    start = 0
    for i, event in enumerate(timeline):
        if isinstance(event, dict) and event.get("kind") == "status" and event.get("to") == "resolved":
            start = i + 1
    return any(isinstance(e, dict) and e.get("kind") == "reviewed" and e.get("result") == "approved"
               for e in timeline[start:])


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, dict)) and not (value.strip() if isinstance(value, str)
                                                                            else value))


def parse_decision(value: str) -> str:
    """adopted | rejected, also from 采纳 / 不采纳."""
    return DECISION.parse(value)


def check_decision(doc: dict, decision: str, reason: str | None) -> None:
    """A decision (采纳/不采纳) is for suggestions and comes with its reason (seed 003)."""
    tid = doc.get("id", "the ticket")
    if doc.get("type") != "suggestion":
        label = TICKET_TYPE.label(doc.get("type"), "zh")
        raise Refused(f"--adopted/--rejected is for suggestions (建议); {tid} is a {doc.get('type')} ({label})")
    if not reason:
        raise Refused(f"deciding on the suggestion {tid} needs the reason (--reason, 采纳/不采纳的理由)",
                      hint=f"cslog status {tid} resolved --{decision} --reason TEXT")


def followup_reason(doc: dict) -> str | None:
    """Why a resolved/closed ticket now waits for someone to act (low score, unsolved callback), if it does."""
    if doc.get("status") not in DONE_STATUSES:
        return None
    last = next((e for e in reversed(doc.get("timeline") or []) if isinstance(e, dict)), {})
    if last.get("kind") in ("rated", "callback") and isinstance(last.get("score"), int) and last["score"] <= LOW_SCORE:
        return f"score {last['score']} (<= {LOW_SCORE})"
    if last.get("kind") == "callback" and last.get("solved") is False:
        return "the callback says not solved"
    return None


# --- batch complaints ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Batch:
    """Open complaints of one category received close together: they all become urgent and linked."""

    category: str
    ids: tuple[str, ...]
    window: str

    def notice(self) -> str:
        return (f"batch complaint (批量客诉): {len(self.ids)} open complaints of {self.category} within "
                f"{self.window}: {', '.join(self.ids)} are now urgent and linked")

    def reason(self, language: str) -> str:
        if language == "zh":
            return f"批量客诉: {self.window}内{self.category}未结投诉{len(self.ids)}件"
        return f"batch complaint: {len(self.ids)} open complaints of {self.category} within {self.window}"


def find_batch(new: dict, others: Iterable[dict], threshold: int, window: str,
               within: Callable[[datetime, datetime], bool], parse: Callable[[str], datetime]) -> Batch | None:
    """The batch the new ticket completes, if any: itself plus the open complaints of its (non-empty)
    category received within the window of it, when they are at least `threshold`."""
    category = str(new.get("category") or "").strip()
    if new.get("type") != "complaint" or not category or not new.get("received_at"):
        return None
    received = parse(new["received_at"])
    members = [new]
    for doc in others:
        if doc.get("id") == new.get("id") or doc.get("type") != "complaint":
            continue
        if doc.get("status") not in OPEN_STATUSES or str(doc.get("category") or "").strip() != category:
            continue
        try:
            when = parse(doc.get("received_at"))
        except (UsageError, TypeError, ValueError):
            continue  # a damaged file is `cslog check`'s business, not a reason to fail here
        early, late = sorted((when, received))
        if within(early, late):
            members.append(doc)
    if len(members) < threshold:
        return None
    members.sort(key=lambda d: str(d.get("id")))
    return Batch(category=category, ids=tuple(str(d["id"]) for d in members), window=window)


def batch_update(doc: dict, batch: Batch, at: str, actor: str, reason: str) -> dict:
    """One member's document after the batch rule: urgent, related to the others, with the events saying so."""
    new = {**doc, "timeline": list(doc.get("timeline") or [])}
    if doc.get("priority") != "urgent":
        new["priority"] = "urgent"
        new["timeline"].append({"at": at, "by": actor, "kind": "priority", "from": doc.get("priority"),
                                "to": "urgent", "reason": reason})
    related = list(doc.get("related") or [])
    added = [t for t in batch.ids if t != doc.get("id") and t not in related]
    if added:
        new["related"] = related + added
        new["timeline"].append({"at": at, "by": actor, "kind": "linked", "related": added, "reason": reason})
    return new

