"""The documented defaults of cslog.yaml, and the commented file `cslog init` writes; a leaf (imports nothing of cslog).

Every module that needs a default (config when merging a file over them, sla and calendar when a section
leaves a key out) reads it here, so a default is changed in one place.
"""
from __future__ import annotations

from typing import Any

CONFIG_FILE = "cslog.yaml"

DEFAULTS: dict[str, Any] = {
    "org": "",
    "language": "zh",
    "timezone": "Asia/Shanghai",
    "ids": {"ticket": "CW{date:%Y%m%d}{seq:04d}", "contact": "GT{date:%Y%m%d}{seq:04d}", "customer": "C{seq:04d}",
            "action": "GJ{date:%Y%m%d}{seq:04d}"},
    "agents": [],
    "departments": [],
    "sla": {
        # business time (design.md 9.2): a team that works 09:00-18:00 meets no wall of breaches on Monday
        "urgent": {"response": "1bh", "update": "4bh", "resolve": "4bh"},
        "important": {"response": "4bh", "update": "1bd", "resolve": "2bd"},
        "normal": {"response": "1bd", "update": "1bd", "resolve": "3bd"},
        "claim": "2bh",
        "callback": {"after": "2bd", "types": ["complaint", "repair"]},
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
    "attachments": {"max_mb": 20},
    "routing": [],
    "notify": [],
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
  action: 'GJ{{date:%Y%m%d}}{{seq:04d}}'     # 改进措施 GJ202611050001

# 坐席与部门 / agents and departments. Empty = free text. When listed, owners and departments
# must be on the list (by id or name), and a typo gets a "did you mean".
#   agents: [{{id: a01, name: 小明, department: 客服部}}, 小丽]
agents: []
departments: []

# 服务时限 / SLA per priority, in business time: 4bh = 4 hours within business_hours on working days;
# 1bd = close of business of the next working day (2bd, 3bd: of the 2nd, 3rd working day after).
# A 24-hour hotline counts the wall clock instead: 30m 4h 2d (e.g. urgent: {{response: 1h, resolve: 4h}}).
sla:
  urgent:    {{response: 1bh, update: 4bh, resolve: 4bh}}    # 紧急
  important: {{response: 4bh, update: 1bd, resolve: 2bd}}    # 重要
  normal:    {{response: 1bd, update: 1bd, resolve: 3bd}}    # 一般
  claim: 2bh                  # 任务卡认领: a ticket must have an owner within 2 business hours
  callback: {{after: 2bd, types: [complaint, repair]}}      # 回访 after resolution; only a callback meets it
  pause_in: [waiting]         # statuses that stop the update and resolve clocks
  warn_within: 1h             # `cslog show` marks a clock "at risk" this long before its due

# 工作日历 / working calendar: public holidays and make-up working days (调休) of the country.
calendar:
  country: CN
  business_hours: [{{start: '09:00', end: '18:00'}}]   # several windows allowed, e.g. a lunch break
  weekdays: [mon, tue, wed, thu, fri]
  extra_holidays: []          # company days off, e.g. ['2026-12-31']
  extra_workdays: []          # company extra working days, and make-up days (调休) the holiday library
                              # does not know yet (cslog calendar YEAR shows what it knows)

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

# 附件 / files `cslog attach` copies into attachments/<ID>/: larger ones belong in git LFS
attachments: {{max_mb: 20}}

# 分派规则 / routing: a new ticket without an owner or department gets them from the first rule that matches
# (when: type, category prefix, channel, customer_type; then: department, owner); `cslog route ID` applies them.
routing: []
#  - {{name: 质量问题转品控部, when: {{type: complaint, category: 产品质量}}, then: {{department: 品控部}}}}
#  - {{name: 服务问题转运营部, when: {{category: 服务}}, then: {{department: 运营部}}}}

# 提醒推送 / where `cslog notify` sends what `overdue` lists. Secrets come from environment variables, never from
# this file (it is in git). Agents are @-mentioned by `mobile` (WeCom, DingTalk) or `feishu_id` in agents above.
notify: []
#  - {{name: 客服群, type: wecom, url_env: CSLOG_WECOM_URL}}            # also: dingtalk (secret_env), feishu
#  - {{name: 主管, type: email, to: [lead@example.com], smtp_host: smtp.example.com, smtp_port: 465,
#     user_env: CSLOG_SMTP_USER, password_env: CSLOG_SMTP_PASSWORD}}

git:
  auto_commit: true           # every change is its own commit; false = leave committing to you
"""


def config_text(org: str, language: str) -> str:
    """What `cslog init` writes: every default, commented."""
    import json

    return CONFIG_TEMPLATE.format(org=json.dumps(org, ensure_ascii=False) if org else "''", language=language)
