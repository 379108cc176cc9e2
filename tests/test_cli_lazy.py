"""`cslog` (the installed entry point) builds only the command it runs; what users see must not change."""
import pytest
import typer
import typer.testing
from typer.testing import CliRunner

from cslog.cli import app, click_group
from cslog.cli.app import LazyCommands

NAMES = [info.name or info.callback.__name__.replace("_", "-") for info in app.registered_commands]


@pytest.fixture
def runner(monkeypatch):
    whole = typer.testing._get_command
    monkeypatch.setattr(typer.testing, "_get_command", lambda a: whole(a) if isinstance(a, typer.Typer) else a)
    return CliRunner()


def test_group_help_is_the_same_as_typer_builds_it(runner):
    group = click_group(app)
    lazy = runner.invoke(group, ["--help"], prog_name="cslog")
    assert lazy.exit_code == 0
    assert lazy.output == runner.invoke(app, ["--help"], prog_name="cslog").output
    assert "overdue" in lazy.output
    assert not group.commands._built  # the listing came from docstrings


def test_no_arguments_shows_the_same_help(runner):
    assert runner.invoke(click_group(app), [], prog_name="cslog").output == \
        runner.invoke(app, [], prog_name="cslog").output


@pytest.mark.parametrize("name", NAMES)
def test_every_command_help_is_the_same(runner, name):
    assert runner.invoke(click_group(app), [name, "--help"], prog_name="cslog").output == \
        runner.invoke(app, [name, "--help"], prog_name="cslog").output


def test_running_a_command_builds_that_command_only(runner):
    group = click_group(app)
    result = runner.invoke(group, ["--version"], prog_name="cslog")
    assert result.exit_code == 0 and not group.commands._built
    runner.invoke(group, ["show", "--help"], prog_name="cslog")
    assert set(group.commands._built) == {"show"}


def test_unknown_command_is_a_usage_error_with_a_suggestion(runner):
    lazy = runner.invoke(click_group(app), ["overdu"], prog_name="cslog")
    whole = runner.invoke(app, ["overdu"], prog_name="cslog")
    assert lazy.exit_code == whole.exit_code == 2
    assert lazy.output == whole.output
    assert "overdue" in lazy.output


def test_the_commands_mapping_keeps_registration_order():
    commands = LazyCommands(app.registered_commands, app)
    assert list(commands) == NAMES and len(commands) == len(NAMES)
    assert "overdue" in commands and "nope" not in commands
    assert not commands._built
