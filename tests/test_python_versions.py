"""cslog installs where teams' servers are: Python 3.10 and later (Ubuntu 22.04 LTS has 3.10). This machine has
no 3.10 to run on, so a static check holds the code to it: vermin finds any use of a newer feature."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROJECT


def test_pyproject_admits_python_3_10():
    text = (PROJECT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^requires-python = ">=3\.10"$', text, re.M)


def test_the_code_needs_nothing_newer_than_python_3_10():
    pytest.importorskip("vermin")
    script = Path(sys.executable).parent / "vermin"
    command = [str(script)] if script.exists() else [shutil.which("vermin") or "vermin"]
    done = subprocess.run([*command, "--no-tips", "--violations", "-t=3.10-", "--eval-annotations",
                           str(PROJECT / "cslog")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_stored_times_are_read_alike_on_every_python():
    """datetime.fromisoformat reads more forms from 3.11 on: stored times go through timeutil.instant instead."""
    used = [str(p.relative_to(PROJECT)) for p in (PROJECT / "cslog").rglob("*.py")
            if re.search(r"\bdatetime\.fromisoformat\(", p.read_text(encoding="utf-8"))]
    assert used == ["cslog/timeutil.py"]  # only as the last try for what a user types
