"""Shared fixtures: an isolated git identity, a fixed clock, and a fresh data repository with real git."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cslog.cli import app

NOW = "2026-11-22T14:30:00+08:00"
PROJECT = Path(__file__).resolve().parent.parent


def cslog_bin() -> list[str]:
    """The installed console script of the running interpreter's environment (end-to-end tests)."""
    script = Path(sys.executable).parent / "cslog"
    if script.exists():
        return [str(script)]
    found = shutil.which("cslog")
    return [found] if found else [sys.executable, "-m", "cslog"]


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text("[user]\n\tname = 测试员\n\temail = tester@example.com\n"
                         "[init]\n\tdefaultBranch = main\n[core]\n\tquotepath = false\n", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("CSLOG_NOW", NOW)
    monkeypatch.setenv("CSLOG_AGENT", "小明")
    monkeypatch.setenv("CSLOG_NO_PROMPT", "1")
    for var in ("CSLOG_REPO", "VISUAL", "EDITOR", "CSLOG_DEBUG"):
        monkeypatch.delenv(var, raising=False)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def commit_count(repo: Path) -> int:
    return int(git(repo, "rev-list", "--count", "HEAD").strip())


class Cli:
    """Runs cslog in-process (typer's CliRunner) against one repository."""

    def __init__(self, repo: Path):
        self.repo = repo
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, env: dict | None = None, repo: bool = True):
        argv = (["-C", str(self.repo)] if repo else []) + [str(a) for a in args]
        return self.runner.invoke(app, argv, input=input, env=env, catch_exceptions=False)

    def ok(self, *args: str, **kw) -> str:
        """Run, insist on exit 0, return stdout stripped."""
        result = self(*args, **kw)
        assert result.exit_code == 0, f"cslog {' '.join(args)} -> {result.exit_code}\n{result.stderr}"
        return result.stdout.strip()


@pytest.fixture
def repo(tmp_path) -> Path:
    """A fresh data repository made by `cslog init`, with git and a first commit."""
    path = tmp_path / "desk"
    result = CliRunner().invoke(app, ["init", str(path), "--org", "示例科技有限公司"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return path


@pytest.fixture
def cli(repo) -> Cli:
    return Cli(repo)


@pytest.fixture
def customer(cli) -> str:
    return cli.ok("new", "customer", "--name", "A公司", "--type", "企业客户", "--phone", "13812345678")


TICKET = ["new", "ticket", "--type", "故障", "--priority", "紧急", "--channel", "电话", "--title", "无法登录系统",
          "--description", "无法登录系统,提示‘账号异常’,已尝试重置密码无效,影响今日订单处理。"]


@pytest.fixture
def ticket(cli, customer) -> str:
    return cli.ok(*TICKET, "--customer", customer)


# The wall-clock policy of a 24-hour hotline (cslog's defaults count business time, design.md 9.2): what tests
# of the clock arithmetic, filters and order were worked out against.
HOTLINE = {
    "urgent": {"response": "1h", "update": "4h", "resolve": "4h"},
    "important": {"response": "4h", "update": "24h", "resolve": "48h"},
    "normal": {"response": "24h", "update": "24h", "resolve": "3bd"},
    "claim": "2h",
    "callback": {"after": "48h", "types": ["complaint", "repair"]},
}


def around_the_clock(repo: Path) -> None:
    """Give a repository made by `cslog init` the hotline's wall-clock SLA (the lines a team lead would edit)."""
    import re

    path = repo / "cslog.yaml"
    text = path.read_text(encoding="utf-8")
    for key, value in HOTLINE.items():
        if isinstance(value, dict) and key != "callback":
            flow = "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"
        elif key == "callback":
            flow = "{after: " + value["after"] + ", types: [" + ", ".join(value["types"]) + "]}"
        else:
            flow = value
        text, n = re.subn(rf"(?m)^  {key}: *(\{{[^}}]*\}}|\S+)", f"  {key}: {flow}", text, count=1)
        assert n == 1, key
    path.write_text(text, encoding="utf-8")
    if (repo / ".git").exists():
        git(repo, "commit", "-q", "-m", "a 24-hour hotline: the SLA on the wall clock", "--", "cslog.yaml")
