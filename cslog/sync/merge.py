"""Three-way merge of one record (base, ours, theirs): what `cslog merge-driver` and `cslog sync` rely on.

Pure functions: documents (or texts) in, a merged document (or canonical text) and notes out.

The rules, field by field (top-level fields; nested mappings such as a contact's `emotion` field by field):
- a field only one side changed takes that side's value; both sides the same change: that value;
- `timeline`: the events of both sides united (an event present on both sides appears once), ordered
  by `at` (stable: at equal times ours come first); an event removed on one side (a hand edit) stays removed;
- lists (`related`, `contacts`, `tags`, `collaborators`, `cc`, `agreed`, `callbacks`, a customer's
  `contacts`): union in the same way; `callbacks` ordered by `at`;
- a field both sides set to different values (`status`, `owner`, `priority`, `solution`, a title
  edited on both...): the side whose latest new timeline event touching the field is later wins, so
  the timeline's order decides and the current state agrees with the last event; with no such event on
  either side (or at the same time), theirs wins: in `cslog sync` theirs is what the remote already
  holds, so a value others may have seen does not flip. `satisfaction`, `decision`, an action's `review` and
  `allow_pii` are decided as a whole, never mixed from two sides;
- the losing value is kept: a ticket gets a `note` event by `cslog` saying what was kept and what the
  other clone had, placed just before the event that decided (never last, so it does not count as
  someone acting on the ticket); for contacts and customers the notes are returned for the caller to
  report (git's history keeps both versions).

Two different records created under the same ID on both sides (an ID collision) are not merged:
`NotSameRecord` is raised and `cslog sync` renumbers the unpushed one instead.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timezone, tzinfo
from typing import Any

from cslog.model import OWNER_EVENTS
from cslog.schemas import key_order, modeline
from cslog.timeutil import instant
from cslog.yamlio import YamlSyntaxError, is_empty, load_text, update_text

MERGE_AGENT = "cslog"
# Decided as a whole: mixing the score of one rating with the comment of another would be a rating nobody gave.
ATOMIC = frozenset({"satisfaction", "decision", "allow_pii", "review"})
# Lists whose entries are ordered by their `at`.
TIMED_LISTS = frozenset({"timeline", "callbacks"})
# Timeline events that set a top-level field without carrying it by name (status events say `to`).
SET_BY_KINDS = {
    "status": frozenset({"created", "status", "escalated", "done", "dropped"}),
    "done_at": frozenset({"done"}),
    "result": frozenset({"done"}),
    "review": frozenset({"evaluated"}),
    "priority": frozenset({"priority"}),
    "owner": OWNER_EVENTS,
    "department": OWNER_EVENTS,
    "satisfaction": frozenset({"rated"}),
    "callbacks": frozenset({"callback"}),
    "related": frozenset({"linked"}),
}
_EVENT_META = frozenset({"at", "by", "kind"})


class Unmergeable(ValueError):
    """One of the versions is not a record (not YAML, not a mapping): a person must look at it."""


class NotSameRecord(ValueError):
    """Both sides created a record under the same ID, and they are different records (an ID collision)."""


@dataclass
class MergeResult:
    doc: dict
    notes: list[str] = field(default_factory=list)  # one line per field both sides changed differently


# --- documents -------------------------------------------------------------------------------------

def merge_records(kind: str, base: dict | None, ours: dict, theirs: dict, tz: tzinfo = timezone.utc) -> MergeResult:
    """The merged record. `base` is None when both sides created the file. `tz` reads times without offset."""
    if base is None and ours != theirs and not same_record(kind, ours, theirs):
        raise NotSameRecord(f"both sides created {ours.get('id') or theirs.get('id')} as different records")
    base = base or {}
    merger = _Merger(base.get("timeline"), ours.get("timeline"), theirs.get("timeline"), tz)
    doc, conflicts = merger.mapping(base, ours, theirs, ())
    notes = [f"kept {_path(p)} {_show(kept)}; the other clone had {_show(lost)}" for p, kept, lost, _ in conflicts]
    if kind == "ticket" and conflicts and isinstance(doc.get("timeline"), list):
        doc["timeline"] = _with_merge_notes(doc["timeline"], conflicts)
    if kind == "action" and doc.get("status") != "done":  # done on one clone, dropped later on the other
        dropped = [doc.pop(name) for name in ("done_at", "result", "review") if name in doc]
        if dropped:
            notes.append(f"kept status {doc.get('status')}; the other clone's done_at, result and review are in "
                         "the timeline")
    return MergeResult(doc=doc, notes=notes)


def same_record(kind: str, ours: dict, theirs: dict) -> bool:
    """Whether two records created separately under one ID are one and the same.

    Strict on purpose: two records wrongly taken for one would be merged into one, while one record
    wrongly taken for two only gets a second ID. So the fields a record is born with must all agree.
    """
    if kind == "ticket":
        keys = ("customer", "received_at", "title", "description")
        first_o, first_t = _first(ours.get("timeline")), _first(theirs.get("timeline"))
        return first_o is not None and first_o == first_t and _agree(ours, theirs, keys)
    if kind == "contact":
        return _agree(ours, theirs, ("customer", "agent", "started_at", "request"))
    if kind == "action":
        return _agree(ours, theirs, ("title", "problem", "measure", "created_at"))
    return _agree(ours, theirs, ("name", "type", "contacts"))


def _agree(a: dict, b: dict, keys: tuple) -> bool:
    return all(_same(a.get(k), b.get(k)) for k in keys)


def _first(timeline: Any) -> Any:
    return timeline[0] if isinstance(timeline, list) and timeline else None


class _Merger:
    def __init__(self, base_tl: Any, ours_tl: Any, theirs_tl: Any, tz: tzinfo):
        self.tz = tz
        base_keys = {_key(e) for e in _events(base_tl)}
        # The events each side added: they say which side set a field last.
        self.new = {side: [e for e in _events(tl) if _key(e) not in base_keys]
                    for side, tl in (("ours", ours_tl), ("theirs", theirs_tl))}

    def mapping(self, base: dict, ours: dict, theirs: dict, path: tuple) -> tuple[dict, list]:
        out: dict = {}
        conflicts: list = []
        keys = list(dict.fromkeys([*ours, *theirs, *base]))
        for key in keys:
            value, found = self.value(base.get(key), ours.get(key), theirs.get(key), path + (key,))
            conflicts += found
            if not is_empty(value):
                out[key] = value
        return out, conflicts

    def value(self, b: Any, o: Any, t: Any, path: tuple) -> tuple[Any, list]:
        if _same(o, t):
            return o, []
        if _same(o, b):
            return t, []
        if _same(t, b):
            return o, []
        name = path[-1]
        if isinstance(o, list) and isinstance(t, list) and isinstance(b, (list, type(None))):
            merged = union(b or [], o, t)
            if name in TIMED_LISTS:
                merged = sorted(merged, key=lambda e: _moment(e, self.tz))
            return merged, []
        if (isinstance(o, dict) and isinstance(t, dict) and isinstance(b, (dict, type(None)))
                and path[0] not in ATOMIC):
            return self.mapping(b or {}, o, t, path)
        winner, decided_by = self.decide(path)
        kept, lost = (o, t) if winner == "ours" else (t, o)
        return kept, [(path, kept, lost, decided_by)]

    def decide(self, path: tuple) -> tuple[str, dict | None]:
        """The side whose latest new event touching the field is later; theirs when none is."""
        top = path[0]
        latest = {side: max((e for e in events if touches(e, top)), key=lambda e: _moment(e, self.tz),
                            default=None)
                  for side, events in self.new.items()}
        o, t = latest["ours"], latest["theirs"]
        if o is not None and (t is None or _moment(o, self.tz) > _moment(t, self.tz)):
            return "ours", o
        return "theirs", t


def touches(event: dict, field_name: str) -> bool:
    """Whether a timeline event set this top-level field."""
    if event.get("kind") in SET_BY_KINDS.get(field_name, ()):
        return True
    return field_name not in _EVENT_META and field_name in event


def union(base: list, ours: list, theirs: list) -> list:
    """Both sides' entries once each, ours first; an entry of base that either side removed stays removed."""
    ours_keys = {_key(x) for x in ours}
    theirs_keys = {_key(x) for x in theirs}
    removed = {_key(x) for x in base} - (ours_keys & theirs_keys)
    out, seen = [], set()
    for item in [*ours, *theirs]:
        k = _key(item)
        if k not in seen and k not in removed:
            seen.add(k)
            out.append(item)
    return out


def _with_merge_notes(timeline: list, conflicts: list) -> list:
    """A `note` per field decided, just before the event that decided it (or the last event)."""
    out = list(timeline)
    for path, kept, lost, decided_by in conflicts:
        anchor = decided_by if decided_by is not None and decided_by in out else out[-1] if out else None
        at = anchor.get("at") if isinstance(anchor, dict) else None
        if not at:
            continue
        note = {"at": at, "by": MERGE_AGENT, "kind": "note",
                "text": f"merge: kept {_path(path)} {_show(kept)}; the other clone had {_show(lost)}"}
        if _key(note) in {_key(e) for e in out}:
            continue
        out.insert(out.index(anchor), note)
    return out


def _events(timeline: Any) -> list[dict]:
    return [e for e in timeline if isinstance(e, dict)] if isinstance(timeline, list) else []


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _same(a: Any, b: Any) -> bool:
    return (is_empty(a) and is_empty(b)) or _key(a) == _key(b)


def _moment(event: Any, tz: tzinfo) -> float:
    """An entry's `at` as a number for ordering; entries without a readable time sort first."""
    raw = event.get("at") if isinstance(event, dict) else None
    if not isinstance(raw, str):
        return float("-inf")
    try:
        return instant(raw.strip(), tz).timestamp()
    except ValueError:
        return float("-inf")


def _path(path: tuple) -> str:
    return ".".join(str(p) for p in path)


def _show(value: Any) -> str:
    if is_empty(value):
        return "(empty)"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=False)


# --- texts -----------------------------------------------------------------------------------------

@dataclass
class TextMerge:
    text: str
    notes: list[str]
    doc: dict


def parse(text: str | None, what: str) -> dict | None:
    """A version's document as written; None for an absent or empty file."""
    if text is None or not text.strip():
        return None
    try:
        doc = load_text(text)
    except YamlSyntaxError as exc:
        raise Unmergeable(f"{what} is not valid YAML (line {exc.line or 1}): {exc}") from None
    if not isinstance(doc, dict):
        raise Unmergeable(f"{what} is not a record (a mapping of fields)")
    return doc


def merge_texts(kind: str, base_text: str | None, ours_text: str, theirs_text: str,
                tz: tzinfo = timezone.utc) -> TextMerge:
    """The merged file in canonical form; ours' unchanged lines are kept as they were."""
    from cslog.store import to_codes

    base = parse(base_text, "the common ancestor")
    ours = parse(ours_text, "our version")
    theirs = parse(theirs_text, "their version")
    if ours is None or theirs is None:
        raise Unmergeable("one side emptied the record file")
    # labels written by hand are read as their codes, as every reader reads them (store.load)
    coded = [None if doc is None else to_codes(kind, doc)[0] for doc in (base, ours, theirs)]
    result = merge_records(kind, *coded, tz)
    order = key_order(kind)
    text = update_text(ours_text, ours, result.doc, order, modeline(kind))
    return TextMerge(text=text, notes=result.notes, doc=result.doc)
