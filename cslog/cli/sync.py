"""Commands for teams with several clones: sync, setup-git, and the merge driver git calls."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cslog.cli.app import app, emit, say, state
from cslog.errors import ExitCode

SHOWN_IDS = 10


def _ids(ids: list[str]) -> str:
    shown = " ".join(ids[:SHOWN_IDS])
    return shown + (f" and {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else "")


@app.command()
def sync(
    ctx: typer.Context,
    remote: Annotated[Optional[str], typer.Option("--remote", help="The remote to sync with (default: the "
                                                  "branch's upstream, or the only remote).")] = None,
):
    """Pull, reconcile and push with the team's shared repository.

    Fetches, renumbers records this clone created under IDs someone else pushed meanwhile (prints
    `old -> new` on stdout), merges (records through `cslog merge-driver`), checks what would go out
    (exit 1 with the problems, nothing pushed), pushes, and tries again when someone pushed in between.
    What came in and went out is said on stderr.

    Example: cslog sync --remote origin
    """
    from cslog import sync as sync_mod

    st = state(ctx)
    result = sync_mod.sync(st.store, actor=st.actor, now=st.now, remote=remote, notify=say,
                           on_renumber=lambda old, new: emit(f"{old} -> {new}"))
    where = f"{result.remote}/{result.branch}"
    if result.incoming:
        say(f"in:  {len(result.incoming)} record(s) from {where}: {_ids(result.incoming)}")
    for note in result.notes:
        say(f"merged {note}")
    if result.problems:
        for problem in result.problems:
            emit(str(problem))
        say(f"not pushed: {len(result.problems)} problem(s) in what would go out; fix them, commit, "
            "then `cslog sync` again")
        raise typer.Exit(ExitCode.FOUND)
    if result.pushed:
        say(f"out: {len(result.outgoing)} record(s) to {where}"
            + (f": {_ids(result.outgoing)}" if result.outgoing else ""))
    if not result.incoming and not result.pushed:
        say(f"up to date with {where}")


@app.command("setup-git")
def setup_git(
    ctx: typer.Context,
    hook: Annotated[bool, typer.Option("--hook", help="Also install a pre-commit hook that runs `cslog check` "
                                       "on the record files a commit touches.")] = False,
    station: Annotated[Optional[str], typer.Option("--station", help="This clone's short code for {station} "
                                                   "in ID formats (kept in the clone's git config).")] = None,
):
    """Set a clone up: merge driver, .gitattributes, hook.

    Installs the record merge driver in .git/config and the .gitattributes rules.

    `cslog init` does this for new repositories; run it once in every fresh `git clone`. Commits
    .gitattributes when it lacked the rules.

    Example: cslog setup-git --station BJ --hook
    """
    from cslog import sync as sync_mod

    st = state(ctx)
    result = sync_mod.setup_git(st.store, actor=st.actor, now=st.now, hook=hook, station=station, commit=st.commit)
    say("merge driver installed" + (", .gitattributes updated" if result.attributes_changed else "")
        + (f", station {result.station}" if result.station else "")
        + (f", pre-commit hook {result.hook}" if result.hook else ""))


@app.command("merge-driver")
def merge_driver(
    base: Annotated[Path, typer.Argument(help="%O: the common ancestor's version.")],
    ours: Annotated[Path, typer.Argument(help="%A: our version; the merged record is written here.")],
    theirs: Annotated[Path, typer.Argument(help="%B: their version.")],
    path: Annotated[str, typer.Argument(help="%P: the file's path in the repository.")],
):
    """Merge two versions of a record (git calls this).

    Fields three-way, timelines united and ordered by time, lists united; a field both sides changed
    goes to the side with the later event, and the other value is noted. Exit 0 when merged; 1 (with
    our version left untouched, never conflict markers) when it cannot, e.g. an ID collision.

    Example: cslog merge-driver base.yaml ours.yaml theirs.yaml tickets/2026/11/CW202611220001.yaml
    """
    from cslog import sync as sync_mod

    outcome = sync_mod.run_driver(base, ours, theirs, path)
    for message in outcome.messages:
        say(message)
    raise typer.Exit(outcome.exit_code)
