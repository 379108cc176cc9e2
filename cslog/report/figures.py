"""The period's figures, against the previous period and over the last periods: what `cslog report` says.

What design.md section 5 leaves open, decided here:

- A ticket belongs to the period in which it was received (received_at, local time). Tickets received
  after `now` do not exist yet (a report at an earlier `$CSLOG_NOW` or commit is reproduced).
- Trends cover the last 6 periods of that kind, oldest first, ending with this one.
- Every clock is judged at `now`: a stopped clock is met or breached, a running (or paused) clock
  past its due is breached, one still within its due counts as neither. `sla` covers claim, response,
  update, resolve and callback; followup has no budget to meet and is left out.
- Rates and shares are fractions 0..1 rounded to 4 places (83.33% is 0.8333); hours, means and
  medians are rounded to 2 places. A rate or mean of nothing is null. JSON numbers stay numbers.
- The department response rate (协作部门响应率) is the share of the department's tickets whose claim
  clock was met (claimed within sla.claim).
- `streaks`: categories that were the top category (ties share the top) in this period and in each
  of the periods just before, at least `streak` periods in a row (default 3, "连续3个月TOP1"); counted
  back at most 12 periods (or `streak`, when larger).
- `by_type`, `by_priority`, `by_status` and `by_channel` list every code, zeros included, in the
  order of cslog.model; unknown codes found in files are added after them.
"""
from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cslog.calendar import CalendarError
from cslog.errors import UsageError
from cslog import model
from cslog.config import error_at
from cslog.model import (CHANNEL, OPEN_STATUSES, PRIORITY, SATISFIED_SCORE, SLA_CLOCKS as CLOCKS, STATUS,
                         TICKET_TYPE)
from cslog.period import Period
from cslog.report.actions import actions_figures
from cslog.report.facts import Facts, _text, records_in, ticket_facts, unreadable
from cslog.store import Store

TREND_PERIODS = 6
STREAK_DEFAULT = 3
STREAK_LOOKBACK = 12
TOP_CATEGORIES = 10
RATE_PLACES = 4
PLACES = 2
SCORES = tuple(str(s) for s in model.SCORES)  # the distribution's keys


# -- figures ------------------------------------------------------------------------------------------

def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, RATE_PLACES) if whole else None


def _round(value: float | None, places: int = PLACES) -> float | None:
    return None if value is None else round(value, places)


def _mean(values: list[float]) -> float | None:
    return _round(statistics.fmean(values)) if values else None


def _median(values: list[float]) -> float | None:
    return _round(statistics.median(values)) if values else None


def _counts(values: Iterable[str | None], codes: Iterable[str]) -> dict:
    counted = Counter(v for v in values if v is not None)
    out = {code: counted.pop(code, 0) for code in codes}
    out.update(sorted(counted.items()))
    return out


def _sla(facts: list[Facts], kinds: Iterable[str] = CLOCKS) -> dict:
    out = {}
    for kind in kinds:
        states = Counter(f.state(kind) for f in facts)
        met, breached = states["met"], states["breached"]
        out[kind] = {"met": met, "breached": breached, "rate": _rate(met, met + breached)}
    return out


def _hours(facts: list[Facts], attr: str) -> dict:
    out = {}
    for prio in PRIORITY.codes:
        values = [getattr(f, attr) for f in facts if f.priority == prio and getattr(f, attr) is not None]
        out[prio] = {"mean": _mean(values), "median": _median(values)}
    return out


def _satisfaction(facts: list[Facts]) -> dict:
    scores = [f.score for f in facts if f.score is not None]
    return {"responses": len(scores), "mean": _mean(scores),
            "satisfied_rate": _rate(sum(1 for s in scores if s >= SATISFIED_SCORE), len(scores)),
            "distribution": {s: sum(1 for v in scores if str(v) == s) for s in SCORES}}


def _ranked(counter: Counter) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


def figures(facts: list[Facts], period: Period) -> dict:
    """The figures of one period's tickets (no comparison): what `previous` holds."""
    n = len(facts)
    categories = Counter(f.category for f in facts if f.category)
    resolved = [f for f in facts if f.done_at is not None]
    by_type = _counts((f.type for f in facts), TICKET_TYPE.codes)
    out: dict[str, Any] = {
        "period": period.to_json(),
        "label": period.label,
        "tickets": n,
        "by_type": by_type,
        "by_priority": _counts((f.priority for f in facts), PRIORITY.codes),
        "by_status": _counts((f.status for f in facts), STATUS.codes),
        "by_channel": _counts((f.channel for f in facts), CHANNEL.codes),
        "sla": _sla(facts),
        "handling_hours": _hours(facts, "hours"),
        "handling_business_hours": _hours(facts, "business_hours"),
        "satisfaction": _satisfaction(facts),
        "top_categories": [{"category": c, "count": k} for c, k in _ranked(categories)[:TOP_CATEGORIES]],
        "departments": _departments(facts),
    }
    out.update({
        "type_shares": {t: _rate(k, n) for t, k in by_type.items()},
        "resolved": len(resolved),
        "open": sum(1 for f in facts if f.status in OPEN_STATUSES),
        "unassigned": sum(1 for f in facts if not f.owner),
        "closed_unresolved": sum(1 for f in facts if f.closed_unresolved),
        "reopened": sum(1 for f in facts if f.reopened),
        "handling": {"resolved": len(resolved),
                     "hours": {"mean": _mean([f.hours for f in resolved]),
                               "median": _median([f.hours for f in resolved])},
                     "business_hours": {"mean": _mean([f.business_hours for f in resolved]),
                                        "median": _median([f.business_hours for f in resolved])}},
        "sla_by_priority": {p: _sla([f for f in facts if f.priority == p]) for p in PRIORITY.codes},
        "by_category": dict(_ranked(categories)),
        "uncategorised": sum(1 for f in facts if not f.category),
        "by_department": dict(_ranked(Counter(f.department for f in facts if f.department))),
        "by_owner": _owners(facts),
        "callbacks": _callbacks(facts),
        "suggestions": _suggestions(facts),
        "praise": _praise(facts),
    })
    return out


def _groups(facts: list[Facts], attr: str) -> list[tuple[str, list[Facts]]]:
    """The tickets by department, owner...: the largest group first (ties by name); no value, no group."""
    groups: dict[str, list[Facts]] = defaultdict(list)
    for f in facts:
        if getattr(f, attr):
            groups[getattr(f, attr)].append(f)
    return sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))


def _departments(facts: list[Facts]) -> dict:
    out = {}
    for name, group in _groups(facts, "department"):
        claim = _sla(group, ("claim",))["claim"]
        resolve = _sla(group, ("resolve",))["resolve"]
        done = [f.hours for f in group if f.hours is not None]
        out[name] = {"tickets": len(group), "resolved": len(done), "claimed_in_time": claim["met"],
                     "claimed_late": claim["breached"], "response_rate": claim["rate"],
                     "resolve_rate": resolve["rate"], "handling_hours_mean": _mean(done)}
    return out


def _owners(facts: list[Facts]) -> dict:
    out = {}
    for name, group in _groups(facts, "owner"):
        resolve = _sla(group, ("resolve",))["resolve"]
        done = [f.hours for f in group if f.hours is not None]
        scores = [f.score for f in group if f.score is not None]
        out[name] = {"tickets": len(group), "resolved": len(done), "resolve_met": resolve["met"],
                     "resolve_breached": resolve["breached"], "resolve_rate": resolve["rate"],
                     "handling_hours_mean": _mean(done), "satisfaction_mean": _mean(scores)}
    return out


def _callbacks(facts: list[Facts]) -> dict:
    called = [f for f in facts if f.called_back]
    solved = sum(1 for f in called if f.callback_solved is True)
    not_solved = sum(1 for f in called if f.callback_solved is False)
    scores = [f.callback_score for f in called if f.callback_score is not None]
    return {"tickets": len(called), "solved": solved, "not_solved": not_solved,
            "solved_rate": _rate(solved, solved + not_solved), "mean_score": _mean(scores)}


def _suggestions(facts: list[Facts]) -> dict:
    group = [f for f in facts if f.type == "suggestion"]
    adopted = sum(1 for f in group if f.decision == "adopted")
    rejected = sum(1 for f in group if f.decision == "rejected")
    return {"total": len(group), "adopted": adopted, "rejected": rejected,
            "pending": len(group) - adopted - rejected, "adoption_rate": _rate(adopted, adopted + rejected)}


def _praise(facts: list[Facts]) -> dict:
    group = [f for f in facts if f.type == "praise"]
    by_person = dict(_ranked(Counter(f.praised for f in group if f.praised)))
    # for HR (seed 003: 转至人力资源部作为绩效考核参考): who was praised, on which tickets
    tickets = {person: sorted(f.id for f in group if f.praised == person) for person in by_person}
    return {"total": len(group), "by_person": by_person, "tickets": tickets}


def _delta(current: float | None, previous: float | None, places: int) -> float | None:
    if current is None or previous is None:
        return None
    return round(current - previous, places)


def change(current: dict, previous: dict) -> dict:
    """This period against the previous one: differences (this minus previous) of the headline figures;
    rates in fraction points, hours in hours. `tickets_ratio` is the relative change of the volume."""
    def counts(key: str) -> dict:
        return {k: current[key][k] - previous[key].get(k, 0) for k in current[key]}

    def handling(key: str) -> dict:
        return {m: _delta(current["handling"][key][m], previous["handling"][key][m], PLACES) for m in ("mean", "median")}

    return {
        "tickets": current["tickets"] - previous["tickets"],
        "tickets_ratio": _rate(current["tickets"] - previous["tickets"], previous["tickets"]),
        "resolved": current["resolved"] - previous["resolved"],
        "open": current["open"] - previous["open"],
        "unassigned": current["unassigned"] - previous["unassigned"],
        "closed_unresolved": current["closed_unresolved"] - previous["closed_unresolved"],
        "reopened": current["reopened"] - previous["reopened"],
        "handling": {"hours": handling("hours"), "business_hours": handling("business_hours")},
        "by_type": counts("by_type"),
        "by_priority": counts("by_priority"),
        "by_status": counts("by_status"),
        "by_channel": counts("by_channel"),
        "sla": {k: _delta(current["sla"][k]["rate"], previous["sla"][k]["rate"], RATE_PLACES) for k in CLOCKS},
        "handling_hours": {p: {m: _delta(current["handling_hours"][p][m], previous["handling_hours"][p][m], PLACES)
                               for m in ("mean", "median")} for p in PRIORITY.codes},
        "handling_business_hours": {
            p: {m: _delta(current["handling_business_hours"][p][m], previous["handling_business_hours"][p][m],
                          PLACES) for m in ("mean", "median")} for p in PRIORITY.codes},
        "satisfaction": {"mean": _delta(current["satisfaction"]["mean"], previous["satisfaction"]["mean"], PLACES),
                         "satisfied_rate": _delta(current["satisfaction"]["satisfied_rate"],
                                                  previous["satisfaction"]["satisfied_rate"], RATE_PLACES)},
    }


def trend_row(facts: list[Facts], period: Period) -> dict:
    sla = _sla(facts, ("response", "resolve"))
    sat = _satisfaction(facts)
    return {"label": period.label, **period.to_json(), "tickets": len(facts),
            "sla_response_rate": sla["response"]["rate"], "sla_resolve_rate": sla["resolve"]["rate"],
            "satisfaction_mean": sat["mean"], "satisfied_rate": sat["satisfied_rate"]}


def streaks(categories: list[Counter], periods: list[Period], least: int) -> list[dict]:
    """Categories at the top (ties share it) of the last period and of each period before it, at least
    `least` periods in a row; `categories` and `periods` run oldest first and end with this period."""
    tops = []
    for counted in categories:
        best = max(counted.values(), default=0)
        tops.append({c for c, k in counted.items() if k == best and best > 0})
    found = []
    for category in sorted(tops[-1]) if tops else ():
        run = 0
        for top in reversed(tops):
            if category not in top:
                break
            run += 1
        if run >= least:
            found.append({"category": category, "periods": run, "since": periods[-run].start.isoformat()})
    return sorted(found, key=lambda s: (-s["periods"], s["category"]))


# -- the report ---------------------------------------------------------------------------------------

@dataclass
class Report:
    """The figures as JSON-ready data, plus the ticket files that could not be counted."""

    period: Period
    data: dict
    problems: list[str] = field(default_factory=list)


TicketHook = Callable[[Mapping[str, Any], Facts], None]


def build(store: Store, period: Period, now: datetime, streak: int = STREAK_DEFAULT,
          on_ticket: TicketHook | None = None, use_cache: bool = True, index=None) -> Report:
    """The report of `period` as judged at `now`. `on_ticket(doc, facts)` is called for each ticket of
    the period with its whole document (the workbook builds its rows there). The tickets come from the
    index (`index`, or the store's: compact documents, picked by received_at); use_cache=False reads
    every file instead."""
    if streak < 1:
        raise UsageError(f"--streak must be 1 or more, not {streak}")
    policy, calendar = store.policy(), store.calendar()
    tz = calendar.tz
    back = max(TREND_PERIODS, 2)
    lookback = max(STREAK_LOOKBACK, streak)
    periods = [period.shifted(k) for k in range(max(back, lookback) - 1, -1, -1)]  # oldest first
    full_from = len(periods) - back  # these periods need every figure; older ones only categories
    spans = [p.bounds(tz) for p in periods]
    facts: list[list[Facts]] = [[] for _ in periods]
    categories: list[Counter] = [Counter() for _ in periods]
    problems: list[str] = []

    def slot(moment: datetime) -> int | None:
        if moment > now or moment < spans[0][0] or moment >= spans[-1][1]:
            return None
        for i, (a, b) in enumerate(spans):
            if a <= moment < b:
                return i
        return None

    if index is None:
        from cslog.index import Index

        index = Index.open(store, use_cache=use_cache)
    unreadable(store, index, "ticket", "received_at", slot, problems)
    split = spans[full_from][0]
    if full_from:  # older periods count categories only: the summary fields are enough
        for _path, (row, _received, i) in records_in(index, "ticket", (spans[0][0], split), slot, True):
            if _text(row.get("category")):
                categories[i][_text(row.get("category"))] += 1
    for path, loaded in records_in(index, "ticket", (split, spans[-1][1]), slot):
        doc, received, i = loaded
        try:
            f = ticket_facts(doc, received, policy, calendar, now)
        except CalendarError as exc:  # the configuration, not this ticket: as overdue and show say it
            raise error_at(store.where, f"calendar: {exc}") from None
        except ValueError as exc:
            problems.append(f"{path}: {exc}")
            continue
        facts[i].append(f)
        if f.category:
            categories[i][f.category] += 1
        if on_ticket is not None and i == len(periods) - 1:
            try:
                on_ticket(index.full_doc("ticket", path), f)
            except UsageError as exc:  # changed since it was indexed, and no longer readable
                problems.append(str(exc))

    current = figures(facts[-1], period)
    previous = figures(facts[-2], periods[-2])
    data = dict(current)
    data["previous"] = previous
    data["change"] = change(current, previous)
    data["trend"] = [trend_row(facts[i], periods[i]) for i in range(full_from, len(periods))]
    data["streak_periods"] = streak
    data["streaks"] = streaks(categories[-lookback:], periods[-lookback:], streak)
    problems += [problem for _path, problem in index.problems("action")]  # (an action may span many periods)

    def count(later: Period) -> Counter:  # a period after the report's: its tickets received by now, by category
        a, b = later.bounds(tz)
        return Counter(_text(row.get("category")) for _path, _moment, row in index.dated("ticket", a, min(b, now), True)
                       if _text(row.get("category")))

    data["actions"] = actions_figures([doc for _path, doc in index.docs_with_paths("action")], periods, categories,
                                      now, tz, count)
    data["generated_at"] = now.astimezone(tz).replace(microsecond=0).isoformat()
    return Report(period, data, problems)
