"""`cslog import`: bring in the team's existing spreadsheets (xlsx, csv)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cslog.cli.app import app, check_format, emit, say, state
from cslog.cli.records import kind_word
from cslog.errors import UsageError

COLUMNS = ["row", "kind", "id", "customer", "title", "status", "note"]
HEADERS = {"zh": {"row": "行", "kind": "类别", "id": "编号", "customer": "客户", "title": "标题/名称",
                  "status": "状态", "note": "说明"},
           "en": {"row": "Row", "kind": "Kind", "id": "ID", "customer": "Customer", "title": "Title/name",
                  "status": "Status", "note": "Note"}}


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The spreadsheet: .xlsx, or .csv (UTF-8 or GBK).")],
    kind: Annotated[Optional[str], typer.Option("--kind", help="ticket, contact or customer (default: guessed "
                                                "from the headers).")] = None,
    mapping: Annotated[Optional[Path], typer.Option("--mapping", help="YAML file for other headers: columns: "
                                                    "{表头: field}, values: {field: {原值: code}}, defaults: "
                                                    "{field: value}.")] = None,
    sheet: Annotated[Optional[str], typer.Option("--sheet", help="The worksheet to read (default: the first "
                                                 "one with known headers).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be created; write nothing.")] = False,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Import the valid rows and list the "
                                               "others on stderr (default: import nothing if a row is "
                                               "invalid).")] = False,
    allow_pii: Annotated[bool, typer.Option("--allow-pii", help="Keep identity/bank-card numbers (recorded in "
                                            "each record).")] = False,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
):
    """Bring in a spreadsheet: one record per row, every row checked first, all written in one commit.

    The seeds' headers are understood (工单编号, 客户名称/编号, 联系方式, 问题类型, 紧急程度, 问题描述, 处理人,
    处理进度, 任务开始时间, 实际完成时间, 客户满意度, 回访记录, 归档状态, 备注 ...); other headers need
    --mapping. Missing customers are created by name; a ticket's timeline is rebuilt from its row.
    Prints one line per record made; problems as `file:row: column: message`.

    Example: cslog import 协作任务跟踪表.xlsx --dry-run
    """
    from cslog import importer, render
    from cslog.model import kind_label

    check_format(format, ("table", "json"))
    st = state(ctx)
    store = st.store
    engine, plan = importer.plan_import(store, file, actor=st.actor, now=st.now, kind=kind and kind_word(kind),
                                        mapping=mapping, sheet=sheet, allow_pii=allow_pii)
    for warning in plan.warnings:
        say(f"warning: {warning}")
    for problem in plan.problems:
        say(str(problem))
    if plan.problems:
        rows = ", ".join(str(r) for r in plan.bad_rows)
        if not skip_invalid:
            raise UsageError(f"{len(plan.bad_rows)} invalid row(s) in {file.name} (rows {rows}): nothing imported",
                             hint="fix them, or pass --skip-invalid to import the other rows")
        say(f"skipped {len(plan.bad_rows)} invalid row(s): {rows}")
        plan = plan.without_invalid()
        if not plan.entries:
            raise UsageError(f"no valid row in {file.name}: nothing imported")
    if dry_run:
        engine.preview(plan)
    else:
        engine.apply(plan, commit=st.commit)
    rows = importer.summary_rows(plan)
    language = store.settings.language
    if format == "json":
        emit(render.to_json(rows))
    else:
        for row in rows:
            row["kind"] = kind_label(row["kind"], language)
        emit(render.table(rows, COLUMNS, language, clip_at={"title": 40}, headers=HEADERS[language]))
    done = "would import" if dry_run else "imported"
    say(f"{done} {importer.counts(plan)} from {file.name}" + (" (dry run: nothing written)" if dry_run else "")
        + (f" in commit {plan.commit_id[:10]}" if plan.commit_id else ""))
