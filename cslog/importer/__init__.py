"""Bringing in the team's spreadsheets (xlsx, csv): the seeds' headers and values become records, every row checked first.

The pipeline reads like the file list: read the sheet and find the header row (`sheet`) → map headers
to fields (`vocab`) → turn each cell into a value (`values`) and each row into a record and the
customers it names (`rows`) → report every problem with its row and column, and write everything in
one transaction, one commit (`plan`).
"""
from cslog.importer.plan import Importer, Plan, counts, plan_import, summary_rows

__all__ = ["Importer", "Plan", "counts", "plan_import", "summary_rows"]
