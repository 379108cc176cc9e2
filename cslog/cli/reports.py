"""Month-end commands: report (the period's figures) and export (the period's Excel workbook)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cslog.cli.app import app, check_format, emit, say, state

Month = Annotated[Optional[str], typer.Option("--month", help="The month, YYYY-MM (e.g. 2026-11).")]
Quarter = Annotated[Optional[str], typer.Option("--quarter", help="The quarter, YYYY-Qn (e.g. 2026-Q4).")]
Since = Annotated[Optional[str], typer.Option("--from", help="First day, YYYY-MM-DD (with --until, or until "
                                              "today).")]
Until = Annotated[Optional[str], typer.Option("--until", help="Last day INCLUDED, YYYY-MM-DD.")]
Streak = Annotated[int, typer.Option("--streak", min=1, help="Flag a category that has been the top category "
                                     "this many periods in a row (连续N个月TOP1).")]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Read every record file instead of the index "
                                       "(.cslog/index.sqlite).")]
NoMask = Annotated[bool, typer.Option("--no-mask", help="Write phone numbers and e-mail addresses in full "
                                      "(default: 138****5678).")]


def _period(ctx: typer.Context, month, quarter, since, until):
    from cslog import report

    st = state(ctx)
    period = report.parse_period(st.now, month=month, quarter=quarter, since=since, until=until)
    if not (month or quarter or since):
        say(f"period: {period.label} (the last full month; choose another with --month, --quarter or --from)")
    return st, period


@app.command("report")
def report_command(
    ctx: typer.Context,
    month: Month = None,
    quarter: Quarter = None,
    since: Since = None,
    until: Until = None,
    streak: Streak = 3,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    no_cache: NoCache = False,
):
    """The period's figures: volume by type, priority, status and channel, SLA rates, handling time,
    satisfaction, top categories, departments and owners, each against the previous period.

    A ticket counts in the period it was received in. Without a period option: the last full month.
    Clocks are judged now ($CSLOG_NOW when set). json prints the figures as data.

    Example: cslog report --month 2026-11 --format json
    """
    from cslog import report
    from cslog.render.report import report_text
    from cslog.render.text import to_json

    check_format(format, ("table", "json"))
    st, period = _period(ctx, month, quarter, since, until)
    store = st.store
    built = report.build(store, period, st.now, streak=streak, use_cache=not no_cache)
    for problem in built.problems:
        say(f"warning: not counted: {problem}")
    if format == "json":
        emit(to_json(built.data))
    else:
        emit(report_text(built.data, store.settings.org, store.settings.language))


@app.command("export")
def export_command(
    ctx: typer.Context,
    month: Month = None,
    quarter: Quarter = None,
    since: Since = None,
    until: Until = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="The workbook to write (default: "
                                                   "cslog-<period>.xlsx in the current folder).")] = None,
    no_mask: NoMask = False,
    streak: Streak = 3,
    no_cache: NoCache = False,
):
    """Write the period's Excel workbook: Summary (the report's figures), Tickets, Contacts and Trends
    sheets, with charts. Prints the path written.

    Example: cslog export --month 2026-10 -o 2026-10月报.xlsx
    """
    from cslog import export

    st, period = _period(ctx, month, quarter, since, until)
    path = output if output is not None else Path.cwd() / f"cslog-{period.slug}.xlsx"
    written = export.export(st.store, period, st.now, path, mask=not no_mask, streak=streak,
                            use_cache=not no_cache)
    for problem in written.problems:
        say(f"warning: not counted: {problem}")
    say(f"{written.tickets} tickets, {written.contacts} contact records")
    emit(str(path))
