"""The period's workbook (design.md section 6): the report's figures and the listings, as an .xlsx file.

rows (the listings' rows, masked; the cell guards) -> cells (openpyxl's write-only cells) -> xlsx (the
sheets, charts and widths, saved atomically). Importing this package imports openpyxl.
"""
from cslog.export.rows import CONTACT_COLUMNS, MAX_CELL, TICKET_COLUMNS, Contents, clean, collect
from cslog.render.text import needs_guard
from cslog.export.xlsx import Written, display_width, export, write_workbook

__all__ = [
    "CONTACT_COLUMNS", "MAX_CELL", "TICKET_COLUMNS", "Contents", "Written", "clean", "collect", "display_width",
    "export", "needs_guard", "write_workbook",
]
