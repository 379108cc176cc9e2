"""Every command has help that ends with an example, and appears in the README."""
from __future__ import annotations

import re

import pytest
import typer

from conftest import PROJECT, Cli

from cslog.cli import app


def commands() -> list[str]:
    group = typer.main.get_command(app)
    return sorted(group.commands)


def test_help_lists_every_command_with_a_summary(tmp_path):
    out = Cli(tmp_path)("--help", repo=False)
    assert out.exit_code == 0
    listed = re.findall(r"^  (\S+)\s+\S", out.stdout.split("Commands:")[1], re.M)
    assert sorted(listed) == commands()


@pytest.mark.parametrize("name", commands())
def test_command_help_ends_with_an_example(tmp_path, name):
    out = Cli(tmp_path)(name, "--help", repo=False)
    assert out.exit_code == 0
    group = typer.main.get_command(app)
    doc = group.commands[name].help or ""
    assert doc.strip().splitlines()[0], f"{name} has no summary"
    assert re.search(r"Example: cslog ", doc.strip().split("\n\n")[-1]), f"{name}'s help does not end with an example"


@pytest.mark.parametrize("name", commands())
def test_command_is_in_the_readme(name):
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert f"`cslog {name}" in readme, f"README.md does not document `cslog {name}`"


def test_ci_runs_the_readme_test_command():
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    command = "pip install -e '.[test]' && python -m pytest"
    assert command in readme
    assert command in (PROJECT / ".ci/run").read_text(encoding="utf-8")
