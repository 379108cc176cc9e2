"""The typer application, its global options, and the one place where errors become exit codes."""
from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperGroup

from cslog import __version__
from cslog.errors import CslogError, ExitCode


class CslogGroup(TyperGroup):
    """Turns cslog's errors into `error: ...` on stderr and an exit code; never a traceback for users."""

    def list_commands(self, ctx):  # keep the order commands were registered in: the order of a day's work
        return list(self.commands)

    def format_commands(self, ctx, formatter):
        """The listing of `cslog --help` needs each command's help line only: commands not built yet are shown
        from their docstrings, without working out their parameters."""
        commands = self.commands
        if not isinstance(commands, LazyCommands):
            return super().format_commands(ctx, formatter)
        self.commands = commands.outlines()
        try:
            return super().format_commands(ctx, formatter)
        finally:
            self.commands = commands

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CslogError as exc:
            fail(exc.message, exc.hint, exc.exit_code)
        except (typer.TyperException, typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None
        except BrokenPipeError:
            raise typer.Exit(0) from None
        except Exception as exc:  # a bug: say so plainly, without customer data from locals
            if os.environ.get("CSLOG_DEBUG"):
                raise
            typer.echo(f"error: internal error: {type(exc).__name__}: {exc}", err=True)
            typer.echo("  this is a bug in cslog; run again with CSLOG_DEBUG=1 for details and report it", err=True)
            raise typer.Exit(ExitCode.OPERATIONAL) from None


class LazyCommands(Mapping):
    """The group's commands by name, each turned from its typer function into a click command when first
    asked for. Typer would otherwise inspect all 24 commands' signatures on every run (~40 ms), to run one."""

    def __init__(self, infos: list, typer_app: typer.Typer, groups: list = ()):
        self._infos = {info.name or _command_name(info.callback.__name__): info for info in infos}
        self._infos.update((info.name, info) for info in groups)  # sub-commands (cslog action new...)
        self._groups = {info.name for info in groups}
        self._app = typer_app
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str):
        command = self._built.get(name)
        if command is None and name in self._groups:
            from inspect import signature

            from typer.main import get_group_from_info

            more = {"suggest_commands": True} if "suggest_commands" in signature(get_group_from_info).parameters else {}
            command = self._built[name] = get_group_from_info(
                self._infos[name], pretty_exceptions_short=self._app.pretty_exceptions_short,
                rich_markup_mode=self._app.rich_markup_mode, **more)
        elif command is None:
            from typer.main import get_command_from_info

            command = self._built[name] = get_command_from_info(
                self._infos[name], pretty_exceptions_short=self._app.pretty_exceptions_short,
                rich_markup_mode=self._app.rich_markup_mode)
        return command

    def __contains__(self, name) -> bool:
        return name in self._infos

    def __iter__(self):
        return iter(self._infos)

    def __len__(self) -> int:
        return len(self._infos)

    def __setitem__(self, name: str, command) -> None:  # click's add_command
        self._built[name] = command
        self._infos.setdefault(name, None)

    def outlines(self) -> dict:
        """name -> a command holding what the listing shows (help, short help, hidden, deprecated)."""
        from inspect import cleandoc, getdoc

        from typer.core import TyperCommand

        shown = {}
        for name, info in self._infos.items():
            if name in self._built or info is None:
                shown[name] = self[name]
                continue
            if name in self._groups:
                text = cleandoc(info.help or info.typer_instance.info.help or "")
            else:
                text = getdoc(info.callback) if info.help is None else cleandoc(info.help)
            shown[name] = TyperCommand(name=name, help=text, short_help=info.short_help, hidden=info.hidden,
                                       deprecated=info.deprecated)
        return shown


def _command_name(function_name: str) -> str:
    return function_name.lower().replace("_", "-")  # as typer names a command after its function


def click_group(typer_app: typer.Typer | None = None):
    """The click group for `typer_app` (default: cslog's), its commands built only when used."""
    from typer.main import get_command

    typer_app = typer_app or app
    infos, groups = typer_app.registered_commands, typer_app.registered_groups
    typer_app.registered_commands, typer_app.registered_groups = [], []  # the group with its global options alone
    try:
        group = get_command(typer_app)
    finally:
        typer_app.registered_commands, typer_app.registered_groups = infos, groups
    group.commands = LazyCommands(infos, typer_app, groups)
    return group


def fail(message: str, hint: str | None = None, code: int = ExitCode.USAGE):
    typer.echo(f"error: {message}", err=True)
    if hint:
        typer.echo(f"  hint: {hint}", err=True)
    raise typer.Exit(int(code))


app = typer.Typer(
    cls=CslogGroup,
    help="cslog: customer-service contacts, tickets and customers as YAML files in git.\n\n"
         "Log a contact on the phone (cslog new), move tickets along (status, assign, reply...), "
         "let cron run `cslog overdue`, and export the month's workbook.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


# --allow-pii, as every command that writes text takes it (the allowance is recorded with what was kept).
AllowPii = Annotated[bool, typer.Option("--allow-pii", help="Keep identity/bank-card numbers in the text "
                                        "(recorded in the timeline).")]


@dataclass
class State:
    """Global options, and what is worked out from them once per command."""

    repo: str | None = None
    actor_opt: str | None = None
    no_commit: bool = False
    _store: Any = field(default=None, repr=False)

    @property
    def store(self):
        if self._store is None:
            from cslog.store import Store

            self._store = Store.discover(self.repo or os.environ.get("CSLOG_REPO") or None)
        return self._store

    @property
    def commit(self) -> bool:
        return not self.no_commit

    @property
    def now(self) -> datetime:
        from cslog.timeutil import clock_now

        return clock_now(self.store.settings.tz, os.environ.get("CSLOG_NOW"))

    @property
    def actor(self) -> str:
        """Who acts: --as, $CSLOG_AGENT, git's user.name, $USER; one of cslog.yaml's agents when it lists them."""
        from cslog import people

        name, source = self.actor_opt, "--as"
        if not name:
            name, source = os.environ.get("CSLOG_AGENT"), "$CSLOG_AGENT"
        if not name:
            from cslog import gitrepo

            name = gitrepo.config_value(self.store.root, "user.name") if self._store or self.repo else ""
            source = "git's user.name"
        if not name:
            name, source = os.environ.get("USER") or "cslog", "$USER"
        return people.actor(self.store.settings.agents, name, source) if self._store or self.repo else name


def state(ctx: typer.Context) -> State:
    return ctx.ensure_object(State)


def _version(value: bool):
    if value:
        typer.echo(f"cslog {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    repo: Annotated[Optional[str], typer.Option("-C", "--repo", help="The data repository (default: the nearest "
                                                "folder above holding cslog.yaml, or $CSLOG_REPO).")] = None,
    actor: Annotated[Optional[str], typer.Option("--as", help="Who is acting (default: $CSLOG_AGENT, then git's "
                                                 "user.name).")] = None,
    no_commit: Annotated[bool, typer.Option("--no-commit", help="Write files but do not commit them.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
):
    ctx.obj = State(repo=repo, actor_opt=actor, no_commit=no_commit)


def emit(text: str) -> None:
    """Data to stdout."""
    if text:
        typer.echo(text.rstrip("\n"))


def emit_pieces(pieces: Iterable[str]) -> None:
    """Data to stdout as it is made (a large listing is never held twice); one newline at the end, nothing
    at all when the pieces are empty."""
    out = sys.stdout
    last = ""
    for piece in pieces:
        if piece:
            out.write(piece)
            last = piece
    if last:
        if not last.endswith("\n"):
            out.write("\n")
        out.flush()


def emit_bytes(pieces: Iterable[bytes]) -> None:
    """Data to stdout, written as it comes, as emit writes it (nothing when the pieces are empty, one newline
    at the end); the pieces are UTF-8, written as they are (a large listing is never decoded to be encoded
    again), decoded only when stdout does not take UTF-8."""
    import codecs

    utf8 = (getattr(sys.stdout, "buffer", None) is not None  # (a StringIO in its place takes text only)
            and codecs.lookup(getattr(sys.stdout, "encoding", None) or "utf-8").name == "utf-8")
    held: bytes | None = None
    wrote = False
    for piece in pieces:
        if held:
            typer.echo(held if utf8 else held.decode("utf-8"), nl=False)
            wrote = True
        held = piece
    text = (held or b"").rstrip(b"\n")
    if text or wrote:
        typer.echo(text + b"\n" if utf8 else text.decode("utf-8") + "\n", nl=False)


def say(text: str) -> None:
    """Messages to stderr."""
    typer.echo(text, err=True)


def interactive() -> bool:
    return sys.stdin.isatty() and os.environ.get("CSLOG_NO_PROMPT") is None


FORMATS_TABLE = ("table", "json", "csv")


def check_format(value: str, allowed: tuple) -> str:
    if value not in allowed:
        raise typer.BadParameter(f"'{value}' is not one of {', '.join(allowed)}")
    return value
