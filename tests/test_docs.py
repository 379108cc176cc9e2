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


# -- the commands the README and the manual show, run -----------------------------------------------------

DOCS = ["README.md"] + sorted(str(p.relative_to(PROJECT)) for p in (PROJECT / "docs").glob("*.md"))


def sh_blocks(text: str) -> list[str]:
    """The ```sh blocks of a page (other fences, such as crontab, bash scripts or yaml, are not run)."""
    return re.findall(r"^```sh\n(.*?)^```", text, re.M | re.S)


@pytest.mark.parametrize("page", DOCS)
def test_the_commands_a_page_shows_run(page, tmp_path):
    """Every ```sh block of a page, in one shell, in a folder holding a copy of examples/ (install lines
    aside): no command may fail (exit 2 or more), none may print a traceback or an error."""
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    blocks = sh_blocks((PROJECT / page).read_text(encoding="utf-8"))
    if page != "docs/README.md":
        assert blocks, f"{page} shows no command"
    script = "\n".join(line for block in blocks for line in block.splitlines()
                       if not line.lstrip().startswith("pip "))
    shutil.copytree(PROJECT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns(".cslog"))
    guard = ("set -E\ntrap 'rc=$?; if [ $rc -ge 2 ]; then echo \"FAILED($rc): $BASH_COMMAND\" >&2; exit 99; fi' ERR\n")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "CSLOG_NO_PROMPT": "1"}
    done = subprocess.run(["bash", "-c", guard + script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"{page}:\n{done.stderr}"
    assert "Traceback" not in done.stderr and not re.search(r"^error:", done.stderr, re.M), done.stderr
