"""The index command: rebuild .cslog/index.sqlite, the cache that keeps reading commands fast."""
from __future__ import annotations

from typing import Annotated

import typer

from cslog.cli.app import app, say, state


@app.command()
def reindex(
    ctx: typer.Context,
    check_only: Annotated[bool, typer.Option("--changes", help="Only bring the index up to date and say what "
                                             "changed, instead of rebuilding it.")] = False,
):
    """Rebuild the index (.cslog/index.sqlite) from the record files.

    The index is a disposable cache: every reading command notices added, edited and removed files by
    itself (also edits that put the modification time back), and a damaged index is rebuilt with a warning.
    Rebuild by hand to measure, or to start afresh. Reading commands take --no-cache to bypass it.

    Example: cslog reindex
    """
    from cslog.ops.index import reindex as rebuild

    st = state(ctx)
    changes = rebuild(st.store, full=not check_only)
    if changes.rebuilt:
        say(f"indexed {len(changes.added)} file(s)")
    else:
        say(f"{len(changes.added)} added, {len(changes.modified)} changed, {len(changes.removed)} removed")
