"""The command line: typer commands that parse, call one operation, and render. The only place that prints."""
from __future__ import annotations

from cslog.cli.app import app, click_group
from cslog.cli import records  # noqa: F401  (registers init, new, show, list, check)
from cslog.cli import tickets  # noqa: F401  (status, assign, claim, reply, note, escalate, review, rate, callback, link, history)
from cslog.cli import overdue  # noqa: F401
from cslog.cli import reports  # noqa: F401  (report, export)
from cslog.cli import sync  # noqa: F401
from cslog.cli import imports  # noqa: F401
from cslog.cli import index  # noqa: F401  (reindex)
from cslog.cli import calendar  # noqa: F401
from cslog.cli import desk  # noqa: F401  (set, edit, find, attach, followed)
from cslog.cli import cases  # noqa: F401  (case, handbook)
from cslog.cli import actions  # noqa: F401  (action new, done, drop, review)


def main() -> None:
    click_group(app)(prog_name="cslog")
