"""`cslog overdue`, the command cron runs."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from cslog.cli.app import FORMATS_TABLE, app, check_format, emit_pieces, say, state
from cslog.errors import ExitCode
from cslog.model import CLOCK_KINDS


@app.command()
def overdue(
    ctx: typer.Context,
    at: Annotated[Optional[str], typer.Option("--at", help="Judge the clocks as of this time instead of now "
                                              "(e.g. '2026-11-20 18:00').")] = None,
    within: Annotated[Optional[str], typer.Option("--within", help="Also list running clocks due this soon "
                                                  "(30m, 2h, 4bh, 1bd); they show negative overdue_minutes.")] = None,
    kind: Annotated[Optional[list[str]], typer.Option("--kind", help="Only this clock (repeatable): "
                                                      f"{', '.join(CLOCK_KINDS)}.")] = None,
    owner: Annotated[Optional[str], typer.Option(help="Only tickets of this owner (第一责任人).")] = None,
    department: Annotated[Optional[str], typer.Option(help="Only tickets of this department.")] = None,
    format: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Read every ticket file instead of the index "
                                           "(.cslog/index.sqlite).")] = False,
    raw: Annotated[bool, typer.Option("--raw", help="With --format csv: cells as they are; by default a cell "
                                      "a spreadsheet would run as a formula (=, +, -, @) starts with '.")] = False,
):
    """List breached SLA clocks and pending followups, most late first; made for cron.

    A clock that was already late when its ticket began to wait for the customer stays listed (the breach
    happened), marked with the status. Exits 0 when nothing is listed, 1 when something is (or a ticket file
    needs a look: it is named on stderr, left out), 2 on bad input. With nothing listed the table prints nothing at all (cron mails
    nothing), json prints [] and csv its header line.

    Example: cslog overdue --within 1h --kind resolve --format table
    """
    from cslog.ops import overdue as ops
    from cslog.render.overdue import overdue_text
    from cslog.timeutil import parse_time

    check_format(format, FORMATS_TABLE)
    st = state(ctx)
    store = st.store
    now = parse_time(at, store.settings.tz, "--at") if at else st.now
    found = ops.find_overdue(store, now, within=ops.parse_within(within), kinds=kind or (), owner=owner,
                             department=department, use_cache=not no_cache)
    for line in found.warnings:
        say(line)
    for problem in found.problems:
        say(f"warning: {problem} (left out)")
    emit_pieces(overdue_text(found.rows, format, store.settings.language, store.policy().pause_in, raw=raw))
    if found.rows or found.problems:
        raise typer.Exit(ExitCode.FOUND)


@app.command()
def notify(
    ctx: typer.Context,
    at: Annotated[Optional[str], typer.Option("--at", help="Judge the clocks as of this time instead of now.")] = None,
    within: Annotated[Optional[str], typer.Option("--within", help="Also send running clocks due this soon "
                                                  "(30m, 2h, 4bh, 1bd).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the messages instead of sending them.")] = False,
    digest: Annotated[bool, typer.Option("--digest", help="Send the daily digest instead: new, open, late and "
                                         "resolved since the last digest, by owner (e.g. each morning).")] = False,
    events: Annotated[bool, typer.Option("--events", help="Also send what happened since the last run to the "
                                         "people it concerns: assignments, collaborators and cc, escalations, "
                                         "returned reviews, resolutions.")] = False,
):
    """Send what `overdue` lists to cslog.yaml's notify targets: WeCom, DingTalk or Feishu group robots and
    e-mail, owners @-mentioned; quiet when there is nothing new (exit 0, no request); an item is sent again
    only when its state changes; a target that still fails after retries exits 3, the others are sent.

    Example: cslog notify --dry-run
    """
    from cslog.ops import notify as ops
    from cslog.ops.overdue import parse_within
    from cslog.timeutil import parse_time

    st = state(ctx)
    store = st.store
    if not store.settings.notify:
        say("cslog.yaml has no notify targets (notify: in cslog.yaml; cslog init writes an example)")
        return
    now = parse_time(at, store.settings.tz, "--at") if at else st.now
    done = ops.notify(store, now, parse_within(within), dry_run=dry_run, digest=digest, events=events)
    if dry_run:
        emit_pieces(message + "\n\n" for message in done.dry)
    for problem in done.failed:  # (what was sent is not said: cron mails whatever a job prints)
        say(f"error: {problem}")
    if done.failed:
        raise typer.Exit(ExitCode.OPERATIONAL)
