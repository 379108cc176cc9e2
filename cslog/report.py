"""The period's figures: one source for `cslog report` and the Summary of `cslog export`.

What design.md section 5 leaves open, decided here:

- Periods are calendar dates in the configured timezone: `--month 2026-11`, `--quarter 2026-Q4`, or
  `--from 2026-11-01 --until 2026-11-15`, where `--until` is the LAST DAY INCLUDED (a team lead says
  "from the 1st until the 15th" and means the 15th too). JSON `period.until` is that last day as well.
  `--from` alone runs until today. Without any option the period is the previous full month: the
  month-end review is held in the first days of the next month, over a month that is over.
- A ticket belongs to the period in which it was received (received_at, local time). Tickets received
  after `now` do not exist yet (a report at an earlier `$CSLOG_NOW` or commit is reproduced).
- The previous period is the month / quarter before, or for `--from/--until` the same number of days
  just before. Trends cover the last 6 periods of that kind, oldest first, ending with this one.
- Every clock is judged at `now`: a stopped clock is met or breached, a running (or paused) clock
  past its due is breached, one still within its due counts as neither. `sla` covers claim, response,
  update, resolve and callback; followup has no budget to meet and is left out.
- Rates and shares are fractions 0..1 rounded to 4 places (83.33% is 0.8333); hours, means and
  medians are rounded to 2 places. A rate or mean of nothing is null. JSON numbers stay numbers.
- Handling time runs from received_at until the ticket was resolved or closed (the start of its
  current resolved/closed spell: a reopened ticket counts to its final resolution), only for tickets
  resolved by `now`; wall clock in `handling_hours`, business hours of the working calendar in
  `handling_business_hours`.
- Satisfaction is the ticket's `satisfaction.score` (`cslog rate`); callback scores are reported under
  `callbacks`, from the latest callback of each ticket.
- The department response rate (协作部门响应率) is the share of the department's tickets whose claim
  clock was met (claimed within sla.claim).
- `streaks`: categories that were the top category (ties share the top) in this period and in each
  of the periods just before, at least `streak` periods in a row (default 3, "连续3个月TOP1"); counted
  back at most 12 periods (or `streak`, when larger).
- `by_type`, `by_priority`, `by_status` and `by_channel` list every code, zeros included, in the
  order of cslog.model; unknown codes found in files are added after them.
"""
from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from cslog.calendar import CalendarError
from cslog.errors import UsageError
from cslog.model import CHANNEL, OPEN_STATUSES, PRIORITY, STATUS, TICKET_TYPE
from cslog.slaview import config_error, sla_setup
from cslog.store import Store

CLOCKS = ("claim", "response", "update", "resolve", "callback")
TREND_PERIODS = 6
STREAK_DEFAULT = 3
STREAK_LOOKBACK = 12
TOP_CATEGORIES = 10
RATE_PLACES = 4
PLACES = 2
SCORES = ("1", "2", "3", "4", "5")


# -- periods ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """Days `start` (included) to `end` (excluded) of one kind: month, quarter or range."""

    kind: str
    start: date
    end: date

    @property
    def until(self) -> date:
        """The last day included."""
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.isoformat()}~{self.until.isoformat()}"

    @property
    def slug(self) -> str:
        """The label as it goes into a file name."""
        return self.label.replace("~", "_")

    def shifted(self, back: int) -> Period:
        """The period `back` periods earlier (of the same kind and length)."""
        if self.kind in ("month", "quarter"):
            step = 1 if self.kind == "month" else 3
            return Period(self.kind, _add_months(self.start, -step * back), _add_months(self.end, -step * back))
        days = (self.end - self.start) * back
        return Period(self.kind, self.start - days, self.end - days)

    def previous(self) -> Period:
        return self.shifted(1)

    def bounds(self, tz) -> tuple[datetime, datetime]:
        return datetime.combine(self.start, time(0), tz), datetime.combine(self.end, time(0), tz)

    def to_json(self) -> dict:
        return {"from": self.start.isoformat(), "until": self.until.isoformat()}


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*$")


def month_period(text: str) -> Period:
    m = _MONTH.match(text or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise UsageError(f"--month: cannot read '{text}'", hint="write the month as YYYY-MM, e.g. --month 2026-11")
    start = date(int(m.group(1)), int(m.group(2)), 1)
    return Period("month", start, _add_months(start, 1))


def quarter_period(text: str) -> Period:
    m = _QUARTER.match(text or "")
    if not m:
        raise UsageError(f"--quarter: cannot read '{text}'", hint="write the quarter as YYYY-Qn, e.g. --quarter 2026-Q4")
    start = date(int(m.group(1)), 3 * int(m.group(2)) - 2, 1)
    return Period("quarter", start, _add_months(start, 3))


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise UsageError(f"{option}: cannot read '{text}' as a date",
                         hint=f"write it as YYYY-MM-DD, e.g. {option} 2026-11-01") from None


def parse_period(now: datetime, month: str | None = None, quarter: str | None = None,
                 since: str | None = None, until: str | None = None) -> Period:
    """The period the options name; none given: the previous full month before `now`."""
    given = [name for name, value in (("--month", month), ("--quarter", quarter), ("--from", since)) if value]
    if len(given) > 1:
        raise UsageError(f"give one period: {' or '.join(given)}, not both",
                         hint="--month YYYY-MM, --quarter YYYY-Qn, or --from DATE [--until DATE]")
    if until and not since:
        raise UsageError("--until needs --from", hint="e.g. --from 2026-11-01 --until 2026-11-15")
    if month:
        return month_period(month)
    if quarter:
        return quarter_period(quarter)
    if since:
        first = _day(since, "--from")
        last = _day(until, "--until") if until else now.date()
        if last < first:
            raise UsageError(f"--until {last.isoformat()} is before --from {first.isoformat()}",
                             hint="--until is the last day included, e.g. --from 2026-11-01 --until 2026-11-30")
        return Period("range", first, last + timedelta(days=1))
    this_month = date(now.year, now.month, 1)
    return Period("month", _add_months(this_month, -1), this_month)


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
    done_at: datetime | None
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
    from cslog.sla import clocks

    found = {c.kind: c for c in clocks(doc, policy, cal, now)}
    resolve = found.get("resolve")
    done = resolve.stopped if resolve is not None else None
    hours = business = None
    if done is not None:
        hours = max((done - received).total_seconds(), 0) / 3600
        business = cal.business_between(received, done).total_seconds() / 3600
    satisfaction = doc.get("satisfaction")
    score = satisfaction.get("score") if isinstance(satisfaction, Mapping) else None
    calls = [c for c in (doc.get("callbacks") or []) if isinstance(c, Mapping)]
    last_call = max(calls, key=lambda c: str(c.get("at") or ""), default=None)
    decision = doc.get("decision")
    return Facts(
        id=str(doc.get("id") or ""), received=received, type=doc.get("type"), priority=doc.get("priority"),
        status=doc.get("status"), channel=doc.get("channel"), category=_text(doc.get("category")),
        owner=_text(doc.get("owner")), department=_text(doc.get("department")), clocks=found, done_at=done,
        hours=hours, business_hours=business, score=score if _is_score(score) else None,
        callback_solved=last_call.get("solved") if last_call and isinstance(last_call.get("solved"), bool) else None,
        callback_score=last_call.get("score") if last_call and _is_score(last_call.get("score")) else None,
        called_back=last_call is not None,
        decision=decision.get("result") if isinstance(decision, Mapping) else None,
        praised=_text(doc.get("praised")),
    )


def _text(value: Any) -> str | None:
    return str(value).strip() or None if value not in (None, "") else None


def _is_score(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5


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
            "satisfied_rate": _rate(sum(1 for s in scores if s >= 4), len(scores)),
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


def _departments(facts: list[Facts]) -> dict:
    groups: dict[str, list[Facts]] = defaultdict(list)
    for f in facts:
        if f.department:
            groups[f.department].append(f)
    out = {}
    for name, group in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        claim = _sla(group, ("claim",))["claim"]
        resolve = _sla(group, ("resolve",))["resolve"]
        done = [f.hours for f in group if f.hours is not None]
        out[name] = {"tickets": len(group), "resolved": len(done), "claimed_in_time": claim["met"],
                     "claimed_late": claim["breached"], "response_rate": claim["rate"],
                     "resolve_rate": resolve["rate"], "handling_hours_mean": _mean(done)}
    return out


def _owners(facts: list[Facts]) -> dict:
    groups: dict[str, list[Facts]] = defaultdict(list)
    for f in facts:
        if f.owner:
            groups[f.owner].append(f)
    out = {}
    for name, group in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
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
    return {"total": len(group), "by_person": dict(_ranked(Counter(f.praised for f in group if f.praised)))}


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


_TIME_LINE = {name: re.compile(rf"^{name}:[ \t]*['\"]?([0-9][0-9T:. +\-Z]*?)['\"]?[ \t]*(?:#.*)?$", re.M)
              for name in ("received_at", "started_at")}

TicketHook = Callable[[Mapping[str, Any], Facts], None]


def build(store: Store, period: Period, now: datetime, streak: int = STREAK_DEFAULT,
          on_ticket: TicketHook | None = None, use_cache: bool = True, index=None) -> Report:
    """The report of `period` as judged at `now`. `on_ticket(doc, facts)` is called for each ticket of
    the period with its whole document (the workbook builds its rows there). The tickets come from the
    index (`index`, or the store's: compact documents, picked by received_at); use_cache=False reads
    every file instead."""
    if streak < 1:
        raise UsageError(f"--streak must be 1 or more, not {streak}")
    setup = sla_setup(store)
    tz = setup.calendar.tz
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
            f = ticket_facts(doc, received, setup.policy, setup.calendar, now)
        except CalendarError as exc:  # the configuration, not this ticket: as overdue and show say it
            raise config_error(store, f"calendar: {exc}") from None
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
    data["generated_at"] = now.astimezone(tz).replace(microsecond=0).isoformat()
    return Report(period, data, problems)


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
    doc = store.read_path(kind, path, text).doc
    if doc.get(when) in (None, ""):
        raise ValueError(f"{when} is missing")
    try:
        moment = parse_time(str(doc[when]), tz, when)
    except UsageError as exc:
        raise ValueError(exc.message) from None
    i = slot(moment)
    return None if i is None else (doc, moment.astimezone(tz), i)


# -- the figures as labelled sections (the table of `cslog report` and the workbook's Summary) ------------

@dataclass(frozen=True)
class Section:
    """A titled block of rows; `formats` says per column how a value reads: text, count, rate, hours,
    score, or a signed change of one of them (dcount, drate, dhours, dscore)."""

    key: str
    title: str
    headers: tuple[str, ...]
    formats: tuple[str, ...]
    rows: list[tuple]


def _say(pair: tuple[str, str], language: str) -> str:
    return pair[0] if language == "zh" else pair[1]


CLOCK_LABELS = {"claim": ("认领", "claim"), "response": ("首次响应", "response"), "update": ("进度更新", "update"),
                "resolve": ("解决", "resolve"), "callback": ("回访", "callback")}
_H = {  # column headers
    "metric": ("指标", "Figure"), "this": ("本期", "This period"), "prev": ("上期", "Previous"),
    "change": ("变化", "Change"), "share": ("占比", "Share"),
    "clock": ("时限", "Clock"), "met": ("达成", "Met"), "breached": ("超时", "Breached"), "rate": ("达成率", "Rate"),
    "prev_rate": ("上期达成率", "Previous rate"), "priority": ("问题等级", "Priority"),
    "resolved": ("已解决", "Resolved"), "mean_h": ("平均(小时)", "Mean (h)"), "median_h": ("中位(小时)", "Median (h)"),
    "mean_bh": ("平均(工作小时)", "Mean (business h)"), "median_bh": ("中位(工作小时)", "Median (business h)"),
    "prev_mean": ("上期平均(小时)", "Previous mean (h)"),
    "category": ("问题分类", "Category"), "department": ("部门", "Department"), "tickets": ("工单", "Tickets"),
    "claimed_in_time": ("按时认领", "Claimed in time"), "claimed_late": ("认领超时", "Claimed late"),
    "response_rate": ("响应率", "Response rate"), "resolve_rate": ("按时解决率", "Resolved in time"),
    "owner": ("第一责任人", "Owner"), "sat_mean": ("满意度均分", "Satisfaction"), "person": ("表扬对象", "Praised"),
    "times": ("次数", "Times"), "type": ("问题类型", "Type"), "status": ("处理进度", "Status"),
    "channel": ("渠道", "Channel"),
}
_TITLES = {
    "overview": ("概况", "Overview"), "by_type": ("问题类型", "Types"), "by_priority": ("问题等级", "Priorities"),
    "by_status": ("处理进度", "Status"), "by_channel": ("受理渠道", "Channels"),
    "sla": ("服务时限(SLA)达成", "SLA clocks"), "sla_by_priority": ("各等级SLA达成率", "SLA rate by priority"),
    "handling": ("处理效率(受理至解决)", "Handling time (received to resolved)"),
    "satisfaction": ("客户满意度", "Satisfaction"), "top_categories": ("高频问题", "Top categories"),
    "streaks": ("连续TOP1问题", "Top category streaks"), "departments": ("协作部门响应率", "Departments"),
    "owners": ("责任人处理情况", "Owners"), "callbacks": ("回访", "Callbacks"),
    "suggestions": ("建议采纳情况", "Suggestions"), "praise": ("表扬对象", "Praise"),
}
_OVERVIEW = {
    "tickets": ("工单总数", "Tickets"), "resolved": ("已解决/关闭", "Resolved or closed"),
    "open": ("未结工单", "Still open"), "unassigned": ("未分派", "Without owner"),
    "hours_mean": ("平均处理时长(小时)", "Mean handling time (h)"),
    "hours_median": ("处理时长中位数(小时)", "Median handling time (h)"),
    "bh_mean": ("平均处理时长(工作小时)", "Mean handling time (business h)"),
    "response_rate": ("首次响应达成率", "Response SLA rate"), "resolve_rate": ("解决时限达成率", "Resolve SLA rate"),
    "sat_mean": ("满意度均分", "Mean satisfaction"), "sat_rate": ("满意率(4-5分)", "Satisfied (4-5)"),
}
_SATISFACTION = {"responses": ("评价数", "Responses"), "mean": ("均分", "Mean score"),
                 "satisfied_rate": ("满意率(4-5分)", "Satisfied (4-5)"), "score": ("{}分", "score {}")}
_CALLBACKS = {"tickets": ("已回访工单", "Tickets called back"), "solved": ("确认已解决", "Solved"),
              "not_solved": ("未解决", "Not solved"), "solved_rate": ("回访解决率", "Solved rate"),
              "mean_score": ("回访评分均值", "Mean callback score")}
_SUGGESTIONS = {"total": ("建议总数", "Suggestions"), "adopted": ("采纳", "Adopted"), "rejected": ("不采纳", "Rejected"),
                "pending": ("待定", "Pending"), "adoption_rate": ("采纳率", "Adoption rate")}


def empty_text(language: str) -> str:
    return "本期没有受理工单。" if language == "zh" else "No tickets were received in this period."


def title_text(data: dict, org: str, language: str) -> str:
    p = data["period"]
    what = "客户服务工单报告" if language == "zh" else "Customer-service report"
    return f"{org + ' ' if org else ''}{what} {data['label']} ({p['from']} ~ {p['until']})"


def sections(data: dict, language: str) -> list[Section]:
    """The report's figures as labelled blocks; every number is the very number of `data`. A period
    without tickets has the overview only."""
    say = lambda pair: _say(pair, language)  # noqa: E731
    h = {k: say(v) for k, v in _H.items()}
    prev, chg = data["previous"], data["change"]
    out: list[Section] = []

    ov = _OVERVIEW
    overview = [
        (say(ov["tickets"]), data["tickets"], prev["tickets"], chg["tickets"], "count"),
        (say(ov["resolved"]), data["resolved"], prev["resolved"], chg["resolved"], "count"),
        (say(ov["open"]), data["open"], prev["open"], chg["open"], "count"),
        (say(ov["unassigned"]), data["unassigned"], prev["unassigned"], chg["unassigned"], "count"),
        (say(ov["hours_mean"]), data["handling"]["hours"]["mean"], prev["handling"]["hours"]["mean"],
         chg["handling"]["hours"]["mean"], "hours"),
        (say(ov["hours_median"]), data["handling"]["hours"]["median"], prev["handling"]["hours"]["median"],
         chg["handling"]["hours"]["median"], "hours"),
        (say(ov["bh_mean"]), data["handling"]["business_hours"]["mean"], prev["handling"]["business_hours"]["mean"],
         chg["handling"]["business_hours"]["mean"], "hours"),
        (say(ov["response_rate"]), data["sla"]["response"]["rate"], prev["sla"]["response"]["rate"],
         chg["sla"]["response"], "rate"),
        (say(ov["resolve_rate"]), data["sla"]["resolve"]["rate"], prev["sla"]["resolve"]["rate"],
         chg["sla"]["resolve"], "rate"),
        (say(ov["sat_mean"]), data["satisfaction"]["mean"], prev["satisfaction"]["mean"],
         chg["satisfaction"]["mean"], "score"),
        (say(ov["sat_rate"]), data["satisfaction"]["satisfied_rate"], prev["satisfaction"]["satisfied_rate"],
         chg["satisfaction"]["satisfied_rate"], "rate"),
    ]
    out.append(_mixed("overview", say(_TITLES["overview"]), h, overview))
    if not data["tickets"]:
        return out  # nothing received: the overview (against the previous period) says all there is

    for key, enum, head in (("by_type", TICKET_TYPE, "type"), ("by_priority", PRIORITY, "priority"),
                            ("by_status", STATUS, "status"), ("by_channel", CHANNEL, "channel")):
        n = data["tickets"]
        rows = [(enum.label(code, language), count, _rate(count, n), prev[key].get(code, 0), chg[key][code])
                for code, count in data[key].items()]
        out.append(Section(key, say(_TITLES[key]), (h[head], h["this"], h["share"], h["prev"], h["change"]),
                           ("text", "count", "rate", "count", "dcount"), rows))

    rows = [(say(CLOCK_LABELS[k]), v["met"], v["breached"], v["rate"], prev["sla"][k]["rate"], chg["sla"][k])
            for k, v in data["sla"].items()]
    out.append(Section("sla", say(_TITLES["sla"]), (h["clock"], h["met"], h["breached"], h["rate"], h["prev_rate"],
                                                   h["change"]), ("text", "count", "count", "rate", "rate", "drate"),
                       rows))
    rows = [(PRIORITY.label(p, language), *(data["sla_by_priority"][p][k]["rate"] for k in CLOCKS))
            for p in PRIORITY.codes]
    out.append(Section("sla_by_priority", say(_TITLES["sla_by_priority"]),
                       (h["priority"], *(say(CLOCK_LABELS[k]) for k in CLOCKS)), ("text",) + ("rate",) * len(CLOCKS),
                       rows))

    rows = []
    for p in PRIORITY.codes:
        wall, biz = data["handling_hours"][p], data["handling_business_hours"][p]
        rows.append((PRIORITY.label(p, language), wall["mean"], wall["median"], biz["mean"], biz["median"],
                     prev["handling_hours"][p]["mean"], chg["handling_hours"][p]["mean"]))
    out.append(Section("handling", say(_TITLES["handling"]),
                       (h["priority"], h["mean_h"], h["median_h"], h["mean_bh"], h["median_bh"], h["prev_mean"],
                        h["change"]), ("text", "hours", "hours", "hours", "hours", "hours", "dhours"), rows))

    sat, psat = data["satisfaction"], prev["satisfaction"]
    rows = [(say(_SATISFACTION["responses"]), sat["responses"], psat["responses"],
             sat["responses"] - psat["responses"], "count"),
            (say(_SATISFACTION["mean"]), sat["mean"], psat["mean"], chg["satisfaction"]["mean"], "score"),
            (say(_SATISFACTION["satisfied_rate"]), sat["satisfied_rate"], psat["satisfied_rate"],
             chg["satisfaction"]["satisfied_rate"], "rate")]
    rows += [(say(_SATISFACTION["score"]).format(s), sat["distribution"][s], psat["distribution"][s],
              sat["distribution"][s] - psat["distribution"][s], "count") for s in reversed(SCORES)]
    out.append(_mixed("satisfaction", say(_TITLES["satisfaction"]), h, rows))

    n = data["tickets"]
    rows = [(t["category"], t["count"], _rate(t["count"], n), prev["by_category"].get(t["category"], 0))
            for t in data["top_categories"]]
    out.append(Section("top_categories", say(_TITLES["top_categories"]),
                       (h["category"], h["this"], h["share"], h["prev"]), ("text", "count", "rate", "count"), rows))
    if data["streaks"]:
        unit = {"month": ("个月", " months"), "quarter": ("个季度", " quarters")}.get(data_kind(data), ("期", " periods"))
        rows = [(s["category"], (f"连续{s['periods']}{unit[0]}TOP1 (自{s['since']}起)" if language == "zh" else
                                 f"top 1 for {s['periods']}{unit[1]} in a row (since {s['since']})"))
                for s in data["streaks"]]
        out.append(Section("streaks", say(_TITLES["streaks"]), (h["category"], h["metric"]), ("text", "text"), rows))

    rows = [(name, d["tickets"], d["resolved"], d["claimed_in_time"], d["claimed_late"], d["response_rate"],
             d["resolve_rate"], d["handling_hours_mean"]) for name, d in data["departments"].items()]
    out.append(Section("departments", say(_TITLES["departments"]),
                       (h["department"], h["tickets"], h["resolved"], h["claimed_in_time"], h["claimed_late"],
                        h["response_rate"], h["resolve_rate"], h["mean_h"]),
                       ("text", "count", "count", "count", "count", "rate", "rate", "hours"), rows))
    rows = [(name, o["tickets"], o["resolved"], o["resolve_rate"], o["handling_hours_mean"], o["satisfaction_mean"])
            for name, o in data["by_owner"].items()]
    out.append(Section("owners", say(_TITLES["owners"]),
                       (h["owner"], h["tickets"], h["resolved"], h["resolve_rate"], h["mean_h"], h["sat_mean"]),
                       ("text", "count", "count", "rate", "hours", "score"), rows))

    cb, pcb = data["callbacks"], prev["callbacks"]
    rows = [(say(label), cb[k], pcb[k], _delta(cb[k], pcb[k], RATE_PLACES if "rate" in k else PLACES),
             "rate" if "rate" in k else "score" if "score" in k else "count") for k, label in _CALLBACKS.items()]
    out.append(_mixed("callbacks", say(_TITLES["callbacks"]), h, rows))
    sg, psg = data["suggestions"], prev["suggestions"]
    rows = [(say(label), sg[k], psg[k], _delta(sg[k], psg[k], RATE_PLACES if "rate" in k else PLACES),
             "rate" if "rate" in k else "count") for k, label in _SUGGESTIONS.items()]
    out.append(_mixed("suggestions", say(_TITLES["suggestions"]), h, rows))
    rows = [(name, count) for name, count in data["praise"]["by_person"].items()]
    out.append(Section("praise", say(_TITLES["praise"]), (h["person"], h["times"]), ("text", "count"), rows))
    return out


def data_kind(data: dict) -> str:
    label = data["label"]
    return "quarter" if "-Q" in label else "range" if "~" in label else "month"


def _mixed(key: str, title: str, h: dict, rows: list[tuple]) -> Section:
    """A block of (label, this period, previous period, change, format) rows: each row carries its own
    format as a last item (the Section's formats say "row" and "drow"; see row_format)."""
    return Section(key, title, (h["metric"], h["this"], h["prev"], h["change"]), ("text", "row", "row", "drow"), rows)


def row_format(section: Section, row: tuple, column: int) -> str:
    """The format of one cell: a column's, or for mixed sections the row's own (its last item)."""
    f = section.formats[column]
    if f == "row":
        return row[-1]
    if f == "drow":
        return "d" + row[-1]
    return f


def row_values(section: Section, row: tuple) -> tuple:
    """A row's cells without the trailing format of mixed sections."""
    return row[:len(section.headers)]


def show(value: Any, fmt: str, language: str) -> str:
    """A value as text for the terminal table."""
    if value is None:
        return "-"
    signed = fmt.startswith("d")
    base = fmt[1:] if signed else fmt
    if base == "rate":
        text = f"{value * 100:+.1f}pp" if signed else f"{value * 100:.1f}%"
    elif base in ("hours", "score"):
        text = f"{value:+.2f}" if signed else f"{value:.2f}"
    elif base == "count" and isinstance(value, (int, float)):
        text = f"{value:+d}" if signed else f"{value}"
    else:
        text = str(value)
    return text


def table_text(data: dict, org: str, language: str) -> str:
    """The report as titled CJK-aware tables (what `cslog report` prints)."""
    from cslog.render import grid

    lines = [title_text(data, org, language)]
    if not data["tickets"]:
        lines += ["", empty_text(language)]
    for section in sections(data, language):
        if not section.rows:
            continue
        body = [[show(v, row_format(section, row, i), language) for i, v in enumerate(row_values(section, row))]
                for row in section.rows]
        aligns = ["left" if section.formats[i] == "text" else "right" for i in range(len(section.headers))]
        lines += ["", f"[{section.title}]", grid(body, list(section.headers), aligns)]
    return "\n".join(lines) + "\n"
