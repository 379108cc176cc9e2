"""`cslog action new|done|drop|review` (design 9.5): the improvement actions (改进措施) the monthly review decides.
`cslog list actions`, `show`, `history` and `set` work on them as on the other records."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from cslog.cli.app import AllowPii, app, emit, say, state

action_app = typer.Typer(help="改进措施: the improvement actions the monthly review decides (new, done, drop, "
                              "review); `overdue` lists those past their due, `report` their effect.\n\n"
                              "Example: cslog action new --title 物流延误预警 --problem 产品质量-物流延误 --measure "
                              "\"超48小时未更新的运单每日推送运营部\" --owner 老周 --department 运营部 --due 2026-11-30",
                         no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                         pretty_exceptions_enable=False)
app.add_typer(action_app, name="action")

ActionId = Annotated[str, typer.Argument(metavar="ID", help="Action ID, e.g. GJ202611050001.")]


def _said(record, language: str) -> None:
    from cslog.model import ACTION_STATUS

    say(f"{record.id}: {ACTION_STATUS.label(record.doc.get('status'), language)}")
    emit(str(record.doc.get("status")))


@action_app.command("new")
def new(
    ctx: typer.Context,
    title: Annotated[str, typer.Option("--title", help="措施名称, one line.")] = "",
    problem: Annotated[str, typer.Option("--problem", help="The problem category it attacks, e.g. "
                                         "产品质量-物流延误 (its sub-categories count too).")] = "",
    measure: Annotated[str, typer.Option("--measure", help="改进措施: what will be done.")] = "",
    owner: Annotated[str, typer.Option("--owner", help="负责人.")] = "",
    department: Annotated[str, typer.Option("--department", help="责任部门.")] = "",
    due: Annotated[str, typer.Option("--due", help="完成期限, e.g. 2026-11-30 or '2026-11-30 18:00'.")] = "",
    ticket: Annotated[Optional[list[str]], typer.Option("--ticket", help="A ticket it answers (repeatable).")] = None,
    allow_pii: AllowPii = False,
):
    """Record an improvement action the review decided; prints its ID.

    Example: cslog action new --title 物流延误预警 --problem 产品质量-物流延误 --measure "超48小时未更新的运单每日推送运营部跟进" --owner 老周 --department 运营部 --due 2026-11-30
    """
    from cslog.ops.actions import new_action

    st = state(ctx)
    record = new_action(st.store, title=title, problem=problem, measure=measure, owner=owner, department=department,
                        due=due, tickets=ticket or (), actor=st.actor, now=st.now, allow_pii=allow_pii,
                        commit=st.commit, notify=say)
    from cslog.timeutil import to_minute

    say(f"{record.id}: {record.doc['title']} (due {to_minute(record.doc['due_at'])})")
    emit(record.id)


@action_app.command("done")
def done(
    ctx: typer.Context,
    action_id: ActionId,
    result: Annotated[str, typer.Option("--result", help="落实情况: what was done.")] = "",
    allow_pii: AllowPii = False,
):
    """Mark an open action done now, with what was done; prints the new status.

    Example: cslog action done GJ202610310001 --result "预警上线,每日推送运营部"
    """
    from cslog.ops.actions import done as mark_done

    st = state(ctx)
    _said(mark_done(st.store, action_id, result, actor=st.actor, now=st.now, allow_pii=allow_pii, commit=st.commit),
          st.store.settings.language)


@action_app.command("drop")
def drop(
    ctx: typer.Context,
    action_id: ActionId,
    reason: Annotated[str, typer.Option("--reason", help="Why it is given up.")] = "",
    allow_pii: AllowPii = False,
):
    """Give up an open action, with the reason; prints the new status.

    Example: cslog action drop GJ202610310002 --reason "供应商已更换,问题不再出现"
    """
    from cslog.ops.actions import drop as mark_dropped

    st = state(ctx)
    _said(mark_dropped(st.store, action_id, reason, actor=st.actor, now=st.now, allow_pii=allow_pii,
                       commit=st.commit),
          st.store.settings.language)


@action_app.command("review")
def review(
    ctx: typer.Context,
    action_id: ActionId,
    effective: Annotated[bool, typer.Option("--effective", help="It worked (`cslog report` shows whether its "
                                            "category fell).")] = False,
    not_effective: Annotated[bool, typer.Option("--not-effective", help="It did not work.")] = False,
    note: Annotated[Optional[str], typer.Option("--note", help="What the review saw.")] = None,
    allow_pii: AllowPii = False,
):
    """Say whether a done action worked (效果评估); a later review replaces an earlier one.

    Example: cslog action review GJ202610310001 --effective --note "11月物流延误投诉从12件降到4件"
    """
    from cslog import labels
    from cslog.errors import UsageError
    from cslog.ops.actions import review as reviewed

    if effective == not_effective:
        raise UsageError("say whether it worked: --effective or --not-effective (one of them)")
    st = state(ctx)
    record = reviewed(st.store, action_id, effective, note, actor=st.actor, now=st.now, allow_pii=allow_pii,
                      commit=st.commit)
    language = st.store.settings.language
    say(f"{record.id}: {labels.say(labels.EVENT_FIELDS['effective'], language)} {labels.yes_no(effective, language)}")
    emit("effective" if effective else "not-effective")
