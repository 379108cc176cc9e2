"""Reading a spreadsheet (xlsx, or csv in any encoding Excel writes) and finding its header row below any title rows."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Callable

from cslog.errors import UsageError
from cslog.importer.vocab import HEADERS, IGNORE, Mapping, header_index, normalise_header

HEADER_SCAN_ROWS = 20  # the header row may sit below a title row or two


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass(frozen=True)
class Column:
    index: int
    header: str  # as written in the file
    field: str | None

    @property
    def where(self) -> str:
        return f"{self.header} (column {column_letter(self.index)})"


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


class Unsaved(str):
    """A formula cell whose value was never saved (a file written by a program, not Excel or WPS): the formula."""


def _xlsx_grid(path: Path, raw: bytes, wanted: str | None):
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), data_only=True)
        # the formulas themselves only when a formula cell has no saved value (read twice costs twice)
        formulas = openpyxl.load_workbook(io.BytesIO(raw), data_only=False) if _unsaved_formulas(raw) else None
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
            ws, written = book[name], formulas[name] if formulas is not None else None
            rows = []
            for cells in ws.iter_rows():
                values = [_cell(c.value) if c.value is not None or written is None else _unsaved(written, c)
                          for c in cells]
                if any(v is not None for v in values):
                    rows.append((cells[0].row, values))
            grids.append((name, rows))
        return grids
    finally:
        book.close()
        if formulas is not None:
            formulas.close()


# A formula cell closed without a value: `<f>…</f></c>`, `<f …/></c>` (or an empty `<v/>`).
_NO_VALUE = re.compile(rb"(?:</f>|<f[^>]*/>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>")


def _unsaved_formulas(raw: bytes) -> bool:
    """Whether some worksheet of the workbook holds a formula whose value was never saved."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            return any(_NO_VALUE.search(z.read(n)) for n in z.namelist() if n.startswith("xl/worksheets/"))
    except (zipfile.BadZipFile, KeyError, OSError):
        return True  # (openpyxl read it: look at the formulas the slow way)


def _unsaved(written: Any, cell: Any) -> Any:
    """An empty cell: the formula it holds, when it holds one (Unsaved), else None."""
    formula = written.cell(cell.row, cell.column).value
    return Unsaved(formula) if isinstance(formula, str) and formula.startswith("=") else None


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


def find_sheets(grids, source: str, recognise: Callable[[str], str | None]) -> list[Sheet]:
    """Every worksheet with a header row (a row among the first ones where the headers are known), in the
    workbook's order with the active one first; UsageError, listing the sheets, when none has one."""
    found = []
    for name, rows in grids:
        for i, (number, cells) in enumerate(rows[:HEADER_SCAN_ROWS]):
            filled = [c for c in cells if c is not None]
            hits = [c for c in filled if isinstance(c, str) and recognise(c)]
            if len(hits) >= 2 or (hits and len(hits) == len(filled)):
                columns = [Column(j, str(c), None) for j, c in enumerate(cells) if c is not None]
                found.append(Sheet(source=source, name=name, header_row=number, columns=columns, rows=rows[i + 1:]))
                break
    if found:
        return found
    sheets = f" (sheets: {', '.join(str(n) for n, _ in grids)})" if grids and grids[0][0] is not None else ""
    raise UsageError(f"{source}: no header row found{sheets}: expected column headers such as 工单编号, "
                     "客户名称, 问题类型, 紧急程度, 问题描述 in the first rows",
                     hint="map your own headers with --mapping F.yaml (columns: {表头: field})")


# --- mapping headers to fields -------------------------------------------------------------------------

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
