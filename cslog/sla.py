"""SLA clocks of a ticket, computed from its timeline, the policy, the calendar and `now`; never stored.

The rules, where design.md section 4 leaves room:

- Only what had happened by `now` counts: timeline events after `now` are ignored, and a ticket
  received after `now` has no clocks. Events are ordered by `at` (stable, so same-second events
  keep their append order).
- Status history comes from the timeline (`status` and `escalated` events; the initial status is
  the `created` event's, else new). A ticket whose timeline records no status change at all but
  whose `status` field says otherwise (an imported record) is taken to have entered that status at
  its last timeline event (or at received_at).
- The targets are those of the ticket's current priority (unknown or missing: normal), measured
  from the clock's original start: raising a priority can breach a clock at once.
- claim stops at the first `claimed`/`assigned` event naming an owner, or at the `created` event
  when the owner was set at creation (the created event carries `owner`, or the ticket has an
  owner and no event gave it one). A ticket resolved or closed without ever having an owner stops
  its claim clock then. response stops at the first `reply` or the first status change.
- update runs from the latest of received_at, the last `reply` and the last reopen (a move from
  resolved/closed back to an open status) until the next `reply`. A resolved or closed ticket keeps
  one stopped update clock: the interval that was running when it was resolved, stopped at the
  resolution (resolving is the final update the customer gets). Earlier intervals are history that
  is not reported.
- resolve runs from received_at until the ticket is resolved (or closed). After a reopen it runs
  again from received_at with the same deadline (plus pauses): a reopened ticket is usually late,
  which is what the team should see. The time spent resolved does not pause it. A ticket closed
  without having been resolved in that spell (a duplicate, a withdrawn request: "closed unresolved")
  before its resolve clock was due has it `skipped`: neither met nor breached. Closed after the due, the
  clock stays breached: no close erases a breach that happened (as a pause does not).
- callback (only for the configured types) runs from the resolution of the current resolved/closed
  spell until the first callback at or after it: only a callback meets it (design.md 9.2). Closing
  archives the ticket: a callback not made by then is breached if its due had passed at the close. A
  close before the due that says why no callback is made (`skip_callback`: `status closed --skip-callback
  --reason`) makes it `skipped`; one that does not (a hand edit, a record from before cslog 9.2) leaves it
  breached, with no minutes late: no callback was made. Either way it is never listed by overdue again. A callback is read from the `callbacks`
  list and from the timeline alike (model.callbacks: a hand edit may write one place only).
- followup: on a resolved/closed ticket, a low score (<= 2; the latest `rated` event or callback
  score, else `satisfaction.score`) or a latest callback with `solved: false`, given after the last
  status change. It is due at once (due = that moment) and is reported, breached, until the next
  status change; once acted on it is not reported (it has no budget to have met).
- Pauses: while the status is in `pause_in`, update and resolve stop. Walking the pauses in order,
  each pause that began before the current deadline moves the deadline later by its length measured
  on the target's own clock: wall time for m/h/d, business time (WorkCalendar.business_between) for
  bh and bd; for bd the business time is added with add_business to the close-of-day deadline, so a
  paused 3bd clock may fall due in the middle of a day. A pause that begins after the deadline moves
  nothing: the clock stays breached. A clock paused now is computed as if the pause ended now; it
  is `paused` unless its deadline had already passed, then it stays `breached`.
- States: a stopped clock is met when it stopped at or before its deadline, else breached (`skipped`:
  stopped by something that is neither, see resolve and callback); a running one is breached once `now`
  is past its deadline. late_minutes rounds up (a breach is never
  0 minutes late, except a followup looked at the moment it arose); left_minutes rounds down.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Literal

from cslog.calendar import WorkCalendar
from cslog.defaults import DEFAULTS
from cslog.durations import Duration, parse_duration
from cslog.model import DONE_STATUSES as DONE, LOW_SCORE, OWNER_EVENTS, PRIORITY, STATUS, TICKET_TYPE, callbacks_off_timeline
from cslog.timeutil import instant

ClockKind = Literal["claim", "response", "update", "resolve", "callback", "followup"]
ClockState = Literal["met", "breached", "running", "paused", "skipped"]

PRIORITIES = tuple(PRIORITY.codes)
STATUSES = tuple(STATUS.codes)
TICKET_TYPES = tuple(TICKET_TYPE.codes)
DEFAULT_SLA: Mapping[str, Any] = DEFAULTS["sla"]  # one place for the documented defaults
_UTC = timezone.utc
_MINUTE = timedelta(minutes=1)
_TARGETS = ("response", "update", "resolve")


@dataclass(frozen=True)
class Targets:
    """The response, update and resolve targets of one priority."""

    response: Duration
    update: Duration
    resolve: Duration


@dataclass(frozen=True)
class SlaPolicy:
    """The `sla:` section of cslog.yaml, every duration parsed."""

    urgent: Targets
    important: Targets
    normal: Targets
    claim: Duration
    callback_after: Duration
    callback_types: frozenset[str]
    pause_in: frozenset[str]
    warn_within: Duration

    def targets(self, priority: str | None) -> Targets:
        """The targets of a priority; an unknown one gets normal's (`cslog check` reports it)."""
        return getattr(self, priority) if priority in PRIORITIES else self.normal

    @classmethod
    def from_config(cls, sla: Mapping[str, Any] | None) -> SlaPolicy:
        """Parse and check the `sla:` section; missing keys take the defaults; ValueError names the key."""
        section = _mapping(sla, "sla", DEFAULT_SLA)
        targets = {prio: _targets(section.get(prio), prio) for prio in PRIORITIES}
        callback = _mapping(section.get("callback"), "sla.callback", DEFAULT_SLA["callback"])
        return cls(
            **targets,
            claim=_duration(section.get("claim", DEFAULT_SLA["claim"]), "sla.claim"),
            callback_after=_duration(callback.get("after", DEFAULT_SLA["callback"]["after"]), "sla.callback.after"),
            callback_types=_choices(callback.get("types", DEFAULT_SLA["callback"]["types"]), "sla.callback.types",
                                    TICKET_TYPES, "type"),
            pause_in=_choices(section.get("pause_in", DEFAULT_SLA["pause_in"]), "sla.pause_in", STATUSES, "status"),
            warn_within=_duration(section.get("warn_within", DEFAULT_SLA["warn_within"]), "sla.warn_within"),
        )


@dataclass(frozen=True)
class Clock:
    """One SLA clock of a ticket and where it stands at `now` (times in the calendar's timezone)."""

    kind: ClockKind
    state: ClockState
    due: datetime | None
    started: datetime
    stopped: datetime | None
    late_minutes: int | None
    left_minutes: int | None


def clocks(ticket: Mapping[str, Any], policy: SlaPolicy, cal: WorkCalendar, now: datetime) -> list[Clock]:
    """The ticket's clocks in the order claim, response, update, resolve, callback, followup."""
    now = _utc(now)
    story = _Story.read(ticket, cal, now)
    if story is None:
        return []
    targets = policy.targets(ticket.get("priority"))
    done = story.done_since
    pauses = story.pauses(policy.pause_in)
    found = [
        _clock("claim", story.received, policy.claim, story.owner_at or story.first_done_at, cal, now),
        _clock("response", story.received, targets.response, _earliest(story.first_reply_at, story.first_change_at),
               cal, now),
    ]
    found.append(_clock("update", story.update_start, targets.update, done, cal, now, pauses))
    resolve = _clock("resolve", story.received, targets.resolve, done, cal, now, pauses)
    if done is not None and story.resolved_at is None and resolve.state == "met":  # closed unresolved in time
        resolve = _skipped(resolve)
    found.append(resolve)
    if story.resolved_at is not None and ticket.get("type") in policy.callback_types:
        callback = _clock("callback", story.resolved_at, policy.callback_after,
                          story.called_back_at or story.closed_at, cal, now)
        if story.called_back_at is None and story.closed_at is not None and callback.state == "met":
            # closed before its due without a callback: skipped when the close said so, else none was made
            callback = _skipped(callback) if story.callback_skipped else replace(callback, state="breached")
        found.append(callback)
    if done is not None and story.followup_at is not None:
        found.append(_followup(story.followup_at, cal, now))
    return found


def closed_unresolved(ticket: Mapping[str, Any], cal: WorkCalendar, now: datetime) -> bool:
    """Whether the ticket stands closed without having been resolved first (a duplicate, a withdrawn request):
    no handling time, no callback; its resolve clock skipped when closed in time."""
    story = _Story.read(ticket, cal, _utc(now))
    return story is not None and story.done_since is not None and story.resolved_at is None


def overdue_items(ticket: Mapping[str, Any], policy: SlaPolicy, cal: WorkCalendar, now: datetime,
                  within: timedelta | None = None) -> list[Clock]:
    """Clocks someone must act on: running past due and pending followups; with `within`, also running
    clocks due that soon. Met and stopped-late clocks are history, and a paused clock waits on the customer."""
    moment = _utc(now)
    items = []
    for c in clocks(ticket, policy, cal, now):
        if c.stopped is not None:
            continue
        if c.state == "breached":
            items.append(c)
        elif within is not None and c.state == "running" and c.due is not None and _utc(c.due) - moment <= within:
            items.append(c)
    return items


def minutes_late(due: datetime, now: datetime) -> int:
    """How late a clock due at `due` is at `now`, in whole minutes rounded up (a breach is never 0 minutes
    late); a clock not yet due: minus the minutes left, rounded up (never 0 either)."""
    if now > due:
        return _ceil_minutes(now - due)
    return -_ceil_minutes(due - now) if due > now else 0


@dataclass(frozen=True)
class Standing:
    """What a ticket's clocks are once nothing more happens to it: from `t0`, just after the latest moment
    its file mentions, on. `running` holds the clocks neither stopped nor paused at t0, with their dues, which
    no longer depend on `now` (no event is left to stop them, no open pause to move them; a followup is due
    the moment it arose). So at any now >= t0 a running clock is breached when now > due, and nothing else
    of the ticket can be: a paused clock stays paused, a stopped one stopped."""

    t0: datetime
    running: tuple[tuple[str, datetime], ...]


def standing(ticket: Mapping[str, Any], policy: SlaPolicy, cal: WorkCalendar) -> Standing:
    """The ticket's Standing (what a cache keeps so that `overdue` needs no clock arithmetic); ValueError
    when its times cannot be read, as clocks() says."""
    moments = [_instant(ticket.get("received_at"), cal, "received_at")]
    last_change: tuple[datetime, Any] | None = None  # (when, to) of the latest status change
    for group in ("timeline", "callbacks"):
        for entry in ticket.get(group) or []:
            if isinstance(entry, Mapping) and entry.get("at") is not None:
                moment = _instant(entry["at"], cal, "at")
                moments.append(moment)
                if group == "timeline" and entry.get("kind") in ("status", "escalated") and (
                        last_change is None or moment >= last_change[0]):
                    last_change = (moment, entry.get("to") or ("escalated" if entry.get("kind") == "escalated"
                                                               else None))
    satisfaction = ticket.get("satisfaction")
    if isinstance(satisfaction, Mapping) and satisfaction.get("at") is not None:
        moments.append(_instant(satisfaction["at"], cal, "at"))
    # just after the last moment: a pause that began exactly at a clock's due then shows as the breach it
    # becomes, instead of `paused` (at the last moment itself the clock is not yet past its due)
    t0 = max(moments) + timedelta(microseconds=1)
    if last_change is not None and last_change[1] in DONE and _settled(ticket, policy):
        return Standing(t0, ())
    running = tuple((c.kind, c.due) for c in clocks(ticket, policy, cal, t0)
                    if c.stopped is None and c.state != "paused" and c.due is not None)
    return Standing(t0, running)


def _settled(ticket: Mapping[str, Any], policy: SlaPolicy) -> bool:
    """Of a ticket whose latest status change resolved or closed it: whether none of its clocks can ever be
    listed again, known without computing them: claim, response, update and resolve have stopped; of a type
    without a callback clock; and no low score or unsolved callback anywhere that could raise a followup.
    (Most of a team's tickets: computing their clocks would be most of the work of indexing them.)"""
    if ticket.get("status") not in DONE or ticket.get("type") in policy.callback_types:
        return False
    entries = list(ticket.get("timeline") or []) + list(ticket.get("callbacks") or [])
    satisfaction = ticket.get("satisfaction")
    if isinstance(satisfaction, Mapping):
        entries.append(satisfaction)
    for entry in entries:
        if not isinstance(entry, Mapping):
            return False
        score = entry.get("score")
        if (score is not None and not (isinstance(score, int) and score > LOW_SCORE)) or entry.get("solved") is False:
            return False
    return True


# -- one clock ----------------------------------------------------------------------------------------

def _clock(kind: ClockKind, start: datetime, budget: Duration, stop: datetime | None, cal: WorkCalendar,
           now: datetime, pauses: tuple[tuple[datetime, datetime | None], ...] = ()) -> Clock:
    horizon = now if stop is None else stop
    due = _utc(cal.add_duration(start, budget))
    paused_now = stop is None and bool(pauses) and pauses[-1][1] is None
    for p0, p1 in pauses:
        begin = max(p0, start)
        end = horizon if p1 is None else min(p1, horizon)
        if begin >= due:
            break  # a pause that begins after the deadline cannot save the clock
        if end <= begin:
            continue
        due = _utc(cal.extend(due, cal.elapsed(begin, end, budget), budget))
    if stop is not None:
        state: ClockState = "met" if stop <= due else "breached"
        late = minutes_late(due, stop) if stop > due else None
        left = None
    else:
        state = "breached" if now > due else ("paused" if paused_now else "running")
        late = minutes_late(due, now) if now > due else None
        left = None if now > due else (due - now) // _MINUTE
    return Clock(kind, state, cal.local(due), cal.local(start), None if stop is None else cal.local(stop), late, left)


def _skipped(c: Clock) -> Clock:
    """A stopped clock that counts as neither met nor breached."""
    return Clock(c.kind, "skipped", c.due, c.started, c.stopped, None, None)


def _followup(arose: datetime, cal: WorkCalendar, now: datetime) -> Clock:
    return Clock("followup", "breached", cal.local(arose), cal.local(arose), None,
                 max(minutes_late(arose, now), 0), None)


def _ceil_minutes(delta: timedelta) -> int:
    return -(-delta // _MINUTE)


def _earliest(*moments: datetime | None) -> datetime | None:
    known = [m for m in moments if m is not None]
    return min(known) if known else None


# -- reading a ticket ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Story:
    """What a ticket's timeline says about its clocks, gathered in one pass (all times in UTC)."""

    received: datetime
    runs: tuple[tuple[datetime, str], ...]  # (since, status), the first since received_at
    owner_at: datetime | None
    first_reply_at: datetime | None
    first_change_at: datetime | None
    first_done_at: datetime | None
    done_since: datetime | None  # start of the current resolved/closed spell
    resolved_at: datetime | None  # the move to resolved within that spell
    update_start: datetime  # where the update interval running now (or at done_since) began
    called_back_at: datetime | None  # the first callback at or after resolved_at
    closed_at: datetime | None  # the close after resolved_at, if any
    callback_skipped: bool  # that close said the callback is skipped
    followup_at: datetime | None

    def pauses(self, pause_in: frozenset[str]) -> tuple[tuple[datetime, datetime | None], ...]:
        """The spells spent in a pausing status, in order; the last may still be open (None)."""
        found: list[tuple[datetime, datetime | None]] = []
        for (since, state), following in zip(self.runs, self.runs[1:] + ((None, ""),)):
            if state not in pause_in:
                continue
            until = following[0]
            if found and found[-1][1] == since:  # waiting -> waiting: one spell
                found[-1] = (found[-1][0], until)
            else:
                found.append((since, until))
        return tuple(found)

    @classmethod
    def read(cls, ticket: Mapping[str, Any], cal: WorkCalendar, now: datetime) -> _Story | None:
        name = str(ticket.get("id") or "ticket")
        if ticket.get("received_at") is None:
            raise ValueError(f"{name}: received_at is missing")
        received = _instant(ticket["received_at"], cal, f"{name}: received_at")
        if received > now:
            return None
        events = _events(ticket, cal, now, name)

        initial = "new"
        runs: list[tuple[datetime, str]] = []
        owner_at = first_reply = first_change = first_done = reopened = None
        low_score_at = unsolved_at = None
        callbacks_at: list[datetime] = []
        skips: set[datetime] = set()  # closes that said the callback is skipped
        replies: list[datetime] = []
        for at, e in events:
            kind = e.get("kind")
            if kind == "created" and e.get("status") in STATUSES and not runs:
                initial = e["status"]
            if kind in OWNER_EVENTS and e.get("owner") and owner_at is None:
                owner_at = at
            elif kind == "reply":
                first_reply = first_reply or at
                replies.append(at)
            elif kind in ("status", "escalated"):
                target = e.get("to") or ("escalated" if kind == "escalated" else None)
                if target not in STATUSES:
                    continue
                before = runs[-1][1] if runs else initial
                first_change = first_change or at
                if target in DONE:
                    first_done = first_done or at
                elif before in DONE:
                    reopened = at
                runs.append((max(at, received), target))
                if target == "closed" and e.get("skip_callback"):
                    skips.add(max(at, received))
                low_score_at = unsolved_at = None  # a status change acts on any pending followup
            if kind in ("rated", "callback") and isinstance(e.get("score"), int):
                low_score_at = at if e["score"] <= LOW_SCORE else None  # the latest score counts
            if kind == "callback":
                callbacks_at.append(at)
                if isinstance(e.get("solved"), bool):
                    unsolved_at = None if e["solved"] else at

        if not runs and ticket.get("status") in STATUSES and ticket["status"] != initial:
            # an imported record: its status field is all we know of its history
            since = max(events[-1][0], received) if events else received
            runs.append((since, ticket["status"]))
            first_change = since
            first_done = since if ticket["status"] in DONE else None
        runs.insert(0, (received, initial))
        if owner_at is None and ticket.get("owner"):
            owner_at = next((at for at, e in events if e.get("kind") == "created"), received)

        done_since = resolved_at = None
        for since, state in reversed(runs):
            if state not in DONE:
                break
            done_since = since
            resolved_at = since if state == "resolved" else resolved_at
        # a reopen always precedes the current resolved spell, so only replies need the cut-off
        counted = replies if done_since is None else [r for r in replies if r <= done_since]
        update_start = max([received, reopened or received] + counted[-1:])
        followup_at = _earliest(low_score_at, unsolved_at) if done_since is not None else None
        called_back = closed_at = None
        if resolved_at is not None:
            called_back = next((at for at in callbacks_at if at >= resolved_at), None)
            # closing archives the ticket: no callback will be made any more
            closed_at = next((since for since, state in runs if state == "closed" and since >= resolved_at), None)
        return cls(received, tuple(runs), owner_at, first_reply, first_change, first_done, done_since, resolved_at,
                   update_start, called_back, closed_at, closed_at in skips, followup_at)


def _events(ticket: Mapping[str, Any], cal: WorkCalendar, now: datetime, name: str) -> list[tuple[datetime, dict]]:
    """Timeline events up to `now`, sorted by time (stable), plus record fields standing in for missing events."""
    timeline = ticket.get("timeline") or []
    events = []
    for i, e in enumerate(timeline):
        if not isinstance(e, Mapping) or e.get("at") is None:
            raise ValueError(f"{name}: timeline[{i}]: an event needs 'at'")
        events.append((_instant(e["at"], cal, f"{name}: timeline[{i}].at"), e))
    kinds = {e.get("kind") for _, e in events}
    last = max((at for at, _ in events), default=None)
    for c in callbacks_off_timeline(ticket):  # imported or hand-written: the list is all there is
        if c.get("at") is not None:
            events.append((_instant(c["at"], cal, f"{name}: callbacks.at"), {"kind": "callback", **c}))
    satisfaction = ticket.get("satisfaction")
    if "rated" not in kinds and isinstance(satisfaction, Mapping) and isinstance(satisfaction.get("score"), int):
        when = satisfaction.get("at")
        at = _instant(when, cal, f"{name}: satisfaction.at") if when is not None else last
        if at is not None:
            events.append((at, {"kind": "rated", "score": satisfaction["score"]}))
    events = [(at, e) for at, e in events if at <= now]
    events.sort(key=lambda pair: pair[0])
    return events


def _instant(value: Any, cal: WorkCalendar, where: str) -> datetime:
    """A stored timestamp in UTC; a naive one is in the calendar's timezone, a bare date is its midnight
    (datetime and date objects too, for Python callers whose YAML loader made them)."""
    if isinstance(value, date):
        moment = value if isinstance(value, datetime) else datetime.combine(value, time(0))
        return (moment if moment.tzinfo else moment.replace(tzinfo=cal.tz)).astimezone(_UTC)
    try:
        return instant(value, cal.tz).astimezone(_UTC)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _utc(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError(f"'now' must carry a timezone: {t.isoformat()}")
    return t.astimezone(_UTC)


# -- policy parsing -----------------------------------------------------------------------------------

def _mapping(value: Any, where: str, allowed: Mapping[str, Any]) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected keys {', '.join(allowed)}")
    unknown = [key for key in value if key not in allowed]
    if unknown:
        raise ValueError(f"{where}: unknown key '{unknown[0]}': use {', '.join(allowed)}")
    return value


def _targets(value: Any, prio: str) -> Targets:
    defaults = DEFAULT_SLA[prio]
    section = _mapping(value, f"sla.{prio}", defaults)
    return Targets(*(_duration(section.get(key, defaults[key]), f"sla.{prio}.{key}") for key in _TARGETS))


def _duration(value: Any, where: str) -> Duration:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _choices(value: Any, where: str, allowed: tuple[str, ...], what: str) -> frozenset[str]:
    if not isinstance(value, list):
        raise ValueError(f"{where}: give a list, e.g. [{allowed[0]}]")
    for item in value:
        if item not in allowed:
            raise ValueError(f"{where}: unknown {what} {item!r}: use {', '.join(allowed)}")
    return frozenset(value)
