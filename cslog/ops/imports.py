"""The import command's use-case (cli/imports.py): a spreadsheet planned, checked, and written in one commit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from cslog.errors import UsageError
from cslog.store import Store


@dataclass
class Imported:
    """What an import made (or, dry, would make): one summary row per record, and the sentence saying it."""

    rows: list[dict]
    said: str


def import_file(store: Store, file: Path, *, actor: str, now: datetime, kind: str | None = None,
                mapping: Path | None = None, sheet: str | None = None, allow_pii: bool = False,
                skip_invalid: bool = False, dry_run: bool = False, commit: bool = True,
                notify: Callable[[str], None] = lambda _message: None) -> Imported:
    """Read, check and (unless dry_run) write a spreadsheet's records. Warnings and every row's problems go
    to notify; invalid rows refuse the whole import (UsageError) unless skip_invalid."""
    from cslog import importer
    from cslog.model import IMPORT_KINDS

    if kind is not None and kind not in IMPORT_KINDS:
        raise UsageError(f"a sheet holds tickets, contacts or customers, not {kind}s",
                         hint="improvement actions are made with `cslog action new`")
    if not dry_run:  # what a killed import left uncommitted is put back before the plan reads the repository
        from cslog.transaction import recover_now

        recover_now(store)
    engine, plan = importer.plan_import(store, file, actor=actor, now=now, kind=kind, mapping=mapping, sheet=sheet,
                                        allow_pii=allow_pii)
    for warning in plan.warnings:
        notify(f"warning: {warning}")
    for problem in plan.problems:
        notify(str(problem))
    if plan.problems:
        rows = ", ".join(str(r) for r in plan.bad_rows)
        if not skip_invalid:
            raise UsageError(f"{len(plan.bad_rows)} invalid row(s) in {file.name} (rows {rows}): nothing imported",
                             hint="fix them, or pass --skip-invalid to import the other rows")
        notify(f"skipped {len(plan.bad_rows)} invalid row(s): {rows}")
        plan = plan.without_invalid()
        if not plan.entries:
            raise UsageError(f"no valid row in {file.name}: nothing imported")
    if plan.entries:
        if dry_run:
            engine.preview(plan)
        else:
            engine.apply(plan, commit=commit)
    elif not plan.skipped:  # (every row imported before: nothing to write, and that is fine)
        raise UsageError(f"{file.name}: nothing to import")
    done = "would import" if dry_run else "imported"
    skipped = (f"; skipped {len(plan.skipped)} row(s) imported before (rows "
               f"{', '.join(str(r) for r, _id in plan.skipped[:10])}{' ...' if len(plan.skipped) > 10 else ''})"
               if plan.skipped else "")
    said = (f"{done} {importer.counts(plan)} from {file.name}" + (" (dry run: nothing written)" if dry_run else "")
            + (f" in commit {plan.commit_id[:10]}" if plan.commit_id else "") + skipped)
    return Imported(importer.summary_rows(plan), said)
