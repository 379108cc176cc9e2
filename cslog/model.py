"""The records: kinds, enums with their Chinese and English labels, and input parsing of enum values."""
from __future__ import annotations

from dataclasses import dataclass

from cslog.errors import UsageError

KINDS = ("ticket", "contact", "customer")
KIND_FOLDERS = {"ticket": "tickets", "contact": "contacts", "customer": "customers"}
KIND_LABELS = {"ticket": ("工单", "ticket"), "contact": ("沟通记录", "contact record"), "customer": ("客户", "customer")}
# Record kinds whose files are sharded by month: <folder>/YYYY/MM/<id>.yaml
SHARDED = {"ticket", "contact"}
# Fields naming other records, by kind: (field, kind referred to).
REFERENCES: dict[str, tuple[tuple[str, str], ...]] = {
    "ticket": (("customer", "customer"), ("related", "ticket"), ("contacts", "contact")),
    "contact": (("customer", "customer"), ("ticket", "ticket")),
    "customer": (),
}


def references(doc: dict, kind: str):
    """(field, position in its list or -1, kind referred to, ID) of every reference a record makes."""
    for field_name, target in REFERENCES[kind]:
        value = doc.get(field_name)
        if isinstance(value, list):
            for i, ref in enumerate(value):
                if isinstance(ref, str):
                    yield field_name, i, target, ref
        elif isinstance(value, str) and value:
            yield field_name, -1, target, value


@dataclass(frozen=True)
class Enum:
    """A closed set of codes; each code has a Chinese and an English label, plus input aliases."""

    name: str
    codes: dict[str, tuple[str, str]]
    aliases: dict[str, str]

    def label(self, code: str | None, language: str = "zh") -> str:
        if code is None:
            return ""
        zh, en = self.codes.get(code, (code, code))
        return zh if language == "zh" else en

    def parse(self, value: str) -> str:
        """Accept a code, either label or an alias (case-insensitive); raise UsageError otherwise."""
        key = str(value).strip()
        folded = key.lower().replace("-", "_").replace(" ", "_")
        if folded in self.codes:
            return folded
        for code, (zh, en) in self.codes.items():
            if key == zh or folded == en.lower().replace(" ", "_"):
                return code
        if key in self.aliases:
            return self.aliases[key]
        if folded in self.aliases:
            return self.aliases[folded]
        raise UsageError(f"unknown {self.name} '{value}'", hint=f"use one of: {self.choices()}")

    def choices(self, language: str = "zh") -> str:
        return ", ".join(f"{code} ({zh})" if language == "zh" else code for code, (zh, _en) in self.codes.items())


PRIORITY = Enum("priority", {
    "urgent": ("紧急", "urgent"), "important": ("重要", "important"), "normal": ("一般", "normal"),
}, {"高": "urgent", "high": "urgent", "中": "important", "medium": "important", "低": "normal", "low": "normal",
    "普通": "normal"})

STATUS = Enum("status", {
    "new": ("待受理", "new"), "in_progress": ("处理中", "in progress"), "waiting": ("等待客户", "waiting"),
    "escalated": ("需升级", "escalated"), "resolved": ("已解决", "resolved"), "closed": ("已关闭", "closed"),
}, {"待处理": "new", "open": "new", "已升级": "escalated", "已完成": "resolved", "已归档": "closed",
    "等待": "waiting", "pending": "waiting"})

TICKET_TYPE = Enum("type", {
    "consultation": ("咨询", "consultation"), "complaint": ("投诉", "complaint"), "suggestion": ("建议", "suggestion"),
    "praise": ("表扬", "praise"), "fault": ("故障", "fault"), "repair": ("报修", "repair"),
    "requirement": ("需求", "requirement"), "info_change": ("信息变更", "info change"), "other": ("其他", "other"),
}, {"产品咨询": "consultation", "业务咨询": "consultation", "售后投诉": "complaint", "技术支持": "fault",
    "建议反馈": "suggestion", "紧急报修": "repair", "维修": "repair", "question": "consultation"})

CHANNEL = Enum("channel", {
    "phone": ("电话", "phone"), "email": ("邮件", "email"), "chat": ("在线客服", "chat"), "web": ("在线表单", "web"),
    "social": ("社交媒体", "social"), "store": ("线下门店", "store"), "portal": ("自助门户", "portal"),
    "other": ("其他", "other"),
}, {"电话沟通": "phone", "热线": "phone", "邮箱": "email", "在线": "chat", "微信": "social", "门店": "store"})

CUSTOMER_TYPE = Enum("customer type", {
    "individual": ("个人客户", "individual"), "enterprise": ("企业客户", "enterprise"), "vip": ("VIP客户", "VIP"),
}, {"个人": "individual", "企业": "enterprise", "VIP": "vip"})

EMOTION = Enum("emotion", {
    "calm": ("平和", "calm"), "anxious": ("焦虑", "anxious"), "dissatisfied": ("不满", "dissatisfied"),
    "agitated": ("激动", "agitated"), "satisfied": ("满意", "satisfied"),
}, {"焦急": "anxious", "生气": "agitated", "愤怒": "agitated"})

ENUMS = {e.name: e for e in (PRIORITY, STATUS, TICKET_TYPE, CHANNEL, CUSTOMER_TYPE, EMOTION)}

OPEN_STATUSES = frozenset({"new", "in_progress", "waiting", "escalated"})

# Field labels for readable views and spreadsheets: field -> (zh, en).
FIELD_LABELS = {
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
}

# Which enum a field's value belongs to, for labels in views.
FIELD_ENUMS = {"priority": PRIORITY, "status": STATUS, "type": TICKET_TYPE, "channel": CHANNEL, "emotion": EMOTION}


def field_label(field: str, language: str) -> str:
    zh, en = FIELD_LABELS.get(field, (field, field))
    return zh if language == "zh" else en


def kind_label(kind: str, language: str) -> str:
    zh, en = KIND_LABELS[kind]
    return zh if language == "zh" else en
