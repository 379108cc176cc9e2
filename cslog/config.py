"""cslog.yaml: the documented defaults, and the file resolved once into a frozen Settings."""
from __future__ import annotations

import copy
import difflib
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cslog.errors import ConfigError, UsageError
from cslog.yamlio import YamlSyntaxError, line_of, load_text

CONFIG_FILE = "cslog.yaml"

DEFAULTS: dict[str, Any] = {
    "org": "",
    "language": "zh",
    "timezone": "Asia/Shanghai",
    "ids": {"ticket": "CW{date:%Y%m%d}{seq:04d}", "contact": "GT{date:%Y%m%d}{seq:04d}", "customer": "C{seq:04d}"},
    "agents": [],
    "departments": [],
    "sla": {
        "urgent": {"response": "1h", "update": "4h", "resolve": "4h"},
        "important": {"response": "4h", "update": "24h", "resolve": "48h"},
        "normal": {"response": "24h", "update": "24h", "resolve": "3bd"},
        "claim": "2h",
        "callback": {"after": "48h", "types": ["complaint", "repair"]},
        "pause_in": ["waiting"],
        "warn_within": "1h",
    },
    "calendar": {
        "country": "CN",
        "business_hours": [{"start": "09:00", "end": "18:00"}],
        "weekdays": ["mon", "tue", "wed", "thu", "fri"],
        "extra_holidays": [],
        "extra_workdays": [],
    },
    "close_requires": {"complaint": ["solution", "category"], "fault": ["solution", "category"],
                       "repair": ["solution", "category"], "default": ["category"]},
    "review_required": False,
    "batch": {"threshold": 3, "window": "24h"},
    "git": {"auto_commit": True},
}

# What `cslog init` writes: every default, with a short comment a team lead can follow.
CONFIG_TEMPLATE = """\
# yaml-language-server: $schema=schemas/config.schema.json
# cslog 配置 / configuration. Every value below is the default; change what your team needs.
org: {org}                # 公司名称 / organisation, shown in reports
language: {language}                   # zh | en: labels in tables, reports and the Excel workbook
timezone: Asia/Shanghai        # times without an offset are read in this zone

# 编号格式 / ID formats. {{date:%Y%m%d}} = creation day, {{seq:04d}} = daily sequence,
# {{station}} = this clone's code (teams with several clones, see `cslog init --station`).
ids:
  ticket: 'CW{{date:%Y%m%d}}{{seq:04d}}'     # 工单 CW202611220001
  contact: 'GT{{date:%Y%m%d}}{{seq:04d}}'    # 沟通记录 GT202611220001
  customer: 'C{{seq:04d}}'                 # 客户 C0001

# 坐席与部门 / agents and departments. Empty = free text. When listed, owners and departments
# must be on the list (by id or name), and a typo gets a "did you mean".
#   agents: [{{id: a01, name: 小明, department: 客服部}}, 小丽]
agents: []
departments: []

# 服务时限 / SLA per priority. 30m 4h 2d = wall clock; 8bh = business hours;
# 3bd = close of business of the 3rd working day after the day received.
sla:
  urgent:    {{response: 1h,  update: 4h,  resolve: 4h}}     # 紧急
  important: {{response: 4h,  update: 24h, resolve: 48h}}    # 重要
  normal:    {{response: 24h, update: 24h, resolve: 3bd}}    # 一般
  claim: 2h                   # 任务卡认领: a ticket must have an owner within 2h
  callback: {{after: 48h, types: [complaint, repair]}}      # 回访 after resolution
  pause_in: [waiting]         # statuses that stop the update and resolve clocks
  warn_within: 1h             # `cslog show` marks a clock "at risk" this long before its due

# 工作日历 / working calendar: public holidays and make-up working days (调休) of the country.
calendar:
  country: CN
  business_hours: [{{start: '09:00', end: '18:00'}}]   # several windows allowed, e.g. a lunch break
  weekdays: [mon, tue, wed, thu, fri]
  extra_holidays: []          # company days off, e.g. ['2026-12-31']
  extra_workdays: []          # company extra working days

# 结单要求 / what closing a ticket needs, per type ("default" for the other types).
close_requires:
  complaint: [solution, category]
  fault: [solution, category]
  repair: [solution, category]
  default: [category]
review_required: false        # true: a supervisor must `cslog review ID --approve` before closing

# 批量客诉 / batch complaints: this many open complaints of one category within the window
# all become urgent and are linked.
batch: {{threshold: 3, window: 24h}}

git:
  auto_commit: true           # every change is its own commit; false = leave committing to you
"""


def default_config_text(org: str, language: str) -> str:
    import json

    return CONFIG_TEMPLATE.format(org=json.dumps(org, ensure_ascii=False) if org else "''", language=language)


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

    @property
    def tz(self):
        from cslog.timeutil import zone

        return zone(self.timezone)


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
    )


def _named(entry: Any) -> dict:
    if isinstance(entry, dict):
        return {"id": str(entry.get("id") or entry.get("name") or ""), "name": str(entry.get("name") or entry.get("id")),
                "department": entry.get("department")}
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
        problems.append((("ids",), "ids must map ticket/contact/customer to a format"))
    else:
        for kind, fmt in ids.items():
            if kind not in ("ticket", "contact", "customer"):
                problems.append((("ids", kind), f"unknown record kind '{kind}' (use ticket, contact, customer)"))
            elif not isinstance(fmt, str) or "{seq" not in fmt:
                problems.append((("ids", kind), f"ID format {fmt!r} needs a {{seq}} field, e.g. 'CW{{date:%Y%m%d}}{{seq:04d}}'"))
            else:
                from cslog.ids import IdFormat

                try:
                    IdFormat(fmt)
                except ValueError as exc:
                    problems.append((("ids", kind), str(exc)))
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
