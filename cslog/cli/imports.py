"""`cslog import`: bring in the team's existing spreadsheets (xlsx, csv)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cslog.cli.app import app, check_format, emit, say, state
from cslog.cli.records import kind_word


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
    from cslog.ops.imports import import_file
    from cslog.render.record import import_table
    from cslog.render.text import to_json

    check_format(format, ("table", "json"))
    st = state(ctx)
    done = import_file(st.store, file, actor=st.actor, now=st.now, kind=kind and kind_word(kind), mapping=mapping,
                       sheet=sheet, allow_pii=allow_pii, skip_invalid=skip_invalid, dry_run=dry_run,
                       commit=st.commit, notify=say)
    emit(to_json(done.rows) if format == "json" else import_table(done.rows, st.store.settings.language))
    say(done.said)
