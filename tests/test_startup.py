"""Start-up: the commands an agent runs all day load only what they need (jsonschema and openpyxl are
costly imports; timing is left to bench/scale.py, never to tests)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import TICKET

HEAVY = ("openpyxl", "jsonschema", "referencing", "multiprocessing")
PROBE = """
import json, sys
from cslog.cli import app
try:
    app(sys.argv[1:], prog_name="cslog")
except SystemExit:
    pass
heavy = %r
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in heavy})), file=sys.stderr)
"""


def loaded(args: list[str], cwd, heavy=HEAVY) -> list[str]:
    env = {**os.environ, "CSLOG_NO_PROMPT": "1"}
    proc = subprocess.run([sys.executable, "-c", PROBE % (heavy,), *args], cwd=cwd, env=env, capture_output=True,
                          text=True)
    return json.loads(proc.stderr.strip().splitlines()[-1])


def test_help_loads_nothing_heavy(tmp_path):
    assert loaded(["--help"], tmp_path) == []


def test_new_ticket_loads_nothing_heavy(repo, customer):
    assert loaded(TICKET + ["--customer", customer], repo) == []


def test_overdue_and_list_load_neither_jsonschema_nor_openpyxl(repo, ticket):
    assert loaded(["overdue"], repo) == []
    assert loaded(["list"], repo) == []


def test_python_importtime_of_the_cli_has_no_heavy_module():
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import cslog.cli"], capture_output=True,
                          text=True)
    modules = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines() if "|" in line}
    assert not modules & set(HEAVY)


def test_holidays_is_imported_once_per_repository_not_per_command(repo, customer):
    """python-holidays costs ~90 ms to import: the country's holidays are kept in .cslog/holidays.json."""
    (repo / ".cslog" / "holidays.json").unlink(missing_ok=True)
    assert loaded(["overdue", "--within", "3bd"], repo, ("holidays",)) == ["holidays"]
    cached = json.loads((repo / ".cslog" / "holidays.json").read_text(encoding="utf-8"))
    assert "2026-10-01" in cached["countries"]["CN"]["2026"][0]  # 国庆节
    assert "2026-10-10" in cached["countries"]["CN"]["2026"][1]  # 调休 Saturday
    assert loaded(["overdue", "--within", "3bd"], repo, ("holidays",)) == []
    assert loaded(TICKET + ["--customer", customer], repo, ("holidays",)) == []
