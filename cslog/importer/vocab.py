"""Which spreadsheet headers and words map to which fields and codes: the seeds' and a `--mapping` file's."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cslog.errors import UsageError
from cslog.labels import FIELDS as FIELD_LABELS
from cslog.model import IMPORT_KINDS as KINDS
from cslog.yamlio import YamlSyntaxError, load_text

IGNORE = "ignore"

# Header (with parenthesised hints stripped) -> field, per kind. The seeds' tracking tables come first.
TICKET_HEADERS: dict[str, list[str]] = {
    "id": ["工单编号", "工单号", "反馈编号", "任务编号", "编号"],
    "customer": ["客户名称/编号", "客户名称/联系人", "客户"],
    "customer_id": ["客户编号", "客户ID"],
    "customer_name": ["客户姓名", "客户名称", "联系人"],
    "phone": ["联系方式", "联系电话", "电话", "手机", "手机号"],
    "customer_type": ["账户类型", "客户类型"],
    "type": ["问题类型", "反馈类型", "类型"],
    "priority": ["问题等级", "紧急程度", "优先级", "等级"],
    "title": ["标题", "问题标题", "主题"],
    "description": ["问题描述", "反馈内容", "问题内容", "客户原话"],
    "owner": ["处理人", "第一责任人", "责任人", "负责人"],
    "department": ["部门", "责任部门", "处理部门"],
    "collaborators": ["协作部门/人", "协作人", "协助人", "协作部门"],
    "status": ["处理进度", "处理状态", "状态", "任务状态"],
    "progress": ["进度更新", "进度"],
    "solution": ["解决方案", "处理结果", "处理方案"],
    "cause": ["原因分析", "问题原因"],
    "compensation": ["补偿措施"],
    "satisfaction": ["客户满意度", "满意度", "客户满意度评分", "满意度评分"],
    "callback": ["回访记录", "回访结果", "回访"],
    "received_at": ["任务开始时间", "接收时间", "受理时间", "创建时间", "反馈时间", "开始时间"],
    "planned_at": ["预计完成时间", "截止时间", "计划完成时间"],
    "resolved_at": ["实际完成时间", "完成时间", "解决时间"],
    "archived": ["归档状态", "是否归档", "归档"],
    "remarks": ["备注"],
    "involved": ["涉及人员", "相关人员"],
    "caveats": ["后续注意事项", "注意事项"],
    "channel": ["渠道", "反馈渠道", "受理渠道", "来源渠道"],
    "category": ["问题分类", "分类"],
    "tags": ["标签"],
    "expectation": ["客户期望", "期望结果", "期望解决方案"],
    "emotion": ["客户情绪", "客户情绪状态", "情绪"],
    "occurred_at": ["发生时间", "问题发生时间"],
    "attempted": ["已尝试", "已尝试的解决方式"],
    "praised": ["表扬对象"],
    IGNORE: ["处理时长"],  # computed from the timeline, never stored
}
CONTACT_HEADERS: dict[str, list[str]] = {
    "id": ["沟通记录编号", "记录编号", "编号"],
    "customer": ["客户名称/编号", "客户名称/联系人", "客户"],
    "customer_id": ["客户编号", "客户ID"],
    "customer_name": ["客户姓名", "客户名称", "联系人"],
    "phone": ["联系方式", "联系电话", "电话", "手机"],
    "customer_type": ["账户类型", "客户类型"],
    "channel": ["沟通渠道", "渠道", "沟通方式"],
    "agent": ["沟通人员", "客服", "客服人员", "接待人"],
    "started_at": ["沟通时间", "开始时间", "沟通开始时间"],
    "ended_at": ["结束时间", "沟通结束时间"],
    "request": ["核心诉求", "客户诉求", "诉求"],
    "details": ["问题描述细节", "问题描述", "详情"],
    "agreed": ["沟通协商要点", "协商要点"],
    "result": ["处理结果", "沟通结果"],
    # seed 000's 处理情况 and 客户反馈: kept with the result, labelled
    "result_solution": ["解决方案"], "result_handler": ["处理部门/人员", "处理人员"],
    "result_satisfaction": ["客户满意度"], "result_comment": ["客户评价/建议", "客户评价"],
    "references": ["辅助信息", "订单号", "参考信息"],
    "emotion_before": ["沟通前情绪", "客户情绪", "客户情绪状态"],
    "emotion_after": ["沟通后情绪"],
    "ticket": ["关联工单", "工单编号"],
    "follow_up": ["后续跟进事项", "跟进事项"],
    "follow_up_at": ["提醒时间", "提醒节点", "跟进时间", "计划完成时间"],
}
CUSTOMER_HEADERS: dict[str, list[str]] = {
    "id": ["客户编号", "编号", "客户ID"],
    "name": ["客户名称", "客户姓名", "名称", "客户名称/编号"],
    "customer_type": ["账户类型", "客户类型"],
    "industry": ["行业", "所属行业"],
    "contact_name": ["联系人"],
    "phone": ["联系方式", "联系电话", "电话", "手机"],
    "email": ["邮箱", "电子邮件", "email"],
    "tags": ["标签"],
    "notes": ["备注"],
}
HEADERS = {"ticket": TICKET_HEADERS, "contact": CONTACT_HEADERS, "customer": CUSTOMER_HEADERS}
# What a row of each kind cannot do without (unless the mapping's `defaults` gives it).
REQUIRED = {"ticket": ("type", "priority", "description"), "contact": ("request",), "customer": ("name",)}
DEFAULTS = {"ticket": {"channel": "other"}, "contact": {"channel": "other"}, "customer": {}}

# Values the seeds write that are not labels of the enums.
STATUS_WORDS = {"待归档": "resolved", "已处理": "resolved", "已解决待回访": "resolved", "未处理": "new",
                "进行中": "in_progress", "处理中…": "in_progress", "已升级": "escalated", "升级": "escalated"}
TYPE_WORDS = {"技术故障": "fault", "系统故障": "fault", "功能异常": "fault", "服务投诉": "complaint",
              "账单疑问": "consultation", "功能建议": "suggestion", "新需求": "requirement"}
SCORE_WORDS = [("非常不满意", 1), ("很不满意", 1), ("不太满意", 2), ("较不满意", 2), ("不满意", 1),
               ("非常满意", 5), ("很满意", 5), ("比较满意", 4), ("较满意", 4), ("基本满意", 4), ("满意", 5),
               ("一般", 3)]
YES = {"是", "y", "yes", "true", "1", "已归档", "√", "✓", "归档"}
NO = {"否", "n", "no", "false", "0", "未归档", "×", "✗"}
_UNSOLVED = re.compile(r"未解决|没解决|没有解决|仍未|尚未解决|不满意|仍有问题|还是不行")
_SOLVED = re.compile(r"已解决|解决了|已恢复|恢复正常|满意|正常使用|确认可用")
_HINT = re.compile(r"[（(][^）)]*[）)]")


def normalise_header(text: Any) -> str:
    """问题描述(含客户原话) → 问题描述: hints in brackets, spaces, colons and required-marks go."""
    raw = str(text or "")
    return re.sub(r"[\s:：*＊]", "", _HINT.sub("", raw)).lower()


# --- the mapping file ----------------------------------------------------------------------------------

@dataclass
class Mapping:
    """`--mapping F.yaml`: columns: {表头: field}, values: {field: {原值: code}}, defaults: {field: value}."""

    columns: dict[str, str] = field(default_factory=dict)  # normalised header -> field (or ignore)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    kind: str | None = None
    sheet: str | None = None


def fields_of(kind: str) -> list[str]:
    return [f for f in HEADERS[kind] if f != IGNORE]


def load_mapping(path: Path) -> Mapping:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise UsageError(f"cannot read the mapping file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: the mapping file is not UTF-8 text", hint="save it as UTF-8") from None
    try:
        data = load_text(text)
    except YamlSyntaxError as exc:
        raise UsageError(f"{path}:{exc.line or 1}: {exc}") from None
    data = data if data is not None else {}
    if not isinstance(data, dict):
        raise UsageError(f"{path}:1: a mapping file is a YAML mapping with columns:, values: and defaults:")
    unknown = [str(k) for k in data if k not in ("columns", "values", "defaults", "kind", "sheet")]
    if unknown:
        raise UsageError(f"{path}: unknown key {', '.join(unknown)}",
                         hint="a mapping file has columns: {表头: field}, values: {field: {原值: code}}, "
                              "defaults: {field: value}, and optionally kind: and sheet:")
    mapping = Mapping()
    if data.get("kind") is not None:
        kind = str(data["kind"]).rstrip("s")
        if kind not in KINDS:
            raise UsageError(f"{path}: kind: '{data['kind']}' is not ticket, contact or customer")
        mapping.kind = kind
    if data.get("sheet") is not None:
        mapping.sheet = str(data["sheet"])
    for key in ("columns", "values", "defaults"):
        if not isinstance(data.get(key) or {}, dict):
            raise UsageError(f"{path}: {key}: must be a mapping (name: value)")
    known = sorted({f for kind in KINDS for f in fields_of(kind)})
    for header, target in (data.get("columns") or {}).items():
        target = IGNORE if target in (None, "", False) else str(target)
        if target != IGNORE and target not in known:
            raise UsageError(f"{path}: columns: {header}: unknown field '{target}'" + _did_you_mean(target, known),
                             hint=f"fields: {', '.join(known)} (or ~ to ignore the column)")
        mapping.columns[normalise_header(header)] = target
    for fname, table in (data.get("values") or {}).items():
        if str(fname) not in known:
            raise UsageError(f"{path}: values: unknown field '{fname}'" + _did_you_mean(str(fname), known))
        if not isinstance(table, dict):
            raise UsageError(f"{path}: values: {fname}: must be a mapping (原值: code)")
        mapping.values[str(fname)] = {str(k).strip(): v for k, v in table.items()}
    for fname, value in (data.get("defaults") or {}).items():
        if str(fname) not in known:
            raise UsageError(f"{path}: defaults: unknown field '{fname}'" + _did_you_mean(str(fname), known))
        mapping.defaults[str(fname)] = value
    return mapping


def _did_you_mean(value: str, known: list[str]) -> str:
    close = difflib.get_close_matches(value, known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


# --- mapping headers to fields -------------------------------------------------------------------------

def header_index(kind: str) -> dict[str, str]:
    """Normalised header -> field for a kind: the seeds' headers, field names, and cslog's own labels."""
    index: dict[str, str] = {}
    for fname, headers in HEADERS[kind].items():
        for header in headers:
            index.setdefault(normalise_header(header), fname)
    for fname in HEADERS[kind]:
        if fname == IGNORE:
            continue
        index.setdefault(fname, fname)
        for label in FIELD_LABELS.get(fname, ()):
            index.setdefault(normalise_header(label), fname)
    return index


def guess_kind(headers: list[str], mapping: Mapping) -> str:
    """The kind whose headers the sheet uses most (ties: ticket, then contact)."""
    scores = {}
    for kind in KINDS:
        index = {**header_index(kind), **mapping.columns}
        scores[kind] = sum(1 for h in headers if index.get(normalise_header(h)) not in (None, IGNORE))
    return max(KINDS, key=lambda k: scores[k])  # max keeps the first of equal scores: KINDS is in that order
