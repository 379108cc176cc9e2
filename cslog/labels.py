"""Every word cslog shows a person, in Chinese and English: (zh, en) pairs looked up by code; no logic.

Codes live in cslog.model (and the JSON Schemas); this module only says how each code reads. `language: zh|en`
in cslog.yaml picks the side (say()).
"""
from __future__ import annotations

Pair = tuple[str, str]


def say(pair: Pair, language: str) -> str:
    """The side of a (zh, en) pair for the language (anything but zh reads English)."""
    return pair[0] if language == "zh" else pair[1]


def of(table: dict[str, Pair], code: str | None, language: str) -> str:
    """A code's label from one of the tables below; an unknown code reads as itself, None as ''."""
    if code is None:
        return ""
    pair = table.get(code)
    return say(pair, language) if pair else str(code)


# -- enums (codes: cslog.model; input aliases there too) ------------------------------------------------

ENUMS: dict[str, dict[str, Pair]] = {
    "priority": {"urgent": ("紧急", "urgent"), "important": ("重要", "important"), "normal": ("一般", "normal")},
    "status": {"new": ("待受理", "new"), "in_progress": ("处理中", "in progress"), "waiting": ("等待客户", "waiting"),
               "escalated": ("需升级", "escalated"), "resolved": ("已解决", "resolved"),
               "closed": ("已关闭", "closed")},
    "type": {"consultation": ("咨询", "consultation"), "complaint": ("投诉", "complaint"),
             "suggestion": ("建议", "suggestion"), "praise": ("表扬", "praise"), "fault": ("故障", "fault"),
             "repair": ("报修", "repair"), "requirement": ("需求", "requirement"),
             "info_change": ("信息变更", "info change"), "other": ("其他", "other")},
    "channel": {"phone": ("电话", "phone"), "email": ("邮件", "email"), "chat": ("在线客服", "chat"),
                "web": ("在线表单", "web"), "social": ("社交媒体", "social"), "store": ("线下门店", "store"),
                "portal": ("自助门户", "portal"), "other": ("其他", "other")},
    "customer_type": {"individual": ("个人客户", "individual"), "enterprise": ("企业客户", "enterprise"),
                      "vip": ("VIP客户", "VIP")},
    "emotion": {"calm": ("平和", "calm"), "anxious": ("焦虑", "anxious"), "dissatisfied": ("不满", "dissatisfied"),
                "agitated": ("激动", "agitated"), "satisfied": ("满意", "satisfied")},
    "decision": {"adopted": ("采纳", "adopted"), "rejected": ("不采纳", "rejected")},
    "review": {"approved": ("通过", "approved"), "returned": ("退回", "returned")},
    "action_status": {"open": ("进行中", "open"), "done": ("已完成", "done"), "dropped": ("已取消", "dropped")},
}

KINDS: dict[str, Pair] = {"ticket": ("工单", "ticket"), "contact": ("沟通记录", "contact record"),
                          "customer": ("客户", "customer"), "action": ("改进措施", "improvement action")}

# -- fields ------------------------------------------------------------------------------------------------

FIELDS: dict[str, Pair] = {
    "id": ("编号", "ID"), "title": ("标题", "Title"), "type": ("类型", "Type"), "priority": ("优先级", "Priority"),
    "status": ("状态", "Status"), "channel": ("渠道", "Channel"), "customer": ("客户编号", "Customer"),
    "customer_name": ("客户名称", "Customer name"), "received_at": ("受理时间", "Received"),
    "occurred_at": ("发生时间", "Occurred"), "description": ("问题描述", "Description"),
    "attempted": ("已尝试", "Attempted"), "expectation": ("客户期望", "Expectation"), "emotion": ("情绪", "Emotion"),
    "category": ("问题分类", "Category"), "tags": ("标签", "Tags"), "owner": ("第一责任人", "Owner"),
    "department": ("部门", "Department"), "collaborators": ("协助人", "Collaborators"), "cc": ("抄送", "Cc"),
    "cause": ("原因分析", "Cause"), "solution": ("解决方案", "Solution"), "compensation": ("补偿措施", "Compensation"),
    "satisfaction": ("客户满意度", "Satisfaction"), "callbacks": ("回访记录", "Callbacks"),
    "decision": ("采纳情况", "Decision"), "praised": ("表扬对象", "Praised"), "related": ("关联工单", "Related"),
    "contacts": ("沟通记录", "Contacts"), "timeline": ("处理过程", "Timeline"),
    "agent": ("沟通人员", "Agent"), "started_at": ("开始时间", "Started"), "ended_at": ("结束时间", "Ended"),
    "request": ("核心诉求", "Request"), "details": ("问题描述细节", "Details"), "agreed": ("沟通协商要点", "Agreed"),
    "references": ("辅助信息", "References"), "ticket": ("关联工单", "Ticket"), "follow_up": ("后续跟进事项", "Follow-up"),
    "name": ("名称", "Name"), "industry": ("行业", "Industry"), "notes": ("备注", "Notes"),
    "allow_pii": ("敏感信息许可", "PII allowed"),
    "planned_at": ("预计完成时间", "Planned"), "remarks": ("备注", "Remarks"), "involved": ("涉及人员", "Involved"),
    "caveats": ("后续注意事项", "Caveats"), "result": ("处理结果", "Result"), "follow_up_at": ("提醒时间", "Follow up at"),
    "followed_up_at": ("已跟进", "Followed up"), "attachments": ("附件", "Attachments"),
    "contact_person": ("联系人", "Contact person"), "phone": ("联系电话", "Phone"), "email": ("电子邮箱", "E-mail"),
    "emotion.before": ("沟通前情绪", "Emotion before"),
    "emotion.after": ("沟通后情绪", "Emotion after"), "lessons": ("经验", "Lessons"),
    "problem": ("针对问题", "Problem"), "measure": ("改进措施", "Measure"), "tickets": ("相关工单", "Tickets"),
    "created_at": ("提出时间", "Created"), "due_at": ("完成期限", "Due"), "done_at": ("完成时间", "Done"),
    "review": ("效果评估", "Review"),
}

# Fields a kind names its own way.
KIND_FIELDS: dict[tuple[str, str], Pair] = {
    ("action", "owner"): ("负责人", "Owner"), ("action", "department"): ("责任部门", "Department"),
    ("action", "title"): ("措施名称", "Action"), ("action", "result"): ("落实情况", "Result"),
}

def field_pair(kind: str | None, field: str) -> Pair | None:
    """A field's words: the kind's own (KIND_FIELDS), else the shared ones (FIELDS); None when it has none."""
    return KIND_FIELDS.get((kind, field)) if (kind, field) in KIND_FIELDS else FIELDS.get(field)


# What a prompt asks for when a required flag is missing on a terminal (where the field label is too terse).
PROMPTS: dict[str, Pair] = {
    "customer": ("客户编号", "customer ID"), "type": ("类型", "type"), "priority": ("优先级", "priority"),
    "channel": ("渠道", "channel"), "title": ("标题", "title"), "description": ("问题描述(客户原话)", "description"),
    "request": ("核心诉求(客户原话)", "request"), "name": ("客户名称", "name"),
}

# -- timeline events ------------------------------------------------------------------------------------

EVENTS: dict[str, Pair] = {
    "created": ("创建", "created"), "claimed": ("认领", "claimed"), "assigned": ("分派", "assigned"),
    "status": ("状态", "status"), "reply": ("回复客户", "reply"), "note": ("内部进度", "note"),
    "decision": ("关键决策", "decision"), "escalated": ("升级", "escalated"), "reviewed": ("主管审核", "reviewed"),
    "rated": ("满意度", "rated"), "callback": ("回访", "callback"), "linked": ("关联", "linked"),
    "priority": ("优先级", "priority"), "changed": ("修改", "changed"), "attached": ("附件", "attached"),
    "followed": ("已跟进", "followed up"), "case": ("典型案例", "typical case"),
    "done": ("完成", "done"), "dropped": ("取消", "dropped"), "evaluated": ("效果评估", "effect reviewed"),
}
# Event fields that are not record fields (or mean something else in an event).
EVENT_FIELDS: dict[str, Pair] = {
    "skip_callback": ("未回访", "callback skipped"),
    "effective": ("有效", "effective"),
    "text": ("内容", "text"), "note": ("备注", "note"), "percent": ("进度", "progress"), "reason": ("原因", "reason"),
    "to_agent": ("升级至", "to"), "result": ("结果", "result"), "solved": ("已解决", "solved"),
    "score": ("评分", "score"), "comment": ("评价", "comment"), "efficiency": ("处理效率", "efficiency"),
    "attitude": ("服务态度", "attitude"), "solution_score": ("方案评分", "solution"),
    "decision": ("采纳情况", "decision"), "field": ("字段", "field"), "files": ("文件", "files"),
}
YES_NO: tuple[Pair, Pair] = (("是", "yes"), ("否", "no"))


def yes_no(value: bool | None, language: str) -> str:
    """是 / 否 (yes / no); nothing for None (not known yet)."""
    return "" if value is None else say(YES_NO[0 if value else 1], language)

# -- SLA clocks ---------------------------------------------------------------------------------------------

CLOCKS: dict[str, Pair] = {
    "claim": ("认领", "claim"), "response": ("首次响应", "response"), "update": ("进度更新", "update"),
    "resolve": ("解决", "resolve"), "callback": ("回访", "callback"), "followup": ("跟进", "follow-up"),
    "reminder": ("提醒", "reminder"), "action": ("改进措施", "action"),
}
CLOCK_STATES: dict[str, Pair] = {
    "met": ("已达成", "met"), "breached": ("已超时", "breached"), "running": ("计时中", "running"),
    "paused": ("已暂停", "paused"), "skipped": ("不计", "not counted"),
}
# The same states in a workbook cell under a clock's column (解决时限: 达成).
CLOCK_STATES_SHORT: dict[str, Pair] = {"met": ("达成", "met"), "breached": ("超时", "breached"),
                                       "running": ("计时中", "running"), "paused": ("暂停", "paused"),
                                       "skipped": ("不计", "n/a")}
# Why a ticket went back to work on its own: a callback that says it is not solved (seeds 003, 004).
CLOSED_WITHOUT: Pair = ("关闭时未完成", "closed without it")  # a callback clock closed before its due, none made
REOPENED_BY_CALLBACK: Pair = ("回访未解决", "callback: not solved")
AT_RISK: Pair = ("即将超时", "at risk")
SLA_TITLE: Pair = ("服务时限 (SLA):", "SLA clocks:")
CANNOT_COMPUTE: Pair = ("无法计算", "cannot be computed")
DUE: Pair = ("截止", "due")
DONE_AT: Pair = ("完成于", "done")
LATE: Pair = ("超时", "late")
LEFT: Pair = ("剩余", "left")
WEEKDAYS: dict[str, tuple[str, ...]] = {"zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
                                        "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}
# Minutes in words: days, hours, minutes (3天2小时 / 3d2h); what is left of a clock due soon.
MINUTE_WORDS: dict[str, tuple[str, str, str]] = {"zh": ("天", "小时", "分"), "en": ("d", "h", "m")}
LEFT_WORDS: dict[str, tuple[str, str]] = {"zh": ("还剩", ""), "en": ("", " left")}

# The columns of `cslog overdue --format table` that are not record fields.
OVERDUE_COLUMNS: dict[str, Pair] = {"kind": ("时限", "Clock"), "due": ("截止时间", "Due"), "late": ("超时", "Late")}
# `cslog calendar`: the days that are not what their weekday says, and where each comes from.
DAY_KINDS: dict[str, Pair] = {"holiday": ("放假", "day off"), "workday": ("上班", "working day")}
DAY_SOURCES: dict[str, Pair] = {"library": ("节假日库", "holiday library"), "cslog.yaml": ("cslog.yaml", "cslog.yaml")}
MAKEUP_DAY: Pair = ("调休上班", "make-up working day")
MAKEUP_FOR: Pair = ("调休上班(对应 {day} 放假)", "make-up working day (for the day off on {day})")
COMPANY_DAYS: dict[str, Pair] = {"holiday": ("公司休息日", "company day off"),
                                 "workday": ("公司上班日", "company working day")}
CALENDAR_COLUMNS: dict[str, Pair] = {"date": ("日期", "Date"), "weekday": ("星期", "Weekday"),
                                     "kind": ("类别", "Kind"), "name": ("名称", "Name"), "source": ("来源", "Source")}

# -- cslog find, and a customer's records under `cslog show` ------------------------------------------------

FOUND: dict[str, Pair] = {"open": ("未结", "Open"), "kind": ("类别", "Kind"), "id": ("编号", "ID"),
                          "title": ("标题/名称", "Title/name"), "status": ("状态", "Status"),
                          "customer_name": ("客户名称", "Customer"), "phone": ("联系电话", "Phone"), "at": ("时间", "Time")}
CUSTOMER_RECORDS: Pair = ("工单与沟通记录(新的在前)", "Tickets and contacts (newest first)")
OPEN_MARK = "●"
# What `cslog show` adds under a ticket's customer (from the customer's record; the contact masked).
CUSTOMER_OF_TICKET: dict[str, Pair] = {"type": ("账户类型", "Account type"), "contact": ("客户联系方式", "Customer contact")}

# -- cslog notify (titles, and the digest's and the events' words) ------------------------------------------

NOTIFY: dict[str, Pair] = {
    "overdue": ("工单超时提醒", "Overdue tickets"), "digest": ("工单日报", "Daily digest"),
    "events": ("工单动态", "Ticket events"), "unclaimed": ("未认领", "unclaimed"), "new": ("新增", "new"),
    "open": ("未结", "open"), "late": ("超时", "late"), "resolved": ("已解决", "resolved"),
    "assigned": ("分派给", "assigned to"), "collaborators": ("协助", "to help"), "cc": ("抄送", "cc"),
    "escalated": ("升级至", "escalated to"), "returned": ("审核退回", "review returned"),
}

# -- improvement actions in the report and the workbook (an action's fields: FIELDS and KIND_FIELDS) ----------

ACTION_FIGURES: dict[str, Pair] = {
    "late": ("逾期", "Late"), "done_in": ("完成期间", "Done in"), "before": ("完成当期问题数", "Count then"),
    "after": ("此后各期问题数", "Counts since"), "fell": ("问题下降", "Fell"), "effective": ("评估有效", "Reviewed effective"),
    "so_far": ("至今", "so far"),
}

# -- the 服务经验手册 (cslog handbook) ---------------------------------------------------------------------------

HANDBOOK: dict[str, Pair] = {
    "title": ("服务经验手册", "Service handbook"), "cases": ("典型案例", "typical cases"),
    "description": ("问题(客户原话)", "Problem (the customer's words)"), "cause": ("原因", "Cause"),
    "solution": ("解决方案", "Solution"), "lessons": ("经验", "Lessons"),
    "none": ("本期没有典型案例。", "No typical case in this period."), "uncategorised": ("未分类", "Uncategorised"),
}
