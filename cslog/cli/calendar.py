"""`cslog calendar`: the working calendar's year, to check against the State Council's notice."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from cslog.cli.app import app, check_format, emit, say, state


@app.command("calendar")
def calendar_command(
    ctx: typer.Context,
    year: Annotated[Optional[int], typer.Argument(metavar="[YEAR]", help="The year (default: this year).")] = None,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
):
    """List a year's days off and make-up working days (调休) and where each comes from: the holiday library
    or cslog.yaml (calendar.extra_holidays / extra_workdays).

    Warns when the library has no official make-up days for the year yet (its dates are estimates): add
    the State Council's notice to calendar.extra_workdays.

    Example: cslog calendar 2026
    """
    from cslog.ops.calendar import calendar_year
    from cslog.render.calendar import calendar_table
    from cslog.render.text import to_json

    check_format(format, ("table", "json"))
    st = state(ctx)
    store = st.store
    found = calendar_year(store, year if year is not None else store.calendar().local(st.now).year)
    for line in found.warnings:
        say(line)
    emit(to_json(found.to_dict()) if format == "json" else calendar_table(found.days, store.settings.language))
