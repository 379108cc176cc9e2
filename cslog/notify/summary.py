"""The other things `cslog notify` sends: the morning digest (--digest: new, open, late and resolved since the last
digest, by owner) and events (--events: what happened since the last run to the people it concerns)."""
from __future__ import annotations

from collections import Counter
from datetime import datetime

from cslog import labels
from cslog.model import DONE_STATUSES, OPEN_STATUSES
from cslog.store import Store
from cslog.timeutil import instant

_DIGEST = labels.NOTIFY["digest"]
_EVENTS = labels.NOTIFY["events"]


def _between(stamp: object, since: datetime, until: datetime, tz) -> bool:
    try:
        return since <= instant(str(stamp), tz) < until
    except ValueError:
        return False


def digest_lines(store: Store, index, since: datetime, at: datetime, late: list[dict],
                 language: str) -> tuple[str, list[tuple[str, list]]]:
    """(title, lines): the totals, then one line per owner (the owner @-mentioned)."""
    tz = store.settings.tz
    rows = index.rows("ticket")
    new = [r for r in rows if _between(r.get("received_at"), since, at, tz)]
    open_ = [r for r in rows if r.get("status") in OPEN_STATUSES]
    resolved = [doc for doc in index.docs("ticket", [r["id"] for r in rows if r.get("status") in DONE_STATUSES])
                if any(e.get("kind") == "status" and e.get("to") == "resolved" and _between(e.get("at"), since, at, tz)
                       for e in doc.get("timeline") or [])]
    if not (new or open_ or late or resolved):
        return labels.say(_DIGEST, language), []
    say = lambda pair: labels.say(pair, language)  # noqa: E731
    words = tuple(labels.NOTIFY[k] for k in ("new", "open", "late", "resolved"))
    counts = [len(new), len(open_), len({r["id"] for r in late}), len(resolved)]
    items = [(" · ".join(f"{say(w)} {n}" for w, n in zip(words, counts)), [])]
    per = {name: Counter() for name in sorted({r.get("owner") or "" for r in open_ + resolved} |
                                              {r.get("owner") or "" for r in late})}
    for r in open_:
        per[r.get("owner") or ""]["open"] += 1
    for r in {r["id"]: r for r in late}.values():
        per[r.get("owner") or ""]["late"] += 1
    for doc in resolved:
        per[doc.get("owner") or ""]["resolved"] += 1
    for name, c in per.items():
        who = name or say(labels.NOTIFY["unclaimed"])
        items.append((f"{who}: " + " · ".join(f"{say(w)} {c[k]}" for w, k in zip(words[1:], ("open", "late", "resolved"))),
                      [name] if name else []))
    stamp = f"{since:%m-%d %H:%M}~{at:%m-%d %H:%M}"
    return f"{say(_DIGEST)} {stamp}", items


def event_lines(store: Store, index, since: datetime, at: datetime,
                language: str) -> tuple[str, list[tuple[str, list]]]:
    """(title, lines): assignments, collaborators and cc added, escalations, returned reviews and resolutions
    since the last run, each with the people it concerns."""
    tz = store.settings.tz
    say = lambda pair: labels.say(pair, language)  # noqa: E731
    items: list[tuple[str, list]] = []
    for doc in index.docs("ticket"):
        timeline = doc.get("timeline") or []
        tid, title = doc.get("id"), doc.get("title") or ""
        for e in timeline:
            if not _between(e.get("at"), since, at, tz):
                continue
            kind = e.get("kind")
            if kind in ("assigned", "claimed") and e.get("owner") and e.get("by") != e.get("owner"):
                items.append((f"{tid} {say(labels.NOTIFY['assigned'])} {e['owner']} · {title}", [e["owner"]]))
            for key, word in (("collaborators", labels.NOTIFY["collaborators"]), ("cc", labels.NOTIFY["cc"])):
                if kind == "assigned" and e.get(key):
                    items.append((f"{tid} {say(word)}: {', '.join(e[key])} · {title}", list(e[key])))
            if kind == "escalated" and e.get("to_agent"):
                items.append((f"{tid} {say(labels.NOTIFY['escalated'])} {e['to_agent']} · {title}", [e["to_agent"]]))
            if kind == "reviewed" and e.get("result") == "returned" and doc.get("owner"):
                items.append((f"{tid} {say(labels.NOTIFY['returned'])} · {title}", [doc["owner"]]))
            if kind == "status" and e.get("to") == "resolved":
                people = list(doc.get("collaborators") or []) + list(doc.get("cc") or [])
                if people:
                    items.append((f"{tid} {say(labels.NOTIFY['resolved'])} · {title}", people))
    return say(_EVENTS), items
