"""cslog.yaml resolved once into a frozen Settings (over cslog.defaults), with every problem it has."""
from __future__ import annotations

import copy
import difflib
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cslog.defaults import CONFIG_FILE, DEFAULTS
from cslog.errors import ConfigError, UsageError
from cslog.yamlio import YamlSyntaxError, line_of, load_text


@dataclass(frozen=True)
class Settings:
    org: str
    language: str
    timezone: str
    ids: dict
    station: str
    agents: tuple
    departments: tuple
    sla: dict
    calendar: dict
    close_requires: dict
    review_required: bool
    batch_threshold: int
    batch_window: str
    auto_commit: bool
    digest: str = field(default="", compare=False)
    attachments_max_mb: float = 20
    routing: tuple = ()  # routing.py's rules, as cslog.yaml gives them
    notify: tuple = ()  # ops/notify.py's targets

    @property
    def tz(self):
        from cslog.timeutil import zone

        return zone(self.timezone)

    def policy(self, where: Path | None = None):
        """The `sla:` section as an sla.SlaPolicy; ConfigError (at its line in `where`) when it is wrong."""
        from cslog.sla import SlaPolicy

        try:
            return SlaPolicy.from_config(self.sla)
        except ValueError as exc:
            raise error_at(where, str(exc)) from None

    def work_calendar(self, holidays_cache: str | None = None, where: Path | None = None):
        """The `calendar:` section as a calendar.WorkCalendar, its country's holidays kept in holidays_cache;
        ConfigError (at its line in `where`) when it is wrong."""
        from cslog.calendar import HolidayData, WorkCalendar

        try:
            return WorkCalendar.from_config(self.calendar, self.timezone, HolidayData(holidays_cache))
        except ValueError as exc:
            raise error_at(where, f"{exc}" if str(exc).startswith("calendar") else f"calendar: {exc}") from None


def _merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key not in ("close_requires",):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load(path: Path, station: str | None = None) -> Settings:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text", hint="save cslog.yaml as UTF-8") from None
    return parse(text, str(path), hashlib.sha1(raw).hexdigest(), station)


def parse(text: str, where: str = CONFIG_FILE, digest: str = "", station: str | None = None) -> Settings:
    try:
        data = load_text(text)
    except YamlSyntaxError as exc:
        raise ConfigError(f"{where}:{exc.line or 1}: {exc}",
                          hint="fix the YAML, or compare with the defaults in `cslog init --help`") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}:1: cslog.yaml must be a mapping of settings")
    problems = config_problems(data)
    if problems:
        path, message = problems[0]
        line = line_of(text, path) or 1
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConfigError(f"{where}:{line}: {message}{more}", hint="`cslog check` lists every problem of cslog.yaml")
    merged = _merge(DEFAULTS, data)
    close = merged["close_requires"]
    if isinstance(close, list):
        close = {"default": close}
    return Settings(
        org=str(merged.get("org") or ""), language=merged["language"], timezone=merged["timezone"],
        ids=merged["ids"], station=station or str(merged.get("station") or ""),
        agents=tuple(_named(a) for a in merged["agents"]), departments=tuple(_named(d) for d in merged["departments"]),
        sla=merged["sla"], calendar=merged["calendar"], close_requires=close,
        review_required=bool(merged["review_required"]), batch_threshold=int(merged["batch"]["threshold"]),
        batch_window=str(merged["batch"]["window"]), auto_commit=bool(merged["git"]["auto_commit"]), digest=digest,
        attachments_max_mb=float(merged["attachments"]["max_mb"]),
        routing=tuple(merged["routing"] if isinstance(merged["routing"], list) else ()),
        notify=tuple(t for t in (merged["notify"] if isinstance(merged["notify"], list) else ()) if isinstance(t, dict)),
    )


def _named(entry: Any) -> dict:
    if isinstance(entry, dict):
        return {"id": str(entry.get("id") or entry.get("name") or ""), "name": str(entry.get("name") or entry.get("id")),
                "department": entry.get("department"),
                **{k: str(entry[k]) for k in ("mobile", "feishu_id", "email") if entry.get(k)}}
    return {"id": str(entry), "name": str(entry), "department": None}


def config_problems(data: dict) -> list[tuple[tuple, str]]:
    """Problems as (path, message); cheap checks only, so that every command can afford them."""
    from cslog.durations import parse_duration

    problems: list[tuple[tuple, str]] = []
    known = set(DEFAULTS) | {"station"}
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(str(key), sorted(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(((key,), f"unknown setting '{key}'{hint}"))
    if data.get("language", "zh") not in ("zh", "en"):
        problems.append((("language",), f"language must be zh or en, not {data.get('language')!r}"))
    if "timezone" in data:
        try:
            from cslog.timeutil import zone

            zone(str(data["timezone"]))
        except UsageError:
            problems.append((("timezone",), f"unknown timezone {data['timezone']!r}; use an IANA name such as Asia/Shanghai"))
    ids = data.get("ids", {})
    if not isinstance(ids, dict):
        problems.append((("ids",), "ids must map ticket/contact/customer/action to a format"))
    else:
        for kind, fmt in ids.items():
            from cslog.model import KINDS

            if kind not in KINDS:
                problems.append((("ids", kind), f"unknown record kind '{kind}' (use {', '.join(KINDS)})"))
            elif not isinstance(fmt, str) or "{seq" not in fmt:
                problems.append((("ids", kind), f"ID format {fmt!r} needs a {{seq}} field, e.g. 'CW{{date:%Y%m%d}}{{seq:04d}}'"))
            else:
                from cslog.ids import IdFormat

                try:
                    IdFormat(fmt)
                except ValueError as exc:
                    problems.append((("ids", kind), str(exc)))
    if data.get("notify"):
        from cslog.notify.targets import target_problems

        problems += target_problems(data["notify"])
    if data.get("routing"):
        from cslog.routing import rule_problems

        agents = [_named(a) for a in data.get("agents") or [] if isinstance(a, (dict, str))]
        departments = [_named(d) for d in data.get("departments") or [] if isinstance(d, (dict, str))]
        problems += rule_problems(data["routing"], agents, departments)
    for section in ("sla", "calendar", "batch", "git"):
        if section in data and not isinstance(data[section], dict):
            problems.append(((section,), f"{section} must be a mapping"))
    sla = data.get("sla") if isinstance(data.get("sla"), dict) else {}
    for prio, clocks in sla.items():
        if prio in ("urgent", "important", "normal"):
            if not isinstance(clocks, dict):
                problems.append((("sla", prio), f"sla.{prio} must map response/update/resolve to durations"))
                continue
            for clock, value in clocks.items():
                if clock not in ("response", "update", "resolve"):
                    problems.append((("sla", prio, clock), f"unknown clock sla.{prio}.{clock} (use response, update, resolve)"))
                    continue
                problems += _duration_problem(parse_duration, ("sla", prio, clock), value)
        elif prio in ("claim", "warn_within"):
            problems += _duration_problem(parse_duration, ("sla", prio), clocks)
        elif prio == "callback":
            if isinstance(clocks, dict) and "after" in clocks:
                problems += _duration_problem(parse_duration, ("sla", "callback", "after"), clocks["after"])
        elif prio != "pause_in":
            problems.append((("sla", prio), f"unknown SLA setting sla.{prio}"))
    batch = data.get("batch") if isinstance(data.get("batch"), dict) else {}
    if "window" in batch:
        problems += _duration_problem(parse_duration, ("batch", "window"), batch["window"])
    if "threshold" in batch and (not isinstance(batch["threshold"], int) or batch["threshold"] < 2):
        problems.append((("batch", "threshold"), "batch.threshold must be a whole number >= 2"))
    for key in ("agents", "departments"):
        if key in data and not isinstance(data[key], list):
            problems.append(((key,), f"{key} must be a list"))
    problems += _clock_problems(data, {path[0] for path, _ in problems})
    return problems


def _clock_problems(data: dict, reported: set) -> list[tuple[tuple, str]]:
    """The sla and calendar sections read as the SLA clocks read them (first problem of each section).

    The calendar's country code is left to `cslog check`: checking it loads the holiday library, which
    every command cannot afford."""
    from cslog.calendar import WorkCalendar
    from cslog.sla import SlaPolicy

    problems: list[tuple[tuple, str]] = []
    sla, calendar = data.get("sla"), data.get("calendar")
    if "sla" not in reported and (sla is None or isinstance(sla, dict)):
        try:
            SlaPolicy.from_config(sla)
        except ValueError as exc:
            problems.append((setting_path(str(exc)) or ("sla",), str(exc)))
    if not reported & {"calendar", "timezone"} and (calendar is None or isinstance(calendar, dict)):
        try:
            WorkCalendar.from_config({**(calendar or {}), "country": None}, data.get("timezone"))
        except ValueError as exc:
            problems.append((setting_path(str(exc)) or ("calendar",), str(exc)))
    return problems


_SETTING = re.compile(r"^([a-z_]+(?:\.[a-z_]+|\[\d+\])*): ")


def setting_path(message: str) -> tuple:
    """The setting a message starts with, as a path: 'calendar.business_hours[0].start: ...' ->
    ('calendar', 'business_hours', 0, 'start'); () when it names none."""
    named = _SETTING.match(message)
    if not named:
        return ()
    return tuple(int(p) if p.isdigit() else p for p in re.findall(r"[a-z_]+|\d+", named.group(1)))


def _duration_problem(parse_duration, path: tuple, value: Any) -> list[tuple[tuple, str]]:
    try:
        parse_duration(str(value))
    except ValueError as exc:
        return [(path, f"{'.'.join(path)}: {exc}")]
    return []


def error_at(where: Path | None, message: str) -> ConfigError:
    """`cslog.yaml:LINE: sla.urgent.resolve: ...`, the line found from the setting the message names."""
    shown = CONFIG_FILE
    path = setting_path(message)
    if path and where is not None:
        try:
            line = line_of(where.read_text(encoding="utf-8-sig"), path)
        except OSError:
            line = None
        if line:
            shown = f"{CONFIG_FILE}:{line}"
    return ConfigError(f"{shown}: {message}", hint="fix cslog.yaml (`cslog check` lists its problems); "
                                                  "`cslog init --help` shows the defaults")
