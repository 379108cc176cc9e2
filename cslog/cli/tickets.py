"""Commands that move tickets along: status, assign, claim, reply, note, escalate, review, rate, callback, link,
and history. Each parses, calls one action, and says what happened on stderr."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from cslog.cli.app import AllowPii, app, check_format, emit, say, state

TicketId = Annotated[str, typer.Argument(metavar="ID", help="Ticket ID, e.g. CW202611220001.")]


def _moved(record, language: str) -> None:
    """The new status on stdout (data), and the move in words on stderr."""
    from cslog.model import STATUS

    event = next((e for e in reversed(record.doc.get("timeline") or []) if e.get("kind") in ("status", "escalated")),
                 {})
    before, after = event.get("from"), record.doc.get("status")
    say(f"{record.id}: {STATUS.label(before, language)} → {STATUS.label(after, language)}"
        if before else f"{record.id}: {STATUS.label(after, language)}")
    emit(str(after))


@app.command()
def status(
    ctx: typer.Context,
    ticket_id: TicketId,
    new_status: Annotated[str, typer.Argument(metavar="STATUS", help="in_progress, waiting, escalated, resolved, "
                                              "closed (or 处理中, 等待客户, 需升级, 已解决, 已关闭).")],
    note: Annotated[Optional[str], typer.Option(help="What happened (kept in the timeline).")] = None,
    solution: Annotated[Optional[str], typer.Option(help="解决方案: needed to resolve a complaint, fault or "
                                                    "repair; sets the ticket's solution.")] = None,
    reason: Annotated[Optional[str], typer.Option(help="Why: needed to close a new ticket, to reopen a closed "
                                                  "one, to escalate, and with --adopted/--rejected.")] = None,
    category: Annotated[Optional[str], typer.Option(help="问题分类, e.g. 产品质量-物流延误 (closing needs one).")] = None,
    cause: Annotated[Optional[str], typer.Option(help="原因分析: sets the ticket's cause.")] = None,
    compensation: Annotated[Optional[str], typer.Option(help="补偿措施, e.g. 运费补偿20元.")] = None,
    decision: Annotated[Optional[bool], typer.Option("--adopted/--rejected", help="Suggestions (建议): adopted "
                                                     "(采纳) or rejected (不采纳), with --reason.")] = None,
    skip_callback: Annotated[bool, typer.Option("--skip-callback", help="Close a complaint or repair without the "
                                                "callback (回访) it asks for, with --reason (recorded).")] = False,
    allow_pii: AllowPii = False,
):
    """Move a ticket along the workflow; prints the new status.

    new → in_progress, waiting, escalated, resolved, closed (--reason); in_progress, waiting and escalated →
    each other and resolved; resolved → closed, in_progress (reopen); closed → in_progress (--reason).
    Closing needs the fields `close_requires` lists in cslog.yaml (default: category; solution too for
    complaints, faults and repairs), and for the types that ask for a callback (回访: complaints, repairs)
    a callback first, or --skip-callback --reason. A suggestion is answered with --adopted or --rejected and
    --reason.

    Example: cslog status CW202611220001 resolved --solution "清理缓存后恢复登录" --category 技术故障-登录
    """
    from cslog.ops import tickets

    st = state(ctx)
    record = tickets.change_status(
        st.store, ticket_id, new_status, note=note, solution=solution, reason=reason, category=category, cause=cause,
        compensation=compensation, decision=None if decision is None else "adopted" if decision else "rejected",
        skip_callback=skip_callback, allow_pii=allow_pii, actor=st.actor, now=st.now, commit=st.commit)
    _moved(record, st.store.settings.language)


@app.command()
def assign(
    ctx: typer.Context,
    ticket_id: TicketId,
    owner: Annotated[str, typer.Argument(metavar="OWNER", help="第一责任人 (an agent of cslog.yaml when it lists "
                                         "them).")],
    department: Annotated[Optional[str], typer.Option(help="Department (default: the owner's, from "
                                                      "cslog.yaml).")] = None,
    collaborator: Annotated[Optional[list[str]], typer.Option("--collaborator", help="协助人 to add "
                                                              "(repeatable).")] = None,
    cc: Annotated[Optional[list[str]], typer.Option("--cc", help="抄送 to add (repeatable).")] = None,
):
    """Set a ticket's owner (第一责任人), department, collaborators and cc.

    Setting the owner counts as claiming the ticket; collaborators (协助人) and cc (抄送) are added to
    those already there.

    Example: cslog assign CW202611220001 小明 --department 客服部 --collaborator 技术小强 --cc 主管小华
    """
    from cslog.ops import tickets

    st = state(ctx)
    record = tickets.assign(st.store, ticket_id, owner, department=department, collaborators=collaborator or (),
                            cc=cc or (), actor=st.actor, now=st.now, commit=st.commit)
    say(f"{record.id}: owner {record.doc.get('owner')}"
        + (f" ({record.doc['department']})" if record.doc.get("department") else ""))


@app.command()
def claim(
    ctx: typer.Context,
    ticket_id: TicketId,
):
    """Take a ticket (认领): you become its owner.

    Who you are comes from --as, $CSLOG_AGENT or git's user.name. Claiming a ticket assigned to you
    confirms it; a ticket owned by someone else is handed over with `cslog assign`.

    Example: cslog --as 小明 claim CW202611220001
    """
    from cslog.ops import tickets

    st = state(ctx)
    record = tickets.claim(st.store, ticket_id, actor=st.actor, now=st.now, commit=st.commit)
    say(f"{record.id}: owner {record.doc.get('owner')}")


@app.command()
def reply(
    ctx: typer.Context,
    ticket_id: TicketId,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="What the customer was told.")],
    allow_pii: AllowPii = False,
):
    """Record a customer-facing update (回复客户).

    It is what the customer was told, and it restarts the SLA update clock.

    Example: cslog reply CW202611220001 "已转技术部排查,预计今日13:00前答复"
    """
    from cslog.ops import tickets

    st = state(ctx)
    record = tickets.reply(st.store, ticket_id, text, allow_pii=allow_pii, actor=st.actor, now=st.now,
                           commit=st.commit)
    say(f"{record.id}: reply recorded")


@app.command()
def note(
    ctx: typer.Context,
    ticket_id: TicketId,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="The internal progress or decision.")],
    percent: Annotated[Optional[int], typer.Option(help="Progress, 0-100 (进度百分比).", min=0, max=100)] = None,
    decision: Annotated[bool, typer.Option("--decision", help="A key decision (关键决策), e.g. a meeting's "
                                           "conclusion.")] = False,
    allow_pii: AllowPii = False,
):
    """Record internal progress, or a key decision (关键决策).

    Example: cslog note CW202611220001 "技术小强反馈为缓存问题" --percent 50
    """
    from cslog.ops import tickets

    st = state(ctx)
    record = tickets.note(st.store, ticket_id, text, percent=percent, decision=decision, allow_pii=allow_pii,
                          actor=st.actor, now=st.now, commit=st.commit)
    say(f"{record.id}: {'decision' if decision else 'note'} recorded")


@app.command()
def escalate(
    ctx: typer.Context,
    ticket_id: TicketId,
    reason: Annotated[str, typer.Option(help="Why it needs escalating (升级原因).")],
    to: Annotated[Optional[str], typer.Option("--to", help="Who takes it up, e.g. the duty manager.")] = None,
    allow_pii: AllowPii = False,
):
    """Escalate a ticket (需升级); prints the new status.

    The status becomes escalated; the reason and whom it goes to (--to) are kept in the timeline.

    Example: cslog escalate CW202611220001 --reason "客户坚持要求退款" --to 客服经理
    """
    from cslog.ops import tickets

    st = state(ctx)
    record = tickets.escalate(st.store, ticket_id, reason=reason, to=to, allow_pii=allow_pii, actor=st.actor,
                              now=st.now, commit=st.commit)
    _moved(record, st.store.settings.language)


@app.command()
def review(
    ctx: typer.Context,
    ticket_id: TicketId,
    approve: Annotated[bool, typer.Option("--approve", help="The resolution meets the standard.")] = False,
    return_: Annotated[bool, typer.Option("--return", help="Send it back (退回补充): to in_progress; needs "
                                          "--comment.")] = False,
    comment: Annotated[Optional[str], typer.Option(help="What is missing, or a remark.")] = None,
    allow_pii: AllowPii = False,
):
    """Review a resolved ticket (主管审核); prints the status.

    --approve it, or --return it with a comment saying what is missing (退回补充): it goes back to
    in_progress.

    With review_required: true in cslog.yaml, a resolved ticket closes only after an approval.

    Example: cslog review CW202611220001 --return --comment "未向客户解释原因"
    """
    from cslog.ops import tickets
    from cslog.errors import UsageError

    if approve == return_:
        raise UsageError("say either --approve or --return", hint="cslog review ID --approve")
    st = state(ctx)
    record = tickets.review(st.store, ticket_id, approve=approve, comment=comment, allow_pii=allow_pii,
                            actor=st.actor, now=st.now, commit=st.commit)
    if approve:
        say(f"{record.id}: review approved")
        emit(str(record.doc.get("status")))
    else:
        _moved(record, st.store.settings.language)


@app.command()
def rate(
    ctx: typer.Context,
    ticket_id: TicketId,
    score: Annotated[int, typer.Argument(metavar="SCORE", help="1-5: 1 非常不满意 … 5 非常满意.")],
    comment: Annotated[Optional[str], typer.Option(help="The customer's words (客户评价).")] = None,
    efficiency: Annotated[Optional[int], typer.Option(help="Speed, 1-5 (处理效率).")] = None,
    attitude: Annotated[Optional[int], typer.Option(help="Attitude, 1-5 (服务态度).")] = None,
    solution: Annotated[Optional[int], typer.Option(help="The solution, 1-5 (解决方案).")] = None,
    allow_pii: AllowPii = False,
):
    """Record the customer's satisfaction (客户满意度), 1-5.

    A score of 2 or less reopens nothing, but `cslog overdue` lists the ticket as followup until someone acts.

    Example: cslog rate CW202611220001 5 --comment "换货速度比预期快,感谢处理" --efficiency 5
    """
    from cslog.ops import tickets

    st = state(ctx)
    record = tickets.rate(st.store, ticket_id, score, comment=comment, efficiency=efficiency, attitude=attitude,
                          solution=solution, allow_pii=allow_pii, actor=st.actor, now=st.now, commit=st.commit)
    say(f"{record.id}: satisfaction {score}")
    _followup(record)


@app.command()
def callback(
    ctx: typer.Context,
    ticket_id: TicketId,
    result: Annotated[str, typer.Option(help="What the customer said (回访结果).")],
    solved: Annotated[Optional[bool], typer.Option("--solved/--not-solved", help="Is the problem gone for "
                                                   "good?")] = None,
    score: Annotated[Optional[int], typer.Option(help="Satisfaction at the callback, 1-5.")] = None,
    allow_pii: AllowPii = False,
):
    """Record a callback (回访) after the resolution.

    --not-solved puts the ticket back to work (in_progress, 回访未解决: its resolve clock runs again); a score
    of 2 or less reopens nothing, but `cslog overdue` lists the ticket as followup until someone acts.

    Example: cslog callback CW202611220001 --result "客户确认已可正常登录" --solved --score 5
    """
    from cslog.ops import tickets

    st = state(ctx)
    record = tickets.callback(st.store, ticket_id, result=result, solved=solved, score=score, allow_pii=allow_pii,
                              actor=st.actor, now=st.now, commit=st.commit)
    say(f"{record.id}: callback recorded")
    if solved is False:
        _moved(record, st.store.settings.language)  # back to work: 回访未解决
    _followup(record)


def _followup(record) -> None:
    from cslog import workflow

    why = workflow.followup_reason(record.doc)
    if why:
        say(f"{record.id}: {why}: `cslog overdue` lists it as followup until someone acts "
            f"(e.g. cslog status {record.id} in_progress)")


@app.command()
def route(
    ctx: typer.Context,
    ticket_id: TicketId,
):
    """Apply cslog.yaml's routing rules (分派规则) to a ticket: the first that matches gives its department and
    owner (an `assigned` event by the rule's name).

    Example: cslog route CW202611220001
    """
    from cslog.ops import tickets

    st = state(ctx)
    record = tickets.route(st.store, ticket_id, actor=st.actor, now=st.now, commit=st.commit)
    event = record.doc["timeline"][-1]
    say(f"{record.id}: {event.get('department') or '-'} / {event.get('owner') or '-'} ({event.get('by')})")


@app.command()
def link(
    ctx: typer.Context,
    ticket_id: TicketId,
    others: Annotated[list[str], typer.Argument(metavar="OTHER...", help="The tickets to relate it to.")],
):
    """Relate tickets to each other (关联工单), both ways.

    Example: cslog link CW202611220001 CW202611220002 CW202611220003
    """
    from cslog.ops import tickets

    st = state(ctx)
    record = tickets.link(st.store, ticket_id, others, actor=st.actor, now=st.now, commit=st.commit)
    say(f"{record.id}: related {', '.join(record.doc.get('related') or [])}")


@app.command()
def history(
    ctx: typer.Context,
    record_id: Annotated[str, typer.Argument(metavar="ID", help="Ticket, contact, customer or action ID.")],
    format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
):
    """Show a record's changes from git, field by field.

    One block per commit, oldest first: author, time, subject, each changed field as old → new,
    and the timeline entries the commit added.

    Example: cslog history CW202611220001 --format json
    """
    from cslog.ops import records as ops
    from cslog.render.record import history_text
    from cslog.render.text import to_json

    check_format(format, ("text", "json"))
    st = state(ctx)
    entries = ops.history(st.store, record_id)
    if not entries:
        say(f"{record_id}: no commits of this record yet")
    if format == "json":
        emit(to_json([e.to_dict() for e in entries]))
    else:
        emit(history_text(entries, st.store.settings.language))
