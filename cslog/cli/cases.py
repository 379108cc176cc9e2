"""The review meeting's commands (design 9.5): mark a typical case, write the 《服务经验手册》."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cslog.cli.app import app, emit, say, state
from cslog.cli.reports import Month, NoMask, Quarter, Since, Until, _period


@app.command()
def case(
    ctx: typer.Context,
    ticket_id: Annotated[str, typer.Argument(metavar="ID", help="A resolved ticket, e.g. CW202611220001.")],
    lesson: Annotated[str, typer.Option("--lesson", help="What the team learns from it (经验), for the "
                                        "handbook.")],
):
    """Mark a resolved ticket as a typical case (典型案例) with a lesson; several lessons allowed.

    Example: cslog case CW202610120001 --lesson "物流延误先核对单号,再主动告知客户预计到达时间"
    """
    from cslog.ops.cases import mark_case

    st = state(ctx)
    record = mark_case(st.store, ticket_id, lesson, actor=st.actor, now=st.now, commit=st.commit)
    say(f"{record.id}: typical case, {len(record.doc.get('lessons') or [])} lesson(s)")


@app.command()
def handbook(
    ctx: typer.Context,
    month: Month = None,
    quarter: Quarter = None,
    since: Since = None,
    until: Until = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="The Markdown file to write (default: "
                                                   "cslog-<period>.md in the current folder; - for stdout).")] = None,
    commit: Annotated[bool, typer.Option("--commit", help="File it as handbook/<period>.md in the repository, "
                                         "committed (the team's knowledge base).")] = False,
    no_mask: NoMask = False,
):
    """Write the period's 《服务经验手册》 in Markdown: its typical cases by category, each with the problem in
    the customer's words, the cause, the solution, the lessons and the ticket ID. Prints the path written.

    Example: cslog handbook --month 2026-10 --commit
    """
    from cslog.ops import cases as ops

    st, period = _period(ctx, month, quarter, since, until)
    count, text, written = ops.write_handbook(st.store, period, st.now, output=output, commit_as=st.actor if commit else None,
                                       mask=not no_mask, commit=st.commit)
    say(f"{count} typical case(s) in {period.label}")
    if str(output) == "-":
        emit(text)
    for path in written:
        emit(path)
