"""The agent's desk (design 9.4): set and edit a record's fields, find a caller, attach a file, mark a follow-up
done. Each parses, makes one call, and says what happened on stderr (data on stdout)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cslog.cli.app import AllowPii, app, check_format, emit, say, state

RecordId = Annotated[str, typer.Argument(metavar="ID", help="Ticket, contact, customer or action ID.")]


def _said(done, language: str) -> None:
    from cslog.model import field_label
    from cslog.render.record import cell

    for name, old, new in done.changes:
        say(f"{done.record.id}: {field_label(name, language, done.record.kind)} {cell(old, name, language) or '-'} → "
            f"{cell(new, name, language) or '-'}")


@app.command("set")
def set_(
    ctx: typer.Context,
    record_id: RecordId,
    assignments: Annotated[list[str], typer.Argument(metavar="FIELD=VALUE...", help="priority=紧急, "
                                                     "planned_at='2026-11-25 18:00', tags+=物流, phone=13912345678; "
                                                     "an empty value clears the field.")],
    reason: Annotated[Optional[str], typer.Option(help="Why (kept with each change in the timeline).")] = None,
    allow_pii: AllowPii = False,
):
    """Change fields of a ticket, contact, customer or improvement action; each change is a `changed` event; one commit.

    Example: cslog set CW202611220001 priority=紧急 category=产品质量-物流延误 --reason "客户再次来电"
    """
    from cslog.ops import change

    st = state(ctx)
    done = change.set_fields(st.store, record_id, assignments, actor=st.actor, now=st.now, reason=reason,
                             allow_pii=allow_pii, commit=st.commit)
    _said(done, st.store.settings.language)


@app.command()
def edit(
    ctx: typer.Context,
    record_id: RecordId,
    reason: Annotated[Optional[str], typer.Option(help="Why (kept with each change in the timeline).")] = None,
    allow_pii: AllowPii = False,
):
    """Edit a record in $EDITOR; checked on save (the editor comes back with the problems on top until it is
    valid, or left unchanged or emptied to give up); each changed field is a `changed` event; one commit.

    Example: cslog edit GT202611220001   (with EDITOR=nano, or VISUAL, set)
    """
    from cslog.editor import edit_record_text
    from cslog.ops import change

    st = state(ctx)
    store = st.store
    record = store.read(record_id)
    done = edit_record_text(record.text, f"{record.id}.yaml", lambda text: change.apply_edit(
        store, record_id, text, actor=st.actor, now=st.now, reason=reason, allow_pii=allow_pii, commit=st.commit))
    if done is None:
        say(f"{record_id}: no change; nothing written")
        return
    _said(done, store.settings.language)


@app.command()
def find(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="A name, the last 4 or more digits of a phone, an ID "
                                        "(or its start), or words of a ticket's title.")],
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many lines.")] = 50,
):
    """Find a customer while the phone rings (调取客户历史记录): customers by name, phone or ID; tickets and
    contacts by ID or title words. Customers first, then the newest records; open tickets marked ●.

    Example: cslog find 5678
    """
    from cslog.ops import find as finder
    from cslog.render.find import found_table
    from cslog.render.text import to_json

    check_format(format, ("table", "json"))
    st = state(ctx)
    rows = finder.find(st.store, text, limit)
    if format == "json":
        emit(to_json(rows))
    elif rows:
        emit(found_table(rows, st.store.settings.language))
    else:
        say(f"nothing matches {text!r}")


@app.command()
def attach(
    ctx: typer.Context,
    record_id: RecordId,
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="The files (photos, videos, recordings).")],
    note: Annotated[Optional[str], typer.Option(help="What they are (kept with them).")] = None,
):
    """Attach files to a record: copied into attachments/<ID>/, listed with their sha256 and size; one commit.
    A file over attachments.max_mb (default 20) is refused: keep such files in git LFS.

    Example: cslog attach CW202611220001 故障视频.mp4 截图.png --note 客户提供
    """
    from cslog.ops import attach as attaching

    st = state(ctx)
    record, added = attaching.attach(st.store, record_id, list(files), actor=st.actor, now=st.now, note=note,
                                     commit=st.commit)
    for item in added:
        emit(f"{attaching.FOLDER}/{record.id}/{item['file']}")
    say(f"{record.id}: attached {len(added)} file(s)")


@app.command()
def followed(
    ctx: typer.Context,
    contact_id: Annotated[str, typer.Argument(metavar="ID", help="Contact ID, e.g. GT202611220001.")],
    note: Annotated[Optional[str], typer.Option(help="What was done.")] = None,
):
    """Mark a contact's follow-up (提醒节点) done; `overdue` lists it no more.

    Example: cslog followed GT202611220001 --note 已回电确认收货
    """
    from cslog.ops.attach import followed as mark

    st = state(ctx)
    record = mark(st.store, contact_id, actor=st.actor, now=st.now, note=note, commit=st.commit)
    from cslog.render.record import cell

    say(f"{record.id}: followed up at {cell(record.doc['followed_up_at'], 'followed_up_at')}")
