"""Cells for openpyxl's write-only sheets: plain values where possible, styled or guarded cells where needed."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from openpyxl.cell import Cell as _CELL

from cslog.export.rows import MAX_CELL, clean
from cslog.render.text import GUARD_FIRST, needs_guard


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
            if value[:1] in GUARD_FIRST or len(value) > MAX_CELL:
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
