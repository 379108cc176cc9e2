"""The workbook written: its four sheets with their charts, column widths and pages, saved atomically.

Sheets, labelled in the configured language: Summary (汇总: report.sections(), the very numbers of
`cslog report --format json`, with a bar chart of types and a pie of priorities), Tickets (工单明细, one
row per ticket received in the period, ID first, the columns of the seeds' tracking tables plus SLA
states and handling hours), Contacts (沟通记录, by started_at), Trends (趋势, the report's `trend`:
volume, SLA rates and satisfaction of the last 6 periods, with line charts).

- Listing sheets are written in openpyxl's write-only mode (streamed, constant memory per row); the
  header row is frozen and filtered, and column widths follow the text's display width (wcwidth: a
  Chinese character counts two).
- The file is written next to its destination and renamed into place: a failed export leaves no
  half-written workbook.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from cslog import report as rpt
from cslog.errors import OperationalError, UsageError
from cslog.export.cells import _Cells
from cslog.export.rows import (ACTION_COLUMNS, CASE_COLUMNS, CONTACT_COLUMNS, MAX_CELL, TICKET_COLUMNS, _ILLEGAL, Contents, _say,
                               collect)
from cslog.render.text import GUARD_FIRST, text_width
from cslog.store import Store
from cslog.timeutil import to_minute

DATE_TIME = "yyyy-mm-dd hh:mm"
DATE = "yyyy-mm-dd"
NUMBER_FORMATS = {"count": "0", "rate": "0.0%", "hours": "0.00", "score": "0.00", "dcount": "+0;-0;0",
                  "drate": "+0.0%;-0.0%;0.0%", "dhours": "+0.00;-0.00;0.00", "dscore": "+0.00;-0.00;0.00"}
WIDTH_SAMPLE = 2000  # rows looked at for column widths

SHEETS = {"summary": ("汇总", "Summary"), "tickets": ("工单明细", "Tickets"), "contacts": ("沟通记录", "Contacts"),
          "trends": ("趋势", "Trends"), "cases": ("典型案例", "Typical cases"),
          "actions": ("改进措施", "Improvement actions")}

TREND_COLUMNS = (
    ("label", ("周期", "Period"), "text", 24), ("from", ("开始日期", "From"), "date", 0),
    ("until", ("结束日期", "Until"), "date", 0), ("tickets", ("工单数", "Tickets"), "count", 0),
    ("sla_response_rate", ("首次响应达成率", "Response SLA rate"), "rate", 0),
    ("sla_resolve_rate", ("解决时限达成率", "Resolve SLA rate"), "rate", 0),
    ("satisfaction_mean", ("满意度均分", "Mean satisfaction"), "score", 0),
    ("satisfied_rate", ("满意率(4-5分)", "Satisfied (4-5)"), "rate", 0),
)


@dataclass
class Written:
    """What export() wrote."""

    path: Path
    tickets: int
    contacts: int
    report: dict
    problems: list[str] = field(default_factory=list)


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
    if contents.cases:  # (a period without typical cases keeps the four sheets)
        _listing(wb.create_sheet(_say(SHEETS["cases"], language)), CASE_COLUMNS, contents.cases, language)
    if contents.actions:  # (likewise a period without improvement actions)
        _listing(wb.create_sheet(_say(SHEETS["actions"], language)), ACTION_COLUMNS, contents.actions, language)
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
            if v[:1] in GUARD_FIRST or len(v) > MAX_CELL or (odd and _ILLEGAL.search(v)):
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
    generated = to_minute(data["generated_at"])
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
