"""examples/ is a realistic data repository that passes `cslog check` and shows every kind of record."""
from __future__ import annotations

import json

from conftest import PROJECT, Cli

from cslog.model import CHANNEL, PRIORITY, STATUS, TICKET_TYPE

EXAMPLES = PROJECT / "examples"


def test_examples_pass_check():
    result = Cli(EXAMPLES)("check")
    assert result.exit_code == 0, result.stdout[-2000:]


def test_examples_cover_every_value():
    cli = Cli(EXAMPLES)
    tickets = json.loads(cli.ok("list", "tickets", "--format", "json"))
    contacts = json.loads(cli.ok("list", "contacts", "--format", "json"))
    customers = json.loads(cli.ok("list", "customers", "--format", "json"))
    assert len(tickets) >= 200 and len(contacts) >= 100 and len(customers) >= 50
    for field, enum in (("status", STATUS), ("priority", PRIORITY), ("type", TICKET_TYPE), ("channel", CHANNEL)):
        assert {t[field] for t in tickets} == set(enum.codes), field
    months = {t["received_at"][:7] for t in tickets}
    assert len(months) >= 6 and all(m.startswith("2026-") for m in months)


def test_examples_have_ratings_and_overdue_tickets():
    cli = Cli(EXAMPLES)
    rated = [p for p in (EXAMPLES / "tickets").rglob("*.yaml") if "satisfaction:" in p.read_text(encoding="utf-8")]
    assert len(rated) >= 50
    result = cli("overdue", "--at", "2026-11-20T17:00", "--format", "json")
    assert result.exit_code == 1 and len(json.loads(result.stdout)) >= 5


def test_examples_are_what_generate_py_makes(tmp_path):
    """examples/generate.py still runs through the library's rules, and makes exactly the committed files."""
    import shutil
    import subprocess
    import sys

    made = tmp_path / "examples"
    made.mkdir()
    shutil.copyfile(EXAMPLES / "generate.py", made / "generate.py")
    done = subprocess.run([sys.executable, str(made / "generate.py")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    def files(root):
        return {str(p.relative_to(root)): p.read_bytes() for folder in ("tickets", "contacts", "customers", "actions", "schemas")
                for p in (root / folder).rglob("*") if p.is_file()} | {"cslog.yaml": (root / "cslog.yaml").read_bytes()}

    expected, got = files(EXAMPLES), files(made)
    assert sorted(got) == sorted(expected)
    assert [name for name in sorted(expected) if got[name] != expected[name]] == []
