"""The figures as labelled sections: the tables `cslog report` prints and the Summary sheet of `cslog export`."""
from __future__ import annotations

from dataclasses import dataclass

from cslog import labels
from cslog.model import ACTION_STATUS, CHANNEL, PRIORITY, SLA_CLOCKS, STATUS, TICKET_TYPE, field_label
from cslog.report.figures import PLACES, RATE_PLACES, SCORES, _delta, _rate


@dataclass(frozen=True)
class Section:
    """A titled block of rows; `formats` says per column how a value reads: text, count, rate, hours,
    score, or a signed change of one of them (dcount, drate, dhours, dscore)."""

    key: str
    title: str
    headers: tuple[str, ...]
    formats: tuple[str, ...]
    rows: list[tuple]


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
    "channel": ("渠道", "Channel"), "total": ("合计", "Total"), **labels.ACTION_FIGURES,
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
    "actions": ("改进措施", "Improvement actions"), "action_items": ("改进措施明细", "Improvement actions, one by one"), "action_effects": ("改进措施效果", "Effect of improvement actions"),
}
_OVERVIEW = {
    "tickets": ("工单总数", "Tickets"), "resolved": ("已解决", "Resolved"),
    "closed_unresolved": ("未解决即关闭", "Closed unresolved"), "reopened": ("重新处理", "Reopened"),
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
    say = lambda pair: labels.say(pair, language)  # noqa: E731
    h = {k: say(v) for k, v in _H.items()}
    prev, chg = data["previous"], data["change"]
    out: list[Section] = []

    ov = _OVERVIEW
    overview = [
        (say(ov["tickets"]), data["tickets"], prev["tickets"], chg["tickets"], "count"),
        (say(ov["resolved"]), data["resolved"], prev["resolved"], chg["resolved"], "count"),
        (say(ov["closed_unresolved"]), data["closed_unresolved"], prev["closed_unresolved"],
         chg["closed_unresolved"], "count"),
        (say(ov["reopened"]), data["reopened"], prev["reopened"], chg["reopened"], "count"),
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
    if not data["tickets"]:  # nothing received: the overview (against the previous period) says all there is
        return out + _actions(data.get("actions"), say, h, language)

    for key, enum, head in (("by_type", TICKET_TYPE, "type"), ("by_priority", PRIORITY, "priority"),
                            ("by_status", STATUS, "status"), ("by_channel", CHANNEL, "channel")):
        n = data["tickets"]
        rows = [(enum.label(code, language), count, _rate(count, n), prev[key].get(code, 0), chg[key][code])
                for code, count in data[key].items()]
        out.append(Section(key, say(_TITLES[key]), (h[head], h["this"], h["share"], h["prev"], h["change"]),
                           ("text", "count", "rate", "count", "dcount"), rows))

    rows = [(say(labels.CLOCKS[k]), v["met"], v["breached"], v["rate"], prev["sla"][k]["rate"], chg["sla"][k])
            for k, v in data["sla"].items()]
    out.append(Section("sla", say(_TITLES["sla"]), (h["clock"], h["met"], h["breached"], h["rate"], h["prev_rate"],
                                                   h["change"]), ("text", "count", "count", "rate", "rate", "drate"),
                       rows))
    rows = [(PRIORITY.label(p, language), *(data["sla_by_priority"][p][k]["rate"] for k in SLA_CLOCKS))
            for p in PRIORITY.codes]
    out.append(Section("sla_by_priority", say(_TITLES["sla_by_priority"]),
                       (h["priority"], *(say(labels.CLOCKS[k]) for k in SLA_CLOCKS)), ("text",) + ("rate",) * len(SLA_CLOCKS),
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
    tickets = data["praise"].get("tickets") or {}
    rows = [(name, count, ", ".join(tickets.get(name) or [])) for name, count in data["praise"]["by_person"].items()]
    out.append(Section("praise", say(_TITLES["praise"]), (h["person"], h["times"], h["tickets"]),
                       ("text", "count", "text"), rows))
    return out + _actions(data.get("actions"), say, h, language)


def _actions(actions: dict | None, say, h: dict, language: str) -> list[Section]:
    """改进措施 by department, and the effect of those done in earlier periods; nothing when there are none."""
    if not actions or not (actions["total"] or actions["effects"]):
        return []
    a = {f: field_label(f, language, "action") for f in ("id", "title", "problem", "owner", "department", "due_at",
                                                          "status")}
    keys = ("open", "done", "late", "dropped")
    heads = [h["late"] if k == "late" else ACTION_STATUS.label(k, language) for k in keys]
    rows = [(name or "-", *(d[k] for k in keys)) for name, d in actions["by_department"].items()]
    rows.append((say(_H["total"]), *(actions[k] for k in keys)))
    out = [Section("actions", say(_TITLES["actions"]), (a["department"], *heads),
                   ("text", "count", "count", "count", "count"), rows)] if actions["total"] else []
    if actions["items"]:  # which ones, and who owns them: what the meeting goes through
        rows = [(i["id"], i["title"], i["problem"], i["owner"], i["department"], str(i["due_at"])[:10],
                 ACTION_STATUS.label(i["status"], language), labels.yes_no(i["late"], language))
                for i in actions["items"]]
        out.append(Section("action_items", say(_TITLES["action_items"]), (*a.values(), h["late"]), ("text",) * 8,
                           rows))
    if actions["effects"]:
        rows = [(e["id"], e["title"], e["problem"], e["done_in"], e["before"], after_text(e["after"], language),
                 labels.yes_no(e["fell"], language), labels.yes_no(e["effective"], language))
                for e in actions["effects"]]
        out.append(Section("action_effects", say(_TITLES["action_effects"]),
                           (a["id"], a["title"], a["problem"], h["done_in"], h["before"], h["after"], h["fell"],
                            h["effective"]), ("text", "text", "text", "text", "count", "text", "text", "text"), rows))
    return out


def after_text(after: list[dict], language: str) -> str:
    """The counts of the periods after an action: `2026-11: 2, 2026-12: 1 (至今)`, a running period marked."""
    so_far = labels.say(_H["so_far"], language)
    return ", ".join(f"{a['label']}: {a['count']}" + (f" ({so_far})" if a.get("partial") else "") for a in after)


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
