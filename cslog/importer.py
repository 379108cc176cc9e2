"""Bringing in the team's spreadsheets (xlsx, csv): the seeds' headers and values become records, every row checked first.

The pipeline reads like the file list: read the sheet → find the header row → map headers to fields →
turn each row into a record (and the customers it names) → report every problem with its row and
column → write everything in one transaction, one commit. A ticket's timeline is rebuilt from the
row (created at 任务开始时间, status moves up to 处理进度, resolved at 实际完成时间, progress notes,
a rating, a callback) so SLA clocks and reports work on imported history.
"""
from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Callable

from cslog import people, privacy, schemas
from cslog.errors import CslogError, UsageError
from cslog.ids import is_safe
from cslog.model import CHANNEL, CUSTOMER_TYPE, EMOTION, KINDS, PRIORITY, STATUS, TICKET_TYPE, FIELD_LABELS
from cslog.store import Store
from cslog.timeutil import fmt, parse_time
from cslog.yamlio import YamlSyntaxError, canonical, load_text

HEADER_SCAN_ROWS = 20  # the header row may sit below a title row or two
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
    "due_at": ["预计完成时间", "截止时间"],
    "resolved_at": ["实际完成时间", "完成时间", "解决时间"],
    "archived": ["归档状态", "是否归档", "归档"],
    "remark": ["备注"],
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
    "channel": ["沟通渠道", "渠道"],
    "agent": ["沟通人员", "客服", "客服人员", "接待人"],
    "started_at": ["沟通时间", "开始时间", "沟通开始时间"],
    "ended_at": ["结束时间", "沟通结束时间"],
    "request": ["核心诉求", "客户诉求", "诉求"],
    "details": ["问题描述细节", "问题描述", "详情"],
    "agreed": ["沟通协商要点", "协商要点"],
    "references": ["辅助信息", "订单号", "参考信息"],
    "emotion_before": ["沟通前情绪", "客户情绪"],
    "emotion_after": ["沟通后情绪"],
    "ticket": ["关联工单", "工单编号"],
    "follow_up": ["后续跟进事项", "跟进事项"],
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
_SPLIT = re.compile(r"[,，、;；\n]+")


def normalise_header(text: Any) -> str:
    """问题描述(含客户原话) → 问题描述: hints in brackets, spaces, colons and required-marks go."""
    raw = str(text or "")
    return re.sub(r"[\s:：*＊]", "", _HINT.sub("", raw)).lower()


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- problems ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    index: int
    header: str  # as written in the file
    field: str | None

    @property
    def where(self) -> str:
        return f"{self.header} (column {column_letter(self.index)})"


@dataclass(frozen=True)
class RowProblem:
    """A cell the importer cannot use: printed as `file:row: header (column X): message`."""

    source: str
    row: int
    column: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.row}: " + (f"{self.column}: " if self.column else "") + self.message


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


# --- reading the file ----------------------------------------------------------------------------------

@dataclass
class Sheet:
    source: str  # the file's name, for messages
    name: str | None  # the worksheet, for workbooks
    header_row: int
    columns: list[Column]
    rows: list[tuple[int, list[Any]]]  # (spreadsheet row number, cells), blank rows left out


def read_grid(path: Path, sheet: str | None = None) -> list[tuple[str | None, list[tuple[int, list[Any]]]]]:
    """Every worksheet (or the CSV) as (name, [(row number, cells)])."""
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise UsageError(f"{path} is a folder, not a spreadsheet") from None
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    suffix = path.suffix.lower()
    if suffix in (".xls", ".et") or raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise UsageError(f"{path.name} is an old Excel 97-2003 workbook, which cslog cannot read",
                         hint="open it in Excel or WPS and save it as .xlsx (Excel 工作簿) or .csv")
    if suffix in (".xlsx", ".xlsm") or raw.startswith(b"PK\x03\x04"):
        return _xlsx_grid(path, raw, sheet)
    if sheet:
        raise UsageError("--sheet is for workbooks (.xlsx); a CSV file has one table")
    return [(None, _csv_grid(path, raw))]


def _xlsx_grid(path: Path, raw: bytes, wanted: str | None):
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), data_only=True)
    except Exception as exc:  # a damaged or foreign file: openpyxl raises many kinds; none is a cslog bug
        raise UsageError(f"cannot read {path.name} as an Excel workbook ({type(exc).__name__})",
                         hint="open it in Excel or WPS and save it again as .xlsx, or export it as .csv") from None
    try:
        names = list(book.sheetnames)
        if wanted is not None:
            if wanted not in names:
                raise UsageError(f"{path.name} has no sheet '{wanted}'", hint=f"its sheets: {', '.join(names)}")
            names = [wanted]
        else:  # the active sheet first: where the user left off
            active = book.active.title if book.active is not None else None
            names.sort(key=lambda n: n != active)
        grids = []
        for name in names:
            ws = book[name]
            rows = []
            for cells in ws.iter_rows():
                values = [_cell(c.value) for c in cells]
                if any(v is not None for v in values):
                    rows.append((cells[0].row, values))
            grids.append((name, rows))
        return grids
    finally:
        book.close()


def decode(raw: bytes, name: str) -> str:
    """Excel exports CSV in UTF-8 (with or without BOM), in the ANSI code page (GBK on Chinese Windows) or
    as "Unicode text" (UTF-16 with BOM)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UsageError(f"{name}: cannot tell the text encoding (tried UTF-8 and GBK)",
                     hint="save the file as CSV UTF-8 (逗号分隔) in Excel or WPS")


def _csv_grid(path: Path, raw: bytes) -> list[tuple[int, list[Any]]]:
    text = decode(raw, path.name)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = "\t" if first.count("\t") > first.count(",") else ";" if first.count(";") > first.count(",") else ","
    rows = []
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            values = [_cell(c) for c in cells]
            if any(v is not None for v in values):
                rows.append((number, values))
    except csv.Error as exc:
        raise UsageError(f"{path.name}: not a readable CSV file ({exc})",
                         hint="export it again from Excel as CSV UTF-8") from None
    return rows


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        value = value.replace("\x00", "").replace("\r\n", "\n").strip()
        return value or None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, (int, float, bool, datetime, date, time)):
        return value
    return None if value is None else str(value)


def find_sheet(grids, source: str, recognise: Callable[[str], str | None]) -> Sheet:
    """The first worksheet with a header row: a row among the first ones where the headers are known."""
    for name, rows in grids:
        for i, (number, cells) in enumerate(rows[:HEADER_SCAN_ROWS]):
            filled = [c for c in cells if c is not None]
            hits = [c for c in filled if isinstance(c, str) and recognise(c)]
            if len(hits) >= 2 or (hits and len(hits) == len(filled)):
                columns = [Column(j, str(c), None) for j, c in enumerate(cells) if c is not None]
                return Sheet(source=source, name=name, header_row=number, columns=columns, rows=rows[i + 1:])
    sheets = f" (sheets: {', '.join(str(n) for n, _ in grids)})" if grids and grids[0][0] is not None else ""
    raise UsageError(f"{source}: no header row found{sheets}: expected column headers such as 工单编号, "
                     "客户名称, 问题类型, 紧急程度, 问题描述 in the first rows",
                     hint="map your own headers with --mapping F.yaml (columns: {表头: field})")


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


def bind_columns(sheet: Sheet, kind: str, mapping: Mapping) -> list[str]:
    """Give each column its field; returns warnings for the columns left out."""
    index = header_index(kind)
    warnings = []
    bound = []
    for col in sheet.columns:
        key = normalise_header(col.header)
        target = mapping.columns.get(key, index.get(key))
        if target not in (None, IGNORE) and target not in HEADERS[kind]:
            warnings.append(f"{sheet.source}: column {col.where} maps to '{target}', which a {kind} does not have; "
                            "left out")
            target = None
        if target is None:
            warnings.append(f"{sheet.source}: column {col.where} is not understood and is left out "
                            "(map it with --mapping: columns: {表头: field})")
        bound.append(Column(col.index, col.header, None if target == IGNORE else target))
    sheet.columns = bound
    return warnings


# --- one row -------------------------------------------------------------------------------------------

class _Skip(Exception):
    """A cell could not be used; the problem is already recorded."""


class Row:
    """The cells of one spreadsheet row by field, with the problems found in them."""

    def __init__(self, source: str, number: int, cells: list[Any], columns: list[Column], mapping: Mapping,
                 defaults: dict[str, Any]):
        self.source = source
        self.number = number
        self.problems: list[RowProblem] = []
        self.customer_ref: str | None = None  # an existing customer the row names
        self.new_customer: Entry | None = None  # or the customer the row would create
        self._values: dict[str, tuple[Any, Column | None]] = {}
        for col in columns:
            if col.field is None:
                continue
            value = cells[col.index] if col.index < len(cells) else None
            if value is None or col.field in self._values:
                continue
            table = mapping.values.get(col.field)
            if table and str(value).strip() in table:
                value = table[str(value).strip()]
            self._values[col.field] = (value, col)
        for fname, value in {**defaults, **mapping.defaults}.items():
            self._values.setdefault(fname, (value, None))
        self.cells = [(col, cells[col.index]) for col in columns
                      if col.field is not None and col.index < len(cells) and cells[col.index] is not None]

    def has(self, fname: str) -> bool:
        return fname in self._values

    def raw(self, fname: str) -> Any:
        return self._values.get(fname, (None, None))[0]

    def text(self, fname: str) -> str | None:
        value = self.raw(fname)
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M")
        if isinstance(value, bool):
            return "是" if value else "否"
        return str(value).strip() or None

    def where(self, fname: str) -> str:
        col = self._values.get(fname, (None, None))[1]
        return col.where if col else f"{fname} (--mapping defaults)"

    def problem(self, fname: str | None, message: str) -> None:
        self.problems.append(RowProblem(self.source, self.number, self.where(fname) if fname else None, message))

    def parse(self, fname: str, parse: Callable[[Any], Any]) -> Any:
        """parse(value) for a filled cell, None for an empty one; a bad value is recorded and skips the row."""
        if fname not in self._values:
            return None
        try:
            return parse(self.raw(fname))
        except UsageError as exc:
            self.problem(fname, exc.message + (f" ({exc.hint})" if exc.hint else ""))
            raise _Skip() from None

    def get(self, fname: str, parse: Callable[[Any], Any] | None = None) -> Any:
        """Like parse, but carries on after a bad value so that every problem of the row is reported."""
        try:
            return self.parse(fname, parse or (lambda v: self.text(fname)))
        except _Skip:
            return None


def enum_value(enum, extra: dict[str, str] | None = None, strip: tuple[str, ...] = ()) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = str(value).strip()
        candidates = [text] + [text[: -len(s)] for s in strip if text.endswith(s) and len(text) > len(s)]
        for candidate in candidates:
            if extra and candidate in extra:
                return extra[candidate]
            try:
                return enum.parse(candidate)
            except UsageError:
                continue
        raise UsageError(f"unknown {enum.name} '{text}'", hint=f"use one of: {enum.choices()}")
    return parse


_TIME_WORDS = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*T?\s*"
                         r"(?:(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?\s*秒?)?\s*$")


def time_value(tz) -> Callable[[Any], datetime]:
    """Cells as Excel holds them (dates), or text: ISO 8601, 2024-05-01 09:00, 2024/5/1 9:00, 2024年5月1日."""
    def parse(value: Any) -> datetime:
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=tz)
        if isinstance(value, date):
            return datetime.combine(value, time(0), tz)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 20000 < value < 80000:
            from openpyxl.utils.datetime import from_excel  # an Excel serial date copied as a number
            return from_excel(value).replace(tzinfo=tz)
        text = str(value).strip()
        m = _TIME_WORDS.match(text)
        if m:
            y, mo, d, hh, mm, ss = (int(g) if g else 0 for g in m.groups())
            try:
                return datetime(y, mo, d, hh, mm, ss, tzinfo=tz)
            except ValueError:
                raise UsageError(f"'{text}' is not a real date and time") from None
        try:
            return parse_time(text, tz)
        except UsageError:
            raise UsageError(f"cannot read '{text}' as a time",
                             hint="write it like 2024-05-01 09:00 or format the cell as a date") from None
    return parse


def score_value(value: Any) -> tuple[int, str | None]:
    """客户满意度 as a score 1-5 and an optional comment: 5, 5分, 4.0, 满意/一般/不满意, 不满意：等太久."""
    if isinstance(value, bool):
        raise UsageError(f"cannot read {value!r} as a score")
    if isinstance(value, (int, float)):
        if float(value).is_integer() and 1 <= value <= 5:
            return int(value), None
        raise UsageError(f"the score {value} is not a whole number from 1 to 5")
    text = str(value).strip()
    m = re.match(r"^([1-5])(?:\.0+)?\s*(?:分|/\s*5|星)?(?:$|\s*[,，:：;；(（\s-]\s*(.*?)[)）]?$)", text)
    if m:
        return int(m.group(1)), (m.group(2) or None)
    for word, score in SCORE_WORDS:
        if text.startswith(word):
            rest = text[len(word):].strip().lstrip(",，:：;；(（-").rstrip(")）").strip()
            return score, rest or None
    raise UsageError(f"cannot read '{text}' as a satisfaction score", hint="use 1-5 or 满意/一般/不满意")


def yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise UsageError(f"'{value}' is neither 是 nor 否")


def names(value: Any) -> list[str]:
    return [part.strip() for part in _SPLIT.split(str(value)) if part.strip()]


def derive_title(description: str) -> str:
    """A title from the customer's words: their first clause, without quotes, at most 30 characters."""
    quotes = "“”\"'‘’「」『』"
    text = description.strip().strip(quotes).strip()
    first = re.split(r"[，,。.!！?？；;\n]", text, maxsplit=1)[0].strip().strip(quotes).strip() or text
    return first if len(first) <= 30 else first[:29] + "…"


_STEP = re.compile(r"^(?:(\d{1,3})\s*[%％]\s*[:：]?)?\s*(.*?)\s*(?:[（(]\s*(\d{1,2})[:：](\d{2})\s*[)）])?\s*$", re.S)


def progress_steps(text: str) -> list[tuple[int | None, str, tuple[int, int] | None]]:
    """进度更新 like `50%:*强反馈为缓存问题(10:00);100%:清理缓存后恢复登录(12:30)` as (percent, text, (h, m))."""
    steps = []
    for piece in re.split(r"[;；\n]+", text):
        piece = piece.strip()
        if not piece:
            continue
        m = _STEP.match(piece)
        percent = int(m.group(1)) if m and m.group(1) else None
        body = (m.group(2) if m else piece).strip() or piece
        at = (int(m.group(3)), int(m.group(4))) if m and m.group(3) else None
        if percent is not None and percent > 100:
            percent, body = None, piece
        if at is not None and not (at[0] < 24 and at[1] < 60):
            at, body = None, piece
        steps.append((percent, body, at))
    return steps


_INLINE_TIME = re.compile(r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s*\d{1,2}\s*[:：]\s*\d{2})?")


# --- the plan ------------------------------------------------------------------------------------------

@dataclass
class Entry:
    """One record the import makes."""

    row: int
    kind: str
    doc: dict  # the record without its id
    moment: datetime  # picks the ID's date and the month folder
    keep_id: str | None = None  # the sheet's own ID, kept when unique and safe
    customer_key: str | None = None  # a customer this import creates (its name)
    id: str | None = None  # filled by preview (predicted) or apply (final)
    note: str = ""


@dataclass
class Plan:
    source: str
    kind: str
    sheet: str | None
    rows: int = 0
    entries: list[Entry] = field(default_factory=list)
    customers: list[Entry] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    commit_id: str | None = None

    @property
    def bad_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems})

    def without_invalid(self) -> "Plan":
        """The plan without the invalid rows, and without the new customers only those rows needed."""
        bad = set(self.bad_rows)
        entries = [e for e in self.entries if e.row not in bad]
        wanted = {e.customer_key for e in entries}
        customers = [c for c in self.customers if c.customer_key in wanted]
        return Plan(self.source, self.kind, self.sheet, self.rows, entries, customers, [], self.warnings)


class Importer:
    """Turns the rows of one sheet into a Plan (no writes); apply() writes it in one transaction."""

    def __init__(self, store: Store, *, actor: str, now: datetime, allow_pii: bool = False,
                 mapping: Mapping | None = None):
        self.store = store
        self.actor = actor
        self.now = now
        self.allow_pii = allow_pii
        self.mapping = mapping or Mapping()
        self.tz = store.settings.tz
        self._customers_by_id: dict[str, dict] = {}
        self._customers_by_name: dict[str, str] = {}
        self._names_in_file: dict[str, int] = {}
        for record in store.iter_records("customer"):
            self._customers_by_id[record.id] = record.doc
            name = str(record.doc.get("name") or "").strip()
            if name:
                self._customers_by_name.setdefault(name, record.id)

    # -- the whole sheet --

    def plan(self, path: Path, kind: str | None = None, sheet: str | None = None) -> Plan:
        source = path.name
        kind = kind or self.mapping.kind
        grids = read_grid(path, sheet or self.mapping.sheet)
        kinds = [kind] if kind else list(KINDS)
        indexes = [{**header_index(k), **self.mapping.columns} for k in kinds]
        found = find_sheet(grids, source, lambda h: any(normalise_header(h) in ix for ix in indexes))
        kind = kind or guess_kind([c.header for c in found.columns], self.mapping)
        plan = Plan(source=source, kind=kind, sheet=found.name)
        plan.warnings += bind_columns(found, kind, self.mapping)
        self._require_columns(found, kind)
        ids_seen: dict[str, int] = {}
        new_customers: dict[str, Entry] = {}
        for number, cells in found.rows:
            plan.rows += 1
            row = Row(source, number, cells, found.columns, self.mapping, DEFAULTS[kind])
            self._guard_pii(row)
            try:
                if kind == "customer":
                    entry = self._customer_row(row)
                else:
                    customer_key = self._customer_of(row, new_customers, plan)
                    entry = self._ticket_row(row) if kind == "ticket" else self._contact_row(row)
                    if entry is not None:
                        entry.customer_key = customer_key
            except _Skip:
                entry = None
            if row.problems or entry is None:
                plan.problems += row.problems
                continue
            self._keep_or_allocate(entry, row, ids_seen, plan)
            self._schema_problems(entry, row)
            if row.problems:
                plan.problems += row.problems
                continue
            self._mark_pii(entry)
            plan.entries.append(entry)
            if row.new_customer is not None:
                new_customers.setdefault(row.new_customer.customer_key, row.new_customer)
        plan.customers = list(new_customers.values())
        for customer in plan.customers:
            self._mark_pii(customer)
        if not plan.rows:
            raise UsageError(f"{source}: no rows to import below the header row {found.header_row}")
        return plan

    def _require_columns(self, sheet: Sheet, kind: str) -> None:
        have = {c.field for c in sheet.columns} | set(self.mapping.defaults) | set(DEFAULTS[kind])
        lacking = [f for f in REQUIRED[kind] if f not in have]
        if kind != "customer" and not have & {"customer", "customer_id", "customer_name"}:
            lacking.insert(0, "customer")
        if lacking:
            described = ", ".join(f"{f} ({'/'.join(HEADERS[kind].get(f, [f])[:2])})" for f in lacking)
            raise UsageError(f"{sheet.source}: no column for {described}",
                             hint="add the column, map yours with --mapping (columns: {表头: field}), or give a "
                                  "value for every row there (defaults: {field: value})")

    def _guard_pii(self, row: Row) -> None:
        if self.allow_pii:
            return
        for col, value in row.cells:
            if isinstance(value, (datetime, date, time, bool)):
                continue
            for finding in privacy.find_pii(str(value)):
                row.problems.append(RowProblem(row.source, row.number, col.where,
                                               f"looks like an {finding.label} ({finding.masked}); cslog does not "
                                               "store personal data (严禁记录客户敏感信息): remove it, or pass "
                                               "--allow-pii if the law requires keeping it"))

    def _mark_pii(self, entry: Entry) -> None:
        if not (self.allow_pii and privacy.scan(entry.doc)):
            return
        if entry.kind == "ticket":
            entry.doc["timeline"][0]["allow_pii"] = True
        else:
            entry.doc["allow_pii"] = {"at": fmt(self.now, self.tz), "by": self.actor}

    def _schema_problems(self, entry: Entry, row: Row) -> None:
        """A last check against the schema, so that nothing `cslog check` would reject is written."""
        doc = canonical({"id": entry.keep_id or _placeholder(entry.kind), **entry.doc}, schemas.key_order(entry.kind))
        if entry.kind != "customer" and not doc.get("customer"):
            doc["customer"] = "C0"  # created by this import
        for path, message in schemas.validate(doc, entry.kind):
            row.problem(None, message)

    # -- IDs --

    def _keep_or_allocate(self, entry: Entry, row: Row, seen: dict[str, int], plan: Plan) -> None:
        original = row.text("id")
        if not original:
            return
        fmt_ = self.store.id_format(entry.kind)
        reason = None
        if not is_safe(original) or fmt_.parse(original) is None:
            reason = f"is not a {entry.kind} ID of the form {self.store.settings.ids[entry.kind]}"
        elif original in seen:
            reason = f"appears again (row {seen[original]})"
        elif self._exists(original):
            reason = "already exists in the repository"
        if reason is None:
            seen[original] = row.number
            entry.keep_id = original
            return
        seen.setdefault(original, row.number)
        entry.note = f"原编号 {original}"
        if entry.kind == "ticket":
            created = entry.doc["timeline"][0]
            created["note"] = f"{created['note']}, 原编号 {original}"
        plan.warnings.append(f"{row.source}:{row.number}: {row.where('id')}: {original} {reason}; a new ID is "
                             "allocated")

    def _exists(self, record_id: str) -> bool:
        try:
            self.store.locate(record_id)
        except CslogError:  # NotFound, or not even a safe ID
            return False
        return True

    # -- customers --

    def _customer_of(self, row: Row, new: dict[str, Entry], plan: Plan) -> str | None:
        """Sets the row's customer: an existing one by ID or name, else one this import creates (by name)."""
        given_id = row.text("customer_id")
        combined = row.text("customer")
        name = row.text("customer_name")
        for candidate in (given_id, combined):
            if candidate and candidate in self._customers_by_id:
                row.customer_ref = candidate
                return None
        name = name or combined or given_id
        if not name:
            row.problem("customer_name" if row.has("customer_name") else None,
                        "no customer: every record needs the customer's name or ID (客户名称/编号)")
            return None
        if name in self._customers_by_name:
            row.customer_ref = self._customers_by_name[name]
            return None
        if name not in new:  # registered by plan() once the row proves valid: a refused row gives no data
            ctype = row.get("customer_type", enum_value(CUSTOMER_TYPE, strip=("客户",)))
            contact = _contact_field(row.text("phone"))
            doc = {"name": name, "type": ctype, "contacts": [contact] if contact else []}
            keep = given_id if given_id and is_safe(given_id) and self.store.id_format("customer").parse(given_id) \
                and not self._exists(given_id) else None
            row.new_customer = Entry(row=row.number, kind="customer", doc=doc, moment=self.now, keep_id=keep,
                                     customer_key=name)
        return name

    def _customer_row(self, row: Row) -> Entry | None:
        name = row.text("name")
        if not name:
            row.problem("name" if row.has("name") else None, "a customer needs a name (客户名称)")
            return None
        if name in self._customers_by_name:
            row.problem("name", f"customer '{name}' exists already ({self._customers_by_name[name]})")
            return None
        if name in self._names_in_file:
            row.problem("name", f"customer '{name}' appears again (row {self._names_in_file[name]})")
            return None
        contact = {"name": row.text("contact_name"), **(_contact_field(row.text("phone")) or {})}
        if row.text("email"):
            contact["email"] = row.text("email")
        contact = {k: v for k, v in contact.items() if v}
        doc = {"name": name, "type": row.get("customer_type", enum_value(CUSTOMER_TYPE, strip=("客户",))),
               "industry": row.text("industry"), "contacts": [contact] if contact else [],
               "tags": row.get("tags", names) or [], "notes": row.text("notes")}
        self._names_in_file[name] = row.number
        return Entry(row=row.number, kind="customer", doc=doc, moment=self.now, customer_key=name)

    def _customer_ref(self, row: Row) -> tuple[str | None, str | None]:
        ref = row.customer_ref
        if ref:
            return ref, self._customers_by_id[ref].get("name")
        return None, row.text("customer_name") or row.text("customer") or row.text("customer_id")

    # -- tickets --

    def _ticket_row(self, row: Row) -> Entry | None:
        s = self.store.settings
        when = time_value(self.tz)
        ticket_type = row.get("type", enum_value(TICKET_TYPE, TYPE_WORDS, strip=("类", "问题")))
        priority = row.get("priority", enum_value(PRIORITY, strip=("问题", "优先级")))
        channel = row.get("channel", enum_value(CHANNEL))
        status = row.get("status", enum_value(STATUS, STATUS_WORDS))
        emotion = row.get("emotion", enum_value(EMOTION))
        received = row.get("received_at", when)
        resolved = row.get("resolved_at", when)
        due = row.get("due_at", when)
        occurred = row.get("occurred_at", when)
        archived = row.get("archived", yes_no)
        rating = row.get("satisfaction", score_value)
        owner = row.get("owner", lambda v: people.resolve(s.agents, str(v), "agent"))
        department = row.get("department", lambda v: people.resolve(s.departments, str(v), "department"))
        description = row.text("description")
        for fname in REQUIRED["ticket"]:
            if row.raw(fname) in (None, ""):
                row.problem(fname if row.has(fname) else None, f"{fname} is empty; a ticket needs one")
        if row.problems:
            return None
        received = received or self.now
        if resolved is not None and resolved < received:
            row.problem("resolved_at", f"{_show(resolved)} is before the start {_show(received)}")
        if due is not None and due < received:
            row.problem("due_at", f"{_show(due)} is before the start {_show(received)}")
        department = department or people.department_of(s.agents, owner)
        if status is None:
            status = "resolved" if resolved else "in_progress" if owner or row.text("progress") else "new"
        if archived:
            if status == "resolved":
                status = "closed"
            elif status != "closed":
                row.problem("archived", f"archived (是) but {row.where('status')} says {STATUS.label(status)}; an "
                            "archived ticket is 已解决 or 已关闭")
        if resolved is not None and status not in ("resolved", "closed"):
            row.problem("resolved_at", f"a completion time is given but {row.where('status')} says "
                        f"{STATUS.label(status)}; set it to 已解决 or clear the time")
        if row.problems:
            return None
        customer_id, customer_name = self._customer_ref(row)
        doc = {
            "title": row.text("title") or derive_title(description), "type": ticket_type, "priority": priority,
            "status": status, "channel": channel, "customer": customer_id, "customer_name": customer_name,
            "received_at": fmt(received, self.tz), "occurred_at": fmt(occurred, self.tz) if occurred else None,
            "description": description, "attempted": row.text("attempted"), "expectation": row.text("expectation"),
            "emotion": emotion, "category": row.text("category"), "tags": row.get("tags", names) or [],
            "owner": owner, "department": department, "collaborators": row.get("collaborators", names) or [],
            "cause": row.text("cause"), "solution": row.text("solution"),
            "compensation": row.text("compensation"), "praised": row.text("praised"),
        }
        doc["timeline"] = self._timeline(row, doc, received, resolved, due, rating)
        if rating:
            doc["satisfaction"] = {"score": rating[0], "comment": rating[1],
                                   "at": next(e["at"] for e in doc["timeline"] if e["kind"] == "rated")}
        callbacks = [{k: e.get(k) for k in ("at", "by", "result", "solved")} for e in doc["timeline"]
                     if e["kind"] == "callback"]
        doc["callbacks"] = [{k: v for k, v in c.items() if v is not None} for c in callbacks]
        return Entry(row=row.number, kind="ticket", doc=doc, moment=received)

    def _timeline(self, row: Row, doc: dict, received: datetime, resolved: datetime | None,
                  due: datetime | None, rating: tuple[int, str | None] | None) -> list[dict]:
        """The row's story as events, in time order, none before the start."""
        worker = doc["owner"] or self.actor
        status = doc["status"]
        note = f"导入自 {row.source} 第{row.number}行"
        if due is not None:
            note += f", 预计完成时间 {_show(due)}"
        events: list[tuple[datetime, dict]] = [(received, _drop_empty({
            "by": self.actor, "kind": "created", "status": "new", "owner": doc["owner"],
            "department": doc["department"], "collaborators": doc["collaborators"], "note": note}))]
        last = received
        if status != "new":
            events.append((received, {"by": worker, "kind": "status", "from": "new", "to": "in_progress"}))
        steps = progress_steps(row.text("progress") or "")
        for percent, text, hhmm in steps:
            at = last
            if hhmm is not None:
                at = datetime.combine(last.date(), time(*hhmm), last.tzinfo)
                if at < last:
                    at += timedelta(days=1)
                if resolved is not None and percent == 100 and (resolved.hour, resolved.minute) == hhmm:
                    at = resolved
                if resolved is not None and at > resolved:
                    at = resolved
            last = max(at, last)
            events.append((last, _drop_empty({"by": worker, "kind": "note", "text": text, "percent": percent})))
        done_at = max(resolved or last, last)
        if status in ("waiting", "escalated"):
            kind = "escalated" if status == "escalated" else "status"
            move = {"by": worker, "kind": kind, "from": "in_progress", "to": status}
            if status == "escalated":
                move["reason"] = "导入时的状态: 需升级"
            events.append((last, move))
        elif status in ("resolved", "closed"):
            events.append((done_at, _drop_empty({"by": worker, "kind": "status", "from": "in_progress",
                                                 "to": "resolved", "solution": doc["solution"]})))
            if status == "closed":
                events.append((done_at, {"by": worker, "kind": "status", "from": "resolved", "to": "closed"}))
            last = done_at
        if rating is not None:
            events.append((last, _drop_empty({"by": worker, "kind": "rated", "score": rating[0],
                                              "comment": rating[1]})))
        result = row.text("callback")
        if result:
            at = last
            found = _INLINE_TIME.search(result)
            if found:
                try:
                    at = max(time_value(self.tz)(found.group(0)), last)
                except UsageError:
                    pass
            solved = False if _UNSOLVED.search(result) else True if _SOLVED.search(result) else None
            events.append((at, _drop_empty({"by": worker, "kind": "callback", "result": result, "solved": solved})))
            last = max(last, at)
        remark = row.text("remark")
        if remark:
            events.append((last, {"by": worker, "kind": "note", "text": f"备注: {remark}"}))
        events.sort(key=lambda pair: pair[0])  # stable: same-time events keep their order
        return [{"at": fmt(at, self.tz), **event} for at, event in events]

    # -- contacts --

    def _contact_row(self, row: Row) -> Entry | None:
        s = self.store.settings
        when = time_value(self.tz)
        channel = row.get("channel", enum_value(CHANNEL))
        started = row.get("started_at", when)
        ended = row.get("ended_at", when)
        before = row.get("emotion_before", enum_value(EMOTION))
        after = row.get("emotion_after", enum_value(EMOTION))
        agent = row.get("agent", lambda v: people.resolve(s.agents, str(v), "agent"))
        ticket = row.text("ticket")
        if ticket and not (is_safe(ticket) and self._exists(ticket)):
            row.problem("ticket", f"ticket {ticket} does not exist; import the tickets first")
        request = row.text("request")
        if not request:
            row.problem("request" if row.has("request") else None, "the request (核心诉求) is empty")
        if not agent:
            try:
                agent = people.resolve(s.agents, self.actor, "agent")
            except UsageError as exc:
                row.problem(None, f"no agent (沟通人员) column, and the acting agent: {exc.message}")
        if row.problems:
            return None
        started = started or self.now
        if ended is not None and ended < started:
            row.problem("ended_at", f"{_show(ended)} is before the start {_show(started)}")
            return None
        customer_id, customer_name = self._customer_ref(row)
        doc = {"customer": customer_id, "customer_name": customer_name, "channel": channel,
               "agent": agent,
               "started_at": fmt(started, self.tz), "ended_at": fmt(ended, self.tz) if ended else None,
               "request": request, "details": row.text("details"), "agreed": row.get("agreed", names) or [],
               "references": row.text("references"), "emotion": {"before": before, "after": after},
               "ticket": ticket, "follow_up": row.text("follow_up")}
        return Entry(row=row.number, kind="contact", doc=doc, moment=started)

    # -- writing --

    def preview(self, plan: Plan) -> Plan:
        """Fill in the IDs the import would give, as things stand (nothing is written)."""
        for kind, entries in (("customer", plan.customers), (plan.kind, plan.entries)):
            for entry, new_id in zip(entries, predict_ids(self.store, kind, entries)):
                entry.id = new_id
        self._link_customers(plan)
        return plan

    def apply(self, plan: Plan, commit: bool = True) -> Plan:
        """Write the plan in one transaction (one commit): new customers first, then the records; in each
        group the kept IDs first, so that an allocated ID never takes a number a later row keeps."""
        if not plan.entries:
            raise UsageError(f"{plan.source}: nothing to import")
        with self.store.transaction("import", self.actor, self.now, commit) as tx:
            for group in (plan.customers, plan.entries):
                for entry in group:
                    if entry.keep_id and self._exists(entry.keep_id):  # taken since the plan was made
                        entry.note = f"原编号 {entry.keep_id}"
                        entry.keep_id = None
                for entry in [e for e in group if e.keep_id] + [e for e in group if not e.keep_id]:
                    self._link_customers(plan, entry)
                    doc = entry.doc
                    record = tx.create(entry.kind, lambda new_id, doc=doc: {"id": new_id, **doc}, entry.moment,
                                       record_id=entry.keep_id)
                    entry.id = record.id
            tx.summary = f"import {counts(plan)} from {plan.source}"
            made = {e.id for e in plan.entries}
            tx.records.sort(key=lambda rid: rid not in made)  # the subject names an imported record
        plan.commit_id = tx.commit_id
        return plan

    def _link_customers(self, plan: Plan, entry: Entry | None = None) -> None:
        ids = {c.customer_key: c.id for c in plan.customers}
        for item in [entry] if entry else plan.entries:
            if item.kind != "customer" and item.customer_key:
                item.doc["customer"] = ids.get(item.customer_key)


def counts(plan: Plan) -> str:
    def many(n: int, word: str) -> str:
        return f"{n} {word}{'s' if n != 1 else ''}"

    text = many(len(plan.entries), plan.kind)
    if plan.customers:
        text += ", " + many(len(plan.customers), "new customer")
    return text


def predict_ids(store: Store, kind: str, entries: list[Entry]) -> list[str]:
    """The IDs apply() gives: kept IDs as they are; the others as Store.create would allocate them after."""
    fmt_ = store.id_format(kind)
    station = store.settings.station
    taken = {e.keep_id for e in entries if e.keep_id}
    best: dict[Any, int] = {}
    out = []
    for entry in entries:
        if entry.keep_id:
            out.append(entry.keep_id)
            continue
        day = entry.moment.date() if fmt_.has_date else None
        if day not in best:
            _series, seq = store.next_seq(kind, entry.moment)
            start = seq - 1
            for kept in taken:
                parsed = fmt_.parse(kept)
                if parsed and parsed.station == station and parsed.day == day:
                    start = max(start, parsed.seq)
            best[day] = start
        best[day] += 1
        out.append(fmt_.render(best[day], entry.moment, station))
    return out


def _placeholder(kind: str) -> str:
    return {"ticket": "CW0", "contact": "GT0", "customer": "C0"}[kind]


def _contact_field(value: str | None) -> dict | None:
    if not value:
        return None
    return {"email": value} if "@" in value else {"phone": value}


def _drop_empty(event: dict) -> dict:
    return {k: v for k, v in event.items() if v not in (None, "", [], {})}


def _show(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def summary_rows(plan: Plan) -> list[dict]:
    """One line per record the import makes (new customers first), for tables and JSON."""
    rows = []
    for entry in plan.customers + plan.entries:
        doc = entry.doc
        rows.append({"row": entry.row, "kind": entry.kind, "id": entry.id,
                     "customer": doc.get("customer") if entry.kind != "customer" else None,
                     "title": doc.get("title") or doc.get("name") or doc.get("request"),
                     "status": doc.get("status"), "note": entry.note or None})
    return rows


def plan_import(store: Store, path: Path, *, actor: str, now: datetime, kind: str | None = None,
                mapping: Path | None = None, sheet: str | None = None, allow_pii: bool = False) -> tuple[Importer, Plan]:
    """Read and check the whole file; nothing is written."""
    importer = Importer(store, actor=actor, now=now, allow_pii=allow_pii,
                        mapping=load_mapping(mapping) if mapping else None)
    return importer, importer.plan(path, kind, sheet)

