"""Commands that make, show, list and check records: init, new, show, list, check."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from cslog.cli.app import FORMATS_TABLE, app, check_format, emit, emit_pieces, interactive, say, state
from cslog.errors import ConfigError, ExitCode, UsageError

KIND_WORDS = {"ticket": "ticket", "tickets": "ticket", "工单": "ticket", "contact": "contact", "contacts": "contact",
              "沟通记录": "contact", "customer": "customer", "customers": "customer", "客户": "customer",
              "action": "action", "actions": "action", "改进措施": "action"}


def kind_word(value: str) -> str:
    try:
        return KIND_WORDS[value.lower()]
    except KeyError:
        raise UsageError(f"unknown record kind '{value}'", hint="use ticket, contact, customer or action") from None


@app.command()
def init(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Folder for the data repository (created if missing).")] = Path("."),
    org: Annotated[str, typer.Option("--org", help="Your organisation's name, shown in reports.")] = "",
    language: Annotated[str, typer.Option("--language", help="zh or en: labels in tables and exports.")] = "zh",
    station: Annotated[Optional[str], typer.Option("--station", help="This clone's short code for {station} "
                                                   "in ID formats (kept in the clone's git config).")] = None,
):
    """Create a data repository: cslog.yaml, schemas/, record folders, .gitignore, git, first commit.

    Example: cslog init desk --org 示例科技有限公司
    """
    from cslog.defaults import DEFAULTS
    from cslog.ops import records as ops
    from cslog.timeutil import clock_now, zone

    st = state(ctx)
    now = clock_now(zone(DEFAULTS["timezone"]), os.environ.get("CSLOG_NOW"))
    result = ops.init_repo(directory, org, language, st.actor_opt or os.environ.get("CSLOG_AGENT"), now,
                           station=station, commit=st.commit)
    say(f"initialised cslog repository in {result.root}" + (" (new git repository)" if result.git_initialised else ""))
    if result.joined is not None:
        say(f"  it joins the git repository at {result.joined}: its commits are that repository's "
            "(a new folder would have got a repository of its own)")


def _ask(missing: list[tuple[str, str]], language: str) -> dict:
    from cslog import labels
    from cslog.ops.records import FIELD_CHOICES

    answers = {}
    for field, _flag in missing:
        label = labels.say(labels.PROMPTS.get(field, (field, field)), language)
        choices = FIELD_CHOICES.get(field)
        if choices:
            label += f" [{choices.choices(language)}]"
        while True:
            value = typer.prompt(label, err=True).strip()
            if not value:
                continue
            if choices:
                try:
                    choices.parse(value)
                except UsageError as exc:
                    say(f"  {exc.message}")
                    continue
            answers[field] = value
            break
    return answers


KIND_FLAGS = {
    "customer": {"name", "id", "customer_type", "phone", "email", "contact_person", "industry", "tags", "notes"},
    "ticket": {"customer", "type", "priority", "channel", "title", "description", "category", "tags", "owner",
               "department", "expectation", "emotion", "received_at", "occurred_at", "attempted", "praised",
               "planned_at", "remarks", "involved", "caveats"},
    "contact": {"customer", "channel", "request", "details", "agreed", "result", "references", "emotion_before",
                "emotion_after", "started_at", "ended_at", "ticket", "open_ticket", "follow_up", "follow_up_at",
                "type", "priority", "title", "category", "owner", "department", "expectation", "tags"},
}


@app.command()
def new(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="contact (default), ticket or customer.")] = "contact",
    customer: Annotated[Optional[str], typer.Option(help="Customer ID (客户编号).")] = None,
    type: Annotated[Optional[str], typer.Option("--type", help="Ticket type (咨询/投诉/故障...) or, for a "
                                               "customer, individual/enterprise/vip.")] = None,
    priority: Annotated[Optional[str], typer.Option(help="urgent/important/normal (紧急/重要/一般).")] = None,
    channel: Annotated[Optional[str], typer.Option(help="phone/email/chat/web/social/store/portal/other.")] = None,
    title: Annotated[Optional[str], typer.Option(help="Ticket title.")] = None,
    description: Annotated[Optional[str], typer.Option(help="The customer's own words (问题描述).")] = None,
    category: Annotated[Optional[str], typer.Option(help="Category, e.g. 产品质量-物流延误.")] = None,
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="A tag (repeatable).")] = None,
    owner: Annotated[Optional[str], typer.Option(help="第一责任人.")] = None,
    department: Annotated[Optional[str], typer.Option(help="Department.")] = None,
    expectation: Annotated[Optional[str], typer.Option(help="What the customer expects (客户期望).")] = None,
    emotion: Annotated[Optional[str], typer.Option(help="calm/anxious/dissatisfied/agitated/satisfied.")] = None,
    received_at: Annotated[Optional[str], typer.Option("--received-at", help="When the ticket came in "
                                                       "(default: now).")] = None,
    occurred_at: Annotated[Optional[str], typer.Option("--occurred-at", help="When the problem happened.")] = None,
    attempted: Annotated[Optional[str], typer.Option(help="What the customer already tried.")] = None,
    praised: Annotated[Optional[str], typer.Option(help="Praise ticket: the person praised (表扬对象).")] = None,
    planned_at: Annotated[Optional[str], typer.Option("--planned-at", help="Ticket: 预计完成时间 (shown beside "
                                                      "the SLA dues).")] = None,
    remarks: Annotated[Optional[str], typer.Option(help="Ticket: 备注.")] = None,
    involved: Annotated[Optional[list[str]], typer.Option("--involved", help="Ticket: a person involved "
                                                          "(涉及人员, repeatable).")] = None,
    caveats: Annotated[Optional[str], typer.Option(help="Ticket: 后续注意事项.")] = None,
    name: Annotated[Optional[str], typer.Option(help="Customer name.")] = None,
    id: Annotated[Optional[str], typer.Option("--id", help="Customer ID to use instead of the next one.")] = None,
    phone: Annotated[Optional[str], typer.Option(help="Customer phone.")] = None,
    email: Annotated[Optional[str], typer.Option(help="Customer e-mail.")] = None,
    contact_person: Annotated[Optional[str], typer.Option("--contact-person", help="Customer: the company's "
                                                          "contact person (联系人).")] = None,
    industry: Annotated[Optional[str], typer.Option(help="Customer industry.")] = None,
    notes: Annotated[Optional[str], typer.Option(help="Customer notes.")] = None,
    request: Annotated[Optional[str], typer.Option(help="Contact: the core request, in the customer's words.")] = None,
    details: Annotated[Optional[str], typer.Option(help="Contact: details of the problem.")] = None,
    agreed: Annotated[Optional[list[str]], typer.Option("--agreed", help="Contact: a point agreed "
                                                        "(repeatable).")] = None,
    result: Annotated[Optional[str], typer.Option(help="Contact: 处理结果, beside the points agreed.")] = None,
    references: Annotated[Optional[str], typer.Option(help="Contact: order numbers, photos...")] = None,
    emotion_before: Annotated[Optional[str], typer.Option("--emotion-before", help="Contact: emotion at the "
                                                          "start.")] = None,
    emotion_after: Annotated[Optional[str], typer.Option("--emotion-after", help="Contact: emotion at the "
                                                         "end.")] = None,
    started_at: Annotated[Optional[str], typer.Option("--started-at", help="Contact start (default: now).")] = None,
    ended_at: Annotated[Optional[str], typer.Option("--ended-at", help="Contact end.")] = None,
    follow_up: Annotated[Optional[str], typer.Option("--follow-up", help="Contact: what must follow.")] = None,
    follow_up_at: Annotated[Optional[str], typer.Option("--follow-up-at", help="Contact: when (提醒节点); "
                                                        "`overdue` lists it once passed.")] = None,
    ticket: Annotated[Optional[str], typer.Option("--ticket", help="Contact: the existing ticket it belongs "
                                                  "to.")] = None,
    open_ticket: Annotated[bool, typer.Option("--open-ticket", help="Contact: also open a ticket (needs --type "
                                              "--priority --title).")] = False,
    from_file: Annotated[Optional[Path], typer.Option("--from-file", help="Read the record's fields from a YAML "
                                                      "file.")] = None,
    edit: Annotated[bool, typer.Option("--edit", help="Fill in the kind's template in $EDITOR.")] = False,
    allow_pii: Annotated[bool, typer.Option("--allow-pii", help="Keep identity/bank-card numbers (recorded in "
                                            "the record).")] = False,
):
    """Create a record and print its new ID alone (default kind: contact).

    Example: cslog new ticket --customer C0001 --type 故障 --priority 紧急 --channel phone --title "无法登录" --description "提示账号异常"
    """
    from cslog.ops import records as ops

    kind = ops.new_kind(kind_word(kind))
    st = state(ctx)
    store = st.store
    given = {k: v for k, v in dict(
        customer=customer, type=type, priority=priority, channel=channel, title=title, description=description,
        category=category, tags=tag, owner=owner, department=department, expectation=expectation, emotion=emotion,
        received_at=received_at, occurred_at=occurred_at, attempted=attempted, praised=praised, name=name, id=id,
        phone=phone, email=email, industry=industry, notes=notes, request=request, details=details, agreed=agreed,
        references=references, emotion_before=emotion_before, emotion_after=emotion_after, started_at=started_at,
        ended_at=ended_at, follow_up=follow_up, ticket=ticket, open_ticket=open_ticket or None,
        planned_at=planned_at, remarks=remarks, involved=involved, caveats=caveats, contact_person=contact_person,
        result=result, follow_up_at=follow_up_at).items()
        if v not in (None, [], "")}
    if kind == "customer" and "type" in given:
        given["customer_type"] = given.pop("type")
    common = dict(actor=st.actor, now=st.now, commit=st.commit, allow_pii=allow_pii)
    if from_file or edit:
        if from_file and edit:
            raise UsageError("use either --from-file or --edit")
        made = _from_document(store, kind, from_file, common)
        emit("\n".join(r.id for r in made))
        return
    wrong = sorted(set(given) - KIND_FLAGS[kind])
    if wrong:
        flags = ", ".join("--" + w.replace("_", "-").replace("customer-type", "type") for w in wrong)
        raise UsageError(f"{flags}: not for a new {kind}", hint=f"see `cslog new {kind} --help`")
    needed = ops.missing(kind, given if kind != "customer" else {"name": given.get("name")})
    if open_ticket:
        needed += [(f, flag) for f, flag in (("type", "--type"), ("priority", "--priority"), ("title", "--title"))
                   if not given.get(f)]
    if needed:
        if not interactive():
            raise UsageError(f"missing {', '.join(flag for _f, flag in needed)} for a new {kind}",
                             hint=f"pass them as flags (see `cslog new {kind} --help`); cslog only asks on a terminal")
        given.update(_ask(needed, store.settings.language))
    if kind == "customer":
        record = ops.new_customer(store, name=given["name"], id=given.get("id"), type=given.get("customer_type"),
                                  phone=given.get("phone"), email=given.get("email"), industry=given.get("industry"),
                                  contact_name=given.get("contact_person"),
                                  tags=given.get("tags") or (), notes=given.get("notes"), **common)
        emit(record.id)
    elif kind == "ticket":
        fields = {k: v for k, v in given.items() if k in KIND_FLAGS["ticket"]}
        emit(ops.new_ticket(store, **fields, **common, notify=say).id)
    else:
        spec = None
        if open_ticket:
            spec = {k: given.pop(k, None) for k in ("type", "priority", "title", "category", "owner", "department",
                                                     "expectation", "tags")}
        fields = {k: v for k, v in given.items() if k not in ("open_ticket",)}
        made = ops.new_contact(store, open_ticket=spec, **fields, **common, notify=say)
        emit(made[0].id)
        if len(made) > 1:
            say(f"opened ticket {made[1].id}")


def _from_document(store, kind: str, path: Path | None, common: dict):
    from cslog.ops import records as ops
    from cslog.yamlio import YamlSyntaxError, load_text

    if path is not None:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None
        try:
            doc = load_text(text)
        except YamlSyntaxError as exc:
            raise UsageError(f"{path}:{exc.line or 1}: {exc}") from None
        return ops.new_from_document(store, kind, doc, **common)
    from cslog.editor import edit_until_valid

    return edit_until_valid(kind, lambda doc: ops.new_from_document(store, kind, doc, **common))


@app.command()
def show(
    ctx: typer.Context,
    record_id: Annotated[str, typer.Argument(metavar="ID", help="Ticket, contact, customer or action ID.")],
    format: Annotated[str, typer.Option("--format", help="text, yaml or json.")] = "text",
):
    """Show one record: labelled fields, SLA clocks and the timeline (json: the fields as stored).

    Example: cslog show CW202611220001
    """
    from cslog.ops.show import show as show_record
    from cslog.render.record import clock_lines, record_view
    from cslog.render.text import to_json

    check_format(format, ("text", "yaml", "json"))
    st = state(ctx)
    shown = show_record(st.store, record_id, st.now)
    for line in shown.warnings:
        say(line)
    record, language = shown.record, st.store.settings.language
    if format == "yaml":
        emit(record.text)
    elif format == "json":
        emit(to_json(record.doc))
    else:
        from cslog.render.find import customer_records_text

        emit(record_view(record.kind, record.doc, language,
                         clock_lines(shown.clocks, shown.warn_until, language, shown.problem), shown.customer))
        if shown.records:
            emit("\n" + customer_records_text(shown.records, language))


@app.command("list")
def list_(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="tickets (default), contacts, customers or actions.")] = "tickets",
    status: Annotated[Optional[list[str]], typer.Option("--status", help="Status (repeatable).")] = None,
    priority: Annotated[Optional[list[str]], typer.Option("--priority", help="Priority (repeatable).")] = None,
    type: Annotated[Optional[list[str]], typer.Option("--type", help="Ticket type (repeatable).")] = None,
    owner: Annotated[Optional[str], typer.Option(help="Owner (contacts: agent).")] = None,
    department: Annotated[Optional[str], typer.Option(help="Department.")] = None,
    customer: Annotated[Optional[str], typer.Option(help="Customer ID.")] = None,
    category: Annotated[Optional[str], typer.Option(help="Category, or its first part (产品质量).")] = None,
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="Tag (repeatable: all must be present).")] = None,
    since: Annotated[Optional[str], typer.Option(help="Received (contacts: started) at or after.")] = None,
    until: Annotated[Optional[str], typer.Option(help="Received (contacts: started) before.")] = None,
    open: Annotated[bool, typer.Option("--open", help="Only open tickets (not resolved or closed) or actions.")] = False,
    format: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Read every file instead of the index "
                                           "(.cslog/index.sqlite).")] = False,
    raw: Annotated[bool, typer.Option("--raw", help="With --format csv: cells as they are; by default a cell "
                                      "a spreadsheet would run as a formula (=, +, -, @) starts with '.")] = False,
):
    """List records that pass the filters, oldest first.

    Example: cslog list tickets --open --priority 紧急 --format table
    """
    from cslog.model import SUMMARY_FIELDS
    from cslog.ops import records as ops
    from cslog.render.record import records_table
    from cslog.render.text import csv_pieces, json_pieces

    check_format(format, FORMATS_TABLE)
    st = state(ctx)
    k = kind_word(kind)
    filters = ops.Filters.parse(st.store.settings.tz, kind=k, status=status or (), priority=priority or (), type=type or (),
                                owner=owner, department=department, customer=customer, category=category,
                                tag=tuple(tag or ()), since=since, until=until, open=open)
    rows = ops.list_records(st.store, k, filters, use_cache=not no_cache,
                            warn=lambda problem: say(f"warning: {problem} (left out)"))
    if format == "json":
        emit_pieces(json_pieces(rows))
    elif format == "csv":
        emit_pieces(csv_pieces(rows, SUMMARY_FIELDS[k], raw=raw))
    else:
        emit(records_table(k, rows, st.store.settings.language))


@app.command()
def check(
    ctx: typer.Context,
    paths: Annotated[Optional[list[str]], typer.Argument(metavar="[PATH]...", help="Files or folders (default: "
                                                         "the whole repository).")] = None,
    format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    fix: Annotated[bool, typer.Option("--fix", help="Write the files that are not in canonical form (labels "
                                      "instead of codes, key order, quoting, times) anew, in one commit; "
                                      "then check.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Validate every file again instead of only "
                                           "those changed since the last clean check.")] = False,
):
    """Validate record files: YAML, schema, labels, IDs, references, duplicates, conflict markers, personal data.

    Prints `path:line: message` for every problem of every file; exits 1 when anything is wrong.
    --fix first rewrites what can be rewritten without a person (labels as codes, canonical form).

    Example: cslog check tickets/2026/11
    """
    from cslog.ops import records as ops
    from cslog.render.text import to_json
    from cslog.store import Store

    check_format(format, ("text", "json"))
    st = state(ctx)
    try:
        store = st.store
    except ConfigError:  # a damaged cslog.yaml: report its problems instead of refusing to look
        result = ops.check_config(Store.find_root(st.repo or os.environ.get("CSLOG_REPO") or None))
    else:
        if fix:
            fixed = ops.fix(store, actor=st.actor, now=st.now, paths=paths or None, commit=st.commit)
            say(f"rewrote {len(fixed.files)} file(s) in canonical form"
                + (f" in commit {fixed.commit[:10]}" if fixed.commit else ""))
        result = ops.check(store, st.now, paths or None, use_cache=not no_cache)
        for line in result.warnings:
            say(line)
    if format == "json":
        emit(to_json({"files": result.files, "problems": [p.to_dict() for p in result.problems]}))
    else:
        for problem in result.problems:
            emit(str(problem))
        say(f"{len(result.problems)} problem(s) in {result.files} file(s)" if result.problems
            else f"{result.files} file(s) checked, no problems")
    if result.problems:
        raise typer.Exit(ExitCode.FOUND)
