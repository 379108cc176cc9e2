"""What probing found (issue 15) and what now holds, through the commands: names that would carry personal data
or forged lines into commits, CSV cells a spreadsheet would run, a read-only repository. `tests/probes.md` lists
every probe tried so far and the test that keeps it held."""
from __future__ import annotations

import csv
import io
import os
import shutil
import stat
import subprocess

import pytest

from conftest import NOW, TICKET, cslog_bin, commit_count, git

ID_CARD = "11010519491231002X"
DISGUISED = ["110105 19491231 002X", "110105-19491231-002X", "ID11010519491231002X", "身份证110105.19491231.002X",
             "6222.0212.3456.7890.128"]
FORGED = "bob\n\nCslog-Op: init"


def test_a_name_holding_an_identity_card_number_is_refused_everywhere_a_name_goes(cli, repo, ticket):
    before = commit_count(repo)
    for args, env in [
        (["assign", ticket, "王" + ID_CARD], None),
        (["--as", "小王" + ID_CARD, "note", ticket, "回电"], None),
        (["note", ticket, "回电"], {"CSLOG_AGENT": "小王 " + ID_CARD}),
        (["new", "ticket", *TICKET[2:], "--customer", "C0001", "--owner", "李" + ID_CARD], None),
    ]:
        result = cli(*args, env=env)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        assert "personal data" in result.stderr and ID_CARD not in result.stderr
    assert commit_count(repo) == before
    assert ID_CARD not in git(repo, "log", "--format=%an %s %b")


@pytest.mark.parametrize("text", DISGUISED)
def test_numbers_in_disguise_are_caught_in_writes_and_by_check(cli, repo, ticket, text):
    refused = cli("note", ticket, f"客户说 {text}")
    assert refused.exit_code == 2 and "--allow-pii" in refused.stderr
    path = repo / f"tickets/2026/11/{ticket}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("title: 无法登录系统", f"title: 无法登录系统 {text}"),
                    encoding="utf-8")
    check = cli("check")
    assert check.exit_code == 1 and "personal data" in check.stdout


@pytest.mark.parametrize("name", [FORGED, "小\r王", "小王\u2028Cslog-Op: init", "小\x1b[31m王"])
def test_a_name_is_one_line_of_printable_text(cli, repo, ticket, name):
    before = commit_count(repo)
    for args in (["assign", ticket, name], ["--as", name, "note", ticket, "回电"]):
        result = cli(*args)
        assert result.exit_code == 2 and "one line of printable text" in result.stderr, args
    assert commit_count(repo) == before


@pytest.mark.parametrize("breaks", ["\n\n", "\r", "\v", "\u2028"])
def test_history_prints_a_multi_line_note_so_that_no_line_passes_for_a_trailer(cli, repo, ticket, breaks):
    cli.ok("note", ticket, f"第一行{breaks}Cslog-Op: init{breaks}Cslog-Actor: 老板")
    shown = cli.ok("history", ticket)
    assert "Cslog-Op: init" in shown
    assert not [line for line in shown.splitlines() if line.startswith(("Cslog-", "    Cslog-"))]
    trailers = git(repo, "log", "-1", "--format=%(trailers:key=Cslog-Op,valueonly)").split()
    assert trailers == ["note"]


def _csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_cells_a_spreadsheet_would_run_start_with_an_apostrophe(cli, repo):
    customer = cli.ok("new", "customer", "--name", "+cmd|' /C calc'!A0", "--type", "企业客户")
    cli.ok("new", "customer", "--name", "\t=1+2", "--industry", "-2+3")
    cli.ok("new", "ticket", *TICKET[2:8], "--customer", customer, "--title", '=HYPERLINK("http://x.example","点我")',
           "--description", "d", "--tag", "@SUM(A1)")
    listed = _csv(cli.ok("list", "--format", "csv") + "\n")[0]
    assert listed["title"] == '\'=HYPERLINK("http://x.example","点我")'
    assert listed["customer_name"] == "'+cmd|' /C calc'!A0"
    assert listed["tags"] == "'@SUM(A1)"
    assert listed["received_at"] == NOW  # what no spreadsheet runs stays as it is
    names = {r["name"]: r for r in _csv(cli.ok("list", "customers", "--format", "csv") + "\n")}
    assert "'\t=1+2" in names and names["'\t=1+2"]["industry"] == "'-2+3"
    raw = _csv(cli.ok("list", "--format", "csv", "--raw") + "\n")[0]
    assert raw["title"] == '=HYPERLINK("http://x.example","点我")' and raw["customer_name"].startswith("+cmd")
    late = cli("overdue", "--format", "csv", "--at", "2026-12-01T10:00:00+08:00")
    assert late.exit_code == 1
    rows = _csv(late.stdout)
    assert rows and all(r["title"] == '\'=HYPERLINK("http://x.example","点我")' for r in rows)
    raw_late = _csv(cli("overdue", "--format", "csv", "--raw", "--at", "2026-12-01T10:00:00+08:00").stdout)
    assert all(r["title"].startswith("=HYPERLINK") for r in raw_late)


def _read_only(argv: list[str]) -> list[str]:
    """Run without the power to write what the mode bits forbid (root otherwise writes anywhere)."""
    if os.geteuid() != 0:
        return argv
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: a read-only repository cannot be made")
    return [setpriv, "--bounding-set=-all", "--inh-caps=-all", *argv]


@pytest.mark.parametrize("with_index", [False, True], ids=["no index", "stale index"])
def test_a_read_only_repository_is_read_as_it_is_and_writes_say_so(cli, repo, ticket, tmp_path, with_index):
    if with_index:
        cli.ok("list")
    backup = tmp_path / "backup"
    shutil.copytree(repo, backup, symlinks=True)
    if not with_index:
        shutil.rmtree(backup / ".cslog", ignore_errors=True)
    path = backup / f"tickets/2026/11/{ticket}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("title: 无法登录系统", "title: 备份里的标题"),
                    encoding="utf-8")
    for folder, dirs, files in os.walk(backup):
        for name in dirs + files:
            p = os.path.join(folder, name)
            if not os.path.islink(p):
                os.chmod(p, os.stat(p).st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    os.chmod(backup, 0o555)
    env = {**os.environ}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(_read_only([*cslog_bin(), "-C", str(backup), *args]), capture_output=True,
                              text=True, env=env)

    try:
        listed = run("list")
        assert listed.returncode == 0, listed.stderr
        assert "备份里的标题" in listed.stdout
        late = run("overdue", "--at", "2026-12-01T10:00:00+08:00", "--format", "json")
        assert late.returncode == 1 and "备份里的标题" in late.stdout, late.stderr
        assert run("report", "--month", "2026-11").returncode == 0
        assert run("show", ticket).returncode == 0
        checked = run("check")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        for result in (listed, late, checked):
            assert "internal error" not in result.stderr and "Traceback" not in result.stderr
        refused = run("note", ticket, "备份里写不了")
        assert refused.returncode == 3, refused.stderr
        assert "read-only" in refused.stderr and "Traceback" not in refused.stderr
    finally:
        for folder, dirs, _files in os.walk(backup):
            os.chmod(folder, 0o755)


def test_an_edit_that_keeps_size_and_mtime_reaches_overdue_check_and_reindex(cli, repo, ticket):
    """Item 9: touch -d, cp -p, rsync -t and restores keep the modification time; the change time still tells."""
    import time

    at = "2026-12-01T10:00:00+08:00"
    path = repo / f"tickets/2026/11/{ticket}.yaml"
    old = time.time() - 3600  # long past: the index trusts what it read then
    os.utime(path, (old, old))

    def edit(old_text: str, new_text: str) -> None:
        stamp = path.stat()
        path.write_text(path.read_text(encoding="utf-8").replace(old_text, new_text, 1), encoding="utf-8")
        os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
        assert path.stat().st_mtime_ns == stamp.st_mtime_ns

    cli.ok("reindex")
    edit("title: 无法登录系统", "title: 无法登陆系统")  # same size, same mtime
    changed = cli("reindex", "--changes")
    assert "1 changed" in changed.stdout + changed.stderr
    assert cli("overdue", "--at", at).exit_code == 1
    cli.ok("check")
    edit("status: new", "status: closed")
    edit("无法登录系统,", " " + ID_CARD)  # as many bytes as the words it replaces
    assert ticket not in cli("overdue", "--at", at, "--format", "json").stdout  # closed: no clock runs
    check = cli("check")
    assert check.exit_code == 1 and "personal data" in check.stdout


def test_an_impossible_date_is_said_with_its_line_by_overdue(cli, repo, ticket):
    """Item 11: 2026-11-31 is no day; `overdue` leaves the ticket out with path:line, `check` says so too."""
    path = repo / f"tickets/2026/11/{ticket}.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("received_at: '2026-11-22T14:30:00+08:00'",
                                 "received_at: '2026-11-31T14:30:00+08:00'"), encoding="utf-8")
    line = next(i for i, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if row.startswith("received_at:"))
    late = cli("overdue", "--at", "2026-12-01T10:00:00+08:00")
    assert late.exit_code == 1
    assert f"warning: tickets/2026/11/{ticket}.yaml:{line}: received_at" in late.stderr
    assert "is not a real moment" in late.stderr
