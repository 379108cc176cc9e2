"""The period's workbook (design.md section 6): the report's figures and the listings, as an .xlsx file.

Sheets, labelled in the configured language: Summary (汇总: report.sections(), the very numbers of
`cslog report --format json`, with a bar chart of types and a pie of priorities), Tickets (工单明细, one
row per ticket received in the period, ID first, the columns of the seeds' tracking tables plus SLA
states and handling hours), Contacts (沟通记录, by started_at), Trends (趋势, the report's `trend`:
volume, SLA rates and satisfaction of the last 6 periods, with line charts).

- Times are real Excel date-times in the configured timezone (naive local, `yyyy-mm-dd hh:mm`); scores,
  hours and rates are numbers (rates as fractions with a percent format).
- Phones and e-mail addresses in every text cell are masked (privacy.mask) unless mask=False.
- Text from records is never a formula: a value starting with = + - @ (or one Excel would read as an
  error code) is written as an explicit string cell with the quote-prefix style, the file format's
  apostrophe; characters XML cannot hold are dropped and text is cut at Excel's 32,767 characters.
- Listing sheets are written in openpyxl's write-only mode (streamed, constant memory per row); the
  header row is frozen and filtered, and column widths follow the text's display width (wcwidth: a
  Chinese character counts two).
- The file is written next to its destination and renamed into place: a failed export leaves no
  half-written workbook.
"""
from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl.cell import Cell as _CELL

from cslog import report as rpt
from cslog.errors import OperationalError, UsageError
from cslog.model import CHANNEL, CUSTOMER_TYPE, EMOTION, PRIORITY, STATUS, TICKET_TYPE
from cslog.render import text_width
from cslog.store import Store

DATE_TIME = "yyyy-mm-dd hh:mm"
DATE = "yyyy-mm-dd"
NUMBER_FORMATS = {"count": "0", "rate": "0.0%", "hours": "0.00", "score": "0.00", "dcount": "+0;-0;0",
                  "drate": "+0.0%;-0.0%;0.0%", "dhours": "+0.00;-0.00;0.00", "dscore": "+0.00;-0.00;0.00"}
MAX_CELL = 32767
WIDTH_SAMPLE = 2000  # rows looked at for column widths
_RISKY_START = ("=", "+", "-", "@")
_FIRST_RISKY = "=+-@#"  # first characters worth a closer look (# for error codes such as #N/A)
_ERROR_CODES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")

SHEETS = {"summary": ("汇总", "Summary"), "tickets": ("工单明细", "Tickets"), "contacts": ("沟通记录", "Contacts"),
          "trends": ("趋势", "Trends")}
SLA_STATES = {"met": ("达成", "met"), "breached": ("超时", "breached"), "running": ("计时中", "running"),
              "paused": ("暂停", "paused")}
YES_NO = (("是", "否"), ("yes", "no"))

# key, (zh header, en header), format (text | datetime | date | count | hours), and how wide a text
# column may grow. A number stands before a date (right-aligned too), never against text on its right.
TICKET_COLUMNS: tuple[tuple[str, tuple[str, str], str, int], ...] = (
    ("id", ("工单编号", "Ticket ID"), "text", 20),
    ("title", ("标题", "Title"), "text", 30),
    ("customer_name", ("客户名称", "Customer"), "text", 20),
    ("customer", ("客户编号", "Customer ID"), "text", 12),
    ("contact", ("联系方式", "Contact"), "text", 36),
    ("account_type", ("账户类型", "Account type"), "text", 12),
    ("type", ("问题类型", "Type"), "text", 12),
    ("priority", ("问题等级", "Priority"), "text", 10),
    ("channel", ("受理渠道", "Channel"), "text", 10),
    ("category", ("问题分类", "Category"), "text", 26),
    ("description", ("问题描述(客户原话)", "Description (customer's words)"), "text", 60),
    ("owner", ("第一责任人", "Owner"), "text", 12),
    ("collaboration", ("协作部门/人", "Department / collaborators"), "text", 24),
    ("status", ("处理进度", "Status"), "text", 10),
    ("progress", ("最新进度", "Latest progress"), "text", 36),
    ("solution", ("解决方案", "Solution"), "text", 50),
    ("callbacks", ("回访记录", "Callbacks"), "text", 60),
    ("score", ("客户满意度", "Satisfaction"), "count", 0),
    ("received", ("受理时间", "Received"), "datetime", 0),
    ("due", ("预计完成时间", "Due"), "datetime", 0),
    ("resolved", ("实际完成时间", "Resolved"), "datetime", 0),
    ("archived", ("归档状态", "Archived"), "text", 10),
    ("notes", ("备注", "Notes"), "text", 40),
    ("sla_claim", ("认领时限", "Claim SLA"), "text", 10),
    ("sla_response", ("响应时限", "Response SLA"), "text", 10),
    ("sla_update", ("更新时限", "Update SLA"), "text", 10),
    ("sla_resolve", ("解决时限", "Resolve SLA"), "text", 10),
    ("sla_callback", ("回访时限", "Callback SLA"), "text", 10),
    ("hours", ("处理时长(小时)", "Handling (h)"), "hours", 0),
    ("business_hours", ("处理时长(工作小时)", "Handling (business h)"), "hours", 0),
)
CONTACT_COLUMNS: tuple[tuple[str, tuple[str, str], str, int], ...] = (
    ("id", ("沟通编号", "Contact ID"), "text", 20),
    ("customer_name", ("客户名称", "Customer"), "text", 20),
    ("customer", ("客户编号", "Customer ID"), "text", 12),
    ("channel", ("沟通渠道", "Channel"), "text", 10),
    ("agent", ("沟通人员", "Agent"), "text", 12),
    ("minutes", ("时长(分钟)", "Minutes"), "count", 0),
    ("started", ("开始时间", "Started"), "datetime", 0),
    ("ended", ("结束时间", "Ended"), "datetime", 0),
    ("request", ("核心诉求(客户原话)", "Request (customer's words)"), "text", 60),
    ("details", ("问题描述细节", "Details"), "text", 40),
    ("agreed", ("沟通协商要点", "Agreed"), "text", 40),
    ("references", ("辅助信息", "References"), "text", 30),
    ("emotion", ("客户情绪", "Emotion"), "text", 14),
    ("ticket", ("关联工单", "Ticket"), "text", 20),
    ("follow_up", ("后续跟进事项", "Follow-up"), "text", 30),
)
_TICKET_KEYS = tuple(c[0] for c in TICKET_COLUMNS)
_CONTACT_KEYS = tuple(c[0] for c in CONTACT_COLUMNS)
_STARTED = _CONTACT_KEYS.index("started")
TREND_COLUMNS = (
    ("label", ("周期", "Period"), "text", 24), ("from", ("开始日期", "From"), "date", 0),
    ("until", ("结束日期", "Until"), "date", 0), ("tickets", ("工单数", "Tickets"), "count", 0),
    ("sla_response_rate", ("首次响应达成率", "Response SLA rate"), "rate", 0),
    ("sla_resolve_rate", ("解决时限达成率", "Resolve SLA rate"), "rate", 0),
    ("satisfaction_mean", ("满意度均分", "Mean satisfaction"), "score", 0),
    ("satisfied_rate", ("满意率(4-5分)", "Satisfied (4-5)"), "rate", 0),
)


def _say(pair: tuple[str, str], language: str) -> str:
    return pair[0] if language == "zh" else pair[1]


# -- cell values --------------------------------------------------------------------------------------

def clean(text: str) -> str:
    """Text a worksheet can hold: no XML-illegal control characters, at most Excel's cell size."""
    text = _ILLEGAL.sub("", text)
    return text if len(text) <= MAX_CELL else text[:MAX_CELL - 1] + "…"


def needs_guard(text: str) -> bool:
    """Would a spreadsheet program run this text, or read it as something else than text?"""
    return text.startswith(_RISKY_START) or text in _ERROR_CODES


def naive(moment: datetime | None, tz) -> datetime | None:
    """An aware instant as the configured timezone's wall time, which is what a spreadsheet shows."""
    if moment is None:
        return None
    return moment.astimezone(tz).replace(tzinfo=None, microsecond=0)


class _Masker:
    def __init__(self, enabled: bool):
        from cslog.privacy import mask

        self.enabled = enabled
        self._mask = mask

    def __call__(self, value: Any) -> str | None:
        if value in (None, ""):
            return None
        text = value if isinstance(value, str) else str(value)
        return self._mask(text) if self.enabled else text


# -- rows ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Customer:
    type: str | None
    contact: str | None


def customers(store: Store, index) -> dict[str, Customer]:
    """Account type and first phone or e-mail of every customer (unmasked; cells are masked later)."""
    found = {}
    for path, doc in index.docs_with_paths("customer"):
        contact = None
        for entry in doc.get("contacts") or []:
            if isinstance(entry, Mapping):
                parts = [str(entry[k]) for k in ("name", "phone", "email") if entry.get(k)]
                if parts:
                    contact = " ".join(parts)
                    break
        found[str(doc.get("id") or path.rpartition("/")[2][:-5])] = Customer(doc.get("type"), contact)
    return found


def _fmt_day(value: Any) -> str:
    text = str(value or "")
    return text[:16].replace("T", " ") if len(text) >= 16 else text


def ticket_row(doc: Mapping[str, Any], facts: rpt.Facts, known: Mapping[str, Customer], mask: _Masker,
               language: str, tz) -> tuple:
    """One Tickets row, in the order of TICKET_COLUMNS."""
    zh = language == "zh"
    customer = known.get(str(doc.get("customer") or ""))
    people = ", ".join(str(p) for p in (doc.get("collaborators") or []) if p)
    dept = str(doc.get("department") or "")
    collaboration = f"{dept}: {people}" if dept and people else dept or people
    notes = [e for e in doc.get("timeline") or [] if isinstance(e, Mapping) and e.get("kind") == "note"]
    last_note = max(notes, key=lambda e: str(e.get("at") or ""), default=None)
    progress = None
    if last_note is not None:
        percent = last_note.get("percent")
        progress = " ".join(p for p in (f"{percent}%" if isinstance(percent, int) else "",
                                         str(last_note.get("text") or "")) if p)
    calls = []
    for c in doc.get("callbacks") or []:
        if isinstance(c, Mapping):
            solved = c.get("solved")
            said = "" if solved is None else (("已解决" if solved else "未解决") if zh else
                                              ("solved" if solved else "not solved"))
            score = f"{c['score']}分" if zh and c.get("score") else f"score {c['score']}" if c.get("score") else ""
            calls.append(" ".join(p for p in (_fmt_day(c.get("at")), said, score, str(c.get("result") or "")) if p))
    notes_text = []
    if doc.get("compensation"):
        notes_text.append(("补偿: " if zh else "Compensation: ") + str(doc["compensation"]))
    decision = doc.get("decision")
    if isinstance(decision, Mapping) and decision.get("result"):
        word = {"adopted": ("采纳", "adopted"), "rejected": ("不采纳", "rejected")}.get(decision["result"],
                                                                                    (decision["result"],) * 2)
        reason = f" ({decision['reason']})" if decision.get("reason") else ""
        notes_text.append(_say(word, language) + reason)
    if doc.get("praised"):
        notes_text.append(("表扬对象: " if zh else "Praised: ") + str(doc["praised"]))
    resolve = facts.clocks.get("resolve")
    states = {k: (_say(SLA_STATES[c.state], language) if c.state in SLA_STATES else c.state)
              for k, c in facts.clocks.items()}
    row = {
        "id": facts.id, "title": mask(doc.get("title")), "customer_name": mask(doc.get("customer_name")),
        "customer": doc.get("customer"), "contact": mask(customer.contact) if customer else None,
        "account_type": CUSTOMER_TYPE.label(customer.type, language) if customer and customer.type else None,
        "type": TICKET_TYPE.label(facts.type, language) or None,
        "priority": PRIORITY.label(facts.priority, language) or None,
        "channel": CHANNEL.label(facts.channel, language) or None, "category": mask(facts.category),
        "description": mask(doc.get("description")), "owner": mask(facts.owner), "collaboration": mask(collaboration),
        "status": STATUS.label(facts.status, language) or None, "progress": mask(progress),
        "solution": mask(doc.get("solution")), "score": facts.score, "callbacks": mask("\n".join(calls)),
        "received": naive(facts.received, tz), "due": naive(resolve.due if resolve else None, tz),
        "resolved": naive(facts.done_at, tz),
        "archived": YES_NO[0 if zh else 1][0 if facts.status == "closed" else 1], "notes": mask("; ".join(notes_text)),
        **{f"sla_{kind}": states.get(kind) for kind in rpt.CLOCKS},
        "hours": None if facts.hours is None else round(facts.hours, 2),
        "business_hours": None if facts.business_hours is None else round(facts.business_hours, 2),
    }
    return tuple(row[key] for key in _TICKET_KEYS)


def contact_rows(store: Store, index, period: rpt.Period, now: datetime, mask: _Masker, language: str,
                 problems: list[str]) -> list[tuple]:
    """The Contacts rows of the period (by started_at), in time order."""
    tz = store.settings.tz
    start, end = period.bounds(tz)

    def slot(moment: datetime) -> int | None:
        return 0 if start <= moment < end and moment <= now else None

    rows = []
    rpt.unreadable(store, index, "contact", "started_at", slot, problems)
    for path, loaded in rpt.records_in(index, "contact", (start, end), slot):
        doc, started, _ = loaded
        ended = None
        if doc.get("ended_at"):
            from cslog.timeutil import parse_time

            try:
                ended = parse_time(str(doc["ended_at"]), tz, "ended_at")
            except UsageError:
                problems.append(f"{path}: cannot read ended_at '{doc['ended_at']}'")
        minutes = round((ended - started).total_seconds() / 60) if ended and ended >= started else None
        emotion = doc.get("emotion") if isinstance(doc.get("emotion"), Mapping) else {}
        feeling = " → ".join(EMOTION.label(emotion[k], language) for k in ("before", "after") if emotion.get(k))
        agreed = doc.get("agreed")
        agreed_text = "; ".join(str(a) for a in agreed) if isinstance(agreed, list) else agreed
        row = {"id": str(doc.get("id") or path.rpartition("/")[2][:-5]), "customer_name": mask(doc.get("customer_name")),
               "customer": doc.get("customer"), "channel": CHANNEL.label(doc.get("channel"), language) or None,
               "agent": mask(doc.get("agent")), "minutes": minutes, "started": naive(started, tz),
               "ended": naive(ended, tz), "request": mask(doc.get("request")), "details": mask(doc.get("details")),
               "agreed": mask(agreed_text), "references": mask(doc.get("references")), "emotion": feeling or None,
               "ticket": doc.get("ticket"), "follow_up": mask(doc.get("follow_up"))}
        rows.append(tuple(row[key] for key in _CONTACT_KEYS))
    rows.sort(key=lambda r: (r[_STARTED], r[0]))
    return rows


# -- writing ------------------------------------------------------------------------------------------

@dataclass
class Contents:
    """Everything the workbook shows: the report's figures and the rows of the two listings."""

    report: dict
    tickets: list[tuple]
    contacts: list[tuple]
    problems: list[str] = field(default_factory=list)


@dataclass
class Written:
    """What export() wrote."""

    path: Path
    tickets: int
    contacts: int
    report: dict
    problems: list[str] = field(default_factory=list)


_RECEIVED = _TICKET_KEYS.index("received")


def collect(store: Store, period: rpt.Period, now: datetime, mask: bool = True,
            streak: int = rpt.STREAK_DEFAULT, use_cache: bool = True) -> Contents:
    """The figures and rows of the period's workbook, from the index (report.build hands each ticket of
    the period over with its whole document, read from its file)."""
    from cslog.index import Index

    language = store.settings.language
    tz = store.settings.tz
    masker = _Masker(mask)
    index = Index.open(store, use_cache=use_cache)
    known = customers(store, index)
    tickets: list[tuple] = []

    def on_ticket(doc: Mapping[str, Any], facts: rpt.Facts) -> None:
        tickets.append(ticket_row(doc, facts, known, masker, language, tz))

    built = rpt.build(store, period, now, streak=streak, on_ticket=on_ticket, index=index)
    tickets.sort(key=lambda r: (r[_RECEIVED], r[0]))
    problems = list(built.problems)
    contacts = contact_rows(store, index, period, now, masker, language, problems)
    return Contents(built.data, tickets, contacts, problems)


def export(store: Store, period: rpt.Period, now: datetime, path: Path | str, mask: bool = True,
           streak: int = rpt.STREAK_DEFAULT, use_cache: bool = True) -> Written:
    """Write the period's workbook to `path` (an .xlsx file) and say what went into it."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise UsageError(f"{path}: the workbook must be an .xlsx file", hint="e.g. -o cslog-2026-11.xlsx")
    if not path.parent.is_dir():
        raise UsageError(f"{path.parent}: no such folder", hint="create it first, or choose another -o path")
    contents = collect(store, period, now, mask, streak, use_cache)
    write_workbook(path, contents, store.settings.language, store.settings.org)
    return Written(path, len(contents.tickets), len(contents.contacts), contents.report, contents.problems)


def write_workbook(path: Path, contents: Contents, language: str, org: str = "") -> None:
    """The four sheets, written in openpyxl's write-only mode and saved atomically."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    _summary_sheet(wb.create_sheet(_say(SHEETS["summary"], language)), contents.report, language, org)
    _listing(wb.create_sheet(_say(SHEETS["tickets"], language)), TICKET_COLUMNS, contents.tickets, language)
    _listing(wb.create_sheet(_say(SHEETS["contacts"], language)), CONTACT_COLUMNS, contents.contacts, language)
    _trends_sheet(wb.create_sheet(_say(SHEETS["trends"], language)), contents.report, language)
    _save(wb, path)


def _save(wb, path: Path) -> None:
    fd, temp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".xlsx.tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(temp, 0o666 & ~umask)  # mkstemp's 0600 would make the report unreadable to the team
        wb.save(temp)
        os.replace(temp, path)
    except OSError as exc:
        raise OperationalError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def display_width(text: str) -> int:
    """Terminal columns of the widest line (Chinese characters count two)."""
    return max(map(text_width, text.split("\n")))


_FIXED_WIDTH = {"datetime": 19, "date": 12, "count": 8, "hours": 10, "rate": 10, "score": 8}


GLYPH = 1.1  # a display column of Chinese text is a little wider than Excel's width unit (a digit)

A3, A4 = 8, 9  # openpyxl paper sizes


def _page(ws, widths: list, paper: int, fit_width: int) -> None:
    """Column widths, and a landscape page `fit_width` pages wide and as long as the sheet needs."""
    from openpyxl.utils import get_column_letter

    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = paper
    ws.page_setup.fitToWidth = fit_width
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True

def _widths(columns, rows: list[tuple], language: str) -> list[float]:
    """Column widths in Excel's units: the widest text among the first rows (display width, capped at the
    column's limit) or the header, whichever is wider; fixed widths for dates and numbers."""
    widths = []
    for i, (_key, header, kind, cap) in enumerate(columns):
        head = display_width(_say(header, language))
        if kind == "text":
            body = _widest([r[i] for r in rows[:WIDTH_SAMPLE]], cap)
            widths.append(round(max(min(max(body, 4), cap), min(head, max(cap, 10))) * GLYPH + 2, 1))
        else:
            widths.append(max(_FIXED_WIDTH[kind], head * GLYPH) + 2)
    return widths


def _widest(values: list, cap: int) -> int:
    """The display width of the widest text, or `cap` once some text reaches it. A text is measured only
    when it could be wider than the widest so far (a character is at most two columns wide)."""
    best = 0
    for v in values:
        if isinstance(v, str) and len(v) * 2 > best:
            best = max(best, display_width(v))
            if best >= cap:
                return best
    return best


class _StyledCell(_CELL):
    """A styled cell for WriteOnlyWorksheet.append. openpyxl first tries any appended item as a value and
    formats the item's repr into the error it then catches; a constant repr keeps that detour cheap
    (about 8 styled cells a row, 10,000 rows)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<styled cell>"


class _Cells:
    """Cells for a write-only sheet: plain values where possible (fast), styled or guarded cells where
    needed. openpyxl writes each appended row out at once, so one styled cell per column can be filled
    again for every row (see put)."""

    def __init__(self, ws):
        from openpyxl.utils.exceptions import IllegalCharacterError

        self.ws = ws
        self._illegal = IllegalCharacterError

    def _new(self, ws):
        return _StyledCell(ws, row=1, column=1)

    def template(self, number_format: str | None = None, bold: bool = False, size: float | None = None,
                 fill: str | None = None, horizontal: str | None = None, wrap: bool = False,
                 vertical: str | None = None):
        """A new empty cell of that style."""
        from openpyxl.styles import Alignment, Font, PatternFill

        cell = self._new(self.ws)
        if number_format:
            cell.number_format = number_format
        if bold or size:
            cell.font = Font(bold=bold, size=size or 11)
        if fill:
            cell.fill = PatternFill("solid", fgColor=fill)
        if horizontal or wrap or vertical:
            cell.alignment = Alignment(horizontal=horizontal, vertical=vertical, wrap_text=wrap)
        return cell

    def styled(self, value: Any, **style):
        """`value` in a new cell of that style (None stays an empty cell)."""
        return None if value is None else self.put(self.template(**style), value)

    def put(self, cell, value: Any):
        """`value` in `cell`, or for text a spreadsheet would run, in a guarded copy of `cell`."""
        if isinstance(value, str):
            if value[:1] in _FIRST_RISKY or len(value) > MAX_CELL:
                value = clean(value)
                if needs_guard(value):
                    return self.text(value, cell)
            try:
                cell.value = value
            except self._illegal:
                return self.put(cell, clean(value))
            return cell
        cell.value = value
        return cell

    @staticmethod
    def fill(cell, value: Any):
        """Put a value checked already (safe clean text, a naive date-time, a number) in `cell` without
        openpyxl's type guessing, which costs more than the rest of a styled cell (10,000 rows)."""
        cell._value = value
        cell.data_type = ("s" if isinstance(value, str) else "d" if isinstance(value, (datetime, date))
                          else "b" if isinstance(value, bool) else "n")
        return cell

    def text(self, value: str, like=None):
        """A string cell that stays a string: explicit type, and Excel's quote prefix (the apostrophe)."""
        from copy import copy

        cell = self._new(self.ws)
        if like is not None:
            cell._style = copy(like._style)
        cell.value = "x"  # bound as text; the real text goes in without type guessing
        cell._value = clean(value)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell

    def plain(self, value: Any, like=None):
        """A text value as it can go into a row: cleaned, and guarded (in the style of `like`) when needed."""
        if isinstance(value, str):
            value = clean(value)
            if needs_guard(value):
                return self.text(value, like)
        return value


def _header(ws, cells: _Cells, columns, language: str) -> None:
    ws.append([cells.styled(_say(h, language), bold=True, fill=HEADER_FILL, horizontal="center")
               for _k, h, _f, _c in columns])


WRAP_FROM = 30  # text columns allowed this wide or wider wrap their text instead of cutting it off
HEADER_FILL = "DDEBF7"
LINE_HEIGHT = 16  # points per line of 11-point text, Chinese included
MAX_LINES = 8


def _lines(text: str | None, room: float) -> int:
    """How many lines `text` takes wrapped in a column `room` characters wide. The display width is
    estimated from the UTF-8 length (a Chinese character: 3 bytes, 2 columns; ASCII: 1 and 1), which
    is what wcwidth says for this text at a fraction of its cost on 10,000 rows."""
    if not text or (len(text) * 2 <= room and "\n" not in text):
        return 1
    total = 0
    for line in text.split("\n"):
        width = (len(line.encode("utf-8")) + len(line)) / 2
        total += max(1, -(-int(width) // max(int(room), 1)))
    return total


def _listing(ws, columns, rows: list[tuple], language: str) -> None:
    """A listing sheet: header row frozen and filtered, one row per record, long text wrapped."""
    from openpyxl.utils import get_column_letter

    widths = _widths(columns, rows, language)
    _page(ws, widths, A3, fit_width=2)
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
    ws.print_title_rows = "1:1"
    ws.print_title_cols = "A:A"
    cells = _Cells(ws)
    _header(ws, cells, columns, language)
    text_columns, wrapping, formats = [], [], {}
    for i, (_k, _h, kind, cap) in enumerate(columns):
        if kind == "text":
            text_columns.append(i)
            if cap >= WRAP_FROM:
                wrapping.append((i, (widths[i] - 2) / GLYPH))
        elif kind in ("datetime", "date"):
            formats[i] = DATE_TIME if kind == "datetime" else DATE
        # hours stay in the General format: they are rounded to 2 places already, and on 10,000 rows every
        # styled cell costs (openpyxl's write-only append takes a slow path for each)
    styled = [(i, cells.template(number_format=f)) for i, f in formats.items()]
    wrapped = {i: cells.template(wrap=True) for i, _room in wrapping}
    heights = ws.row_dimensions
    for number, row in enumerate(rows, 2):
        values = list(row)
        texts = [values[i] for i in text_columns]
        odd = _ILLEGAL.search("\n".join(v for v in texts if isinstance(v, str)))  # one look per row
        for i, v in zip(text_columns, texts):
            if v is None:
                continue
            if not isinstance(v, str):  # a hand-edited file may hold a number or a list where text belongs
                v = values[i] = str(v)
            if v[:1] in _FIRST_RISKY or len(v) > MAX_CELL or (odd and _ILLEGAL.search(v)):
                values[i] = cells.plain(v)
        lines = 1
        for i, room in wrapping:  # only text that does not fit gets the wrapping style (each styled cell costs)
            v = values[i]
            if isinstance(v, str):
                n = _lines(v, room)
                if n > 1:
                    lines = max(lines, n)
                    values[i] = cells.fill(wrapped[i], v)  # checked above: clean, and safe to show as text
        if lines > 1:
            # spreadsheet programs do not grow a row for wrapped text by themselves. The row's attributes
            # as openpyxl's row writer reads them (what dict(RowDimension) gives, without building one)
            heights[number] = {"ht": str(LINE_HEIGHT * min(lines, MAX_LINES) + 2), "customHeight": "1"}
        for i, cell in styled:
            v = values[i]
            if isinstance(v, (datetime, date, int, float)):
                values[i] = cells.fill(cell, v)
            elif v is not None:
                values[i] = cells.put(cell, v)
        ws.append(values)


def _summary_sheet(ws, data: dict, language: str, org: str) -> None:
    from openpyxl.chart import BarChart, PieChart, Reference
    from openpyxl.chart.label import DataLabelList
    from openpyxl.utils import get_column_letter

    parts = rpt.sections(data, language)
    columns = max(len(s.headers) for s in parts)
    widths = [display_width(_say(("指标", "Figure"), language))] + [8] * (columns - 1)
    for s in parts:
        for i, head in enumerate(s.headers):
            widths[i] = max(widths[i], display_width(head) if i else 0)
        for row in s.rows:
            label = row[0]
            if isinstance(label, str):
                widths[0] = max(widths[0], display_width(label))
    widths[0] = min(widths[0], 34)
    _page(ws, [width + 2 for width in widths], A4, fit_width=1)

    cells = _Cells(ws)
    ws.append([cells.styled(rpt.title_text(data, org, language), bold=True, size=14)])
    prev = data["previous"]
    generated = data["generated_at"][:16].replace("T", " ")
    if language == "zh":
        line = (f"生成时间 {generated};上期 {prev['label']} ({prev['period']['from']} ~ {prev['period']['until']});"
                "时限按生成时间判定,比率为达成数/(达成+超时)")
    else:
        line = (f"Generated {generated}; previous period {prev['label']} ({prev['period']['from']} ~ "
                f"{prev['period']['until']}); clocks judged at generation, rate = met / (met + breached)")
    ws.append([line])
    row = 2
    if not data["tickets"]:
        ws.append([cells.styled(rpt.empty_text(language), bold=True, fill="FFF2CC")])
        row += 1
    anchors: dict[str, tuple[int, int]] = {}  # section key -> (first data row, last data row)
    for s in parts:
        ws.append([])
        ws.append([cells.styled(s.title, bold=True, size=12)])
        ws.append([cells.styled(h, bold=True, fill=HEADER_FILL, horizontal="left" if s.formats[i] == "text" else "right")
                   for i, h in enumerate(s.headers)])
        row += 3
        if not s.rows:
            ws.append([("(无)" if language == "zh" else "(none)")])
            row += 1
            continue
        first = row + 1
        for r in s.rows:
            values = []
            for i, v in enumerate(rpt.row_values(s, r)):
                f = rpt.row_format(s, r, i)
                number_format = NUMBER_FORMATS.get(f)
                if v is None or f == "text" or not number_format:
                    values.append(cells.plain(v))
                else:
                    values.append(cells.styled(v, number_format=number_format))
            ws.append(values)
            row += 1
        anchors[s.key] = (first, row)

    if not data["tickets"]:
        return
    # beside the first blocks (overview, types, priorities: five columns at most), under the title
    beside = max(len(s.headers) for s in parts[:4])
    gap = get_column_letter(beside + 2)
    if "by_type" in anchors:
        a, b = anchors["by_type"]
        chart = BarChart()
        chart.type = "col"
        chart.title = "问题类型分布(本期/上期)" if language == "zh" else "Tickets by type (this / previous period)"
        chart.y_axis.title = "工单数" if language == "zh" else "Tickets"
        chart.add_data(Reference(ws, min_col=2, min_row=a - 1, max_row=b), titles_from_data=True)
        chart.add_data(Reference(ws, min_col=4, min_row=a - 1, max_row=b), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=a, max_row=b))
        _show_axes(chart)
        chart.width, chart.height = 16, 8
        ws.add_chart(chart, f"{gap}4")
    if "by_priority" in anchors:
        a, b = anchors["by_priority"]
        pie = PieChart()
        pie.title = "问题等级占比" if language == "zh" else "Tickets by priority"
        pie.add_data(Reference(ws, min_col=2, min_row=a - 1, max_row=b), titles_from_data=True)
        pie.set_categories(Reference(ws, min_col=1, min_row=a, max_row=b))
        pie.dataLabels = DataLabelList()
        pie.dataLabels.showPercent = True
        for flag in ("showVal", "showCatName", "showSerName", "showLegendKey"):
            setattr(pie.dataLabels, flag, False)
        pie.width, pie.height = 12, 8
        ws.add_chart(pie, f"{gap}22")


def _show_axes(chart) -> None:
    # openpyxl 3.1 marks axes as deleted unless told otherwise; recent Excel then hides them
    chart.x_axis.delete = False
    chart.y_axis.delete = False


def _trends_sheet(ws, data: dict, language: str) -> None:
    from openpyxl.chart import LineChart, Reference
    from openpyxl.utils import get_column_letter

    rows = []
    for t in data["trend"]:
        rows.append(tuple(date.fromisoformat(t[k]) if kind == "date" else t[k] for k, _h, kind, _c in TREND_COLUMNS))
    _page(ws, _widths(TREND_COLUMNS, rows, language), A4, fit_width=1)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(TREND_COLUMNS))}{len(rows) + 1}"
    cells = _Cells(ws)
    _header(ws, cells, TREND_COLUMNS, language)
    for r in rows:
        ws.append([cells.plain(v) if v is None or kind == "text" else
                   cells.styled(v, number_format=DATE if kind == "date" else NUMBER_FORMATS[kind])
                   for v, (_k, _h, kind, _c) in zip(r, TREND_COLUMNS)])
    last = len(rows) + 1
    zh = language == "zh"

    sat = LineChart()
    sat.title = "满意度趋势(均分)" if zh else "Satisfaction trend (mean score)"
    sat.add_data(Reference(ws, min_col=7, min_row=1, max_row=last), titles_from_data=True)
    sat.set_categories(Reference(ws, min_col=1, min_row=2, max_row=last))
    sat.y_axis.scaling.min = 1
    sat.y_axis.scaling.max = 5
    sat.y_axis.title = "分" if zh else "score"
    sat.legend = None  # one line: its title says what it is
    _show_axes(sat)
    sat.width, sat.height = 16, 7.5
    _plain_lines(sat)
    _place(sat, 0, last + 3)
    ws.add_chart(sat)

    rate = LineChart()
    rate.title = "SLA达成率与满意率趋势" if zh else "SLA and satisfied rates"
    for col in (5, 6, 8):
        rate.add_data(Reference(ws, min_col=col, min_row=1, max_row=last), titles_from_data=True)
    rate.set_categories(Reference(ws, min_col=1, min_row=2, max_row=last))
    rate.y_axis.scaling.min = 0
    rate.y_axis.scaling.max = 1
    rate.y_axis.number_format = "0%"
    _show_axes(rate)
    rate.width, rate.height = 16, 7.5
    _plain_lines(rate)
    _place(rate, sat.width + 0.5, last + 3)
    ws.add_chart(rate)


def _place(chart, left_cm: float, top_row: int) -> None:
    """Anchor a chart at an absolute position: `left_cm` from the left edge, at the top of `top_row`
    (rows of the default 15-point height above it), whatever the column widths."""
    from openpyxl.drawing.spreadsheet_drawing import AbsoluteAnchor
    from openpyxl.drawing.xdr import XDRPoint2D, XDRPositiveSize2D

    cm, px = 360000, 9525  # EMU
    chart.anchor = AbsoluteAnchor(pos=XDRPoint2D(int(left_cm * cm), (top_row - 1) * 20 * px),
                                  ext=XDRPositiveSize2D(int(chart.width * cm), int(chart.height * cm)))


def _plain_lines(chart) -> None:
    """Straight lines with a marker on each period: a smoothed curve invents values between periods."""
    for series in chart.series:
        series.smooth = False
        series.marker.symbol = "circle"
        series.marker.size = 6


def sheet_names(language: str) -> dict[str, str]:
    return {key: _say(pair, language) for key, pair in SHEETS.items()}

