"""The command line: typer commands that parse, call one operation, and render. The only place that prints."""
from __future__ import annotations

from cslog.cli.app import app, click_group
from cslog.cli import records  # noqa: F401  (registers init, new, show, list, check)
from cslog.cli import workflow  # noqa: F401
from cslog.cli import sla  # noqa: F401  (registers overdue)
from cslog.cli import report  # noqa: F401
from cslog.cli import sync  # noqa: F401
from cslog.cli import imports  # noqa: F401
from cslog.cli import index  # noqa: F401


def main() -> None:
    click_group(app)(prog_name="cslog")
